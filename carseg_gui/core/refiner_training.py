"""Training the click refiner (:mod:`.refiner`) on a project's labelled masks: a long task like training.

Each sample is a full-size photo, a starting mask, a click and the crop that click selects:

* the starting mask is the truth degraded as a segmentation model degrades it (``errors``): ``coarse``
  as a low-resolution model does, shrunk 4-16x, disturbed by smooth noise, brought back and thresholded
  (round outlines, thin parts lost, small holes filled), plus a few blobs of 5-80 px added (shadows) or
  cut out (missed parts); ``fine`` as a good model does (Dice 0.98-0.99 on Carvana's masks, as the
  best presets' masks): shrunk 8-16x with little noise, so the error is thin slivers along the outline
  and lost thin parts, plus up to 16 blobs of 3-40 px; ``mixed``: either, at random;
* the click is the simulator's (:func:`clicks.next_click`: interior point of an error region), taken from
  one of the three largest regions so the model sees small errors too;
* in a share of the batches (``iterative``) the model first runs on the batch one or two times, its own
  output becomes the current mask and a new click is simulated on it inside the crop (RITM's iterative
  training), so it learns to improve its own previous answer, as the editor will ask it to.
"""

from __future__ import annotations

import os
import platform
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .clicks import BASE_CROP, MAX_CROP, Click, click_maps, crop_box, crop_side, interior_point, next_click
from .dataset import scan
from .imageio import UnreadableImage, atomic_write_json, read_image, read_mask
from .jobs import Cancelled, CancelToken, InputError, Progress, ProgressFn, no_progress
from .otsu import otsu_mask
from .project import new_run_id
from .refiner import FORMAT_VERSION, INPUT_SIZE, build_refiner, model_inputs


