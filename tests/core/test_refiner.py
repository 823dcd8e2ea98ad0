"""The click refiner: training on the synthetic sample, loading runs (good, old, corrupt), and a click
that changes only the pixels of its crop."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from carseg_gui.core.clicks import Click, crop_box
from carseg_gui.core.dataset import scan
from carseg_gui.core.imageio import read_image, read_mask
from carseg_gui.core.jobs import CancelToken, InputError, Progress
from carseg_gui.core.otsu import otsu_mask
from carseg_gui.core.refiner import latest_refiner, load_refiner, model_inputs, refine_click, refine_crop
from carseg_gui.core.refiner_training import RefinerConfig, degrade, error_clicks, train_refiner, training_click
from carseg_gui.core.sample import generate_sample

TINY = RefinerConfig(
    epochs=1, samples_per_image=1, batch_size=4, filters=4, levels=2, input_size=32, base_crop=64, max_crop=128
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("refiner")
    data = generate_sample(root / "data", count=8, width=160, height=112).out
    seen: list[Progress] = []
    run = train_refiner(data, root / "project", TINY, progress=seen.append)
    assert seen[0].done == 0 and seen[-1].stage == "epoch" and seen[-1].done == seen[-1].total == 1
    return data, run


@pytest.mark.slow
def test_training_writes_a_run_that_loads(trained: tuple[Path, Path]) -> None:
    data, run = trained
    assert run.parent.name == "refiner_runs" and (run / "model.keras").is_file()
    config = json.loads((run / "config.json").read_text())
    assert config["format_version"] == 1 and config["input_size"] == 32 and config["epochs"] == 1
    assert sorted(config["image_keys"]) == sorted(r.key for r in scan(data).labelled)
    assert json.loads((run / "status.json").read_text())["status"] == "finished"
    assert latest_refiner(run.parent.parent) == run
    refiner = load_refiner(run)
    assert refiner.input_size == 32 and refiner.base_crop == 64


@pytest.mark.slow
def test_a_click_changes_only_pixels_inside_its_crop(trained: tuple[Path, Path]) -> None:
    data, run = trained
    refiner = load_refiner(run)
    record = scan(data).labelled[0]
    image, _ = read_image(record.image)
    truth = otsu_mask(read_mask(record.mask))
    ys, xs = np.nonzero(truth)
    click = Click(int(ys.mean()), int(xs.mean()), True)
    mask = truth.copy()
    mask[click.y - 5 : click.y + 5, click.x - 5 : click.x + 5] = 0  # a missed part under the click
    before = mask.copy()
    new = refine_click(refiner, image, mask, [click])
    assert np.array_equal(mask, before)  # the input mask is not modified
    box, crop = refine_crop(refiner, image, mask, [click])
    y0, y1, x0, x1 = box
    assert box == crop_box(mask.shape, click, 64) and crop.shape == (y1 - y0, x1 - x0)
    outside = np.ones(mask.shape, bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(new[outside], mask[outside])
    assert np.array_equal(new[y0:y1, x0:x1], crop) and set(np.unique(new)) <= {0, 1}
    local = refine_click(refiner, image, mask, [click], local=True)
    assert not ((local != mask) & (new == mask)).any()  # local changes are some of the crop's changes


@pytest.mark.slow
def test_cancel_before_the_first_epoch_leaves_a_cancelled_run_without_model(tmp_path: Path) -> None:
    data = generate_sample(tmp_path / "data", count=4, width=160, height=112).out
    cancel = CancelToken()

    def stop_at_first_batch(p: Progress) -> None:
        if p.stage == "batch":
            cancel.cancel()

    run = train_refiner(data, tmp_path / "project", TINY, progress=stop_at_first_batch, cancel=cancel)
    assert json.loads((run / "status.json").read_text())["status"] == "cancelled"
    assert not (run / "model.keras").exists() and latest_refiner(tmp_path / "project") is None
    with pytest.raises(InputError, match="missing"):
        load_refiner(run)


@pytest.mark.slow
def test_a_corrupt_model_file_gives_a_clear_message(trained: tuple[Path, Path], tmp_path: Path) -> None:
    _, run = trained
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((run / "config.json").read_text())
    (broken / "model.keras").write_bytes((run / "model.keras").read_bytes()[:200])
    with pytest.raises(InputError, match=r"model\.keras: cannot be read as a model.*train the click refiner again"):
        load_refiner(broken)


def test_an_older_run_or_a_foreign_folder_gives_a_clear_message(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    (old / "config.json").write_text(json.dumps({"input_size": 256}))  # no format_version: before this one
    with pytest.raises(InputError, match="another version of carseg"):
        load_refiner(old)
    with pytest.raises(InputError, match="not a click refiner run"):
        load_refiner(tmp_path)
    (old / "config.json").write_text("{not json")
    with pytest.raises(InputError, match=r"config\.json: damaged.*train the click refiner again"):
        load_refiner(old)


def test_inputs_hold_the_crop_the_mask_and_the_clicks() -> None:
    image = np.zeros((300, 400, 3), np.uint8)
    image[:, 200:] = 255
    mask = np.zeros((300, 400), np.uint8)
    mask[100:200, 150:250] = 1
    box = (0, 128, 136, 264)
    x = model_inputs(image, mask, [Click(64, 200, True)], box, 64)  # a 128 crop seen at 64
    assert x.shape == (64, 64, 6) and x.dtype == np.float32
    assert x[0, 0, 0] == 0 and x[0, -1, 0] == 1  # the image's dark and light halves
    assert x[:50, :, 3].max() == 0 and x[60, 20, 3] == 1  # the mask, shrunk
    assert x[32, 32, 4] == 1 and x[..., 5].max() == 0


def test_degraded_masks_have_errors_and_the_training_click_lands_on_one() -> None:
    rng = np.random.default_rng(0)
    truth = np.zeros((320, 480), np.uint8)
    truth[100:250, 60:420] = 1
    truth[120:160, 300:380] = 0  # a window
    for _ in range(5):
        start = degrade(rng, truth)
        assert start.shape == truth.shape and 0.5 < (start == truth).mean() < 1.0
        candidates = error_clicks(truth, start)
        assert candidates and candidates[0][1] >= candidates[-1][1]
        click = training_click(rng, candidates, truth)
        assert truth[click.y, click.x] != start[click.y, click.x]
        assert click.positive == bool(truth[click.y, click.x])


def test_fine_errors_are_thin_slivers_and_coarse_ones_are_not() -> None:
    """``fine`` degrades as a good model errs (1-3 px along the outline), ``coarse`` as a low-resolution one;
    ``mixed`` draws either; a bad name is refused with the option's name."""
    truth = np.zeros((1280, 1918), np.uint8)
    truth[300:1000, 200:1700] = 1
    truth[400:520, 1200:1450] = 0  # a window
    err = {"fine": [], "coarse": []}  # type: dict[str, list[float]]
    for errors, shares in err.items():
        rng = np.random.default_rng(1)
        for _ in range(8):
            start = degrade(rng, truth, errors)
            shares.append(float((start != truth).mean()))
    assert max(err["fine"]) < 0.01 and np.median(err["fine"]) < np.median(err["coarse"]) / 2
    rng = np.random.default_rng(2)
    assert all(degrade(rng, truth, "mixed").shape == truth.shape for _ in range(3))
    with pytest.raises(InputError, match="--errors must be coarse, fine, mixed"):
        RefinerConfig(errors="tiny").validate()


def test_the_command_line_default_is_the_refiners() -> None:
    from carseg_gui.cli_refiner import DEFAULT_ERRORS

    assert RefinerConfig().errors == DEFAULT_ERRORS
