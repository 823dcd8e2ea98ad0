"""Train the U-Net from the cache: tf.data batches, early stopping, best weights kept on disk.

A run is a folder ``runs/<id>/`` holding ``config.json`` (every setting, the split, the dataset
fingerprint), ``history.json`` (per epoch), ``metrics.json`` (best epoch), ``status.json`` and
``model.keras`` (the best weights so far, replaced atomically after each improving epoch, so a
cancel or a crash keeps the best model).
"""

from __future__ import annotations

import platform
import random
import tempfile
import time
import traceback
import warnings
from collections.abc import Collection
from contextlib import nullcontext, suppress
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .cache import Cache, generation_in_use, skipped_note
from .config import ConfigError, TrainConfig
from .dataset import require_dataset
from .distributed import custom_fit, is_chief, is_multiworker, make_optimizer, make_strategy
from .imageio import atomic_write_json, read_json
from .jobs import Cancelled, CancelToken, InputError, Progress, ProgressFn, no_progress, os_error_words
from .locking import project_lock
from .preprocess import preprocess, require_labelled
from .project import RunInfo, new_run_id, read_run
from .split import grouped_split
from .train_callbacks import _best_metrics, _callbacks


def make_batches(
    cache: Cache,
    rows: list[int],
    batch_size: int,
    shuffle: bool,
    seed: int,
    repeat: bool = False,
    augment: str = "none",
) -> Any:
    """tf.data over row numbers; each batch is gathered from the cache in one call, then augmented
    (``augment``: see augment.py) in the same parallel map, beside the training step."""
    from .tf_runtime import load

    tf = load()
    size = cache.size

    def gather(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = np.sort(idx)  # forward reads; the batch is shuffled already, its order inside is not needed
        return cache.read_images(order), cache.read_masks(order)

    def to_tensors(idx: Any) -> tuple[Any, Any]:
        x, y = tf.numpy_function(gather, [idx], [tf.uint8, tf.uint8])
        x.set_shape([None, size, size, 3])
        y = tf.cast(tf.expand_dims(y, -1), tf.float32)
        y.set_shape([None, size, size, 1])
        if augment != "none":
            from .augment import augment_batch

            x, y = augment_batch(x, y, augment)
            x.set_shape([None, size, size, 3])
            y.set_shape([None, size, size, 1])
        return x, y

    ds = tf.data.Dataset.from_tensor_slices(np.asarray(rows, dtype=np.int64))
    if shuffle:
        ds = ds.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    return ds.batch(batch_size).map(to_tensors, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def diverged_message(config: TrainConfig, where: str) -> str:
    """What the user reads when the loss stopped being a number: where, and what to change."""
    return (
        f"training diverged: the loss became NaN or infinite at {where}, so the run was stopped. "
        f"Lower the learning rate (--learning-rate, {config.learning_rate:g} here; the presets use 1e-3)"
        + (" or compute in float32 (--mixed-precision off)" if config.precision != "off" else "")
        + " and train again."
    )


def _learning_rate(config: TrainConfig, steps: int) -> Any:
    """Adam's rate: constant (the recipe, and "plateau", which a callback lowers), or a cosine decay to
    1 % of it over all the epochs' steps (the same in model.fit and in the multi-worker loop)."""
    if config.lr_schedule != "cosine":
        return config.learning_rate
    import keras

    return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=steps * config.epochs, alpha=0.01)


def _new_and_replayed(cache: Cache, rows: list[int], config: TrainConfig) -> list[int]:
    """A quick retrain's training rows: those the start run did not train on or that carry a correction,
    and ``config.replay`` times as many of the others (drawn with the seed)."""
    start = Path(str(config.init_from))
    seen = set((read_json(start / "config.json", default={}) or {}).get("train_keys", []))
    new = [r for r in rows if cache.rows[r]["key"] not in seen or cache.rows[r].get("corrected")]
    if not new:
        raise InputError(
            f"nothing new to retrain on: run {start.name} trained on every labelled image and none was corrected "
            "since. Correct or approve images first, or train from scratch"
        )
    old = sorted(set(rows) - set(new))
    replayed = random.Random(config.seed).sample(old, min(len(old), config.replay * len(new)))
    return sorted(new + replayed)


def _warm_up(
    model: Any,
    build: Any,
    warm: Cache,
    cache: Cache,
    split: tuple[list[int], list[int]],
    config: TrainConfig,
    batch: int,
    callbacks: list[Any],
) -> tuple[Any, list[Any]]:
    """Progressive resizing's first phase: ``config.warmup_epochs`` on the same images at the smaller size.
    Returns the model of the final size holding those weights, its optimizer's step where the first one
    stopped (the cosine schedule goes on, not again from the top), and the callbacks for the rest: the best
    validation loss starts again (the two sizes' losses differ), so model.keras is always the final size's."""
    import keras

    index = {r["key"]: i for i, r in enumerate(warm.rows)}
    keys = [[cache.rows[i]["key"] for i in rows] for rows in split]
    missing = [k for part in keys for k in part if k not in index]
    if missing:
        raise InputError(
            f"the {warm.size} px cache has no row for {missing[0]} ({len(missing)} missing): preprocess again"
        )
    w_train, w_val = ([index[k] for k in part] for part in keys)
    train_ds = make_batches(warm, w_train, batch, shuffle=True, seed=config.seed, augment=config.augment)
    val_ds = make_batches(warm, w_val, batch, False, 0) if w_val else None
    reporter = callbacks[0]
    reporter.size, reporter.save_model = warm.size, False
    reporter.plan = {"final_size": config.size, "warmup_epochs": config.warmup_epochs}
    model.fit(
        train_ds, validation_data=val_ds, epochs=config.warmup_epochs, callbacks=callbacks, verbose=0, shuffle=False
    )
    if reporter.diverged:
        return model, callbacks
    step = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    weights = model.get_weights()
    model = build(config.size)
    model.set_weights(weights)
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(step)
    reporter.size, reporter.save_model, reporter.best = config.size, True, np.inf
    monitor = "val_loss" if w_val else "loss"
    stop = keras.callbacks.EarlyStopping(monitor=monitor, patience=config.patience, restore_best_weights=True)
    return model, [stop if isinstance(c, keras.callbacks.EarlyStopping) else c for c in callbacks]


def train(
    root: Path,
    project: Path,
    config: TrainConfig | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    cache: Cache | None = None,
    val_groups: Collection[str] | None = None,
) -> RunInfo:
    """Preprocess if needed, train, and return the run. A cancelled run is returned, not raised:
    its folder says "cancelled" and keeps the best model of the epochs that finished.

    ``val_groups``: the cars (group keys) to validate on, kept by the project across rounds; images that
    joined since go to training. ``None``: a fresh seeded split of ``config.val_split``.

    Holds the project's lock for the whole run (another writer gets ``ProjectBusy``, and this raises it
    when one is at work) and pins the cache generation it streams from, so no rebuild deletes it."""
    config = config or TrainConfig()
    config.validate()
    cancel = cancel or CancelToken()
    if cache is None:
        require_dataset(Path(root))  # before the lock creates anything in a folder that is no dataset
    with project_lock(project, "train") as lock:
        if cache is None:
            cache = preprocess(root, project, config.size, progress=progress, cancel=cancel)
        warm = None
        if config.warmup_size:  # progressive resizing: the first epochs read the smaller cache
            warm = preprocess(root, project, config.warmup_size, progress=progress, cancel=cancel)
        with generation_in_use(cache), generation_in_use(warm) if warm is not None else nullcontext():
            return _train(root, project, config, progress, cancel, cache, lock, val_groups, warm)


def _train(
    root: Path,
    project: Path,
    config: TrainConfig,
    progress: ProgressFn,
    cancel: CancelToken,
    cache: Cache,
    lock: Any,
    val_groups: Collection[str] | None = None,
    warm: Cache | None = None,
) -> RunInfo:
    rows = require_labelled(cache)
    skipped = cache.skipped("train")
    if skipped:
        progress(Progress("notice", 0, 0, info={"notice": skipped_note(skipped, "training")}))
    groups = [cache.rows[i]["car"] or cache.rows[i]["key"] for i in rows]
    if val_groups is None:
        train_rows, val_rows = grouped_split(rows, groups, config.val_split, config.seed)
    else:
        kept = set(val_groups)
        train_rows = [r for r, g in zip(rows, groups, strict=True) if g not in kept]
        val_rows = [r for r, g in zip(rows, groups, strict=True) if g in kept]
        if not train_rows:  # before the run folder: nothing is left behind
            cars = ", ".join(sorted(kept)[:5]) + (" ..." if len(kept) > 5 else "")
            raise InputError(
                f"all {len(rows)} labelled images belong to the project's validation cars ({cars}), so none is "
                "left to train on: draw a new validation split (carseg train --new-split, or the training "
                "panel's New validation split), or include or label images of other cars"
            )

    if config.init_from and config.replay:
        train_rows = _new_and_replayed(cache, train_rows, config)

    from .tf_runtime import load

    load()
    import keras

    from .precision import policy_words, resolve_precision
    from .unet import build_unet, choose_xla, compile_unet, compute_device

    strategy = make_strategy(config.strategy)
    multiworker = is_multiworker(strategy)
    if warm is not None and multiworker:  # before the run folder: nothing is left behind
        raise ConfigError("warmup_size", "cannot be used with multi-worker training")
    device = compute_device()
    precision = resolve_precision(config.precision, device, progress, cancel, timing=not multiworker)  # before the run
    policy = precision.policy
    info = {"dtype_policy": policy, "precision_reason": precision.reason}
    progress(Progress("model", 0, 1, f"Training: building the model ({policy_words(policy)})…", info=info))
    # Every worker trains; only the chief keeps the run (the others write to a scratch folder).
    chief = is_chief() if multiworker else True
    run = Path(project) / "runs" / new_run_id(project) if chief else Path(tempfile.mkdtemp(prefix="carseg-worker-"))
    run.mkdir(parents=True, exist_ok=True)
    lock.update(f"run {run.name}")
    xla = choose_xla(config.xla, device)
    replicas = int(strategy.num_replicas_in_sync)
    record = {
        **asdict(config),
        "data": str(Path(root).resolve()),
        "dataset_fingerprint": cache.fingerprint,
        "train_keys": [cache.rows[i]["key"] for i in train_rows],
        "val_keys": [cache.rows[i]["key"] for i in val_rows],
        "skipped": [{"path": p["path"], "reason": p["reason"]} for p in skipped],
        "device": device,
        "dtype_policy": policy,
        **precision.record(),
        "xla": xla,
        "replicas": replicas,
        "versions": {"keras": keras.__version__, "python": platform.python_version()},
    }
    atomic_write_json(run / "config.json", record)
    atomic_write_json(run / "status.json", {"status": "running", "started": time.time()})

    keras.utils.set_random_seed(config.seed)
    batch = config.batch_size * replicas  # --batch-size is per device, as tf.distribute counts it
    steps = -(-len(train_rows) // batch)
    learning_rate = _learning_rate(config, steps)

    def build(size: int) -> Any:
        with strategy.scope():
            net = build_unet(size, config.filters, policy, config.batch_norm, config.dropout, config.levels)
            return compile_unet(net, learning_rate, xla, loss=config.loss)

    started = time.perf_counter()
    status: dict[str, Any] = {"status": "finished"}
    try:
        model = build(warm.size if warm is not None else config.size)
        with strategy.scope():
            if config.init_from:
                with warnings.catch_warnings():  # the optimizer state is not wanted, only the weights
                    warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
                    model.load_weights(Path(config.init_from) / "model.keras")
        train_ds = make_batches(
            cache, train_rows, batch, shuffle=True, seed=config.seed, repeat=multiworker, augment=config.augment
        )
        val_ds = make_batches(cache, val_rows, batch, False, 0, repeat=multiworker) if val_rows else None
        monitor = "val_loss" if val_rows else "loss"
        # Across machines a cancel must be agreed on by all workers (custom_fit does that), not raised by one.
        cb_cancel = CancelToken() if multiworker else cancel
        plateau = config.lr_schedule == "plateau" and not multiworker
        callbacks = _callbacks(
            run, config.epochs, steps, monitor, config.patience, progress, cb_cancel, plateau,
            record_lr=not multiworker, checkpoint_every=config.checkpoint_every,
        )  # fmt: skip
        started = time.perf_counter()  # train_s is the fit's time, without building the model
        if multiworker:
            with strategy.scope():
                optimizer = make_optimizer(learning_rate, policy)
            val_steps = -(-len(val_rows) // batch)
            custom_fit(
                strategy, model, optimizer, train_ds, val_ds, steps, val_steps, config.epochs, callbacks,
                lambda: cancel.cancelled, dice_loss=config.loss == "bce_dice",
            )  # fmt: skip
        else:
            if warm is not None:
                model, callbacks = _warm_up(model, build, warm, cache, (train_rows, val_rows), config, batch, callbacks)
            if not callbacks[0].diverged:
                model.fit(
                    train_ds, validation_data=val_ds, initial_epoch=len(callbacks[0].history), epochs=config.epochs,
                    callbacks=callbacks, verbose=0, shuffle=False,
                )  # fmt: skip
    except Cancelled:
        status = {"status": "cancelled"}
    except KeyboardInterrupt:  # a second Ctrl+C in the CLI: stop at once, but say so in the run
        with suppress(OSError):
            atomic_write_json(run / "status.json", {"status": "cancelled", "finished": time.time()})
        raise
    except Exception as exc:
        for partial in run.glob("*.partial.keras"):
            partial.unlink(missing_ok=True)
        words = os_error_words(exc, run) if isinstance(exc, OSError) else None
        error = str(words) if words else f"{type(exc).__name__}: {exc}"
        status = {"status": "failed", "error": error, "trace": traceback.format_exc(), "finished": time.time()}
        with suppress(OSError):  # a disk still full must not hide the error itself
            atomic_write_json(run / "status.json", status)
        if words is not None:
            raise words from exc
        raise
    elapsed = time.perf_counter() - started
    reporter = callbacks[0]
    if reporter.diverged and status["status"] == "finished":
        status = {"status": "failed", "error": diverged_message(config, reporter.diverged)}
    if reporter.history:
        best = _best_metrics(reporter.history, reporter.best_epoch) if reporter.best_epoch else {}
        metrics = {
            **best,
            "epochs_run": len(reporter.history),
            "train_s": round(elapsed, 2),
            "train_images": len(train_rows),
            "val_images": len(val_rows),
            "device": device,
        }
        atomic_write_json(run / "metrics.json", metrics)
    atomic_write_json(run / "status.json", {**status, "finished": time.time(), "train_s": round(elapsed, 2)})
    # Making a finished run the active one is the session's decision (carseg_gui.session.actions).
    return read_run(run)
