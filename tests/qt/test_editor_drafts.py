"""Images without a mask open in the editor with a draft: the run's prediction, or an empty one that says so."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

from carseg_gui.core.corrections import correction_path
from carseg_gui.core.imageio import read_mask
from carseg_gui.core.postprocess import PostProcess
from carseg_gui.core.predict import to_original_size
from carseg_gui.qt.editor import EditorItem, MaskEditor
from carseg_gui.session import editor as session_editor
from carseg_gui.session.editor import NO_RUN_NOTE, DraftSource
from carseg_gui.session.store import StateStore
from tests.qt.test_editor import drag, open_editor, write_items
from tests.session.test_editor_model import FakeModel, fake_cache, photo

KEY = "test/a.png"
RUN = SimpleNamespace(id="run-7", config={"keep_largest": True, "fill_holes": True})


@pytest.fixture
def drafted(tmp_path: Path, monkeypatch) -> tuple[EditorItem, np.ndarray]:  # type: ignore[no-untyped-def]
    """An image without a mask, its draft made by a fake run's model; and the mask export would write."""
    image, _ = photo(tmp_path / "data", "a.png", 300, 400)
    monkeypatch.setattr(session_editor, "_model_for", lambda run, prepare: FakeModel())
    source = DraftSource(fake_cache(image, 300, 400), RUN)  # type: ignore[arg-type]
    small = FakeModel().predict_on_batch(np.zeros((1, 32, 32, 3)))[0, ..., 0]
    expected = to_original_size(small, (300, 400), 0.5, PostProcess.from_config(RUN.config), image)
    return EditorItem(KEY, image, None, None, PostProcess.from_config(RUN.config), source.for_key(KEY)), expected


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "project").mkdir()
    return tmp_path / "project"


def test_an_image_without_a_mask_opens_with_the_prediction_as_draft(qtbot, project, drafted) -> None:  # type: ignore[no-untyped-def]
    item, expected = drafted
    editor = open_editor(qtbot, project, [item])
    doc = editor.document
    assert doc.draft and doc.draft_run == "run-7" and expected.any()
    assert np.array_equal(doc.mask, expected) and np.array_equal(doc.original, expected)
    assert doc.prob is not None and doc.prob.shape == (300, 400) and doc.rgb.shape == (300, 400, 3)
    assert "run-7" in editor.status_row.note.text() and editor.status_row.note.isVisibleTo(editor)
    assert editor.act_reset.text() == "Reset to the draft"
    # Dice of a draft against the prediction it started from is 1 by construction: said so, not a score
    assert (
        editor.panel.dice.text() == "1.0000 at 400×300 (draft)"
        and "1.0000 means unchanged" in editor.panel.dice.toolTip()
    )
    # Tools work on it as on any mask; reset goes back to the draft, and then there is no correction.
    drag(editor, [(20, 20), (120, 40)])
    qtbot.waitUntil(lambda: StateStore(project).status(KEY) == "corrected")
    assert correction_path(project, KEY).exists()
    editor.reset_to_original()
    assert np.array_equal(doc.mask, expected)
    qtbot.waitUntil(lambda: StateStore(project).status(KEY) == "unreviewed")
    assert not correction_path(project, KEY).exists()
    editor.close()


def test_approving_an_untouched_draft_accepts_the_prediction(qtbot, project, drafted) -> None:  # type: ignore[no-untyped-def]
    item, expected = drafted
    editor = open_editor(qtbot, project, [item])
    assert not correction_path(project, KEY).exists()
    with qtbot.waitSignal(editor.correctionSaved) as saved:
        qtbot.keyClick(editor.canvas, Qt.Key.Key_A)
    written = (read_mask(correction_path(project, KEY)) > 0).astype(np.uint8)
    assert np.array_equal(written, expected) and np.array_equal(saved.args[1], expected)
    store = StateStore(project)
    assert store.status(KEY) == "approved" and "run-7" in store.history(KEY)[-1]["note"]
    assert editor.panel.status.text() == "Approved"
    editor.close()
    # Open again: the approved mask is the image's mask now, and it stays when nothing changes.
    again = open_editor(qtbot, project, [item])
    assert np.array_equal(again.document.mask, expected) and again.document.draft
    again.close()
    assert correction_path(project, KEY).exists() and StateStore(project).status(KEY) == "approved"


