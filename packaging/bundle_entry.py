"""Entry script of the PyInstaller bundle (see carseg-gui.spec).

The bundle folder holds ``carseg-gui`` (the desktop app) and ``carseg`` (the command line), both
running this script on one _internal/ folder: on Linux ``carseg`` is a symlink to carseg-gui, on
Windows and macOS a second executable (a console one on Windows). The name the program was
started as picks it, so a link such as ``~/.local/bin/carseg -> .../carseg-gui/carseg-gui`` starts
the command line, and one named ``carseg-gui`` the desktop app.
"""

from __future__ import annotations

import multiprocessing
import os
import sys


def program_name() -> str:
    """``carseg`` or ``carseg-gui``: from argv[0] (symlinks keep their name there), else the executable."""
    for path in (sys.argv[0] if sys.argv else "", sys.executable):
        name = os.path.basename(path).lower()
        name = name[:-4] if name.endswith(".exe") else name
        if name in ("carseg", "carseg-gui"):
            return name
    return "carseg-gui"


def main() -> int:
    multiprocessing.freeze_support()  # no-op unless a future job uses processes
    if program_name() == "carseg":
        from carseg_gui.cli import main as run
    else:
        from carseg_gui.qt.app import main as run
    return int(run() or 0)


if __name__ == "__main__":
    sys.exit(main())
