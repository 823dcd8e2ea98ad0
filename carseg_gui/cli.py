"""The `carseg` command line: sample, preprocess, train, predict, evaluate (review/status: cli_annotate.py,
train-refiner: cli_refiner.py).

Exit status: 0 success, 2 bad usage or bad input (one line naming the file and the problem),
1 unexpected error (one line; the trace goes to the project's log file), 130 cancelled (Ctrl+C).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__
from .cli_progress import TerminalProgress, ctrl_c_cancels, note_state_set_aside, print_splits
from .core.jobs import Cancelled, InputError, ProgressFn


def _project(args: argparse.Namespace) -> Path:
    from .core.project import resolve_project

    return resolve_project(Path(args.data), Path(args.project) if args.project else None)


def _note_broken_runs(project: Path) -> None:
    """Runs whose files do not read back are skipped by --run latest/active: say which, and why."""
    from .core.project import list_runs

    for run in list_runs(project):
        if run.problem:
            print(f"carseg: note: skipped the broken run {run.id}: {run.problem}", file=sys.stderr)


def cmd_sample(args: argparse.Namespace, progress: ProgressFn) -> int:
    from .core.sample import generate_sample

    info = generate_sample(Path(args.out), count=args.count, seed=args.seed, progress=progress)
    print(f"sample: {info.train} labelled and {info.test} test images of {info.cars} cars in {info.out}")
    return 0


def cmd_preprocess(args: argparse.Namespace, progress: ProgressFn) -> int:
    from .session.actions import prepare

    project = _project(args)
    cache = prepare(Path(args.data), project, args.size, progress)
    labelled, unlabelled = len(cache.labelled_rows()), len(cache.unlabelled_rows())
    for p in cache.problems:
        print(f"problem: {Path(p['path']).name}: {p['reason']}", file=sys.stderr)
    if not cache.rows:
        raise InputError(f"{args.data}: no usable images")
    print(f"cache: {labelled} labelled, {unlabelled} unlabelled, {len(cache.problems)} problem(s) in {cache.folder}")
    return 0


# `carseg train` options that a preset sets: left out, they take the preset's value.
PRESET_OPTIONS = (
    "epochs", "patience", "val_split", "batch_size", "size", "filters", "learning_rate", "loss", "batch_norm",
    "dropout", "levels", "augment", "lr_schedule", "tta", "keep_largest", "fill_holes", "upsample", "warmup_size",
    "warmup_epochs",
)  # fmt: skip


def cmd_train(args: argparse.Namespace, progress: ProgressFn) -> int:
    from .core.presets import make_config
    from .session.actions import train as run_training

    overrides = {name: getattr(args, name) for name in PRESET_OPTIONS}
    project = _project(args)
    if args.quick:
        from .session.actions import QUICK_EPOCHS, find_run, quick_retrain_config

        given = [f"--{n.replace('_', '-')}" for n, v in overrides.items() if v is not None and n != "epochs"]
        given += ["--preset"] * bool(args.preset) + ["--new-split"] * args.new_split
        if given:
            raise InputError(f"--quick retrains the active run with its own settings: leave out {', '.join(given)}")
        config = quick_retrain_config(find_run(project, "active"), QUICK_EPOCHS if args.epochs is None else args.epochs)
    else:
        config = make_config(
            args.preset or "recipe",
            **overrides,
            seed=args.seed,
            precision=args.mixed_precision,
            strategy=args.strategy,
            xla=args.xla,
        )
    config.validate()
    with ctrl_c_cancels() as cancel:
        result = run_training(Path(args.data), project, config, progress, cancel, new_split=args.new_split)
    run = result.run
    if run.status == "failed":
        from .core.imageio import read_json

        error = (read_json(run.folder / "status.json", default={}) or {}).get("error", "see its status.json")
        print(f"carseg: error: run {run.id} failed: {error}", file=sys.stderr)
        return 2
    m = run.metrics
    best = f"best epoch {m.get('best_epoch')}, val_dice {m['val_dice']:.4f}" if "val_dice" in m else "no validation"
    what = f"quick retrain of run {Path(config.init_from).name}" if args.quick else f"preset {config.preset}"
    images = f" on {len(run.config.get('train_keys', []))} images" if args.quick else ""
    print(f"run {run.id} {run.status} ({what}{images}): {best}, {m.get('train_s', 0):.0f} s")
    print(f"run folder: {run.folder}")
    if run.status == "cancelled":
        print("carseg: cancelled", file=sys.stderr)
        return 130
    return 0


def cmd_predict(args: argparse.Namespace, progress: ProgressFn) -> int:
    from .core.formats import parse_colour
    from .session.annotate import export as predict_to_folder

    if not 0 < args.threshold < 1:
        raise InputError(f"--threshold must be between 0 and 1, got {args.threshold}")
    if args.feather < 0:
        raise InputError(f"--feather must be 0 or more px, got {args.feather}")
    if (args.feather or args.background) and args.format != "cutout":
        raise InputError("--feather and --background shape cut-outs: add --format cutout")
    project = _project(args)
    _note_broken_runs(project)
    summary = predict_to_folder(
        Path(args.data),
        project,
        Path(args.out),
        run=args.run,
        which=args.set,
        fmt=args.format,
        rle=Path(args.rle) if args.rle else None,
        threshold=args.threshold,
        overwrite=args.overwrite,
        progress=progress,
        tta=_tta(args),
        post=_post(args),
        predictions_only=args.predictions_only,
        feather=args.feather,
        background=parse_colour(args.background) if args.background else None,
    )
    origin = f"{summary.by_person} by a person, {summary.images - summary.by_person} predicted by run {summary.run}"
    if args.format == "coco":
        what = f"the masks of {summary.images} {summary.set} images to {summary.written[-1]} ({origin})"
    else:
        kind = {"yolo": "YOLO polygon files", "cutout": "cut-outs"}.get(args.format, f"{args.format.upper()} masks")
        what = f"{len(summary.written)} {kind} ({summary.set} set; {origin}) to {summary.out}"
    print(f"wrote {what}")
    if summary.renamed:
        key, name = summary.renamed[0]
        print(
            f"carseg: note: {len(summary.renamed)} image(s) share a name with another one, so their masks and CSV"
            f" rows are named after their path in the dataset (e.g. {key} -> {name})",
            file=sys.stderr,
        )
    if summary.rle:
        print(f"wrote the RLE submission {summary.rle}")
    return 0


def _tta(args: argparse.Namespace) -> bool | None:
    """--tta run|on|off: None keeps the run's own setting."""
    return None if args.tta == "run" else args.tta == "on"


