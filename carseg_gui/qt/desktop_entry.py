"""The freedesktop launcher of the running program: ``carseg-gui --install-desktop-entry``.

Writes ``$XDG_DATA_HOME/applications/carseg-gui.desktop`` (default ``~/.local/share``) and the app
icons under ``$XDG_DATA_HOME/icons/hicolor/<size>/apps/``, for the current user only (no root).
``Exec=`` is the program running now: the bundle's executable when frozen (PyInstaller), else the
``carseg-gui`` script of the Python environment, else ``python -m carseg_gui``. Pure Python: no Qt.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

APP_ID = "carseg-gui"
DESKTOP_FILE = f"{APP_ID}.desktop"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
# Characters that make an Exec argument need quoting (freedesktop Desktop Entry spec, "The Exec key").
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value and Path(value).is_absolute() else Path.home() / ".local" / "share"


def program_command() -> list[str]:
    """The command that starts this program again (absolute paths: a desktop's PATH may lack the venv)."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    # No resolve(): a venv's python is a symlink, and the script sits next to the link.
    bin_dir = Path(sys.executable).absolute().parent
    for name in (APP_ID, f"{APP_ID}.exe"):
        script = bin_dir / name
        if script.is_file():
            return [str(script)]
    return [str(Path(sys.executable).absolute()), "-m", "carseg_gui"]


def exec_quote(arg: str) -> str:
    """An argument of the Exec key: quoted where needed, then escaped as a desktop-file string."""
    arg = arg.replace("%", "%%")
    if any(c in _RESERVED for c in arg):
        arg = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return arg.replace("\\", "\\\\")


def desktop_entry(command: Sequence[str]) -> str:
    exec_line = " ".join(exec_quote(a) for a in command)
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.0",
        f"Name={APP_ID}",
        "GenericName=Car segmentation",
        "Comment=Segment cars in photos: preprocess, train a U-Net, review and export masks",
        f"Exec={exec_line} %f",
        f"TryExec={exec_quote(command[0])}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Graphics;2DGraphics;RasterGraphics;",
        "Keywords=segmentation;mask;car;U-Net;Carvana;",
        "MimeType=inode/directory;",
        f"StartupWMClass={APP_ID}",
    ]
    return "\n".join(lines) + "\n"


def _resources() -> Path | None:
    from .paths import resources_folder

    return resources_folder()


def icon_targets(data: Path) -> list[tuple[str, Path]]:
    """(resource file name, installed path) of every icon."""
    hicolor = data / "icons" / "hicolor"
    pairs = [(f"{APP_ID}-{s}.png", hicolor / f"{s}x{s}" / "apps" / f"{APP_ID}.png") for s in ICON_SIZES]
    pairs.append((f"{APP_ID}.svg", hicolor / "scalable" / "apps" / f"{APP_ID}.svg"))
    return pairs


def _refresh_caches(data: Path) -> None:
    """Best effort: desktops pick the files up without these too, only later."""
    commands = (
        ["update-desktop-database", str(data / "applications")],
        ["gtk-update-icon-cache", "-q", "-t", str(data / "icons" / "hicolor")],
    )
    for cmd in commands:
        if shutil.which(cmd[0]) and Path(cmd[-1]).is_dir():
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(cmd, check=False, capture_output=True, timeout=30)


def install(data: Path | None = None, command: Sequence[str] | None = None) -> list[Path]:
    """Write the launcher and the icons; return the files written."""
    data = data or data_home()
    written: list[Path] = []
    resources = _resources()
    if resources is not None:
        for name, target in icon_targets(data):
            source = resources / name
            if source.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                written.append(target)
    entry = data / "applications" / DESKTOP_FILE
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(desktop_entry(list(command or program_command())), encoding="utf-8")
    written.append(entry)
    _refresh_caches(data)
    return written


def uninstall(data: Path | None = None) -> list[Path]:
    """Remove the launcher and the icons that :func:`install` wrote; return the files removed."""
    data = data or data_home()
    removed: list[Path] = []
    for path in [data / "applications" / DESKTOP_FILE, *(t for _, t in icon_targets(data))]:
        if path.is_file():
            path.unlink()
            removed.append(path)
    _refresh_caches(data)
    return removed


def run(action: str) -> int:
    """The command-line flags: ``install`` or ``uninstall``; prints what was done."""
    try:
        if action == "install":
            files = install()
            print(f"installed {files[-1]} (Exec={' '.join(program_command())}) and {len(files) - 1} icon(s)")
        else:
            files = uninstall()
            print(f"removed {len(files)} file(s)" if files else "nothing to remove: no launcher was installed")
    except OSError as exc:
        print(f"carseg-gui: cannot {action} the desktop entry: {exc}", file=sys.stderr)
        return 1
    return 0
