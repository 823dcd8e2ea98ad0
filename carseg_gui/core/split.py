"""Seeded train/validation split, grouped by car.

The 16 views of one Carvana car are near-duplicates: a per-image split puts the same car on
both sides and reports a validation score the model has not earned.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence


def grouped_split(
    rows: Sequence[int], groups: Sequence[str], val_split: float, seed: int
) -> tuple[list[int], list[int]]:
    """(train rows, validation rows); ``groups[i]`` is the car id (or any group key) of ``rows[i]``."""
    by_group: dict[str, list[int]] = defaultdict(list)
    for row, group in zip(rows, groups, strict=True):
        by_group[group].append(row)
    names = sorted(by_group)
    random.Random(seed).shuffle(names)
    target = val_split * len(rows)
    val_groups: list[str] = []
    count = 0
    if val_split > 0 and len(names) > 1:
        for name in names:
            size = len(by_group[name])
            # Take a group when it brings the validation size closer to the target.
            if abs(count + size - target) < abs(count - target):
                val_groups.append(name)
                count += size
        if not val_groups:
            val_groups.append(min(names, key=lambda n: len(by_group[n])))
        if len(val_groups) == len(names):
            val_groups.pop()
    chosen = set(val_groups)
    train = sorted(r for n in names if n not in chosen for r in by_group[n])
    val = sorted(r for n in val_groups for r in by_group[n])
    return train, val
