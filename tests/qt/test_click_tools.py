"""The smart click (S) and GrabCut (G) tools driven with mouse events on the editor's canvas.

Most tests use a stand-in refiner that fills a disc around each positive click and clears one around each
negative click: what it answers is known, so the tests check the editor's side exactly (crop-only
write-back, one undo step, holes, Shift+click, clicks per image). One test uses a real tiny refiner trained
on the sample; another a damaged one, which must be named and replaced by GrabCut.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from carseg_gui.core.clicks import crop_box, crop_side
from carseg_gui.qt.editor import EditorItem, MaskEditor
from carseg_gui.qt.editor.click_engine import THREAD_NAME
from carseg_gui.qt.editor.click_tools import ClickSession
from carseg_gui.session import refiner as session_refiner
from tests.datasets import car_pair

LEFT, RIGHT, NONE = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton, Qt.MouseButton.NoButton
SHIFT, PLAIN = Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.NoModifier
H, W = 300, 400


class DiscRefiner:
    """A stand-in refiner: the current mask, with discs (radius ``grow`` model px) filled around the
    positive clicks and cleared around the negative ones. Records every batch it is given."""

    folder = Path("disc-refiner")
    input_size, base_crop, max_crop, grow = 64, 64, 128, 10

    def __init__(self) -> None:
        self.batches: list[np.ndarray] = []

    def predict(self, batch: np.ndarray) -> np.ndarray:
        self.batches.append(batch.copy())
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * self.grow + 1, 2 * self.grow + 1))
        out = batch[..., 3].copy()
        for i in range(len(batch)):
            pos = cv2.dilate(batch[i, ..., 4], kernel) > 0
            neg = cv2.dilate(batch[i, ..., 5], kernel) > 0
            out[i][pos], out[i][neg] = 1.0, 0.0
        return out


def write_items(folder: Path, n: int = 2) -> list[EditorItem]:
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for i in range(n):
        img, mask = car_pair(H, W, seed=i)
        cv2.imwrite(str(folder / f"img{i}.png"), img[..., ::-1])
        cv2.imwrite(str(folder / f"img{i}_mask.png"), mask * 255)
        items.append(EditorItem(f"train/img{i}.png", folder / f"img{i}.png", folder / f"img{i}_mask.png"))
    return items


def open_editor(qtbot: Any, project: Path, items: list[EditorItem]) -> MaskEditor:
    editor = MaskEditor(project, items, 0)
    qtbot.addWidget(editor)
    editor.resize(1000, 700)
    editor.show()
    qtbot.waitExposed(editor)
    editor.canvas.setFocus()
    qtbot.waitUntil(lambda: editor.document is not None)
    editor.canvas.zoom_100()
    return editor


def no_click_thread(qtbot: Any, session: ClickSession) -> None:
    """Closing the editor ends the click thread (without the GUI thread waiting for it)."""
    assert not session.engine.running
    qtbot.waitUntil(lambda: not any(t.name == THREAD_NAME and t.is_alive() for t in threading.enumerate()))


def session_of(editor: MaskEditor) -> ClickSession:
    return editor.tools["smart"].session  # type: ignore[attr-defined, no-any-return]


def press(editor: MaskEditor, p: tuple[int, int], button: Qt.MouseButton = LEFT, modifiers: Any = PLAIN) -> None:
    """A click at image pixel p = (x, y): press and release at the pixel's centre, mapped to the viewport."""
    vp = editor.canvas.viewport()
    pos = editor.canvas.mapFromScene(QPointF(p[0] + 0.5, p[1] + 0.5))
    for kind, buttons in ((QEvent.Type.MouseButtonPress, button), (QEvent.Type.MouseButtonRelease, NONE)):
        event = QMouseEvent(kind, QPointF(pos), QPointF(vp.mapToGlobal(pos)), button, buttons, modifiers)
        QApplication.sendEvent(vp, event)


def drag(editor: MaskEditor, a: tuple[int, int], b: tuple[int, int]) -> None:
    vp = editor.canvas.viewport()
    pa, pb = (editor.canvas.mapFromScene(QPointF(*p)) for p in (a, b))
    steps = [(QEvent.Type.MouseButtonPress, pa, LEFT, LEFT)]
    steps += [(QEvent.Type.MouseMove, pa + (pb - pa) * (k / 4), NONE, LEFT) for k in range(1, 5)]
    steps += [(QEvent.Type.MouseButtonRelease, pb, LEFT, NONE)]
    for kind, pos, button, buttons in steps:
        pos = QPoint(pos)
        event = QMouseEvent(kind, QPointF(pos), QPointF(vp.mapToGlobal(pos)), button, buttons, PLAIN)
        QApplication.sendEvent(vp, event)


