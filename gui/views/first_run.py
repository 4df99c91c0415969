"""What the Explore page shows while the data folder has no post yet: the two ways to start, instead of an
empty feed and an empty inspector that say nothing about what to do."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from groundlens.core.config import AppPaths
from groundlens.gui.controllers.demo import DemoController
from groundlens.gui.theme import ERROR_COLOR
from groundlens.gui.widgets.common import label

WELCOME = (
    "Import posts you collected (JSON Lines / twarc2, CSV, an X archive, a folder of images with captions, "
    "or a Twitter-GMNER folder), or open the demo: ten posts about six real photos, analysed on this computer."
)


class FirstRunView(QWidget):
    import_requested = Signal()
    demo_ready = Signal(object)  # DemoSetup: open a window on it

    def __init__(self, paths: AppPaths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.demo = DemoController(self)
        self.demo.ready.connect(self.demo_ready)
        self.demo.failed.connect(self._demo_failed)
        text = QLabel(WELCOME)
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setMaximumWidth(560)
        self.import_button = QPushButton("Import data…")
        self.import_button.setObjectName("Primary")
        self.import_button.clicked.connect(lambda: self.import_requested.emit())
        self.demo_button = QPushButton("Open the demo")
        self.demo_button.clicked.connect(self.open_demo)
        self.status = label("", "Muted")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(label("No posts yet", "PageTitle"), 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(text, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addStretch(2)

    def open_demo(self) -> None:
        self.demo_button.setEnabled(False)
        self.status.setStyleSheet("")
        self.status.setText("Preparing the demo…")
        self.demo.prepare(self.paths)

    def _demo_failed(self, why: str) -> None:
        self.demo_button.setEnabled(True)
        self.status.setStyleSheet(f"color: {ERROR_COLOR};")
        self.status.setText(f"The demo could not be prepared: {why}")
