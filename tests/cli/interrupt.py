"""Run a `carseg` training command as a real subprocess and press Ctrl+C once its first epoch has ended."""

from __future__ import annotations

import signal
import subprocess
import sys
import time


def ctrl_c_after_first_epoch(*args: str, epochs: int = 50, timeout: float = 300) -> tuple[int, str, str]:
    """``python -m carseg_gui.cli ARGS``; SIGINT after the line ``epoch 1/EPOCHS`` (without a terminal the
    progress prints one line per finished epoch). Returns (exit status, stdout, stderr)."""
    cmd = [sys.executable, "-m", "carseg_gui.cli", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + timeout
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith(f"epoch 1/{epochs}") or time.monotonic() > deadline:
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=timeout)
    finally:
        proc.kill()
    return proc.returncode, out, err