def test_without_a_run_the_draft_is_empty_says_so_and_cannot_be_approved(qtbot, tmp_path: Path, project) -> None:  # type: ignore[no-untyped-def]
    image, _ = photo(tmp_path / "data", "a.png", 300, 400)
    item = EditorItem(KEY, image, None, draft=DraftSource(None, None).for_key(KEY))
    editor = open_editor(qtbot, project, [item])
    assert not editor.document.mask.any() and editor.document.prob is None
    assert editor.status_row.note.text() == NO_RUN_NOTE
    assert editor.act_tools["brush"].isEnabled() and not editor.act_tools["take"].isEnabled()
    with qtbot.waitSignal(editor.problemFound) as problem:
        editor.set_status("approved")
    assert "no trained run" in problem.args[1] and "no trained run" in editor.status_row.problem.text()
    assert not correction_path(project, KEY).exists() and StateStore(project).status(KEY) == "unreviewed"
    drag(editor, [(100, 100), (300, 200)])  # painted, then approved: that is the mask
    editor.set_status("approved")
    assert (read_mask(correction_path(project, KEY)) > 0).any() and StateStore(project).status(KEY) == "approved"
    editor.close()


def test_an_unreadable_image_in_the_list_does_not_stop_next(qtbot, tmp_path: Path, project) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    good = write_items(tmp_path / "data", n=2)
    editor = open_editor(qtbot, project, [good[0], EditorItem("test/broken.jpg", broken), good[1]])
    problems: list[str] = []
    editor.problemFound.connect(lambda key, text: problems.append(key))
    qtbot.waitUntil(lambda: "test/broken.jpg" in editor.documents.errors)  # found while prefetching ...
    assert problems == []  # ... but said only when the user gets there (no message box meanwhile)
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Right)
    assert "cannot open broken.jpg" in editor.canvas.message.text() and problems == ["test/broken.jpg"]
    assert editor.document is None and editor.act_next.isEnabled() and editor.act_prev.isEnabled()
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: editor.document is not None)
    assert editor.current_key == good[1].key and not editor.canvas.message.isVisible()
    editor.close()


def test_a_mask_that_cannot_be_read_starts_empty_and_says_so(qtbot, tmp_path: Path, project) -> None:  # type: ignore[no-untyped-def]
    image, _ = photo(tmp_path / "data", "a.png", 300, 400)
    bad = tmp_path / "data" / "a_mask.png"
    bad.write_bytes(b"not a png")
    editor = MaskEditor(project, [EditorItem("train/a.png", image, bad)])
    qtbot.addWidget(editor)
    with qtbot.waitSignal(editor.problemFound) as problem:
        editor.show()
    assert "a_mask.png cannot be read" in problem.args[1]
    qtbot.waitUntil(lambda: editor.document is not None)
    assert not editor.document.mask.any() and cv2.countNonZero(editor.document.original) == 0
    editor.close()


def test_the_note_says_which_mask_training_and_the_export_use(qtbot, project, drafted) -> None:  # type: ignore[no-untyped-def]
    """A painted draft set back to unreviewed keeps its file, which training and the export do not use: the
    editor says so instead of calling it the run's draft; approved, the note says the mask is used."""
    item, _ = drafted
    editor = open_editor(qtbot, project, [item])
    assert "run-7" in editor.status_row.note.text() and "approve (A)" in editor.status_row.note.text()
    drag(editor, [(20, 20), (120, 40)])
    qtbot.waitUntil(lambda: StateStore(project).status(KEY) == "corrected")
    with qtbot.waitSignal(editor.statusChanged):
        editor.set_status("unreviewed")
    note = editor.status_row.note.text()
    assert note.startswith("your saved mask is shown, but while the image is unreviewed") and "prediction" in note
    assert not editor.panel.dice.text().endswith("(draft)")  # edited: a real Dice against the prediction
    editor.close()
    again = open_editor(qtbot, project, [item])  # reopened: the same words, from the loader
    assert again.status_row.note.text() == note and correction_path(project, KEY).exists()
    with qtbot.waitSignal(again.statusChanged):
        again.set_status("approved")
    assert (
        again.status_row.note.text()
        == "your mask (it started as the draft of run run-7): training and the export use it"
    )
    again.close()
