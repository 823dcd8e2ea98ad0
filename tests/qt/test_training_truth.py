"""The training panel tells the truth: the curves show the run that just ran, scores are named for
what they are, and a comparison of equal numbers is no "better"."""

from __future__ import annotations

from pathlib import Path

from carseg_gui.core.project import RunInfo
from carseg_gui.qt.panels.runs_list import COLUMNS, score_words
from carseg_gui.qt.panels.training_panel import comparison_word, describe_run


def test_comparison_word_is_at_the_shown_precision() -> None:
    assert comparison_word(0.0, 0.0) == "no change"
    assert comparison_word(0.0, 0.00001) == "no change"  # both read 0.0000
    assert comparison_word(0.5, 0.5001) == "better" and comparison_word(0.5, 0.4999) == "worse"


def test_the_kept_models_score_is_named_and_the_highest_too(tmp_path: Path) -> None:
    run = RunInfo("r1", tmp_path, "finished", {}, {"val_dice": 0.0004, "best_epoch": 3})
    history = [{"val_dice": d} for d in (0.01, 0.02, 0.0004, 0.09, 0.14)]
    text = score_words(run, history)
    assert text.startswith("val Dice 0.0004 at epoch 3, the best (lowest val. loss)")
    assert text.endswith("highest 0.1400 at epoch 5")
    assert "at epoch 3 of 5" in describe_run(run, history)
    assert score_words(run, [{"val_dice": 0.0004}]).endswith("(lowest val. loss)")  # no higher peak: no extra
    assert "Val Dice at best epoch" in COLUMNS
