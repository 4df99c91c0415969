"""Jobs: the page's widgets for imports (files, folder, X API), pipeline runs (progress, rate, ETA, cancel)
and every failure, retryable. What they do lives in gui/controllers: this module only shows and wires."""

from __future__ import annotations

from PySide6.QtCore import Signal
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
from groundlens.core.jobs.progress import JobProgress, format_duration
from groundlens.gui.context import AppContext, SettingsState
from groundlens.gui.controllers.imports import ImportController, ImportWork
from groundlens.gui.controllers.pipeline import PipelineController
from groundlens.gui.controllers.queue import QueueController, QueueReport
from groundlens.gui.models.failures import FailureGroup
from groundlens.gui.models.record_table import Column
from groundlens.gui.theme import ERROR_COLOR
from groundlens.gui.widgets.common import card, label
from groundlens.gui.widgets.table_view import RecordTable
from groundlens.gui.widgets.x_import_dialog import XImportDialog

FAILURE_COLUMNS = [
    Column("Count", lambda g: g.count),
    Column("Kind", lambda g: g.kind),
    Column("Reason", lambda g: g.cause, color=lambda g: ERROR_COLOR, tooltip=lambda g: g.details()),
    Column("Items", lambda g: g.items, tooltip=lambda g: g.details()),
    Column("Last", lambda g: g.last),
]
POST_FILES = "Posts (*.jsonl *.ndjson *.json *.csv *.zip *.js *.txt);;All files (*)"


def describe_progress(p: JobProgress) -> str:
    parts: list[str] = [p.state]
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


def _error_style(on: bool) -> str:
    return f"color: {ERROR_COLOR};" if on else ""


