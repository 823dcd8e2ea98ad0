"""Preprocessing speed: the project's path vs the recipe done plainly, on the same full-size pairs.

Baseline: scikit-image imread + resize + threshold_otsu, one file at a time. Ceiling: decoding
alone (reduced-size JPEG + GIF) on the same threads the project uses.
Run: python benchmarks/bench_preprocess.py [--data DIR] [--limit N]
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import _common as bench


def plain(pairs: list[tuple[Path, Path]], size: int) -> None:
    from skimage.filters import threshold_otsu
    from skimage.io import imread
    from skimage.transform import resize

    for image, mask in pairs:
        resize(imread(image), (size, size, 3))
        m = imread(mask)
        m = m[0] if m.ndim == 4 else m  # imageio returns GIFs as a stack of frames
        m = resize(m, (size, size, *m.shape[2:]))
        _ = m > threshold_otsu(m)


def decode_only(pairs: list[tuple[Path, Path]], size: int, workers: int) -> None:
    from carseg_gui.core.imageio import read_image, read_mask

    def one(pair: tuple[Path, Path]) -> None:
        read_image(pair[0], min_side=size)
        read_mask(pair[1])

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, pairs))


def main() -> None:
    args = bench.parser(__doc__ or "", limit=128).parse_args()
    root = bench.dataset(args.data, args.limit)
    pairs = bench.pairs(root, args.limit)
    n, size, workers = len(pairs), 128, os.cpu_count() or 1
    plain_n = max(4, min(n, 16))  # the plain path is ~100x slower: a few pairs give its rate
    with bench.timer() as t_plain:
        plain(pairs[:plain_n], size)
    with bench.timer() as t_decode:
        decode_only(pairs, size, workers)

    from carseg_gui.core.preprocess import preprocess

    project = Path(tempfile.mkdtemp(prefix="carseg-bench-"))
    try:
        # A dataset view holding just the first `limit` pairs, so --limit applies to the project too.
        subset = project / "data"
        (subset / "train").mkdir(parents=True)
        (subset / "train_masks").mkdir()
        for image, mask in pairs:
            os.symlink(image, subset / "train" / image.name)
            os.symlink(mask, subset / "train_masks" / mask.name)
        with bench.timer() as t_project:
            cache = preprocess(subset, project / "p", size, workers=workers)
        assert len(cache.labelled_rows()) == n and np.asarray(cache.masks()[0]).max() == 1
    finally:
        shutil.rmtree(project, ignore_errors=True)

    rate = n / t_project()
    plain_rate = plain_n / t_plain()
    ceiling = n / t_decode()
    bench.report(
        f"preprocess: {n} pairs from {root} ({workers} cores)",
        [
            ("project (pairs/s)", f"{rate:.1f}"),
            ("plain skimage (pairs/s)", f"{plain_rate:.2f}  (on {plain_n} pairs)"),
            ("ratio project/plain", f"{rate / plain_rate:.0f}x"),
            ("decode-only ceiling (pairs/s)", f"{ceiling:.1f}"),
            ("project / ceiling", f"{rate / ceiling:.0%}"),
        ],
        {
            "pairs": n,
            "workers": workers,
            "pairs_per_s": round(rate, 2),
            "plain_pairs_per_s": round(plain_rate, 3),
            "ratio": round(rate / plain_rate, 1),
            "decode_ceiling_pairs_per_s": round(ceiling, 2),
            "fraction_of_ceiling": round(rate / ceiling, 3),
        },
    )


if __name__ == "__main__":
    main()
