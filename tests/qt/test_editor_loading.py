"""The editor's GUI thread only shows: loading, prefetching, saving and re-thresholding run in threads."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from carseg_gui.core.corrections import correction_path
from carseg_gui.core.imageio import read_mask
from carseg_gui.qt.editor import MaskEditor
from carseg_gui.session import editor as session_editor
from carseg_gui.session import editor_workers
from carseg_gui.session.store import StateStore
from tests.qt.test_editor import drag, open_editor, write_items


def recording(monkeypatch, module, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Patch ``module.name`` to note the thread each call runs in."""
    threads: list[str] = []
    original = getattr(module, name)

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return threads


def test_images_load_and_masks_save_off_the_gui_thread(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    reads = recording(monkeypatch, session_editor, "read_image")
    writes = recording(monkeypatch, editor_workers, "save_correction")
    posts = recording(monkeypatch, session_editor, "predicted_mask")
    project = tmp_path / "project"
    project.mkdir()
    editor = open_editor(qtbot, project, write_items(tmp_path / "data", n=3))
    qtbot.waitUntil(lambda: len(reads) == 2)  # the image shown, then the next one prefetched
    drag(editor, [(30, 30), (200, 60)])
    editor.flush()
    assert correction_path(project, editor.current_key).exists() and writes
    editor.panel.threshold.setValue(70)
    qtbot.waitUntil(lambda: editor.document.threshold == 0.7)
    main = threading.main_thread().name
    assert reads and main not in reads and main not in writes and main not in posts
    assert {"editor-loader", "editor-saver", "editor-threshold"} <= {t.name for t in threading.enumerate()}
    editor.close()  # and no thread of the editor is left behind
    qtbot.waitUntil(lambda: not [t for t in threading.enumerate() if t.name.startswith("editor-")])


def test_prefetched_next_shows_without_waiting(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    items = write_items(tmp_path / "data", n=3)
    editor = open_editor(qtbot, tmp_path / "project", items)
    qtbot.waitUntil(lambda: not editor.documents.loading(items[1].key))
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Right)
    # No event loop ran since the key: the image, its mask and its prediction are on screen already.
    assert editor.document is not None and editor.document.key == items[1].key
    assert editor.canvas._image_item.pixmap().width() == 400 and not editor.canvas.message.isVisible()
    assert editor.document.rgb.shape == (300, 400, 3) and editor.document.prob is not None
    # ... and the one after it is being prefetched in turn; going back finds the first, with its history.
    qtbot.waitUntil(lambda: not editor.documents.loading(items[2].key))
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Left)
    assert editor.document is not None and editor.document.key == items[0].key
    editor.close()


def test_while_loading_the_editor_says_so_and_takes_no_input(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    gate = threading.Event()
    original = session_editor.load_arrays

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        gate.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr("carseg_gui.qt.editor.loading.load_arrays", slow)
    project = tmp_path / "project"
    project.mkdir()
    items = write_items(tmp_path / "data", n=2)
    editor = MaskEditor(project, items, 0)
    qtbot.addWidget(editor)
    editor.show()
    assert editor.loading and editor.canvas.message.text() == "Loading img0.png…"
    assert not editor.act_tools["brush"].isEnabled() and not editor.panel.approve.isEnabled()
    drag(editor, [(30, 30), (200, 60)])  # nothing there to paint on
    qtbot.keyClick(editor.canvas, Qt.Key.Key_A)  # no decision about an image not shown yet
    assert StateStore(project).status(items[0].key) == "unreviewed"
    with qtbot.waitSignal(editor.shown) as shown:
        gate.set()
    assert shown.args == [items[0].key] and not editor.loading and not editor.canvas.message.isVisible()
    assert editor.act_tools["brush"].isEnabled() and editor.document.stack.count() == 0
    editor.close()


def test_saved_only_once_on_disk_and_a_stroke_waits_for_the_previous_write(qtbot, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    gate, calls = threading.Event(), []
    original = editor_workers.save_correction

    def slow_disk(project, key, mask):  # type: ignore[no-untyped-def]
        calls.append(mask.copy())
        gate.wait(30)
        return original(project, key, mask)

    monkeypatch.setattr(editor_workers, "save_correction", slow_disk)
    project = tmp_path / "project"
    project.mkdir()
    editor = open_editor(qtbot, project, write_items(tmp_path / "data", n=1))
    key, doc = editor.current_key, editor.document
    drag(editor, [(30, 30), (200, 60)])
    first = doc.mask.copy()
    qtbot.waitUntil(lambda: len(calls) == 1)  # the stroke went to the saver as it ended ...
    assert "Unsaved" in editor.status_row.saved.text() and not correction_path(project, key).exists()
    # ... and the next stroke's press waits for it: by the time that stroke paints, stroke 1 is on disk.
    on_disk_at_press: list[np.ndarray] = []
    doc.aboutToEdit.connect(lambda: on_disk_at_press.append(read_mask(correction_path(project, key)) > 0))
    threading.Timer(0.3, gate.set).start()  # the disk answers while the GUI thread waits
    drag(editor, [(30, 200), (200, 260)])
    assert np.array_equal(on_disk_at_press[0], first > 0)
    qtbot.waitUntil(lambda: editor.status_row.saved.text() == "✓ Saved")
    assert np.array_equal((read_mask(correction_path(project, key)) > 0).astype(np.uint8), doc.mask)
    editor.close()


def test_a_failed_write_says_so_and_is_tried_again(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    original = editor_workers.save_correction
    full = {"on": True}

    def disk(project, key, mask):  # type: ignore[no-untyped-def]
        if full["on"]:
            raise OSError(28, "No space left on device")
        return original(project, key, mask)

    monkeypatch.setattr(editor_workers, "save_correction", disk)
    project = tmp_path / "project"
    project.mkdir()
    editor = open_editor(qtbot, project, write_items(tmp_path / "data", n=1))
    key = editor.current_key
    with qtbot.waitSignal(editor.problemFound) as problem:
        drag(editor, [(30, 30), (200, 60)])
        assert editor.flush() is False
    assert problem.args == [key, "No space left on device"]
    assert editor.status_row.saved.text() == f"Not saved: {key}: No space left on device"
    assert not correction_path(project, key).exists() and StateStore(project).status(key) == "unreviewed"
    full["on"] = False  # space again: the next flush writes what was not written, and the status follows
    assert editor.flush() is True
    assert editor.status_row.saved.text() == "✓ Saved" and correction_path(project, key).exists()
    assert StateStore(project).status(key) == "corrected"
    editor.close()


def test_going_back_shows_a_status_changed_elsewhere_meanwhile(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "project"
    project.mkdir()
    items = write_items(tmp_path / "data", n=2)
    editor = open_editor(qtbot, project, items)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: editor.document is not None and editor.document.key == items[1].key)
    StateStore(project).set_status(items[0].key, "excluded")  # the viewer or `carseg status` did it
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Left)  # the kept document, shown at once, its status read again
    qtbot.waitUntil(lambda: editor.panel.status.text() == "Excluded")
    qtbot.keyClick(editor.canvas, Qt.Key.Key_A)
    assert editor.panel.status.text() == "Approved"
    # A read asked for before that decision, landing after it, is dropped: the decision is newer.
    from carseg_gui.qt.editor.loading import STATUS

    editor.documents._arrived(STATUS + items[0].key, (0, "excluded"))
    assert editor.panel.status.text() == "Approved" and StateStore(project).status(items[0].key) == "approved"
    editor.close()
