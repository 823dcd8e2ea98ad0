"""The synthetic Carvana-style sample: layout, masks that match the pictures, determinism, safety."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from carseg_gui.core.imageio import read_mask
from carseg_gui.core.jobs import Cancelled, CancelToken, InputError, Progress
from carseg_gui.core.sample import SampleInfo, generate_sample, render_view

SMALL = {"count": 20, "width": 160, "height": 112}  # one full car (16 views) + 4 views of a second
STEM = re.compile(r"^[0-9a-f]{12}_(0[1-9]|1[0-6])$")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleInfo]:
    out = tmp_path_factory.mktemp("sample") / "data"
    return out, generate_sample(out, **SMALL)


def _digests(root: Path) -> dict[str, str]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _no_temp_files(root: Path) -> bool:
    return not [p for p in root.rglob("*") if p.name.startswith(".") or p.name.endswith(".tmp")]


def test_layout_and_counts(sample: tuple[Path, SampleInfo]) -> None:
    out, info = sample
    assert info == SampleInfo(out, train=20, test=2, cars=2)  # test_count defaults to max(2, count // 8)
    assert sorted(p.name for p in out.iterdir()) == ["sample.json", "test", "train", "train_masks"]
    assert len(list((out / "train").glob("*.jpg"))) == 20
    assert len(list((out / "train_masks").glob("*_mask.gif"))) == 20
    assert len(list((out / "test").glob("*.jpg"))) == 2
    assert _no_temp_files(out)


def test_names_follow_the_carvana_pattern(sample: tuple[Path, SampleInfo]) -> None:
    out, _ = sample
    train = sorted(p.stem for p in (out / "train").iterdir())
    assert all(STEM.match(s) for s in train)
    assert sorted(p.name for p in (out / "train_masks").iterdir()) == [f"{s}_mask.gif" for s in train]
    views: dict[str, list[str]] = {}
    for s in train:
        views.setdefault(s[:12], []).append(s[13:])
    assert sorted(len(v) for v in views.values()) == [4, 16]  # views cycle 01..16 per car
    assert [f"{v:02d}" for v in range(1, 17)] in views.values()
    test = [p.stem for p in (out / "test").iterdir()]
    assert all(STEM.match(s) for s in test)
    assert not {s[:12] for s in test} & views.keys()  # test images show other cars


def test_masks_are_antialiased_palette_gifs_the_size_of_their_images(sample: tuple[Path, SampleInfo]) -> None:
    out, _ = sample
    for jpg in (out / "train").iterdir():
        gif = out / "train_masks" / f"{jpg.stem}_mask.gif"
        raw = gif.read_bytes()
        assert raw[:6] in (b"GIF87a", b"GIF89a") and raw[10] & 0x80  # palette image (global colour table)
        with Image.open(jpg) as im, Image.open(gif) as mk:
            assert mk.size == im.size == (160, 112)
        mask = read_mask(gif)  # the app's own reader
        assert mask.shape == (112, 160)
        assert (mask == 0).any() and (mask == 255).any()
        edge = (mask > 0) & (mask < 255)
        assert 0 < edge.sum() < 0.2 * mask.size  # anti-aliased rim: grey values only along the outline


def test_the_car_is_where_the_mask_says(sample: tuple[Path, SampleInfo]) -> None:
    out, _ = sample
    for jpg in (out / "train").iterdir():
        img = cv2.imread(str(jpg)).astype(np.float32).mean(axis=2)
        mask = read_mask(out / "train_masks" / f"{jpg.stem}_mask.gif")
        car, background = img[mask > 200], img[mask == 0]
        assert 0.05 < car.size / mask.size < 0.6
        assert car.mean() < background.mean() - 25  # a studio-lit car is darker than the light grey studio


def test_turntable_views_are_long_from_the_side_and_narrow_from_the_front() -> None:
    def aspect(view: int) -> float:
        ys, xs = np.nonzero(render_view(3, 0, view, 160, 112)[1] > 127)
        return (np.ptp(xs) + 1) / (np.ptp(ys) + 1)

    assert aspect(5) > 1.5 * aspect(1)  # side vs front
    assert aspect(13) > 1.5 * aspect(9)  # other side vs back


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    a = _digests(generate_sample(tmp_path / "a", seed=5, **SMALL).out)
    b = _digests(generate_sample(tmp_path / "b", seed=5, **SMALL).out)
    c = _digests(generate_sample(tmp_path / "c", seed=6, **SMALL).out)
    assert a == b
    assert len(a) == 20 + 20 + 2 + 1
    assert set(a.values()).isdisjoint(v for k, v in c.items() if k != "sample.json")


def test_refuses_a_folder_with_other_content(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="is not empty; choose a new folder"):
        generate_sample(tmp_path, **SMALL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_refuses_a_sample_made_with_other_parameters(sample: tuple[Path, SampleInfo]) -> None:
    out, _ = sample
    with pytest.raises(InputError, match="not empty"):
        generate_sample(out, **{**SMALL, "seed": 1})
    with pytest.raises(InputError, match="not empty"):
        generate_sample(out, **{**SMALL, "count": 21})


def test_an_existing_identical_sample_is_returned_without_rewriting(sample: tuple[Path, SampleInfo]) -> None:
    out, info = sample
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    seen: list[Progress] = []
    assert generate_sample(out, progress=seen.append, **SMALL) == info
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    assert (seen[0].done, seen[-1].done, seen[-1].total) == (0, 22, 22)


def test_progress_runs_from_zero_to_total(tmp_path: Path) -> None:
    seen: list[Progress] = []
    generate_sample(tmp_path / "s", count=3, test_count=1, width=96, height=64, progress=seen.append)
    assert [p.done for p in seen] == [0, 1, 2, 3, 4]
    assert {p.stage for p in seen} == {"sample"} and {p.total for p in seen} == {4}


def test_cancel_stops_cleanly_and_a_rerun_finishes_the_same_sample(tmp_path: Path) -> None:
    token = CancelToken()

    def progress(p: Progress) -> None:
        if p.done == 5:
            token.cancel()

    with pytest.raises(Cancelled):
        generate_sample(tmp_path / "s", progress=progress, cancel=token, **SMALL)
    assert _no_temp_files(tmp_path)
    assert len(list((tmp_path / "s" / "train").iterdir())) == 5
    assert len(list((tmp_path / "s" / "train_masks").iterdir())) == 5
    generate_sample(tmp_path / "s", **SMALL)  # same parameters: resumes instead of refusing
    assert _digests(tmp_path / "s") == _digests(generate_sample(tmp_path / "fresh", **SMALL).out)


@pytest.mark.parametrize("kwargs", [{"count": 0}, {"test_count": -1}, {"width": 32}])
def test_rejects_unusable_parameters(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(InputError):
        generate_sample(tmp_path / "s", **{**SMALL, **kwargs})
