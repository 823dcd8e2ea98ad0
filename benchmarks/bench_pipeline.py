"""Where a training epoch's time goes: the input pipeline (cache gather + augmentation) or the step.

Same cache rows, batch size, augmentation, model and precision as a preset trains with (default `best`:
256 px, batch 8, full augmentation, 5 levels, BatchNorm, BCE + soft Dice, bfloat16 where the CPU has it):

1. **pipeline alone**: one epoch of `training.make_batches` (gather from the cache + augmentation, the
   tf.data map beside the step), no model;
2. **step alone**: the same `model.fit`, fed one batch already in memory, repeated (no gather, no
   augmentation);
3. **training**: `model.fit` over `make_batches`, as `carseg train` runs it.

Each is timed after one untimed warm-up epoch (tracing), on the same threads. If (1) is several times
faster than (3) and (3) is close to (2), the input pipeline is not what holds the cores; the share
(3 − 2) / 3 is what it costs a training.
Run: python benchmarks/bench_pipeline.py --data FOLDER [--preset best] [--limit 224] [--epochs 2]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import _common as bench


def _epoch_seconds(run_epoch: Any, epochs: int) -> float:
    run_epoch()  # tracing and warm-up: not timed
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        run_epoch()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    p = bench.parser(__doc__ or "", limit=224)
    p.add_argument("--preset", default="best")
    p.add_argument("--size", type=int, help="image size (default: the preset's)")
    p.add_argument("--batch", type=int, help="batch size (default: the preset's)")
    p.add_argument("--epochs", type=int, default=2, help="timed epochs of each (after one untimed)")
    p.add_argument("--project", type=Path, help="where the cache goes (default: a temporary folder)")
    args = p.parse_args()

    from carseg_gui.core.precision import choose_policy
    from carseg_gui.core.preprocess import preprocess, require_labelled
    from carseg_gui.core.presets import make_config
    from carseg_gui.core.tf_runtime import load
    from carseg_gui.core.training import make_batches
    from carseg_gui.core.unet import build_unet, compile_unet, compute_device

    given = {"size": args.size, "batch_size": args.batch}
    config = make_config(args.preset, **{k: v for k, v in given.items() if v})
    root = bench.dataset(args.data, args.limit)
    project = args.project or Path(tempfile.mkdtemp(prefix="carseg-bench-pipeline-"))
    cache = preprocess(root, project, config.size)
    rows = require_labelled(cache)[: args.limit]
    tf = load()
    import keras

    policy = choose_policy(config.precision, compute_device())
    keras.utils.set_random_seed(0)
    model = compile_unet(
        build_unet(config.size, config.filters, policy, config.batch_norm, config.dropout, config.levels),
        config.learning_rate,
        False,
        loss=config.loss,
    )
    batch = config.batch_size
    steps = -(-len(rows) // batch)
    ds = make_batches(cache, rows, batch, shuffle=True, seed=0, augment=config.augment)

    def pipeline_epoch() -> None:
        for _ in ds:
            pass

    x, y = next(iter(ds))
    one = tf.data.Dataset.from_tensors((x, y)).repeat()  # the same fit, fed from memory

    def step_epoch() -> None:
        model.fit(one, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)

    def fit_epoch() -> None:
        model.fit(ds, epochs=1, verbose=0, shuffle=False)

    threading = tf.config.threading
    threads = (threading.get_inter_op_parallelism_threads(), threading.get_intra_op_parallelism_threads())
    pipe_s = _epoch_seconds(pipeline_epoch, args.epochs)
    step_s = _epoch_seconds(step_epoch, args.epochs)
    fit_s = _epoch_seconds(fit_epoch, args.epochs)
    n = len(rows)
    share = max(0.0, (fit_s - step_s) / fit_s)
    rows_out = [
        ("images, size, batch, augmentation", f"{n}, {config.size} px, {batch}, {config.augment}"),
        ("precision, cores, TF threads (inter, intra; 0 = TF's default)", f"{policy}, {os.cpu_count()}, {threads}"),
        ("pipeline alone (gather + augmentation)", f"{pipe_s:.2f} s/epoch = {n / pipe_s:.1f} img/s"),
        ("step alone (one batch in memory)", f"{step_s:.2f} s/epoch = {n / step_s:.1f} img/s"),
        ("training (fit over the pipeline)", f"{fit_s:.2f} s/epoch = {n / fit_s:.1f} img/s"),
        ("share of the training epoch the pipeline costs", f"{share:.0%}"),
    ]
    result = {
        "preset": args.preset,
        "size": config.size,
        "images": n,
        "batch": batch,
        "augment": config.augment,
        "policy": policy,
        "pipeline_img_s": round(n / pipe_s, 2),
        "step_img_s": round(n / step_s, 2),
        "fit_img_s": round(n / fit_s, 2),
        "pipeline_share": round(share, 3),
    }
    bench.report(f"where a {args.preset} training epoch's time goes", rows_out, result)


if __name__ == "__main__":
    main()
