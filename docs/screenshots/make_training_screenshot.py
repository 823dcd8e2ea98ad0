"""Render docs/screenshots/training.png: the Training tab during a recipe run on a fresh copy of the sample
(live curves, the best epoch marked, the time left), grabbed after the 9th epoch, then the run is cancelled.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/make_training_screenshot.py [OUT]

The sample is generated into a temporary folder, so the user's own sample gets no extra run.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication
from shot_wait import wait  # beside this script

from carseg_gui.core.sample import generate_sample
from carseg_gui.qt.app import APPLICATION, ORGANIZATION
from carseg_gui.qt.controller import Controller
from carseg_gui.qt.main_window import MainWindow

SHOT_AFTER_EPOCH = 9


def main(out: Path) -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "sample"
        generate_sample(sample)
        window = MainWindow(Controller())
        window.resize(1280, 800)
        window.show()
        ended: list[str] = []
        epochs: list[int] = []
        window.controller.jobEnded.connect(lambda name, _outcome: ended.append(name))
        window.controller.runner.progress.connect(lambda _n, p: epochs.append(p.done) if p.stage == "epoch" else None)
        window.controller.open_dataset(sample)
        wait(app, lambda: "open" in ended, "the sample to open")
        window.tabs.setCurrentWidget(window.training_panel)
        window.training_panel.train_button.click()
        wait(app, lambda: len(epochs) >= SHOT_AFTER_EPOCH or "train" in ended, "the training's epochs", 600.0)
        for _ in range(10):  # the curves and labels of the last epoch are drawn
            app.processEvents()
            time.sleep(0.05)
        window.grab().save(str(out))
        window.controller.cancel()
        wait(app, lambda: "train" in ended, "the cancel")
        window.controller.shutdown()
        window.close()
    print(f"screenshot: {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("training.png"))
