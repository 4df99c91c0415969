"""Pipeline runs from the app: start (refused with the settings' own message when they cannot run), watch,
cancel, and a run after each import when the settings ask for it."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from groundlens.core.ingest import ImportReport
from groundlens.core.jobs.progress import JobProgress
from groundlens.core.jobs.runner import JobHandle, JobRunner
from groundlens.core.settings import SettingsError
from groundlens.gui.context import AppContext

POLL_MS = 200  # how often the GUI reads the run's progress (a getter: the handle's supervisor does the work)
REFRESH_EVERY_S = 2.0  # how often views re-read results while a run saves them


class PipelineController(QObject):
    started = Signal()
    progressed = Signal(object)  # JobProgress, every POLL_MS while a run is on
    results_saved = Signal()  # a run saved results since the last time (at most every REFRESH_EVERY_S)
    finished = Signal(object)  # the run's last JobProgress
    refused = Signal(str)  # why a run could not start: the settings' message, naming the file and field

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._handle: JobHandle | None = None
        self._again = False  # an import added posts during the run: run once more when it ends
        self._last_done = 0
        self._last_refresh = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def running(self) -> bool:
        return self._handle is not None

    def start(self, retry_failed: bool = False) -> bool:
        """Start a run over the posts pending for the current settings; False (and `refused`) when the
        settings cannot run, False when a run is already on."""
        if self._handle is not None:
            return False
        state = self.ctx.settings.state
        try:
            if state.error is not None:
                raise state.error
            runner = JobRunner(self.ctx.paths, state.settings, retry_failed=retry_failed)
        except SettingsError as error:
            self.refused.emit(str(error))
            return False
        self._handle = runner.start()
        self._last_done = 0
        self._timer.start()
        self.started.emit()
        return True

    def start_after_import(self, report: ImportReport) -> None:
        """The setting "Run the pipeline after every import": posts that arrived get processed without a
        click. A run already on started before they were queued, so one more follows it."""
        state = self.ctx.settings.state
        if state.error is not None or not state.settings.run_after_import:
            return
        if not (report.posts_inserted or report.posts_updated):
            return
        if self._handle is not None:
            self._again = True
        else:
            self.start()

    def cancel(self) -> None:
        self._again = False
        if self._handle is not None:
            self._handle.cancel()

    def wait(self, timeout: float) -> JobProgress | None:
        """Block until the run ends (tests); the signals follow on the next poll."""
        if self._handle is None:
            return None
        state = self._handle.wait(timeout)
        self._poll()
        return state

    def shutdown(self) -> None:
        """On close: stop the worker now (its unsaved posts go back to the queue)."""
        self._timer.stop()
        self._again = False
        if self._handle is not None:
            self._handle.terminate()
            self._handle = None

    def _poll(self) -> None:
        if self._handle is None:
            return
        ended = self._handle.ended  # first: the state read after it is then the run's last
        state = self._handle.progress()
        self.progressed.emit(state)
        now = time.monotonic()
        if state.done != self._last_done and now - self._last_refresh >= REFRESH_EVERY_S:
            self._last_done, self._last_refresh = state.done, now
            self.results_saved.emit()
        if ended:
            self._timer.stop()
            self._handle = None
            self.finished.emit(state)
            again, self._again = self._again, False
            if again and state.state == "finished":
                self.start()
