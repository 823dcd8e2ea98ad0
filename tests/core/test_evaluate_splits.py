"""evaluate reports the run's training, validation and never-seen images apart (the headline is all)."""

from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.evaluate import evaluate
from carseg_gui.core.preprocess import preprocess
from carseg_gui.core.project import RunInfo
from tests.datasets import BlobModel, make_carvana


def test_scores_per_split(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "data", cars=3, views=2, test=0)
    cache = preprocess(data, tmp_path / "project", size=32)
    keys = [r["key"] for r in cache.rows]
    config = {"size": 32, "train_keys": keys[:3], "val_keys": keys[3:5]}  # keys[5]: an image added later
    result = evaluate(cache, RunInfo("r1", tmp_path / "r1", "finished", config, {}), BlobModel())
    splits = result["splits"]
    assert {k: v["images"] for k, v in splits.items()} == {"train": 3, "validation": 2, "other": 1}
    per = {p["key"]: p for p in result["per_image"]}
    for name, chosen in (("train", keys[:3]), ("validation", keys[3:5]), ("other", keys[5:])):
        assert splits[name]["dice_full"] == pytest.approx(np.mean([per[k]["dice_full"] for k in chosen]), abs=1e-5)
    assert result["images"] == 6  # the headline stays over all labelled images


def test_a_split_with_no_images_has_no_score(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "data", cars=1, views=2, test=0)
    cache = preprocess(data, tmp_path / "project", size=32)
    result = evaluate(cache, RunInfo("r1", tmp_path / "r1", "finished", {"size": 32}, {}), BlobModel())
    assert result["splits"]["train"] == {"images": 0, "dice_128": None, "iou_128": None, "dice_full": None,
                                         "iou_full": None}  # fmt: skip
    assert result["splits"]["other"]["images"] == 2
