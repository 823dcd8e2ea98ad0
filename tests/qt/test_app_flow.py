"""The whole job through the main window on the tiny sample: open, preprocess, train, page, open an
image, export; with the GUI event loop measured while training runs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

from carseg_gui.core.cache import cache_folder
from carseg_gui.qt.viewer.page_model import PredictionStore
from carseg_gui.session.store import StateStore
from tests.qt.qt_helpers import open_dataset, set_training, wait_job, wait_page

pytestmark = pytest.mark.slow


def test_full_flow(qtbot, window, sample: Path, tmp_path: Path, gaps) -> None:  # type: ignore[no-untyped-def]
    st, viewer = window.state, window.viewer_panel
    viewer.page_size = 8  # 20 labelled images: pages 8 + 8 + 4

    # open
    assert open_dataset(qtbot, window, sample) == "succeeded"
    assert window.windowTitle().startswith("cars")
    assert window.dataset_panel.labelled.text().startswith("20 ")
    assert window.dataset_panel.unlabelled.text().startswith("2 ")
    assert st.why_not("train") is None and st.why_not("export") is not None
    assert not window.export_panel.export_button.isEnabled()
    assert "train a run first" in window.export_panel.export_button.toolTip()

    # preprocess at the training size; the viewer shows the first page
    set_training(window, size=32, epochs=1, batch_size=8, patience=1)
    assert viewer.stack.currentIndex() == 0  # "not preprocessed yet"
    assert wait_job(qtbot, window, "preprocess", lambda: window.controller.preprocess()) == "succeeded"
    assert st.caches[32] and len(st.caches[32].rows) == 22
    qtbot.waitUntil(lambda: viewer.model.rowCount() == 8 and viewer.model.rows[0].image is not None)
    assert viewer.page_total.text() == "of 3"

    # train, measuring the event loop
    gaps.start()
    assert wait_job(qtbot, window, "train", lambda: window.training_panel.train_button.click()) == "succeeded"
    worst = gaps.stop()
    print(f"\nlargest event-loop gap while training: {worst * 1000:.0f} ms over {len(gaps.gaps)} ticks")
    # The window kept serving its event loop during the training (how fast is benchmarks/bench_gui.py's
    # measure: a timing bound here fails on a loaded machine, not on a regression).
    assert len(gaps.gaps) > 10, "the event loop did not run while training"
    run = st.active()
    assert run is not None and run.status == "finished"
    assert "finished" in window.training_panel.outcome.text()
    assert window.training_panel.runs.tree.topLevelItem(0).text(0) == "●"
    assert len(window.training_panel.curves.history) == 1
    assert StateStore(st.project).active_run() == run.id

    # the viewer predicts the page with the new run; paging forward, back, random, by key and by name
    qtbot.waitUntil(lambda: not viewer.model.missing_predictions(), timeout=60_000)
    assert all(r.pred is not None and r.dice is not None for r in viewer.model.rows)
    uncached = wait_page(qtbot, window, viewer.next_page)
    assert viewer.page == 1 and viewer.model.rows[0].number == 9
    cached = wait_page(qtbot, window, viewer.previous_page)
    assert viewer.page == 0 and viewer.model.rows[0].number == 1
    print(f"page switch: {uncached * 1000:.0f} ms uncached, {cached * 1000:.0f} ms cached (8 rows)")
    assert cached < uncached
    wait_page(qtbot, window, viewer.random_page)  # 8 sequential images from a random start
    assert viewer.paging.start != 0 and viewer.model.rows[0].number == viewer.paging.start + 1
    wait_page(qtbot, window, lambda: viewer.show_page(0))
    wait_page(qtbot, window, lambda: qtbot.keyClick(window, Qt.Key.Key_PageDown))
    assert viewer.page == 1
    wait_page(qtbot, window, lambda: qtbot.keyClick(window, Qt.Key.Key_PageUp))
    assert viewer.page == 0
    name = viewer.model.rows[0].name
    wait_page(qtbot, window, lambda: viewer.go_to("20"))
    assert viewer.page == 2 and viewer.table.currentIndex().row() == 3
    wait_page(qtbot, window, lambda: viewer.go_to(name[:8]))
    assert viewer.page == 0
    assert not viewer.go_to("no-such-car")
    assert "No image named" in viewer.info.text()
    qtbot.waitUntil(lambda: StateStore(st.project).preference("viewer") == {"set": "train", "page": 0})

    # many prediction requests in a row, some left before they finish (each one a new predict call
    # in the same service thread: this crashed TensorFlow when each request was its own slot call)
    for i in range(6):
        viewer.store = PredictionStore()
        viewer.show_page((i + 1) % 3)
    wait_page(qtbot, window, lambda: viewer.show_page(2))
    for i in range(4):
        viewer.store = PredictionStore()
        wait_page(qtbot, window, lambda i=i: viewer.show_page(i % 3))
    assert not viewer.model.missing_predictions()

    # double-click a labelled row: the mask editor opens on it, at full size, with the prediction
    rect = viewer.table.visualRect(viewer.model.index(1, 0))
    qtbot.mouseClick(viewer.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # a user's press first
    with qtbot.waitSignal(window.imageOpened) as opened:
        qtbot.mouseDClick(viewer.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    editor = opened.args[0]
    assert editor.isVisible() and editor.current_key == viewer.model.rows[1].key
    qtbot.waitUntil(lambda: editor.document is not None)  # loaded in the editor's background thread
    assert editor.document.mask.shape == (112, 160) and editor.document.prob is not None
    editor.close()

    # a test (unlabelled) row opens in the editor too, its draft the run's prediction as export writes it
    viewer.set_box.setCurrentIndex(viewer.set_box.findData("test"))

    def test_page_ready() -> bool:
        rows = viewer.model.rows
        return bool(rows) and rows[0].key.startswith("test/") and not viewer.model.missing_predictions()

    qtbot.waitUntil(test_page_ready, timeout=60_000)
    draft_editor = window.open_image(viewer.model.rows[0].row)
    qtbot.waitUntil(lambda: draft_editor.document is not None, timeout=60_000)  # the model predicts it there
    doc = draft_editor.document
    assert doc.draft and doc.draft_run == run.id and doc.mask.shape == (112, 160) and doc.prob is not None
    assert np.array_equal(doc.mask, doc.original) and run.id in draft_editor.status_row.note.text()
    draft_editor.close()
    viewer.set_box.setCurrentIndex(viewer.set_box.findData("train"))

    # export PNG masks of the test set
    out = tmp_path / "masks"
    panel = window.export_panel
    window.tabs.setCurrentWidget(panel)
    panel.folder.setText(str(out))
    assert wait_job(qtbot, window, "export", panel.export_button.click) == "succeeded"
    tests = sorted(p.stem for p in (sample / "test").iterdir())
    written = sorted(out.glob("*.png"))  # beside them: the export manifest
    assert [p.name for p in written] == [f"{t}.png" for t in tests]
    for p in written:
        mask = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        assert mask.shape == (112, 160)
        assert set(np.unique(mask)) <= {0, 255}
    assert panel.open_button.isVisible() and "Wrote 2 masks" in panel.summary.text()

    # again: the user is asked before replacing; "no" starts nothing
    window.ask = lambda *_: False
    assert panel.start() is True  # the folder is listed off the GUI thread, then the question comes
    qtbot.waitUntil(lambda: panel.summary.text() == "Not exported: the existing files were kept.")
    assert not window.controller.runner.busy

    # GIF masks of the train set, and the RLE CSV: the PNG export's manifest.csv would be replaced, so asked
    asked: list[str] = []
    window.ask = lambda _title, question: asked.append(question) or True
    panel.set_box.setCurrentIndex(panel.set_box.findData("train"))
    panel.format_box.setCurrentIndex(panel.format_box.findData("gif"))
    assert wait_job(qtbot, window, "export", panel.export_button.click) == "succeeded"
    assert len(asked) == 1 and "1 file(s)" in asked[0] and "manifest.csv" in asked[0]
    gifs = sorted(p.name for p in out.glob("*_mask.gif"))
    assert len(gifs) == 20 and gifs[0].endswith("_01_mask.gif")
    panel.set_box.setCurrentIndex(panel.set_box.findData("test"))
    panel.format_box.setCurrentIndex(panel.format_box.findData("rle"))
    assert wait_job(qtbot, window, "export", panel.export_button.click) == "succeeded"
    lines = (out / "submission.csv").read_text().splitlines()
    assert lines[0] == "img,rle_mask" and len(lines) == 3
    assert sorted(line.split(",")[0] for line in lines[1:]) == [f"{t}.jpg" for t in tests]
    assert not list(out.glob(".*.tmp"))


def test_screenshot_renders_the_window(qtbot, sample: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``--screenshot`` preprocesses a fresh dataset, shows its first page, writes a 1280x800 PNG."""
    import sys

    from carseg_gui.qt.app import main

    png = tmp_path / "shot.png"
    hook = sys.excepthook
    try:
        assert main([str(sample), "--screenshot", str(png), "--tab", "viewer"]) == 0
    finally:
        sys.excepthook = hook
    image = cv2.imread(str(png))
    assert image.shape[:2] == (800, 1280)
    assert (cache_folder(sample / ".carseg", 128) / "index.json").exists()
