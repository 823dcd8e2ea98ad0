"""The whole loop through the session layer alone (no Qt): open -> preprocess -> train -> review -> correct
-> retrain -> annotate an image without a mask -> export, each step checked on disk and in numbers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.config import TrainConfig
from carseg_gui.core.corrections import correction_path, save_correction
from carseg_gui.core.imageio import read_mask
from carseg_gui.core.jobs import InputError
from carseg_gui.core.sample import generate_sample
from carseg_gui.session import actions, annotate
from carseg_gui.session.model import Session
from carseg_gui.session.store import StateStore

TINY = dict(epochs=1, size=32, filters=4, batch_size=8, val_split=0.25)


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One sample project trained once, then corrected, annotated and retrained: the steps' results."""
    root = tmp_path_factory.mktemp("s") / "sample"
    generate_sample(root, count=32, test_count=6, width=192, height=128)
    out: dict = {"root": root}
    snap = actions.open_project(root)
    session = Session()
    session.set_snapshot(snap)
    out["session"], project = session, snap.project
    out["cache"] = actions.prepare(root, project, 32)
    first = actions.train(root, project, TrainConfig(**TINY))
    out["first"] = first
    session.reload_runs()
    out["review"] = actions.review(root, project, first.run.id)
    # Correct the worst labelled image: the whole image is car.
    worst = min(out["review"][1], key=out["review"][1].get)
    h, w = read_mask(next(r for r in out["cache"].rows if r["key"] == worst)["mask"]).shape[:2]
    save_correction(project, worst, np.ones((h, w), np.uint8))
    actions.set_status(project, worst, "corrected")
    out["worst"] = worst
    # Annotate an image without a mask: approve its draft (the run's prediction becomes its mask).
    test_key = next(r["key"] for r in out["cache"].rows if not r["labelled"])
    out["test_key"] = test_key
    out["approved"] = annotate.set_status(root, project, test_key, "approved")
    out["second"] = actions.train(
        root, project, TrainConfig(**TINY, init_from=str(first.run.folder)), previous=first.run.id
    )
    return out


@pytest.mark.slow
def test_training_makes_the_finished_run_active_and_records_the_split(loop: dict) -> None:
    first, session = loop["first"], loop["session"]
    project = session.project
    assert first.activated and first.run.has_model and session.active_run == first.run.id
    split = StateStore(project).split()
    assert split is not None and split["chosen_by_run"] == first.run.id and split["val_groups"]
    assert session.why_not("export") is None and session.why_not("train") is None


@pytest.mark.slow
def test_the_validation_cars_stay_put_and_new_labels_train(loop: dict) -> None:
    first, second = loop["first"].run, loop["second"].run
    assert second.config["val_keys"] == first.config["val_keys"]  # the same cars, round after round
    assert loop["test_key"] in second.config["train_keys"]  # the approved draft is trained on
    assert loop["test_key"] not in first.config["train_keys"] + first.config["val_keys"]


@pytest.mark.slow
def test_the_comparison_uses_only_images_neither_run_trained_on(loop: dict) -> None:
    first, second = loop["first"].run, loop["second"]
    c = second.comparison
    assert c is not None and c["before_run"] == first.id and c["size"] == 32
    unseen = set(second.run.config["val_keys"]) - set(first.config["train_keys"])
    assert c["images"] == len(unseen) > 0
    assert 0 <= c["dice_before"] <= 1 and 0 <= c["dice_after"] <= 1


@pytest.mark.slow
def test_approving_a_draft_writes_the_prediction_as_its_mask(loop: dict) -> None:
    project, key = loop["session"].project, loop["test_key"]
    assert loop["approved"][0] == key and "prediction of run" in loop["approved"][1]
    path = correction_path(project, key)
    mask = read_mask(path)
    row = next(r for r in loop["cache"].rows if r["key"] == key)
    assert mask.shape[:2] == tuple(row["orig"][:2])  # at the image's original size
    assert StateStore(project).status(key) == "approved"
    assert "accepted the prediction" in StateStore(project).history(key)[-1]["note"]
    cache = actions.prepare(loop["root"], project, 32)
    counts = annotate.counts(cache, project)
    assert counts.by_you == 2 and counts.unlabelled == 5 and "(2 by you)" in counts.words()


