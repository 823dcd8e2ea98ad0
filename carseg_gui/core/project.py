"""The project folder: everything the app writes about one dataset lives here.

``<project>/cache/``, ``runs/<id>/``, ``corrections/``, ``logs/``, ``state.json``. The default is
``<dataset>/.carseg``; a read-only dataset needs an explicit project folder.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .imageio import CorruptFile, read_json
from .jobs import InputError


def default_project(data: Path) -> Path:
    return Path(data) / ".carseg"


def resolve_project(data: Path, project: Path | None) -> Path:
    """The project folder, created if needed; a clear InputError when it cannot be written.

    Nothing is created unless ``data`` is a dataset folder (a mistyped path or a folder of other files
    gets a message, not a ``.carseg/`` inside it), and an explicit project folder is created only inside
    a folder that exists (a mistyped ``--project`` does not create a whole path)."""
    from .dataset import require_dataset

    require_dataset(Path(data))
    folder = Path(project) if project else default_project(data)
    if not folder.parent.is_dir():
        raise InputError(f"cannot create the project folder {folder}: {folder.parent} does not exist")
    try:
        folder.mkdir(exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        hint = "" if project else " (the dataset folder is read-only? pass --project DIR)"
        raise InputError(f"cannot write the project folder {folder}: {exc.strerror or exc}{hint}") from exc
    for sub in ("runs", "logs"):
        (folder / sub).mkdir(exist_ok=True)
    return folder


@dataclass(frozen=True)
class RunInfo:
    id: str
    folder: Path
    status: str  # running, finished, cancelled, failed, broken (a file of the run does not read back)
    config: dict[str, Any]
    metrics: dict[str, Any]
    problem: str | None = None  # for a broken run: which file and what is wrong with it

    @property
    def model_path(self) -> Path:
        return self.folder / "model.keras"

    @property
    def has_model(self) -> bool:
        return self.model_path.exists()


def new_run_id(project: Path) -> str:
    base = time.strftime("%Y%m%d-%H%M%S")
    runs = Path(project) / "runs"
    run_id, n = base, 1
    while (runs / run_id).exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def read_run(folder: Path) -> RunInfo:
    """The run as its files say; a damaged file makes it a "broken" run whose ``problem`` names the file
    (listed, never used, and never a reason for the other runs to fail)."""
    folder = Path(folder)
    parts: dict[str, dict[str, Any]] = {}
    for name in ("status", "config", "metrics"):
        path = folder / f"{name}.json"
        try:
            value = read_json(path, default={}) or {}
        except CorruptFile as exc:
            return _broken(folder, str(exc))
        except OSError as exc:
            return _broken(folder, f"{path}: cannot read ({exc.strerror or exc})")
        if not isinstance(value, dict):
            return _broken(folder, f"{path}: damaged (not a JSON object)")
        parts[name] = value
    problem = _check_config(folder / "config.json", parts["config"])
    if problem:
        return _broken(folder, problem)
    status = parts["status"].get("status", "unknown")
    return RunInfo(folder.name, folder, str(status), parts["config"], parts["metrics"])


MAX_SIZE = 2048  # a cache of 2048 px rows is 12 MB an image; beyond that a run's size is not to be trusted


def _check_config(path: Path, config: dict[str, Any]) -> str | None:
    """What a run's config.json says is used to build caches and load models: refuse values no training
    writes (a crafted ``size: 20000`` would make a 32 GB cache)."""
    size = config.get("size", 128)
    if not isinstance(size, int) or isinstance(size, bool) or not 16 <= size <= MAX_SIZE or size % 16:
        return f"{path}: size {size!r} is not a training size (a multiple of 16 from 16 to {MAX_SIZE})"
    for name in ("tta", "keep_largest", "fill_holes"):
        if not isinstance(config.get(name, False), bool):
            return f"{path}: {name} {config[name]!r} is not true or false"
    if config.get("upsample", "bilinear") not in ("bilinear", "guided"):
        return f"{path}: upsample {config['upsample']!r} is not bilinear or guided"
    return None


def _broken(folder: Path, problem: str) -> RunInfo:
    return RunInfo(folder.name, folder, "broken", {}, {}, problem=problem)


def list_runs(project: Path) -> list[RunInfo]:
    runs = Path(project) / "runs"
    if not runs.is_dir():
        return []
    return [read_run(p) for p in sorted(runs.iterdir()) if p.is_dir() and (p / "config.json").exists()]


def find_run(project: Path, which: str | None = "active", active: str | None = None) -> RunInfo:
    """A run by id, folder path, ``latest`` (newest with a model) or ``active``: the run id ``active``
    (the project's choice, which :mod:`carseg_gui.session.store` keeps), else the latest."""
    which = which or "active"
    if which not in ("active", "latest"):
        path = Path(which)
        folder = path if path.is_dir() else Path(project) / "runs" / which
        if not (folder / "config.json").exists():
            raise InputError(f"run {which!r} not found in {Path(project) / 'runs'}")
        run = read_run(folder)
        if run.problem:
            raise InputError(f"run {run.id} is broken: {run.problem}; pass another --run, or delete {folder}")
        if not run.has_model:
            raise InputError(f"run {run.id} has no saved model ({run.status} before its first epoch ended)")
        return run
    # ``active`` comes from state.json: only a plain run id inside runs/ is trusted, never a path.
    plain = bool(active) and Path(str(active)).name == active and active not in (".", "..")
    if which == "active" and plain and (Path(project) / "runs" / str(active) / "model.keras").exists():
        chosen = read_run(Path(project) / "runs" / str(active))
        if not chosen.problem:
            return chosen
    with_model = [r for r in list_runs(project) if r.has_model and not r.problem]
    if not with_model:
        raise InputError(f"no trained run in {Path(project) / 'runs'}; run `carseg train` first")
    return with_model[-1]
