"""A plain (non-editable) install carries everything the app reads at run time: every package, the
help text and the icons (which live in the checkout's top-level resources/ folder)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (path,) = out.glob("carseg_gui-*.whl")
    return zipfile.ZipFile(path)


def test_every_package_of_the_checkout_is_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for init in (ROOT / "carseg_gui").rglob("__init__.py"):
        assert init.relative_to(ROOT).as_posix() in names, f"{init.parent} is not listed in pyproject's packages"
    for module in (ROOT / "carseg_gui").rglob("*.py"):
        assert module.relative_to(ROOT).as_posix() in names


def test_the_icons_and_the_help_travel_where_the_app_looks_for_them(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert "carseg_gui/qt/help.html" in names
    for icon in (ROOT / "resources").iterdir():
        # qt/paths.resources_folder() looks beside the package (carseg_gui/resources) when installed
        assert f"carseg_gui/resources/{icon.name}" in names
