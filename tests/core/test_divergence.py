"""A diverging loss stops the run, marks it failed with what to change, and leaves strict JSON behind."""

import json
from pathlib import Path
from typing import Any

import pytest

from carseg_gui.core.preprocess import preprocess
from carseg_gui.core.training import TrainConfig, train
from tests.datasets import make_carvana


def strict_json(path: Path) -> Any:
    def refuse(word: str) -> None:
        raise ValueError(f"{path.name} holds {word}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.mark.slow
def test_learning_rate_1e30_fails_the_run_with_a_sentence(tmp_path: Path) -> None:
    root = make_carvana(tmp_path / "data", cars=3, views=4, test=0)
    project = tmp_path / "project"
    cache = preprocess(root, project, size=32)
    config = TrainConfig(epochs=3, size=32, filters=4, batch_size=4, val_split=0.25, learning_rate=1e30)
    run = train(root, project, config, cache=cache)
    assert run.status == "failed"
    status = strict_json(run.folder / "status.json")
    assert "diverged" in status["error"] and "--learning-rate" in status["error"] and "1e+30" in status["error"]
    assert not run.has_model  # no epoch had a finite validation loss
    history = strict_json(run.folder / "history.json")
    assert len(history) == 1 and history[0]["loss"] is None  # stopped in the first epoch, NaN written as null
    metrics = strict_json(run.folder / "metrics.json")
    assert metrics["epochs_run"] == 1 and "best_epoch" not in metrics
