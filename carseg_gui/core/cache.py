"""The preprocessed dataset on disk: indexed matrices an epoch can stream from.

``cache/s<size>/index.json`` names the current generation folder, which holds ``images.npy``
(N, S, S, 3) uint8 and ``masks.npy`` (N, S, S) uint8 0/1. A rebuild writes a new generation and
then replaces index.json, so a crash mid-rebuild leaves the previous cache intact and usable.
Rows are matched across runs by key and file fingerprint (mtime + size of image and mask), so a
second run decodes only files that changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .imageio import atomic_write_json, read_json

INDEX_VERSION = 1
Rows = Sequence[int] | np.ndarray


def file_fingerprint(*paths: Path | None) -> str:
    parts = []
    for p in paths:
        if p is None:
            parts.append("-")
            continue
        st = Path(p).stat()
        parts.append(f"{st.st_mtime_ns}:{st.st_size}")
    return "|".join(parts)


@dataclass
class Cache:
    """A read view of one cache generation. Arrays are memory-mapped, never loaded whole."""

    folder: Path
    index: dict[str, Any]

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.index["rows"]

    @property
    def size(self) -> int:
        return int(self.index["size"])

    @property
    def fingerprint(self) -> str:
        return str(self.index["fingerprint"])

    @property
    def problems(self) -> list[dict[str, str]]:
        return self.index.get("problems", [])

    def _generation(self) -> Path:
        return self.folder / self.index["generation"]

    def images(self) -> np.ndarray:
        return np.load(self._generation() / "images.npy", mmap_mode="r")

    def masks(self) -> np.ndarray:
        return np.load(self._generation() / "masks.npy", mmap_mode="r")

    def read_images(self, rows: Rows) -> np.ndarray:
        """Rows copied with plain reads, each call on its own file handle (threads may call it).

        Unlike touching the memmap, this keeps a long epoch's resident memory at one batch: mapped
        pages count in RSS, the page cache behind plain reads does not."""
        return _read_rows(self._generation() / "images.npy", rows)

    def read_masks(self, rows: Rows) -> np.ndarray:
        return _read_rows(self._generation() / "masks.npy", rows)

    def labelled_rows(self) -> list[int]:
        return [i for i, r in enumerate(self.rows) if r["labelled"] and not r.get("excluded")]

    def unlabelled_rows(self) -> list[int]:
        return [i for i, r in enumerate(self.rows) if not r["labelled"]]

    def rows_for_set(self, which: str) -> list[int]:
        if which == "train":
            return [i for i, r in enumerate(self.rows) if r["labelled"]]
        if which == "test":
            return self.unlabelled_rows()
        if which == "all":
            return list(range(len(self.rows)))
        raise ValueError(f"unknown set {which!r}")


_PIN = ".in-use."


@contextmanager
def generation_in_use(cache: Cache) -> Iterator[None]:
    """Keep ``cache``'s generation on disk while the block runs (a training streaming from it), however
    many rebuilds happen meanwhile. The pin names this process, so a crash's pin does not count."""
    pin = cache._generation() / f"{_PIN}{os.getpid()}.{uuid.uuid4().hex[:8]}"
    pin.write_bytes(b"")
    try:
        yield
    finally:
        pin.unlink(missing_ok=True)


def _pinned(generation: Path) -> bool:
    for pin in generation.glob(f"{_PIN}*"):
        try:
            pid = int(pin.name[len(_PIN) :].split(".")[0])
        except ValueError:
            continue
        if _alive(pid):
            return True
        pin.unlink(missing_ok=True)
    return False


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would end the process there; keep the pin
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_rows(path: Path, rows: Rows) -> np.ndarray:
    header = np.load(path, mmap_mode="r")  # parses the .npy header only
    shape, dtype, offset = header.shape, header.dtype, header.offset
    del header
    out = np.empty((len(rows), *shape[1:]), dtype=dtype)
    row_bytes = out[0].nbytes if len(rows) else 0
    with open(path, "rb", buffering=0) as f:
        for i, row in enumerate(rows):
            if not 0 <= row < shape[0]:
                raise IndexError(f"row {row} outside the cache ({shape[0]} rows)")
            f.seek(offset + int(row) * row_bytes)  # one thread per open file: seek + read is safe
            out[i] = np.frombuffer(f.read(row_bytes), dtype=dtype).reshape(shape[1:])
    return out


