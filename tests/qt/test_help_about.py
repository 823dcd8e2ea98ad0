"""Help ▸ About names the versions and the device; the help lists the editor's keys and the statuses;
the training panel says when training runs on the CPU and how long an epoch takes."""

from __future__ import annotations

import sys
import time

from PySide6.QtWidgets import QMessageBox

from carseg_gui import __version__
from carseg_gui.core.jobs import Progress
from carseg_gui.qt.help import HELP


def test_about_names_versions_and_device(window) -> None:  # type: ignore[no-untyped-def]
    import PySide6

    had_tf = "tensorflow" in sys.modules
    text = window.about_text()
    assert __version__ in text and PySide6.__version__ in text and "TensorFlow" in text
    assert "not known yet" in text
    assert ("tensorflow" in sys.modules) == had_tf  # read from the metadata, not imported
    window.controller.runner.progress.emit("train", Progress("device", 0, 0, "CPU", {"device": "CPU"}))
    assert "Compute device: CPU" in window.about_text()
    window.show_about()
    box = window.findChild(QMessageBox, "aboutBox")
    assert box is not None and box.isVisible() and "Qt " in box.text()
    box.close()


def test_help_lists_editor_keys_statuses_and_files() -> None:
    for words in ("Ctrl+Shift+Z", "polygon fill", "take the prediction", "fit to window", "<i>excluded</i>",
                  "<i>approved</i>", "corrections/", "runs/"):  # fmt: skip
        assert words in HELP, words


def test_cpu_note_gives_the_time_per_epoch(window) -> None:  # type: ignore[no-untyped-def]
    panel = window.training_panel
    assert not panel.cpu_note.isVisibleTo(panel)
    window.controller.runner.progress.emit("train", Progress("device", 0, 0, "CPU", {"device": "CPU"}))
    assert panel.cpu_note.isVisibleTo(panel) and "runs on the CPU" in panel.cpu_note.text()
    for done in range(1, 6):
        window.controller.runner.progress.emit("train", Progress("batch", done, 40, "", {"epoch": 1, "epochs": 2}))
        time.sleep(0.02)
    text = panel.cpu_note.text()
    assert "≈" in text and "s per epoch" in text and "40 batches" in text, text
