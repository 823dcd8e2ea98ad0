"""Reading images and masks, and writing every file atomically.

OpenCV decodes JPEG/PNG/TIFF/BMP (and can decode JPEG at 1/2, 1/4, 1/8 scale in the DCT, which is
what makes preprocessing of 1918x1280 photos cheap); Pillow decodes GIF, because Carvana's masks
are palette GIFs and Pillow returns the palette indices four times faster than OpenCV.

OpenCV is never given a path, only the file's bytes (``cv2.imdecode``): its Python binding converts a
path with ``PyUnicode_AsUTF8`` and dereferences the NULL it gets for a name that is not valid UTF-8
(Python holds such names as surrogate escapes, e.g. ``caf\udce9.jpg`` for the byte 0xE9), which is a
segmentation fault, not an exception. Reading the bytes in Python also makes Windows' non-ANSI paths work.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import cv2
import numpy as np
from PIL import Image

from .jobs import InputError

# Pillow warns (DecompressionBombWarning) on opening images over 89 Mpixels, which is printed on the
# terminal; such photos exist (medium format) and are read like the others. Over 179 Mpixels Pillow raises
# instead, and the file is listed as a problem with Pillow's words. One global filter: the decode threads
# would race on warnings.catch_warnings.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".bmp")
_JPEG = (".jpg", ".jpeg")
_REDUCED_FLAGS = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


class UnreadableImage(Exception):
    """The file exists but is not an image we can decode; the message says why."""


@contextmanager
def atomic_open(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """A file that appears at ``path`` whole or not at all: written as a temp file in the same folder,
    flushed to disk, then renamed over ``path``; an exception inside the block removes the temp file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file 0600; a file the app writes gets the mode open() would give it (umask).
        os.chmod(tmp, 0o666 & ~current_umask())
        # Text is UTF-8 whatever the locale; a file name that is not UTF-8 goes out as its own bytes.
        binary = "b" in mode
        encoding, errors, newline = (None, None, None) if binary else ("utf-8", "surrogateescape", "")
        with os.fdopen(fd, mode, encoding=encoding, errors=errors, newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux: /proc); elsewhere
    set and restored at once (os.umask is the only way to read it there)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder and os.replace, so readers never see half a file."""
    with atomic_open(path) as f:
        f.write(data)


def atomic_write_json(path: Path, obj: Any) -> None:
    """Strict JSON: a NaN or infinity (a diverged loss, a rate nobody could read) is written as null,
    since ``NaN`` is not JSON and other tools refuse the file."""
    text = json.dumps(_finite(obj), indent=2, sort_keys=True, allow_nan=False)
    atomic_write_bytes(path, (text + "\n").encode())


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


class CorruptFile(InputError):
    """A file the app wrote that no longer reads back (truncated, overwritten, random bytes): the message
    names it. Derived files (the cache) are rebuilt; a run with one is listed as broken and skipped."""


def read_json(path: Path, default: Any = None) -> Any:
    """The file's JSON, ``default`` when it does not exist; :class:`CorruptFile` naming it when it is no JSON."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return default
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        why = "empty" if not data.strip() else f"not valid JSON: {str(exc).split(':')[0]}"
        raise CorruptFile(f"{path}: damaged ({why})") from exc


def image_size(path: Path) -> tuple[int, int]:
    """(height, width) from the header only, without decoding the pixels."""
    try:
        with Image.open(path) as im:
            w, h = im.size
    except Exception as exc:  # Pillow raises many types for bad files
        raise UnreadableImage(_reason(path, exc)) from exc
    return h, w


def read_image(path: Path, min_side: int | None = None) -> tuple[np.ndarray, tuple[int, int]]:
    """RGB uint8 image and its original (height, width).

    With ``min_side``, a JPEG is decoded at the largest DCT reduction (1/2, 1/4, 1/8) whose result
    still has both sides >= min_side; that is exact enough for a later INTER_AREA resize and 5-8x faster.
    """
    path = Path(path)
    h, w = image_size(path)
    flag = cv2.IMREAD_COLOR
    if min_side and path.suffix.lower() in _JPEG:
        for factor in (8, 4, 2):
            if min(h, w) // factor >= min_side:
                flag = _REDUCED_FLAGS[factor]
                break
    if path.suffix.lower() == ".gif":
        arr = _read_pil(path, "RGB")
    else:
        bgr = _cv2_decode(path, flag)
        # Pillow takes the odd TIFF/BMP that OpenCV declines.
        arr = _read_pil(path, "RGB") if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return arr, (h, w)


