"""Training throughput: the project's training vs plain `model.fit` on in-memory numpy arrays.

Same model (the recipe's U-Net, 128x128x3, 16 filters), batch 16, same number of batches; the first
epoch (tracing, warm-up) is not timed. Then both train the recipe on the same data to compare Dice.
Run: python benchmarks/bench_train.py [--data DIR] [--limit N] [--quality-epochs E]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import _common as bench

GFLOP_PER_TRAIN_IMAGE = 4.6  # forward ~1.5 GFLOP at 128x128, 16 filters; backward ~2x forward
BATCH = 16


def _timed_fit(model: Any, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any], epochs: int) -> float:
    """Seconds per epoch over epochs 2..N (epoch 1 includes graph tracing)."""
    import keras

    stamps: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            stamps.append(time.perf_counter())

        def on_train_end(self, logs: Any = None) -> None:
            stamps.append(time.perf_counter())

    model.fit(*fit_args, epochs=epochs, callbacks=[Clock()], verbose=0, **fit_kwargs)
    return float(np.median(np.diff(stamps[1:])))


def throughput(cache: Any, rows: list[int], policy: str, xla: bool, epochs: int) -> tuple[float, float]:
    """(plain images/s, project images/s), steady state."""
    from carseg_gui.core.training import make_batches
    from carseg_gui.core.unet import build_unet, compile_unet

    x = np.asarray(cache.images()[rows])
    y = np.asarray(cache.masks()[rows], dtype=np.float32)[..., None]
    plain = build_unet(128, 16)
    # The recipe done plainly: Keras defaults (float32, jit_compile="auto"), numpy arrays in RAM.
    plain.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    plain_s = _timed_fit(plain, (x, y), {"batch_size": BATCH, "shuffle": True}, epochs)
    ours = compile_unet(build_unet(128, 16, policy), xla=xla)
    ds = make_batches(cache, rows, BATCH, shuffle=True, seed=0)
    ours_s = _timed_fit(ours, (ds,), {"shuffle": False}, epochs)  # tf.data shuffles itself
    return len(rows) / plain_s, len(rows) / ours_s


def quality(root: Path, project: Path, precision: str, epochs: int) -> dict[str, Any]:
    from carseg_gui.core.training import TrainConfig, train

    run = train(root, project, TrainConfig(epochs=epochs, patience=epochs, precision=precision))
    return {"val_dice": run.metrics.get("val_dice"), "train_s": run.metrics.get("train_s")}


def main() -> None:
    p = bench.parser(__doc__ or "", limit=160)
    p.add_argument("--epochs", type=int, default=3, help="epochs per throughput measurement (first not timed)")
    p.add_argument("--mixed-precision", choices=("auto", "on", "off"), default="auto")
    p.add_argument("--xla", choices=("auto", "on", "off"), default="auto")
    p.add_argument("--quality-epochs", type=int, default=8, help="epochs of the Dice comparison (0: skip)")
    args = p.parse_args()
    root = bench.dataset(args.data, args.limit, width=480, height=320)

    from carseg_gui.core.precision import choose_policy
    from carseg_gui.core.preprocess import preprocess
    from carseg_gui.core.unet import choose_xla, compute_device

    project = Path(tempfile.mkdtemp(prefix="carseg-bench-"))
    try:
        cache = preprocess(root, project / "p", 128)
        rows = cache.labelled_rows()[: args.limit]
        device = compute_device()
        policy = choose_policy(args.mixed_precision, device)
        xla = choose_xla(args.xla, device)
        plain_rate, our_rate = throughput(cache, rows, policy, xla, args.epochs)
        dice: dict[str, Any] = {}
        if args.quality_epochs:
            dice["plain"] = quality(root, project / "q32", "off", args.quality_epochs)
            dice["ours"] = quality(root, project / "qauto", "auto", args.quality_epochs)
    finally:
        shutil.rmtree(project, ignore_errors=True)

    rows_out = [
        ("device / project dtype policy / XLA", f"{device} / {policy} / {'on' if xla else 'off'}"),
        (
            "plain model.fit, numpy in RAM (img/s)",
            f"{plain_rate:.1f}  ({plain_rate * GFLOP_PER_TRAIN_IMAGE:.0f} GFLOP/s)",
        ),
        (
            "project: tf.data from the cache (img/s)",
            f"{our_rate:.1f}  ({our_rate * GFLOP_PER_TRAIN_IMAGE:.0f} GFLOP/s)",
        ),
        ("ratio project/plain", f"{our_rate / plain_rate:.2f}x"),
    ]
    for name, d in dice.items():
        rows_out.append(
            (f"val Dice after {args.quality_epochs} epochs ({name})", f"{d['val_dice']:.4f} in {d['train_s']:.0f} s")
        )
    bench.report(
        f"training throughput: {len(rows)} images, batch {BATCH}, 128x128x3, 16 filters",
        rows_out,
        {
            "device": device,
            "policy": policy,
            "xla": xla,
            "images": len(rows),
            "plain_images_per_s": round(plain_rate, 2),
            "images_per_s": round(our_rate, 2),
            "ratio": round(our_rate / plain_rate, 2),
            "gflops": round(our_rate * GFLOP_PER_TRAIN_IMAGE, 1),
            "val_dice_plain": dice.get("plain", {}).get("val_dice"),
            "val_dice": dice.get("ours", {}).get("val_dice"),
        },
    )


if __name__ == "__main__":
    main()
