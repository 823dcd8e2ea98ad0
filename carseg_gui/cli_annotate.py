"""`carseg review` and `carseg status`: the review queue and review decisions from a terminal, through the
same session actions as the window (carseg_gui.session.annotate)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .core.jobs import InputError, ProgressFn

STATUS_CHOICES = ("unreviewed", "corrected", "approved", "excluded")
ORDER_WORDS = {
    "confidence": "least confident first (one view per car and per angle at a time)",
    "dice": "worst Dice first",
    "dataset": "dataset order",
}
SOURCE_WORDS = {  # where the mask training and export use comes from
    "mask": "the dataset's mask",
    "corrected": "your mask",
    "approved": "your mask",
    "predicted": "no mask: the prediction",
}


def cmd_review(args: argparse.Namespace, progress: ProgressFn) -> int:
    from .core.project import resolve_project
    from .session.annotate import queue

    if args.limit < 0:
        raise InputError(f"--limit must be 0 (all) or more, got {args.limit}")
    project = resolve_project(Path(args.data), Path(args.project) if args.project else None)
    order = args.order or ("confidence" if args.set == "unlabelled" else "dice")
    result = queue(Path(args.data), project, args.set, order, progress)
    if args.json:
        print(json.dumps(result))
        return 0
    if args.set == "unlabelled":
        score = "score: the run's expected Dice of its own mask (confidence, 1 = sure)"
    else:
        score = f"score: Dice of mask and prediction at {result['score'].split('_')[-1]} px"
    words = ORDER_WORDS.get(order, order)
    print(f"{len(result['items'])} {args.set} images, run {result['run']}, {words}; {score}:")
    for item in result["items"][: args.limit or None]:
        value = "–" if item["score"] is None else f"{item['score']:.4f}"
        print(f"  {value}  {item['key']}  ({item['status']}; {SOURCE_WORDS.get(item['source'], item['source'])})")
    return 0


def cmd_status(args: argparse.Namespace, progress: ProgressFn) -> int:
    from .core.project import resolve_project
    from .session.annotate import set_status

    project = resolve_project(Path(args.data), Path(args.project) if args.project else None)
    _key, said = set_status(Path(args.data), project, args.key, args.status, args.note, progress)
    print(said)
    return 0


def register(data_cmd: Callable[[str, str, Callable[..., int]], Any]) -> None:
    p = data_cmd("review", "the review queue: least confident (unlabelled) or worst Dice (labelled) first", cmd_review)
    p.add_argument("--set", choices=("unlabelled", "labelled"), default="unlabelled")
    p.add_argument("--order", choices=("confidence", "dice", "dataset"),
                   help="default: confidence for unlabelled images, dice for labelled ones")  # fmt: skip
    p.add_argument("--limit", type=int, default=50, help="rows to print (0: all; --json lists all)")
    p.add_argument("--json", action="store_true", help="print one JSON object with an items list")
    p = data_cmd("status", "record a review decision for one image (approving a draft accepts the prediction)",
                 cmd_status)  # fmt: skip
    p.add_argument("key", metavar="KEY", help="the image's key (e.g. test/abc_01.jpg) or its unique file name")
    p.add_argument("status", choices=STATUS_CHOICES)
    p.add_argument("--note", help="a note kept in the image's history")
