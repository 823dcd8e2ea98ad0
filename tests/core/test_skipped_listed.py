"""Every command that leaves an image out says how many and which; the export manifest holds them."""

from pathlib import Path

import pytest

from carseg_gui.core.evaluate import evaluate
from carseg_gui.core.export import export_masks
from carseg_gui.core.jobs import Progress
from carseg_gui.core.preprocess import preprocess
from carseg_gui.core.project import RunInfo
from carseg_gui.core.training import TrainConfig, train
from tests.datasets import BlobModel, make_carvana


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    data = make_carvana(tmp_path / "data", cars=3, views=2, test=2)
    (data / "test" / "testcar001ab_01.jpg").write_bytes(b"\xff\xd8 not a photo")
    (data / "train_masks" / "car001abcdef_02_mask.gif").write_bytes(b"GIF89a broken")
    return data


def notices(events: list[Progress]) -> list[str]:
    return [e.info["notice"] for e in events if e.stage == "notice"]


def test_export_lists_the_images_it_could_not_write(damaged: Path, tmp_path: Path) -> None:
    cache = preprocess(damaged, tmp_path / "project", size=32)
    events: list[Progress] = []
    run = RunInfo("r1", tmp_path / "r1", "finished", {"size": 32}, {})
    out, sub = tmp_path / "out", tmp_path / "sub.csv"
    summary = export_masks(cache, run, BlobModel(), out, "test", "png", sub, progress=events.append)
    assert [Path(p["path"]).name for p in summary.skipped] == ["testcar001ab_01.jpg"]
    (note,) = notices(events)
    assert note.startswith("1 image(s) left out of the export: testcar001ab_01.jpg (")
    written = [line.split(",")[0] for line in sub.read_text().splitlines()[1:]]
    assert "testcar000ab_01.jpg" in written and "testcar001ab_01.jpg" not in written
    masks = {p.name for p in out.glob("*.png")}
    assert "testcar000ab_01.png" in masks and "testcar001ab_01.png" not in masks


def test_evaluate_lists_the_labelled_images_it_left_out(damaged: Path, tmp_path: Path) -> None:
    cache = preprocess(damaged, tmp_path / "project", size=32)
    run = RunInfo("r1", tmp_path / "r1", "finished", {"size": 32}, {})
    result = evaluate(cache, run, BlobModel())
    assert [Path(p["path"]).name for p in result["skipped"]] == ["car001abcdef_02_mask.gif"]
    assert result["images"] == 5


@pytest.mark.slow
def test_training_says_which_images_it_left_out(damaged: Path, tmp_path: Path) -> None:
    events: list[Progress] = []
    config = TrainConfig(epochs=1, size=32, filters=4, batch_size=4, val_split=0.34)
    run = train(damaged, tmp_path / "project", config, progress=events.append)
    assert any(n.startswith("1 image(s) left out of training: car001abcdef_02_mask.gif (") for n in notices(events))
    assert [Path(p["path"]).name for p in run.config["skipped"]] == ["car001abcdef_02_mask.gif"]
