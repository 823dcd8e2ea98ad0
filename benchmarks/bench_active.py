"""Does the annotation loop pay? Least-confident-first corrections against random ones, on real cars.

Per seed (the seed picks the K labelled cars and the random choice; the training seed is fixed):

1. DATA's ``train_images``/``train_masks`` (14 cars) are the pool. K of its cars are copied as labelled
   (``train/`` + ``train_masks/``, carseg's Carvana layout); the other cars' images go to ``test/`` with
   their true masks kept aside in ``hidden_masks/`` (the app never sees them).
2. A base run is trained through the session layer (``session.actions.train``: the recipe preset at 128 px,
   ``--epochs``/``--patience`` capped, training seed ``--train-seed``). Its validation cars are chosen there
   and recorded in the project (state.json), so every later run validates on the same car.
3. The project is copied twice. In each copy B unlabelled images are "corrected" the way a user does it
   through the session layer: their true mask (Otsu of the original GIF, at full size) is saved with
   ``core.corrections.save_correction`` and ``session.annotate.set_status(..., "corrected")``. One copy
   takes the B least confident (``session.annotate.queue(..., "unlabelled", "confidence")``, the base run's
   scores, which takes one view per car and per angle at a time), the other B drawn at random (seeded). ``--plain``
   adds a third copy with the B least confident by score alone (the queue's order before it spread the
   picks over cars).
4. Each copy retrains (same preset, epochs, patience, seed as the base run): ``--retrain fresh`` from
   random weights, or ``--retrain warm`` from the base run's best weights (the app's "Start from the
   active run", what the correction loop does).
5. Full-size Dice of the three runs on the cars of ``val_images``/``val_masks`` (4 cars that no run trains
   on), by ``session.actions.evaluate`` on a dataset folder of those cars with the run's folder as ``run``.
6. The export's Dice over the whole unlabelled pool (what ``carseg export`` writes: the human mask of a
   corrected image, the run's prediction for the others), scored against the hidden true masks, after the
   retrain and with the base run's predictions (no retrain). This measures the user's result on the
   images they were annotating; step 5 measures the model on cars no one annotated.

Reported: per seed the three Dice and least-confident - random; over the seeds mean +- sd (sample sd).
Everything is written under --work (DATA is only read).

Run: python benchmarks/bench_active.py --data /tmp/carvana/data [--work /tmp/carseg-active]
     [--seeds 0 1 2] [--k 3] [--budget 16] [--epochs 15] [--patience 2] [--train-seed 0]
     [--retrain fresh|warm] [--plain]
Last line: one JSON object (per seed and summary).
"""

from __future__ import annotations

import random
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
import _common as bench

STARTED = time.perf_counter()


def log(text: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f} s] {text}", file=sys.stderr, flush=True)


def car_of(path: Path) -> str:
    return path.stem.split("_")[0]


