"""The welcome page: shown until a dataset is open, its buttons open the sample, a folder or a recent one."""

from __future__ import annotations

from pathlib import Path

from carseg_gui.qt.controller import Controller
from carseg_gui.qt.main_window import MainWindow
from tests.qt.qt_helpers import open_dataset, wait_job


def test_welcome_shows_until_a_dataset_opens(qtbot, window, sample: Path) -> None:  # type: ignore[no-untyped-def]
    welcome = window.welcome
    assert window.pages.currentWidget() is welcome and welcome.isVisible()
    assert not window.tabs.isVisible()
    assert welcome.sample_button.isEnabled() and welcome.folder_button.isEnabled()
    assert not welcome.recent_buttons and not welcome.recent_title.isVisible()
    steps = welcome.findChild(type(welcome.recent_title), "welcomeSteps").text()
    assert "Preprocess" in steps and "retrain" in steps and "Export" in steps

    assert open_dataset(qtbot, window, sample) == "succeeded"
    assert window.pages.currentWidget() is window.splitter and not welcome.isVisible()
    assert window.tabs.isVisible() and window.dataset_panel.isVisible()
    window.close()

    # a new window lists the folder as recent; clicking it opens it
    again = MainWindow(Controller())
    qtbot.addWidget(again)
    again.show()
    try:
        assert again.pages.currentWidget() is again.welcome
        assert len(again.welcome.recent_buttons) == 1 and again.welcome.recent_title.isVisible()
        assert str(sample.resolve()) in again.welcome.recent_buttons[0].text()
        assert wait_job(qtbot, again, "open", again.welcome.recent_buttons[0].click, 30_000) == "succeeded"
        assert again.state.root == sample.resolve()
        assert again.pages.currentWidget() is again.splitter
    finally:
        again.controller.shutdown()
        again.close()
        again.viewer_panel.stop()


def test_welcome_buttons_start_the_sample_and_the_folder_dialog(qtbot, window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[object] = []
    monkeypatch.setattr(window.controller, "open_sample", lambda folder, count: calls.append((folder, count)))
    monkeypatch.setattr(
        "carseg_gui.qt.main_window.QFileDialog.getExistingDirectory", lambda *a: calls.append("dialog") or ""
    )
    window.welcome.sample_button.click()
    window.welcome.folder_button.click()
    assert calls[0][0].name == "sample" and calls[0][1] == 64  # type: ignore[index]
    assert calls[1] == "dialog"
    assert window.pages.currentWidget() is window.welcome  # nothing opened


def test_a_recent_dataset_reopens_with_its_own_project(qtbot, window, sample: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Recent entries are (dataset, project) pairs: a project kept elsewhere is the one reopened, not
    a new empty one inside the dataset folder."""
    elsewhere = tmp_path / "my-project"
    opened = lambda: window.controller.open_dataset(sample, elsewhere)  # noqa: E731
    assert wait_job(qtbot, window, "open", opened, 30_000) == "succeeded"
    assert window.state.project == elsewhere.resolve() or window.state.project == elsewhere
    window.close()

    again = MainWindow(Controller())
    qtbot.addWidget(again)
    again.show()
    try:
        entry = again.recent()[0]
        assert entry.dataset == str(sample.resolve()) and entry.project == str(window.state.project)
        button = again.welcome.recent_buttons[0]
        assert str(window.state.project) in button.text()  # the entry says which project it opens
        assert wait_job(qtbot, again, "open", button.click, 30_000) == "succeeded"
        assert again.state.project == window.state.project
        again.recent_menu.aboutToShow.emit()  # what opening File ▸ Open recent does
        assert again.recent_menu.actions()[0].text() == entry.label()
    finally:
        again.controller.shutdown()
        again.close()
        again.viewer_panel.stop()


def test_a_recent_pair_whose_project_is_gone_asks_first(
    qtbot, window, sample: Path, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from carseg_gui.session.recent import Recent

    gone = Recent(str(sample.resolve()), str(tmp_path / "deleted-project"))
    asked: list[str] = []
    monkeypatch.setattr(window, "ask", lambda title, question: asked.append(question) or False)
    assert window.open_recent(gone) is False  # declined: nothing opened, nothing created
    assert asked and "no longer exists" in asked[0] and not (tmp_path / "deleted-project").exists()
    assert window.status.text() == f"Not opened: the project folder {gone.project} no longer exists"
    monkeypatch.setattr(window, "ask", lambda title, question: True)
    assert wait_job(qtbot, window, "open", lambda: window.open_recent(gone), 30_000) == "succeeded"
    assert window.state.project == Path(gone.project)
