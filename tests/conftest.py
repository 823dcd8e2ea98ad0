"""Shared fixtures. Environment first: these must be set before TensorFlow or Qt is imported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.datasets import make_carvana


@pytest.fixture
def carvana(tmp_path: Path) -> Path:
    return make_carvana(tmp_path / "data")