def copy_files(files: list[Path], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copy2(f, folder / f.name)


def mask_of(masks: Path, image: Path) -> Path:
    return masks / f"{image.stem}_mask.gif"


def lay_out_pool(data: Path, root: Path, labelled_cars: set[str]) -> dict[str, Path]:
    """The pool as carseg's Carvana layout: the labelled cars in train/ + train_masks/, the others in test/
    (no mask); returns {test key: its true mask}, kept in hidden_masks/ beside the dataset."""
    if root.exists():
        shutil.rmtree(root)
    images = sorted(p for p in (data / "train_images").iterdir() if p.suffix.lower() == ".jpg")
    labelled = [p for p in images if car_of(p) in labelled_cars]
    hidden = [p for p in images if car_of(p) not in labelled_cars]
    copy_files(labelled, root / "data" / "train")
    copy_files([mask_of(data / "train_masks", p) for p in labelled], root / "data" / "train_masks")
    copy_files(hidden, root / "data" / "test")
    copy_files([mask_of(data / "train_masks", p) for p in hidden], root / "hidden_masks")
    return {f"test/{p.name}": root / "hidden_masks" / mask_of(data / "train_masks", p).name for p in hidden}


def lay_out_val(data: Path, root: Path) -> Path:
    """val_images/ + val_masks/ as a labelled dataset folder (once)."""
    folder = root / "val"
    if not (folder / "train").is_dir():
        images = sorted(p for p in (data / "val_images").iterdir() if p.suffix.lower() == ".jpg")
        copy_files(images, folder / "train")
        copy_files([mask_of(data / "val_masks", p) for p in images], folder / "train_masks")
    return folder


def progress_printer(label: str) -> Any:
    def show(p: Any) -> None:
        if p.stage == "epoch":
            info = p.info
            log(
                f"{label}: epoch {p.done}/{p.total} loss {info.get('loss', float('nan')):.4f} "
                f"val_loss {info.get('val_loss', float('nan')):.4f} best {info.get('best_epoch')}"
            )
        elif p.stage == "device":
            log(f"{label}: device {p.message}")

    return show


def train_run(root: Path, project: Path, config: Any, label: str) -> dict[str, Any]:
    from carseg_gui.session.actions import train

    started = time.perf_counter()
    result = train(root, project, config, progress=progress_printer(label))
    run = result.run
    if run.status != "finished" or not run.has_model:
        raise SystemExit(f"{label}: the run {run.id} ended {run.status}")
    seconds = round(time.perf_counter() - started, 1)
    train_keys = run.config.get("train_keys", [])
    info = {
        "run": str(run.folder),
        "train_s": seconds,
        "fit_s": run.metrics.get("train_s"),  # model.fit alone, without preprocessing and loading
        "train_images": len(train_keys),
        "val_images": len(run.config.get("val_keys", [])),
        "corrected_in_training": sum(k.startswith("test/") for k in train_keys),
        "best_epoch": run.metrics.get("best_epoch"),
        "epochs_run": run.metrics.get("epochs_run"),
    }
    log(f"{label}: {run.id} trained in {seconds} s on {len(train_keys)} images, best epoch {info['best_epoch']}")
    return info


def held_out_dice(val_root: Path, val_project: Path, run_folder: str) -> tuple[float, int]:
    """(full-size Dice, images) of the run on the held-out cars."""
    from carseg_gui.session.actions import evaluate

    result = evaluate(val_root, val_project, run=run_folder)
    if result["splits"]["other"]["images"] != result["images"]:
        raise SystemExit(f"run {run_folder} trained on a held-out image")
    return float(result["dice_full"]), int(result["images"])


def link_picked(folder: Path, keys: list[str], root: Path, truths: dict[str, Path]) -> Path:
    """The corrected images with their true masks as a labelled dataset folder (symlinks)."""
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "train").mkdir(parents=True)
    (folder / "train_masks").mkdir()
    for key in keys:
        image = root / key
        (folder / "train" / image.name).symlink_to(image.resolve())
        (folder / "train_masks" / truths[key].name).symlink_to(truths[key].resolve())
    return folder


def corrected_dice(folder: Path, project: Path, run_folder: str) -> float:
    from carseg_gui.session.actions import evaluate

    return float(evaluate(folder, project, run=run_folder)["dice_full"])


def pool_dice(folder: Path, project: Path, run_folder: str) -> dict[str, float]:
    """Full-size Dice per unlabelled image (keyed by file name) of the run, against the hidden true masks."""
    from carseg_gui.session.actions import evaluate

    return {Path(p["key"]).name: float(p["dice_full"]) for p in evaluate(folder, project, run=run_folder)["per_image"]}


def export_dice(per_image: dict[str, float], corrected: list[str]) -> float:
    """Mean Dice of what export writes for the pool: the human mask (exact here) for a corrected image, the
    run's prediction for the others."""
    names = {Path(k).name for k in corrected}
    return statistics.fmean(1.0 if name in names else d for name, d in per_image.items())


def correct(root: Path, project: Path, keys: list[str], truths: dict[str, Path]) -> None:
    """Play the annotator: the true mask at full size as the correction, status "corrected"."""
    from carseg_gui.core.corrections import save_correction
    from carseg_gui.core.imageio import read_mask
    from carseg_gui.core.otsu import otsu_mask
    from carseg_gui.session.annotate import set_status

    for key in keys:
        save_correction(project, key, otsu_mask(read_mask(truths[key])))
        set_status(root, project, key, "corrected", note="bench_active: the true mask")


