"""The review queue in the viewer: which images to show (by review status) and in what order.

Statuses come from the project's state.json (written by the editor through core.corrections);
"worst Dice first" uses core.review's per-image Dice of mask vs. prediction, computed in a job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...core.corrections import STATUSES
from ...core.review import worst_first
from ...session.store import StateStore

FILTERS = [("all", "All images"), *[(s, s.capitalize()) for s in STATUSES]]
ORDERS = [("dataset", "Dataset order"), ("worst", "Worst Dice first")]
BADGES = {"unreviewed": "", "corrected": "✎ corrected", "approved": "✓ approved", "excluded": "⊘ excluded"}


def statuses(project: Path | None) -> dict[str, str]:
    if project is None:
        return {}
    return StateStore(project).statuses()


def arrange(
    rows: list[int],
    cache_rows: list[dict[str, Any]],
    status_of: dict[str, str],
    show: str,
    order: str,
    scores: dict[str, float] | None,
) -> list[int]:
    """The viewer's list of cache rows after the status filter and the chosen order."""
    if show != "all":
        rows = [r for r in rows if status_of.get(cache_rows[r]["key"], "unreviewed") == show]
    if order == "worst" and scores:
        position = {k: i for i, k in enumerate(worst_first(scores))}
        last = len(position)
        rows = sorted(rows, key=lambda r: position.get(cache_rows[r]["key"], last))
    return rows


def training_masks(
    rows: list[int], cache_rows: list[dict[str, Any]], counted: dict[str, Path], originals: dict[str, Path | None]
) -> tuple[tuple[int, str], ...]:
    """(row, mask file) for the rows whose thumbnail must come from another file than the cache's.

    A correction that counts (corrected, approved) is always read: the cache may predate it or an
    edit since. A row whose cache was built from a correction that no longer counts (undone, reset,
    marked unreviewed) shows the user's own mask again: what training uses now.
    """
    out = []
    for row in rows:
        rec = cache_rows[row]
        key, built = rec["key"], rec.get("mask")
        want = counted.get(key) or originals.get(key)
        if key in counted or (want is not None and built and Path(built) != Path(want)):
            out.append((row, str(want)))
    return tuple(out)
