"""A JPEG cut short is a problem file, never an image with grey rows trained on as if whole."""

from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.imageio import UnreadableImage, read_image
from carseg_gui.core.preprocess import preprocess
from tests.datasets import make_carvana


def test_truncated_jpeg_is_listed_not_used(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "data", cars=2, views=2, test=0)
    photo = data / "train" / "car000abcdef_01.jpg"
    whole = photo.read_bytes()
    photo.write_bytes(whole[: len(whole) * 6 // 10])
    with pytest.raises(UnreadableImage, match="truncated JPEG"):
        read_image(photo)
    cache = preprocess(data, tmp_path / "project", size=32)
    assert "train/car000abcdef_01.jpg" not in {r["key"] for r in cache.rows}
    (problem,) = [p for p in cache.problems if p["path"] == str(photo)]
    assert "truncated JPEG" in problem["reason"]


def test_bytes_after_the_end_marker_are_fine(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "data", cars=1, views=1, test=0)
    photo = data / "train" / "car000abcdef_01.jpg"
    before, _ = read_image(photo)
    photo.write_bytes(photo.read_bytes() + b"camera trailer" * 10)
    after, _ = read_image(photo)
    assert np.array_equal(before, after)


def test_a_lenient_jpeg_decoder_cannot_let_a_cut_file_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds of OpenCV whose libjpeg only warns on a premature end return the cut image filled with grey;
    the check must not depend on the decoder refusing it."""
    import cv2

    data = make_carvana(tmp_path / "data", cars=1, views=2, test=0)
    photo = data / "train" / "car000abcdef_01.jpg"
    whole = photo.read_bytes()
    photo.write_bytes(whole[: len(whole) * 6 // 10])
    grey = np.full((96, 144, 3), 128, np.uint8)
    monkeypatch.setattr(cv2, "imdecode", lambda buf, flag: grey.copy())
    monkeypatch.setattr(cv2, "imread", lambda path, flag=None: grey.copy())
    with pytest.raises(UnreadableImage, match="truncated JPEG"):
        read_image(photo)
