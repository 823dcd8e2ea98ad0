"""Run-length encoding as Carvana's submission format defines it.

Pixels are numbered from 1 in row-major order (Carvana's ``train_masks.csv`` decodes with a plain
``reshape(height, width)``); the string lists ``start length`` pairs of the runs of 1s.
"""

from __future__ import annotations

import numpy as np


def rle_encode(mask: np.ndarray) -> str:
    flat = (np.asarray(mask) > 0).astype(np.int8).ravel()
    padded = np.concatenate([[0], flat, [0]])
    edges = np.flatnonzero(padded[1:] != padded[:-1]) + 1
    edges[1::2] -= edges[::2]
    return " ".join(map(str, edges))


def rle_decode(text: str, shape: tuple[int, int]) -> np.ndarray:
    numbers = np.asarray(text.split(), dtype=np.int64)
    flat = np.zeros(shape[0] * shape[1], dtype=np.uint8)
    for start, length in zip(numbers[::2] - 1, numbers[1::2], strict=True):
        flat[start : start + length] = 1
    return flat.reshape(shape)
