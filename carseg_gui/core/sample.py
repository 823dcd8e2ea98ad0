"""A deterministic synthetic dataset in the Carvana layout, so the app can be tried with no download.

Each car is a tiny 3-D model (extruded side profiles for body and cabin, cylinders for wheels) on a
virtual turntable: the 16 views are 22.5 degrees apart, so side views come out long and front/back
views narrow and tall, as in Carvana's photo booth. The car is drawn 4x supersampled and
area-downscaled, so mask edges carry anti-aliased grey values (Carvana's own masks are 0/1).
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
from PIL import Image

from carseg_gui.core.imageio import atomic_write_bytes, atomic_write_json, read_json
from carseg_gui.core.jobs import CancelToken, InputError, Progress, ProgressFn, no_progress

VIEWS = 16
SS = 4  # supersampling: faces filled crisp (LINE_AA would leave seams where they meet), INTER_AREA smooths
FORMAT = {"format": "carseg-sample", "version": 1}  # bump when the drawing changes, so old folders mismatch
GREY_PALETTE = [v for i in range(256) for v in (i, i, i)]  # palette index == grey value
PAINTS = [(236, 236, 234), (232, 234, 236), (188, 190, 192), (150, 150, 152), (92, 92, 96), (38, 38, 40),
          (40, 40, 180), (150, 80, 30), (105, 50, 25), (55, 100, 45), (150, 180, 200),
          (35, 95, 210)]  # fmt: skip
GLASS, LINER, TYRE, RIM, HOLE = (48, 42, 36), (24, 24, 24), (34, 34, 36), (178, 180, 182), (50, 50, 52)  # BGR
BODY_LEAN, CABIN, CABIN_LEAN = 0.06, 0.82, 0.45  # tumblehome: sides narrow upwards (fraction per metre)
LIGHT = np.array([-0.45, -0.6, 0.66]) / np.linalg.norm([-0.45, -0.6, 0.66])  # studio key light: upper left


@dataclass(frozen=True)
class SampleInfo:
    out: Path
    train: int  # labelled images in train/, each with its mask in train_masks/
    test: int  # unlabelled images in test/, of other cars
    cars: int  # distinct cars in train/


def car_id(seed: int, car: int) -> str:
    """12 lowercase hex chars like Carvana's ids; hashing keeps them stable and unrelated across seeds."""
    return hashlib.sha256(f"carseg-sample:{seed}:{car}".encode()).hexdigest()[:12]


def _car(seed: int, car: int) -> SimpleNamespace:
    """Everything that stays fixed while the turntable turns: shape (metres), paint, studio, camera."""
    rng = np.random.default_rng([seed, car])
    u = rng.uniform
    tall = u(0, 1)  # 0 = low sedan ... 1 = SUV: one knob for the heights keeps the proportions believable
    hx, belt = u(1.95, 2.5), 0.72 + 0.25 * tall + u(-0.03, 0.03)  # half length, beltline
    front, rear = hx * u(0.2, 0.42), -hx * u(0.5, 0.78)  # cabin ends
    return SimpleNamespace(
        hx=hx, hw=hx * u(0.37, 0.42), r=0.3 + 0.07 * tall, clear=0.13 + 0.1 * tall, belt=belt,
        wb=hx * u(0.56, 0.64), roof=belt + 0.5 + 0.2 * tall + u(-0.04, 0.06), front=front, rear=rear,
        wind=(front - rear) * u(0.22, 0.38), back=(front - rear) * u(0.05, 0.35),
        paint=np.array(PAINTS[rng.integers(len(PAINTS))]) * u(0.9, 1.04), frac=u(0.62, 0.76),
        elev=math.radians(u(8, 16)), cx=u(0.46, 0.54), cy=u(0.64, 0.72), wall=u(212, 238), floor=u(0.4, 0.5),
        tint=1 + u(-0.03, 0.03, 3).astype(np.float32),
    )  # fmt: skip


def _chaikin(pts: np.ndarray, n: int = 3) -> np.ndarray:
    """Corner cutting on an open polyline (ends kept): coarse outlines become rounded bodywork."""
    for _ in range(n):
        a, b = pts[:-1], pts[1:]
        cut = np.empty((2 * len(a), 2))
        cut[0::2], cut[1::2] = 0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b
        pts = np.vstack([pts[:1], cut, pts[-1:]])
    return pts


