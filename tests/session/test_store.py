"""state.json through the store: typed accessors, history, a broken file set aside, and no lost writes when
the window's preference writes and a training's active-run writes interleave from two threads."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from carseg_gui.session.store import StateStore


def test_statuses_history_and_repeats(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    assert store.status("train/a.jpg") == "unreviewed" and store.statuses() == {}
    assert store.set_status("train/a.jpg", "corrected")
    assert not store.set_status("train/a.jpg", "corrected")  # a repeat is not a new decision
    assert store.set_status("train/a.jpg", "approved", note="looks right")
    assert store.status("train/a.jpg") == "approved"
    history = json.loads((tmp_path / "state.json").read_text())["images"]["train/a.jpg"]["history"]
    assert [h["status"] for h in history] == ["corrected", "approved"] and history[1]["note"] == "looks right"
    store.set_status("train/b.jpg", "excluded")
    assert store.excluded() == {"train/b.jpg"}
    with pytest.raises(ValueError, match="unknown status"):
        store.set_status("train/a.jpg", "great")


def test_active_run_split_and_preferences(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    assert store.active_run() is None
    store.set_active_run("20260101-000000")
    store.set_preference("viewer", {"set": "train", "page": 2})
    store.set_split({"val_cars": ["car1"]})
    again = StateStore(tmp_path)
    assert again.active_run() == "20260101-000000"
    assert again.preference("viewer") == {"set": "train", "page": 2} and again.split() == {"val_cars": ["car1"]}
    with pytest.raises(ValueError):
        again.set_preference("active_run", "x")  # decisions have their own setters


@pytest.mark.parametrize("content", [b"\x8f\x00\xff garbage", b'{"images": ', b"[1, 2]"])
def test_a_broken_state_file_is_set_aside_and_said(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "state.json").write_bytes(content)
    store = StateStore(tmp_path)
    assert store.statuses() == {} and store.active_run() is None
    aside = list(tmp_path.glob("state.json.broken-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == content  # nothing is thrown away
    assert store.recovered and aside[0].name in store.recovered and "lost" in store.recovered
    store.set_status("k", "approved")  # the project goes on with a fresh file
    assert json.loads((tmp_path / "state.json").read_text())["images"]["k"]["status"] == "approved"


def test_interleaved_writes_from_two_threads_lose_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window writes its viewer page while a training (another thread) sets the active run."""
    monkeypatch.setattr(os, "fsync", lambda _fd: None)  # the race is about the locks, not the disk: 25x faster
    rounds = 1000
    start = threading.Barrier(2)

    def window() -> None:
        store = StateStore(tmp_path)
        start.wait()
        for i in range(rounds):
            store.set_preference("viewer", {"page": i})
            if i % 10 == 0:  # and a review decision now and then
                store.set_status(f"img{i}", "approved")

    def training() -> None:
        store = StateStore(tmp_path)
        start.wait()
        for i in range(rounds):
            store.set_active_run(f"run{i}")

    threads = [threading.Thread(target=window), threading.Thread(target=training)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["active_run"] == f"run{rounds - 1}" and state["viewer"] == {"page": rounds - 1}
    assert len(state["images"]) == rounds // 10  # no status write was lost


def test_two_processes_do_not_lose_writes(tmp_path: Path) -> None:
    """``carseg status`` in a terminal and the app: the file lock makes each read-modify-write whole."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_write_statuses, args=(str(tmp_path), name, 100)) for name in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(StateStore(tmp_path).statuses()) == 200


def _write_statuses(project: str, prefix: str, n: int) -> None:
    store = StateStore(Path(project))
    for i in range(n):
        store.set_status(f"{prefix}{i}", "approved")
