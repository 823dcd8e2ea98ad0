"""The viewer's model without Qt: sets by where the mask comes from, orders by score, pages, go-to."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from carseg_gui.core.corrections import save_correction
from carseg_gui.core.dataset import scan
from carseg_gui.session.actions import prepare
from carseg_gui.session.store import StateStore
from carseg_gui.session.viewer import Paging, ViewerModel, confidence_ranking, dice_ranking
from tests.datasets import make_carvana


def _model(tmp_path: Path, test: int = 4) -> tuple[ViewerModel, Path]:
    root = make_carvana(tmp_path / "data", cars=2, views=3, test=test)
    project = tmp_path / "project"
    cache = prepare(root, project, 32)
    view = ViewerModel(Paging(size=4))
    view.open(project, {r.key: r.mask for r in scan(root).records})
    view.refresh(cache, "r1")
    return view, project


def _keys(view: ViewerModel) -> list[str]:
    assert view.cache is not None
    return [view.cache.rows[r]["key"] for r in view.rows()]


def test_least_confident_first_lists_the_images_without_a_mask_by_score(tmp_path: Path) -> None:
    view, _ = _model(tmp_path)
    view.set_which("test")
    keys = _keys(view)
    assert len(keys) == 4 and all(k.startswith("test/") for k in keys)
    scores = {k: s for k, s in zip(keys, (0.9, 0.2, 0.95, 0.5), strict=True)}
    view.set_order("confidence")
    assert view.needs_scores() and view.order_note() == " in dataset order until the queue is scored"
    assert _keys(view) == keys  # no scores yet: dataset order, and it says so
    view.unscored = "Training is running: wait for it to end or press Cancel"  # the job could not start
    assert view.describe(None, False) == (
        "Images 1–4 of 4 at 32×32 in dataset order (Least confident first not scored: Training is running: wait "
        "for it to end or press Cancel) · predictions of run r1"
    )
    view.set_ranking("confidence", confidence_ranking("r1", scores))
    assert _keys(view) == [keys[1], keys[3], keys[0], keys[2]] and view.order_note() == ""
    assert view.score(keys[1]) == "expected Dice 0.200 (confidence)"
    view.set_order("dataset")  # still scored: the rows keep saying it
    assert view.score(keys[1]) == "expected Dice 0.200 (confidence)"
    view.set_order("confidence")
    assert view.source(keys[1]) == "no mask: the run's prediction"
    view.run = "r2"  # another run: its own scores, not r1's
    assert view.needs_scores() and _keys(view) == keys and view.score(keys[1]) == ""
    view.run = "r1"
    view.refresh(prepare(tmp_path / "data", tmp_path / "project", 32), "r1")  # the same images: kept
    assert not view.needs_scores()
    (tmp_path / "data" / "test" / Path(keys[0]).name).unlink()  # the dataset changed: scored again
    view.refresh(prepare(tmp_path / "data", tmp_path / "project", 32), "r1")
    assert view.needs_scores() and len(_keys(view)) == 3


def test_an_approved_or_corrected_image_without_a_mask_is_labelled_with_its_badge(tmp_path: Path) -> None:
    view, project = _model(tmp_path)
    view.set_which("test")
    first, second, *_ = _keys(view)
    mask = np.zeros((96, 144), np.uint8)
    mask[10:80, 20:120] = 1
    for key, status in ((first, "approved"), (second, "corrected")):
        save_correction(project, key, mask)
        StateStore(project).set_status(key, status)
    view.refresh(view.cache, "r1")
    assert first not in _keys(view) and second not in _keys(view) and len(_keys(view)) == 2
    view.set_which("train")
    labelled = _keys(view)
    assert first in labelled and second in labelled and len(labelled) == 8
    assert view.source(first).startswith("mask: approved draft") and view.badge(first) == "✓ approved"
    assert view.source(second) == "mask: corrected by you" and view.badge(second) == "✎ corrected"
    assert view.source(labelled[0]) == "mask: the dataset's file"
    # The row's thumbnail is the correction training uses, read by the loader from its file.
    rows = view.rows()
    masks = dict(view.training_masks(rows))
    assert masks[rows[labelled.index(first)]].endswith(".png")


def test_one_decision_from_the_editor_moves_its_row_without_reading_state_json(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    view, project = _model(tmp_path)
    view.set_which("test")
    first, *_ = _keys(view)
    mask = np.zeros((96, 144), np.uint8)
    mask[10:80, 20:120] = 1
    save_correction(project, first, mask)  # what the editor's saver wrote
    StateStore(project).set_status(first, "approved")

    def no_read(self: StateStore) -> None:
        raise AssertionError("state.json read on the window's thread")

    monkeypatch.setattr(StateStore, "read", no_read)
    view.note_decision(first, "approved")
    assert first not in _keys(view) and view.badge(first) == "✓ approved"
    view.set_which("train")
    assert first in _keys(view) and view.source(first).startswith("mask: approved draft")
    # The file goes (the edit was undone back to the draft, then marked unreviewed): predicted again.
    for f in (project / "corrections").rglob("*.png"):
        f.unlink()
    view.note_decision(first, "unreviewed")
    assert first not in _keys(view) and view.badge(first) == ""
    monkeypatch.undo()
    view.refresh(view.cache, "r1")  # and the full read agrees
    assert first not in _keys(view)


def test_a_new_order_or_filter_starts_at_page_one_and_go_to_says_why_not(tmp_path: Path) -> None:
    view, _ = _model(tmp_path)
    assert len(view.rows()) == 6 and view.paging.pages == 2
    view.paging.start = view.paging.last()
    view.set_ranking("worst", dice_ranking("r1", {k: i / 10 for i, k in enumerate(reversed(_keys(view)))}))
    view.set_order("worst")
    assert view.paging.start == 0 and view.page_rows() == view.rows()[:4]
    assert _keys(view)[0].endswith("_03.jpg")  # the lowest Dice first
    view.paging.start = 4
    view.set_show("unreviewed")
    assert view.paging.start == 0
    assert view.go_to("7") == "There is no image number 7: this set has 6 images"
    assert view.go_to("car000") == 3 and view.go_to("nothing") == "No image named like “nothing” in this set"
    view.set_which("test")  # Worst Dice is not an order of the images without a mask
    assert view.order == "dataset"


def test_random_start_is_not_page_aligned() -> None:
    paging = Paging(size=50, total=288)
    rng = random.Random(1)
    assert any(paging.random(rng) % 50 for _ in range(20))
