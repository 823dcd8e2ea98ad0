"""The click refiner: a small U-Net that corrects the mask in a crop around a click.

Its input is a crop of the full-size photo (the crop a click selects, :mod:`.clicks`, resized to the
model's input size when it is larger), the current mask of that crop, and two click maps (discs at the
positive and negative clicks inside it); its output is the corrected mask of the crop. Only pixels
inside the crop change, so a click never touches the rest of the mask.

Training (:mod:`.refiner_training`) uses the project's own labelled masks: the starting masks are the
truth degraded the way a low-resolution segmentation model degrades it, the clicks come from the
simulator, and part of the batches take the model's own previous output as the next input (the
iterative training of RITM). A run is a folder ``<project>/refiner_runs/<id>/`` with ``model.keras``,
``config.json`` (what it was trained on and ``format_version``), ``history.json`` and ``status.json``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .clicks import BASE_CROP, DISC_RADIUS, MAX_CROP, BBox, Click, click_maps, crop_box, crop_side
from .imageio import read_json
from .jobs import InputError

# Bump when the model's inputs or outputs change meaning: older runs are then refused with a message.
FORMAT_VERSION = 1
INPUT_SIZE = 256
CHANNELS = 6  # RGB, current mask, positive clicks, negative clicks


def build_refiner(size: int = INPUT_SIZE, filters: int = 16, levels: int = 4, policy: str = "float32") -> Any:
    """The U-Net: ``levels`` poolings, two 3x3 convolutions per block, sigmoid output in float32."""
    from .tf_runtime import load

    load()
    import keras
    from keras import layers

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:

        def block(x: Any, n: int) -> Any:
            x = layers.Conv2D(n, 3, padding="same", activation="relu", kernel_initializer="he_normal")(x)
            return layers.Conv2D(n, 3, padding="same", activation="relu", kernel_initializer="he_normal")(x)

        inputs = keras.Input((size, size, CHANNELS), name="crop")
        x, skips = inputs, []
        for level in range(levels):
            x = block(x, filters * 2**level)
            skips.append(x)
            x = layers.MaxPooling2D(2)(x)
        x = block(x, filters * 2**levels)
        for level in reversed(range(levels)):
            x = layers.Conv2DTranspose(filters * 2**level, 2, strides=2, padding="same")(x)
            x = block(layers.concatenate([x, skips[level]]), filters * 2**level)
        # The answer starts as the current mask: the last convolution (zero at first) adds a correction to a
        # fixed logit of +-5 from the mask channel, so an early model leaves the mask as it is instead of
        # scrambling the crop, and training only has to learn where to change it.
        delta = layers.Conv2D(1, 1, kernel_initializer="zeros", name="correction", dtype="float32")(x)
        prior = layers.Rescaling(10.0, offset=-5.0, name="mask_logit", dtype="float32")(inputs[..., 3:4])
        outputs = layers.Activation("sigmoid", name="mask", dtype="float32")(
            layers.Add(dtype="float32")([delta, prior])
        )
        return keras.Model(inputs, outputs, name=f"refiner{size}_f{filters}_l{levels}")
    finally:
        keras.mixed_precision.set_global_policy(previous)


def model_inputs(
    image: np.ndarray, mask: np.ndarray, clicks: Sequence[Click], box: BBox, size: int = INPUT_SIZE
) -> np.ndarray:
    """(size, size, 6) float32 for the crop ``box``: RGB in [0, 1], the mask (area-averaged when the crop
    is shrunk, so a thin part stays visible as a grey line), and the click maps."""
    y0, y1, x0, x1 = box
    rgb: np.ndarray = image[y0:y1, x0:x1, :3]
    current: np.ndarray = (mask[y0:y1, x0:x1] > 0).astype(np.float32)
    if rgb.shape[:2] != (size, size):
        rgb = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
        current = cv2.resize(current, (size, size), interpolation=cv2.INTER_AREA)
    out = np.empty((size, size, CHANNELS), np.float32)
    out[..., :3] = rgb.astype(np.float32) * np.float32(1 / 255)
    out[..., 3] = current
    out[..., 4:] = click_maps(clicks, box, size)
    return out


@dataclass
class Refiner:
    """A loaded refiner run: the model and the crop rules it was trained with."""

    model: Any
    folder: Path
    config: dict[str, Any]
    input_size: int = INPUT_SIZE
    base_crop: int = BASE_CROP
    max_crop: int = MAX_CROP
    _fn: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities (n, size, size) for a batch of model inputs; one compiled graph, no Keras
        ``predict`` overhead (a few ms that matter at 150 ms per click). The first call traces the graph
        (about 0.4 s); calls from several threads run one at a time."""
        with self._lock:
            if self._fn is None:
                from .tf_runtime import load

                tf = load()
                model = self.model
                spec = tf.TensorSpec([None, self.input_size, self.input_size, CHANNELS], tf.float32)
                self._fn = tf.function(lambda x: model(x, training=False), input_signature=[spec], autograph=False)
            return np.asarray(self._fn(np.asarray(batch, np.float32)))[..., 0]


