"""Which confidence score ranks images by how wrong their prediction is: measured on held-out real cars.

A recipe run is trained with ``carseg train`` (``--preset recipe --size 128``, one run, seeded) on the
cars of DATA's ``train_images``/``train_masks``; then, on the cars of ``val_images``/``val_masks`` (never
trained on, labelled), every method of :mod:`carseg_gui.core.confidence` scores each image from the
run's cache-size probability map (and, for the flip methods, the map of the mirrored photo), and the real
Dice is taken at full size (the project's ``evaluate``: upsampled, thresholded, against the Otsu-binarised
original mask). Reported per method: Spearman's rank correlation between (1 - confidence) and (1 - Dice)
over all held-out images, its 95 % bootstrap interval (images resampled), the mean of the per-car
correlations (does it rank the views of one car too?), how many of the 10 worst images by Dice are
among the 10 least confident, and in what share of the bootstrap resamples the best method beats it
(near 50 %: no measurable difference). Folders are copied into --work (DATA is only read); the run is reused when
--work already has one (--retrain trains again).

Run: python benchmarks/bench_confidence.py --data /tmp/carvana/data [--work /tmp/carseg-confidence]
     [--seed 0] [--retrain]
Last line: one JSON object (spearman per method, the best one, images, cars, run).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
import _common as bench


def copy_pairs(src_images: Path, src_masks: Path, dst: Path) -> int:
    """DATA's X_images/X_masks copied to dst/train_images + dst/train_masks (a layout carseg reads)."""
    n = 0
    for sub, src in (("train_images", src_images), ("train_masks", src_masks)):
        (dst / sub).mkdir(parents=True, exist_ok=True)
        for f in sorted(src.iterdir()):
            if f.is_file() and not (dst / sub / f.name).exists():
                shutil.copy2(f, dst / sub / f.name)
            n += sub == "train_images"
    return n


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 with ties given their mean rank (what Spearman's rho needs)."""
    x = np.asarray(x, np.float64)
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x), np.float64)
    r[order] = np.arange(len(x))
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    return (np.bincount(inverse, r) / counts)[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = ranks(a), ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def bootstrap_indices(n: int, times: int = 2000, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, n, n) for _ in range(times)]


def train_run(train_dir: Path, project: Path, seed: int) -> tuple[Path, list[str]]:
    """``carseg train`` on the training cars; returns the run folder and the command."""
    cmd = [sys.executable, "-c", "import sys; from carseg_gui.cli import main; sys.exit(main())"]
    args = ["train", str(train_dir), "--project", str(project), "--preset", "recipe", "--size", "128"]
    args += ["--seed", str(seed)]
    subprocess.run(cmd + args, check=True)
    return sorted((project / "runs").iterdir())[-1], ["carseg", *args]


def score_images(run_folder: Path, project: Path, val_dir: Path, work: Path) -> list[dict[str, Any]]:
    from carseg_gui.core.confidence import all_confidences, flipped_probs
    from carseg_gui.core.evaluate import evaluate
    from carseg_gui.session.actions import find_run, load_run_model, prepare

    info = find_run(project, str(run_folder))
    model = load_run_model(info)  # as export predicts: the run's own TTA
    plain = load_run_model(info, tta=False) if info.config.get("tta") else model
    cache = prepare(val_dir, work / "project-val", int(info.config.get("size", 128)))
    full = {p["key"]: p["dice_full"] for p in evaluate(cache, info, model)["per_image"]}
    rows = [i for i, r in enumerate(cache.rows) if r["labelled"]]
    out = []
    for start in range(0, len(rows), 16):
        chunk = rows[start : start + 16]
        batch = cache.read_images(chunk)
        probs = np.asarray(model.predict_on_batch(batch))[..., 0]
        own = probs if plain is model else np.asarray(plain.predict_on_batch(batch))[..., 0]
        mirrored = flipped_probs(plain, batch)
        for row, prob, p_plain, p_flip in zip(chunk, probs, own, mirrored, strict=True):
            key = cache.rows[row]["key"]
            scores = all_confidences(prob, None)
            flip = all_confidences(p_plain, p_flip)
            scores.update({m: flip[m] for m in flip if m not in scores})
            car = Path(key).stem.split("_")[0]
            out.append({"key": key, "car": car, "dice_full": full[key], "scores": scores})
    return out


