"""Tiny datasets written with numpy + OpenCV + Pillow: no network, no sample generator."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image


def car_pair(h: int = 96, w: int = 144, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """An image with a coloured ellipse "car" and its 0/1 mask."""
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 200, np.uint8)
    mask = np.zeros((h, w), np.uint8)
    center = (w // 2 + int(rng.integers(-8, 8)), h // 2 + int(rng.integers(-5, 5)))
    axes = (w // 3, h // 4)
    cv2.ellipse(img, center, axes, 0, 0, 360, tuple(int(c) for c in rng.integers(0, 120, 3)), -1)
    cv2.ellipse(mask, center, axes, 0, 0, 360, 1, -1)
    return img, mask


def write_gif_mask(path: Path, mask: np.ndarray) -> None:
    im = Image.frombytes("P", (mask.shape[1], mask.shape[0]), (mask > 0).astype(np.uint8).tobytes())
    im.putpalette([0, 0, 0, 255, 255, 255])
    im.save(path)


def make_carvana(root: Path, cars: int = 3, views: int = 4, test: int = 2, h: int = 96, w: int = 144) -> Path:
    (root / "train").mkdir(parents=True)
    (root / "train_masks").mkdir()
    (root / "test").mkdir()
    n = 0
    for c in range(cars):
        for v in range(1, views + 1):
            img, mask = car_pair(h, w, seed=n)
            stem = f"car{c:03d}abcdef_{v:02d}"
            cv2.imwrite(str(root / "train" / f"{stem}.jpg"), img)
            write_gif_mask(root / "train_masks" / f"{stem}_mask.gif", mask)
            n += 1
    for t in range(test):
        img, _ = car_pair(h, w, seed=100 + t)
        cv2.imwrite(str(root / "test" / f"testcar{t:03d}ab_01.jpg"), img)
    return root


class BlobModel:
    """Predicts every image as the whole frame but a border, plus a stray blob in one corner."""

    def predict_on_batch(self, batch: np.ndarray) -> np.ndarray:
        n, h, w = batch.shape[:3]
        prob = np.full((n, h, w, 1), 0.1, np.float32)
        prob[:, 4 : h - 4, 8 : w - 4] = 0.9
        prob[:, 0:2, 0:2] = 0.8  # apart from the body: the run's keep_largest removes it
        return prob
