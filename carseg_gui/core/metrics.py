"""Dice and IoU of binary masks, per image; the mean of per-image scores is the Carvana measure."""

from __future__ import annotations

import numpy as np


def dice(truth: np.ndarray, pred: np.ndarray) -> float:
    """2|A∩B| / (|A|+|B|); two empty masks agree perfectly (1.0)."""
    t, p = np.asarray(truth) > 0, np.asarray(pred) > 0
    total = int(t.sum()) + int(p.sum())
    return 1.0 if total == 0 else 2.0 * int(np.logical_and(t, p).sum()) / total


def iou(truth: np.ndarray, pred: np.ndarray) -> float:
    t, p = np.asarray(truth) > 0, np.asarray(pred) > 0
    union = int(np.logical_or(t, p).sum())
    return 1.0 if union == 0 else int(np.logical_and(t, p).sum()) / union
