"""Review queue and retraining on corrections, on a tiny dataset."""

import numpy as np
import pytest

from carseg_gui.core.corrections import save_correction
from carseg_gui.core.metrics import dice
from carseg_gui.core.predict import predict_rows
from carseg_gui.core.review import compare_runs, review_scores, worst_first
from carseg_gui.core.training import TrainConfig
from carseg_gui.session.actions import find_run, load_run_model, prepare, set_status
from carseg_gui.session.actions import train as _train


def run_training(*args, **kwargs):  # type: ignore[no-untyped-def]
    return _train(*args, **kwargs).run


TINY = dict(epochs=1, size=32, filters=4, batch_size=4, val_split=0.25)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    from tests.datasets import make_carvana

    root = make_carvana(tmp_path_factory.mktemp("r") / "data")
    project = root.parent / "project"
    run = run_training(root, project, TrainConfig(**TINY))
    return root, project, run


@pytest.mark.slow
def test_worst_first_matches_computed_dice(trained) -> None:
    root, project, run = trained
    cache = prepare(root, project, 32)
    model = load_run_model(run)
    scores = review_scores(cache, run, model)
    assert len(scores) == 12
    masks = cache.masks()
    for row, prob in predict_rows(model, cache, cache.labelled_rows()[:3]):
        assert scores[cache.rows[row]["key"]] == pytest.approx(dice(masks[row], prob > 0.5), abs=1e-5)
    order = worst_first(scores)
    assert [scores[k] for k in order] == sorted(scores.values())
    assert (run.folder / "review.json").exists()
    assert review_scores(cache, run, model) == scores  # second call: from the cache


@pytest.mark.slow
def test_retrain_reads_the_correction_and_only_that_row_changes(trained) -> None:
    root, project, run = trained
    before = prepare(root, project, 32)
    images_before, masks_before = np.array(before.images()), np.array(before.masks())
    key = before.rows[2]["key"]
    save_correction(project, key, np.ones((96, 144), np.uint8))  # the whole image is car
    set_status(project, key, "corrected")
    excluded = before.rows[5]["key"]
    set_status(project, excluded, "excluded")

    after = prepare(root, project, 32)
    row = next(i for i, r in enumerate(after.rows) if r["key"] == key)
    assert after.masks()[row].all()
    n = len(after.rows)
    changed = [i for i in range(n) if not np.array_equal(after.masks()[i], masks_before[i])]
    assert changed == [row]
    assert np.array_equal(np.array(after.images()[:n]), images_before[:n])
    assert excluded not in {after.rows[i]["key"] for i in after.labelled_rows()}

    new = run_training(root, project, TrainConfig(**TINY, init_from=str(run.folder)))
    assert new.config["init_from"] == str(run.folder)
    assert excluded not in new.config["train_keys"] + new.config["val_keys"]
    result = compare_runs(after, new, load_run_model(new), find_run(project, run.id), load_run_model(run))
    assert result["images"] > 0 and 0 <= result["dice_before"] <= 1 and 0 <= result["dice_after"] <= 1


@pytest.mark.slow
def test_review_scores_use_the_runs_post_processing(trained, tmp_path) -> None:
    from dataclasses import replace

    from carseg_gui.core.postprocess import postprocess
    from tests.datasets import BlobModel

    root, project, run = trained
    cache = prepare(root, project, 32)
    masks = cache.masks()
    row = cache.labelled_rows()[0]
    plain = replace(run, folder=tmp_path / "plain", config={**run.config, "keep_largest": False})
    cleaned = replace(run, folder=tmp_path / "cleaned", config={**run.config, "keep_largest": True})
    for r in (plain, cleaned):
        r.folder.mkdir()
    prob = BlobModel().predict_on_batch(cache.read_images([row]))[0, ..., 0]
    key = cache.rows[row]["key"]
    assert review_scores(cache, plain, BlobModel())[key] == pytest.approx(dice(masks[row], prob > 0.5), abs=1e-5)
    expected = dice(masks[row], postprocess(prob > 0.5, keep_largest=True, fill=False))
    assert review_scores(cache, cleaned, BlobModel())[key] == pytest.approx(expected, abs=1e-5)
    assert expected != pytest.approx(dice(masks[row], prob > 0.5), abs=1e-5)


@pytest.mark.slow
def test_review_scores_recomputed_when_the_post_processing_differs(trained, tmp_path) -> None:
    import json
    from dataclasses import replace

    from tests.datasets import BlobModel

    root, project, run = trained
    cache = prepare(root, project, 32)
    folder = tmp_path / "run"
    folder.mkdir()
    key = cache.rows[cache.labelled_rows()[0]]["key"]
    # A review.json from before post-processing counted (no "post"), for the same dataset and threshold.
    stale = {"fingerprint": cache.fingerprint, "threshold": 0.5, "dice": {key: 0.123}}
    (folder / "review.json").write_text(json.dumps(stale))
    plain = replace(run, folder=folder, config={**run.config, "keep_largest": False, "fill_holes": False})
    first = review_scores(cache, plain, BlobModel())[key]
    assert first != 0.123
    cleaned = replace(plain, config={**plain.config, "keep_largest": True})
    assert review_scores(cache, cleaned, BlobModel())[key] != first  # same folder, other settings: recomputed
    assert json.loads((folder / "review.json").read_text())["post"] == [True, False]
