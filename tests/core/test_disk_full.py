"""A disk that fills up mid-training: partial files removed, the run failed with the free space said."""

import errno
from pathlib import Path

import pytest

from carseg_gui.core.jobs import DiskFull, os_error_words
from carseg_gui.core.project import read_run
from carseg_gui.core.training import TrainConfig, train
from tests.datasets import make_carvana


def test_os_errors_the_user_can_fix_get_words(tmp_path: Path) -> None:
    full = os_error_words(OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x")))
    assert isinstance(full, DiskFull) and str(full).startswith("disk full: ") and " MB free on /" in str(full)
    denied = os_error_words(PermissionError(errno.EACCES, "Permission denied", "/out/a.png"))
    assert str(denied).startswith("permission denied: /out/a.png")
    assert os_error_words(OSError(errno.EIO, "I/O error")) is None


@pytest.mark.slow
def test_disk_full_while_saving_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import keras

    def save_then_fill(self, path, *args, **kwargs):  # type: ignore[no-untyped-def]
        Path(path).write_bytes(b"\0" * 4096)  # Keras had written part of the zip when the disk filled up
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(keras.Model, "save", save_then_fill)
    data = make_carvana(tmp_path / "data", cars=3, views=2, test=0)
    project = tmp_path / "project"
    with pytest.raises(DiskFull, match=r"^disk full: \d+ MB free on /"):
        train(data, project, TrainConfig(epochs=1, size=32, filters=4, batch_size=4, val_split=0.34))
    (folder,) = (project / "runs").iterdir()
    assert sorted(p.name for p in folder.iterdir() if "partial" in p.name or p.suffix == ".tmp") == []
    run = read_run(folder)
    assert run.status == "failed" and run.problem is None
    assert "disk full" in (folder / "status.json").read_text()
