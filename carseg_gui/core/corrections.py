"""Hand corrections and review decisions, as stored in the project folder.

Corrected masks are PNGs in ``<project>/corrections/`` named after the record key; decisions
(status per image) live in ``state.json``, which only :mod:`carseg_gui.session.store` reads and writes:
the functions here take the statuses as an argument. The user's own files are never touched.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .imageio import UnreadableImage, atomic_write_bytes, encode_mask, read_mask
from .otsu import mask_to_unit

STATUSES = ("unreviewed", "corrected", "approved", "excluded")


def correction_path(project: Path, key: str) -> Path:
    # Keys are paths relative to the dataset root; flatten them into one folder, keeping them unique.
    return Path(project) / "corrections" / (key.replace("/", "__").replace("\\", "__") + ".png")


def corrected_masks(project: Path, statuses: Mapping[str, str]) -> dict[str, Path]:
    """Corrections training uses in place of the original masks.

    "approved" counts too: approving after editing accepts the corrected mask, the one the editor
    shows, so training must not fall back to the original for it.
    """
    found: dict[str, Path] = {}
    for key, status in statuses.items():
        path = correction_path(project, key)
        if status in ("corrected", "approved") and path.exists():
            found[key] = path
    return found


def save_correction(project: Path, key: str, mask: np.ndarray) -> Path:
    """Write the corrected mask as a 0/255 PNG, atomically: a reader (or a crash) never sees half a file."""
    path = correction_path(project, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, encode_mask(mask, "png"))
    return path


def load_correction(project: Path, key: str, expected_shape: tuple[int, int]) -> tuple[np.ndarray | None, str | None]:
    """(0/1 uint8 mask, None), or (None, None) when there is no correction, or (None, problem).

    A file that cannot be decoded or has the wrong size is moved to ``corrections/rejected/`` so it is
    neither used for training nor met again next time, and the problem is returned for the UI to show.
    """
    path = correction_path(project, key)
    if not path.exists():
        return None, None
    try:
        raw = read_mask(path)
    except (UnreadableImage, OSError, ValueError) as exc:
        return None, _reject(path, f"unreadable ({exc})")
    shape = tuple(raw.shape[:2])
    if shape != tuple(expected_shape):
        return None, _reject(path, f"size {shape[1]}x{shape[0]}, the image is {expected_shape[1]}x{expected_shape[0]}")
    return (mask_to_unit(raw) > 0.5).astype(np.uint8), None


def _reject(path: Path, why: str) -> str:
    rejected = path.parent / "rejected"
    rejected.mkdir(exist_ok=True)
    target = rejected / f"{path.stem}.{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}"
    n = 1
    while target.exists():
        n += 1
        target = rejected / f"{path.stem}.{time.strftime('%Y%m%d-%H%M%S')}-{n}{path.suffix}"
    path.replace(target)
    return f"correction {path.name}: {why}; moved to {target}"
