"""Hand corrections and review decisions, as stored in the project folder.

Corrected masks are PNGs in ``<project>/corrections/`` named after the record key; decisions
(status per image) live in ``state.json`` under ``images``. The user's own files are never touched.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .imageio import UnreadableImage, atomic_write_bytes, encode_mask, read_mask
from .otsu import mask_to_unit
from .project import editing_state, load_state

STATUSES = ("unreviewed", "corrected", "approved", "excluded")


def correction_path(project: Path, key: str) -> Path:
    # Keys are paths relative to the dataset root; flatten them into one folder, keeping them unique.
    return Path(project) / "corrections" / (key.replace("/", "__").replace("\\", "__") + ".png")


def corrected_masks(project: Path) -> dict[str, Path]:
    """Corrections training uses in place of the original masks.

    "approved" counts too: approving after editing accepts the corrected mask, the one the editor
    shows, so training must not fall back to the original for it.
    """
    state = load_state(project)
    found: dict[str, Path] = {}
    for key, entry in state["images"].items():
        path = correction_path(project, key)
        if entry.get("status") in ("corrected", "approved") and path.exists():
            found[key] = path
    return found


def excluded_keys(project: Path) -> set[str]:
    return {k for k, v in load_state(project)["images"].items() if v.get("status") == "excluded"}


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


def get_status(project: Path, key: str) -> str:
    return str(load_state(project)["images"].get(key, {}).get("status", "unreviewed"))


def set_status(project: Path, key: str, status: str, note: str | None = None) -> None:
    """Record a review decision; every change is kept in the image's ``history`` (state.json, atomic)."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    with editing_state(project) as state:
        entry = state["images"].setdefault(key, {})
        if entry.get("status", "unreviewed") == status and note is None:
            return  # no decision changed: keep the history free of repeats
        entry["status"] = status
        event: dict[str, str] = {"status": status, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        if note:
            event["note"] = note
        entry.setdefault("history", []).append(event)
