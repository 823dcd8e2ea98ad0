"""Opening another dataset leaves nothing of the previous one on screen, and the dataset panel says
which folders it found and where the project lives."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from tests.datasets import make_carvana
from tests.qt.qt_helpers import set_training, wait_job


def test_a_second_dataset_starts_clean_and_names_its_own_folders(qtbot, window, sample: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel, viewer, training = window.dataset_panel, window.viewer_panel, window.training_panel
    assert wait_job(qtbot, window, "open", lambda: window.controller.open_dataset(sample)) == "succeeded"
    assert panel.layout_label.text() == "Carvana (train/, train_masks/, test/)"
    assert not panel.project_label.isVisible()  # the default <dataset>/.carseg: nothing to say
    set_training(window, size=32)
    assert wait_job(qtbot, window, "preprocess", lambda: window.controller.preprocess()) == "succeeded"
    assert panel.bar.value() == panel.bar.maximum() > 0
    viewer.order_box.setCurrentIndex(viewer.order_box.findData("worst"))
    viewer.show_box.setCurrentIndex(viewer.show_box.findData("unreviewed"))
    viewer.goto.setText("car0")
    training.epoch_label.setText("Epoch 5 / 5 done")

    other = make_carvana(tmp_path / "other", cars=2, views=2, test=0)
    project = tmp_path / "elsewhere"
    opened = wait_job(qtbot, window, "open", lambda: window.controller.open_dataset(other, project))
    assert opened == "succeeded"
    assert panel.layout_label.text() == "Carvana (train/, train_masks/)"  # no test images, no test/ line
    assert panel.project_label.isVisible() and panel.project_label.text() == str(project)
    assert panel.bar.value() <= 0 and panel.rate_label.text().strip() == ""
    assert viewer.order_box.currentData() == "dataset" and viewer.show_box.currentData() == "all"
    assert viewer.goto.text() == "" and training.epoch_label.text() == "Epoch –"


def test_the_layout_does_not_move_when_the_words_change(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    window.resize(1280, 800)
    assert wait_job(qtbot, window, "open", lambda: window.controller.open_dataset(sample)) == "succeeded"
    training, viewer = window.training_panel, window.viewer_panel
    for tab in (training, viewer):
        window.tabs.setCurrentWidget(tab)
        qtbot.waitUntil(lambda tab=tab: tab.isVisible())
        left, buttons = window.dataset_panel.width(), (training.train_button.width(), training.cancel_button.width())
        long = "Epoch 12 / 50 done · val Dice 0.9876 · best epoch 11 " * 4
        training.epoch_label.setText(long)
        training.outcome.setText(long)
        training.device_label.setText("Device: GPU: " + "NVIDIA H200 " * 8)
        viewer.info.setText("Images 1–50 of 288 at 128×128 · no predictions (no trained model yet: train a run) " * 2)
        window.dataset_panel.layout_label.setText("Carvana (train_images/, train_masks/, test_images/) " * 2)
        for _ in range(3):  # the layouts run on posted LayoutRequest events
            QApplication.sendPostedEvents()
            QApplication.processEvents()
        assert window.dataset_panel.width() == left
        assert (training.train_button.width(), training.cancel_button.width()) == buttons
        assert window.width() == 1280


def test_training_controls_follow_the_rules(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    controls = window.training_panel.controls
    assert not controls.new_split.isEnabled() and "open a dataset first" in controls.new_split.toolTip()
    assert controls.split_label.text().startswith("Validation: the first training chooses the cars")
    has_refiner = hasattr(window.controller, "train_refiner")
    assert not controls.refiner.isEnabled()
    assert ("open a dataset first" if has_refiner else "Not in this version") in controls.refiner.toolTip()
    assert wait_job(qtbot, window, "open", lambda: window.controller.open_dataset(sample)) == "succeeded"
    assert controls.refiner.isEnabled() == has_refiner
    assert not controls.new_split.isEnabled()  # nothing to draw again before the first training
    assert "the first training (Train) chooses them" in controls.new_split.toolTip()


def test_counts_name_your_masks_before_any_cache(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from carseg_gui.core.corrections import save_correction
    from carseg_gui.session.store import StateStore

    panel, st = window.dataset_panel, window.state
    assert wait_job(qtbot, window, "open", lambda: window.controller.open_dataset(sample)) == "succeeded"
    assert (panel.labelled.text(), panel.unlabelled.text()) == ("20 labelled", "2 without a mask")
    key = sorted(r.key for r in st.dataset.unlabelled)[0]
    save_correction(st.project, key, np.ones((112, 160), np.uint8))
    StateStore(st.project).set_status(key, "approved")
    window.viewer_panel.refresh_statuses()  # what the window does when the editor set a status
    assert (panel.labelled.text(), panel.unlabelled.text()) == ("21 labelled (1 by you)", "1 without a mask")