def refine_crop(
    refiner: Refiner,
    image: np.ndarray,
    mask: np.ndarray,
    clicks: Sequence[Click],
    box: BBox | None = None,
    local: bool = False,
) -> tuple[BBox, np.ndarray]:
    """(box, the crop's new 0/1 mask) for the last of ``clicks``; every click inside the box is shown to
    the model. ``box`` defaults to the crop the last click selects (:func:`clicks.crop_side`). ``local``
    keeps only the changes connected to the last click (the rest of the crop stays as it was)."""
    if not clicks:
        raise ValueError("refine needs at least one click")
    if image.shape[:2] != mask.shape[:2]:
        raise ValueError(f"image {image.shape[:2]} and mask {mask.shape[:2]} differ in size")
    if box is None:
        last = clicks[-1]
        box = crop_box(mask.shape, last, crop_side(mask, last, refiner.base_crop, refiner.max_crop))
    y0, y1, x0, x1 = box
    prob = refiner.predict(model_inputs(image, mask, clicks, box, refiner.input_size)[None])[0]
    if (y1 - y0, x1 - x0) != prob.shape:
        prob = cv2.resize(prob, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    crop = (prob > 0.5).astype(np.uint8)
    return box, _near_click(crop, mask[y0:y1, x0:x1], clicks[-1], box) if local else crop


def _near_click(crop: np.ndarray, old: np.ndarray, click: Click, box: BBox) -> np.ndarray:
    """``crop`` where it differs from ``old`` in a region (8-connected) that touches the click's disc."""
    old = (old > 0).astype(np.uint8)
    n, labels = cv2.connectedComponents((crop != old).astype(np.uint8), connectivity=8)
    if n < 2:
        return crop
    disc = np.zeros(crop.shape, np.uint8)
    cv2.circle(disc, (click.x - box[2], click.y - box[0]), DISC_RADIUS, 1, -1)
    keep = np.unique(labels[(disc > 0) & (labels > 0)])
    return np.where(np.isin(labels, keep), crop, old).astype(np.uint8)


def refine_click(
    refiner: Refiner,
    image: np.ndarray,
    mask: np.ndarray,
    clicks: Sequence[Click],
    box: BBox | None = None,
    local: bool = False,
) -> np.ndarray:
    """A new 0/1 mask: ``mask`` with the crop around the last click replaced by the refiner's correction.
    Pixels outside the crop are copied unchanged; ``mask`` itself is not modified."""
    (y0, y1, x0, x1), crop = refine_crop(refiner, image, mask, clicks, box, local)
    out = (mask > 0).astype(np.uint8)
    out[y0:y1, x0:x1] = crop
    return out


def load_refiner(folder: Path) -> Refiner:
    """The refiner of a run folder, or an InputError that says what is wrong with it (not a refiner run,
    made by another version, no model yet, a model file that cannot be read)."""
    folder = Path(folder)
    try:
        config = read_json(folder / "config.json", default=None)
    except InputError as exc:  # imageio.CorruptFile: names the file and what is wrong with it
        raise InputError(f"{exc}; train the click refiner again") from exc
    except (ValueError, OSError) as exc:
        raise InputError(f"{folder / 'config.json'}: cannot be read ({exc}); train the click refiner again") from exc
    if not isinstance(config, dict):
        raise InputError(f"{folder}: not a click refiner run (no config.json)")
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise InputError(
            f"{folder}: this click refiner was made by another version of carseg (format {version}, this one "
            f"reads {FORMAT_VERSION}); train the click refiner again"
        )
    path = folder / "model.keras"
    if not path.is_file():
        raise InputError(f"{path}: missing (the training ended before its first epoch); train the click refiner again")
    from .tf_runtime import load

    load()
    import keras

    try:
        model = keras.saving.load_model(str(path), compile=False)
    except Exception as exc:  # Keras raises many types for a damaged zip or config
        raise InputError(
            f"{path}: cannot be read as a model ({type(exc).__name__}); train the click refiner again"
        ) from exc
    size = int(config.get("input_size", INPUT_SIZE))
    if tuple(model.input_shape[1:]) != (size, size, CHANNELS):
        raise InputError(f"{path}: its input {model.input_shape[1:]} is not a {size}x{size} click refiner's")
    return Refiner(
        model,
        folder,
        config,
        input_size=size,
        base_crop=int(config.get("base_crop", BASE_CROP)),
        max_crop=int(config.get("max_crop", MAX_CROP)),
    )


def refiner_runs(project: Path) -> list[Path]:
    """The project's refiner run folders, oldest first."""
    runs = Path(project) / "refiner_runs"
    if not runs.is_dir():
        return []
    return sorted(p for p in runs.iterdir() if p.is_dir() and (p / "config.json").exists())


def latest_refiner(project: Path) -> Path | None:
    """The newest run that finished (or was cancelled after an epoch) with a model, or None."""
    for folder in reversed(refiner_runs(project)):
        status = (read_json(folder / "status.json", default={}) or {}).get("status")
        if status in ("finished", "cancelled") and (folder / "model.keras").is_file():
            return folder
    return None
