"""Words about runs, no Qt: the runs list's cells, the training panel's sentences about a run.

The kept model is the best-loss epoch's, so its Dice is *the* score; the highest Dice the curve reached is
named too when it is higher, so the words match the chart.
"""

from __future__ import annotations

from pathlib import Path

from ...core.config import TrainConfig
from ...core.imageio import read_json
from ...core.precision import policy_words
from ...core.presets import PRESETS, describe_changes
from ...core.project import RunInfo
from ..progress import duration

SHOWN = ("epochs", "patience", "val_split", "size", "batch_size", "filters", "levels", "learning_rate", "loss",
         "batch_norm", "dropout", "augment", "lr_schedule", "tta", "keep_largest", "fill_holes", "seed",
         "dtype_policy", "precision_reason", "init_from")  # fmt: skip


def device_words(device: str, policy: str | None, reason: str | None) -> tuple[str, str]:
    """The training panel's device line ("Device: CPU · float32") and its tooltip (why that precision)."""
    text = f"Device: {device}" + (f" · {policy_words(policy)}" if policy else "")
    return text, (f"Precision: {reason}" if reason else "")


def preset_text(run: RunInfo) -> str:
    """The preset a run started from, and what was changed from it ("best · size 128")."""
    name = run.config.get("preset")
    if not name:
        return "–"
    if name not in PRESETS:
        return str(name)
    changes = [words for _key, words in describe_changes(run.config, name)]
    return " · ".join([name, *changes])


def settings_tooltip(run: RunInfo) -> str:
    """The training and inference settings a run recorded (its config.json), one per line."""
    lines = [f"{key}: {run.config[key]}" for key in SHOWN if key in run.config]
    return f"Settings of run {run.id}:\n" + "\n".join(lines) if lines else ""


def run_status(run: RunInfo, training_now: bool) -> str:
    if run.status == "running":
        return "training…" if training_now else "interrupted"
    return run.status


def best_dice(run: RunInfo) -> float | None:
    """The (validation) Dice of the kept model, i.e. at the best epoch (lowest validation loss)."""
    value = run.metrics.get("val_dice", run.metrics.get("dice"))
    return float(value) if value is not None else None


def score_words(run: RunInfo, history: list[dict]) -> str:
    """ "val Dice 0.0004 at epoch 3, the best (lowest val. loss); highest 0.1400 at epoch 5", or "".

    The kept model is the best-loss epoch's, so that is the score; the highest Dice the curve reached
    is named too when it is higher, so the number matches what the chart shows.
    """
    dice = best_dice(run)
    if dice is None:
        return ""
    validated = "val_dice" in run.metrics
    kind, key = ("val Dice", "val_dice") if validated else ("Dice", "dice")
    loss = "val. loss" if validated else "loss"
    text = f"{kind} {dice:.4f} at epoch {run.metrics.get('best_epoch')}, the best (lowest {loss})"
    peaks = [(float(h[key]), epoch) for epoch, h in enumerate(history, 1) if isinstance(h.get(key), (int, float))]
    if peaks:
        top, at = max(peaks, key=lambda p: (p[0], -p[1]))
        if round(top, 4) > round(dice, 4):
            text += f"; highest {top:.4f} at epoch {at}"
    return text


def describe_run(run: RunInfo, history: list[dict]) -> str:
    """One line about a past run, for the panel when no run is training."""
    m = run.metrics
    score = score_words(run, history)
    score = score.replace(f"at epoch {m.get('best_epoch')}", f"at epoch {m.get('best_epoch')} of {len(history)}", 1)
    took = f", {duration(m['train_s'])} of training" if m.get("train_s") else ""
    status = {"running": "interrupted (the app or the computer stopped during training)"}.get(run.status, run.status)
    model = "" if run.has_model else "; no model was saved"
    preset = f" ({run.config['preset']} preset)" if run.config.get("preset") else ""
    return f"Run {run.id}{preset}: {status}{': ' if score else ''}{score}{took}{model}."


def cancelled_text(run: RunInfo | None) -> str:
    """What a cancel left: the run with its epochs and kept model, or that none was started."""
    if run is None:
        return "Training cancelled before a run was started (while preparing the cache or the model)."
    history = read_json(run.folder / "history.json", default=[]) or []
    epochs = run.metrics.get("epochs_run", len(history))
    if run.has_model:
        score = score_words(run, history)
        return f"Run {run.id} cancelled after {epochs} epoch(s){': ' + score if score else ''}. Its best model is kept."
    if history and history[-1].get("size") and history[-1]["size"] != run.config.get("size"):
        return (
            f"Run {run.id} cancelled after {epochs} warm-up epoch(s) at {history[-1]['size']} px: no model was saved "
            f"(only an epoch at the training size, {run.config.get('size')} px, keeps one)."
        )
    return f"Run {run.id} cancelled before its first epoch ended: no model was saved."


def training_words(c: TrainConfig) -> str:
    """What a training that starts now will do, from the settings it was started with."""
    shape = f"{c.size}×{c.size}, batch {c.batch_size}, {c.filters} base filters, seed {c.seed}"
    start = Path(c.init_from).name if c.init_from else ""
    if c.replay and start:  # a quick retrain (session.actions.quick_retrain_config): never stopped early
        return (
            f"Quick retrain of run {start} ({c.preset} preset): {c.epochs} epochs from its best weights at learning "
            f"rate {c.learning_rate:g}, on the new masks and {c.replay}× as many earlier images, {shape}."
        )
    warm = f", from run {start}'s best weights" if start else ""
    return (
        f"Training a {c.preset} run: up to {c.epochs} epochs (stops after {c.patience} without improvement){warm}, "
        f"{shape}."
    )


def dice_cell(run: RunInfo) -> tuple[str, str]:
    """The runs list's Dice cell and its tooltip: the validation Dice, or the training Dice marked as such."""
    dice = best_dice(run)
    if dice is None:
        return "–", ""
    if "val_dice" in run.metrics:
        return f"{dice:.4f}", ""
    return f"{dice:.4f} (training)", "No validation images: the Dice on the images it trained on, which flatters it"


def comparison_word(before: float, after: float) -> str:
    """Better, worse or the same, at the four decimals the panel shows (0.0000 → 0.0000 is no change)."""
    b, a = round(float(before), 4), round(float(after), 4)
    return "better" if a > b else "worse" if a < b else "no change"
