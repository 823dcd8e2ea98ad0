"""One writer per project at a time, across processes: ``with project_lock(project, "train", "run R"):``.

Jobs that write the cache or ``runs/`` (preprocess, train, export) hold an OS file lock on
``<project>/project.lock`` (the ``filelock`` library: ``flock`` on POSIX, ``msvcrt`` on Windows), so a
second ``carseg train`` or a ``preprocess`` started while a training reads the cache is refused with
:class:`ProjectBusy` ("project busy: training run R (pid P) since T") instead of a traceback, and no
index.json ends up pointing at a generation another process deleted. The OS drops the lock when the
holder dies (even by SIGKILL), so a crash never leaves the project locked; the sidecar
``project.lock.json`` only says who holds it and is rewritten by the next holder.

The lock is re-entrant within one process (train calls preprocess, the GUI's job calls helpers that lock
too): only the outermost ``with`` takes and releases the OS lock, and the holder's words stay those of
the outermost job.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from .imageio import atomic_write_json, read_json
from .jobs import InputError

LOCK_NAME = "project.lock"
INFO_NAME = "project.lock.json"
_JOB_WORDS = {
    "preprocess": "preprocessing",
    "train": "training",
    "predict": "predicting",
    "export": "exporting",
    "evaluate": "evaluating",
}


class ProjectBusy(InputError):
    """Another process holds the project's lock; the message says which job, its pid and since when."""


@dataclass
class _Held:
    lock: FileLock
    info: dict[str, Any]
    depth: int = 0
    project: Path = field(default_factory=Path)

    def update(self, detail: str) -> None:
        """Say more about the job once it is known (the run id of a training)."""
        self.info["detail"] = detail
        _write_info(self.project, self.info)


_HELD: dict[str, _Held] = {}
_GUARD = threading.Lock()


def _key(project: Path) -> str:
    return str(Path(project).resolve())


def describe_holder(info: dict[str, Any] | None) -> str:
    """ "training run R (pid P) since T", from the sidecar's fields."""
    if not info:
        return "another carseg job"
    words = _JOB_WORDS.get(str(info.get("job")), str(info.get("job") or "a job"))
    detail = f" {info['detail']}" if info.get("detail") else ""
    host = f" on {info['host']}" if info.get("host") and info.get("host") != socket.gethostname() else ""
    started = info.get("started")
    since = f" since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(started))}" if started else ""
    return f"{words}{detail} (pid {info.get('pid', '?')}{host}){since}"


def lock_holder(project: Path) -> dict[str, Any] | None:
    """Who holds the project now, as the sidecar says; None when nobody does (or it cannot be read)."""
    try:
        info = read_json(Path(project) / INFO_NAME)
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _write_info(project: Path, info: dict[str, Any]) -> None:
    # The sidecar is a courtesy for the message; the OS lock is what protects the project.
    with suppress(OSError):
        atomic_write_json(Path(project) / INFO_NAME, info)


@contextmanager
def project_lock(project: Path, job: str, detail: str = "") -> Iterator[_Held]:
    """Hold the project for a job that writes; raises :class:`ProjectBusy` at once if another process does.

    Yields a handle whose ``update(detail)`` changes what the sidecar says (e.g. once a run id exists).
    """
    project = Path(project)
    key = _key(project)
    with _GUARD:
        held = _HELD.get(key)
        if held is None:
            project.mkdir(parents=True, exist_ok=True)
            lock = FileLock(project / LOCK_NAME, timeout=0, thread_local=False, is_singleton=False)
            try:
                lock.acquire()
            except Timeout:
                raise ProjectBusy(
                    f"project busy: {describe_holder(lock_holder(project))}; "
                    f"wait for it to end or stop it, then try again ({project})"
                ) from None
            info = {
                "job": job,
                "detail": detail,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": time.time(),
            }
            held = _HELD[key] = _Held(lock, info, 0, project)
            _write_info(project, info)
        held.depth += 1
    try:
        yield held
    finally:
        with _GUARD:
            held.depth -= 1
            if held.depth == 0:
                del _HELD[key]
                with suppress(OSError):
                    (project / INFO_NAME).unlink(missing_ok=True)
                held.lock.release()