@pytest.mark.slow
def test_export_writes_the_human_mask_and_a_manifest(loop: dict, tmp_path: Path) -> None:
    root, project, key = loop["root"], loop["session"].project, loop["test_key"]
    summary = annotate.export(root, project, tmp_path / "out", which="test")
    rows = list(csv.DictReader((tmp_path / "out" / "manifest.csv").open()))
    assert len(rows) == len(summary.written) == 6
    by_key = {r["key"]: r for r in rows}
    assert by_key[key]["source"] == "approved" and by_key[key]["run"] == loop["second"].run.id
    assert {r["source"] for k, r in by_key.items() if k != key} == {"predicted"}
    written = read_mask(tmp_path / "out" / by_key[key]["file"]) > 0
    assert np.array_equal(written, read_mask(correction_path(project, key)) > 0)  # the person's mask, exactly
    raw = annotate.export(root, project, tmp_path / "raw", which="test", predictions_only=True)
    assert len(raw.written) == 6
    sources = {r["source"] for r in csv.DictReader((tmp_path / "raw" / "manifest.csv").open())}
    assert sources == {"predicted"}


@pytest.mark.slow
def test_the_queue_lists_every_unlabelled_image_least_confident_first(loop: dict) -> None:
    root, project = loop["root"], loop["session"].project
    q = annotate.queue(root, project, "unlabelled", "confidence")
    scores = [item["score"] for item in q["items"]]
    assert len(q["items"]) == 5  # the approved one left the set
    # least confident first, one view per car at a time: the first views of the cars, then the rest
    cars = [k.split("_")[0] for k in (item["key"].split("/")[-1] for item in q["items"])]
    firsts = [i for i, car in enumerate(cars) if car not in cars[:i]]
    assert firsts == list(range(len(firsts))) and scores[: len(firsts)] == sorted(scores[: len(firsts)])
    assert q["run"] == loop["second"].run.id and all(0 <= s <= 1 for s in scores)
    cached = json.loads((loop["second"].run.folder / "confidence.json").read_text())
    assert set(cached["scores"]) >= {i["key"] for i in q["items"]}
    labelled = annotate.queue(root, project, "labelled", "dice")
    dice = [i["score"] for i in labelled["items"]]
    assert dice == sorted(dice) and labelled["score"] == "dice_32"


@pytest.mark.slow
def test_a_queue_whose_scores_are_cached_loads_no_model(loop: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    root, project = loop["root"], loop["session"].project
    first = {which: annotate.queue(root, project, which, order) for which, order in (("unlabelled", "confidence"),
                                                                                     ("labelled", "dice"))}  # fmt: skip
    loads: list[str] = []
    real = annotate.load_run_model
    monkeypatch.setattr(annotate, "load_run_model", lambda run, *a: loads.append(run.id) or real(run, *a))
    again = {which: annotate.queue(root, project, which, order) for which, order in (("unlabelled", "confidence"),
                                                                                     ("labelled", "dice"))}  # fmt: skip
    assert again == first and loads == []  # both read the run's score files: no model, no TensorFlow


def test_approving_without_a_run_is_refused_with_the_reason(tmp_path: Path) -> None:
    root = tmp_path / "sample"
    generate_sample(root, count=16, test_count=2, width=96, height=64)
    project = actions.open_project(root).project
    key = next(p for p in (root / "test").iterdir()).name
    with pytest.raises(InputError, match="no trained run"):
        annotate.set_status(root, project, key, "approved")
    with pytest.raises(InputError, match="no image"):
        annotate.set_status(root, project, "nope.jpg", "excluded")
    assert StateStore(project).statuses() == {}  # nothing half-recorded


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["coco", "yolo", "cutout"])
def test_every_export_format_holds_the_mask_that_was_decided(loop: dict, tmp_path: Path, fmt: str) -> None:
    """Each format decoded back equals the PNG mask the same export writes (COCO exactly, YOLO at IoU >= 0.98,
    the cut-out's alpha exactly without feather), and the approved image carries the person's mask."""
    from carseg_gui.core.formats import read_coco_masks, read_yolo

    root, project, key = loop["root"], loop["session"].project, loop["test_key"]
    annotate.export(root, project, tmp_path / "png", which="test")
    summary = annotate.export(root, project, tmp_path / fmt, which="test", fmt=fmt)
    assert summary.renamed == []  # no two images share a name here (COCO said all of them did)
    manifest = {r["key"]: r for r in csv.DictReader((tmp_path / fmt / "manifest.csv").open())}
    png = {r["key"]: r for r in csv.DictReader((tmp_path / "png" / "manifest.csv").open())}
    assert manifest[key]["source"] == "approved" and len(manifest) == 6
    coco = read_coco_masks(tmp_path / "coco" / "annotations.json") if fmt == "coco" else {}
    for k, row in png.items():
        expected = read_mask(tmp_path / "png" / row["file"]) > 0
        if fmt == "coco":
            got = coco[manifest[k]["file"]] > 0
            assert np.array_equal(got, expected), k
        elif fmt == "yolo":
            got = read_yolo(tmp_path / "yolo" / manifest[k]["file"], expected.shape) > 0
            iou = (got & expected).sum() / max(1, (got | expected).sum())
            assert iou >= 0.98, (k, iou)
        else:
            from PIL import Image

            rgba = np.asarray(Image.open(tmp_path / "cutout" / manifest[k]["file"]))
            assert rgba.shape[2] == 4 and np.array_equal(rgba[..., 3] > 127, expected), k