def _body_profile(c: SimpleNamespace) -> tuple[np.ndarray, np.ndarray]:
    """Side outline (x, z), counter-clockwise from the nose over the roof line: plain, and with arches."""
    hx, cl, b = c.hx, c.clear, c.belt
    nose = [(hx * 0.97, cl + 0.03), (hx, cl + 0.28), (hx * 0.99, b - 0.12), (hx * 0.92, b - 0.04)]
    tail = [(-hx * 0.93, b), (-hx * 0.995, b - 0.07), (-hx, cl + 0.3), (-hx * 0.97, cl + 0.03)]
    top = _chaikin(np.array([*nose, (c.front, b + 0.03), (c.rear, b + 0.03), *tail]))
    t0 = math.asin((cl - c.r) / (1.18 * c.r))  # where an arch meets the sill, below the wheel centre
    t = np.linspace(math.pi - t0, t0, 14)
    arches = [np.stack([x + 1.18 * c.r * np.cos(t), c.r + 1.18 * c.r * np.sin(t)], 1) for x in (-c.wb, c.wb)]
    return top, np.vstack([top, *arches])


def _cabin_profile(c: SimpleNamespace) -> np.ndarray:
    z0, f, r = c.belt + 0.03, c.front, c.rear
    roof = [(f - c.wind, c.roof), ((f - c.wind + r + c.back) / 2, c.roof + 0.03), (r + c.back, c.roof)]
    return _chaikin(np.array([(f, z0), *roof, (r, z0)]))


def _prism(profile: np.ndarray, y0: float, y1: float, sides: tuple, edge_colour, lean=0.0, z0=0.0) -> list:
    """Faces (points, outward normal, colour) of a profile extruded from y0 to y1, narrowing upwards."""
    x, z = profile[:, 0], profile[:, 1]
    ends = [np.stack([x, y * (1 - lean * (z - z0)), z], 1) for y in (y0, y1)]
    faces = [(ends[k], s * np.array([0, 1, y * lean]) / math.hypot(1, y * lean), sides[k])
             for k, (y, s) in enumerate(((y0, -1), (y1, 1)))]  # fmt: skip
    j = np.roll(np.arange(len(profile)), -1)
    quads = np.stack([ends[0], ends[0][j], ends[1][j], ends[1]], 1)
    normals = np.cross(quads[:, 3] - quads[:, 0], quads[:, 1] - quads[:, 0])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
    mids = (profile + profile[j]) / 2
    return faces + [(quads[i], normals[i], edge_colour(mids[i], normals[i])) for i in range(len(profile))]


class _Camera:
    """Orthographic turntable camera looking slightly down; pixel coordinates are supersampled."""

    def __init__(self, phi: float, elev: float, scale: float, cx: float, cy: float):
        cp, sp = math.cos(phi), math.sin(phi)
        self.rot = np.array([[sp, cp, 0], [-cp, sp, 0], [0, 0, 1]])  # phi = 0: the nose faces the camera
        self.ce, self.se, self.scale, self.cx, self.cy = math.cos(elev), math.sin(elev), scale, cx, cy
        self.toward = np.array([0, -self.ce, self.se])  # from the scene to the camera

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel positions and depths (larger = farther) of car-frame points (x forward, y left, z up)."""
        p = pts @ self.rot.T  # X right, Y away from the camera, z up
        up = p[:, 2] * self.ce + p[:, 1] * self.se  # farther points sit higher: the camera looks down
        uv = np.stack([self.cx + self.scale * p[:, 0], self.cy - self.scale * up], 1)
        return np.round(uv).astype(np.int32), p[:, 1] * self.ce - p[:, 2] * self.se

    def shade(self, colours, normals: np.ndarray, spec: float = 0.35) -> np.ndarray:
        """Lambert plus a soft highlight, per face; NaN rows for faces turned away (back-face culling)."""
        n = np.atleast_2d(normals) @ self.rot.T
        h = (LIGHT + self.toward) / np.linalg.norm(LIGHT + self.toward)
        lam, hl = np.clip(n @ LIGHT, 0, None)[:, None], np.clip(n @ h, 0, None)[:, None] ** 30
        lit = np.clip(np.atleast_2d(colours) * (0.45 + 0.65 * lam) + 255 * spec * hl, 0, 255)
        return np.where((n @ self.toward > 1e-3)[:, None], lit, np.nan)


def _paint(cam: _Camera, cv: tuple, faces: list) -> None:
    """Painter's algorithm over front faces (enough for closed convex parts); all go into the mask."""
    starts = np.cumsum([0] + [len(f[0]) for f in faces])
    uv, depth = cam.project(np.concatenate([f[0] for f in faces]))
    depth = np.add.reduceat(depth, starts[:-1]) / np.diff(starts)
    lit = cam.shade(np.array([f[2] for f in faces], float), np.array([f[1] for f in faces]))
    for i in np.argsort(-depth, kind="stable"):
        cv2.fillPoly(cv[1], [uv[starts[i] : starts[i + 1]]], 255)
        if not np.isnan(lit[i, 0]):
            cv2.fillPoly(cv[0], [uv[starts[i] : starts[i + 1]]], tuple(lit[i]))


