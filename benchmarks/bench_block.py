"""A cheaper block: the time of one training step of the best preset's U-Net (5 levels, BatchNorm, BCE +
Dice, batch 8) at 256 px, for several base filter counts, against 16 filters (best's) in the same run.

Same random batch for every model, same threads, each model warmed up for 3 steps; then the models'
steps alternate (so a slow spell of a shared machine hits them all) and the median step of each counts.
Arithmetic is the preset's on this machine (``auto``: timed once per machine, cached).

Run: python benchmarks/bench_block.py [--size 256] [--filters 16,12,8] [--steps 8]
Last line: one JSON object: per filter count the median step (s), images/s, parameters, and the ratio
of its step time to 16 filters'.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _counts(text: str) -> list[int]:
    """--filters: positive whole numbers, comma-separated (argparse turns the error into exit code 2)."""
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of whole numbers: {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"filter counts must be at least 1, got {text!r}")
    return counts


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--filters", type=_counts, default="16,12,8", help="comma-separated; the first is the baseline")
    p.add_argument("--steps", type=int, default=8, help="timed steps per model")
    p.add_argument("--batch", type=int, default=8)
    args = p.parse_args()

    import keras

    from carseg_gui.core.precision import resolve_precision
    from carseg_gui.core.unet import build_unet, compile_unet

    choice = resolve_precision("auto", "CPU")
    keras.mixed_precision.set_global_policy(choice.policy)
    counts = args.filters
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, args.size, args.size, 3), dtype=np.float32)
    y = (rng.random((args.batch, args.size, args.size, 1)) > 0.5).astype(np.float32)
    models = {}
    for f in counts:
        model = build_unet(size=args.size, filters=f, batch_norm=True, dropout=False, levels=5)
        models[f] = compile_unet(model, loss="bce_dice")
        for _ in range(3):
            models[f].train_on_batch(x, y)
    times: dict[int, list[float]] = {f: [] for f in counts}
    for _ in range(args.steps):
        for f, model in models.items():
            start = time.perf_counter()
            model.train_on_batch(x, y)
            times[f].append(time.perf_counter() - start)
    keras.mixed_precision.set_global_policy("float32")

    base = float(np.median(times[counts[0]]))
    print(f"{args.size} px, batch {args.batch}, {choice.policy}, {args.steps} interleaved steps each")
    print(f"{'filters':>8} {'step s':>8} {'img/s':>7} {'params':>10} {'x base time':>12}")
    out = {}
    for f in counts:
        step = float(np.median(times[f]))
        out[str(f)] = {
            "step_s": round(step, 3),
            "img_per_s": round(args.batch / step, 2),
            "params": int(models[f].count_params()),
            "time_ratio": round(step / base, 3),
        }
        print(f"{f:>8} {step:>8.3f} {args.batch / step:>7.1f} {models[f].count_params():>10} {step / base:>12.2f}")
    print(json.dumps({"size": args.size, "batch": args.batch, "policy": choice.policy, "filters": out}))


if __name__ == "__main__":
    main()
