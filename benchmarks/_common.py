"""What every benchmark shares: the --data/--limit arguments, a default dataset, the table + JSON output."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def parser(description: str, limit: int) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", type=Path, help="dataset folder (default: a generated full-size sample)")
    p.add_argument("--limit", type=int, default=limit, help=f"how many images (default {limit})")
    return p


def dataset(data: Path | None, limit: int, width: int = 1918, height: int = 1280) -> Path:
    """The given dataset, or a synthetic one at Carvana's full size, generated once into the temp folder."""
    if data is not None:
        return data
    from carseg_gui.core.sample import generate_sample

    out = Path(tempfile.gettempdir()) / f"carseg-bench-sample-{limit}-{width}x{height}"
    generate_sample(out, count=limit, seed=0, width=width, height=height)
    return out


def pairs(root: Path, limit: int) -> list[tuple[Path, Path]]:
    from carseg_gui.core.dataset import scan

    recs = scan(root).labelled[:limit]
    return [(r.image, r.mask) for r in recs if r.mask is not None]


@contextmanager
def timer() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def report(title: str, rows: list[tuple[str, str]], result: dict[str, Any]) -> None:
    width = max(len(k) for k, _ in rows)
    print(title)
    print("-" * len(title))
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print(json.dumps(result))