@pytest.mark.slow
def test_a_guided_run_exports_and_evaluates_with_the_photo_guided_upsampling(loop: dict, tmp_path: Path) -> None:
    """``upsample: guided`` in a run's config is what export and evaluation then use (that it changes only a
    band around the outline is tests/core/test_upsample.py's)."""
    from carseg_gui.core.imageio import read_json

    root, project = loop["root"], loop["session"].project
    run = loop["second"].run
    guided_run = project / "runs" / f"{run.id}-guided"
    import shutil

    shutil.copytree(run.folder, guided_run)
    config = read_json(guided_run / "config.json")
    (guided_run / "config.json").write_text(json.dumps({**config, "upsample": "guided"}))
    (guided_run / "confidence.json").unlink(missing_ok=True)
    plain = annotate.export(root, project, tmp_path / "b", run=run.id, which="test", predictions_only=True)
    guided = annotate.export(root, project, tmp_path / "g", run=guided_run.name, which="test", predictions_only=True)
    differ = [(read_mask(a) > 0) != (read_mask(b) > 0) for a, b in zip(plain.written, guided.written, strict=True)]
    assert any(d.any() for d in differ)  # the run's setting reached the export
    result = actions.evaluate(root, project, run=guided_run.name)
    assert 0 <= result["dice_full"] <= 1


def test_opening_counts_the_masks_people_made(tmp_path: Path) -> None:
    """The open snapshot's counts include the decisions: an approved draft is a labelled image "by you"."""
    from carseg_gui.session.store import StateStore

    root = tmp_path / "sample"
    generate_sample(root, count=16, test_count=2, width=96, height=64)
    snap = actions.open_project(root)
    assert snap.counts is not None and (snap.counts.labelled, snap.counts.by_you, snap.counts.unlabelled) == (16, 0, 2)
    key = f"test/{sorted(p.name for p in (root / 'test').iterdir())[0]}"
    save_correction(snap.project, key, np.ones((64, 96), np.uint8))
    StateStore(snap.project).set_status(key, "approved")
    again = actions.open_project(root)
    assert again.counts is not None and again.counts.words() == "17 labelled (1 by you), 1 without a mask"


@pytest.mark.slow
def test_carseg_review_prints_the_same_queue_in_words(loop: dict, capsys: pytest.CaptureFixture[str]) -> None:
    from carseg_gui.cli import main

    root, project = loop["root"], loop["session"].project
    q = annotate.queue(root, project, "unlabelled", "confidence")
    assert main(["review", str(root), "--project", str(project), "--set", "unlabelled", "--limit", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith(f"{len(q['items'])} unlabelled images, run {q['run']}, least confident first")
    assert "expected Dice" in lines[0] and len(lines) == 3
    first = q["items"][0]
    assert lines[1] == f"  {first['score']:.4f}  {first['key']}  (unreviewed; no mask: the prediction)"
