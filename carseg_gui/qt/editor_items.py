"""The viewer's rows as the mask editor's items: image, original mask, the prediction if cached, or a draft.

Every image opens in the editor. A labelled one brings its own mask and the viewer's prediction (at cache
size, upsampled in the editor's loader thread); one without a mask brings a *draft*: the active run's
prediction at its original size, as export writes it (:class:`carseg_gui.session.editor.DraftSource`,
predicting in the loader thread), or an empty draft with a note when there is no trained run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..core.cache import Cache
from ..core.dataset import Dataset
from ..core.postprocess import PostProcess
from ..core.project import RunInfo
from ..session.editor import DraftSource
from .editor import EditorItem
from .tf_preload import preload_tensorflow
from .viewer.page_model import PredictionStore


def editor_items(
    cache: Cache,
    rows: list[int],
    dataset: Dataset | None,
    store: PredictionStore,
    stamp: str,
    post: PostProcess | None = None,
    run: RunInfo | None = None,
) -> list[EditorItem]:
    # The cache row names the mask it was built from, which is the correction once there is one;
    # the editor's "reset to the original" needs the user's own mask, from the dataset scan. An image
    # the dataset has no mask for (an approved draft is labelled in the cache) resets to its draft.
    originals = {r.key: r.mask for r in dataset.records} if dataset else None
    drafts = DraftSource(cache, run, preload_tensorflow)
    items = []
    for row in rows:
        rec = cache.rows[row]
        key = rec["key"]
        if originals is not None:
            original = originals.get(key)
        else:
            original = Path(rec["mask"]) if rec.get("mask") and not rec.get("corrected") else None
        if original is None:
            items.append(EditorItem(key, Path(rec["image"]), None, None, post, drafts.for_key(key)))
        else:
            items.append(EditorItem(key, Path(rec["image"]), original, _prediction(store, stamp, rec), post))
    return items


def _prediction(store: PredictionStore, stamp: str, rec: dict[str, Any]) -> Callable[[], np.ndarray | None]:
    key, (h, w) = rec["key"], rec["orig"]

    def full_size() -> np.ndarray | None:  # in the editor's loader thread
        try:  # the viewer's store, read from another thread: an entry dropped meanwhile is simply not there
            prob = store.get(stamp, key) if stamp else None  # uint8 0..255 at cache size, when the page was shown
        except (KeyError, RuntimeError):
            prob = None
        return None if prob is None else cv2.resize(prob, (int(w), int(h)), interpolation=cv2.INTER_LINEAR)

    return full_size
