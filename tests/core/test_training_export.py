"""Training, cancel, prediction and export on a tiny dataset (size 32, a few filters: seconds)."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from carseg_gui.core.export import export_masks, mask_name
from carseg_gui.core.jobs import CancelToken, InputError, Progress
from carseg_gui.core.rle import rle_decode
from carseg_gui.core.training import TrainConfig
from carseg_gui.session.actions import find_run, load_run_model, prepare
from carseg_gui.session.actions import train as _train
from carseg_gui.session.annotate import export as predict_to_folder
from carseg_gui.session.store import StateStore


def run_training(*args, **kwargs):  # type: ignore[no-untyped-def]
    return _train(*args, **kwargs).run


TINY = dict(epochs=2, size=32, filters=4, batch_size=4, val_split=0.25)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    from tests.datasets import make_carvana

    root = make_carvana(tmp_path_factory.mktemp("d") / "data")
    project = root.parent / "project"
    events: list[Progress] = []
    run = run_training(root, project, TrainConfig(**TINY), progress=events.append)
    return root, project, run, events


@pytest.mark.slow
def test_run_folder_records_everything(trained) -> None:
    _root, project, run, events = trained
    assert run.status == "finished"
    for name in ("model.keras", "config.json", "history.json", "metrics.json", "status.json"):
        assert (run.folder / name).exists(), name
    cfg = run.config
    assert cfg["epochs"] == 2 and cfg["size"] == 32 and cfg["dataset_fingerprint"]
    train_cars = {k.split("/")[1].split("_")[0] for k in cfg["train_keys"]}
    val_cars = {k.split("/")[1].split("_")[0] for k in cfg["val_keys"]}
    assert val_cars and train_cars.isdisjoint(val_cars)
    assert {"val_dice", "val_iou", "val_accuracy", "best_epoch"} <= set(run.metrics)
    assert StateStore(project).active_run() == run.id
    stages = {e.stage for e in events}
    assert {"preprocess", "batch", "epoch"} <= stages
    epochs = [e for e in events if e.stage == "epoch"]
    assert [e.done for e in epochs] == [1, 2] and epochs[-1].total == 2


@pytest.mark.slow
def test_cancel_mid_training_keeps_a_loadable_best_model(carvana: Path, tmp_path: Path) -> None:
    token = CancelToken()

    def progress(p: Progress) -> None:
        if p.stage == "batch" and p.info["epoch"] == 2 and p.done == 1:
            token.cancel()

    run = run_training(carvana, tmp_path / "p", TrainConfig(**{**TINY, "epochs": 5}), progress, token)
    assert run.status == "cancelled"
    assert run.metrics["epochs_run"] == 1
    model = load_run_model(run)
    assert model.predict_on_batch(np.zeros((1, 32, 32, 3), np.uint8)).shape == (1, 32, 32, 1)


@pytest.mark.slow
def test_export_png_names_sizes_pixels_and_overwrite(trained, tmp_path: Path) -> None:
    root, project, _run, _ = trained
    out = tmp_path / "out"
    summary = predict_to_folder(root, project, out, which="test", rle=tmp_path / "sub.csv")
    tests = sorted((root / "test").iterdir())
    assert sorted(p.name for p in summary.written) == [t.stem + ".png" for t in tests]
    for t in tests:
        m = cv2.imread(str(out / f"{t.stem}.png"), cv2.IMREAD_UNCHANGED)
        assert m.shape == (96, 144) and set(np.unique(m)) <= {0, 255}
    lines = (tmp_path / "sub.csv").read_text().splitlines()
    assert lines[0] == "img,rle_mask" and len(lines) == 1 + len(tests)
    name, code = lines[1].split(",")
    png = cv2.imread(str(out / f"{Path(name).stem}.png"), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(rle_decode(code, (96, 144)), (png > 0).astype(np.uint8))

    with pytest.raises(InputError, match="--overwrite"):
        predict_to_folder(root, project, out, which="test")
    again = predict_to_folder(root, project, out, which="test", overwrite=True)
    assert len(again.written) == len(tests)


@pytest.mark.slow
def test_export_gif_all_set(trained, tmp_path: Path) -> None:
    root, project, run, _ = trained
    cache = prepare(root, project, 32)
    model = load_run_model(find_run(project, run.id))
    summary = export_masks(cache, run, model, tmp_path / "g", which="all", fmt="gif", threshold=0.3)
    assert len(summary.written) == 14
    assert mask_name("a_01.jpg", "gif") == "a_01_mask.gif"
    from PIL import Image

    with Image.open(summary.written[0]) as im:
        assert im.mode == "P" and im.size == (144, 96)
        assert set(np.unique(np.asarray(im))) <= {0, 1}


def test_no_run_is_a_clear_error(carvana: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no trained run"):
        predict_to_folder(carvana, tmp_path / "p", tmp_path / "o")


@pytest.mark.slow
def test_rle_only_export_writes_one_csv_and_no_masks(trained, tmp_path: Path) -> None:
    root, project, _run, _ = trained
    csv = tmp_path / "sub" / "submission.csv"
    summary = predict_to_folder(root, project, tmp_path / "sub", which="test", fmt=None, rle=csv)
    assert summary.written == [] and summary.rle == csv
    assert sorted(p.name for p in csv.parent.iterdir() if p.name != "manifest.csv") == ["submission.csv"]  # no temp
    lines = csv.read_text().splitlines()
    assert lines[0] == "img,rle_mask" and len(lines) == 3
    with pytest.raises(InputError, match="--overwrite"):
        predict_to_folder(root, project, tmp_path / "sub", which="test", fmt=None, rle=csv)
