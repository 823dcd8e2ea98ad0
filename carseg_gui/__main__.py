"""`python -m carseg_gui` opens the desktop app."""

import sys

from carseg_gui.qt.app import main

if __name__ == "__main__":
    sys.exit(main())
