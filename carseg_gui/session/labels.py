"""Which images have a mask a person stands behind, and the counts the window and the CLI say.

Below :mod:`.actions` and :mod:`.annotate` (both use it): core and the state store only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core.corrections import correction_path
from ..core.dataset import Dataset
from .store import HUMAN_STATUSES, StateStore


def human_masks(project: Path, statuses: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Record key -> the mask a person made or approved (a correction file that a decision stands behind)."""
    statuses = StateStore(project).statuses() if statuses is None else statuses
    found = {}
    for key, status in statuses.items():
        path = correction_path(project, key)
        if status in HUMAN_STATUSES and path.exists():
            found[key] = path
    return found


@dataclass(frozen=True)
class Counts:
    labelled: int  # images training can use (the dataset's masks and a person's)
    by_you: int  # of those, masks a person made or approved
    unlabelled: int

    def words(self) -> str:
        by_you = f" ({self.by_you} by you)" if self.by_you else ""
        return f"{self.labelled} labelled{by_you}, {self.unlabelled} without a mask"


def dataset_counts(dataset: Dataset, project: Path) -> Counts:
    """The counts from the dataset's scan and the project's decisions, before any cache exists."""
    human = human_masks(project)
    mine = sum(1 for r in dataset.unlabelled if r.key in human)
    by_you = sum(1 for r in dataset.records if r.key in human)
    return Counts(len(dataset.labelled) + mine, by_you, len(dataset.unlabelled) - mine)
