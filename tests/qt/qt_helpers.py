"""Small helpers shared by the Qt tests: wait for a job, set training settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TRAIN_TIMEOUT_MS = 180_000


def wait_job(qtbot: Any, window: Any, name: str, start: Any, timeout: int = TRAIN_TIMEOUT_MS) -> str:
    """Run ``start()`` and wait until the job ``name`` ends; return its outcome."""
    outcome: list[str] = []

    def ended(job: str, result: str) -> bool:
        if job == name:
            outcome.append(result)
            return True
        return False

    with qtbot.waitSignal(window.controller.jobEnded, timeout=timeout, check_params_cb=ended):
        assert start() is not False, f"{name} did not start: {window.state.why_not(name)}"
    return outcome[0]


def open_dataset(qtbot: Any, window: Any, folder: Path) -> str:
    return wait_job(qtbot, window, "open", lambda: window.controller.open_dataset(folder), 30_000)


def set_training(window: Any, **values: int) -> None:
    for name, value in values.items():
        window.training_panel.spins[name].setValue(value)


def wait_page(qtbot: Any, window: Any, action: Any, timeout: int = 60_000) -> float:
    """Run ``action`` (which changes the page) and return the seconds until the page was complete."""
    viewer = window.viewer_panel
    with qtbot.waitSignal(viewer.pageShown, timeout=timeout) as blocker:
        action()
    return float(blocker.args[1])