def _post(args: argparse.Namespace) -> Any:
    """--post run|on|off: keep the run's post-processing, force both steps on, or switch them off."""
    from .core.postprocess import PostProcess

    return {"run": None, "on": PostProcess(True, True), "off": PostProcess()}[args.post]


def cmd_evaluate(args: argparse.Namespace, progress: ProgressFn) -> int:
    from .session.actions import evaluate as evaluate_dataset

    project = _project(args)
    _note_broken_runs(project)
    result = evaluate_dataset(
        Path(args.data), project, run=args.run, progress=progress, tta=_tta(args), post=_post(args)
    )
    if result.get("skipped") and not args.json:
        from .core.cache import skipped_note

        print(f"carseg: note: {skipped_note(result['skipped'], 'the scores')}", file=sys.stderr)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "per_image"}))
    else:
        steps = [n for n, on in (("flip TTA", result["tta"]), ("largest component", result["keep_largest"]),
                                 ("filled holes", result["fill_holes"])) if on]  # fmt: skip
        print(f"run {result['run']} on {result['images']} labelled images ({', '.join(steps) or 'no TTA, no post'}):")
        print(f"  at {result['size']}x{result['size']}: Dice {result['dice_128']:.4f}  IoU {result['iou_128']:.4f}")
        print(f"  at original size: Dice {result['dice_full']:.4f}  IoU {result['iou_full']:.4f}")
        print_splits(result)
        if "dice_full_no_post" in result:
            nopost = f"Dice {result['dice_full_no_post']:.4f}  IoU {result['iou_full_no_post']:.4f}"
            print(f"  at original size without post-processing: {nopost}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="carseg", description="Segment cars in photos with a U-Net.")
    parser.add_argument("--version", action="version", version=f"carseg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def data_cmd(name: str, helptext: str, fn: Callable[..., int]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.add_argument("data", metavar="DATA", help="dataset folder (train/ + train_masks/, or images/ + masks/)")
        p.add_argument("--project", metavar="DIR", help="where the app writes (default: DATA/.carseg)")
        p.set_defaults(fn=fn)
        return p

    p = sub.add_parser("sample", help="generate the built-in synthetic sample dataset")
    p.add_argument("out", metavar="OUT")
    p.add_argument("--count", type=int, default=64, help="labelled images (default 64)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(fn=cmd_sample)

    p = data_cmd("preprocess", "resize and Otsu-binarise into the project cache", cmd_preprocess)
    p.add_argument("--size", type=int, default=128)

    from .core.config import AUGMENTS, LOSSES, SCHEDULES, UPSAMPLES
    from .core.export import FORMATS
    from .core.presets import PRESETS

    p = data_cmd("train", "train the U-Net; prints the run id and its folder", cmd_train)
    p.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        help="starting settings (default recipe); options given below override them. "
        + "; ".join(f"{n}: {pr.description}" for n, pr in PRESETS.items()),
    )
    # None: the preset's value (see PRESET_OPTIONS).
    p.add_argument("--epochs", type=int, help="most epochs (recipe 50)")
    p.add_argument("--patience", type=int, help="epochs without val_loss improvement before stopping (recipe 2)")
    p.add_argument("--val-split", type=float, help="fraction of cars held out for validation (recipe 0.1)")
    p.add_argument("--batch-size", type=int, help="recipe 16")
    p.add_argument(
        "--size",
        type=int,
        help="training size in pixels, a multiple of 2**levels: 16 for recipe, 32 for best (recipe 128)",
    )
    p.add_argument("--filters", type=int, help="base filters of the U-Net (recipe 16)")
    p.add_argument("--learning-rate", type=float, help="Adam's learning rate (recipe 1e-3)")
    p.add_argument("--loss", choices=LOSSES, help="bce (recipe) or bce_dice (+ soft Dice)")
    p.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, help="BatchNorm after each convolution")
    p.add_argument("--dropout", action=argparse.BooleanOptionalAction, help="the recipe's dropout in each block")
    p.add_argument("--levels", type=int, help="poolings of the U-Net (recipe 4; 5 suits 256 px inputs)")
    p.add_argument("--augment", choices=AUGMENTS, help="none (recipe), flip, or full (flip, shift/scale, colour)")
    p.add_argument("--lr-schedule", choices=SCHEDULES, help="none (recipe), plateau (halve) or cosine")
    p.add_argument(
        "--tta", action=argparse.BooleanOptionalAction, help="the run predicts with horizontal-flip averaging"
    )
    p.add_argument(
        "--keep-largest", action=argparse.BooleanOptionalAction, help="the run keeps the largest mask component"
    )
    p.add_argument("--fill-holes", action=argparse.BooleanOptionalAction, help="the run fills holes in its masks")
    p.add_argument(
        "--upsample", choices=UPSAMPLES, help="how the run's masks reach the photo's size: bilinear (recipe) or guided"
    )
    p.add_argument("--warmup-size", type=int, help="progressive resizing: the first --warmup-epochs at this size")
    p.add_argument("--warmup-epochs", type=int, help="epochs at --warmup-size before the rest at --size")
    p.add_argument(
        "--quick",
        action="store_true",
        help="retrain the active run on the images corrected or approved since (and 3x as many others): its "
        "own settings from its best weights, 6 epochs (or --epochs) at 0.3x its learning rate",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--new-split",
        action="store_true",
        help="draw the validation cars again (else the project keeps those its first training chose)",
    )
    p.add_argument(
        "--mixed-precision",
        choices=("auto", "on", "off"),
        help="bfloat16/float16 compute: auto uses float16 on GPUs and, on a CPU, bfloat16 where a timing "
        "(once per machine, cached) finds it faster than float32; off is float32 (recipe off, best auto)",
    )

    p.add_argument(
        "--xla", choices=("auto", "on", "off"), default="auto", help="XLA compilation: auto uses it on GPUs only"
    )
    p.add_argument(
        "--strategy",
        choices=("auto", "none", "mirrored", "multiworker"),
        default="auto",
        help="tf.distribute strategy: auto mirrors over several local GPUs; multiworker reads TF_CONFIG",
    )

    p = data_cmd("predict", "write predicted masks at original size", cmd_predict)
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--run", default="active", help="run id or folder, 'latest', or 'active' (default)")
    p.add_argument("--set", choices=("test", "train", "all"), default="test")
    p.add_argument("--format", choices=FORMATS, default="png",
                   help="png 0/255 masks, gif (Carvana), yolo polygons (.txt), cutout (RGBA photo, alpha = mask), "
                   "coco (one annotations.json with RLE masks)")  # fmt: skip
    p.add_argument("--feather", type=int, default=0, metavar="PX", help="cutout: a soft edge this many px wide")
    p.add_argument("--background", metavar="COLOUR", help="cutout: the car on this colour (#rrggbb, r,g,b, white)")
    p.add_argument("--rle", metavar="FILE", help="also write a Carvana submission CSV")
    p.add_argument("--threshold", type=float, default=0.5)
    p.add_argument("--overwrite", action="store_true")
    p.add_argument(
        "--predictions-only",
        action="store_true",
        help="the run's predictions for every image, not the masks people corrected or approved",
    )
    _inference_options(p)

    from .cli_annotate import register
    from .cli_refiner import register as register_refiner

    register(data_cmd)
    register_refiner(data_cmd)

    p = data_cmd("evaluate", "mean Dice and IoU over the labelled images", cmd_evaluate)
    p.add_argument("--run", default="active")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _inference_options(p)
    return parser


def _inference_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tta", choices=("run", "on", "off"), default="run", help="flip test-time augmentation (default: the run's)"
    )
    p.add_argument(
        "--post",
        choices=("run", "on", "off"),
        default="run",
        help="keep the largest component and fill holes (default: the run's setting)",
    )


def _log_file(args: argparse.Namespace) -> Path:
    base = Path(args.project) if getattr(args, "project", None) else None
    if base is None and getattr(args, "data", None):
        base = Path(args.data) / ".carseg"
    folder = base / "logs" if base and base.is_dir() else Path(tempfile.gettempdir())
    return folder / "carseg.log"


# TrainConfig's fields whose option is not simply the field with dashes.
FLAGS = {"precision": "--mixed-precision", "init_from": "the warm-start run"}


def _words(exc: InputError) -> str:
    """The message; a training setting's error names its option (``size`` -> ``--size``)."""
    from .core.config import ConfigError

    if isinstance(exc, ConfigError):
        return f"{FLAGS.get(exc.field, '--' + exc.field.replace('_', '-'))} {exc.problem}"
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    # TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notes) is noise on a terminal.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    progress = TerminalProgress()
    try:
        return int(args.fn(args, progress))
    except InputError as exc:
        progress.close()
        print(f"carseg: error: {_words(exc)}", file=sys.stderr)
        return 2
    except (Cancelled, KeyboardInterrupt):
        progress.close()
        print("carseg: cancelled", file=sys.stderr)
        return 130
    except Exception as exc:
        progress.close()
        from .core.jobs import os_error_words

        words = os_error_words(exc) if isinstance(exc, OSError) else None
        if words is not None:  # disk full, permission denied, read-only: the user can fix these
            print(f"carseg: error: {words}", file=sys.stderr)
            return 2
        path = _log_file(args)
        try:
            with open(path, "a") as f:
                f.write(traceback.format_exc())
        except OSError:
            path = Path("(log unavailable)")
        print(f"carseg: unexpected error: {type(exc).__name__}: {exc} (details in {path})", file=sys.stderr)
        return 1
    finally:
        progress.close()
        note_state_set_aside()


if __name__ == "__main__":
    sys.exit(main())
