"""What a user can do to a project that must not break it or make it say something untrue: a kept split
that leaves nothing to train on, a split share that would be ignored, a previous run whose model is gone,
damaged or mis-sized correction files at export, a manifest from an earlier export, stale confidence scores,
a run scored on its own accepted predictions, a damaged state.json, and bad CLI input. Through the session
layer and ``carseg_gui.cli.main`` in-process (no Qt, no subprocess)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from carseg_gui import cli
from carseg_gui.core.config import TrainConfig
from carseg_gui.core.corrections import correction_path
from carseg_gui.core.export import COCO_NAME
from carseg_gui.core.imageio import atomic_write_json, read_mask
from carseg_gui.core.jobs import InputError
from carseg_gui.core.project import list_runs
from carseg_gui.session import actions, annotate
from carseg_gui.session.store import StateStore
from tests.datasets import make_carvana

TINY = dict(epochs=1, size=32, filters=4, batch_size=8, val_split=0.25)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """4 cars x 4 views and 3 test images, trained once at 32 px (a model to predict, not to be good)."""
    root = make_carvana(tmp_path_factory.mktemp("h") / "data", cars=4, views=4, test=3)
    project = root.parent / "project"
    result = actions.train(root, project, TrainConfig(**TINY))
    assert result.activated
    return {"root": root, "project": project, "run": result.run}


def copy_project(trained: dict, tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(trained["project"], project, ignore=shutil.ignore_patterns("*.lock"))
    return project


def test_a_kept_split_that_leaves_nothing_to_train_on_is_refused_before_a_run(tmp_path: Path) -> None:
    root = make_carvana(tmp_path / "data", cars=2, views=2, test=0)
    project = tmp_path / "project"
    StateStore(project).set_split({"val_groups": ["car000abcdef", "car001abcdef"], "chosen_by_run": "r1",
                                   "val_split": 0.25})  # fmt: skip
    with pytest.raises(InputError, match=r"none is left to train on.*new-split"):
        actions.train(root, project, TrainConfig(**TINY))
    assert not (project / "runs").exists() or not list((project / "runs").iterdir())  # no run stuck "running"


def test_a_split_share_the_kept_split_would_ignore_is_refused(tmp_path: Path) -> None:
    root = make_carvana(tmp_path / "data", cars=3, views=2, test=0)
    project = tmp_path / "project"
    StateStore(project).set_split({"val_groups": ["car000abcdef"], "chosen_by_run": "r1", "val_split": 0.25})
    with pytest.raises(InputError, match=r"25% split, so a 50% split would not be used"):
        actions.train(root, project, TrainConfig(**{**TINY, "val_split": 0.5}))
    assert not (project / "runs").exists()


@pytest.mark.slow
def test_a_new_split_without_validation_ends_the_kept_one(trained: dict, tmp_path: Path) -> None:
    project = copy_project(trained, tmp_path)
    assert StateStore(project).split() is not None
    run = actions.train(trained["root"], project, TrainConfig(**{**TINY, "val_split": 0.0}), new_split=True).run
    assert run.status == "finished" and not run.config["val_keys"]
    assert StateStore(project).split() is None  # the next training draws again, as the user asked


@pytest.mark.slow
def test_a_previous_run_whose_model_is_damaged_leaves_the_new_run_standing(trained: dict, tmp_path: Path) -> None:
    project = copy_project(trained, tmp_path)
    old = project / "runs" / "20200101-000000"
    shutil.copytree(trained["run"].folder, old)
    (old / "model.keras").write_bytes((old / "model.keras").read_bytes()[:1000])
    result = actions.train(trained["root"], project, TrainConfig(**TINY), previous=old.name)
    assert result.run.status == "finished" and result.activated and result.comparison is None
    assert StateStore(project).active_run() == result.run.id


def test_export_uses_no_broken_or_mis_sized_correction(trained: dict, tmp_path: Path) -> None:
    root, project = trained["root"], copy_project(trained, tmp_path)
    keys = sorted(r["key"] for r in actions.prepare(root, project, 32).rows if not r["labelled"])
    store = StateStore(project)
    correction_path(project, keys[0]).parent.mkdir(parents=True, exist_ok=True)
    correction_path(project, keys[0]).write_bytes(b"garbage")
    from carseg_gui.core.corrections import save_correction

    save_correction(project, keys[1], np.ones((20, 30), np.uint8))  # the photo is 144x96
    save_correction(project, keys[2], np.ones((96, 144), np.uint8))  # a good one
    for key in keys:
        store.set_status(key, "corrected")
    notices: list[str] = []
    summary = annotate.export(
        root, project, tmp_path / "out", progress=lambda p: notices.append(p.info.get("notice", ""))
    )
    assert summary.by_person == 1 and summary.images == 3
    said = " ".join(notices)
    assert "2 mask(s) by a person could not be used" in said and "size 30x20, the image is 144x96" in said
    rows = {r["key"]: r for r in csv.DictReader((tmp_path / "out" / "manifest.csv").open())}
    assert [rows[k]["source"] for k in keys] == ["predicted", "predicted", "corrected"]
    for key in keys:  # every written mask has the photo's size; the good correction is written exactly
        mask = read_mask(tmp_path / "out" / rows[key]["file"])
        assert mask.shape[:2] == (96, 144)
    assert (read_mask(tmp_path / "out" / rows[keys[2]]["file"]) > 0).all()
    assert len(list((project / "corrections" / "rejected").iterdir())) == 2  # set aside, as training does


def test_an_earlier_manifest_is_not_replaced_without_overwrite(trained: dict, tmp_path: Path) -> None:
    root, project, out = trained["root"], copy_project(trained, tmp_path), tmp_path / "out"
    annotate.export(root, project, out, fmt="coco")
    before = (out / "manifest.csv").read_bytes()
    with pytest.raises(InputError, match=r"manifest\.csv already exists"):
        annotate.export(root, project, out, fmt="png")
    assert (out / "manifest.csv").read_bytes() == before and not list(out.glob("*.png"))
    cache = actions.prepare(root, project, 32)
    assert actions.existing_outputs(cache, out, "test", "coco") == sorted([out / COCO_NAME, out / "manifest.csv"])
    assert actions.existing_outputs(cache, out, "test", "png") == [out / "manifest.csv"]
    annotate.export(root, project, out, fmt="png", overwrite=True)
    assert len(actions.existing_outputs(cache, out, "test", "png")) == 3 + 1


def test_the_manifest_gives_no_confidence_of_another_dataset_version(trained: dict, tmp_path: Path) -> None:
    root, project = trained["root"], copy_project(trained, tmp_path)
    run = actions.find_run(project, "active")
    keys = [r["key"] for r in actions.prepare(root, project, 32).rows if not r["labelled"]]
    stale = {"fingerprint": "another", "method": "expected_dice", "scores": dict.fromkeys(keys, 0.123)}
    atomic_write_json(run.folder / "confidence.json", stale)
    annotate.export(root, project, tmp_path / "out")
    rows = list(csv.DictReader((tmp_path / "out" / "manifest.csv").open()))
    assert rows and {r["confidence"] for r in rows} == {""}


def test_a_run_is_not_scored_on_its_own_accepted_predictions(trained: dict, tmp_path: Path) -> None:
    root, project = trained["root"], copy_project(trained, tmp_path)
    key = sorted(r["key"] for r in actions.prepare(root, project, 32).rows if not r["labelled"])[0]
    annotate.set_status(root, project, key, "approved")  # accepts the active run's prediction
    result = actions.evaluate(root, project)
    assert result["left_out"] == 1 and key not in {p["key"] for p in result["per_image"]}
    assert result["images"] == 16
    assert StateStore(project).accepted_drafts(result["run"]) == {key}
    StateStore(project).set_status(key, "corrected")  # edited since: a person's mask, scored again
    assert StateStore(project).accepted_drafts(result["run"]) == set()


def test_an_excluded_image_leaves_the_unlabelled_queue(trained: dict, tmp_path: Path) -> None:
    root, project = trained["root"], copy_project(trained, tmp_path)
    q = annotate.queue(root, project, "unlabelled", "confidence")
    key = q["items"][0]["key"]
    StateStore(project).set_status(key, "excluded")
    assert key not in {i["key"] for i in annotate.queue(root, project, "unlabelled", "confidence")["items"]}


def test_the_cli_says_when_a_damaged_state_was_set_aside(
    trained: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, project = trained["root"], copy_project(trained, tmp_path)
    (project / "state.json").write_text('{"active_run": "2026')
    key = "car000abcdef_01"
    assert cli.main(["status", str(root), key, "approved", "--project", str(project)]) == 0
    err = capsys.readouterr().err
    assert "carseg: note:" in err and "could not be read" in err and "set aside as state.json.broken-" in err
    assert list(project.glob("state.json.broken-*"))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("preprocess", "--size", "0"), "is not a cache size"),
        (("preprocess", "--size", "17"), "a multiple of 16"),
        (("train", "--quick", "--epochs", "0"), "--epochs"),
    ],
)
def test_bad_cli_input_exits_2_with_one_line(
    trained: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], needle: str
) -> None:
    root, project = trained["root"], copy_project(trained, tmp_path)
    runs = len(list_runs(project))
    assert cli.main([args[0], str(root), "--project", str(project), *args[1:]]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and err.count("\n") == 1
    assert len(list_runs(project)) == runs and not list((project / "cache").glob("s17*"))


def test_an_rle_path_that_is_a_folder_is_refused(trained: dict, tmp_path: Path) -> None:
    root, project = trained["root"], copy_project(trained, tmp_path)
    (tmp_path / "csv").mkdir()
    with pytest.raises(InputError, match="is a folder: the RLE file needs a file name"):
        annotate.export(root, project, tmp_path / "out", rle=tmp_path / "csv", overwrite=True)
    assert not (tmp_path / "out").exists()
    assert json.loads((project / "state.json").read_text())["active_run"] == trained["run"].id
