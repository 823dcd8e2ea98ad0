"""The viewer's rows as the mask editor's items: image, original mask, and the prediction if cached."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..core.cache import Cache
from ..core.dataset import Dataset
from ..core.postprocess import PostProcess
from .editor import EditorItem
from .viewer.page_model import PredictionStore


def editor_items(
    cache: Cache,
    rows: list[int],
    dataset: Dataset | None,
    store: PredictionStore,
    stamp: str,
    post: PostProcess | None = None,
) -> list[EditorItem]:
    # The cache row names the mask it was built from, which is the correction once there is one;
    # the editor's "reset to the original" needs the user's own mask, from the dataset scan.
    originals = {r.key: r.mask for r in dataset.records} if dataset else {}
    items = []
    for row in rows:
        rec = cache.rows[row]
        original = originals.get(rec["key"]) or (Path(rec["mask"]) if rec.get("mask") else None)
        items.append(EditorItem(rec["key"], Path(rec["image"]), original, _prediction(store, stamp, rec), post))
    return items


def _prediction(store: PredictionStore, stamp: str, rec: dict[str, Any]) -> Callable[[], np.ndarray | None]:
    key, (h, w) = rec["key"], rec["orig"]

    def full_size() -> np.ndarray | None:
        prob = store.get(stamp, key) if stamp else None  # uint8 0..255 at cache size, when the page was shown
        return None if prob is None else cv2.resize(prob, (int(w), int(h)), interpolation=cv2.INTER_LINEAR)

    return full_size
