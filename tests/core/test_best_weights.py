"""The run keeps its best epoch: model.keras re-evaluated gives that epoch's val_loss; early stopping is
the recipe's (patience 2 on val_loss, best weights restored)."""

import json
from pathlib import Path

import pytest

from carseg_gui.core.jobs import CancelToken
from carseg_gui.core.presets import make_config
from carseg_gui.core.train_callbacks import _callbacks
from carseg_gui.core.training import TrainConfig, make_batches, train
from tests.datasets import make_carvana


def test_early_stopping_is_patience_2_on_val_loss_restoring_the_best(tmp_path: Path) -> None:
    import keras

    config = make_config("recipe")
    assert config.patience == 2
    callbacks = _callbacks(tmp_path, 50, 10, "val_loss", config.patience, lambda p: None, CancelToken())
    (stop,) = [c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)]
    assert stop.monitor == "val_loss" and stop.patience == 2 and stop.restore_best_weights


@pytest.mark.slow
def test_model_keras_is_the_best_epoch_not_the_last(tmp_path: Path) -> None:
    from carseg_gui.core.unet import compile_unet, load_model

    data = make_carvana(tmp_path / "data", cars=4, views=3, test=0)
    project = tmp_path / "project"
    # A rate high enough that validation loss goes up again within a few epochs: early stopping ends it.
    # (measured: val_loss 1.33, 0.65, 0.60, 0.587, 0.5868, 0.590, 0.592: best epoch 5, stopped after 7).
    config = TrainConfig(epochs=8, size=32, filters=4, batch_size=4, val_split=0.25, learning_rate=0.1,
                         precision="off")  # fmt: skip
    run = train(data, project, config)
    history = json.loads((run.folder / "history.json").read_text())
    best = run.metrics["best_epoch"]
    val = [h["val_loss"] for h in history]
    assert best == 1 + val.index(min(val))
    assert len(history) < config.epochs and len(history) == best + config.patience, val  # stopped 2 epochs later
    from carseg_gui.core.cache import open_cache

    cache = open_cache(project, 32)
    assert cache is not None
    keys = set(run.config["val_keys"])
    rows = [i for i, r in enumerate(cache.rows) if r["key"] in keys]
    model = compile_unet(load_model(run.model_path), 1e-3, False, loss="bce")
    score = model.evaluate(make_batches(cache, rows, 4, False, 0), return_dict=True, verbose=0)
    assert score["loss"] == pytest.approx(val[best - 1], rel=1e-4)
    assert score["loss"] != pytest.approx(val[-1], rel=1e-3)
