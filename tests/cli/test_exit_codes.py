"""Errors the user can fix exit 2 with words, not 1 'unexpected error'."""

import errno
from pathlib import Path

import pytest

from carseg_gui import cli


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (PermissionError(errno.EACCES, "Permission denied", "/out/a.png"), 2, "permission denied: /out/a.png"),
        (OSError(errno.EROFS, "Read-only file system", "/mnt/ro/a.png"), 2, "read-only file system: /mnt/ro/a.png"),
        (OSError(errno.ENOSPC, "No space left on device", "/tmp/a.png"), 2, "disk full: "),
        (OSError(errno.EIO, "Input/output error", "/tmp/a.png"), 1, "unexpected error"),
    ],
)
def test_os_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, error: OSError, code: int,
    words: str,
) -> None:  # fmt: skip
    def fail(args: object, progress: object) -> int:
        raise error

    monkeypatch.setattr(cli, "cmd_sample", fail)
    monkeypatch.setattr(cli.tempfile, "gettempdir", lambda: str(tmp_path))  # the log of an unexpected error
    assert cli.main(["sample", str(tmp_path / "s")]) == code
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