def _disc(x: float, y: float, z: float, rad: float) -> np.ndarray:
    t = np.linspace(0, 2 * math.pi, 25)
    return np.stack([x + rad * np.cos(t), np.full_like(t, y), z + rad * np.sin(t)], 1)


def _body(c: SimpleNamespace, cam: _Camera, cv: tuple) -> None:
    """Body as three slabs: outer ones with the arches cut out, a central one closing the wheel wells.

    This painter's order holds from every turntable angle: inner (liner) surfaces, wheels, slabs far to
    near, cabin. One notched prism instead would show its arch walls as black bands across the car.
    """
    top, notched = _body_profile(c)

    def arch(mid: np.ndarray, n: np.ndarray) -> tuple:  # the arch walls are black liner
        near = min(math.hypot(mid[0] - x, mid[1] - c.r) for x in (-c.wb, c.wb)) < 1.19 * c.r
        return LINER if near else c.paint

    yi = c.hw - 0.3
    slabs = [_prism(notched, -c.hw, -yi, (c.paint, LINER), arch, BODY_LEAN),
             _prism(top, -yi, yi, (LINER, LINER), lambda m, n: c.paint, BODY_LEAN),
             _prism(notched, yi, c.hw, (LINER, c.paint), arch, BODY_LEAN)]  # fmt: skip
    _paint(cam, cv, [f for s in slabs for f in s if f[2] is LINER])
    _wheels(c, cam, cv)
    for y in sorted((-1, 0, 1), key=lambda y: -cam.project(np.array([[0.0, y * c.hw, 0.0]]))[1][0]):
        _paint(cam, cv, [f for f in slabs[y + 1] if f[2] is not LINER])
    hc = c.hw * CABIN  # the cabin: painted roof and sides, glass wherever the surface is not nearly flat
    glass = lambda m, n: c.paint if n[2] > 0.9 else GLASS  # noqa: E731
    cabin = _prism(_cabin_profile(c), -hc, hc, (c.paint, c.paint), glass, CABIN_LEAN, c.belt + 0.03)
    _paint(cam, cv, cabin)


def _wheels(c: SimpleNamespace, cam: _Camera, cv: tuple) -> None:
    """Tyres (a cylinder projects to the hull of its end circles), far ones first; rims on outer faces."""
    spots = sorted(((x, sy) for x in (-c.wb, c.wb) for sy in (-1, 1)),
                   key=lambda w: -cam.project(np.array([[w[0], w[1] * c.hw, c.r]]))[1][0])  # fmt: skip
    holes = [(0.12, HOLE, 0.4 * math.cos(a), 0.4 * math.sin(a)) for a in np.arange(5) * 2 * math.pi / 5 + 0.3]
    for x, sy in spots:
        yo, n = sy * (c.hw - 0.04), np.array([0, sy, 0.0])
        ends = [cam.project(_disc(x, y, c.r, c.r))[0] for y in (yo, yo - sy * 0.24)]
        hull = cv2.convexHull(np.vstack(ends))
        cv2.fillPoly(cv[0], [hull], TYRE)
        cv2.fillPoly(cv[1], [hull], 255)
        if np.isnan(cam.shade(TYRE, n)[0, 0]):
            continue  # outer face turned away: its rim is hidden
        for rad, colour, dx, dz in [(1, TYRE, 0, 0), (0.66, RIM, 0, 0), *holes, (0.2, HOLE, 0, 0)]:
            disc = _disc(x + dx * c.r, yo + sy * 0.01, c.r + dz * c.r, rad * c.r)
            cv2.fillPoly(cv[0], [cam.project(disc)[0]], tuple(cam.shade(colour, n, spec=0.15)[0]))


