"""Time to accuracy: full-size Dice on cars the run never saw against training minutes, per preset.

DATA is ``data/`` of koos-burgoyne/uNet: its ``train_images``/``train_masks`` cars train (each run keeps
its own validation car(s) from those, grouped by car), its ``val_images``/``val_masks`` cars are the outer
held-out set. Each run saves its model every ``--every`` epochs (``checkpoint_every``); each checkpoint is
scored at full size (the run's TTA, post-processing and upsampling, as ``carseg evaluate``) on

- the run's own **validation** cars (inside the training cars): the only figure any choice is made on;
- the **outer held-out** cars: reported, never used to choose.

The curve's x is the training time at that epoch (``elapsed_s`` in history.json, the model.fit wall clock).
Results are saved in ``--work`` per run and per checkpoint, so an interrupted run resumes.

Run: python benchmarks/bench_time.py --data /tmp/carvana/data --presets best,fast [--every 5]
     [--set fast:warmup_epochs=30 --name fast:NAME] [--work /tmp/carseg-time] [--report]
Last line: one JSON object: per run its settings, train_s, the curve and the minutes to 0.985 / 0.99.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
import _common as bench
from bench_accuracy import link_dataset, parse_sets, settings

TARGETS = (0.985, 0.99)


def pairs_of(images: Path, masks: Path) -> list[tuple[Path, Path]]:
    out = []
    for img in sorted(images.glob("*.jpg")):
        mask = masks / f"{img.stem}_mask.gif"
        if mask.exists():
            out.append((img, mask))
    return out


def train_run(work: Path, tag: str, preset: str, overrides: dict[str, Any], every: int) -> dict[str, Any]:
    from carseg_gui.core.presets import make_config
    from carseg_gui.session.actions import train as train_action

    config = make_config(preset, checkpoint_every=every, **overrides)
    started, cpu_started = time.perf_counter(), time.process_time()
    run = train_action(work / "train", work / f"project-{tag}", config).run
    return {
        "preset": preset,
        "overrides": overrides,
        "settings": settings(preset, overrides),
        "run": str(run.folder),
        "status": run.status,
        "train_s": run.metrics.get("train_s"),
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(time.process_time() - cpu_started, 1),
        "load_avg": round(os.getloadavg()[0], 2),
        "best_epoch": run.metrics.get("best_epoch"),
        "epochs_run": run.metrics.get("epochs_run"),
        "curve": {},
    }


def score(run_dir: Path, model_path: Path, data: Path, project: Path) -> dict[str, float]:
    """Full-size Dice of one saved model on a dataset folder, with the run's inference settings."""
    from carseg_gui.core.evaluate import evaluate
    from carseg_gui.core.predict import with_flip_tta
    from carseg_gui.core.unet import load_model
    from carseg_gui.session.actions import find_run, prepare

    info = find_run(run_dir.parent.parent, str(run_dir))
    model = load_model(model_path)
    size = int(model.input_shape[1])  # a warm-up checkpoint is the smaller model
    cache = prepare(data, project, size)
    model = with_flip_tta(model) if info.config.get("tta") else model
    ev = evaluate(cache, info, model)
    return {"dice_full": round(ev["dice_full"], 5), "dice_full_min": round(ev["dice_full_min"], 5), "size": size}


def inner_folder(work: Path, tag: str, run_dir: Path, pairs: list[tuple[Path, Path]]) -> Path:
    """The run's own validation images as a dataset folder of symlinks."""
    keys = {Path(k).stem for k in json.loads((run_dir / "config.json").read_text())["val_keys"]}
    if not keys:
        raise SystemExit(f"{run_dir}: the run kept no validation cars, so nothing can be chosen on them")
    return link_dataset(work / f"inner-{tag}", [p for p in pairs if p[0].stem in keys])


def checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    out = []
    for path in sorted((run_dir / "checkpoints").glob("epoch-*.keras")):
        m = re.fullmatch(r"epoch-(\d+)\.keras", path.name)
        if m:
            out.append((int(m.group(1)), path))
    return out


def minutes_to(curve: list[dict[str, Any]], target: float) -> float | None:
    for point in curve:
        if point["outer"]["dice_full"] >= target:
            return round(point["elapsed_s"] / 60, 2)
    return None


