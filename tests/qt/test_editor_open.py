"""The main window opens every image of the viewer in the mask editor, a draft for an image without a mask."""

from __future__ import annotations

from pathlib import Path

from carseg_gui.qt.editor import MaskEditor
from carseg_gui.session.editor import NO_RUN_NOTE


def test_every_viewer_row_opens_in_the_editor_without_a_run(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.qt.qt_helpers import open_dataset, set_training, wait_job

    viewer = window.viewer_panel
    assert open_dataset(qtbot, window, sample) == "succeeded"
    set_training(window, size=32)
    assert wait_job(qtbot, window, "preprocess", lambda: window.controller.preprocess()) == "succeeded"
    viewer.set_box.setCurrentIndex(viewer.set_box.findData("test"))
    qtbot.waitUntil(lambda: bool(viewer.model.rows) and viewer.model.rows[0].key.startswith("test/"))
    editor = window.open_image(viewer.model.rows[0].row)
    assert isinstance(editor, MaskEditor) and editor.current_key == viewer.model.rows[0].key
    assert [i.key for i in editor.items] == [window.state.view_cache().rows[r]["key"] for r in viewer.rows()]
    qtbot.waitUntil(lambda: editor.document is not None)
    assert editor.document.draft and not editor.document.mask.any() and editor.document.mask.shape == (112, 160)
    assert editor.status_row.note.text() == NO_RUN_NOTE
    editor.close()
