"""The viewer's page loader: thumbnails, then predictions with the run's own post-processing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from carseg_gui.core.postprocess import postprocess
from carseg_gui.core.project import RunInfo
from carseg_gui.qt.viewer.loader import PageLoader, PageRequest
from carseg_gui.session.actions import prepare
from tests.datasets import BlobModel, make_carvana


def test_predictions_are_post_processed_as_the_run_says(tmp_path: Path) -> None:
    root = make_carvana(tmp_path / "data", cars=2, views=2, test=0)
    cache = prepare(root, tmp_path / "project", 32)
    rows = tuple(range(len(cache.rows)))
    base = RunInfo("r1", tmp_path / "run", "finished", {"size": 32}, {})
    got: dict[str, dict[int, np.ndarray]] = {}
    thumbs: list[object] = []
    for name, config in (("plain", {}), ("cleaned", {"keep_largest": True, "fill_holes": True})):
        loader = PageLoader(load_model=lambda _run: BlobModel())  # no TensorFlow needed
        loader.thumbsReady.connect(lambda _gen, t: thumbs.append(t))
        loader.predsReady.connect(lambda _gen, _stamp, preds, name=name: got.setdefault(name, {}).update(preds))
        run = replace(base, config={**base.config, **config})
        loader.load(PageRequest(0, cache, rows, run, "", rows))
    assert len(thumbs) == 2 and len(thumbs[0]) == len(rows)  # type: ignore[arg-type]
    for row in rows:
        plain, cleaned = got["plain"][row], got["cleaned"][row]
        assert plain[0, 0] > 127  # the blob is there without post-processing ...
        assert cleaned[0, 0] == 0  # ... and gone with it
        np.testing.assert_array_equal(cleaned > 127, postprocess(plain > 127).astype(bool))
