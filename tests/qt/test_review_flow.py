"""The correction loop through the main window: open the editor from the viewer, correct, see the
badge and filter follow, order the review queue worst first, retrain warm and compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.cache import open_cache
from carseg_gui.core.metrics import dice
from carseg_gui.core.otsu import otsu_mask
from carseg_gui.core.review import worst_first
from tests.qt.qt_helpers import open_dataset, set_training, wait_job

pytestmark = pytest.mark.slow


def test_correct_review_and_retrain(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    st, viewer, c = window.state, window.viewer_panel, window.controller
    viewer.page_size = 8
    assert open_dataset(qtbot, window, sample) == "succeeded"
    set_training(window, size=32, epochs=1, batch_size=8, patience=1)
    assert wait_job(qtbot, window, "train", lambda: window.training_panel.train_button.click()) == "succeeded"
    first_run = st.active()
    qtbot.waitUntil(lambda: bool(viewer.model.rows) and not viewer.model.missing_predictions(), timeout=60_000)

    # the editor opens on the row; taking the whole prediction is a correction, saved and badged
    row = viewer.model.rows[2]
    mask_before = row.mask_array.copy()
    editor = window.open_image(row.row)
    assert editor.current_key == row.key
    qtbot.waitUntil(lambda: editor.document is not None)  # loaded in the editor's background thread
    with qtbot.waitSignal(editor.correctionSaved, timeout=10_000):
        editor.take_whole_prediction()
    qtbot.waitUntil(lambda: viewer.model.rows[2].badge == "✎ corrected")
    corrected_mask = editor.document.mask.copy()
    # the viewer's row shows the corrected mask and its Dice at once, as preprocessing will make it
    np.testing.assert_array_equal(viewer.model.rows[2].mask_array, otsu_mask(corrected_mask * 255, 32))
    shown = viewer.model.rows[2]
    assert not np.array_equal(shown.mask_array, mask_before)
    assert shown.dice == pytest.approx(dice(shown.mask_array, (shown.prob > 127).astype(np.uint8)))
    editor.close()

    viewer.show_box.setCurrentIndex(viewer.show_box.findData("corrected"))
    assert [viewer.view.cache.rows[r]["key"] for r in viewer.rows()] == [row.key]
    viewer.show_box.setCurrentIndex(viewer.show_box.findData("all"))

    # worst Dice first: a review job scores every labelled image, the viewer orders by it
    with qtbot.waitSignal(c.reviewed, timeout=120_000) as reviewed:
        viewer.order_box.setCurrentIndex(viewer.order_box.findData("worst"))
    run_id, scores = reviewed.args
    assert run_id == first_run.id and len(scores) == 20
    qtbot.waitUntil(lambda: not st.busy)
    keys = [viewer.view.cache.rows[r]["key"] for r in viewer.rows()]
    assert keys == worst_first(scores)
    viewer.order_box.setCurrentIndex(viewer.order_box.findData("dataset"))

    # retrain from the active run: the corrected mask is in the training matrix, Dice before/after shown
    window.training_panel.warm.setChecked(True)
    with qtbot.waitSignal(c.compared, timeout=120_000) as compared:
        wait_job(qtbot, window, "train", lambda: window.training_panel.train_button.click())
    new_run, comparison = compared.args
    assert new_run.config["init_from"] == str(first_run.folder)
    assert comparison["before_run"] == first_run.id and comparison["images"] > 0
    assert "→" in window.training_panel.outcome.text()
    cache = open_cache(st.project, 32)
    i = next(i for i, r in enumerate(cache.rows) if r["key"] == row.key)
    assert cache.rows[i]["corrected"]
    small = (np.asarray(cache.masks()[i]) > 0).mean()
    assert abs(small - (corrected_mask > 0).mean()) < 0.1  # the 32x32 row follows the corrected full-size mask
