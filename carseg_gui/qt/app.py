"""Entry point of the desktop app (placeholder window until the panels land)."""

from __future__ import annotations

import argparse
import sys

from .. import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="carseg-gui")
    parser.add_argument("data", nargs="?")
    parser.add_argument("--version", action="version", version=f"carseg-gui {__version__}")
    parser.parse_args(argv)
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication(sys.argv[:1])
    label = QLabel("carseg-gui")
    label.show()
    return app.exec()
