"""The cache: matrices on disk, and a second run re-processes only what changed."""

import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from carseg_gui.core import preprocess as pp
from carseg_gui.core.cache import open_cache
from carseg_gui.core.jobs import Cancelled, CancelToken
from tests.datasets import write_gif_mask


def _count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = pp.decode_pair

    def spy(image, mask, size):  # type: ignore[no-untyped-def]
        calls.append(Path(image).name)
        return real(image, mask, size)

    monkeypatch.setattr(pp, "decode_pair", spy)
    return calls


def test_matrices_and_index(carvana: Path, tmp_path: Path) -> None:
    cache = pp.preprocess(carvana, tmp_path / "p", size=32)
    images, masks = cache.images(), cache.masks()
    assert isinstance(images, np.memmap) and images.dtype == np.uint8
    assert images.shape[1:] == (32, 32, 3) and masks.shape[1:] == (32, 32)
    row = cache.rows[0]
    assert row["orig"] == [96, 144] and row["car"] == "car000abcdef" and row["labelled"]
    assert set(np.unique(masks[0])) == {0, 1}
    assert len(cache.rows) == 14 and len(cache.labelled_rows()) == 12


def test_second_run_decodes_only_changed_files(carvana: Path, tmp_path: Path, monkeypatch) -> None:
    first = pp.preprocess(carvana, tmp_path / "p", size=32)
    before_images = np.array(first.images()[: len(first.rows)])
    calls = _count_decodes(monkeypatch)
    again = pp.preprocess(carvana, tmp_path / "p", size=32)
    assert calls == []
    assert again.fingerprint == first.fingerprint

    mask_path = carvana / "train_masks" / "car001abcdef_02_mask.gif"
    write_gif_mask(mask_path, np.ones((96, 144), np.uint8))
    st = mask_path.stat()
    os.utime(mask_path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    third = pp.preprocess(carvana, tmp_path / "p", size=32)
    assert calls == ["car001abcdef_02.jpg"]
    assert third.fingerprint != first.fingerprint
    row = next(i for i, r in enumerate(third.rows) if r["key"] == "train/car001abcdef_02.jpg")
    assert third.masks()[row].all()
    others = [i for i in range(len(third.rows)) if i != row]
    assert np.array_equal(np.array(third.images()[others]), before_images[others])


def test_sizes_are_separate_caches(carvana: Path, tmp_path: Path) -> None:
    pp.preprocess(carvana, tmp_path / "p", size=32)
    pp.preprocess(carvana, tmp_path / "p", size=64)
    assert open_cache(tmp_path / "p", 32).size == 32
    assert open_cache(tmp_path / "p", 64).masks().shape[1:] == (64, 64)


def test_cancel_keeps_the_previous_cache(carvana: Path, tmp_path: Path) -> None:
    pp.preprocess(carvana, tmp_path / "p", size=32)
    before = open_cache(tmp_path / "p", 32)
    assert before is not None
    for f in (carvana / "train").iterdir():
        os.utime(f, (time.time() + 5, time.time() + 5))  # everything changed
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        pp.preprocess(carvana, tmp_path / "p", size=32, cancel=token)
    after = open_cache(tmp_path / "p", 32)
    assert after is not None and after.index == before.index
    gens = [d for d in (tmp_path / "p" / "cache" / "s32").iterdir() if d.is_dir()]
    assert len(gens) == 1  # the aborted generation was removed


def test_reduced_jpeg_decode_matches_full_decode(tmp_path: Path) -> None:
    # Photo-like content: smooth regions (on real Carvana photos 1/8 decode differs by ~1.2 grey levels).
    rng = np.random.default_rng(1)
    big = cv2.resize(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8), (1918, 1280), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(tmp_path / "big.jpg"), big, [cv2.IMWRITE_JPEG_QUALITY, 95])
    fast = pp.decode_pair(tmp_path / "big.jpg", None, 128)
    full = cv2.resize(cv2.imread(str(tmp_path / "big.jpg"))[..., ::-1], (128, 128), interpolation=cv2.INTER_AREA)
    assert fast.orig == (1280, 1918)
    assert np.abs(fast.image.astype(int) - full.astype(int)).mean() < 2.0


def test_row_reads_match_the_memmap(carvana: Path, tmp_path: Path) -> None:
    cache = pp.preprocess(carvana, tmp_path / "p", size=32)
    rows = [5, 0, 13, 5]
    assert np.array_equal(cache.read_images(rows), cache.images()[rows])
    assert np.array_equal(cache.read_masks(rows), cache.masks()[rows])
    with pytest.raises(IndexError):
        cache.read_images([10_000])
