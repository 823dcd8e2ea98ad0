"""A SIGKILL in the middle of editing loses at most the stroke in progress (the saver thread's guarantee)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.corrections import correction_path
from carseg_gui.core.imageio import read_mask
from carseg_gui.qt.editor import EditorItem
from tests.qt.test_editor import write_items


@pytest.fixture
def items(tmp_path: Path) -> list[EditorItem]:
    return write_items(tmp_path / "data")


_CHILD = r"""
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from pathlib import Path
import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
from carseg_gui.qt.editor import EditorItem, MaskEditor
from carseg_gui.session.store import StateStore

data, project, out, finish_last = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4] == "1"
app = QApplication([])
item = EditorItem("train/img0.png", data / "img0.png", data / "img0_mask.png")
editor = MaskEditor(project, [item], 0)
editor.resize(900, 600)
editor.show()
while editor.document is None:  # loaded in the background
    app.processEvents()
vp = editor.canvas.viewport()

def send(kind, x, y, button, buttons):
    pos = editor.canvas.mapFromScene(QPointF(x, y))
    QApplication.sendEvent(vp, QMouseEvent(kind, QPointF(pos), QPointF(vp.mapToGlobal(pos)), button, buttons,
                                           Qt.KeyboardModifier.NoModifier))

L, N = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
# Strokes in quick succession, as a fast user makes them: less than the 300 ms save delay apart.
for i in range(5):
    y = 20 + 50 * i
    send(QEvent.Type.MouseButtonPress, 20, y, L, L)
    for x in range(30, 380, 10):
        send(QEvent.Type.MouseMove, x, y + 10, N, L)
        app.processEvents()
    if i == 4 and not finish_last:
        break  # killed in the middle of the last stroke
    send(QEvent.Type.MouseButtonRelease, 380, y + 10, L, N)
    app.processEvents()
    np.save(out / f"after_{i}.npy", editor.document.mask)
print("READY", flush=True)
app.exec()
"""


@pytest.mark.parametrize("finish_last", [False, True], ids=["killed-mid-stroke", "killed-after-stroke"])
def test_sigkill_loses_at_most_the_last_stroke(tmp_path: Path, items: list[EditorItem], finish_last: bool) -> None:
    import signal
    import subprocess
    import sys
    import threading

    project, out = tmp_path / "project", tmp_path / "out"
    project.mkdir()
    out.mkdir()
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    args = [sys.executable, str(script), str(items[0].image_path.parent), str(project), str(out), str(int(finish_last))]
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    watchdog = threading.Timer(120, child.kill)
    watchdog.start()
    try:
        line = child.stdout.readline()
        assert line.strip() == "READY", child.stderr.read()
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        watchdog.cancel()
        child.kill()
    assert child.returncode == -signal.SIGKILL
    saved = (read_mask(correction_path(project, "train/img0.png")) > 0).astype(np.uint8)
    if finish_last:
        # The last stroke may or may not have reached the disk; every one before it has.
        assert any(np.array_equal(saved, np.load(out / f"after_{i}.npy")) for i in (3, 4))
    else:
        # Pressing for stroke 5 wrote strokes 1-4 first; the half-drawn 5th is what is lost.
        assert np.array_equal(saved, np.load(out / "after_3.npy"))
    assert not list((project / "corrections").glob(".*.tmp"))  # no half-written temp files left
