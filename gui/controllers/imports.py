"""One import at a time (files or folders, the X API, failed images) on a worker thread, cancellable."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import create_worker

from groundlens.core.ingest import ImportProgress, ImportReport
from groundlens.gui import import_tasks
from groundlens.gui.widgets.x_import_dialog import XRequest

ImportWork = Callable[[Callable[[ImportProgress], None], threading.Event], ImportReport]
SHUTDOWN_WAIT_MS = 5000


class ImportController(QObject):
    """Runs an `ImportWork(progress, cancel)` off the GUI thread and reports through its signals, which
    are delivered on the GUI thread (`progressed` is emitted from the import thread; Qt queues it)."""

    started = Signal(str)  # what is imported, in words
    progressed = Signal(object)  # ImportProgress
    finished = Signal(str, object)  # what, ImportReport
    failed = Signal(str, object)  # what, the exception that stopped it

    def __init__(self, db_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self._cancel: threading.Event | None = None

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def start(self, label: str, work: ImportWork) -> bool:
        """False when an import is already running (nothing starts then)."""
        if self._cancel is not None:
            return False
        cancel = self._cancel = threading.Event()
        worker = create_worker(work, self.progressed.emit, cancel, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda report: self._ended(label, report, None))
        worker.errored.connect(lambda error: self._ended(label, None, error))
        self.started.emit(label)
        worker.start()
        return True

    def import_paths(self, what: str, paths: list[str]) -> bool:
        """Files and folders; their local images are copied into the data folder's cache."""
        db = self.db_path
        return self.start(what, lambda progress, cancel: import_tasks.import_files(db, paths, progress, cancel))

    def import_from_x(self, request: XRequest, token: str) -> bool:
        db = self.db_path
        return self.start(
            f"X API {request.mode} “{request.query}”",
            lambda progress, cancel: import_tasks.import_from_x(db, request, token, progress, cancel),
        )

    def retry_images(self) -> bool:
        db = self.db_path
        return self.start("failed images", lambda progress, cancel: import_tasks.retry_images(db, progress, cancel))

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def shutdown(self) -> None:
        """On close: ask the import to stop and give it a moment to leave the database consistent."""
        if self._cancel is not None:
            self._cancel.set()
            QThreadPool.globalInstance().waitForDone(SHUTDOWN_WAIT_MS)

    def _ended(self, label: str, report: ImportReport | None, error: Exception | None) -> None:
        self._cancel = None
        if report is not None:
            self.finished.emit(label, report)
        else:
            self.failed.emit(label, error)
