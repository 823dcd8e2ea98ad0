"""The multi-worker loop under a float16 policy scales its loss, as model.fit does (run here on CPU)."""

from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.distributed import custom_fit, make_optimizer
from carseg_gui.core.preprocess import preprocess
from carseg_gui.core.training import make_batches
from tests.datasets import make_carvana


def test_float16_gets_a_loss_scale_optimizer() -> None:
    import keras

    assert isinstance(make_optimizer(1e-3, "mixed_float16"), keras.optimizers.LossScaleOptimizer)
    for policy in ("float32", "mixed_bfloat16"):
        assert not isinstance(make_optimizer(1e-3, policy), keras.optimizers.LossScaleOptimizer)


@pytest.mark.slow
def test_the_custom_loop_trains_a_float16_model_with_scaled_loss(tmp_path: Path) -> None:
    import keras

    from carseg_gui.core.tf_runtime import load
    from carseg_gui.core.unet import build_unet

    tf = load()
    data = make_carvana(tmp_path / "data", cars=2, views=2, test=0)
    cache = preprocess(data, tmp_path / "project", size=32)
    rows = cache.labelled_rows()
    model = build_unet(32, 4, "mixed_float16", False, False, 3)
    assert model.layers[1].compute_dtype == "float16"
    before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    optimizer = make_optimizer(1e-3, "mixed_float16")
    seen: list[float] = []

    class Losses(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):  # type: ignore[no-untyped-def]
            seen.append(float(logs["loss"]))

    train_ds = make_batches(cache, rows, 4, shuffle=True, seed=0, repeat=True)
    model.stop_training = False  # set by compile in training; the loop reads it after each epoch
    custom_fit(tf.distribute.get_strategy(), model, optimizer, train_ds, None, 1, 0, 1, [Losses()], lambda: False)
    after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    assert len(seen) == 1 and np.isfinite(seen[0]) and float(keras.ops.convert_to_numpy(optimizer.dynamic_scale)) > 1
    # Adam's first step moves a weight by about the learning rate whatever its gradient's size, unless the
    # gradient is tiny next to Adam's epsilon: what the loss scale's unscaling would make of unscaled
    # float16 gradients (32768 times too small). So the step size shows that scale and unscale pair up.
    steps = np.concatenate([np.abs(a - b).ravel() for a, b in zip(after, before, strict=True)])
    assert np.isfinite(steps).all()
    assert 0.5e-3 < float(np.median(steps[steps > 0])) < 1.5e-3
