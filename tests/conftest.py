"""Shared fixtures. Environment first: these must be set before TensorFlow or Qt is imported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# auto precision is decided by the CPU's flags here: timing it (core/precision.py) has tests of its own.
os.environ.setdefault("CARSEG_PRECISION_PROBE", "off")

from tests.datasets import make_carvana


@pytest.fixture
def carvana(tmp_path: Path) -> Path:
    return make_carvana(tmp_path / "data")
