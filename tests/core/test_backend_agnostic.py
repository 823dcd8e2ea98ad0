"""The U-Net, its losses and metrics are Keras layers and keras.ops only: they train under the default
backend (TensorFlow) from that code, the BatchNorm fallback for other backends computes what the fused
TensorFlow op computes, and a model saved on TensorFlow loads and predicts the same on JAX (when a
Python with JAX is at hand: this one, or the one CARSEG_JAX_PYTHON names)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SIZE = 32
ROOT = Path(__file__).resolve().parents[2]


def _batch(n: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, SIZE, SIZE, 3), dtype=np.uint8)
    # A bright square on a dark background, and its mask: something learnable.
    x[:, 8:24, 8:24] = 255
    y = np.zeros((n, SIZE, SIZE, 1), np.float32)
    y[:, 8:24, 8:24] = 1.0
    return x, y


@pytest.mark.slow
def test_unet_trains_one_step_on_the_default_backend() -> None:
    from carseg_gui.core.layers import backend
    from carseg_gui.core.unet import build_unet, compile_unet

    assert backend() == "tensorflow"  # the default stays TensorFlow
    model = compile_unet(build_unet(SIZE, 4, batch_norm=True, dropout=False, levels=2), 1e-2, loss="bce_dice")
    bn = next(layer for layer in model.layers if type(layer).__name__ == "FusedBatchNorm")
    kernel = model.layers[2].kernel.numpy()
    mean = bn.moving_mean.numpy()
    x, y = _batch()
    logs = model.train_on_batch(x, y, return_dict=True)
    assert set(logs) >= {"loss", "dice", "iou", "accuracy"}
    assert np.isfinite(logs["loss"]) and 0.0 < logs["loss"] < 3.0 and 0.0 <= logs["dice"] <= 1.0
    assert not np.allclose(model.layers[2].kernel.numpy(), kernel)  # the weights moved
    assert not np.allclose(bn.moving_mean.numpy(), mean)  # and the BatchNorm statistics did
    out = np.asarray(model.predict_on_batch(x))
    assert out.shape == (4, SIZE, SIZE, 1) and out.dtype == np.float32 and 0.0 <= out.min() <= out.max() <= 1.0


def test_losses_and_metrics_are_per_image_numbers() -> None:
    from carseg_gui.core.unet import bce_dice_loss, segmentation_metrics, soft_dice_loss

    _, y = _batch(2)
    perfect = soft_dice_loss(y, y)
    assert np.asarray(perfect).shape == (2,) and np.allclose(perfect, 0.0, atol=1e-3)
    assert np.allclose(soft_dice_loss(y, 1.0 - y), 1.0, atol=1e-3)
    assert np.all(np.asarray(bce_dice_loss(y, np.clip(y, 0.01, 0.99))) < 0.05)
    dice, iou = segmentation_metrics()[1:]
    half = y.copy()
    half[:, 8:16] = 0.0  # half the square predicted
    assert float(dice(y, half)) == pytest.approx(2 * 128 / (256 + 128), abs=1e-2)
    assert float(iou(y, half)) == pytest.approx(0.5, abs=1e-2)


def test_the_fallback_batch_norm_computes_what_the_fused_op_does() -> None:
    from carseg_gui.core.layers import fused_batch_norm_class, load_keras, portable_batch_norm_class

    keras = load_keras()
    fused, portable = fused_batch_norm_class()(momentum=0.9), portable_batch_norm_class(keras)(momentum=0.9)
    rng = np.random.default_rng(2)
    x = (rng.normal(3.0, 2.0, (4, 8, 8, 5))).astype(np.float32)
    fused.build(x.shape)
    portable.build(x.shape)
    weights = [rng.normal(1, 0.1, 5), rng.normal(0, 0.1, 5), rng.normal(3, 0.1, 5), rng.uniform(3, 5, 5)]
    for layer in (fused, portable):
        layer.set_weights([w.astype(np.float32) for w in weights])
    np.testing.assert_allclose(portable(x, training=False), fused(x, training=False), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(portable(x, training=True), fused(x, training=True), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(portable.moving_mean, fused.moving_mean, rtol=1e-5)
    # TensorFlow keeps the unbiased batch variance in the moving average, Keras the biased one: n = 256 values
    # per channel, so they differ by 0.1 * var / 255, far below what training notices.
    np.testing.assert_allclose(portable.moving_variance, fused.moving_variance, rtol=1e-3)
    # Each reads the other's config, so a saved model loads on either backend.
    assert type(portable).from_config(fused.get_config()).momentum == pytest.approx(0.9)
    assert type(fused).from_config(portable.get_config()).epsilon == pytest.approx(1e-3)
    assert [v.path.split("/")[-1] for v in portable.weights] == [v.path.split("/")[-1] for v in fused.weights]


def _jax_python() -> str | None:
    named = os.environ.get("CARSEG_JAX_PYTHON")
    if named:
        return named
    return sys.executable if importlib.util.find_spec("jax") else None


_ON_JAX = """
import json, sys
import numpy as np
from carseg_gui.core.layers import backend
from carseg_gui.core.unet import build_unet, compile_unet, load_model
saved = load_model(sys.argv[1])
x = np.load(sys.argv[2])
fresh = compile_unet(build_unet(32, 4, batch_norm=True, dropout=False, levels=2), 1e-2, loss="bce_dice")
logs = fresh.train_on_batch(x, (x[..., :1] > 127).astype("float32"), return_dict=True)
np.save(sys.argv[3], np.asarray(saved.predict_on_batch(x)))
print(json.dumps({"backend": backend(), "loss": float(logs["loss"])}))
"""


@pytest.mark.slow
def test_a_model_saved_on_tensorflow_predicts_the_same_on_jax(tmp_path: Path) -> None:
    python = _jax_python()
    if python is None:
        pytest.skip("no Python with JAX here (pip install jax, or set CARSEG_JAX_PYTHON)")
    from carseg_gui.core.unet import build_unet, compile_unet

    model = compile_unet(build_unet(SIZE, 4, batch_norm=True, dropout=False, levels=2), 1e-2, loss="bce_dice")
    x, y = _batch()
    model.train_on_batch(x, y)  # moving statistics away from their initial values
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "x.npy", x)
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    done = subprocess.run(
        [python, "-c", _ON_JAX, str(tmp_path / "model.keras"), str(tmp_path / "x.npy"), str(tmp_path / "p.npy")],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == "jax" and np.isfinite(result["loss"])
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), model.predict_on_batch(x), atol=1e-4)
