"""Accuracy of the training presets on cars the model has never seen: grouped k-fold by car.

The cars of DATA (every ``<x>_images``/``<x>_masks`` or ``train``/``train_masks`` pair of folders in it)
are shuffled with a fixed seed and cut into K folds; for each fold, each preset trains on the other
folds' cars (its own 10 % validation split is taken from those) and the project's ``evaluate`` scores
the held-out cars at their original size (Dice of the upsampled, thresholded, post-processed mask
against the Otsu-binarised original mask). Fold folders are symlinks in ``--work``; nothing is copied.
Results are saved per fold as they finish, so an interrupted run resumes where it stopped.

Run: python benchmarks/bench_accuracy.py --data /tmp/carvana/data [--folds 3] [--presets recipe,best]
     [--set best:size=192 ...] [--name best:NAME] [--only-fold 0] [--train-cars N] [--work DIR] [--report]
Last line: one JSON object (dice_full_recipe, dice_full_best, train_s_recipe, train_s_best, per fold).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
import _common as bench


def labelled_pairs(data: Path) -> list[tuple[Path, Path]]:
    """(image, mask) of every labelled image under DATA, in both Carvana folder namings."""
    out = []
    for images in sorted(p for p in data.iterdir() if p.is_dir()):
        if images.name == "train":
            masks = data / "train_masks"
        elif images.name.endswith("_images"):
            masks = data / (images.name[: -len("_images")] + "_masks")
        else:
            continue
        for img in sorted(images.glob("*.jpg")):
            mask = masks / f"{img.stem}_mask.gif"
            if mask.exists():
                out.append((img, mask))
    return out


def car_folds(pairs: list[tuple[Path, Path]], k: int, seed: int) -> list[list[str]]:
    """K lists of car ids (the 12-character prefix), as equal in size as the cars allow."""
    cars = sorted({img.stem.split("_")[0] for img, _ in pairs})
    random.Random(seed).shuffle(cars)
    return [sorted(cars[i::k]) for i in range(k)]


def link_dataset(folder: Path, pairs: list[tuple[Path, Path]]) -> Path:
    """A Carvana-layout folder of symlinks (train/ + train_masks/), rebuilt from scratch."""
    for sub in ("train", "train_masks"):
        d = folder / sub
        d.mkdir(parents=True, exist_ok=True)
        for old in d.iterdir():
            old.unlink()
    for img, mask in pairs:
        (folder / "train" / img.name).symlink_to(img.resolve())
        (folder / "train_masks" / mask.name).symlink_to(mask.resolve())
    return folder


def parse_sets(items: list[str]) -> dict[str, dict[str, Any]]:
    """--set best:size=192 → {"best": {"size": 192}} (values parsed as JSON when they can be)."""
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    for item in items:
        preset, _, assignment = item.partition(":")
        key, _, value = assignment.partition("=")
        try:
            out[preset][key] = json.loads(value)
        except json.JSONDecodeError:
            out[preset][key] = value
    return out


def settings(preset: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The resolved training settings (what decides whether a saved result can be reused)."""
    from dataclasses import asdict

    from carseg_gui.core.presets import make_config

    skip = {"precision", "xla", "strategy", "init_from", "checkpoint_every"}
    return {k: v for k, v in asdict(make_config(preset, **overrides)).items() if k not in skip}


def run_fold(
    fold_dir: Path,
    preset: str,
    overrides: dict[str, Any],
    compare: bool,
    name: str | None = None,
    train_dir: Path | None = None,
) -> dict[str, Any]:
    from carseg_gui.core.evaluate import evaluate
    from carseg_gui.core.presets import make_config
    from carseg_gui.session.actions import find_run, load_run_model, prepare
    from carseg_gui.session.actions import train as train_action

    tag = name or preset
    config = make_config(preset, **overrides)
    train_project = fold_dir / f"project-{tag}"
    started, cpu_started = time.perf_counter(), time.process_time()
    run = train_action(train_dir or fold_dir / "train", train_project, config).run
    wall = time.perf_counter() - started
    # CPU seconds of this process: on a shared machine they say what the training costs better than
    # the wall clock does (quiet, training keeps ~1.85 of the 2 cores busy).
    cpu = time.process_time() - cpu_started
    info = find_run(train_project, str(run.folder))
    heldout = fold_dir / "heldout"
    cache = prepare(heldout, fold_dir / "project-heldout", config.size)
    result: dict[str, Any] = {
        "preset": preset,
        "overrides": overrides,
        "settings": settings(preset, overrides),
        "run": str(run.folder),
        "train_s": run.metrics.get("train_s"),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "load_avg": round(os.getloadavg()[0], 2),
        "best_epoch": run.metrics.get("best_epoch"),
        "epochs_run": run.metrics.get("epochs_run"),
        "val_dice": run.metrics.get("val_dice"),
        "train_images": len(info.config.get("train_keys", [])),
        "val_images": len(info.config.get("val_keys", [])),
    }
    model = load_run_model(info)
    ev = evaluate(cache, info, model, compare_post=compare)
    result.update({k: v for k, v in ev.items() if k.startswith(("dice_", "iou_")) or k == "images"})
    if compare and info.config.get("tta"):
        # The same run without test-time augmentation (post-processing variants are in the first pass).
        plain = evaluate(cache, info, load_run_model(info, tta=False), compare_post=True)
        result["no_tta"] = {k: v for k, v in plain.items() if k.startswith("dice_full")}
    return result


