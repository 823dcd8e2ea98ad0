"""Issue 12's loop through the window: a test image opens from the viewer as a draft, is approved in the
editor, counts as labelled (viewer set, badge, dataset panel), trains in the next run, and the export writes
its approved mask and the prediction for the other test image, as the manifest says."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.corrections import correction_path
from carseg_gui.core.imageio import read_mask
from tests.qt.qt_helpers import open_dataset, set_training, wait_job
from tests.qt.test_editor import drag

pytestmark = pytest.mark.slow


def test_approve_a_draft_then_train_and_export_it(qtbot, window, sample: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    st, viewer, data, export = window.state, window.viewer_panel, window.dataset_panel, window.export_panel
    assert open_dataset(qtbot, window, sample) == "succeeded"
    set_training(window, size=32, epochs=1, batch_size=8, patience=1)
    assert wait_job(qtbot, window, "train", lambda: window.training_panel.train_button.click()) == "succeeded"
    viewer.set_box.setCurrentIndex(viewer.set_box.findData("test"))
    qtbot.waitUntil(lambda: len(viewer.model.rows) == 2 and not viewer.model.missing_predictions(), timeout=60_000)
    key, other = viewer.model.rows[0].key, viewer.model.rows[1].key

    editor = window.open_image(viewer.model.rows[0].row)
    qtbot.waitUntil(lambda: editor.document is not None and not editor.loading, timeout=60_000)
    assert editor.document.draft and editor.current_key == key
    # The draft is the prediction export would write for it (the same function, at the photo's size).
    predicted = tmp_path / "predicted"
    exported = wait_job(qtbot, window, "export", lambda: window.controller.export(predicted, "test", "png", 0.5, False))
    assert exported == "succeeded"
    draft = read_mask(predicted / f"{Path(key).stem}.png") > 127
    np.testing.assert_array_equal(editor.document.mask.astype(bool), draft)
    # A brush stroke (mouse events on the canvas), then approve: the person's mask is the one kept.
    editor.set_tool("brush")
    editor.canvas.set_brush_size(9)
    h, w = editor.document.shape
    drag(editor, [(w * 0.1, h * 0.1), (w * 0.3, h * 0.1)])
    qtbot.waitUntil(lambda: correction_path(st.project, key).exists(), timeout=30_000)
    painted = editor.document.mask.copy()
    assert painted.sum() > draft.sum() and painted[int(h * 0.1), int(w * 0.2)] == 1
    with qtbot.waitSignal(editor.statusChanged, timeout=30_000):
        editor.set_status("approved")
    editor.close()
    np.testing.assert_array_equal(read_mask(correction_path(st.project, key)) > 127, painted.astype(bool))
    assert [r.key for r in viewer.model.rows] == [other]  # no longer among the images without a mask
    assert (data.labelled.text(), data.unlabelled.text()) == ("21 labelled (1 by you)", "1 without a mask")
    viewer.set_box.setCurrentIndex(viewer.set_box.findData("train"))
    viewer.go_to(Path(key).name)
    row = next(r for r in viewer.model.rows if r.key == key)
    assert row.badge == "✓ approved" and row.source.startswith("mask: approved draft")

    # The next training uses it (its car is not one of the kept validation cars).
    assert wait_job(qtbot, window, "train", lambda: window.training_panel.train_button.click()) == "succeeded"
    config = json.loads((st.active().folder / "config.json").read_text())
    assert key in config["train_keys"]

    # The export writes the approved mask for it, the prediction for the other, and says which is which.
    export.set_box.setCurrentIndex(export.set_box.findData("test"))
    export.format_box.setCurrentIndex(export.format_box.findData("png"))
    export.folder.setText(str(tmp_path / "masks"))
    assert wait_job(qtbot, window, "export", export.start) == "succeeded"
    written = read_mask(tmp_path / "masks" / f"{Path(key).stem}.png") > 127
    np.testing.assert_array_equal(written, painted.astype(bool))  # the stroke is in the exported mask
    with open(tmp_path / "masks" / "manifest.csv", newline="") as f:
        sources = {r["key"]: r["source"] for r in csv.DictReader(f)}
    assert sources == {key: "approved", other: "predicted"}
    assert "1 by you, 1 prediction" in export.summary.text()
