"""The correction loop's quick retrain at the size of a real run: time, and Dice before and after.

On a copy of a trained project (``--project``, its dataset ``--data``), the ``--budget`` labelled images
the active run predicts worst (the review queue's *Worst Dice first*, at the run's size) are "corrected"
by saving their own mask as the correction and setting the status ``corrected``, what a user who fixes
the top of the queue does, here without changing the mask, so what is measured is the retrain, not a
better label. Then ``session.actions.quick_retrain_config`` (the app's *Quick retrain*, ``carseg train
--quick``) retrains, and both runs are scored at full size on those images and on ``--heldout`` (cars
neither run trained on). Reported: the fit time (model.fit alone) and the whole call's time.

Run: python benchmarks/bench_quick.py --project /tmp/carseg-time/project-fast40 --data /tmp/carseg-time/train
     --heldout /tmp/carseg-time/heldout [--budget 16] [--work /tmp/carseg-quick]
Last line: one JSON object.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
import _common as bench


def main() -> None:
    from bench_active import corrected_dice

    from carseg_gui.core.corrections import save_correction
    from carseg_gui.core.imageio import read_mask
    from carseg_gui.core.otsu import otsu_mask
    from carseg_gui.core.review import worst_first
    from carseg_gui.session import actions
    from carseg_gui.session.annotate import set_status

    p = bench.parser(__doc__ or "", limit=0)
    p.add_argument("--project", type=Path, required=True)
    p.add_argument("--heldout", type=Path, required=True)
    p.add_argument("--budget", type=int, default=16)
    p.add_argument("--work", type=Path, default=Path("/tmp/carseg-quick"))
    args = p.parse_args()
    if args.data is None:
        p.error("--data is required: the project's dataset folder")
    project = args.work / "project"
    if args.work.exists():
        shutil.rmtree(args.work)
    shutil.copytree(args.project, project, ignore=shutil.ignore_patterns("project.lock*", "checkpoints"))
    base = actions.find_run(project, "active")
    started = time.perf_counter()
    _, scores = actions.review(args.data, project, base.id)
    picked = worst_first(scores)[: args.budget]
    review_s = time.perf_counter() - started
    cache = actions.prepare(args.data, project, int(base.config["size"]))
    masks = {r["key"]: Path(r["mask"]) for r in cache.rows if r.get("mask")}
    folder = args.work / "picked"
    for sub in ("train", "train_masks"):
        (folder / sub).mkdir(parents=True)
    for key in picked:
        save_correction(project, key, otsu_mask(read_mask(masks[key])))
        set_status(args.data, project, key, "corrected", note="bench_quick: its own mask")
        (folder / "train" / Path(key).name).symlink_to((args.data / key).resolve())
        (folder / "train_masks" / masks[key].name).symlink_to(masks[key].resolve())

    config = actions.quick_retrain_config(base)
    started = time.perf_counter()
    result = actions.train(args.data, project, config, previous=base.id)
    call_s = time.perf_counter() - started
    run = result.run
    out: dict[str, Any] = {
        "benchmark": "quick_retrain",
        "base": base.id,
        "run": run.id,
        "size": base.config["size"],
        "budget": len(picked),
        "train_images": len(run.config["train_keys"]),
        "epochs": config.epochs,
        "best_epoch": run.metrics.get("best_epoch"),
        "fit_s": run.metrics.get("train_s"),
        "call_s": round(call_s, 1),
        "review_s": round(review_s, 1),
    }
    for name, which in (("before", base.folder), ("after", run.folder)):
        out[f"picked_{name}"] = round(corrected_dice(folder, args.work / "project-picked", str(which)), 5)
        out[f"heldout_{name}"] = round(corrected_dice(args.heldout, args.work / "project-heldout", str(which)), 5)
    rows = [
        ("quick retrain", f"run {base.id} -> {run.id} at {out['size']} px, {out['train_images']} images "
         f"({len(picked)} corrected + replay), {config.epochs} epochs, kept epoch {out['best_epoch']}"),
        ("time", f"model.fit {out['fit_s']:.0f} s; the whole call (cache check, TF, comparison) {call_s:.0f} s"),
        (f"the {len(picked)} worst images", f"Dice {out['picked_before']:.4f} -> {out['picked_after']:.4f}"),
        ("held-out cars", f"Dice {out['heldout_before']:.4f} -> {out['heldout_after']:.4f}"),
    ]  # fmt: skip
    bench.report("Quick retrain after correcting the top of the review queue (full-size Dice)", rows, out)


if __name__ == "__main__":
    main()
