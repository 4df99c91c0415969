"""Preparing the bundled demo (importing its posts, copying its photos) off the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from superqt.utils import create_worker

from groundlens.core.config import AppPaths
from groundlens.core.demo import DemoSetup, prepare_demo


class DemoController(QObject):
    ready = Signal(object)  # DemoSetup: the demo's own data folder, imported and queued
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.preparing = False

    def prepare(self, paths: AppPaths) -> None:
        """Import the demo into `paths`' demo folder once; later calls only say what is left to process."""
        if self.preparing:
            return
        self.preparing = True
        worker = create_worker(prepare_demo, paths, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(self._ready)
        worker.errored.connect(lambda error: self._failed(f"{type(error).__name__}: {error}"))
        worker.start()

    def _ready(self, setup: DemoSetup) -> None:
        self.preparing = False
        self.ready.emit(setup)

    def _failed(self, why: str) -> None:
        self.preparing = False
        self.failed.emit(why)
