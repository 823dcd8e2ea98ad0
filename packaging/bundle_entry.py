"""Entry script of the PyInstaller bundle (see carseg-gui.spec).

The bundle folder holds two executables built from this one script and sharing one _internal/
folder: ``carseg-gui`` (the desktop app; windowed on Windows and macOS) and ``carseg`` (the
command line; a console program on Windows). The name of the executable picks the program, so
a symlink such as ``~/.local/bin/carseg -> .../carseg-gui/carseg`` works too (the bootloader
resolves links when it sets ``sys.executable``).
"""

from __future__ import annotations

import multiprocessing
import os
import sys


def main() -> int:
    multiprocessing.freeze_support()  # no-op unless a future job uses processes
    name = os.path.splitext(os.path.basename(sys.executable))[0].lower()
    if name == "carseg":
        from carseg_gui.cli import main as run
    else:
        from carseg_gui.qt.app import main as run
    return int(run() or 0)


if __name__ == "__main__":
    sys.exit(main())
