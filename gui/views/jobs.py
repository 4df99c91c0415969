"""Jobs: imports (files, folder, X API) on a worker thread and pipeline runs in the JobRunner's
worker process, with progress, rate, ETA and cancel; every failure listed, retryable."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from groundlens.core.ingest import ImportProgress, ImportReport, credentials
from groundlens.core.ingest.report import ItemError
from groundlens.core.jobs.progress import JobProgress, format_duration
from groundlens.core.jobs.runner import JobHandle, JobRunner
from groundlens.core.settings import Settings, SettingsError
from groundlens.gui import import_tasks
from groundlens.gui.context import AppContext
from groundlens.gui.models.failures import Failure, group_failures
from groundlens.gui.models.record_table import Column
from groundlens.gui.theme import ERROR_COLOR
from groundlens.gui.widgets.common import card, label
from groundlens.gui.widgets.table_view import RecordTable
from groundlens.gui.widgets.x_import_dialog import XImportDialog
from groundlens.gui.workers import run_in_pool

POLL_MS = 200
REFRESH_EVERY_S = 2.0  # how often views re-read results while a run saves them
MAX_FAILURES = 500


FAILURE_COLUMNS = [
    Column("Count", lambda g: g.count),
    Column("Kind", lambda g: g.kind),
    Column("Reason", lambda g: g.cause, color=lambda g: ERROR_COLOR, tooltip=lambda g: g.details()),
    Column("Items", lambda g: g.items, tooltip=lambda g: g.details()),
    Column("Last", lambda g: g.last),
]


def kept_with_its_media(error: ItemError) -> bool:
    """An image that failed is kept failed with its media (Importer._record_media words it "image <url or
    path>: <why>"); the page lists those from the store, current after every retry, not from old reports."""
    return error.reason.startswith("image ") and not error.reason.startswith("image state could not be stored")


def describe_progress(p: JobProgress) -> str:
    parts = [p.state]
    if p.total:
        parts.append(f"{p.done:,} of {p.total:,} posts")
    if p.state == "running" and p.done:
        parts.append(f"{p.rate:.2f} posts/s")
        parts.append(f"ETA {format_duration(p.eta_s)}")
    if p.failed:
        parts.append(f"{p.failed} failed")
    if p.message:
        parts.append(p.message)
    return " · ".join(parts)


class _ImportSignals(QObject):
    progress = Signal(object)


class JobsView(QWidget):
    activity = Signal(str)  # one line for the status bar
    results_changed = Signal()  # new posts or new pipeline results are in the store
    post_activated = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.settings = self._load_settings()
        self.handle: JobHandle | None = None
        self._import_cancel: threading.Event | None = None
        self._import_pool = QThreadPool(self)
        self._import_pool.setMaxThreadCount(1)
        self._import_signals = _ImportSignals(self)
        self._import_signals.progress.connect(self._on_import_progress)
        self._last_refresh = 0.0
        self._last_done = 0
        self.import_failures: list[Failure] = []

        title = label("Jobs", "PageTitle")

        import_card, imports = card("Import")
        row = QHBoxLayout()
        self.import_buttons = []
        for text, slot in (
            ("Import files…", self.import_files),
            ("Import folder…", self.import_folder),
            ("From X API…", self.import_from_x),
            ("Retry failed images", self.retry_images),
        ):
            button = QPushButton(text)
            button.clicked.connect(slot)
            self.import_buttons.append(button)
            row.addWidget(button)
        row.addStretch(1)
        self.import_cancel_button = QPushButton("Cancel import")
        self.import_cancel_button.setEnabled(False)
        self.import_cancel_button.clicked.connect(self.cancel_import)
        row.addWidget(self.import_cancel_button)
        imports.addLayout(row)
        hint = label(
            "JSON Lines / twarc2, CSV, X archive, a folder of images with captions, or a Twitter-GMNER "
            "folder (gold annotations are kept). Images are copied into the data folder's cache.",
            "Muted",
        )
        hint.setWordWrap(True)
        imports.addWidget(hint)
        self.import_status = QLabel("No import running.")
        imports.addWidget(self.import_status)

        pipeline_card, pipeline = card("Pipeline")
        self.config_label = label("", "Muted")
        self.config_label.setWordWrap(True)
        pipeline.addWidget(self.config_label)
        row = QHBoxLayout()
        self.run_button = QPushButton("Run pipeline")
        self.run_button.setObjectName("Primary")
        self.run_button.setToolTip("Process every post not yet processed with the current settings")
        self.run_button.clicked.connect(self.start_pipeline)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the batch in hand; unfinished posts stay queued")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_pipeline)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        pipeline.addLayout(row)
        self.pipeline_status = QLabel("Idle.")
        self.queue_label = label("", "Muted")
        pipeline.addWidget(self.pipeline_status)
        pipeline.addWidget(self.queue_label)

        errors_card, errors = card("Failures")
        self.failures = RecordTable(FAILURE_COLUMNS)
        self.failures.activated_record.connect(lambda g: g.post_ids and self.post_activated.emit(g.post_ids[0]))
        errors.addWidget(self.failures, 1)
        row = QHBoxLayout()
        self.failure_summary = label("", "Muted")
        self.retry_button = QPushButton("Retry failed posts")
        self.retry_button.setToolTip("Queue the posts the pipeline failed on and run it again")
        self.retry_button.clicked.connect(lambda: self.start_pipeline(retry_failed=True))
        clear = QPushButton("Clear import errors")
        clear.clicked.connect(self.clear_import_failures)
        row.addWidget(self.failure_summary, 1)
        row.addWidget(clear)
        row.addWidget(self.retry_button)
        errors.addLayout(row)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(import_card)
        layout.addWidget(pipeline_card)
        layout.addWidget(errors_card, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self.set_settings(self.settings)

    # settings ------------------------------------------------------------------------------
    def _load_settings(self) -> Settings:
        """The saved settings; for a malformed file the defaults are shown, and running says why it cannot."""
        try:
            return Settings.load(self.ctx.paths.settings_file)
        except SettingsError:
            return Settings()  # start_pipeline's JobRunner reads the file again and reports it

    @property
    def config_key(self) -> str:
        return self.settings.pipeline.key()

    def set_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.config_label.setText(
            f"Configuration {self.config_key}: {settings.pipeline.describe()} · "
            f"{settings.threads} threads, batches of {settings.batch_size}"
        )
        self.refresh_queue()

    def on_shown(self) -> None:
        self.refresh_queue()

    def refresh_queue(self) -> None:
        key = self.config_key
        self.ctx.db.submit(
            lambda store: (store.job_counts(key), store.failed_jobs(key, MAX_FAILURES), store.unusable_media(MAX_FAILURES),
                           store.count_posts()),
            self._on_queue,
        )

    def _on_queue(self, result) -> None:
        counts, failed, images, posts = result
        # posts never run with this configuration have no job yet: "0 pending" alone would read as "all done"
        unqueued = posts - sum(counts.values())
        self.queue_label.setText(
            "Queue for this configuration: " + ", ".join(f"{n:,} {state}" for state, n in counts.items())
            + (f"; {unqueued:,} posts not run with it yet (Run pipeline queues them)" if unqueued > 0 else "")
        )
        pipeline_failures = [
            Failure(job.updated_at, "pipeline", f"post {job.post_id}", job.error or "unknown error", job.post_id)
            for job in failed
        ]
        image_failures = [
            Failure(None, "image", f"post {post_id}", f"{media.url or media.local_path}: {media.error or media.status}",
                    post_id)
            for post_id, media in images
        ]
        self.failures.set_records(group_failures(pipeline_failures + image_failures + self.import_failures))
        self.retry_button.setEnabled(bool(failed) and self.handle is None)
        self.failure_summary.setText(
            f"{len(pipeline_failures)} pipeline, {len(image_failures)} image, {len(self.import_failures)} import "
            "failures, grouped by reason. Double-click a row to inspect its first post."
        )

    # pipeline ------------------------------------------------------------------------------
    @property
    def pipeline_running(self) -> bool:
        return self.handle is not None

    def start_pipeline(self, retry_failed: bool = False) -> None:
        if self.handle is not None:
            return
        try:
            runner = JobRunner(
                self.ctx.paths,
                self.settings.pipeline,
                retry_failed=retry_failed,
                threads=self.settings.threads,
                batch_size=self.settings.batch_size,
            )
        except SettingsError as error:  # the same message as the CLI's and the Settings page's
            self.pipeline_status.setText(f"Cannot run: {error}")
            self.pipeline_status.setStyleSheet(f"color: {ERROR_COLOR};")
            self.activity.emit("Pipeline: cannot run with these settings")
            return
        self.pipeline_status.setStyleSheet("")
        self.handle = runner.start()
        self._last_done = 0
        self.run_button.setEnabled(False)
        self.retry_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)  # busy until the worker knows its total
        self.pipeline_status.setText("Starting the worker process…")
        self.activity.emit("Pipeline: starting")
        self._timer.start()

    def cancel_pipeline(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.cancel_button.setEnabled(False)
            self.pipeline_status.setText("Cancelling after the current batch…")

    def _poll(self) -> None:
        if self.handle is None:
            return
        state = self.handle.progress()  # non-blocking: drains the worker's queue
        if state.total:
            self.progress.setRange(0, state.total)
            self.progress.setValue(state.done)
        text = describe_progress(state)
        self.pipeline_status.setText(text.capitalize())
        self.activity.emit(f"Pipeline: {text}")
        now = time.monotonic()
        if state.done != self._last_done and now - self._last_refresh >= REFRESH_EVERY_S:
            self._last_done, self._last_refresh = state.done, now
            self.results_changed.emit()
            self.refresh_queue()
        if state.finished:
            self._finish(state)

    def _finish(self, state: JobProgress) -> None:
        self._timer.stop()
        self.handle = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if not state.total:
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if state.state == "finished" else 0)
        self.activity.emit(f"Pipeline {state.state}" + (f": {state.message}" if state.message else ""))
        self.results_changed.emit()
        self.refresh_queue()

    def wait_pipeline(self, timeout: float) -> JobProgress | None:
        """Block until the run ends (tests, app shutdown); the UI catches up on its next poll."""
        if self.handle is None:
            return None
        state = self.handle.wait(timeout)
        self._poll()
        return state

    # imports -------------------------------------------------------------------------------
    def import_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Import posts", "", "Posts (*.jsonl *.ndjson *.json *.csv *.zip *.js *.txt);;All files (*)"
        )
        if files:
            self.start_import(
                f"{len(files)} file(s)",
                lambda progress, cancel: import_tasks.import_files(self.ctx.paths.db_path, files, progress, cancel),
            )

    def import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder")
        if folder:
            self.start_import(
                folder,
                lambda progress, cancel: import_tasks.import_files(self.ctx.paths.db_path, [folder], progress, cancel),
            )

    def import_from_x(self) -> None:
        dialog = XImportDialog(self)
        if dialog.exec():
            request, token = dialog.request(), credentials.load_token() or ""
            self.start_import(
                f"X API {request.mode} “{request.query}”",
                lambda progress, cancel: import_tasks.import_from_x(
                    self.ctx.paths.db_path, request, token, progress, cancel
                ),
            )

    def retry_images(self) -> None:
        self.start_import(
            "failed images",
            lambda progress, cancel: import_tasks.retry_images(self.ctx.paths.db_path, progress, cancel),
        )

    def start_import(self, label: str, work: Callable[[Callable, threading.Event], ImportReport]) -> bool:
        """Run one import at a time on the import thread; False when one is already running."""
        if self._import_cancel is not None:
            return False
        cancel = threading.Event()
        self._import_cancel = cancel
        for button in self.import_buttons:
            button.setEnabled(False)
        self.import_cancel_button.setEnabled(True)
        self.import_status.setText(f"Importing {label}…")
        self.activity.emit(f"Importing {label}")
        emit = self._import_signals.progress.emit
        run_in_pool(
            lambda: work(emit, cancel),
            lambda report: self._on_import_done(label, report),
            lambda exc: self._on_import_failed(label, exc),
            pool=self._import_pool,
        )
        return True

    def cancel_import(self) -> None:
        if self._import_cancel is not None:
            self._import_cancel.set()
            self.import_status.setText("Cancelling the import…")

    def _on_import_progress(self, progress: ImportProgress) -> None:
        images = f", images {progress.images_done:,}/{progress.images_total:,}" if progress.images_total else ""
        self.import_status.setText(f"Importing {progress.source}: {progress.posts_done:,} posts{images}")

    def _import_ended(self) -> None:
        self._import_cancel = None
        for button in self.import_buttons:
            button.setEnabled(True)
        self.import_cancel_button.setEnabled(False)

    def _on_import_done(self, label: str, report: ImportReport) -> None:
        self._import_ended()
        now = datetime.now(UTC)
        new = [Failure(now, "import", e.location, e.reason) for e in report.errors if not kept_with_its_media(e)]
        again = {(f.where, f.reason) for f in new}  # a re-import that fails alike replaces, not repeats
        self.import_failures = (new + [f for f in self.import_failures if (f.where, f.reason) not in again])[:MAX_FAILURES]
        self.import_status.setText(f"Imported {label}: {report.summary()}.")
        self.activity.emit(f"Import done: {report.summary()}")
        self.results_changed.emit()
        self.refresh_queue()

    def _on_import_failed(self, label: str, exc: Exception) -> None:
        self._import_ended()
        self.import_status.setText(f"Import of {label} stopped: {exc}")
        self.activity.emit("Import failed")

    def clear_import_failures(self) -> None:
        self.import_failures = []
        self.refresh_queue()

    # shutdown ------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """On close: stop the worker now (its unsaved posts go back to the queue) and the import."""
        self._timer.stop()
        if self.handle is not None:
            self.handle.terminate()
            self.handle = None
        self.cancel_import()
        self._import_pool.waitForDone(5000)
