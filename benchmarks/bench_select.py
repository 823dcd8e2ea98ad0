"""Nested choice of a trained run's inference settings: chosen on its validation car, reported on held-out cars.

The best preset's flip TTA and post-processing were chosen on the same three folds ACCURACY.md reports on
(issue 15, item 1). This redoes those choices, and the upsampling and the threshold, the nested way, for runs
that ``bench_time.py`` trained (its ``--work`` folder): every combination of

- flip TTA on / off,
- post-processing: none, largest component, filled holes, both,
- upsampling: bilinear / guided by the photo,
- threshold: 0.4 / 0.5 / 0.6,

is scored at full size (as ``carseg evaluate``) on the run's own **validation** car (inside the training
cars) and on the **outer held-out** cars. The choice is the best mean Dice on the validation car (ties, equal
to 5 decimals, go to the preset's own setting); the held-out Dice of that choice is
the reported figure. The held-out scores of the other combinations are printed for reference only.

Run: python benchmarks/bench_select.py --work /tmp/carseg-time --runs f8e48,f8p2g
Last line: one JSON object: per run the preset's settings, the chosen ones, and both sets' Dice of each.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
import _common as bench

TTA = (True, False)
POSTS = {"both": (True, True), "none": (False, False), "largest": (True, False), "filled": (False, True)}
UPSAMPLES = ("guided", "bilinear")
THRESHOLDS = (0.5, 0.4, 0.6)


def combos() -> list[tuple[bool, str, str, float]]:
    return list(itertools.product(TTA, POSTS, UPSAMPLES, THRESHOLDS))


def label(combo: tuple[bool, str, str, float]) -> str:
    tta, post, up, thr = combo
    return f"{'TTA' if tta else 'no TTA'}, post {post}, {up}, t={thr}"


def scores(run_dir: Path, data: Path, project: Path) -> dict[tuple[bool, str, str, float], list[float]]:
    """Full-size Dice per image of every combination, for the run's kept model on ``data``."""
    from carseg_gui.core.imageio import read_mask
    from carseg_gui.core.metrics import dice
    from carseg_gui.core.otsu import otsu_mask
    from carseg_gui.core.postprocess import PostProcess
    from carseg_gui.core.predict import predict_rows, to_original_size, with_flip_tta
    from carseg_gui.core.preprocess import require_labelled
    from carseg_gui.core.unet import load_model
    from carseg_gui.session.actions import prepare

    plain = load_model(run_dir / "model.keras")
    cache = prepare(data, project, int(plain.input_shape[1]))
    rows = require_labelled(cache)
    probs = {tta: dict(predict_rows(with_flip_tta(plain) if tta else plain, cache, rows)) for tta in TTA}
    out: dict[tuple[bool, str, str, float], list[float]] = {c: [] for c in combos()}
    for row in rows:
        rec = cache.rows[row]
        truth = otsu_mask(read_mask(Path(rec["mask"])))
        for tta, up, thr in itertools.product(TTA, UPSAMPLES, THRESHOLDS):
            raw = to_original_size(probs[tta][row], rec["orig"], thr, None, rec["image"], up)
            for post, (largest, filled) in POSTS.items():
                pp = PostProcess(largest, filled)
                out[(tta, post, up, thr)].append(dice(truth, pp(raw) if pp.active else raw))
    return out


def own_combo(config: dict[str, Any]) -> tuple[bool, str, str, float]:
    pair = (bool(config.get("keep_largest")), bool(config.get("fill_holes")))
    post = next(name for name, value in POSTS.items() if value == pair)
    return (bool(config.get("tta")), post, str(config.get("upsample", "bilinear")), 0.5)


def main() -> None:
    p = bench.parser(__doc__ or "", limit=0)
    p.add_argument("--work", type=Path, default=Path("/tmp/carseg-time"), help="bench_time.py's --work")
    p.add_argument("--runs", default="f8e48", help="results keys of bench_time.py's runs, comma-separated")
    args = p.parse_args()
    results = json.loads((args.work / "results.json").read_text())
    rows: list[tuple[str, str]] = []
    summary: dict[str, Any] = {"grid": len(combos()), "runs": {}}
    for tag in [t for t in args.runs.split(",") if t]:
        if tag not in results:
            p.error(f"{args.work / 'results.json'} has no run {tag!r} (it has {', '.join(results)})")
        run_dir = Path(results[tag]["run"])
        config = json.loads((run_dir / "config.json").read_text())
        print(f"scoring {tag} ...", file=sys.stderr, flush=True)
        inner = scores(run_dir, args.work / f"inner-{tag}", args.work / f"project-inner-{tag}")
        outer = scores(run_dir, args.work / "heldout", args.work / "project-heldout")
        mean_in = {c: round(float(np.mean(v)), 5) for c, v in inner.items()}
        mean_out = {c: round(float(np.mean(v)), 5) for c, v in outer.items()}
        own = own_combo(config)
        order = {c: i for i, c in enumerate(combos())}
        chosen = min(combos(), key=lambda c: (-mean_in[c], c != own, order[c]))
        n_in, n_out = len(next(iter(inner.values()))), len(next(iter(outer.values())))
        rows.append(
            (f"{tag}: preset's own ({label(own)})", f"validation {mean_in[own]:.4f}, held-out {mean_out[own]:.4f}")
        )
        rows.append(
            (
                f"{tag}: chosen on validation ({label(chosen)})",
                f"validation {mean_in[chosen]:.4f}, held-out {mean_out[chosen]:.4f}",
            )
        )
        for i, factor in enumerate(("tta", "post", "upsample", "threshold")):
            for value in (TTA, list(POSTS), UPSAMPLES, THRESHOLDS)[i]:
                if value == own[i]:
                    continue
                c = tuple(value if j == i else own[j] for j in range(4))
                d_in, d_out = mean_in[c] - mean_in[own], mean_out[c] - mean_out[own]
                rows.append((f"  {factor} -> {value}", f"validation {d_in:+.4f}, held-out {d_out:+.4f}"))
        best_out = max(combos(), key=lambda c: mean_out[c])
        rows.append((f"{tag}: best on held-out (reference only)", f"{label(best_out)}: {mean_out[best_out]:.4f}"))
        summary["runs"][tag] = {
            "validation_images": n_in,
            "heldout_images": n_out,
            "own": label(own),
            "own_validation": mean_in[own],
            "own_heldout": mean_out[own],
            "chosen": label(chosen),
            "chosen_validation": mean_in[chosen],
            "chosen_heldout": mean_out[chosen],
            "grid": {label(c): [mean_in[c], mean_out[c]] for c in combos()},
        }
    bench.report(
        f"inference settings chosen on the validation car, scored on held-out cars ({args.work})", rows, summary
    )


if __name__ == "__main__":
    main()
