"""What the viewer shows before there is anything to page through: why, and the button that fixes it."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from ..controller import Controller


class EmptyView(QWidget):
    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = controller.state
        self.label = QLabel()
        self.label.setObjectName("viewerEmpty")
        self.label.setWordWrap(True)
        self.button = QPushButton("Preprocess now")
        self.button.clicked.connect(lambda: controller.preprocess(self.state.view_size()))
        self.state.bind(self.button, "preprocess", "Build the cache the viewer pages through")
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        layout.addStretch(2)

    def text(self) -> str:
        return self.label.text()

    def update_text(self) -> None:
        size = self.state.view_size()
        if self.state.root is None:
            self.label.setText("Open a dataset (File ▸ Open folder…, Ctrl+O) to page through its images, "
                               "or try the app on File ▸ Open the built-in sample.")  # fmt: skip
        else:
            self.label.setText(f"The dataset has no cache at {size}×{size} yet. Preprocess it to page through "
                               "its images (it takes a few seconds per thousand images).")  # fmt: skip
        self.button.setVisible(self.state.root is not None)
