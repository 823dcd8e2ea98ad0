"""The preprocessed dataset on disk: indexed matrices an epoch can stream from.

``cache/s<size>/index.json`` names the current generation folder, which holds ``images.npy``
(N, S, S, 3) uint8 and ``masks.npy`` (N, S, S) uint8 0/1. A rebuild writes a new generation and
then replaces index.json, so a crash mid-rebuild leaves the previous cache intact and usable.
Rows are matched across runs by key and file fingerprint (mtime + size of image and mask), so a
second run decodes only files that changed.

The cache is derived data, so it is checked before use and rebuilt when it does not check out
(:func:`inspect_cache`): the index must parse, its rows must match the checksum it holds, and each
matrix must have the shape and the exact byte size the index records (a truncated ``images.npy``
would otherwise read as "up to date" and fail inside TensorFlow).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .imageio import CorruptFile, atomic_write_json, read_json

INDEX_VERSION = 2
_READABLE_VERSIONS = (1, 2)  # version 1 indexes have no checksum; their matrices are still checked
_GENERATION = re.compile(r"^gen-[0-9a-f]{1,32}$")
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

    def skipped(self, which: str) -> list[dict[str, str]]:
        """The problems that leave an image of set ``which`` (train, test, all) out of it: an image that
        cannot be used, and for the labelled set (training, evaluation) a mask that cannot be."""
        image = [p for p in self.problems if p.get("skips") == "image" and which in ("all", p.get("split"))]
        label = [p for p in self.problems if p.get("skips") == "label" and which == "train"]
        return image + label

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
        """``train``: the images the dataset labels; ``test``: the others (those a person has annotated
        since included: they are labelled now, but still test images); ``all``."""
        if which == "train":
            return [i for i, r in enumerate(self.rows) if r["labelled"] and r.get("split") != "test"]
        if which == "test":
            return [i for i, r in enumerate(self.rows) if not r["labelled"] or r.get("split") == "test"]
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


def skipped_note(skipped: list[dict[str, str]], what: str, limit: int = 5) -> str:
    """ "2 image(s) left out of training: a.jpg (truncated JPEG ...); b_mask.gif (...)" for a notice."""
    names = "; ".join(f"{Path(p['path']).name} ({p['reason']})" for p in skipped[:limit])
    more = f"; and {len(skipped) - limit} more" if len(skipped) > limit else ""
    return f"{len(skipped)} image(s) left out of {what}: {names}{more}"


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
    """The cache at ``size`` if there is one that checks out, else None (preprocessing rebuilds it)."""
    return inspect_cache(project, size)[0]


def inspect_cache(project: Path, size: int) -> tuple[Cache | None, str | None]:
    """(cache, None) when it checks out; (None, None) when there is none; (None, what is wrong) when
    it is damaged, naming the file."""
    folder = cache_folder(project, size)
    path = folder / "index.json"
    try:
        index = read_json(path)
    except CorruptFile as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"{path}: cannot read ({exc.strerror or exc})"
    if index is None:
        return None, None
    if not isinstance(index, dict) or index.get("version") not in _READABLE_VERSIONS:
        return None, f"{path}: not an index this version writes"
    problem = _check_index(folder, index, size)
    return (None, problem) if problem else (Cache(folder, index), None)


def _rows_checksum(rows: Any) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode("utf-8", "surrogateescape")).hexdigest()


def _check_index(folder: Path, index: dict[str, Any], size: int) -> str | None:
    path = folder / "index.json"
    rows = index.get("rows")
    generation = index.get("generation")
    if index.get("size") != size or not isinstance(rows, list) or not isinstance(generation, str):
        return f"{path}: damaged (size, rows or generation missing)"
    if not _GENERATION.match(generation):  # a name, never a path out of the cache folder
        return f"{path}: damaged (generation {generation!r} is not a generation name)"
    if "checksum" in index and index["checksum"] != _rows_checksum(rows):
        return f"{path}: damaged (its rows do not match their checksum)"
    if index.get("version", 1) >= 2 and "checksum" not in index:
        return f"{path}: damaged (no checksum)"
    if not all(isinstance(r, dict) and {"key", "fp", "labelled", "orig"} <= set(r) for r in rows):
        return f"{path}: damaged (a row lacks its fields)"
    if not all(_plausible_size(r["orig"]) for r in rows):  # masks are made at this size: never trust it blindly
        return f"{path}: damaged (a row's original size is not an image size)"
    for name, shape in (("images.npy", (size, size, 3)), ("masks.npy", (size, size))):
        problem = _check_matrix(folder / generation / name, shape, len(rows), index.get("bytes", {}).get(name))
        if problem:
            return problem
    return None


def _plausible_size(orig: Any) -> bool:
    return (
        isinstance(orig, list)
        and len(orig) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 65535 for v in orig)
    )


def _check_matrix(path: Path, row_shape: tuple[int, ...], rows: int, recorded: int | None) -> str | None:
    """The .npy header parses, holds uint8 rows of ``row_shape``, at least ``rows`` of them, and the
    file has exactly the bytes that header promises (and the index recorded)."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            fmt = np.lib.format
            read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, fortran, dtype = read(f)
            offset = f.tell()
        actual = path.stat().st_size
    except FileNotFoundError:
        return f"{path}: missing"
    except (OSError, ValueError) as exc:
        return f"{path}: damaged ({exc})"
    if fortran or dtype != np.uint8 or tuple(shape[1:]) != row_shape or shape[0] < rows:
        return f"{path}: damaged (holds {shape} {dtype}, expected {rows} rows of {row_shape} uint8)"
    expected = offset + int(np.prod(shape))
    if actual != expected or (recorded is not None and actual != recorded):
        return f"{path}: damaged ({actual} bytes, expected {expected}: truncated or overwritten)"
    return None


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
            "checksum": _rows_checksum(rows),
            "bytes": {name: (self.path / name).stat().st_size for name in ("images.npy", "masks.npy")},
            "problems": problems,
            "fingerprint": dataset_fingerprint(rows, self.size),
        }
        try:
            previous = read_json(self.folder / "index.json", default={}) or {}
        except CorruptFile:
            previous = {}  # damaged: the generation it named is not worth keeping
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
