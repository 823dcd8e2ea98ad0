"""Full-size Dice of a run's masks upsampled bilinearly (the Carvana measure) or guided by the photo.

    python benchmarks/bench_upsample.py --run DATA/.carseg/runs/ID --tune DATA --data OTHER_DATA

The guided filter's settings (radius, eps, band: :func:`carseg_gui.core.upsample.guided_upsample`)
are chosen on ``--tune``'s images that the run held out for validation (its config's ``val_keys``:
cars it never trained on), and only the chosen setting is scored on ``--data`` (cars neither the
training nor the choice saw). Both paths get the run's own TTA and post-processing, as evaluation
does. Prints a table and, as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

GRID = [(r, e, 1.0) for r in (1.0, 2.0, 4.0) for e in (1e-5, 1e-4, 1e-3)]  # radius, eps, band (then band)


def _images(run: Any, model: Any, root: Path, keys: set[str] | None) -> list[tuple[np.ndarray, Path, Path, Any]]:
    """(probability at the run's size, photo path, mask path, original size) per labelled image."""
    from carseg_gui.core.predict import predict_rows
    from carseg_gui.core.preprocess import preprocess, require_labelled

    cache = preprocess(root, root / ".carseg", int(run.config["size"]))
    rows = [r for r in require_labelled(cache) if keys is None or cache.rows[r]["key"] in keys]
    out = []
    for row, prob in predict_rows(model, cache, rows):
        rec = cache.rows[row]
        out.append((prob, Path(rec["image"]), Path(rec["mask"]), rec["orig"]))
    return out


def _score(items: list[Any], settings: list[tuple[float, float, float]], post: Any, subsample: int) -> dict[str, Any]:
    """Dice per image for bilinear and each guided setting, and the seconds the guided path took."""
    from carseg_gui.core.imageio import read_image, read_mask
    from carseg_gui.core.metrics import dice
    from carseg_gui.core.otsu import otsu_mask
    from carseg_gui.core.predict import to_original_size
    from carseg_gui.core.upsample import guided_upsample

    def one(item: Any) -> tuple[float, list[float], float]:
        prob, image, mask, orig = item
        photo, truth = read_image(image)[0], otsu_mask(read_mask(mask))
        bilinear = dice(truth, to_original_size(prob, orig, post=post))
        started = time.perf_counter()
        guided = []
        for radius, eps, band in settings:
            full = guided_upsample(prob, photo, radius=radius, eps=eps, band=band, subsample=subsample)
            guided.append(dice(truth, post(full) if post.active else full))
        return bilinear, guided, (time.perf_counter() - started) / len(settings)

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        results = list(pool.map(one, items))
    bilinear = np.array([r[0] for r in results])
    guided = np.array([r[1] for r in results])  # images x settings
    return {"bilinear": bilinear, "guided": guided, "guided_s": float(np.mean([r[2] for r in results]))}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=Path, required=True, help="the run's folder (model.keras, config.json)")
    p.add_argument("--tune", type=Path, required=True, help="the run's training dataset: its val_keys choose")
    p.add_argument("--data", type=Path, required=True, help="labelled dataset of other cars: scored once")
    p.add_argument("--subsample", type=int, default=4, help="the fast guided filter's step (1: the exact filter)")
    args = p.parse_args(argv)

    from carseg_gui.core.postprocess import PostProcess
    from carseg_gui.core.predict import with_flip_tta
    from carseg_gui.core.project import read_run
    from carseg_gui.core.unet import load_model

    run = read_run(args.run)
    model = load_model(run.model_path)
    model = with_flip_tta(model) if run.config.get("tta") else model
    post = PostProcess.from_config(run.config)
    tune_items = _images(run, model, args.tune, set(run.config["val_keys"]))
    test_items = _images(run, model, args.data, None)

    tune = _score(tune_items, GRID, post, args.subsample)
    best = GRID[int(np.argmax(tune["guided"].mean(axis=0)))]
    bands = [(best[0], best[1], b) for b in (0.5, 2.0)]
    tune_bands = _score(tune_items, bands, post, args.subsample)
    candidates = [best, *bands]
    means = [tune["guided"].mean(axis=0).max(), *tune_bands["guided"].mean(axis=0)]
    chosen = candidates[int(np.argmax(means))]
    test = _score(test_items, [chosen], post, args.subsample)

    rows = [
        (f"r={r:g} eps={e:g} band={b:g}", f"{m:.5f}")
        for (r, e, b), m in zip(GRID, tune["guided"].mean(axis=0), strict=True)
    ]
    rows += [(f"r={r:g} eps={e:g} band={b:g}", f"{m:.5f}") for (r, e, b), m in zip(bands, means[1:], strict=True)]
    title = f"tune: {len(tune_items)} held-out validation images of the run; bilinear {tune['bilinear'].mean():.5f}"
    print(title)
    print("-" * len(title))
    for k, v in rows:
        print(f"{k:<28} {v}")
    b, g = test["bilinear"], test["guided"][:, 0]
    title = (
        f"test: {len(test_items)} images of {args.data}, chosen r={chosen[0]:g} eps={chosen[1]:g} band={chosen[2]:g}"
    )
    print(title)
    print("-" * len(title))
    print(f"{'bilinear':<28} mean {b.mean():.5f}  min {b.min():.4f}")
    print(f"{'guided':<28} mean {g.mean():.5f}  min {g.min():.4f}  ({test['guided_s']:.2f} s an image)")
    better, worse = int((g > b).sum()), int((g < b).sum())
    print(f"{'guided - bilinear':<28} {g.mean() - b.mean():+.5f} (better on {better} images, worse on {worse})")
    result = {
        "run": run.id,
        "size": run.config["size"],
        "tta": bool(run.config.get("tta")),
        "post": post.active,
        "tune_images": len(tune_items),
        "test_images": len(test_items),
        "chosen": {"radius": chosen[0], "eps": chosen[1], "band": chosen[2], "subsample": args.subsample},
        "tune_bilinear": round(float(tune["bilinear"].mean()), 5),
        "tune_guided": round(float(max(means)), 5),
        "dice_full_bilinear": round(float(b.mean()), 5),
        "dice_full_guided": round(float(g.mean()), 5),
        "dice_full_min_bilinear": round(float(b.min()), 5),
        "dice_full_min_guided": round(float(g.min()), 5),
        "guided_s_per_image": round(test["guided_s"], 3),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
