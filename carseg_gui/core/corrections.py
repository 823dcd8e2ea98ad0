"""Hand corrections and review decisions, as stored in the project folder.

Corrected masks are PNGs in ``<project>/corrections/`` named after the record key; decisions
(status per image) live in ``state.json`` under ``images``. The user's own files are never touched.
"""

from __future__ import annotations

from pathlib import Path

from .project import load_state

STATUSES = ("unreviewed", "corrected", "approved", "excluded")


def correction_path(project: Path, key: str) -> Path:
    # Keys are paths relative to the dataset root; flatten them into one folder, keeping them unique.
    return Path(project) / "corrections" / (key.replace("/", "__").replace("\\", "__") + ".png")


def corrected_masks(project: Path) -> dict[str, Path]:
    state = load_state(project)
    found: dict[str, Path] = {}
    for key, entry in state["images"].items():
        path = correction_path(project, key)
        if entry.get("status") == "corrected" and path.exists():
            found[key] = path
    return found


def excluded_keys(project: Path) -> set[str]:
    return {k for k, v in load_state(project)["images"].items() if v.get("status") == "excluded"}
