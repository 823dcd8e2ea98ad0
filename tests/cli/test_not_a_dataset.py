"""Commands refuse a folder that is not a dataset (or does not exist) before writing anything."""

import subprocess
import sys
from pathlib import Path

import pytest

from carseg_gui.core.jobs import InputError
from carseg_gui.core.project import resolve_project
from tests.datasets import make_carvana


def carseg(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carseg_gui.cli", *map(str, args)], capture_output=True, text=True, timeout=300
    )


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("command", ["preprocess", "train", "evaluate"])
def test_a_folder_of_other_files_gets_no_carseg_folder(tmp_path: Path, command: str) -> None:
    docs = tmp_path / "doc"
    (docs / "python3").mkdir(parents=True)
    (docs / "python3" / "README").write_text("not a dataset")
    before = tree(tmp_path)
    r = carseg(command, docs)
    assert r.returncode == 2, r.stderr
    assert "no dataset found" in r.stderr and "Traceback" not in r.stderr
    assert tree(tmp_path) == before


def test_a_mistyped_path_is_not_created(tmp_path: Path) -> None:
    r = carseg("preprocess", tmp_path / "typo" / "cars")
    assert r.returncode == 2 and "no such folder" in r.stderr
    assert not (tmp_path / "typo").exists()
    data = make_carvana(tmp_path / "data", cars=1, views=1, test=0)
    r = carseg("preprocess", data, "--project", tmp_path / "typo" / "project")
    assert r.returncode == 2 and "does not exist" in r.stderr
    assert not (tmp_path / "typo").exists()


def test_resolve_project_checks_the_dataset_first(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no dataset found"):
        resolve_project(tmp_path, None)
    assert not (tmp_path / ".carseg").exists()
