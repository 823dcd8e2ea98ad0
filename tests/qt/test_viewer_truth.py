"""A viewer row always shows the mask training will use: a saved correction, after any reload too."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from carseg_gui.core.corrections import save_correction
from carseg_gui.session.store import StateStore
from tests.qt.qt_helpers import open_dataset, set_training, wait_job


def test_rows_show_the_correction_after_a_reload(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    st, viewer = window.state, window.viewer_panel
    assert open_dataset(qtbot, window, sample) == "succeeded"
    set_training(window, size=32)
    assert wait_job(qtbot, window, "preprocess", lambda: window.controller.preprocess()) == "succeeded"
    qtbot.waitUntil(lambda: viewer.model.rowCount() > 2 and viewer.model.rows[2].mask_array is not None)
    first, third = viewer.model.rows[0], viewer.model.rows[2]
    cached = third.mask_array.copy()
    h, w = third.orig
    corrected = np.zeros((h, w), np.uint8)
    corrected[: h // 2, :] = 1  # nothing like the car mask: the top half of the photo
    save_correction(st.project, third.key, corrected)
    save_correction(st.project, first.key, corrected)  # a file without the status: not used by training
    StateStore(st.project).set_status(third.key, "corrected")
    for reload in (viewer.reload, lambda: viewer.show_box.setCurrentIndex(viewer.show_box.findData("corrected"))):
        reload()  # what a filter change, a new run or a status change do: the page is loaded again
        qtbot.waitUntil(lambda: all(r.mask_array is not None for r in viewer.model.rows))
        row = next(r for r in viewer.model.rows if r.key == third.key)
        expected = np.zeros((32, 32), np.uint8)
        expected[:16, :] = 1
        assert np.array_equal(row.mask_array, expected) and not np.array_equal(row.mask_array, cached)
        for other in (r for r in viewer.model.rows if r.key == first.key):  # not under the filter "corrected"
            assert not np.array_equal(other.mask_array, expected)  # an unreviewed image keeps its own mask
    assert [r.key for r in viewer.model.rows] == [third.key]


def test_training_masks_pick_the_file_training_uses(tmp_path: Path) -> None:
    from carseg_gui.session.viewer import training_masks

    own, fixed = tmp_path / "a_mask.gif", tmp_path / "corrections" / "train__a.jpg.png"
    rows = [{"key": "train/a.jpg", "mask": str(fixed)}, {"key": "train/b.jpg", "mask": str(tmp_path / "b_mask.gif")}]
    originals = {"train/a.jpg": own, "train/b.jpg": tmp_path / "b_mask.gif"}
    # Counted: the correction, even when the cache was built from it (it may have changed since).
    assert training_masks([0, 1], rows, {"train/a.jpg": fixed}, originals) == ((0, str(fixed)),)
    # Undone or marked unreviewed after a retrain built the cache from it: the user's own mask again.
    assert training_masks([0, 1], rows, {}, originals) == ((0, str(own)),)
