"""Check a screenshot from the bundle: a valid PNG of about 1280x800 that is not blank.

python packaging/check_png.py FILE [--width 1280 --height 800 --tolerance 64]

Uses Pillow when the interpreter has it, else a small pure-Python PNG decoder (8-bit RGB/RGBA, not
interlaced: what Qt writes), so any python3 can run it. Exit status 0 when the image passes.
"""

from __future__ import annotations

import argparse
import struct
import sys
import zlib
from collections import Counter


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, rows) of an 8-bit RGB/RGBA/grey PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG (bad signature)")
    pos, idat, width = 8, bytearray(), 0
    height = bpp = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]:
            raise ValueError(f"bad CRC in chunk {kind!r}")
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace or colour not in (0, 2, 4, 6):
                raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
            bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif f == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                c = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(a, prev[i], c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def pixels(path: str) -> tuple[int, int, list[tuple[int, ...]]]:
    """(width, height, a sample of pixels as RGB tuples): every 4th pixel of every 4th row."""
    try:
        from PIL import Image
    except ImportError:
        with open(path, "rb") as f:
            w, h, bpp, rows = decode_png(f.read())
        sample = [tuple(row[x * bpp : x * bpp + 3]) for row in rows[::4] for x in range(0, w, 4)]
        return w, h, sample
    with Image.open(path) as im:
        im.verify()  # CRCs and structure
    with Image.open(path) as im:
        if im.format != "PNG":
            raise ValueError(f"not a PNG but {im.format}")
        rgb = im.convert("RGB")
        w, h = rgb.size
        px = rgb.load()
        return w, h, [px[x, y] for y in range(0, h, 4) for x in range(0, w, 4)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=800)
    ap.add_argument("--tolerance", type=int, default=64, help="pixels either way (window managers, DPI)")
    args = ap.parse_args(argv)
    try:
        w, h, sample = pixels(args.file)
    except (OSError, ValueError, zlib.error, struct.error) as exc:
        print(f"check_png: {args.file}: invalid PNG: {exc}", file=sys.stderr)
        return 1
    problems = []
    if abs(w - args.width) > args.tolerance or abs(h - args.height) > args.tolerance:
        problems.append(f"size {w}x{h}, expected about {args.width}x{args.height}")
    counts = Counter(sample)
    top_share = counts.most_common(1)[0][1] / len(sample)
    grey = [(r * 299 + g * 587 + b * 114) // 1000 for r, g, b in sample]
    mean = sum(grey) / len(grey)
    std = (sum((v - mean) ** 2 for v in grey) / len(grey)) ** 0.5
    if len(counts) < 32 or top_share > 0.97 or std < 4:
        problems.append(f"looks blank ({len(counts)} colours, top colour {top_share:.0%}, grey std {std:.1f})")
    if problems:
        print(f"check_png: {args.file}: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"check_png: {args.file}: PNG {w}x{h}, {len(counts)} colours, top colour {top_share:.0%}, grey std {std:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
