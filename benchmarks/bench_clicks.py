"""Clicks to fix a mask: the click refiner vs GrabCut vs the brush, on real cars none of them trained on.

Starting point: a segmentation run's prediction at full size (its own threshold and post-processing).
Clicks are simulated as interactive segmentation papers do (core/clicks.py: the interior point of the
largest error region, positive for a missed part, negative for a false one); each method answers each
click: the refiner (its crop around the click), GrabCut on the same crop with every click so far as
certain seeds, and the brush (one disc of the editor's default brush, 30 px, painted or erased).
Reported: NoC@99 and NoC@99.5 (mean clicks to full-size Dice >= 0.99 / 0.995, capped at --cap, an image
that never gets there counting the cap), Dice after 1, 2, 3 and 5 clicks, and milliseconds per click
(the method only, not the simulator).

The data folder needs train_images/ + train_masks/ (the refiner trains on them; the segmentation run
should too) and val_images/ + val_masks/ (scored); the cars (the 12-character prefix of a file name)
of the two must not overlap.
Run: python benchmarks/bench_clicks.py --data /tmp/carvana/data --seg-run RUN [--refiner RUN | --epochs N]
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import _common as bench

THRESHOLDS = (0.99, 0.995)
AFTER = (1, 2, 3, 5)


def val_pairs(data: Path, limit: int, cars: str | None = None) -> list[tuple[Path, Path]]:
    """The scored photos: the first ``limit`` of val_images/, of the cars numbered in ``cars`` ("0,1": the
    first two cars by name) when given, so settings can be chosen on some cars and reported on others."""
    masks = {p.name[: -len("_mask.gif")]: p for p in (data / "val_masks").glob("*_mask.gif")}
    images = sorted(p for p in (data / "val_images").glob("*.jpg") if p.stem in masks)
    if cars:
        names = sorted({p.name[:12] for p in images})
        keep = {names[int(i)] for i in cars.split(",")}
        images = [p for p in images if p.name[:12] in keep]
    return [(p, masks[p.stem]) for p in images[:limit]]


def check_split(data: Path, val: list[tuple[Path, Path]]) -> tuple[int, int]:
    train_cars = {p.name[:12] for p in (data / "train_images").glob("*.jpg")}
    val_cars = {p.name[:12] for p, _ in val}
    if train_cars & val_cars:
        raise SystemExit(f"cars in both train_images and val_images: {sorted(train_cars & val_cars)}")
    return len(train_cars), len(val_cars)


def start_masks(seg_run: Path, val: list[tuple[Path, Path]]) -> list[np.ndarray]:
    """The segmentation run's full-size masks, as prediction and export make them."""
    from carseg_gui.core.postprocess import PostProcess
    from carseg_gui.core.predict import to_original_size, with_flip_tta
    from carseg_gui.core.preprocess import decode_pair
    from carseg_gui.core.unet import load_model

    config = json.loads((seg_run / "config.json").read_text())
    model = load_model(seg_run / "model.keras")
    if config.get("tta"):
        model = with_flip_tta(model)
    post = PostProcess.from_config(config)
    out = []
    for image, _ in val:
        decoded = decode_pair(image, None, int(config["size"]))
        prob = np.asarray(model.predict_on_batch(decoded.image[None]))[0, ..., 0]
        out.append(to_original_size(prob, decoded.orig, 0.5, post, image, str(config.get("upsample", "bilinear"))))
    return out


def run_clicks(
    method: Callable[[np.ndarray, np.ndarray, list[Any]], np.ndarray],
    image: np.ndarray,
    truth: np.ndarray,
    start: np.ndarray,
    cap: int,
) -> tuple[list[float], list[float]]:
    """(Dice after 0..n clicks, ms of each click): clicks until Dice >= the last threshold or ``cap``."""
    from carseg_gui.core.clicks import next_click
    from carseg_gui.core.metrics import dice

    mask, clicks = start.copy(), []
    dices, times = [dice(truth, mask)], []
    while len(clicks) < cap and dices[-1] < THRESHOLDS[-1]:
        click = next_click(truth, mask)
        if click is None:
            break
        clicks.append(click)
        t = time.perf_counter()
        mask = method(image, mask, clicks)
        times.append(1000 * (time.perf_counter() - t))
        dices.append(dice(truth, mask))
    return dices, times


