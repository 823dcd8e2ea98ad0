"""Errors the user can fix exit 2 with words, not 1 'unexpected error'."""

import errno
from pathlib import Path

import numpy as np
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


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["predict", "{data}", "--out", "{data}/train", "--set", "test"], "is inside the dataset folder"),
        (
            ["predict", "{data}", "--out", "{out}", "--format", "cutout", "--feather", "-3"],
            "--feather must be 0 or more",
        ),
        (["predict", "{data}", "--out", "{out}", "--feather", "3"], "add --format cutout"),
        (["review", "{data}", "--limit", "-1"], "--limit must be 0 (all) or more"),
        (["review", "{data}", "--set", "labelled", "--order", "confidence"], "does not apply to the labelled set"),
        (["review", "{data}", "--set", "unlabelled", "--order", "dice"], "does not apply to the unlabelled set"),
    ],
)
def test_review_and_predict_refuse_what_cannot_be_meant(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], words: str
) -> None:
    from carseg_gui.core.sample import generate_sample

    data = tmp_path / "data"
    generate_sample(data, count=16, test_count=2, width=96, height=64)
    before = sorted(p.name for p in (data / "train").iterdir())
    argv = [a.format(data=data, out=tmp_path / "out") for a in args]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in (data / "train").iterdir()) == before  # nothing written into the dataset
    assert not (tmp_path / "out").exists()


def test_status_corrected_needs_a_corrected_mask(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from carseg_gui.core.corrections import save_correction
    from carseg_gui.core.project import default_project
    from carseg_gui.core.sample import generate_sample
    from carseg_gui.session.store import StateStore

    data = tmp_path / "data"
    generate_sample(data, count=16, test_count=2, width=96, height=64)
    name = sorted(p.name for p in (data / "test").iterdir())[0]
    assert cli.main(["status", str(data), name, "corrected"]) == 2
    err = capsys.readouterr().err
    assert f"cannot mark test/{name} corrected: there is no corrected mask" in err and "Traceback" not in err
    assert StateStore(default_project(data)).status(f"test/{name}") == "unreviewed"
    save_correction(default_project(data), f"test/{name}", np.ones((64, 96), np.uint8))  # the editor saved one
    assert cli.main(["status", str(data), name, "corrected"]) == 0
    assert StateStore(default_project(data)).status(f"test/{name}") == "corrected"


def test_stage_lines_without_a_terminal_say_what_happens() -> None:
    from carseg_gui.cli_progress import stage_line
    from carseg_gui.core.jobs import Progress

    assert stage_line(Progress("preprocess", 0, 72)) == "preprocess: 72 image(s)"
    assert (
        stage_line(Progress("preprocess", 0, 72, "0 unchanged, 72 to decode"))
        == "preprocess: 0 unchanged, 72 to decode"
    )
    model = Progress("model", 0, 1, "Training: loading TensorFlow and building the model…")
    assert stage_line(model) == "Training: loading TensorFlow and building the model…"  # not "model: 1 image(s)"
    assert stage_line(Progress("device", 0, 0, "CPU")) == "device: CPU"  # not "device: 0 image(s)"


@pytest.mark.parametrize("tty", [False, True])
def test_each_step_of_building_the_model_gets_its_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tty: bool
) -> None:
    """Loading TensorFlow, timing the precision, building the model: one "model" stage, three sentences,
    each said once, on a terminal too (no empty bar)."""
    from carseg_gui.cli_progress import TerminalProgress
    from carseg_gui.core.jobs import Progress

    monkeypatch.setattr("sys.stderr.isatty", lambda: tty)
    show = TerminalProgress()
    steps = ["Training: loading TensorFlow and building the model…",
             "Timing bfloat16 against float32 on this CPU (once per machine)…",
             "Training: building the model (float32)…"]  # fmt: skip
    for message in [steps[0], steps[0], steps[1], steps[2]]:
        show(Progress("model", 0, 1, message))
    show.close()
    assert capsys.readouterr().err.splitlines() == steps


def test_predict_names_a_truncated_model_and_an_out_that_is_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import json

    from carseg_gui.core.project import default_project
    from carseg_gui.core.sample import generate_sample

    data = tmp_path / "data"
    generate_sample(data, count=16, test_count=2, width=96, height=64)
    run = default_project(data) / "runs" / "20000101-000000"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"size": 32}))
    (run / "status.json").write_text(json.dumps({"status": "finished"}))
    (run / "model.keras").write_bytes(b"PK\x03\x04 truncated")
    assert cli.main(["predict", str(data), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "model.keras cannot be loaded" in err and "Traceback" not in err, err
    assert "File not found" not in err  # the file is there: Keras's words would send the user looking for it
    afile = tmp_path / "afile"
    afile.write_text("")
    assert cli.main(["predict", str(data), "--out", str(afile)]) == 2
    err = capsys.readouterr().err
    assert f"{afile} is a file, not a folder" in err and "Traceback" not in err, err


def test_a_progressive_runs_epoch_lines_name_the_size_and_never_a_best_epoch_0(capsys) -> None:  # type: ignore[no-untyped-def]
    from carseg_gui.cli_progress import TerminalProgress
    from carseg_gui.core.jobs import Progress

    show = TerminalProgress()
    show.tty = False
    show(Progress("epoch", 16, 36, info={"loss": 0.0858, "val_dice": 0.976, "best_epoch": 0, "size": 128}))
    show(Progress("epoch", 25, 36, info={"loss": 0.05, "val_dice": 0.985, "best_epoch": 25, "size": 256}))
    show(Progress("epoch", 3, 50, info={"loss": 0.3, "val_dice": 0.8, "best_epoch": 3}))
    lines = capsys.readouterr().err.splitlines()
    assert (
        lines[0]
        == "epoch 16/36 at 128 px loss=0.0858 val_dice=0.9760 (warm-up: the kept model comes from the full-size epochs)"
    )
    assert lines[1] == "epoch 25/36 at 256 px loss=0.0500 val_dice=0.9850 (best epoch 25)"
    assert lines[2] == "epoch 3/50 loss=0.3000 val_dice=0.8000 (best epoch 3)"