def read_mask(path: Path) -> np.ndarray:
    """The mask as stored: 2-D (grey, palette resolved to grey) or 3-D (RGB/RGBA); any dtype."""
    path = Path(path)
    if path.suffix.lower() == ".gif":
        return _read_gif_mask(path)
    arr = _cv2_decode(path, cv2.IMREAD_UNCHANGED)
    if arr is None:
        return np.asarray(_read_pil(path, None))
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGBA)
    return arr


def _file_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise UnreadableImage("file not found") from exc


def _cv2_decode(path: Path, flag: int) -> np.ndarray | None:
    """OpenCV's decode of the file's bytes (never of its path: see the module note); None if it declines.

    A JPEG cut short (an interrupted copy) is refused: libjpeg would fill the missing rows with grey and
    OpenCV return that as a whole image, to be trained on with a mask that says "car" there."""
    data = _file_bytes(path)
    if not data:
        raise UnreadableImage("empty file")
    if Path(path).suffix.lower() in _JPEG and not _jpeg_complete(data):
        raise UnreadableImage("truncated JPEG: the file ends before its image data does (copy it again)")
    return cv2.imdecode(np.frombuffer(data, np.uint8), flag)


def _jpeg_complete(data: bytes) -> bool:
    """True when the JPEG ends with its end-of-image marker, or (trailing bytes after it: some cameras
    append data) when Pillow, which refuses truncated files, decodes it whole."""
    if data.rstrip(b"\0 \r\n")[-2:] == b"\xff\xd9":
        return True
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
    except Exception:
        return False
    return True


def _open_gif_grey(path: Path) -> Image.Image:
    """A GIF mask as a Pillow greyscale image: the palette resolved (Carvana's is black, white)."""
    try:
        im = Image.open(path)
        im.load()
    except Exception as exc:
        raise UnreadableImage(_reason(path, exc)) from exc
    return im if im.mode == "L" else im.convert("L")


def _read_gif_mask(path: Path) -> np.ndarray:
    with _open_gif_grey(path) as im:
        return np.asarray(im)


def read_gif_mask_small(path: Path, size: int) -> tuple[np.ndarray, float, tuple[int, int]]:
    """(mask resized to size x size with box filtering, its full-size maximum, full (height, width)).

    Pillow's reduce-then-box resize is 2-3x faster than OpenCV's INTER_AREA at a non-integer ratio
    such as 1918 -> 128, and at Carvana's size the mask, not the photo, is the slow half of a pair.
    """
    with _open_gif_grey(path) as im:
        top = float(im.getextrema()[1])  # type: ignore[arg-type]  # one band: (min, max)
        small = im.resize((size, size), Image.Resampling.BOX, reducing_gap=2.0)
        return np.asarray(small), top, (im.height, im.width)


def _read_pil(path: Path, mode: str | None) -> np.ndarray:
    try:
        with Image.open(path) as im:
            im.load()
            return np.asarray(im.convert(mode) if mode else im)
    except Exception as exc:
        raise UnreadableImage(_reason(path, exc)) from exc


def _reason(path: Path, exc: Exception) -> str:
    p = Path(path)
    if not p.exists():
        return "file not found"
    if p.stat().st_size == 0:
        return "empty file"
    text = str(exc).split("\n")[0]
    if "cannot identify image file" in text:
        return "not an image file (cannot identify its format)"
    return f"cannot decode: {text}"


def encode_mask(mask: np.ndarray, fmt: str) -> bytes:
    """A 0/1 (or bool) mask as PNG 0/255, or as a Carvana-style palette GIF with indices 0/1."""
    binary = (np.asarray(mask) > 0).astype(np.uint8)
    if fmt == "png":
        ok, buf = cv2.imencode(".png", binary * 255)
        if not ok:
            raise OSError("PNG encoding failed")
        return buf.tobytes()
    if fmt == "gif":
        im = Image.frombytes("P", (binary.shape[1], binary.shape[0]), binary.tobytes())
        im.putpalette([0, 0, 0, 255, 255, 255])
        out = io.BytesIO()
        im.save(out, format="GIF")
        return out.getvalue()
    raise ValueError(f"unknown mask format {fmt!r}")