def one_seed(args: Any, seed: int, val_root: Path) -> dict[str, Any]:
    from carseg_gui.core.confidence import least_confident_first
    from carseg_gui.core.presets import make_config
    from carseg_gui.session.annotate import queue

    data: Path = args.data
    cars = sorted({car_of(p) for p in (data / "train_images").iterdir() if p.suffix.lower() == ".jpg"})
    labelled_cars = sorted(random.Random(f"cars-{seed}").sample(cars, args.k))
    work = args.work / f"seed{seed}"
    truths = lay_out_pool(data, work, set(labelled_cars))
    root = work / "data"
    log(f"seed {seed}: labelled cars {labelled_cars}, {len(truths)} unlabelled images")
    config = dict(preset="recipe", size=128, epochs=args.epochs, patience=args.patience, seed=args.train_seed)

    base_project = work / "project-base"
    out: dict[str, Any] = {"seed": seed, "labelled_cars": labelled_cars, "unlabelled": len(truths)}
    out["base"] = train_run(root, base_project, make_config(**config), f"seed {seed} base")

    started = time.perf_counter()
    q = queue(root, base_project, "unlabelled", "confidence")  # the base run is the active one
    assert q["run"] == Path(out["base"]["run"]).name, q["run"]
    items = [i for i in q["items"] if i["source"] == "predicted"]
    score = {i["key"]: i["score"] for i in items}
    log(f"seed {seed}: confidence of {len(items)} unlabelled images in {time.perf_counter() - started:.1f} s")
    choices = {
        "least_confident": [i["key"] for i in items[: args.budget]],
        "random": sorted(random.Random(f"pick-{seed}").sample(sorted(score), args.budget)),
    }
    if args.plain:
        choices["least_confident_plain"] = least_confident_first(score)[: args.budget]
    if args.retrain == "quick":  # the app's Quick retrain (session.actions.quick_retrain_config)
        from carseg_gui.session.actions import find_run, quick_retrain_config

        retrain = quick_retrain_config(find_run(base_project, out["base"]["run"]))
    else:
        retrain = make_config(**(dict(config, init_from=out["base"]["run"]) if args.retrain == "warm" else config))
    val_project = args.work / "project-val"
    out["base"]["dice"], out["held_out_images"] = held_out_dice(val_root, val_project, out["base"]["run"])
    log(f"seed {seed}: base held-out Dice {out['base']['dice']:.4f}")
    pool = link_picked(work / "pool", sorted(truths), root, truths)
    base_pool = pool_dice(pool, work / "project-pool", out["base"]["run"])
    out["base"]["export_dice"] = statistics.fmean(base_pool.values())
    for name, keys in choices.items():
        project = work / f"project-{name}"
        if project.exists():
            shutil.rmtree(project)
        shutil.copytree(base_project, project, ignore=shutil.ignore_patterns("project.lock*"))
        correct(root, project, keys, truths)
        info = train_run(root, project, retrain, f"seed {seed} {name}")
        if info["corrected_in_training"] != len(keys):
            raise SystemExit(f"seed {seed} {name}: {info['corrected_in_training']} of {len(keys)} corrected trained")
        info["dice"], _ = held_out_dice(val_root, val_project, info["run"])
        # The corrected images themselves, before (the base run) and after (this run), at full size.
        picked = link_picked(work / f"picked-{name}", keys, root, truths)
        info["corrected_before"] = corrected_dice(picked, work / f"project-picked-{name}", out["base"]["run"])
        info["corrected_after"] = corrected_dice(picked, work / f"project-picked-{name}", info["run"])
        # What export writes for the whole pool: the B human masks, and this run's (or the base run's, had
        # the user not retrained) predictions for the rest.
        info["export_dice"] = export_dice(pool_dice(pool, work / "project-pool", info["run"]), keys)
        info["export_dice_no_retrain"] = export_dice(base_pool, keys)
        info["picked_cars"] = len({car_of(Path(k)) for k in keys})
        info["picked_mean_confidence"] = round(statistics.fmean(score[k] for k in keys), 4)
        info["picked"] = keys
        out[name] = info
        log(f"seed {seed} {name}: held-out Dice {info['dice']:.4f}")
    out["difference"] = out["least_confident"]["dice"] - out["random"]["dice"]
    return out


def mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def main() -> None:
    p = bench.parser(__doc__ or "", limit=0)
    p.add_argument("--work", type=Path, default=Path("/tmp/carseg-active"))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--k", type=int, default=3, help="labelled cars (16 views each)")
    p.add_argument("--budget", type=int, default=16, help="images corrected per choice (B)")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--patience", type=int, default=2)
    p.add_argument("--train-seed", type=int, default=0, help="the training seed, the same for every run")
    p.add_argument(
        "--retrain",
        choices=("fresh", "warm", "quick"),
        default="fresh",
        help="retrain from random weights, from the base run's best weights (same settings), or the app's "
        "quick retrain of the base run (its settings, new + 3x replayed images, 6 epochs at 0.3x the rate)",
    )
    p.add_argument("--plain", action="store_true", help="also the B least confident by score alone")
    args = p.parse_args()
    args.data = args.data or Path("/tmp/carvana/data")
    args.work.mkdir(parents=True, exist_ok=True)
    val_root = lay_out_val(args.data, args.work)
    seeds = [one_seed(args, s, val_root) for s in args.seeds]

    arms = ("base", "least_confident", "random") + (("least_confident_plain",) if args.plain else ())
    summary: dict[str, Any] = {}
    for arm in arms:
        m, sd = mean_sd([s[arm]["dice"] for s in seeds])
        summary[arm] = {"mean": round(m, 5), "sd": round(sd, 5)}
    diffs = [s["difference"] for s in seeds]
    m, sd = mean_sd(diffs)
    summary["difference"] = {"mean": round(m, 5), "sd": round(sd, 5), "wins": sum(d > 0 for d in diffs)}

    rows: list[tuple[str, str]] = [
        ("setting", f"K={args.k} labelled cars, B={args.budget} corrected images, recipe 128 px, "
         f"epochs<={args.epochs}, patience {args.patience}, train seed {args.train_seed}, {args.retrain} retrain"),
        ("seed", "base      least-conf  random    LC - random  (picked cars LC/random; train s base/LC/random)"),
    ]  # fmt: skip
    for s in seeds:
        lc, rnd, base = s["least_confident"], s["random"], s["base"]
        times = f"{base['train_s']:.0f}/{lc['train_s']:.0f}/{rnd['train_s']:.0f}"
        rows.append((
            str(s["seed"]),
            f"{base['dice']:.4f}    {lc['dice']:.4f}      {rnd['dice']:.4f}    {s['difference']:+.4f}      "
            f"({lc['picked_cars']}/{rnd['picked_cars']}; {times})",
        ))  # fmt: skip
    rows.append((
        "mean ± sd",
        "  ".join(f"{summary[a]['mean']:.4f}±{summary[a]['sd']:.4f}" for a in arms[:3])
        + f"  {summary['difference']['mean']:+.4f}±{summary['difference']['sd']:.4f}",
    ))  # fmt: skip
    rows.append(("LC beat random", f"on {summary['difference']['wins']} of {len(seeds)} seeds"))
    for arm in ("least_confident", "random"):
        before = [s[arm]["corrected_before"] for s in seeds]
        after = [s[arm]["corrected_after"] for s in seeds]
        fit = [s[arm]["fit_s"] or 0.0 for s in seeds]
        summary[arm].update(
            corrected_before=round(statistics.fmean(before), 5), corrected_after=round(statistics.fmean(after), 5)
        )
        summary[arm]["fit_s_max"] = round(max(fit), 1)
        rows.append((
            f"{arm}: its {args.budget} corrected images",
            f"Dice {statistics.fmean(before):.4f} before -> {statistics.fmean(after):.4f} after "
            f"(better on {sum(a > b for a, b in zip(after, before, strict=True))} of {len(seeds)} seeds); "
            f"retrain fit {min(fit):.0f}-{max(fit):.0f} s",
        ))  # fmt: skip
    ex_diffs = [s["least_confident"]["export_dice"] - s["random"]["export_dice"] for s in seeds]
    m, sd = mean_sd(ex_diffs)
    summary["export_difference"] = {"mean": round(m, 5), "sd": round(sd, 5), "wins": sum(d > 0 for d in ex_diffs)}
    base_ex = [s["base"]["export_dice"] for s in seeds]
    rows.append(("export Dice, the pool as exported", f"base alone {statistics.fmean(base_ex):.4f}"))
    for arm in ("least_confident", "random"):
        ex = [s[arm]["export_dice"] for s in seeds]
        no_re = [s[arm]["export_dice_no_retrain"] for s in seeds]
        summary[arm].update(export_dice=round(statistics.fmean(ex), 5))
        summary[arm].update(export_dice_no_retrain=round(statistics.fmean(no_re), 5))
        rows.append((
            f"  {arm}: {args.budget} human masks + predictions",
            f"{statistics.fmean(no_re):.4f} with the base run's, {statistics.fmean(ex):.4f} after the retrain "
            f"(per seed: {' '.join(f'{d:.4f}' for d in ex)})",
        ))  # fmt: skip
    rows.append((
        "  LC - random, after the retrain",
        f"{m:+.4f} ± {sd:.4f}, LC ahead on {summary['export_difference']['wins']} of {len(seeds)} seeds",
    ))  # fmt: skip
    if args.plain:
        plain = [s["least_confident_plain"]["dice"] for s in seeds]
        rows.append(
            (
                "LC by score alone",
                "  ".join(f"{d:.4f}" for d in plain)
                + f"  (mean {statistics.fmean(plain):.4f}; picked cars "
                + "/".join(str(s["least_confident_plain"]["picked_cars"]) for s in seeds)
                + ")",
            )
        )
    rows.append(("total", f"{time.perf_counter() - STARTED:.0f} s"))
    result = {
        "benchmark": "active",
        "k_cars": args.k,
        "budget": args.budget,
        "epochs": args.epochs,
        "patience": args.patience,
        "train_seed": args.train_seed,
        "retrain": args.retrain,
        "queue": "one view per car and per angle at a time" + (", and by score alone" if args.plain else ""),
        "held_out_images": seeds[0]["held_out_images"],
        "summary": summary,
        "seeds": [{k: v for k, v in s.items()} for s in seeds],
        "total_s": round(time.perf_counter() - STARTED, 1),
    }
    title = "Least-confident-first vs random corrections: full-size Dice on 4 held-out cars"
    bench.report(title, rows, result)


if __name__ == "__main__":
    main()
