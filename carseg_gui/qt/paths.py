"""The app's names and folders: where its icon, its per-user data and the sample live.

Kept apart from ``app.py`` (the entry point) so the window and the desktop entry can use them without
importing the entry point that imports them.
"""

from __future__ import annotations

from pathlib import Path

ORGANIZATION = "carseg"
APPLICATION = "carseg-gui"
SAMPLE_COUNT = 64


def resources_folder() -> Path | None:
    """The icons: ``resources/`` of a source checkout or editable install, or ``carseg_gui/resources``
    of a plain install (the wheel carries the folder as that package, see pyproject.toml)."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "resources", here.parents[1] / "resources"):
        if (candidate / "carseg-gui.svg").exists():
            return candidate
    return None


def app_icon() -> object:
    from PySide6.QtGui import QIcon

    icon = QIcon()
    folder = resources_folder()
    if folder is not None:
        for png in sorted(folder.glob("carseg-gui-*.png")):
            icon.addFile(str(png))
        if icon.isNull():
            icon.addFile(str(folder / "carseg-gui.svg"))
    return icon


def user_data_folder() -> Path:
    from PySide6.QtCore import QStandardPaths

    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
