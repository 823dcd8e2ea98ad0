"""Problem files stay listed while they last, and a fixed file is used again, even with the same mtime."""

import os
from pathlib import Path

from carseg_gui.core.jobs import Progress
from carseg_gui.core.preprocess import preprocess
from tests.datasets import make_carvana


def replace_keeping_stat(path: Path, data: bytes) -> None:
    """New content, same size and mtime: what the fingerprint alone cannot see."""
    st = path.stat()
    assert len(data) == st.st_size
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_mask_problem_survives_an_incremental_rebuild_and_its_fix_is_seen(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "data", cars=2, views=3, test=0)
    project = tmp_path / "project"
    mask = data / "train_masks" / "car000abcdef_01_mask.gif"
    good = mask.read_bytes()
    replace_keeping_stat(mask, b"\0" * len(good))
    first = preprocess(data, project, size=32)
    key = "train/car000abcdef_01.jpg"
    assert [p["path"] for p in first.problems] == [str(mask)]
    # Another file changes: an incremental rebuild must keep listing the bad mask.
    other = data / "train" / "car001abcdef_02.jpg"
    os.utime(other, (1e9, 1e9))
    second = preprocess(data, project, size=32)
    assert second.index["generation"] != first.index["generation"]
    assert [p["path"] for p in second.problems] == [str(mask)]
    # Nothing changed: up to date, not rebuilt, the problem still listed.
    events: list[Progress] = []
    third = preprocess(data, project, size=32, progress=events.append)
    assert third.index["generation"] == second.index["generation"] and events[-1].message == "cache up to date"
    assert len(third.problems) == 1
    # The mask is repaired with the same size and mtime: it is read again and used.
    replace_keeping_stat(mask, good)
    fixed = preprocess(data, project, size=32)
    row = next(r for r in fixed.rows if r["key"] == key)
    assert row["labelled"] and fixed.problems == []


def test_an_unreadable_image_does_not_force_a_rebuild_every_time(tmp_path: Path) -> None:
    data = make_carvana(tmp_path / "data", cars=2, views=2, test=0)
    project = tmp_path / "project"
    (data / "train" / "car000abcdef_01.jpg").write_bytes(b"not a jpeg at all")
    first = preprocess(data, project, size=32)
    again = preprocess(data, project, size=32)
    assert again.index["generation"] == first.index["generation"]
    assert [Path(p["path"]).name for p in again.problems] == ["car000abcdef_01.jpg"]