def main() -> None:
    p = bench.parser(__doc__ or "", limit=0)
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--seed", type=int, default=0, help="seed of the car shuffle")
    p.add_argument("--presets", default="recipe,best")
    p.add_argument("--set", action="append", default=[], metavar="PRESET:KEY=VALUE", help="override a setting")
    p.add_argument("--name", action="append", default=[], metavar="PRESET:NAME", help="results key of a preset")
    p.add_argument("--only-fold", type=int, action="append", help="run these folds only (0-based)")
    p.add_argument("--work", type=Path, default=Path("/tmp/carseg-kfold"), help="fold folders and results")
    p.add_argument("--no-compare", action="store_true", help="skip the with/without TTA and post comparison")
    p.add_argument("--report", action="store_true", help="only print the table of the results saved in --work")
    p.add_argument(
        "--train-cars",
        type=int,
        default=0,
        help="train on only this many of each fold's training cars (a learning curve; 0: all of them)",
    )
    args = p.parse_args()
    if args.data is None:
        p.error("--data is required: a folder with real cars (train_images/ + train_masks/, ...)")

    pairs = labelled_pairs(args.data)
    folds = car_folds(pairs, args.folds, args.seed)
    presets = [s for s in args.presets.split(",") if s]
    sets = parse_sets(args.set)
    names = dict(item.split(":", 1) for item in args.name)
    args.work.mkdir(parents=True, exist_ok=True)
    results_path = args.work / "results.json"
    results: dict[str, Any] = json.loads(results_path.read_text()) if results_path.exists() else {}
    cars_suffix = f"@{args.train_cars}cars" if args.train_cars else ""  # a learning-curve point is its own result

    for f, held in enumerate(folds):
        if args.report or (args.only_fold and f not in args.only_fold):
            continue
        fold_dir = args.work / f"fold{f}"
        held_set = set(held)
        train_pairs = [pr for pr in pairs if pr[0].stem.split("_")[0] not in held_set]
        train_dir = fold_dir / "train"
        if args.train_cars:
            # The same cars for every preset: the first N of the fold's training cars in a seeded order.
            cars = sorted({img.stem.split("_")[0] for img, _ in train_pairs})
            random.Random(args.seed).shuffle(cars)
            kept = set(cars[: args.train_cars])
            train_pairs = [pr for pr in train_pairs if pr[0].stem.split("_")[0] in kept]
            train_dir = fold_dir / f"train-{args.train_cars}cars"
        link_dataset(train_dir, train_pairs)
        link_dataset(fold_dir / "heldout", [pr for pr in pairs if pr[0].stem.split("_")[0] in held_set])
        for preset in presets:
            tag = names.get(preset, preset)
            key = f"fold{f}/{tag}{cars_suffix}"
            if key in results and results[key].get("settings") == settings(preset, sets.get(preset, {})):
                continue  # done with exactly these settings in an earlier (interrupted) invocation
            print(f"fold {f} ({len(held)} held-out cars): training {tag} ...", file=sys.stderr, flush=True)
            res = run_fold(fold_dir, preset, dict(sets.get(preset, {})), not args.no_compare, tag, train_dir)
            res["heldout_cars"] = held
            res["train_cars"] = args.train_cars or None
            results[key] = res
            results_path.write_text(json.dumps(results, indent=1))
            print(f"  {key}: dice_full {res['dice_full']:.4f} in {res['train_s']:.0f} s", file=sys.stderr, flush=True)

    tags = [names.get(pr, pr) + cars_suffix for pr in presets]
    rows: list[tuple[str, str]] = []
    summary: dict[str, Any] = {"folds": args.folds, "cars": sum(len(h) for h in folds), "per_fold": {}}
    for tag in tags:
        done = [results[f"fold{f}/{tag}"] for f in range(args.folds) if f"fold{f}/{tag}" in results]
        if not done:
            continue
        dice = [d["dice_full"] for d in done]
        train_s = [d["train_s"] for d in done]
        spread = statistics.stdev(dice) if len(dice) > 1 else 0.0
        rows.append(
            (
                f"{tag}: full-size Dice, mean ± sd over {len(done)} fold(s)",
                f"{statistics.mean(dice):.4f} ± {spread:.4f}  (min {min(dice):.4f}, max {max(dice):.4f})",
            )
        )
        rows.append(
            (
                f"{tag}: train seconds per fold",
                f"{statistics.mean(train_s):.0f}  ({', '.join(f'{t:.0f}' for t in train_s)})",
            )
        )
        for f, d in enumerate(done):
            extra = ""
            if "dice_full_no_post" in d:
                extra += f", no post {d['dice_full_no_post']:.4f}"
            if "no_tta" in d:
                extra += f", no TTA {d['no_tta']['dice_full']:.4f}"
            rows.append(
                (
                    f"  fold {f}",
                    f"Dice {d['dice_full']:.4f} (min image {d['dice_full_min']:.4f}{extra}), "
                    f"{d['train_s']:.0f} s, best epoch {d['best_epoch']}/{d['epochs_run']}",
                )
            )
        summary[f"dice_full_{tag}"] = round(statistics.mean(dice), 5)
        summary[f"dice_full_sd_{tag}"] = round(spread, 5)
        summary[f"train_s_{tag}"] = round(statistics.mean(train_s), 1)
        summary["per_fold"][tag] = [
            {"dice_full": d["dice_full"], "train_s": d["train_s"], "best_epoch": d["best_epoch"]} for d in done
        ]
    bench.report(f"grouped {args.folds}-fold by car on {args.data} ({summary['cars']} cars)", rows, summary)


if __name__ == "__main__":
    main()
