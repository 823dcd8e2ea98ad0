"""The mask editor's model without Qt: loading arrays, drafts, the save rules, the loader and saver threads."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from carseg_gui.core.corrections import correction_path, save_correction
from carseg_gui.core.imageio import read_mask
from carseg_gui.core.postprocess import PostProcess
from carseg_gui.core.predict import to_original_size
from carseg_gui.session import editor as se
from carseg_gui.session.editor import DraftSource, EditorItem, Revisions, keeps_file, load_arrays, status_after_save
from carseg_gui.session.editor_workers import Loader, Saved, SaveJob, Saver
from carseg_gui.session.store import StateStore
from tests.datasets import car_pair


def photo(folder: Path, name: str = "a.png", h: int = 120, w: int = 160) -> tuple[Path, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    img, mask = car_pair(h, w, seed=1)
    cv2.imwrite(str(folder / name), img)
    return folder / name, mask


class FakeModel:
    """A "run" that sees a square in the middle of every 32x32 image."""

    def predict_on_batch(self, batch: np.ndarray) -> np.ndarray:
        out = np.zeros((len(batch), 32, 32, 1), np.float32)
        out[:, 8:24, 6:26] = 0.9
        return out


def fake_cache(image: Path, h: int, w: int) -> SimpleNamespace:
    return SimpleNamespace(
        rows=[{"key": "test/a.png", "orig": [h, w], "image": str(image)}],
        read_images=lambda rows: np.zeros((len(rows), 32, 32, 3), np.uint8),
    )


def test_load_arrays_of_a_labelled_image(tmp_path: Path) -> None:
    image, mask = photo(tmp_path / "data")
    cv2.imwrite(str(tmp_path / "data" / "a_mask.png"), mask * 255)
    prob = mask.astype(np.float32) * 0.8
    item = EditorItem("train/a.png", image, tmp_path / "data" / "a_mask.png", lambda: prob)
    loaded = load_arrays(tmp_path / "project", item, 0.5)
    assert loaded.error is None and loaded.rgb.shape == (120, 160, 3)
    assert np.array_equal(loaded.mask, mask) and np.array_equal(loaded.original, mask)
    assert np.array_equal(loaded.pred, (prob > 0.5).astype(np.uint8)) and loaded.status == "unreviewed"
    assert not loaded.draft and loaded.note == ""


def test_a_failing_prediction_leaves_the_image_editable(tmp_path: Path) -> None:
    image, mask = photo(tmp_path / "data")
    cv2.imwrite(str(tmp_path / "data" / "a_mask.png"), mask * 255)

    def gone() -> np.ndarray:
        raise OSError("the cache was rebuilt")

    loaded = load_arrays(tmp_path / "project", EditorItem("train/a.png", image, tmp_path / "data" / "a_mask.png", gone))
    assert loaded.error is None and np.array_equal(loaded.mask, mask) and loaded.prob is None
    assert loaded.problems == ["the prediction cannot be shown (the cache was rebuilt)"]


def test_an_unreadable_photo_is_an_error_not_an_exception(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    loaded = load_arrays(tmp_path, EditorItem("broken.jpg", broken))
    assert loaded.error is not None and loaded.error.startswith("cannot open broken.jpg") and loaded.mask is None


def test_without_a_run_the_draft_is_empty_and_says_so(tmp_path: Path) -> None:
    image, _ = photo(tmp_path / "data")
    item = EditorItem("test/a.png", image, None, draft=DraftSource(None, None).for_key("test/a.png"))
    loaded = load_arrays(tmp_path / "project", item)
    assert loaded.draft and loaded.draft_run is None and loaded.note == se.NO_RUN_NOTE
    assert loaded.mask.shape == (120, 160) and not loaded.mask.any() and loaded.prob is None


def test_the_draft_is_the_runs_prediction_as_export_writes_it(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    image, _ = photo(tmp_path / "data")
    run = SimpleNamespace(id="run-1", config={"keep_largest": True, "fill_holes": True})
    monkeypatch.setattr(se, "_model_for", lambda run, prepare: FakeModel())
    source = DraftSource(fake_cache(image, 120, 160), run)  # type: ignore[arg-type]
    loaded = load_arrays(
        tmp_path / "project", EditorItem("test/a.png", image, None, draft=source.for_key("test/a.png"))
    )
    small = FakeModel().predict_on_batch(np.zeros((1, 32, 32, 3)))[0, ..., 0]
    expected = to_original_size(small, (120, 160), 0.5, PostProcess.from_config(run.config), image)
    assert loaded.draft and loaded.draft_run == "run-1" and "run-1" in loaded.note
    assert np.array_equal(loaded.original, expected) and np.array_equal(loaded.mask, expected) and expected.any()
    assert loaded.prob is not None and loaded.prob.shape == (120, 160) and loaded.prob.max() == pytest.approx(0.9)


def test_a_failing_model_gives_an_empty_draft_with_the_reason(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    image, _ = photo(tmp_path / "data")

    def broken(run, prepare):  # type: ignore[no-untyped-def]
        raise OSError("model.keras is truncated")

    monkeypatch.setattr(se, "_model_for", broken)
    source = DraftSource(fake_cache(image, 120, 160), SimpleNamespace(id="run-2", config={}))  # type: ignore[arg-type]
    draft = source.draft("test/a.png", (120, 160))
    assert not draft.mask.any() and draft.run_id is None and "model.keras is truncated" in draft.note


def test_revisions_and_the_status_rules() -> None:
    r = Revisions()
    r.bump()
    assert r.dirty and r.unqueued and not r.edited_since_status
    r.bump(edited=True)
    assert r.queue() == (2, True) and not r.unqueued and r.dirty and not r.edited_since_status
    r.written(2)
    assert not r.dirty
    r.bump(edited=True)
    r.queue()
    r.failed(edited=True)
    assert r.unqueued and r.edited_since_status  # tried again at the next flush
    assert status_after_save("approved", False, None) == "corrected"
    assert status_after_save("corrected", True, "approved") == "approved"
    assert not keeps_file(True, False, "approved")  # a labelled image's own mask again: no correction
    assert keeps_file(True, True, "approved")  # an approved draft is the image's mask


def saver(project: Path) -> tuple[Saver, list[Saved]]:
    results: list[Saved] = []
    return Saver(project, results.append), results


def test_saver_writes_in_order_and_follows_the_status(tmp_path: Path) -> None:
    s, results = saver(tmp_path)
    original = np.zeros((40, 50), np.uint8)
    edited = original.copy()
    edited[5:20, 5:30] = 1
    s.submit(SaveJob("k", edited.copy(), original, 1, edited=True))
    s.flush()
    assert np.array_equal(read_mask(correction_path(tmp_path, "k")) > 0, edited > 0)
    assert StateStore(tmp_path).status("k") == "corrected" and results[-1].status == "corrected"
    assert results[-1].wrote and results[-1].revision == 1 and threading.current_thread().name != "editor-saver"
    s.submit(SaveJob("k", original.copy(), original, 2, edited=True))  # undone back to the original
    s.flush()
    assert not correction_path(tmp_path, "k").exists() and StateStore(tmp_path).status("k") == "unreviewed"
    s.close()


def test_the_saver_removes_old_temp_files_of_interrupted_writes(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "corrections"
    folder.mkdir()
    old, fresh = folder / ".k.png.a1b2.tmp", folder / ".j.png.c3d4.tmp"
    for f in (old, fresh):
        f.write_bytes(b"half a png")
    os.utime(old, (time.time() - 3600, time.time() - 3600))  # a write a SIGKILL cut an hour ago
    s, _ = saver(tmp_path)
    s.submit(SaveJob("x", None, None, 0, status="excluded"))
    s.flush()
    assert not old.exists() and fresh.exists()  # a fresh one may be another process's write in progress
    s.close()


def test_a_new_stroke_waits_for_the_file_not_for_the_status(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    s, results = saver(tmp_path)
    slow_status, reading = threading.Event(), threading.Event()
    read = s.store.status

    def status(key: str) -> str:  # state.json of a large project: tens of ms to read
        reading.set()
        slow_status.wait(10)
        return read(key)

    monkeypatch.setattr(s.store, "status", status)
    original = np.zeros((40, 50), np.uint8)
    edited = original.copy()
    edited[5:20, 5:30] = 1
    s.submit(SaveJob("k", edited.copy(), original, 1, edited=True))
    s.wait_for_files()
    assert np.array_equal(read_mask(correction_path(tmp_path, "k")) > 0, edited > 0)  # on disk ...
    assert reading.wait(10) and not results  # ... while the status is still being worked out
    slow_status.set()
    s.flush()
    assert results[-1].status == "corrected" and StateStore(tmp_path).status("k") == "corrected"
    s.close()


def test_approving_an_untouched_draft_writes_it_as_the_mask(tmp_path: Path) -> None:
    s, results = saver(tmp_path)
    draft = np.zeros((40, 50), np.uint8)
    draft[10:30, 10:40] = 1
    s.submit(SaveJob("test/a.png", draft.copy(), None, 0, False, True, "run-1", "approved"))
    s.flush()
    assert np.array_equal(read_mask(correction_path(tmp_path, "test/a.png")) > 0, draft > 0)
    history = StateStore(tmp_path).history("test/a.png")
    assert history[-1]["status"] == "approved" and "run-1" in history[-1].get("note", "")
    assert results[-1].wrote and results[-1].status == "approved"
    # Approving again keeps the file as it is; an empty draft (no run) cannot be approved.
    save_correction(tmp_path, "test/a.png", np.ones((40, 50), np.uint8))
    s.submit(SaveJob("test/a.png", draft.copy(), None, 0, False, True, "run-1", "approved"))
    s.submit(SaveJob("test/b.png", np.zeros((40, 50), np.uint8), None, 0, False, True, None, "approved"))
    s.flush()
    assert (read_mask(correction_path(tmp_path, "test/a.png")) > 0).all()
    assert results[-1].error is not None and "no trained run" in results[-1].error
    assert (
        not correction_path(tmp_path, "test/b.png").exists()
        and StateStore(tmp_path).status("test/b.png") == "unreviewed"
    )
    s.close()


def test_loader_runs_the_newest_wish_current_first() -> None:
    done: list[tuple[str, object]] = []
    finished = threading.Event()
    gate = threading.Event()

    def deliver(key: str, result: object) -> None:
        done.append((key, result))
        if key == "last":
            finished.set()

    started = threading.Event()
    loader = Loader(deliver)
    loader.want(("slow", lambda: started.set() or (gate.wait(10) and "slow")))
    assert started.wait(10)
    loader.want(("a", lambda: "a"), [("b", lambda: "b")])  # the user moved on: a, then b
    loader.want(("c", lambda: 1 / 0), [("last", lambda: "last")])  # and on again, before a started
    gate.set()
    assert finished.wait(10)
    assert [k for k, _ in done] == ["slow", "c", "last"]
    assert isinstance(done[1][1], ZeroDivisionError)  # a task that raised delivers its exception
    loader.close()
    assert loader.idle()


@pytest.mark.slow
def test_the_editors_draft_is_what_carseg_status_approved_writes(tmp_path: Path) -> None:
    """A real tiny run: the draft made in two different threads (two editor sessions, one model load) equals
    the mask ``carseg status KEY approved`` writes for the image (session.annotate.set_status)."""
    from carseg_gui.core.config import TrainConfig
    from carseg_gui.core.sample import generate_sample
    from carseg_gui.session import actions, annotate

    root = tmp_path / "sample"
    generate_sample(root, count=16, test_count=2, width=96, height=64)
    project = actions.open_project(root).project
    cache = actions.prepare(root, project, 32)
    run = actions.train(root, project, TrainConfig(epochs=1, size=32, filters=4, batch_size=8, val_split=0.25)).run
    key = next(r["key"] for r in cache.rows if not r["labelled"])
    image = Path(next(r["image"] for r in cache.rows if r["key"] == key))
    drafts = []
    for _ in range(2):
        source = DraftSource(cache, run)
        thread = threading.Thread(target=lambda s=source: drafts.append(s.draft(key, (64, 96))))
        thread.start()
        thread.join(120)
    annotate.set_status(root, project, key, "approved")
    approved = (read_mask(correction_path(project, key)) > 0).astype(np.uint8)
    assert drafts[0].run_id == run.id and drafts[0].prob is not None and image.exists()
    assert np.array_equal(drafts[0].mask, approved) and np.array_equal(drafts[1].mask, approved)
