"""Viewer paging without widgets (carseg_gui.session.viewer), then through the viewer panel."""

from __future__ import annotations

import random

from carseg_gui.session.viewer import Paging


def test_random_is_a_sequential_run_from_any_start_not_a_page() -> None:
    paging = Paging(size=50, total=288)
    rng = random.Random(3)
    starts = set()
    for _ in range(200):
        start = paging.random(rng)
        assert 0 <= start <= 288 - 50 and start != paging.start  # a whole run of 50, somewhere else
        paging.start = start
        assert paging.stop - paging.start == 50
        starts.add(start)
    assert any(s % 50 for s in starts) and len(starts) > 100  # not page-aligned, not two pages in turn
    paging.start = 136
    assert paging.label() == "Images 137–186 of 288"
    assert paging.next() == 186 and paging.previous() == 86 and paging.page == 2
    assert Paging(size=50, total=30).random(rng) == 0  # fewer than a page: the only run there is


def test_pages_first_last_and_going_to_an_image() -> None:
    paging = Paging(size=50, total=288)
    assert paging.pages == 6 and paging.last() == 250 and paging.page_start(99) == 250
    paging.start = paging.last()
    assert paging.at_last and paging.label() == "Images 251–288 of 288" and paging.next() == 250
    paging.start = 136
    assert paging.holding(150) == 136  # on screen: stay
    assert paging.holding(10) == 0 and paging.holding(287) == 250  # else its page
    paging.set_total(100)  # a filter left fewer images
    assert paging.start == 50 and Paging(total=0).label() == "No images"


def test_viewer_goes_to_the_first_images_on_a_new_order_or_filter(qtbot, window, sample) -> None:  # type: ignore[no-untyped-def]
    from tests.qt.qt_helpers import open_dataset, set_training, wait_job

    viewer = window.viewer_panel
    viewer.page_size = 8  # 20 labelled images: pages of 8, 8, 4
    assert open_dataset(qtbot, window, sample) == "succeeded"
    set_training(window, size=32)
    assert wait_job(qtbot, window, "preprocess", lambda: window.controller.preprocess()) == "succeeded"
    qtbot.waitUntil(lambda: viewer.model.rowCount() == 8)
    for change in (
        lambda: viewer.order_box.setCurrentIndex(viewer.order_box.findData("worst")),
        lambda: viewer.show_box.setCurrentIndex(viewer.show_box.findData("unreviewed")),
        lambda: viewer.order_box.setCurrentIndex(viewer.order_box.findData("dataset")),
    ):
        viewer.show_page(2)
        assert viewer.model.rows[0].number == 17
        change()
        assert viewer.page == 0 and viewer.model.rows[0].number == 1  # the new list from its start
        if viewer.order_box.currentData() == "worst":  # no run: the order it says is not the one shown
            assert "in dataset order (Worst Dice first needs a run)" in viewer.info.text()
    # Random: a run of 8 sequential images from any start, and the label says which.
    starts = set()
    for _ in range(60):
        viewer.random_page()
        start = viewer.paging.start
        starts.add(start)
        assert [r.number for r in viewer.model.rows] == list(range(start + 1, start + 9))
        assert viewer.info.text().startswith(f"Images {start + 1}–{start + 8} of 20 at 32×32")
        if start % 8:
            break
    assert any(s % 8 for s in starts)
    assert viewer.page_spin.value() == viewer.paging.start // 8 + 1