def _details(c: SimpleNamespace, cam: _Camera, cv: tuple) -> None:
    """Side windows, then a pillar and head/tail lights: planar patches drawn only where their face shows."""
    prof, z0, hc = _cabin_profile(c), c.belt + 0.03, c.hw * CABIN
    centre = np.array([prof[:, 0].mean(), z0 + 0.07])
    glass = centre + (prof - centre) * [0.9, 0.8]
    xm = (c.front + c.rear) / 2 - 0.1
    zt = np.interp([xm - 0.05, xm + 0.05], glass[::-1, 0], glass[::-1, 1])  # window top (x falls along it)
    pillar = np.array([(xm - 0.05, z0), (xm + 0.05, z0), (xm + 0.05, zt[1]), (xm - 0.05, zt[0])])
    windows, trim = [], []
    for sy in (-1, 1):  # on the cabin's leaning side planes, a hair outside them
        n = np.array([0, sy, CABIN_LEAN * hc]) / math.hypot(1, CABIN_LEAN * hc)
        on_side = [np.stack([p[:, 0], sy * (hc * (1 - CABIN_LEAN * (p[:, 1] - z0)) + 0.005), p[:, 1]], 1)
                   for p in (glass, pillar)]  # fmt: skip
        windows.append((on_side[0], n, GLASS))
        trim.append((on_side[1], n, c.paint * 0.5))
        for sx, colour in ((1, (225, 235, 240)), (-1, (40, 40, 170))):
            ys, zs = sy * c.hw * np.array([0.55, 0.88, 0.88, 0.55]), c.belt - np.array([0.2, 0.2, 0.09, 0.09])
            lamp = np.stack([np.full(4, sx * c.hx * 0.995), ys, zs], 1)
            trim.append((lamp, np.array([sx, 0, 0.0]), colour))
    _paint(cam, cv, windows)  # separate passes: coplanar patches have no meaningful depth order
    _paint(cam, cv, trim)


@lru_cache(maxsize=2)  # one studio per car, shared by its 16 views (callers must not modify it)
def _studio(seed: int, car: int, w: int, h: int) -> np.ndarray:
    """Light grey wall over a slightly darker floor, a soft seam where they meet, and a vignette."""
    c = _car(seed, car)
    y, x = np.linspace(0, 1, h, dtype=np.float32)[:, None], np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    t = np.clip((y - c.floor) / 0.03 + 0.5, 0, 1)
    grey = (c.wall - 20 * (c.floor - y)) * (1 - t) + (c.wall - 14 + 28 * (y - c.floor) / (1 - c.floor)) * t
    grey = (grey - 9 * np.exp(-(((y - c.floor) / 0.01) ** 2))) * (1 - 0.2 * (0.6 * x**2 + (y - 0.5) ** 2))
    return grey[..., None] * c.tint


