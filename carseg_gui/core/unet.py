"""The recipe's U-Net: 4 levels down, 4 up, skip connections, sigmoid output.

Input is uint8 RGB; the model rescales to [0, 1] itself, so the cache, the viewer and the
exporter can hand it the cached bytes as they are. ``batch_norm`` puts a BatchNormalization between
each convolution and its ReLU; ``dropout`` switches the recipe's dropout; ``levels`` sets how many
times the encoder halves the image (the recipe: 4, so a 128 input meets an 8x8 bottleneck; a 256
input needs 5 to see the same share of the car at the bottom of the U).

The model, its losses and metrics are written with Keras layers and ``keras.ops`` only, so they run
on whichever backend ``KERAS_BACKEND`` names; TensorFlow is the default and the only one the
training pipeline (tf.data, tf.distribute) uses. ``benchmarks/bench_backend.py`` runs it on JAX.
"""

from __future__ import annotations

from typing import Any

# Dropout per level as in the Kaggle U-Net starter the Carvana recipe is built on (levels 0-3, then the
# bottleneck); a deeper U-Net uses the bottleneck's rate for the extra levels.
_DROPOUT = (0.1, 0.1, 0.2, 0.2, 0.3)


def _rate(level: int) -> float:
    return _DROPOUT[min(level, len(_DROPOUT) - 1)]


def build_unet(
    size: int = 128,
    filters: int = 16,
    policy: str = "float32",
    batch_norm: bool = False,
    dropout: bool = True,
    levels: int = 4,
) -> Any:
    """The model; ``policy`` is a Keras dtype policy (``mixed_bfloat16`` computes in bfloat16 and
    keeps float32 weights; the output layer stays float32 either way, so loss and sigmoid are exact)."""
    from .layers import load_keras

    keras = load_keras()
    from keras import layers

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        return _build(keras, layers, size, filters, batch_norm, dropout, levels)
    finally:
        keras.mixed_precision.set_global_policy(previous)  # layers keep theirs; nothing else changes


def _build(
    keras: Any, layers: Any, size: int, filters: int, batch_norm: bool = False, dropout: bool = True, levels: int = 4
) -> Any:
    from .layers import fused_batch_norm_class

    def conv(x: Any, n: int) -> Any:
        if not batch_norm:
            return layers.Conv2D(n, 3, activation="relu", kernel_initializer="he_normal", padding="same")(x)
        x = layers.Conv2D(n, 3, kernel_initializer="he_normal", padding="same", use_bias=False)(x)
        # Momentum 0.9, not Keras' 0.99: an epoch here is ~12 steps, and with 0.99 the moving statistics
        # used for validation and prediction still lag the weights after 30 epochs (val Dice ~0 measured).
        # The fused op (layers.py) costs half the CPU time of keras.layers.BatchNormalization in bfloat16.
        return layers.Activation("relu")(fused_batch_norm_class()(momentum=0.9)(x))

    def block(x: Any, n: int, rate: float) -> Any:
        x = conv(x, n)
        if dropout:
            x = layers.Dropout(rate)(x)
        return conv(x, n)

    inputs = keras.Input((size, size, 3), dtype="uint8", name="image")
    x = layers.Rescaling(1.0 / 255)(inputs)
    skips = []
    for level in range(levels):
        x = block(x, filters * 2**level, _rate(level))
        skips.append(x)
        x = layers.MaxPooling2D(2)(x)
    x = block(x, filters * 2**levels, _DROPOUT[4])
    for level in reversed(range(levels)):
        x = layers.Conv2DTranspose(filters * 2**level, 2, strides=2, padding="same")(x)
        x = layers.concatenate([x, skips[level]])
        x = block(x, filters * 2**level, _rate(level))
    outputs = layers.Conv2D(1, 1, activation="sigmoid", name="mask", dtype="float32")(x)
    name = f"unet{size}_f{filters}" + ("_bn" if batch_norm else "") + (f"_l{levels}" if levels != 4 else "")
    return keras.Model(inputs, outputs, name=name)