def choose(qtbot: Any, editor: MaskEditor, name: str, state: str = "ready") -> ClickSession:
    editor.set_tool(name)
    session = session_of(editor)
    qtbot.waitUntil(lambda: session.refiner_state == state, timeout=60_000)
    return session


@pytest.fixture
def disc(monkeypatch: pytest.MonkeyPatch) -> DiscRefiner:
    fake = DiscRefiner()
    latest = session_refiner.LatestRefiner(fake, fake.folder)  # type: ignore[arg-type]
    monkeypatch.setattr(session_refiner, "load_latest", lambda project: latest)
    return fake


@pytest.fixture
def editor(qtbot: Any, tmp_path: Path) -> Iterator[MaskEditor]:
    (tmp_path / "project").mkdir()
    ed = open_editor(qtbot, tmp_path / "project", write_items(tmp_path / "data"))
    yield ed
    ed.close()
    no_click_thread(qtbot, session_of(ed))


def test_a_positive_click_in_a_missing_part_grows_the_mask_only_inside_its_crop(qtbot, editor, disc) -> None:  # type: ignore[no-untyped-def]
    doc = editor.document
    ys, xs = np.nonzero(doc.mask)
    cy, cx = int(ys.mean()), int(xs.mean())
    doc.mask[cy - 10 : cy + 10, cx - 10 : cx + 10] = 0  # a part the mask misses, under the click
    hole = (slice(cy - 8, cy + 8), slice(cx + 90, cx + 110))  # a window far from the click: a hole to keep
    doc.mask[hole] = 0
    before = doc.mask.copy()
    session = choose(qtbot, editor, "smart")
    with qtbot.waitSignal(session.applied, timeout=30_000) as applied:
        press(editor, (cx, cy))
    result = applied.args[0]
    (click,) = session.clicks  # where the view put it (a viewport pixel is a whole number)
    assert click.positive and abs(click.y - cy) <= 1 and abs(click.x - cx) <= 1
    y0, y1, x0, x1 = box = crop_box(doc.shape, click, crop_side(before, click, disc.base_crop, disc.max_crop))
    assert result.box == box and result.method == "refiner"
    assert doc.mask[cy, cx] == 1 and doc.mask[cy - 9 : cy + 9, cx - 9 : cx + 9].all()  # the missed part is back
    outside = np.ones(doc.shape, bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(doc.mask[outside], before[outside]) and not doc.mask[hole].any()
    assert doc.stack.count() == 1 and doc.stack.text(0) == "Smart click"
    assert "ms from the click" in session.banner.text() and session.banner.isVisible()
    editor.undo()
    assert np.array_equal(doc.mask, before)  # bit-exactly
    assert session.clicks == [] and session.markers.clicks == []  # the undone click is gone with its step
    editor.redo()
    assert doc.mask[cy, cx] == 1 and doc.stack.count() == 1
    assert session.clicks == [click] and session.markers.clicks == [click]  # and back with it


def test_holes_survive_a_negative_click_elsewhere(qtbot, editor, disc) -> None:  # type: ignore[no-untyped-def]
    doc = editor.document
    ys, xs = np.nonzero(doc.mask)
    cy, cx = int(ys.mean()), int(xs.mean())
    doc.mask[cy - 6 : cy + 6, cx - 100 : cx - 80] = 0  # a window
    before = doc.mask.copy()
    session = choose(qtbot, editor, "smart")
    with qtbot.waitSignal(session.applied, timeout=30_000):
        press(editor, (cx + 60, cy), RIGHT)  # "not car" on the car, 140 px right of the window
    (click,) = session.clicks
    assert not click.positive and doc.mask[click.y, click.x] == 0 and abs(click.x - cx - 60) <= 1
    changed = doc.mask != before
    assert changed.any() and not changed[:, : cx - 40].any()
    assert not doc.mask[cy - 6 : cy + 6, cx - 100 : cx - 80].any()


def test_shift_click_adds_a_click_and_the_next_plain_click_uses_all(qtbot, editor, disc) -> None:  # type: ignore[no-untyped-def]
    doc = editor.document
    ys, xs = np.nonzero(doc.mask)
    cy, cx = int(ys.min()) - 12, int(xs.mean())  # above the roof: background
    before = doc.mask.copy()
    session = choose(qtbot, editor, "smart")
    warm = len(disc.batches)  # the engine's warm-up calls when it loaded the refiner
    press(editor, (cx - 10, cy), LEFT, SHIFT)
    assert len(session.clicks) == 1 and session.idle
    assert np.array_equal(doc.mask, before) and doc.stack.count() == 0 and len(disc.batches) == warm
    with qtbot.waitSignal(session.applied, timeout=30_000):
        press(editor, (cx + 10, cy))
    n, _ = cv2.connectedComponents((disc.batches[-1][0, ..., 4] > 0).astype(np.uint8))
    assert n - 1 == 2  # both positive clicks reached the refiner
    assert doc.mask[cy, cx - 10] == 1 and doc.mask[cy, cx + 10] == 1 and doc.stack.count() == 1
    assert session.markers.clicks == session.clicks and len(session.clicks) == 2
    qtbot.keyClick(editor.canvas, Qt.Key.Key_Backspace)
    assert len(session.clicks) == 1
    # The clicks belong to the image: the next one starts without them.
    editor.set_index(1)
    qtbot.waitUntil(lambda: editor.document is not None and editor.document is not doc)
    qtbot.waitUntil(lambda: not session.clicks and not session.markers.clicks)


def test_undo_keeps_the_shift_clicks_placed_after_the_step(qtbot, editor, disc) -> None:  # type: ignore[no-untyped-def]
    doc = editor.document
    ys, xs = np.nonzero(doc.mask)
    cy, cx = int(ys.min()) - 12, int(xs.mean())  # above the roof: background
    session = choose(qtbot, editor, "smart")
    with qtbot.waitSignal(session.applied, timeout=30_000):
        press(editor, (cx - 10, cy))
    (first,) = session.clicks
    press(editor, (cx + 10, cy), LEFT, SHIFT)  # placed, not computed: part of no step yet
    pending = session.clicks[1]
    editor.undo()
    assert session.clicks == [pending] and session.markers.clicks == [pending]
    editor.redo()
    assert session.clicks == [first, pending] and doc.stack.count() == 1
    with qtbot.waitSignal(session.applied, timeout=30_000):
        press(editor, (cx + 30, cy))  # the next plain click computes with all three
    assert len(session.clicks) == 3 and doc.stack.count() == 2
    n, _ = cv2.connectedComponents((disc.batches[-1][0, ..., 4] > 0).astype(np.uint8))
    assert n - 1 == 2  # the kept Shift+click reached the refiner with the new one (the first is off the crop)
    editor.undo()
    assert session.clicks == [first]


def test_grabcut_box_changes_only_the_box(qtbot, editor) -> None:  # type: ignore[no-untyped-def]
    doc = editor.document
    doc.mask[:] = 0  # nothing yet: GrabCut must find the car in the box from the photo alone
    ys, xs = np.nonzero(editor.document.original)
    box = (int(xs.min()) - 10, int(ys.min()) - 10, int(xs.max()) + 10, int(ys.max()) + 10)
    session = session_of(editor)
    editor.set_tool("grabcut")
    qtbot.waitUntil(lambda: session.banner.isVisible() and "GrabCut: drag a box" in session.banner.text())
    assert session.refiner_state == "unloaded"  # GrabCut loads no refiner (nor TensorFlow)
    with qtbot.waitSignal(session.applied, timeout=60_000) as applied:
        drag(editor, box[:2], box[2:])
    y0, y1, x0, x1 = applied.args[0].box
    assert applied.args[0].method == "grabcut" and (x0, y0) == box[:2]
    outside = np.ones(doc.shape, bool)
    outside[y0:y1, x0:x1] = False
    assert not doc.mask[outside].any() and doc.stack.text(0) == "GrabCut"
    inter = (doc.mask & editor.document.original).sum()
    assert 2 * inter / (doc.mask.sum() + editor.document.original.sum()) > 0.9  # the car, cut out


@pytest.mark.parametrize("damage", ["model", "version"])
def test_a_damaged_or_older_refiner_is_named_and_clicks_use_grabcut(qtbot, tmp_path: Path, damage: str) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "project"
    run = project / "refiner_runs" / "20260101-000000"
    run.mkdir(parents=True)
    version = 1 if damage == "model" else 0
    (run / "config.json").write_text(json.dumps({"format_version": version, "input_size": 64}))
    (run / "status.json").write_text(json.dumps({"status": "finished"}))
    (run / "model.keras").write_bytes(b"PK\x03\x04 not a model")
    editor = open_editor(qtbot, project, write_items(tmp_path / "data"))
    session = choose(qtbot, editor, "smart", "missing")
    words = "model.keras: cannot be read as a model" if damage == "model" else "another version of carseg"
    assert words in session.problem and "train the click refiner again" in session.problem
    assert "Smart click uses GrabCut" in session.banner.text() and words in session.banner.text()
    assert session.banner.isVisible() and words in editor.act_tools["smart"].toolTip()
    doc = editor.document
    ys, xs = np.nonzero(doc.mask)
    cy, cx = int(ys.mean()), int(xs.mean())
    doc.mask[cy - 5 : cy + 5, cx - 5 : cx + 5] = 0
    with qtbot.waitSignal(session.applied, timeout=60_000) as applied:
        press(editor, (cx, cy))
    assert applied.args[0].method == "grabcut" and doc.mask[cy, cx] == 1 and doc.stack.count() == 1
    qtbot.waitUntil(lambda: "ms from the click" in session.banner.text())
    assert session.banner.text().startswith(f"GrabCut ({session.problem})")  # S fell back: it says why
    # G chosen on purpose: GrabCut is no fallback, and the line says nothing about a refiner
    editor.set_tool("grabcut")
    doc.mask[cy - 5 : cy + 5, cx - 5 : cx + 5] = 0
    with qtbot.waitSignal(session.applied, timeout=60_000):
        press(editor, (cx, cy))
    qtbot.waitUntil(lambda: "ms from the click" in session.banner.text())
    assert session.banner.text().startswith("GrabCut: ") and "refiner" not in session.banner.text()
    editor.set_tool("brush")
    assert not session.banner.isVisible()  # the line belongs to the click tools
    editor.close()
    no_click_thread(qtbot, session)


def test_without_a_refiner_the_tool_says_how_to_get_one(qtbot, editor) -> None:  # type: ignore[no-untyped-def]
    session = choose(qtbot, editor, "smart", "missing")
    assert session.problem == session_refiner.NO_REFINER
    assert "Train the click refiner" in session.banner.text() and "GrabCut" in session.banner.text()


def test_a_failed_click_is_said_and_the_next_one_works(qtbot, editor, disc, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    session = choose(qtbot, editor, "smart")
    doc = editor.document
    before = doc.mask.copy()
    works = disc.predict
    monkeypatch.setattr(disc, "predict", lambda batch: (_ for _ in ()).throw(MemoryError()))
    press(editor, (200, 20))
    qtbot.waitUntil(lambda: "could not be computed: out of memory" in session.banner.text())
    assert np.array_equal(doc.mask, before) and doc.stack.count() == 0
    monkeypatch.setattr(disc, "predict", works)
    with qtbot.waitSignal(session.applied, timeout=30_000):
        press(editor, (200, 30))
    assert doc.stack.count() == 1


def test_a_crop_edited_while_computing_is_not_overwritten(qtbot, editor, disc, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    session = choose(qtbot, editor, "smart")
    doc = editor.document
    go, works = threading.Event(), disc.predict
    monkeypatch.setattr(disc, "predict", lambda batch: (go.wait(30), works(batch))[1])
    press(editor, (200, 20))
    doc.mask[15:25, 195:205] = 1  # another edit lands in the crop first (say, an undo)
    edited = doc.mask.copy()
    go.set()
    qtbot.waitUntil(lambda: "The mask changed while the click was computed" in session.banner.text())
    assert np.array_equal(doc.mask, edited) and doc.stack.count() == 0


def test_grabcut_seeds_from_the_mask_then_the_prediction_then_the_box() -> None:
    from carseg_gui.qt.editor.click_engine import _seed

    mask = np.zeros((100, 100), np.uint8)
    prob = np.zeros((100, 100), np.float32)
    prob[40:60, 40:60] = 0.9
    box = (20, 80, 20, 80)
    assert _seed(mask, None, box, dragged=False) is None  # a click on an empty mask, no model: clicks only
    assert _seed(mask, prob, box, dragged=False) is prob  # the model's car where the mask has none yet
    box_seed = _seed(mask, None, box, dragged=True)  # a dragged box: the car is inside it, its edge is not
    assert box_seed is not None and box_seed[50, 50] == 1 and box_seed[20, 50] == 0 and box_seed[10, 10] == 0
    mask[45:55, 45:55] = 1
    assert _seed(mask, prob, box, dragged=True) is None  # the mask has car in the box: it is the seed


def test_an_editor_deleted_while_a_click_computes_leaves_no_error(qtbot, tmp_path, disc, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "project").mkdir()
    editor = MaskEditor(tmp_path / "project", write_items(tmp_path / "data"), 0)  # not qtbot's: deleted here
    editor.show()
    qtbot.waitUntil(lambda: editor.document is not None)
    editor.canvas.zoom_100()
    session = choose(qtbot, editor, "smart")
    go, works = threading.Event(), disc.predict
    monkeypatch.setattr(disc, "predict", lambda batch: (go.wait(30), works(batch))[1])
    errors: list[object] = []
    monkeypatch.setattr(threading, "excepthook", errors.append)
    press(editor, (200, 20))
    editor.close()
    editor.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(session))  # the editor, its session and engine are gone
    go.set()  # the click thread finishes its request for nobody
    qtbot.waitUntil(lambda: not any(t.name == THREAD_NAME and t.is_alive() for t in threading.enumerate()))
    assert errors == []
