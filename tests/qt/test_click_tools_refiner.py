"""The click refiner from the window's side: trained through the controller (the Training panel's button
calls controller.train_refiner), then used by the editor's smart click tool on a sample photo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtGui import QImage

from carseg_gui.core.clicks import crop_box, crop_side
from carseg_gui.core.dataset import scan
from carseg_gui.core.refiner_training import RefinerConfig
from carseg_gui.qt.controller import Controller
from carseg_gui.qt.editor import EditorItem
from carseg_gui.qt.editor.click_engine import as_rgb
from tests.qt.qt_helpers import TRAIN_TIMEOUT_MS
from tests.qt.test_click_tools import choose, no_click_thread, open_editor, press

TINY = RefinerConfig(
    epochs=1, samples_per_image=1, batch_size=4, filters=4, levels=2, input_size=32, base_crop=64, max_crop=128
)


def wait_job(qtbot: Any, controller: Controller, name: str, start: Any) -> str:
    outcome: list[str] = []

    def ended(job: str, result: str) -> bool:
        outcome.append(result)
        return job == name

    with qtbot.waitSignal(controller.jobEnded, timeout=TRAIN_TIMEOUT_MS, check_params_cb=ended):
        assert start() is not False
    return outcome[-1]


@pytest.mark.slow
def test_train_the_refiner_from_the_window_then_click_with_it(qtbot, sample: Path, gaps) -> None:  # type: ignore[no-untyped-def]
    controller = Controller()
    lines: list[str] = []
    controller.status.connect(lines.append)
    try:
        assert wait_job(qtbot, controller, "open", lambda: controller.open_dataset(sample)) == "succeeded"
        assert controller.state.why_not("refiner") is None
        with qtbot.waitSignal(controller.refinerTrained, timeout=TRAIN_TIMEOUT_MS) as trained:
            assert controller.train_refiner(TINY)
            assert controller.state.why_not("refiner") is not None  # one job at a time
    finally:
        controller.shutdown()
    run = trained.args[0]
    assert run.status == "finished" and run.epochs_run == 1 and run.has_model
    assert run.folder.parent == controller.state.project / "refiner_runs"
    assert json.loads((run.folder / "config.json").read_text())["human_masks"]["images"] == 20
    assert any(line.startswith("Training the click refiner: epoch 1/1") for line in lines)
    assert f"Click refiner {run.id} trained: 1 epoch(s)" in lines[-1] and "smart click tool (S)" in lines[-1]

    record = scan(sample).labelled[0]
    item = EditorItem(record.key, record.image, record.mask)
    editor = open_editor(qtbot, controller.state.project, [item])
    gaps.start()  # the refiner loads and the click computes on the click thread, not on the GUI thread
    session = choose(qtbot, editor, "smart")
    assert f"click refiner {run.id} ready" in session.banner.text()
    doc = editor.document
    ys, xs = np.nonzero(doc.mask)
    cy, cx = int(ys.mean()), int(xs.mean())
    doc.mask[cy - 4 : cy + 4, cx - 4 : cx + 4] = 0
    before = doc.mask.copy()
    with qtbot.waitSignal(session.applied, timeout=60_000) as applied:
        press(editor, (cx, cy))
    worst = gaps.stop()
    print(f"\nlargest event-loop gap while the refiner loaded and a click computed: {worst * 1000:.0f} ms")
    assert len(gaps.gaps) > 3, "the event loop did not run while the refiner loaded"
    result = applied.args[0]
    (click,) = session.clicks
    assert result.method == "refiner" and result.box == crop_box(doc.shape, click, crop_side(before, click, 64, 128))
    y0, y1, x0, x1 = result.box
    outside = np.ones(doc.shape, bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(doc.mask[outside], before[outside])
    assert np.array_equal(doc.mask[y0:y1, x0:x1], result.after)  # the refiner's answer, written as given
    assert doc.stack.count() == (0 if np.array_equal(result.after, result.before) else 1)
    editor.close()
    no_click_thread(qtbot, session)


def test_a_qimage_photo_becomes_the_same_rgb_array() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)  # odd width: padded rows
    image = QImage(rgb.data, 53, 37, 3 * 53, QImage.Format.Format_RGB888).copy()
    assert np.array_equal(as_rgb(image.convertToFormat(QImage.Format.Format_ARGB32)), rgb)
    assert as_rgb(rgb) is rgb


@pytest.mark.slow
def test_cancelling_the_refiner_training_keeps_the_last_epoch(qtbot, sample: Path) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    controller = Controller()
    lines: list[str] = []
    controller.status.connect(lines.append)
    ended: list[tuple[str, str]] = []
    controller.jobEnded.connect(lambda name, outcome: ended.append((name, outcome)))
    controller.runner.progress.connect(lambda name, p: p.stage == "epoch" and controller.cancel())
    try:
        assert wait_job(qtbot, controller, "open", lambda: controller.open_dataset(sample)) == "succeeded"
        with qtbot.waitSignal(controller.refinerTrained, timeout=TRAIN_TIMEOUT_MS) as trained:
            assert controller.train_refiner(replace(TINY, epochs=50))
        qtbot.waitUntil(lambda: ("refiner", "cancelled") in ended)
    finally:
        controller.shutdown()
    run = trained.args[0]
    assert run.status == "cancelled" and 1 <= run.epochs_run < 50 and run.has_model
    assert f"Click refiner {run.id} cancelled after {run.epochs_run} of 50 epoch(s)" in lines[-1]
    assert "its model of the last finished epoch is kept" in lines[-1]
