"""The export panel on a dataset without test images: a useful default, and no empty export."""

from __future__ import annotations

from pathlib import Path

from tests.datasets import make_carvana
from tests.qt.qt_helpers import open_dataset, wait_job


def test_no_test_images_defaults_to_all_and_an_empty_set_is_refused(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = make_carvana(tmp_path / "cars", cars=2, views=2, test=0)
    assert open_dataset(qtbot, window, data) == "succeeded"
    panel = window.export_panel
    assert panel.set_box.currentData() == "all"
    assert wait_job(qtbot, window, "preprocess", lambda: window.controller.preprocess()) == "succeeded"
    assert panel.plan.text().startswith("4 files in cars-masks/")
    panel.set_box.setCurrentIndex(panel.set_box.findData("test"))
    assert panel.plan.text().startswith("nothing: this dataset has no test images")
    panel.folder.setText(str(tmp_path / "out"))
    assert panel.start() is False  # refused before any job or folder is made
    assert not (tmp_path / "out").exists()


def test_the_summary_names_the_set_in_plain_words(tmp_path: Path) -> None:
    from carseg_gui.core.export import ExportSummary
    from carseg_gui.qt.panels.export_panel import exported_text

    out = tmp_path / "out"
    files = [out / f"{i}.png" for i in range(72)]
    assert (
        exported_text(ExportSummary(out, files, set="all", run="r1", by_person=3, images=72))
        == f"Wrote 72 masks of all the images to {out} (run r1): 3 by you, 69 predictions; manifest.csv beside them."
    )
    assert "all predictions (your corrections ignored)" in exported_text(
        ExportSummary(out, files, set="all", run="r1", images=72), predictions_only=True
    )
    assert exported_text(ExportSummary(out, files[:1], set="test", run="r1")).startswith(
        "Wrote 1 mask of the test images"
    )
    assert "of the labelled images" in exported_text(ExportSummary(out, files, set="train", run="r1"))
