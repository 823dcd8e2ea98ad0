"""The project's ``state.json``: the only module that reads or writes it.

What it holds: the active run, each image's review status and its history, the validation split the project
keeps across rounds, and the UI's remembered choices (training settings, export settings, viewer page).

Every change is a read-modify-write under two locks: a per-file threading lock (the GUI thread, the editor's
saver thread and a training worker share one process) and a file lock beside the file (``carseg`` in a
terminal and the app are two processes). The write itself is atomic (temp + ``os.replace``), so a reader
never sees half a file and a crash leaves the previous version. A file that cannot be parsed is set aside as
``state.json.broken-<time>`` and the project starts from an empty state; :attr:`StateStore.recovered` says
what happened, so the front ends can tell the user.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock

from ..core.corrections import STATUSES
from ..core.imageio import atomic_write_bytes

STATE_VERSION = 1
HUMAN_STATUSES = ("corrected", "approved")  # a person decided this image's mask
ACCEPTED_NOTE = "accepted the prediction of run"  # the history note of a draft approved as it was

_locks: dict[str, threading.RLock] = {}
_locks_guard = threading.Lock()
# Every "set aside" sentence of this process, for a front end that keeps no store (the CLI prints them).
RECOVERED: list[str] = []


def _thread_lock(path: Path) -> threading.RLock:
    with _locks_guard:  # one lock per file, however its path is spelled
        return _locks.setdefault(str(path.resolve()), threading.RLock())


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _empty() -> dict[str, Any]:
    return {"version": STATE_VERSION, "active_run": None, "images": {}}


class StateStore:
    """``state.json`` of one project folder, with typed accessors."""

    def __init__(self, project: Path) -> None:
        self.project = Path(project)
        self.path = self.project / "state.json"
        self._lock = _thread_lock(self.path)
        self._file_lock = FileLock(str(self.path) + ".lock", timeout=30)
        self.recovered: str | None = None  # a sentence, when a broken state.json was set aside

    # ----- the file
    def _read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return _empty()
        try:
            state = json.loads(raw.decode("utf-8"))
            if not isinstance(state, dict) or not isinstance(state.get("images", {}), dict):
                raise ValueError("not a JSON object with an 'images' table")
        except (UnicodeDecodeError, ValueError) as exc:
            return self._set_aside(raw, exc)
        state.setdefault("version", STATE_VERSION)
        state.setdefault("active_run", None)
        state.setdefault("images", {})
        return state

    def _set_aside(self, raw: bytes, exc: Exception) -> dict[str, Any]:
        with self._file_lock:  # re-entrant: edit() holds it already; a plain read() takes it to move the file
            try:
                now = self.path.read_bytes()
            except FileNotFoundError:
                now = None
            if now != raw:  # another process replaced the file meanwhile: read what it wrote
                return self._read()
            return self._move_aside(exc)

    def _move_aside(self, exc: Exception) -> dict[str, Any]:
        target = self.path.with_name(f"state.json.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"state.json.broken-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
        try:
            self.path.replace(target)
        except OSError:
            target = self.path  # cannot move it (read-only folder): start empty in memory, keep the file
        self.recovered = (
            f"{self.path} could not be read ({type(exc).__name__}: {exc}); it was set aside as {target.name}. "
            "Review decisions and the choice of the active run were lost; corrected masks in corrections/ "
            "and every run are kept."
        )
        RECOVERED.append(self.recovered)
        return _empty()

    def read(self) -> dict[str, Any]:
        """A copy of the whole state (for display; change it through the setters)."""
        with self._lock:
            return copy.deepcopy(self._read())

    @contextmanager
    def edit(self) -> Iterator[dict[str, Any]]:
        """``with store.edit() as state: state[...] = ...``: one whole read-modify-write, atomic on disk."""
        with self._lock, self._file_lock:
            state = self._read()
            yield state
            self.project.mkdir(parents=True, exist_ok=True)
            # Compact and C-encoded: with 100k images' histories an indented dump is 10x slower.
            text = json.dumps(state, allow_nan=False, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            atomic_write_bytes(self.path, text.encode("utf-8") + b"\n")

    # ----- the active run
    def active_run(self) -> str | None:
        value = self.read().get("active_run")
        return value if isinstance(value, str) and value else None

    def set_active_run(self, run_id: str | None) -> None:
        with self.edit() as state:
            state["active_run"] = run_id

    # ----- review statuses
    def statuses(self) -> dict[str, str]:
        """``{key: status}`` for every image with a recorded decision (others are unreviewed)."""
        images = self.read()["images"]
        return {k: str(v.get("status", "unreviewed")) for k, v in images.items() if isinstance(v, dict)}

    def status(self, key: str) -> str:
        return self.statuses().get(key, "unreviewed")

    def history(self, key: str) -> list[dict[str, str]]:
        entry = self.read()["images"].get(key) or {}
        return list(entry.get("history", []))

    def set_status(self, key: str, status: str, note: str | None = None) -> bool:
        """Record a decision (kept in the image's history); False when nothing changed."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
        with self.edit() as state:
            entry = state["images"].setdefault(key, {})
            if entry.get("status", "unreviewed") == status and note is None:
                return False  # no decision changed: keep the history free of repeats
            entry["status"] = status
            event: dict[str, str] = {"status": status, "time": _now()}
            if note:
                event["note"] = note
            entry.setdefault("history", []).append(event)
            return True

    def accepted_drafts(self, run_id: str) -> set[str]:
        """Approved images whose mask is the prediction of run ``run_id`` that a person accepted as it was
        (not edited since): scoring that run on them compares it with itself."""
        prefix = f"{ACCEPTED_NOTE} {run_id}"
        out = set()
        for key, entry in self.read()["images"].items():
            if not isinstance(entry, dict) or entry.get("status") != "approved":
                continue
            source = None
            for event in entry.get("history", []):
                note = str(event.get("note", ""))
                if note.startswith(ACCEPTED_NOTE):
                    source = note
                elif event.get("status") == "corrected":
                    source = None  # edited after it was accepted: a person's mask now
            if source == prefix:
                out.add(key)
        return out

    def excluded(self) -> set[str]:
        return {k for k, s in self.statuses().items() if s == "excluded"}

    # ----- the validation split kept across rounds
    def split(self) -> dict[str, Any] | None:
        value = self.read().get("split")
        return value if isinstance(value, dict) else None

    def set_split(self, split: dict[str, Any] | None) -> None:
        with self.edit() as state:
            if split is None:
                state.pop("split", None)
            else:
                state["split"] = split

    # ----- remembered UI choices
    def preference(self, name: str, default: Any = None) -> Any:
        return self.read().get(name, default)

    def set_preference(self, name: str, value: Any) -> None:
        if name in ("version", "active_run", "images", "split"):
            raise ValueError(f"{name!r} is not a preference")
        with self.edit() as state:
            state[name] = value