def analyse(images: list[dict[str, Any]]) -> tuple[str, dict[str, dict[str, Any]]]:
    """(the best method, per method: Spearman, its 95 % bootstrap interval, the per-car mean, the worst-10
    overlap, and the share of bootstrap resamples in which the best method ranks better than this one)."""
    error = np.array([1 - im["dice_full"] for im in images])
    cars = np.array([im["car"] for im in images])
    worst = set(np.argsort(-error, kind="mergesort")[:10].tolist())
    resamples = bootstrap_indices(len(images))
    result: dict[str, dict[str, Any]] = {}
    boots: dict[str, np.ndarray] = {}
    for method in images[0]["scores"]:
        doubt = np.array([1 - im["scores"][method] for im in images])
        per_car = [spearman(doubt[cars == c], error[cars == c]) for c in sorted(set(cars))]
        least = set(np.argsort(-doubt, kind="mergesort")[:10].tolist())
        boots[method] = np.array([spearman(doubt[i], error[i]) for i in resamples])
        lo, hi = np.nanpercentile(boots[method], [2.5, 97.5])
        result[method] = {
            "spearman": round(spearman(doubt, error), 4),
            "ci95": [round(float(lo), 3), round(float(hi), 3)],
            "per_car": [round(v, 3) for v in per_car],
            "per_car_mean": round(float(np.nanmean(per_car)), 4),
            "worst10_overlap": len(worst & least),
        }
    # NaN (no spread: every error or every score alike, e.g. a run that finds no car) never wins.
    best = max(result, key=lambda m: -np.inf if np.isnan(result[m]["spearman"]) else result[m]["spearman"])
    for method, r in result.items():
        r["best_better_share"] = round(float(np.mean(boots[best] > boots[method])), 3) if method != best else None
    return best, result


def finite(obj: Any) -> Any:
    """NaN as null: the JSON line stays strict JSON."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [finite(v) for v in obj]
    return obj


def main() -> None:
    p = bench.parser(__doc__ or "", limit=0)
    p.add_argument("--work", type=Path, default=Path("/tmp/carseg-confidence"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--retrain", action="store_true", help="train a new run even when --work has one")
    args = p.parse_args()
    data = args.data or Path("/tmp/carvana/data")
    work: Path = args.work
    train_dir, val_dir, project = work / "train", work / "val", work / "project"
    train_images = copy_pairs(data / "train_images", data / "train_masks", train_dir)
    copy_pairs(data / "val_images", data / "val_masks", val_dir)
    runs = sorted((project / "runs").glob("*/model.keras")) if (project / "runs").is_dir() else []
    started = time.perf_counter()
    if runs and not args.retrain:
        run_folder = runs[-1].parent
        command = "(reused)"
    else:
        run_folder, cmd = train_run(train_dir, project, args.seed)
        command = " ".join(cmd)
    train_s = round(time.perf_counter() - started, 1)
    images = score_images(run_folder, project, val_dir, work)
    (work / "scores.json").write_text(json.dumps(images, indent=1))
    best, result = analyse(images)
    dice = [im["dice_full"] for im in images]
    cars = sorted({im["car"] for im in images})
    rows = [
        ("run", f"{run_folder.name} ({command}, {train_s} s)"),
        ("held-out images", f"{len(images)} ({len(cars)} cars), training images {train_images}"),
        ("Dice (full size)", f"mean {np.mean(dice):.4f}, min {min(dice):.4f}, max {max(dice):.4f}"),
        ("method", "Spearman [95 % CI]  per-car mean  worst-10 overlap  best better in"),
    ]
    for method, r in sorted(result.items(), key=lambda kv: -kv[1]["spearman"]):
        lo, hi = r["ci95"]
        share = "-" if r["best_better_share"] is None else f"{100 * r['best_better_share']:.0f} %"
        text = f"{r['spearman']:+.3f} [{lo:+.2f}, {hi:+.2f}]  {r['per_car_mean']:+.3f}"
        rows.append((method, f"{text}  {r['worst10_overlap']}/10  {share}"))
    summary = {
        "benchmark": "confidence",
        "images": len(images),
        "cars": len(cars),
        "train_images": train_images,
        "run": run_folder.name,
        "dice_full_mean": round(float(np.mean(dice)), 5),
        "best": best,
        "spearman": {m: r["spearman"] for m, r in result.items()},
        "per_method": result,
    }
    title = "Confidence vs real error on held-out cars (Spearman of 1 - confidence and 1 - Dice)"
    bench.report(title, rows, finite(summary))


if __name__ == "__main__":
    main()
