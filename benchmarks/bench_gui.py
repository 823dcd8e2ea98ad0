"""GUI responsiveness: time to an interactive window, and page switches of 50 rows.

1. Launch: wall time from starting the process to the main window shown with its event loop running
   (the first zero-delay timer fires), with a dataset given; against two baselines measured in the same
   run: a bare PySide6 window (Qt's floor) and `import tensorflow` (what an eager import would add).
   TensorFlow must not be imported by then.
2. Page switch: a trained run and 3 pages of the sample; the time from asking for a page to its last
   thumbnail and prediction on screen, first visit (predictions computed) and revisit (cached).
Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui.py [--data DIR] [--limit N]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import _common as bench

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

LAUNCH = r"""
import json, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
def report():
    print(json.dumps({"t": time.time(), "tensorflow": "tensorflow" in sys.modules}), flush=True)
    quit_when_idle()
def quit_when_idle():
    # Let the opening job end first, as a user closing the window would (the app asks, then waits).
    windows = [w for w in QApplication.topLevelWidgets() if hasattr(w, "controller")]
    if any(w.controller.runner.busy for w in windows):
        QTimer.singleShot(50, quit_when_idle)
    else:
        QApplication.instance().quit()
real_exec = QApplication.exec
def exec_and_report(self):
    QTimer.singleShot(0, report)  # the first timer once the event loop runs: the window is interactive
    return real_exec()  # a static method in PySide6
QApplication.exec = exec_and_report
from carseg_gui.qt.app import main
main([sys.argv[1], "--project", sys.argv[2]])
"""
BARE = r"""
import json, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([sys.argv[0]])
w = QMainWindow(); w.resize(1280, 800); w.show()
QTimer.singleShot(0, lambda: (print(json.dumps({"t": time.time()}), flush=True), app.quit()))
app.exec()
"""
TF = "import json, time, tensorflow; print(json.dumps({'t': time.time()}))"


def launch_seconds(code: str, *args: str, repeat: int = 3) -> tuple[float, dict]:
    best, last = float("inf"), {}
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", XDG_CONFIG_HOME=tempfile.mkdtemp(prefix="carseg-cfg-"))
    for _ in range(repeat):
        start = time.time()
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if not lines:
            raise RuntimeError(f"the launch probe printed nothing (exit {proc.returncode}): {proc.stderr[-1500:]}")
        last = json.loads(lines[-1])
        best = min(best, last["t"] - start)
    return best, last


def page_switches(root: Path, project: Path) -> dict[str, float]:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from carseg_gui.qt.controller import Controller
    from carseg_gui.qt.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    window = MainWindow(Controller(fallback_projects=project / "fallback"))
    window.resize(1280, 800)
    window.show()
    viewer = window.viewer_panel

    def wait(signal, timeout_s: float = 300) -> tuple:  # type: ignore[no-untyped-def]
        loop, got = QEventLoop(), []

        def done(*args) -> None:  # type: ignore[no-untyped-def]
            got.append(args)
            loop.quit()

        signal.connect(done)
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        loop.exec()
        signal.disconnect(done)
        if not got:
            raise TimeoutError(f"no {signal} in {timeout_s} s")
        return got[0]

    window.controller.open_dataset(root, project)
    wait(viewer.pageShown)  # page 1 of the opened dataset, predictions computed
    window.tabs.setCurrentWidget(viewer)
    timings: dict[str, float] = {}
    for label, page in (("uncached_1", 1), ("uncached_2", 2), ("cached_0", 0), ("cached_1", 1), ("cached_2", 2)):
        start = time.perf_counter()
        viewer.show_page(page)
        wait(viewer.pageShown)
        app.processEvents()  # the repaint of the table belongs to the switch
        timings[label] = time.perf_counter() - start
    window.controller.shutdown()
    viewer.stop()
    window.close()
    return timings


def main() -> None:
    args = bench.parser(__doc__ or "", limit=150).parse_args()
    root = bench.dataset(args.data, args.limit, width=480, height=320)
    tmp = Path(tempfile.mkdtemp(prefix="carseg-bench-gui-"))
    try:
        from carseg_gui.core.training import TrainConfig
        from carseg_gui.session.actions import train as run_training

        project = tmp / "project"
        run_training(root, project, TrainConfig(epochs=1, patience=1))
        app_s, flags = launch_seconds(LAUNCH, str(root), str(project))
        bare_s, _ = launch_seconds(BARE)
        tf_s, _ = launch_seconds(TF, repeat=2)
        pages = page_switches(root, project)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    uncached = max(pages["uncached_1"], pages["uncached_2"])
    cached = max(pages["cached_0"], pages["cached_1"], pages["cached_2"])
    bench.report(
        "GUI: launch to an interactive window; 50-row page switches",
        [
            ("carseg-gui DATA to interactive (s)", f"{app_s:.2f}  (TensorFlow imported: {flags['tensorflow']})"),
            ("baseline: bare PySide6 window (s)", f"{bare_s:.2f}"),
            ("baseline: import tensorflow (s)", f"{tf_s:.2f}"),
            ("page switch, predictions computed (ms)", f"{uncached * 1000:.0f}"),
            ("page switch, predictions cached (ms)", f"{cached * 1000:.0f}"),
        ],
        {
            "launch_s": round(app_s, 3),
            "bare_qt_launch_s": round(bare_s, 3),
            "import_tensorflow_s": round(tf_s, 3),
            "tensorflow_imported_at_launch": flags["tensorflow"],
            "page_switch_uncached_ms": round(uncached * 1000, 1),
            "page_switch_cached_ms": round(cached * 1000, 1),
        },
    )


if __name__ == "__main__":
    main()
