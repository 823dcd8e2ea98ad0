"""Peak memory (RSS) of preprocessing and of one training epoch as the dataset grows.

Each phase runs in its own process and reports its peak RSS, so the numbers do not mix. The target:
peak RSS does not grow with the number of images beyond the cache itself (the cache is read with
plain reads, so its pages stay out of the training process's RSS), also at --size 512.
Run: python benchmarks/bench_memory.py [--data DIR] [--counts 1000,5000] [--size 128]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import _common as bench

CHILD = r"""
import json, os, resource, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
from pathlib import Path
phase, root, project, size = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
from carseg_gui.core.preprocess import preprocess
from carseg_gui.core.cache import open_cache
if phase == "preprocess":
    preprocess(root, project, size)
else:
    import keras
    from carseg_gui.core.training import make_batches
    from carseg_gui.core.precision import choose_policy
    from carseg_gui.core.unet import build_unet, compile_unet, compute_device
    cache = open_cache(project, size)
    rows = cache.labelled_rows()
    model = compile_unet(build_unet(size, 16, choose_policy("auto", compute_device(), timing=False)))
    steps = int(sys.argv[5]) if len(sys.argv) > 5 else None
    model.fit(make_batches(cache, rows, 16, True, 0), epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
cache = open_cache(project, size)
gen = cache.folder / cache.index["generation"]
print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "cache_mb": sum(f.stat().st_size for f in gen.iterdir()) / 2**20}))
"""


def scaled_dataset(n: int, width: int, height: int) -> Path:
    """N distinct file names over a pool of 64 generated pairs (hard links): decoding cost and memory
    behave as for N different photos, without rendering thousands of full-size images first."""
    pool = bench.dataset(None, 64, width, height)
    out = Path(tempfile.gettempdir()) / f"carseg-bench-scaled-{n}-{width}x{height}"
    if (out / "done").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    (out / "train").mkdir(parents=True)
    (out / "train_masks").mkdir()
    sources = bench.pairs(pool, 64)
    for i in range(n):
        image, mask = sources[i % len(sources)]
        stem = f"{i // 16:012x}_{i % 16 + 1:02d}"
        os.link(image, out / "train" / f"{stem}.jpg")
        os.link(mask, out / "train_masks" / f"{stem}_mask.gif")
    (out / "done").touch()
    return out


def phase(name: str, root: Path, project: Path, size: int, steps: int | None = None) -> dict[str, float]:
    cmd = [sys.executable, "-c", CHILD, name, str(root), str(project), str(size)]
    if steps:
        cmd.append(str(steps))
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    p = bench.parser(__doc__ or "", limit=5000)
    p.add_argument("--counts", default="1000,5000", help="dataset sizes to compare (comma-separated)")
    p.add_argument("--size", type=int, default=128, help="cache size (try 512 for the streaming case)")
    p.add_argument("--steps", type=int, default=0, help="limit the training epoch to N batches (0: whole epoch)")
    p.add_argument("--width", type=int, default=1918)
    p.add_argument("--height", type=int, default=1280)
    args = p.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    results = []
    for n in counts:
        root = scaled_dataset(n, args.width, args.height) if args.data is None else args.data
        project = Path(tempfile.mkdtemp(prefix="carseg-mem-"))
        try:
            pre = phase("preprocess", root, project, args.size)
            tr = phase("train", root, project, args.size, args.steps or None)
        finally:
            shutil.rmtree(project, ignore_errors=True)
        results.append(
            {
                "images": n,
                "preprocess_peak_mb": round(pre["peak_rss_mb"]),
                "train_peak_mb": round(tr["peak_rss_mb"]),
                "cache_mb": round(pre["cache_mb"]),
            }
        )
    first, last = results[0], results[-1]
    growth_pre = last["preprocess_peak_mb"] - first["preprocess_peak_mb"]
    growth_train = last["train_peak_mb"] - first["train_peak_mb"]
    cache_growth = last["cache_mb"] - first["cache_mb"]
    rows = [
        (
            f"{r['images']} images",
            f"preprocess {r['preprocess_peak_mb']} MB, train epoch {r['train_peak_mb']} MB, cache {r['cache_mb']} MB",
        )
        for r in results
    ]
    rows.append(
        ("growth (last - first)", f"preprocess +{growth_pre} MB, train +{growth_train} MB, cache +{cache_growth} MB")
    )
    bench.report(
        f"peak RSS at size {args.size}",
        rows,
        {
            "size": args.size,
            "results": results,
            "preprocess_growth_mb": growth_pre,
            "train_growth_mb": growth_train,
            "cache_growth_mb": cache_growth,
        },
    )


if __name__ == "__main__":
    main()
