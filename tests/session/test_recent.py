"""Recent folders are (dataset, project) pairs, read back from whatever the settings hold."""

from __future__ import annotations

from pathlib import Path

from carseg_gui.session.recent import Recent, decode, remember


def test_the_default_project_is_not_named_and_another_one_is(tmp_path: Path) -> None:
    assert Recent.of(tmp_path, tmp_path / ".carseg") == Recent(str(tmp_path))
    other = Recent.of(tmp_path, tmp_path.parent / "p")
    assert other.project == str(tmp_path.parent / "p") and "(project " in other.label()


def test_pairs_round_trip_and_old_or_damaged_entries_read() -> None:
    pairs = [Recent("/data/a", "/projects/a"), Recent("/data/b")]
    assert decode([p.encode() for p in pairs]) == pairs
    assert decode("/data/old") == [Recent("/data/old")]  # QSettings hands a single entry as a string
    assert decode(["/data/old", "{broken", 3, "", '{"dataset": 7}', '{"dataset": "/d", "project": ""}']) == [
        Recent("/data/old"),
        Recent("/d"),
    ]
    assert decode(None) == [] and decode({"a": 1}) == []


def test_remember_puts_the_new_pair_first_once_and_keeps_the_same_dataset_with_another_project() -> None:
    a, a2, b = Recent("/a"), Recent("/a", "/elsewhere"), Recent("/b")
    assert remember([a, b], b) == [b, a]
    assert remember([a, b], a2) == [a2, a, b]
    assert len(remember([Recent(f"/{i}") for i in range(20)], a, limit=8)) == 8