def noc(dices: list[float], threshold: float, cap: int) -> int:
    return next((k for k, d in enumerate(dices) if d >= threshold), cap)


def main() -> None:
    p = bench.parser(__doc__ or "", limit=64)
    p.add_argument("--seg-run", type=Path, required=True, help="a `carseg train` run folder (the starting masks)")
    p.add_argument("--refiner", type=Path, help="a refiner run folder (default: train one on train_images)")
    p.add_argument("--work", type=Path, default=Path("/tmp/carseg-bench-clicks"), help="where a new refiner run goes")
    p.add_argument("--epochs", type=int, default=6, help="refiner training epochs when training one")
    p.add_argument("--samples-per-image", type=int, default=2)
    p.add_argument("--filters", type=int, default=8)
    p.add_argument("--errors", default="coarse", help="the refiner's training errors: coarse, fine or mixed")
    p.add_argument("--val-cars", help="score only these val_images cars, numbered by name from 0: e.g. 0,1")
    p.add_argument("--cap", type=int, default=20, help="most clicks per image (NoC cap)")
    p.add_argument("--brush-radius", type=float, default=15.0, help="the editor's default brush: 30 px wide")
    p.add_argument(
        "--methods",
        default="refiner,grabcut,brush",
        help="which to score; 'oracle' adds the bound of any tool that changes only the crop around a click: "
        "the true mask pasted into the refiner's crop (base 256 px, grown as the refiner's)",
    )
    p.add_argument(
        "--crops",
        default="256",
        help="refiner variants to score: base crop sides, L = only changes at the click: 256,384,256L",
    )
    args = p.parse_args()
    if args.data is None:
        raise SystemExit("--data is required (a folder with train_images/, train_masks/, val_images/, val_masks/)")

    from carseg_gui.core.clicks import Click, crop_box, crop_side
    from carseg_gui.core.grabcut import brush_click, grabcut_refine
    from carseg_gui.core.imageio import read_image, read_mask
    from carseg_gui.core.otsu import otsu_mask
    from carseg_gui.core.refiner import load_refiner, refine_click
    from carseg_gui.core.refiner_training import RefinerConfig, train_refiner

    chosen = set(args.methods.split(","))
    val = val_pairs(args.data, args.limit, args.val_cars)
    n_train_cars, n_val_cars = check_split(args.data, val)
    train_s = None
    if "refiner" not in chosen:
        args.crops = ""
    elif args.refiner is None:
        config = RefinerConfig(
            epochs=args.epochs, samples_per_image=args.samples_per_image, filters=args.filters, errors=args.errors
        )
        started = time.perf_counter()
        args.refiner = train_refiner(args.data, args.work / "project", config, progress=_print_epochs)
        train_s = round(time.perf_counter() - started, 1)
        print(f"refiner run {args.refiner} ({train_s} s)", file=sys.stderr)
    refiner = load_refiner(args.refiner) if "refiner" in chosen else None
    starts = start_masks(args.seg_run, val)

    methods: dict[str, Callable[[np.ndarray, np.ndarray, list[Any]], np.ndarray]] = {}
    truth_now: list[np.ndarray] = []  # the photo being scored, for the oracle

    def oracle(image: np.ndarray, mask: np.ndarray, clicks: list[Any]) -> np.ndarray:
        last = clicks[-1]
        y0, y1, x0, x1 = crop_box(mask.shape, last, crop_side(mask, last))
        out = mask.copy()
        out[y0:y1, x0:x1] = truth_now[0][y0:y1, x0:x1]
        return out

    for variant in [v for v in args.crops.split(",") if v]:
        side, local = int(variant.removesuffix("L")), variant.endswith("L")

        def refine(
            image: np.ndarray, mask: np.ndarray, clicks: list[Any], side: int = side, local: bool = local
        ) -> np.ndarray:
            refiner.base_crop = side
            return refine_click(refiner, image, mask, clicks, local=local)

        methods[f"refiner_{side}" + ("_local" if local else "")] = refine
    if "grabcut" in chosen:
        methods["grabcut"] = lambda image, mask, clicks: grabcut_refine(image, mask, clicks)
    methods["brush"] = lambda image, mask, clicks: brush_click(mask, clicks[-1], args.brush_radius)
    if "oracle" in chosen:
        methods["oracle_crop"] = oracle

    if refiner is not None:  # the first call traces the model's graph: not a click's time
        warm_image, _ = read_image(val[0][0])
        middle = Click(warm_image.shape[0] // 2, warm_image.shape[1] // 2, True)
        refine_click(refiner, warm_image, starts[0], [middle])
    results: dict[str, dict[str, list[Any]]] = {m: {"dices": [], "ms": []} for m in methods}
    for i, ((image_path, mask_path), start) in enumerate(zip(val, starts, strict=True)):
        image, _ = read_image(image_path)
        truth = otsu_mask(read_mask(mask_path))
        truth_now[:] = [truth]
        for name, method in methods.items():
            dices, times = run_clicks(method, image, truth, start, args.cap)
            results[name]["dices"].append(dices)
            results[name]["ms"].extend(times)
        line = "  ".join(f"{m} {len(r['dices'][-1]) - 1} clicks {r['dices'][-1][-1]:.4f}" for m, r in results.items())
        print(
            f"{i + 1}/{len(val)} {image_path.name}: start {results['brush']['dices'][-1][0]:.4f}  {line}",
            file=sys.stderr,
        )

    summary: dict[str, dict[str, float]] = {}
    for name, r in results.items():
        s = {f"noc{str(t)[2:]}": float(np.mean([noc(d, t, args.cap) for d in r["dices"]])) for t in THRESHOLDS}
        for k in AFTER:
            s[f"dice_after_{k}"] = float(np.mean([d[min(k, len(d) - 1)] for d in r["dices"]]))
        s["ms_median"] = float(np.median(r["ms"])) if r["ms"] else 0.0
        s["ms_p90"] = float(np.percentile(r["ms"], 90)) if r["ms"] else 0.0
        summary[name] = s
    main_refiner = next(iter(methods))
    start_dice = float(np.mean([d[0] for d in results["brush"]["dices"]]))
    rows = [
        ("images (cars) scored / cars trained on", f"{len(val)} ({n_val_cars}) / {n_train_cars}"),
        ("start: full-size Dice of the segmentation run", f"{start_dice:.4f}"),
        ("method: NoC@99 NoC@99.5 | Dice after 1 2 3 5 | ms/click median p90", ""),
    ]
    for name, s in summary.items():
        after = " ".join(f"{s[f'dice_after_{k}']:.4f}" for k in AFTER)
        rows.append(
            (f"  {name}", f"{s['noc99']:.2f} {s['noc995']:.2f} | {after} | {s['ms_median']:.0f} {s['ms_p90']:.0f}")
        )
    result = {
        "noc99_refiner": summary[main_refiner]["noc99"] if refiner is not None else None,
        "noc995_refiner": summary[main_refiner]["noc995"] if refiner is not None else None,
        "noc99_grabcut": summary.get("grabcut", {}).get("noc99"),
        "noc995_grabcut": summary.get("grabcut", {}).get("noc995"),
        "noc99_brush": summary["brush"]["noc99"],
        "noc995_brush": summary["brush"]["noc995"],
        "ms_per_click_median": summary[main_refiner]["ms_median"] if refiner is not None else None,
        "start_dice": start_dice,
        "cap": args.cap,
        "images": len(val),
        "val_cars": sorted({p.name[:12] for p, _ in val}),
        "refiner_run": str(args.refiner),
        "refiner_train_s": train_s,
        "methods": summary,
    }
    bench.report(f"clicks to fix a mask: {len(val)} unseen images, cap {args.cap}", rows, result)


def _print_epochs(p: Any) -> None:
    if p.stage == "epoch" or (p.stage == "load" and p.done == p.total):
        print(f"refiner {p.stage} {p.done}/{p.total} {p.info}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
