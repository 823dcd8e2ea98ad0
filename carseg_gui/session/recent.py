"""Recently opened folders, as (dataset, project) pairs: a dataset whose project lives elsewhere
(``--project``, or a per-user folder for a read-only dataset) reopens with that project, not with a
new empty one inside the dataset folder.

Qt-free: the window keeps the encoded entries in its per-user settings. Entries written by older
versions (a plain dataset path) still read, as "the dataset's default project".
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..core.project import default_project

MAX_RECENT = 8


@dataclass(frozen=True)
class Recent:
    dataset: str
    project: str | None = None  # None: the dataset's own project folder (DATASET/.carseg)

    @classmethod
    def of(cls, dataset: Path, project: Path) -> Recent:
        """The pair for an opened dataset; the project is named only when it is not the default."""
        dataset, project = Path(dataset), Path(project)
        default = default_project(dataset)
        return cls(str(dataset), None if project == default else str(project))

    def label(self) -> str:
        where = f"{Path(self.dataset).name}  —  {self.dataset}"
        return f"{where}  (project {self.project})" if self.project else where

    def encode(self) -> str:
        return json.dumps({"dataset": self.dataset, "project": self.project}, sort_keys=True)


def decode(values: object) -> list[Recent]:
    """The settings' value back as pairs, skipping anything unreadable (a damaged settings file)."""
    items = [values] if isinstance(values, str) else values if isinstance(values, (list, tuple)) else []
    out: list[Recent] = []
    for item in items:
        if not isinstance(item, str) or not item:
            continue
        if not item.startswith("{"):  # an older version's entry: the dataset path alone
            out.append(Recent(item))
            continue
        try:
            data = json.loads(item)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("dataset"), str) and data["dataset"]:
            project = data.get("project")
            out.append(Recent(data["dataset"], project if isinstance(project, str) and project else None))
    return _unique(out)


def remember(entries: Iterable[Recent], new: Recent, limit: int = MAX_RECENT) -> list[Recent]:
    """``new`` first, then the others without it, at most ``limit``."""
    return _unique([new, *entries])[:limit]


def _unique(entries: Iterable[Recent]) -> list[Recent]:
    seen: set[Recent] = set()
    out = []
    for entry in entries:
        if entry not in seen:
            seen.add(entry)
            out.append(entry)
    return out
