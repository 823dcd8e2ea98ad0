"""Entry point of the desktop app: ``carseg-gui [DATA] [--project DIR] [--sample] [--screenshot FILE]``.

TensorFlow is not imported here or by anything imported at startup: the first job that needs it
loads it in its worker thread, so the window is up in about a second.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import __version__
from .paths import APPLICATION, ORGANIZATION, SAMPLE_COUNT, app_icon, resources_folder, user_data_folder

__all__ = ["APPLICATION", "ORGANIZATION", "SAMPLE_COUNT", "app_icon", "main", "resources_folder", "user_data_folder"]
TABS = ("training", "viewer", "export")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="carseg-gui", description="Segment cars in photos: preprocess, train a U-Net, review and export masks."
    )
    parser.add_argument("data", nargs="?", help="dataset folder to open (Carvana layout, or images/ + masks/)")
    parser.add_argument("--project", metavar="DIR", help="project folder (default: DATA/.carseg)")
    parser.add_argument("--sample", action="store_true",
                        help="open the built-in sample (generated into your data folder the first time)")  # fmt: skip
    parser.add_argument("--screenshot", metavar="FILE",
                        help="render the window (1280x800) once the first page is shown, save a PNG, exit")  # fmt: skip
    parser.add_argument("--tab", choices=TABS, help="the tab to show first")
    parser.add_argument("--version", action="version", version=f"carseg-gui {__version__}")
    entry = parser.add_mutually_exclusive_group()
    entry.add_argument("--install-desktop-entry", action="store_true",
                       help="add carseg-gui to the desktop's applications menu (this user only), exit")  # fmt: skip
    entry.add_argument("--uninstall-desktop-entry", action="store_true",
                       help="remove what --install-desktop-entry added, then exit")  # fmt: skip
    args = parser.parse_args(argv)
    if args.sample and args.data:
        parser.error("give a dataset folder or --sample, not both")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        from .desktop_entry import run

        return run("install" if args.install_desktop_entry else "uninstall")
    if args.screenshot and "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from PySide6.QtWidgets import QApplication

    from .application import Application
    from .controller import Controller
    from .errors import install_excepthook, log_to
    from .main_window import MainWindow

    app = QApplication.instance() or Application([sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APPLICATION)
    app.setWindowIcon(app_icon())  # type: ignore[arg-type]
    data_folder = user_data_folder()
    log_to(data_folder / "logs")

    window = MainWindow(Controller(fallback_projects=data_folder / "projects"))
    if isinstance(app, Application):
        app.fileOpened.connect(window.open_path)
    install_excepthook(lambda: window)
    if args.tab:
        window.tabs.setCurrentIndex(TABS.index(args.tab))
    if args.screenshot:
        from .screenshot import Screenshot

        window.resize(1280, 800)
        Screenshot(window, Path(args.screenshot), expect_data=bool(args.data or args.sample))
    window.show()
    if args.sample:
        window.controller.open_sample(data_folder / "sample", SAMPLE_COUNT)
    elif args.data:
        window.controller.open_dataset(args.data, args.project)
    code = app.exec()
    if isinstance(app, Application):
        app.fileOpened.disconnect(window.open_path)  # the application object can outlive this window
    window.controller.shutdown()
    window.viewer_panel.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