def main() -> None:
    p = bench.parser(__doc__ or "", limit=0)
    p.add_argument("--presets", default="best")
    p.add_argument("--set", action="append", default=[], metavar="PRESET:KEY=VALUE", help="override a setting")
    p.add_argument("--name", action="append", default=[], metavar="PRESET:NAME", help="results key of a preset")
    p.add_argument("--every", type=int, default=5, help="score the model every this many epochs")
    p.add_argument("--work", type=Path, default=Path("/tmp/carseg-time"))
    p.add_argument("--report", action="store_true", help="only print the results saved in --work")
    args = p.parse_args()
    if args.data is None:
        p.error("--data is required: data/ of koos-burgoyne/uNet (train_images/, val_images/, ...)")
    train_pairs = pairs_of(args.data / "train_images", args.data / "train_masks")
    outer_pairs = pairs_of(args.data / "val_images", args.data / "val_masks")
    args.work.mkdir(parents=True, exist_ok=True)
    link_dataset(args.work / "train", train_pairs)
    link_dataset(args.work / "heldout", outer_pairs)
    results_path = args.work / "results.json"
    results: dict[str, Any] = json.loads(results_path.read_text()) if results_path.exists() else {}
    sets = parse_sets(args.set)
    names = dict(item.split(":", 1) for item in args.name)

    def save() -> None:
        tmp = results_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=1))
        os.replace(tmp, results_path)

    tags = []
    for preset in [s for s in args.presets.split(",") if s]:
        tag = names.get(preset, preset)
        tags.append(tag)
        overrides = dict(sets.get(preset, {}))
        if args.report:
            continue
        res = results.get(tag)
        if not res or res.get("settings") != settings(preset, overrides) or res.get("status") != "finished":
            print(f"training {tag} ...", file=sys.stderr, flush=True)
            res = results[tag] = train_run(args.work, tag, preset, overrides, args.every)
            save()
        run_dir = Path(res["run"])
        history = json.loads((run_dir / "history.json").read_text())
        inner = inner_folder(args.work, tag, run_dir, train_pairs)
        points = checkpoints(run_dir)
        points.append((0, run_dir / "model.keras"))  # 0: the run's kept (best validation) model
        for epoch, path in points:
            key = str(epoch)
            if key in res["curve"]:
                continue
            entry = history[epoch - 1] if epoch else history[int(res["best_epoch"]) - 1]
            res["curve"][key] = {
                "epoch": epoch or res["best_epoch"],
                "kept": epoch == 0,
                "elapsed_s": entry.get("elapsed_s"),
                "size": entry.get("size", res["settings"].get("size")),  # a plain run: all at its size
                "inner": score(run_dir, path, inner, args.work / f"project-inner-{tag}"),
                "outer": score(run_dir, path, args.work / "heldout", args.work / "project-heldout"),
            }
            save()
            c = res["curve"][key]
            print(
                f"  {tag} epoch {c['epoch']}{' (kept)' if epoch == 0 else ''}: inner {c['inner']['dice_full']:.4f}"
                f" outer {c['outer']['dice_full']:.4f} at {c['elapsed_s']} s",
                file=sys.stderr,
                flush=True,
            )

    rows: list[tuple[str, str]] = []
    summary: dict[str, Any] = {"train_cars": len({a.stem[:12] for a, _ in train_pairs}), "runs": {}}
    summary["outer_cars"] = len({a.stem[:12] for a, _ in outer_pairs})
    for tag in tags:
        res = results.get(tag)
        if not res:
            continue
        curve = sorted((c for c in res["curve"].values() if not c["kept"]), key=lambda c: c["epoch"])
        kept = next((c for c in res["curve"].values() if c["kept"]), None)
        rows.append(
            (
                f"{tag}: train s, best epoch",
                f"{res['train_s']:.0f} s (cpu {res['cpu_s']:.0f}), {res['best_epoch']}/{res['epochs_run']}",
            )
        )
        if kept:
            rows.append(
                (
                    f"{tag}: kept model, full-size Dice",
                    f"validation cars {kept['inner']['dice_full']:.4f}, held-out cars {kept['outer']['dice_full']:.4f}"
                    f" (worst image {kept['outer']['dice_full_min']:.4f})",
                )
            )
        for c in curve:
            size = c["size"] or res["settings"].get("size")  # results saved before a plain run's size was kept
            rows.append(
                (
                    f"  epoch {c['epoch']} ({size} px), {c['elapsed_s'] / 60:.1f} min",
                    f"validation {c['inner']['dice_full']:.4f}, held-out {c['outer']['dice_full']:.4f}",
                )
            )
        reach = {f"min_to_{t}": minutes_to(curve, t) for t in TARGETS}
        rows.append((f"{tag}: minutes to held-out 0.985 / 0.99", f"{reach['min_to_0.985']} / {reach['min_to_0.99']}"))
        summary["runs"][tag] = {
            "settings": res["settings"],
            "train_s": res["train_s"],
            "cpu_s": res["cpu_s"],
            "best_epoch": res["best_epoch"],
            "dice_full_inner": kept and kept["inner"]["dice_full"],
            "dice_full_outer": kept and kept["outer"]["dice_full"],
            **reach,
            "curve": [[c["epoch"], c["elapsed_s"], c["inner"]["dice_full"], c["outer"]["dice_full"]] for c in curve],
        }
    bench.report(f"time to accuracy on {args.data}: train_images cars train, val_images cars held out", rows, summary)


if __name__ == "__main__":
    main()
