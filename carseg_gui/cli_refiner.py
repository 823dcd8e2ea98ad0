"""`carseg train-refiner`: train the editor's click refiner on the project's human masks, through the same
session action as the window's "Train the click refiner" button (carseg_gui.session.refiner).

Ctrl+C cancels at the end of the batch: the run is kept as "cancelled" with the model of its last finished
epoch (exit status 130); a second Ctrl+C stops at once."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cli_progress import ctrl_c_cancels
from .core.jobs import InputError, ProgressFn

DEFAULT_ERRORS = "coarse"  # RefinerConfig's (a test keeps them equal; importing it here costs 0.6 s per command)


def cmd_train_refiner(args: argparse.Namespace, progress: ProgressFn) -> int:
    from .core.project import resolve_project
    from .core.refiner_training import RefinerConfig
    from .session.refiner import train_refiner

    defaults = RefinerConfig()
    crop = args.crop if args.crop is not None else max(defaults.base_crop, args.input_size)
    max_crop = args.max_crop if args.max_crop is not None else max(defaults.max_crop, crop)
    if not 2 <= args.levels <= 6:
        raise InputError(f"--levels must be 2 to 6, got {args.levels}")
    if crop < args.input_size:
        raise InputError(f"--crop must be at least --input-size ({args.input_size} px), got {crop}")
    if max_crop < crop:
        raise InputError(f"--max-crop must be at least --crop ({crop} px), got {max_crop}")
    config = RefinerConfig(
        epochs=args.epochs,
        samples_per_image=args.samples_per_image,
        batch_size=args.batch_size,
        filters=args.filters,
        levels=args.levels,
        input_size=args.input_size,
        base_crop=crop,
        max_crop=max_crop,
        max_images=args.max_images,
        seed=args.seed,
        precision=args.mixed_precision,
        errors=args.errors,
    )
    config.validate()
    project = resolve_project(Path(args.data), Path(args.project) if args.project else None)
    with ctrl_c_cancels() as cancel:
        run = train_refiner(Path(args.data), project, config, progress, cancel)
    print(run.summary())
    print(f"refiner folder: {run.folder}")
    if run.status == "cancelled":
        print("carseg: cancelled", file=sys.stderr)
        return 130
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(data_cmd: Callable[[str, str, Callable[..., int]], Any]) -> None:
    d = "the click refiner's"
    p = data_cmd(
        "train-refiner",
        "train the editor's click refiner (smart click tool, key S) on the project's masks, corrections included",
        cmd_train_refiner,
    )
    p.add_argument(
        "--epochs",
        type=_positive,
        default=4,
        help="epochs (default 4; at 1918x1280 on 2 cores an epoch took about 0.3 s per photo at 4 clicks each)",
    )
    p.add_argument(
        "--crop",
        type=_positive,
        help="side in full-size pixels of the crop a click corrects (default 256; grown up to --max-crop when "
        "the error is larger)",
    )
    p.add_argument("--max-crop", type=_positive, help="the largest crop side (default 1024)")
    p.add_argument(
        "--input-size",
        type=_positive,
        default=256,
        help=f"{d} input in pixels, a multiple of 2**levels; a larger crop is shrunk to it (default 256)",
    )
    p.add_argument("--filters", type=_positive, default=8, help=f"{d} base filters (default 8)")
    p.add_argument("--levels", type=int, default=4, help=f"{d} poolings, 2 to 6 (default 4)")
    p.add_argument("--samples-per-image", type=_positive, default=4, help="clicks per image and epoch (default 4)")
    p.add_argument("--batch-size", type=_positive, default=8)
    p.add_argument("--max-images", type=_positive, help="train on at most this many masks (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--errors",
        choices=("coarse", "fine", "mixed"),
        default=DEFAULT_ERRORS,
        help="the errors of the starting masks it learns to fix: coarse (a low-resolution model's: round "
        "outlines, blobs of 5-80 px), fine (a good model's: thin slivers along the outline, blobs of 3-40 px) "
        "or mixed (default %(default)s)",
    )
    p.add_argument(
        "--mixed-precision",
        choices=("auto", "on", "off"),
        default="auto",
        help="bfloat16/float16 compute: auto uses float16 on GPUs, bfloat16 on a CPU where it times faster "
        "than float32 (default auto)",
    )