@dataclass
class RefinerConfig:
    epochs: int = 4
    samples_per_image: int = 4  # samples per labelled image and epoch
    batch_size: int = 8
    filters: int = 8  # 16 costs 2.3x the time per step and 3x per click (bench_clicks.py)
    levels: int = 4
    learning_rate: float = 1e-3
    input_size: int = INPUT_SIZE  # the model's input; a larger crop is shrunk to it
    base_crop: int = BASE_CROP
    max_crop: int = MAX_CROP
    iterative: float = 0.5  # share of batches that feed the model's own output back before the step
    max_images: int | None = None  # train on at most this many labelled images (the first by key)
    seed: int = 0
    precision: str = "auto"  # as TrainConfig: bfloat16 where it times faster than float32 on this CPU
    errors: str = "coarse"  # the starting masks' errors: coarse, fine or mixed (see degrade)

    def validate(self) -> None:
        for name in ("epochs", "samples_per_image", "batch_size", "filters"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')} must be at least 1")
        step = 2**self.levels
        if not 2 <= self.levels <= 6 or self.input_size % step:
            raise InputError(f"--input-size must be a multiple of {step} (2**levels), got {self.input_size}")
        if not self.input_size <= self.base_crop <= self.max_crop:
            raise InputError("the crop sizes must satisfy input size <= base crop <= max crop")
        if not 0 <= self.iterative <= 1:
            raise InputError(f"--iterative must be in [0, 1], got {self.iterative}")
        if self.precision not in ("auto", "on", "off"):
            raise InputError(f"--mixed-precision must be auto, on or off, got {self.precision!r}")
        if self.errors not in ERRORS:
            raise InputError(f"--errors must be {', '.join(ERRORS)}, got {self.errors!r}")


ERRORS = ("coarse", "fine", "mixed")
# Per kind of error: shrink factors, noise amplitude, threshold range, blobs (most, smallest and largest axes).
_ERRORS = {
    "coarse": ((4, 8, 12, 16), 0.5, (0.35, 0.65), (3, 5, 80)),
    "fine": ((8, 12, 16), 0.2, (0.35, 0.65), (16, 3, 40)),
}


def degrade(rng: np.random.Generator, truth: np.ndarray, errors: str = "coarse") -> np.ndarray:
    """A starting mask with the errors of a segmentation model (see the module's docstring)."""
    if errors == "mixed":
        errors = "coarse" if rng.random() < 0.5 else "fine"
    factors, amplitude, (t0, t1), (blobs, a0, a1) = _ERRORS[errors]
    h, w = truth.shape
    factor = int(rng.choice(factors))
    small: np.ndarray = cv2.resize(
        truth.astype(np.float32), (max(8, w // factor), max(8, h // factor)), interpolation=cv2.INTER_AREA
    )
    noise = cv2.GaussianBlur(rng.normal(0, 1, small.shape).astype(np.float32), (0, 0), 2.0)
    small = small + noise * np.float32(rng.uniform(0.0, amplitude) / max(1e-6, float(noise.std())))
    out = (cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) > rng.uniform(t0, t1)).astype(np.uint8)
    edge = np.argwhere(cv2.morphologyEx(truth, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0)
    for _ in range(int(rng.integers(0, blobs + 1)) if len(edge) else 0):
        y, x = edge[rng.integers(len(edge))]
        axes = (int(rng.integers(a0, a1)), int(rng.integers(a0, max(a0 + 1, a1 // 2))))
        cv2.ellipse(out, (int(x), int(y)), axes, float(rng.uniform(0, 180)), 0, 360, int(rng.integers(0, 2)), -1)
    return out


def error_clicks(truth: np.ndarray, mask: np.ndarray, top: int = 3) -> list[tuple[Click, int]]:
    """(click, area) at the interior point of each of the ``top`` largest error regions (missed and false
    parts apart), largest first; empty when the mask is right."""
    regions = []
    for error, positive in ((truth > mask, True), (mask > truth, False)):
        n, labels, stats, _ = cv2.connectedComponentsWithStats(error.astype(np.uint8), connectivity=8)
        regions += [(int(stats[k, cv2.CC_STAT_AREA]), k, positive, labels, stats) for k in range(1, n)]
    regions.sort(key=lambda r: -r[0])
    out = []
    for area, label, positive, labels, stats in regions[:top]:
        x0, y0, w, h = (int(v) for v in stats[label, :4])
        y, x, _ = interior_point(labels[y0 : y0 + h, x0 : x0 + w] == label)
        out.append((Click(y0 + y, x0 + x, positive), area))
    return out


def training_click(rng: np.random.Generator, candidates: list[tuple[Click, int]], truth: np.ndarray) -> Click:
    """One of the candidate clicks, weighted by the area of its region (so the model sees small errors
    too); a confirming click on the car when the mask has no error."""
    if not candidates:
        ys, xs = np.nonzero(truth)
        if not len(ys):
            return Click(truth.shape[0] // 2, truth.shape[1] // 2, False)
        k = int(rng.integers(len(ys)))
        return Click(int(ys[k]), int(xs[k]), True)
    area = np.array([a for _, a in candidates], np.float64)
    return candidates[int(rng.choice(len(candidates), p=area / area.sum()))][0]


def load_pairs(
    root: Path, masks: Mapping[str, Path] | None, exclude: Iterable[str], max_images: int | None, progress: ProgressFn,
    cancel: CancelToken,
) -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:  # fmt: skip
    """Full-size photos and 0/1 masks of the labelled images (``masks`` replaces a record's mask by key:
    the project's corrections); an unreadable file is an InputError naming it."""
    dataset = scan(root)
    skip = set(exclude)
    # A person's correction of an unlabelled image is a human mask too: it trains like a labelled one.
    records = [r for r in dataset.records if (r.labelled or r.key in (masks or {})) and r.key not in skip][:max_images]
    if not records:
        raise InputError(f"{root}: no labelled images to train the click refiner on")
    keys, images, truths = [], [], []
    progress(Progress("load", 0, len(records)))
    for i, record in enumerate(records):
        cancel.check()
        path = Path((masks or {}).get(record.key) or record.mask)  # type: ignore[arg-type]
        try:
            image, _ = read_image(record.image)
            truth = otsu_mask(read_mask(path))
        except UnreadableImage as exc:
            raise InputError(str(exc)) from exc
        if truth.shape != image.shape[:2]:
            raise InputError(f"{path}: mask is {truth.shape[1]}x{truth.shape[0]}, its image {record.image.name} is not")
        keys.append(record.key)
        images.append(image)
        truths.append(truth)
        progress(Progress("load", i + 1, len(records)))
    return keys, images, truths


def make_batch(
    rng: np.random.Generator, images: list[np.ndarray], truths: list[np.ndarray], starts: list[np.ndarray],
    candidates: list[list[tuple[Click, int]]], config: RefinerConfig,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(inputs (n, s, s, 6), truth crops (n, s, s, 1)) for one batch."""
    s = config.input_size
    x = np.empty((config.batch_size, s, s, 6), np.float32)
    y = np.empty((config.batch_size, s, s, 1), np.float32)
    for b in range(config.batch_size):
        i = int(rng.integers(len(images)))
        truth, start = truths[i], starts[i]
        click = training_click(rng, candidates[i], truth)
        box = crop_box(truth.shape, click, crop_side(start, click, config.base_crop, config.max_crop))
        x[b] = model_inputs(images[i], start, [click], box, s)
        y0, y1, x0, x1 = box
        target: np.ndarray = truth[y0:y1, x0:x1].astype(np.float32)
        if target.shape != (s, s):
            target = cv2.resize(target, (s, s), interpolation=cv2.INTER_AREA)
        y[b, ..., 0] = target > 0.5
    return x, y


def feed_back(
    rng: np.random.Generator, predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray
) -> None:
    """Iterative training: replace each sample's mask by the model's answer and add the next click on it."""
    s = x.shape[1]
    for _ in range(int(rng.integers(1, 3))):
        prob = predict(x)
        for b in range(len(x)):
            current = (prob[b] > 0.5).astype(np.uint8)
            click = next_click(y[b, ..., 0], current)
            x[b, ..., 3] = current
            if click is not None:
                x[b, ..., 4:] = np.maximum(x[b, ..., 4:], click_maps([click], (0, s, 0, s), s))


def train_refiner(
    root: Path,
    project: Path,
    config: RefinerConfig | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    masks: Mapping[str, Path] | None = None,
    exclude: Iterable[str] = (),
) -> Path:
    """Train a click refiner on the labelled images of ``root`` and return its run folder
    ``<project>/refiner_runs/<id>/``. ``masks`` (key -> mask file) replaces originals, e.g. by the
    project's corrections; ``exclude`` lists keys to leave out. A cancelled run is returned, not raised:
    its status says "cancelled" and it keeps the model of the last finished epoch."""
    config = config or RefinerConfig()
    config.validate()
    cancel = cancel or CancelToken()
    keys, images, truths = load_pairs(root, masks, exclude, config.max_images, progress, cancel)

    from .tf_runtime import load

    load()
    import keras

    from .precision import policy_words, resolve_precision
    from .unet import bce_dice_loss, compute_device

    device = compute_device()
    precision = resolve_precision(config.precision, device, progress, cancel)
    policy = precision.policy
    progress(Progress("model", 0, 1, f"Building the click refiner ({policy_words(policy)})…"))
    run = Path(project) / "refiner_runs" / new_run_id(project)  # new_run_id counts in runs/; the time is unique enough
    while run.exists():
        run = run.with_name(run.name + "-b")
    run.mkdir(parents=True)
    steps = -(-len(images) * config.samples_per_image // config.batch_size)
    record = {
        **asdict(config),
        "format_version": FORMAT_VERSION,
        "data": str(Path(root).resolve()),
        "image_keys": keys,
        "steps_per_epoch": steps,
        "device": device,
        "dtype_policy": policy,
        **precision.record(),
        "versions": {"keras": keras.__version__, "python": platform.python_version()},
    }
    atomic_write_json(run / "config.json", record)
    atomic_write_json(run / "status.json", {"status": "running", "started": time.time()})
    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = build_refiner(config.input_size, config.filters, config.levels, policy)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=bce_dice_loss)

    def predict(x: np.ndarray) -> np.ndarray:
        return np.asarray(model(x, training=False))[..., 0]

    history: list[dict[str, float]] = []
    status: dict[str, Any] = {"status": "finished"}
    started = time.perf_counter()
    try:
        for epoch in range(config.epochs):
            starts, candidates = [], []
            for truth in truths:  # new starting masks each epoch (about 0.1 s per full-size image)
                cancel.check()
                starts.append(degrade(rng, truth, config.errors))
                candidates.append(error_clicks(truth, starts[-1]))
            losses = []
            progress(Progress("batch", 0, steps, info={"epoch": epoch + 1, "epochs": config.epochs}))
            for step in range(steps):
                cancel.check()
                x, y = make_batch(rng, images, truths, starts, candidates, config)
                if rng.random() < config.iterative:
                    feed_back(rng, predict, x, y)
                losses.append(float(model.train_on_batch(x, y)))
                info = {"epoch": epoch + 1, "epochs": config.epochs, "loss": float(np.mean(losses))}
                progress(Progress("batch", step + 1, steps, info=info))
            history.append({"loss": float(np.mean(losses)), "seconds": round(time.perf_counter() - started, 1)})
            tmp = run / "model.partial.keras"  # Keras wants the suffix; os.replace makes it atomic
            model.save(tmp)
            os.replace(tmp, run / "model.keras")
            atomic_write_json(run / "history.json", history)
            progress(Progress("epoch", epoch + 1, config.epochs, info=history[-1]))
    except Cancelled:
        status = {"status": "cancelled"}
    except Exception as exc:
        failed = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        atomic_write_json(run / "status.json", failed)
        raise
    elapsed = round(time.perf_counter() - started, 2)
    atomic_write_json(
        run / "status.json", {**status, "finished": time.time(), "train_s": elapsed, "epochs_run": len(history)}
    )
    return run
