"""carseg-gui --install-desktop-entry / --uninstall-desktop-entry write and remove the launcher and
icons under $XDG_DATA_HOME, pointing at the running program; the file passes desktop-file-validate."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from carseg_gui.qt import desktop_entry
from carseg_gui.qt.app import main


def test_install_and_uninstall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["--install-desktop-entry"]) == 0
    entry = tmp_path / "applications" / "carseg-gui.desktop"
    text = entry.read_text()
    assert "MimeType=inode/directory;" in text
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert exec_line.endswith(" %f")
    program = desktop_entry.program_command()
    assert Path(program[0]).is_absolute() and Path(program[0]).exists()
    assert exec_line.startswith(f"Exec={desktop_entry.exec_quote(program[0])}")
    icons = [t for _, t in desktop_entry.icon_targets(tmp_path)]
    assert all(icon.is_file() for icon in icons), [i for i in icons if not i.is_file()]
    assert (tmp_path / "icons/hicolor/48x48/apps/carseg-gui.png").is_file()
    assert (tmp_path / "icons/hicolor/scalable/apps/carseg-gui.svg").is_file()
    assert "installed" in capsys.readouterr().out

    if shutil.which("desktop-file-validate"):
        result = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr

    assert main(["--uninstall-desktop-entry"]) == 0
    assert not entry.exists()
    assert not any(icon.exists() for icon in icons)
    assert main(["--uninstall-desktop-entry"]) == 0  # twice is harmless
    assert "nothing to remove" in capsys.readouterr().out


def test_exec_points_at_the_frozen_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    exe = tmp_path / "my apps" / "carseg-gui"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    assert desktop_entry.program_command() == [str(exe)]
    text = desktop_entry.desktop_entry(desktop_entry.program_command())
    assert f'Exec="{exe}" %f' in text  # the space needs quotes


def test_without_a_script_it_runs_the_module(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    python = tmp_path / "bin" / "python3"
    monkeypatch.setattr(sys, "executable", str(python))
    assert desktop_entry.program_command() == [str(python), "-m", "carseg_gui"]


def test_exec_quoting() -> None:
    assert desktop_entry.exec_quote("/usr/bin/carseg-gui") == "/usr/bin/carseg-gui"
    assert desktop_entry.exec_quote("/a b/100%") == '"/a b/100%%"'
    assert desktop_entry.exec_quote('/a$b"c') == '"/a\\\\$b\\\\"c"'