def _shadow(c: SimpleNamespace, cam: _Camera, w: int, h: int) -> np.ndarray:
    """Soft floor shadow (darkness 0..0.75), blurred at quarter size because blur cost grows with radius."""
    q, out = 4 * SS, np.zeros((h // 4 + 1, w // 4 + 1), np.float32)
    for k, sigma, dark in ((1.08, 0.45, 0.35), (0.95, 0.12, 0.45)):  # wide ambient + tight contact shadow
        box = np.array([(sx * c.hx * k, sy * c.hw * k, 0) for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))])
        small = np.zeros_like(out)
        cv2.fillConvexPoly(small, cam.project(box)[0] // q, 1.0, cv2.LINE_AA)
        out += dark * cv2.GaussianBlur(small, (0, 0), max(0.5, sigma * cam.scale / q))
    return cv2.resize(np.clip(out, 0, 0.75), (w, h), interpolation=cv2.INTER_LINEAR)


def render_view(seed: int, car: int, view: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """One photo (BGR uint8) and its mask (uint8 0..255, anti-aliased edges); view is 1..16."""
    c, rng = _car(seed, car), np.random.default_rng([seed, car, view])
    phi = math.radians((view - 1) * 360 / VIEWS + rng.uniform(-3, 3))
    fit = min(c.frac * width / (2 * c.hx), 0.42 * height / c.roof)  # px per metre, fixed per car: a turntable
    scale = fit * SS * rng.uniform(0.98, 1.02)
    cam = _Camera(phi, c.elev, scale, c.cx * width * SS, c.cy * height * SS)
    # supersample just the car's bounding box: drawing and downscaling the whole frame 4x is the slow part
    box = np.array([(sx * c.hx, sy * c.hw, z) for sx in (-1, 1) for sy in (-1, 1) for z in (0, c.roof + 0.1)])
    uv = cam.project(box)[0] // SS
    (x0, y0), (x1, y1) = np.maximum(uv.min(0) - 2, 0), np.minimum(uv.max(0) + 3, (width, height))
    crop = _Camera(phi, c.elev, scale, cam.cx - x0 * SS, cam.cy - y0 * SS)
    size = ((y1 - y0) * SS, (x1 - x0) * SS)
    cv = np.zeros((*size, 3), np.uint8), np.zeros(size, np.uint8)
    _body(c, crop, cv)
    _details(c, crop, cv)
    mask, car_rgb = np.zeros((height, width), np.uint8), np.zeros((height, width, 3), np.float32)
    mask[y0:y1, x0:x1] = cv2.resize(cv[1], (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    car_rgb[y0:y1, x0:x1] = cv2.resize(cv[0], (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    rows = np.nonzero(mask.max(1))[0]  # vertical gradient over the car: lit roof, darker sills
    car_rgb *= np.interp(np.arange(height), rows[[0, -1]], [1.1, 0.82]).astype(np.float32)[:, None, None]
    img = _studio(seed, car, width, height) * (1 - _shadow(c, cam, width, height))[..., None]
    img *= 1 - mask[..., None].astype(np.float32) / 255  # car_rgb is premultiplied (black where no car)
    img += car_rgb
    img += 2.2 * rng.standard_normal((height, width, 1), np.float32)  # sensor noise: JPEG looks photographic
    return np.clip(img, 0, 255, out=img).astype(np.uint8), mask


def _gif(mask: np.ndarray) -> bytes:
    """Palette GIF like Carvana's, with a grey palette so the anti-aliased edge values survive."""
    im = Image.frombytes("P", (mask.shape[1], mask.shape[0]), np.ascontiguousarray(mask).tobytes())
    im.putpalette(GREY_PALETTE)
    buf = io.BytesIO()
    im.save(buf, format="GIF", optimize=False)
    return buf.getvalue()


def _claim(out: Path, params: dict) -> None:
    """Refuse a folder holding anything else; accept (and resume) one with a sample of the same parameters."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is not a folder; choose a new folder")
    if out.is_dir() and any(out.iterdir()):
        try:
            same = read_json(out / "sample.json") == params
        except (OSError, ValueError):
            same = False
        if not same:
            raise InputError(f"{out} is not empty; choose a new folder")
    for sub in ("train", "train_masks", "test"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    if not (out / "sample.json").exists():  # written first, so an interrupted run is recognised and resumed
        atomic_write_json(out / "sample.json", params)


def generate_sample(out: Path, count: int = 64, seed: int = 0, test_count: int | None = None,
                    width: int = 480, height: int = 320, progress: ProgressFn = no_progress,
                    cancel: CancelToken | None = None) -> SampleInfo:  # fmt: skip
    """Write ``count`` labelled train images (16 views per car), ``test_count`` unlabelled ones of other cars.

    Same arguments give byte-identical files. Files already present are kept (each was written
    atomically), so a second call on a finished sample returns at once and rewrites nothing.
    """
    out = Path(out)
    test_count = max(2, count // 8) if test_count is None else test_count
    if count < 1 or test_count < 0:
        raise InputError(f"count must be at least 1 and test_count at least 0 (got {count}, {test_count})")
    if width < 64 or height < 48:
        raise InputError(f"image size {width}x{height} is too small; use at least 64x48")
    params = {"count": count, "seed": seed, "test_count": test_count, "width": width, "height": height}
    _claim(out, {**FORMAT, **params})
    cars = -(-count // VIEWS)
    todo = [("train", i // VIEWS, i % VIEWS + 1) for i in range(count)]
    todo += [("test", cars + i // VIEWS, i % VIEWS + 1) for i in range(test_count)]
    progress(Progress("sample", 0, len(todo)))
    for done, (split, car, view) in enumerate(todo, 1):
        if cancel is not None:
            cancel.check()
        stem = f"{car_id(seed, car)}_{view:02d}"
        jpg, gif = out / split / f"{stem}.jpg", out / "train_masks" / f"{stem}_mask.gif"
        if not jpg.exists() or (split == "train" and not gif.exists()):
            image, mask = render_view(seed, car, view, width, height)
            if split == "train":  # mask first: a train image on disk always has its mask
                atomic_write_bytes(gif, _gif(mask))
            atomic_write_bytes(jpg, cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes())
        progress(Progress("sample", done, len(todo), f"{split}/{stem}.jpg"))
    return SampleInfo(out, count, test_count, cars)
