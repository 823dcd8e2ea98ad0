"""Preprocessing speed: the project's path against plain ways of doing the recipe, on the same pairs.

Every path gets the same full-size pairs, after the same warm-up (every file read once, so all of them
find the files in the page cache), and the project writes a fresh cache (nothing to reuse):

* project: ``preprocess`` (reduced-size JPEG decode, Pillow's box-filtered GIF, Otsu, the cache on disk);
* plain OpenCV + Pillow: full-size decode of both files, ``cv2.resize`` INTER_AREA, OpenCV's Otsu, on
  the same number of threads: what the recipe costs done well but without the project's shortcuts;
* plain scikit-image: imread + resize + threshold_otsu, one pair at a time (the recipe as often written);
  each path runs once on one pair first, untimed (imports, thread pools);
* decode-only ceiling: the project's reduced decode of both files and nothing else, same threads.

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

Pairs = list[tuple[Path, Path]]


def warm_up(pairs: Pairs) -> None:
    for image, mask in pairs:
        image.read_bytes()
        mask.read_bytes()


def plain_skimage(pairs: Pairs, size: int) -> None:
    from skimage.filters import threshold_otsu
    from skimage.io import imread
    from skimage.transform import resize

    for image, mask in pairs:
        resize(imread(image), (size, size, 3))
        m = imread(mask)
        m = m[0] if m.ndim == 4 else m  # imageio returns GIFs as a stack of frames ...
        m = m[..., 0] if m.ndim == 3 else m  # ... of RGB(A) pixels: Carvana's masks are grey
        m = resize(m, (size, size))
        _ = m > threshold_otsu(m)


def plain_opencv(pairs: Pairs, size: int, workers: int) -> None:
    import cv2
    from PIL import Image

    def one(pair: tuple[Path, Path]) -> None:
        bgr = cv2.imdecode(np.frombuffer(pair[0].read_bytes(), np.uint8), cv2.IMREAD_COLOR)
        cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA)
        with Image.open(pair[1]) as im:
            grey = np.asarray(im.convert("L"))
        small = cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA)
        cv2.threshold(small, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, pairs))


def decode_only(pairs: Pairs, size: int, workers: int) -> None:
    from carseg_gui.core.imageio import read_image, read_mask

    def one(pair: tuple[Path, Path]) -> None:
        read_image(pair[0], min_side=size)
        read_mask(pair[1])

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, pairs))


def project_path(pairs: Pairs, size: int, workers: int, folder: Path) -> float:
    """Seconds of ``preprocess`` into a new project over a dataset view of exactly these pairs."""
    from carseg_gui.core.preprocess import preprocess

    subset = folder / "data"
    (subset / "train").mkdir(parents=True)
    (subset / "train_masks").mkdir()
    for image, mask in pairs:
        os.symlink(image, subset / "train" / image.name)
        os.symlink(mask, subset / "train_masks" / mask.name)
    with bench.timer() as t:
        cache = preprocess(subset, folder / "p", size, workers=workers)
    assert len(cache.labelled_rows()) == len(pairs) and np.asarray(cache.masks()[0]).max() == 1
    return t()


def main() -> None:
    args = bench.parser(__doc__ or "", limit=32).parse_args()
    root = bench.dataset(args.data, args.limit)
    pairs = bench.pairs(root, args.limit)
    n, size, workers = len(pairs), 128, os.cpu_count() or 1
    warm_up(pairs)
    # Each path once on one pair, untimed: imports, thread pools and first-call set-up are not measured.
    plain_skimage(pairs[:1], size)
    plain_opencv(pairs[:1], size, workers)
    decode_only(pairs[:1], size, workers)
    folder = Path(tempfile.mkdtemp(prefix="carseg-bench-"))
    try:
        project_path(pairs[:1], size, workers, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    with bench.timer() as t_skimage:
        plain_skimage(pairs, size)
    with bench.timer() as t_opencv:
        plain_opencv(pairs, size, workers)
    with bench.timer() as t_decode:
        decode_only(pairs, size, workers)
    folder = Path(tempfile.mkdtemp(prefix="carseg-bench-"))
    try:
        t_project = project_path(pairs, size, workers, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    rates = {
        "project": n / t_project,
        "opencv_pillow": n / t_opencv(),
        "skimage": n / t_skimage(),
        "decode_ceiling": n / t_decode(),
    }
    bench.report(
        f"preprocess: the same {n} pairs from {root}, warm page cache, {workers} threads (skimage: 1)",
        [
            ("project (pairs/s)", f"{rates['project']:.1f}"),
            ("plain OpenCV + Pillow, full decode (pairs/s)", f"{rates['opencv_pillow']:.1f}"),
            ("plain scikit-image, one at a time (pairs/s)", f"{rates['skimage']:.2f}"),
            ("decode-only ceiling (pairs/s)", f"{rates['decode_ceiling']:.1f}"),
            ("project / OpenCV + Pillow", f"{rates['project'] / rates['opencv_pillow']:.2f}x"),
            ("project / scikit-image", f"{rates['project'] / rates['skimage']:.1f}x"),
            ("project / ceiling", f"{rates['project'] / rates['decode_ceiling']:.0%}"),
        ],
        {
            "pairs": n,
            "workers": workers,
            **{f"{k}_pairs_per_s": round(v, 3) for k, v in rates.items()},
            "ratio_vs_opencv_pillow": round(rates["project"] / rates["opencv_pillow"], 2),
            "ratio_vs_skimage": round(rates["project"] / rates["skimage"], 1),
            "fraction_of_ceiling": round(rates["project"] / rates["decode_ceiling"], 3),
        },
    )


if __name__ == "__main__":
    main()
