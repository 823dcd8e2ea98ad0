"""The images without a mask through the window's panels: least confident first with the score shown, a
correction moves the image to the labelled set with its badge and the dataset panel's counts follow, the
export writes what it says (predictions only as COCO, then yours and the predictions as PNG), and a training
with a new validation split records the new cars."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.corrections import save_correction
from carseg_gui.core.formats import read_coco_masks
from carseg_gui.core.imageio import read_mask
from carseg_gui.core.otsu import otsu_mask
from carseg_gui.qt.viewer.page_model import FILE
from carseg_gui.session.store import StateStore
from tests.qt.qt_helpers import open_dataset, set_training, wait_job

pytestmark = pytest.mark.slow


def _choose(box, key: str) -> None:  # type: ignore[no-untyped-def]
    box.setCurrentIndex(box.findData(key))


def _manifest(folder: Path) -> dict[str, str]:
    with open(folder / "manifest.csv", newline="") as f:
        return {row["key"]: row["source"] for row in csv.DictReader(f)}


def test_unlabelled_queue_badges_counts_export_and_new_split(qtbot, window, sample: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    st, viewer, c = window.state, window.viewer_panel, window.controller
    data, export, training = window.dataset_panel, window.export_panel, window.training_panel
    assert open_dataset(qtbot, window, sample) == "succeeded"
    set_training(window, size=32, epochs=1, batch_size=8, patience=1)
    assert wait_job(qtbot, window, "train", lambda: training.train_button.click()) == "succeeded"
    first = st.active()
    split = StateStore(st.project).split()
    assert split is not None and split["chosen_by_run"] == first.id
    assert f"kept since run {first.id}" in training.controls.split_label.text()
    assert (data.labelled.text(), data.unlabelled.text()) == ("20 labelled", "2 without a mask")

    # Least confident first: the unlabelled set's order, scored in a job, each row saying its score.
    _choose(viewer.set_box, "test")
    orders = [viewer.order_box.itemData(i) for i in range(viewer.order_box.count())]
    assert orders == ["dataset", "confidence"]  # Worst Dice needs a mask: not offered here
    with qtbot.waitSignal(c.confidenceScored, timeout=120_000) as scored:
        _choose(viewer.order_box, "confidence")
    run_id, scores, ranked = scored.args
    assert run_id == first.id and len(ranked) == 2 and set(scores) == set(ranked)
    qtbot.waitUntil(lambda: not st.busy and [r.key for r in viewer.model.rows] == ranked)
    assert viewer.page == 0
    for i, row in enumerate(viewer.model.rows):
        text = viewer.model.data(viewer.model.index(i, FILE))
        assert f"expected Dice {scores[row.key]:.3f} (confidence)" in text and "no mask: the run's prediction" in text

    # A correction (what the editor saves and then tells the viewer): labelled now, badged, counted.
    key = ranked[0]
    h, w = viewer.model.rows[0].orig
    mask = np.zeros((h, w), np.uint8)
    mask[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 1
    save_correction(st.project, key, mask)
    StateStore(st.project).set_status(key, "corrected")
    viewer.refresh_statuses()
    assert [r.key for r in viewer.model.rows] == [ranked[1]]  # it left the images without a mask
    assert (data.labelled.text(), data.unlabelled.text()) == ("21 labelled (1 by you)", "1 without a mask")
    _choose(viewer.set_box, "train")
    assert viewer.order_box.currentData() == "dataset" and viewer.page == 0
    viewer.go_to(Path(key).name)
    row = next(r for r in viewer.model.rows if r.key == key)
    assert row.source == "mask: corrected by you" and row.badge == "✎ corrected"
    qtbot.waitUntil(lambda: row.mask_array is not None)
    np.testing.assert_array_equal(row.mask_array, otsu_mask(mask * 255, 32))  # the mask training will use

    # Export, predictions only, as COCO: every mask is the run's, the manifest and the summary say so.
    _choose(export.set_box, "test")
    _choose(export.format_box, "coco")
    export.predictions_only.setChecked(True)
    export.folder.setText(str(tmp_path / "coco"))
    assert "annotations.json" in export.plan.text() and "the run's predictions" in export.plan.text()
    assert wait_job(qtbot, window, "export", export.start) == "succeeded"
    coco = read_coco_masks(tmp_path / "coco" / "annotations.json")
    assert len(coco) == 2 and not np.array_equal(coco[Path(key).name], mask)
    assert set(_manifest(tmp_path / "coco").values()) == {"predicted"}
    assert "Wrote 2 masks of the test images in" in export.summary.text()
    assert "all predictions (your corrections ignored)" in export.summary.text()

    # Then as PNG with the corrections: the corrected image gets its mask, exactly; the other the prediction.
    _choose(export.format_box, "png")
    export.predictions_only.setChecked(False)
    export.folder.setText(str(tmp_path / "png"))
    assert wait_job(qtbot, window, "export", export.start) == "succeeded"
    written = read_mask(tmp_path / "png" / (Path(key).stem + ".png"))
    np.testing.assert_array_equal(written > 127, mask.astype(bool))
    assert _manifest(tmp_path / "png") == {key: "corrected", ranked[1]: "predicted"}
    assert "1 by you, 1 prediction; manifest.csv beside them" in export.summary.text()
    # Again into the same folder: the check (off the GUI thread) finds the files and asks first.
    asked: list[str] = []
    window.ask = lambda _title, question: asked.append(question) or False
    assert export.start() is True
    qtbot.waitUntil(lambda: bool(asked))
    assert asked[0].startswith(f"3 file(s) in {tmp_path / 'png'} will be replaced")  # 2 masks + manifest.csv
    assert export.summary.text() == "Not exported: the existing files were kept."

    # A training with a new validation split: the project records the cars the new run drew.
    assert wait_job(qtbot, window, "train", lambda: training.controls.new_split.click()) == "succeeded"
    second = st.active()
    again = StateStore(st.project).split()
    assert second.id != first.id and again is not None and again["chosen_by_run"] == second.id
    assert f"kept since run {second.id}" in training.controls.split_label.text()