def cache_folder(project: Path, size: int) -> Path:
    return Path(project) / "cache" / f"s{size}"


def open_cache(project: Path, size: int) -> Cache | None:
    folder = cache_folder(project, size)
    index = read_json(folder / "index.json")
    if not index or index.get("version") != INDEX_VERSION:
        return None
    if not (folder / index["generation"] / "images.npy").exists():
        return None
    return Cache(folder, index)


def dataset_fingerprint(rows: list[dict[str, Any]], size: int) -> str:
    h = hashlib.sha256(f"size={size}".encode())
    for r in rows:
        h.update(f"{r['key']}|{r['fp']}|{r['labelled']}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:16]


class _RowFile:
    """An .npy file of fixed-size rows written with plain writes: dirty pages of a memmap would count in the
    writer's resident memory until the end, growing with the dataset."""

    def __init__(self, path: Path, shape: tuple[int, ...]) -> None:
        header = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=shape)  # header + size
        self.offset = header.offset
        del header
        self.row_bytes = int(np.prod(shape[1:]))
        self.file = open(path, "r+b", buffering=0)  # noqa: SIM115 - closed in close()

    def put(self, n: int, row: np.ndarray) -> None:
        data = np.ascontiguousarray(row, dtype=np.uint8).tobytes()
        if len(data) != self.row_bytes:
            raise ValueError(f"row of {len(data)} bytes, expected {self.row_bytes}")
        self.file.seek(self.offset + n * self.row_bytes)
        self.file.write(data)

    def close(self) -> None:
        if not self.file.closed:
            os.fsync(self.file.fileno())
            self.file.close()


class CacheWriter:
    """Builds the next generation; ``commit`` makes it current, ``abort`` throws it away."""

    def __init__(self, project: Path, size: int, n: int, generation: str) -> None:
        self.folder = cache_folder(project, size)
        self.size = size
        self.generation = generation
        self.path = self.folder / generation
        self.path.mkdir(parents=True, exist_ok=True)
        shape = (max(n, 0), size, size)
        self.images = _RowFile(self.path / "images.npy", (*shape, 3))
        self.masks = _RowFile(self.path / "masks.npy", shape)

    def put(self, n: int, image: np.ndarray, mask: np.ndarray | None) -> None:
        self.images.put(n, image)
        self.masks.put(n, mask if mask is not None else np.zeros((self.size, self.size), np.uint8))

    def commit(self, rows: list[dict[str, Any]], problems: list[dict[str, str]], root: Path) -> Cache:
        self.images.close()
        self.masks.close()
        index = {
            "version": INDEX_VERSION,
            "size": self.size,
            "root": str(root),
            "generation": self.generation,
            "rows": rows,
            "problems": problems,
            "fingerprint": dataset_fingerprint(rows, self.size),
        }
        previous = read_json(self.folder / "index.json", default={}) or {}
        atomic_write_json(self.folder / "index.json", index)
        # The generation just replaced stays one more round: a viewer or a running job may still read it;
        # older ones go unless a running training pinned them (generation_in_use).
        keep = {self.generation, previous.get("generation")}
        for old in self.folder.iterdir():
            if old.is_dir() and old.name not in keep and not _pinned(old):
                shutil.rmtree(old, ignore_errors=True)
        return Cache(self.folder, index)

    def abort(self) -> None:
        self.images.close()
        self.masks.close()
        shutil.rmtree(self.path, ignore_errors=True)
