"""The four panels of the main window."""
