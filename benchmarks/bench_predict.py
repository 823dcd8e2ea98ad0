"""Prediction throughput vs plain `model.predict`, and end-to-end export of masks at original size.

Same weights in both models; the project's copy computes in the dtype policy training would choose
(bfloat16 on CPUs with AMX/AVX-512 BF16). Export = predict + upsample + threshold + PNG encode + write.
Run: python benchmarks/bench_predict.py [--data DIR] [--limit N]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import _common as bench


def main() -> None:
    args = bench.parser(__doc__ or "", limit=128).parse_args()
    root = bench.dataset(args.data, args.limit)

    from carseg_gui.core.export import export_masks
    from carseg_gui.core.precision import choose_policy
    from carseg_gui.core.predict import predict_rows
    from carseg_gui.core.preprocess import preprocess
    from carseg_gui.core.project import RunInfo
    from carseg_gui.core.unet import build_unet, compute_device

    tmp = Path(tempfile.mkdtemp(prefix="carseg-bench-"))
    try:
        cache = preprocess(root, tmp / "p", 128)
        rows = cache.rows_for_set("all")[: args.limit]
        policy = choose_policy("auto", compute_device())
        plain = build_unet(128, 16)
        ours = build_unet(128, 16, policy)
        ours.set_weights(plain.get_weights())
        x = np.asarray(cache.images()[rows])
        plain.predict(x[:32], batch_size=32, verbose=0)  # warm-up: tracing
        list(predict_rows(ours, cache, rows[:32]))
        with bench.timer() as t_plain:
            plain.predict(x, batch_size=32, verbose=0)
        with bench.timer() as t_ours:
            list(predict_rows(ours, cache, rows))
        run = RunInfo("bench", tmp, "finished", {"size": 128}, {})
        start = time.perf_counter()
        summary = export_masks(cache, run, ours, tmp / "out", which="all")
        export_s = time.perf_counter() - start
        n_export = len(summary.written)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    n = len(rows)
    plain_rate, our_rate, export_rate = n / t_plain(), n / t_ours(), n_export / export_s
    bench.report(
        f"prediction: {n} images at 128x128 ({policy}); export at original size",
        [
            ("plain model.predict (img/s)", f"{plain_rate:.1f}"),
            ("project predict_rows (img/s)", f"{our_rate:.1f}"),
            ("ratio project/plain", f"{our_rate / plain_rate:.2f}x"),
            ("export PNG masks at original size (img/s)", f"{export_rate:.1f}"),
        ],
        {
            "images": n,
            "policy": policy,
            "plain_images_per_s": round(plain_rate, 2),
            "images_per_s": round(our_rate, 2),
            "ratio": round(our_rate / plain_rate, 2),
            "export_images_per_s": round(export_rate, 2),
        },
    )


if __name__ == "__main__":
    main()