class JobsView(QWidget):
    activity = Signal(str)  # one line for the status bar
    results_changed = Signal()  # new posts or new pipeline results are in the store
    post_activated = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.imports = ImportController(ctx.paths.db_path, self)
        self.pipeline = PipelineController(ctx, self)
        self.queue = QueueController(ctx.db, self)

        import_card, imports = card("Import")
        row = QHBoxLayout()
        self.import_buttons: list[QPushButton] = []
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
        self.run_button.clicked.connect(lambda: self.start_pipeline())
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
        self.pipeline_status.setWordWrap(True)
        self.queue_label = label("", "Muted")
        pipeline.addWidget(self.pipeline_status)
        pipeline.addWidget(self.queue_label)

        errors_card, errors = card("Failures")
        self.failures = RecordTable(FAILURE_COLUMNS)
        self.failures.activated_record.connect(self._open_first_post)
        errors.addWidget(self.failures, 1)
        row = QHBoxLayout()
        self.failure_summary = label("", "Muted")
        self.retry_button = QPushButton("Retry failed posts")
        self.retry_button.setToolTip("Queue the posts the pipeline failed on and run it again")
        self.retry_button.setEnabled(False)
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
        layout.addWidget(label("Jobs", "PageTitle"))
        layout.addWidget(import_card)
        layout.addWidget(pipeline_card)
        layout.addWidget(errors_card, 1)

        self._failed_posts = 0
        self._wire()
        self._show_settings(ctx.settings.state)

    def _wire(self) -> None:
        self.ctx.settings.changed.connect(self._show_settings)
        self.imports.started.connect(self._on_import_started)
        self.imports.progressed.connect(self._on_import_progress)
        self.imports.finished.connect(self._on_import_done)
        self.imports.failed.connect(self._on_import_failed)
        self.imports.finished.connect(lambda _what, report: self.pipeline.start_after_import(report))
        self.pipeline.started.connect(self._on_run_started)
        self.pipeline.progressed.connect(self._on_run_progress)
        self.pipeline.results_saved.connect(self._results_changed)
        self.pipeline.finished.connect(self._on_run_finished)
        self.pipeline.refused.connect(self._on_run_refused)
        self.queue.loaded.connect(self._on_queue)

    # settings ------------------------------------------------------------------------------
    @property
    def config_key(self) -> str | None:
        """The configuration the page runs; None while the settings file cannot be used."""
        state = self.ctx.settings.state
        return None if state.error else state.settings.pipeline.key()

    def _show_settings(self, state: SettingsState) -> None:
        settings = state.settings
        if state.error is not None:
            self.config_label.setText(
                f"The settings cannot be used, so the pipeline cannot run: {state.error}. "
                "Fix the file, or save the Settings page (which replaces it)."
            )
        else:
            self.config_label.setText(
                f"Configuration {settings.pipeline.key()}: {settings.pipeline.describe()} · "
                f"{settings.threads} threads, batches of {settings.batch_size}"
            )
        self.config_label.setStyleSheet(_error_style(state.error is not None))
        self._update_buttons()
        self.refresh_queue()

    def _update_buttons(self) -> None:
        usable = self.ctx.settings.state.error is None and not self.pipeline.running
        self.run_button.setEnabled(usable)
        self.retry_button.setEnabled(usable and self._failed_posts > 0)
        self.cancel_button.setEnabled(self.pipeline.running)

    # queue and failures --------------------------------------------------------------------
    def on_shown(self) -> None:
        self.refresh_queue()

    def refresh_queue(self) -> None:
        key = self.config_key
        if key is None:
            self.queue_label.setText("")
            return
        self.queue.refresh(key)

    def _on_queue(self, report: QueueReport) -> None:
        if self.config_key is None:  # read before the settings became unusable: no queue of theirs to show
            return
        # posts never run with this configuration have no job yet: "0 pending" alone would read as "all done"
        counts = ", ".join(f"{n:,} {state}" for state, n in report.counts.items())
        unqueued = ""
        if report.unqueued > 0:
            unqueued = f"; {report.unqueued:,} posts not run with it yet (Run pipeline queues them)"
        self.queue_label.setText(f"Queue for this configuration: {counts}{unqueued}")
        self.failures.set_records(report.groups)
        self._failed_posts = report.counts.get("failed", 0)
        self._update_buttons()
        self.failure_summary.setText(
            f"{report.pipeline_failures} pipeline, {report.image_failures} image, {report.import_failures} import "
            "failures, grouped by reason. Double-click a row to inspect its first post."
        )

    def _open_first_post(self, group: FailureGroup) -> None:
        if group.post_ids:
            self.post_activated.emit(group.post_ids[0])

    def clear_import_failures(self) -> None:
        self.queue.clear_import_failures()
        self.refresh_queue()

    def _results_changed(self) -> None:
        self.results_changed.emit()
        self.refresh_queue()

    # pipeline ------------------------------------------------------------------------------
    @property
    def pipeline_running(self) -> bool:
        return self.pipeline.running

    def start_pipeline(self, retry_failed: bool = False) -> bool:
        return self.pipeline.start(retry_failed)

    def cancel_pipeline(self) -> None:
        if self.pipeline.running:
            self.pipeline.cancel()
            self.cancel_button.setEnabled(False)
            self.pipeline_status.setText("Cancelling after the current batch…")

    def wait_pipeline(self, timeout: float) -> JobProgress | None:
        """Block until the run ends (tests); the page catches up on the controller's next poll."""
        return self.pipeline.wait(timeout)

    def _on_run_refused(self, why: str) -> None:
        self.pipeline_status.setText(f"Cannot run: {why}")
        self.pipeline_status.setStyleSheet(_error_style(True))
        self.activity.emit("Pipeline: cannot run with these settings")

    def _on_run_started(self) -> None:
        self.pipeline_status.setStyleSheet("")
        self._update_buttons()
        self.progress.setRange(0, 0)  # busy until the worker knows its total
        self.pipeline_status.setText("Starting the worker process…")
        self.activity.emit("Pipeline: starting")

    def _on_run_progress(self, state: JobProgress) -> None:
        if state.total:
            self.progress.setRange(0, state.total)
            self.progress.setValue(state.done)
        text = describe_progress(state)
        self.pipeline_status.setText(text.capitalize())
        self.activity.emit(f"Pipeline: {text}")

    def _on_run_finished(self, state: JobProgress) -> None:
        self._update_buttons()
        if not state.total:
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if state.state == "finished" else 0)
        self.activity.emit(f"Pipeline {state.state}" + (f": {state.message}" if state.message else ""))
        self._results_changed()

    # imports -------------------------------------------------------------------------------
    def import_files(self) -> bool:
        """Choose files and import them; False when nothing was chosen or an import is running."""
        files, _ = QFileDialog.getOpenFileNames(self, "Import posts", "", POST_FILES)
        return bool(files) and self.imports.import_paths(f"{len(files)} file(s)", files)

    def import_folder(self) -> bool:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder")
        return bool(folder) and self.imports.import_paths(folder, [folder])

    def import_from_x(self) -> bool:
        dialog = XImportDialog(self)
        return bool(dialog.exec()) and self.imports.import_from_x(dialog.request(), credentials.load_token() or "")

    def retry_images(self) -> bool:
        return self.imports.retry_images()

    def start_import(self, what: str, work: ImportWork) -> bool:
        """One import at a time; False when one is already running."""
        return self.imports.start(what, work)

    def cancel_import(self) -> None:
        if self.imports.running:
            self.imports.cancel()
            self.import_status.setText("Cancelling the import…")

    def _set_importing(self, on: bool) -> None:
        for button in self.import_buttons:
            button.setEnabled(not on)
        self.import_cancel_button.setEnabled(on)

    def _on_import_started(self, what: str) -> None:
        self._set_importing(True)
        self.import_status.setText(f"Importing {what}…")
        self.activity.emit(f"Importing {what}")

    def _on_import_progress(self, progress: ImportProgress) -> None:
        images = f", images {progress.images_done:,}/{progress.images_total:,}" if progress.images_total else ""
        self.import_status.setText(f"Importing {progress.source}: {progress.posts_done:,} posts{images}")

    def _on_import_done(self, what: str, report: ImportReport) -> None:
        self._set_importing(False)
        self.queue.add_import_report(report)
        self.import_status.setText(f"Imported {what}: {report.summary()}.")
        self.activity.emit(f"Import done: {report.summary()}")
        self._results_changed()

    def _on_import_failed(self, what: str, error: Exception) -> None:
        self._set_importing(False)
        self.import_status.setText(f"Import of {what} stopped: {error}")
        self.activity.emit("Import failed")

    # shutdown ------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """On close: stop the worker now (its unsaved posts go back to the queue) and the import."""
        self.pipeline.shutdown()
        self.imports.shutdown()