def segmentation_metrics() -> list[Any]:
    """Dice and IoU per image at threshold 0.5, averaged (the Carvana measure, at cache size)."""
    from keras import ops

    def _hard(y_true: Any, y_pred: Any) -> tuple[Any, Any, Any]:
        t = ops.cast(y_true > 0.5, "float32")
        p = ops.cast(y_pred > 0.5, "float32")
        inter = ops.sum(t * p, axis=(1, 2, 3))
        return inter, ops.sum(t, axis=(1, 2, 3)), ops.sum(p, axis=(1, 2, 3))

    def dice(y_true: Any, y_pred: Any) -> Any:
        inter, st, sp = _hard(y_true, y_pred)
        return ops.mean((2 * inter + 1.0) / (st + sp + 1.0))

    def iou(y_true: Any, y_pred: Any) -> Any:
        inter, st, sp = _hard(y_true, y_pred)
        return ops.mean((inter + 1.0) / (st + sp - inter + 1.0))

    return ["accuracy", dice, iou]


def soft_dice_loss(y_true: Any, y_pred: Any) -> Any:
    """1 - soft Dice per image (probabilities, not thresholded), one value per image."""
    from keras import ops

    y_pred = ops.cast(y_pred, "float32")
    inter = ops.sum(y_true * y_pred, axis=(1, 2, 3))
    sums = ops.sum(y_true, axis=(1, 2, 3)) + ops.sum(y_pred, axis=(1, 2, 3))
    return 1.0 - (2.0 * inter + 1.0) / (sums + 1.0)


def bce_dice_loss(y_true: Any, y_pred: Any) -> Any:
    """Binary cross-entropy (mean over pixels) + soft Dice loss, per image.

    BCE alone weighs every pixel the same and is content with soft edges; the Dice term is measured on
    the whole car, so it pushes the probabilities on the outline towards 0 or 1."""
    from keras import ops

    y_pred = ops.cast(y_pred, "float32")
    bce = ops.mean(ops.binary_crossentropy(y_true, y_pred), axis=(1, 2, 3))
    return bce + soft_dice_loss(y_true, y_pred)


def make_loss(name: str) -> Any:
    if name == "bce":
        return "binary_crossentropy"
    if name == "bce_dice":
        return bce_dice_loss
    raise ValueError(f"unknown loss {name!r}")


def compile_unet(model: Any, learning_rate: Any = 1e-3, xla: bool = False, loss: str = "bce") -> Any:
    """``learning_rate`` may be a float or a Keras LearningRateSchedule. ``xla`` chooses on TensorFlow;
    JAX always compiles (``jax.jit``: without it every op runs eagerly), other backends use Keras' auto."""
    import keras

    name = keras.backend.backend()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=make_loss(loss),
        metrics=segmentation_metrics(),
        jit_compile=xla if name == "tensorflow" else True if name == "jax" else "auto",
    )
    return model


def choose_xla(setting: str, device: str) -> bool:
    """XLA pays on GPUs; on the 2-core CPU it measured 1.8x slower (bfloat16, jit off vs on)."""
    if setting in ("on", "off"):
        return setting == "on"
    return device != "CPU"


def load_model(path: Any) -> Any:
    """Load a saved run's model for prediction (uncompiled: custom metrics are not needed)."""
    from .layers import fused_batch_norm_class, load_keras

    keras = load_keras()
    fused_batch_norm_class()  # registers the layer the "best" preset's models contain
    return keras.saving.load_model(str(path), compile=False)


def compute_device() -> str:
    """'CPU' or the first GPU's name, for the training panel and run records (on the Keras backend in use)."""
    from .layers import backend

    name = backend()
    if name == "jax":
        import jax

        devices = [d for d in jax.devices() if d.platform == "gpu"]
        if not devices:
            return "CPU"
        return f"GPU: {devices[0].device_kind}" + (f" (+{len(devices) - 1})" if len(devices) > 1 else "")
    if name == "torch":
        import torch

        if not torch.cuda.is_available():
            return "CPU"
        count = torch.cuda.device_count()
        return f"GPU: {torch.cuda.get_device_name(0)}" + (f" (+{count - 1})" if count > 1 else "")
    if name != "tensorflow":
        return "CPU"
    from .tf_runtime import load

    tf = load()
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    details = tf.config.experimental.get_device_details(gpus[0])
    return f"GPU: {details.get('device_name', gpus[0].name)}" + (f" (+{len(gpus) - 1})" if len(gpus) > 1 else "")
