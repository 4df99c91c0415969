"""The Export dialog: the current search (or the posts selected) as JSONL, CSV, COCO, image crops or an
offline HTML report, written on a pool thread with its own Store connection, with progress and Cancel.

The writing is core's (core.exporting, core.report), the same code as the `export` and `report`
commands; this dialog only chooses, shows progress and remembers each kind's folder.
"""

from __future__ import annotations

import threading
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from groundlens.core.exporting import ExportRequest, check_target, default_name, run_export
from groundlens.core.output_folders import remembered_folder
from groundlens.core.report import gather, write_report
from groundlens.core.safe_output import (
    OutputError,
    database_files,
    describe_write_error,
    refuse_overwriting,
)
from groundlens.gui.context import AppContext
from groundlens.gui.workers import run_in_pool
from groundlens.storage import Store
from groundlens.storage.export import Cancelled

KIND_LABELS = {
    "jsonl": "JSONL: one post per line, entities and regions",
    "csv": "CSV: one row per mention (spreadsheet-safe)",
    "coco": "COCO JSON: boxes and masks per image",
    "crops": "Image crops: one PNG per entity box, with index.csv",
    "report": "HTML report: top entities, trend, co-mentions, sample posts",
}
FILE_FILTERS = {
    "jsonl": "JSON Lines (*.jsonl)",
    "csv": "CSV (*.csv)",
    "coco": "COCO JSON (*.json)",
    "report": "HTML (*.html)",
}
PROGRESS_STEPS = 200  # progress signals per export, however many posts


class _Progress(QObject):
    """Carries progress from the worker thread to the dialog (a queued signal)."""

    changed = Signal(int, int)


REPORT_NAME = "groundlens-report.html"


class ExportDialog(QDialog):
    """`done_export` carries the summary shown when the file is written; `failed_export` the reason
    nothing was (the database refused, a read-only folder, a cancel)."""

    done_export = Signal(str)
    failed_export = Signal(str)

    def __init__(
        self,
        ctx: AppContext,
        query: str | None,
        ids: list[int] | None = None,
        kind: str = "jsonl",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.query, self.ids = ctx, query or None, None if ids is None else list(ids)
        self.setWindowTitle("Export")
        self._cancel: threading.Event | None = None
        self._progress = _Progress(self)
        self._progress.changed.connect(self._show_progress)

        what = (
            f"{len(self.ids)} selected posts"
            if self.ids is not None
            else (f"the posts matching “{self.query}”" if self.query else "every post")
        )
        self.scope = QLabel(f"Export {what}.")
        self.kind = QComboBox()
        for key, text in KIND_LABELS.items():
            self.kind.addItem(text, key)
        self.target = QLineEdit()
        browse = QPushButton("Choose…")
        browse.clicked.connect(self.choose_target)
        target_row = QHBoxLayout()
        target_row.addWidget(self.target, 1)
        target_row.addWidget(browse)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel_or_close)

        form = QFormLayout()
        form.addRow("Format", self.kind)
        form.addRow("Save to", target_row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scope)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(620, 220)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.set_kind(kind)
        self._kind_changed()

    # choosing ------------------------------------------------------------------------------
    def current_kind(self) -> str:
        return self.kind.currentData()

    def set_kind(self, kind: str) -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind))

    def set_target(self, path: Path) -> None:
        self.target.setText(str(path))

    def _kind_changed(self) -> None:
        """Each kind starts in the folder last used for it, under its default name."""
        kind = self.current_kind()
        name = REPORT_NAME if kind == "report" else default_name(kind)
        self.set_target(remembered_folder(self.ctx.settings.settings, kind) / name)

    def choose_target(self) -> None:
        kind, current = self.current_kind(), Path(self.target.text())
        if kind == "crops":
            chosen = QFileDialog.getExistingDirectory(self, "Folder for the crops", str(current.parent))
            chosen = chosen and str(Path(chosen) / default_name("crops"))
        else:
            chosen, _ = QFileDialog.getSaveFileName(self, "Export", str(current), FILE_FILTERS[kind])
        if chosen:
            self.set_target(Path(chosen))

    # running -------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._cancel is not None

    def start(self) -> None:
        """Check the target here (a refusal is instant), then write on a pool thread."""
        if self.is_running() or not self.target.text().strip():
            return
        kind, out = self.current_kind(), Path(self.target.text().strip()).expanduser()
        db_path = self.ctx.paths.db_path
        try:
            if kind == "report":
                refuse_overwriting(out, {"the database": database_files(db_path)})
            else:
                check_target(ExportRequest(kind, out), db_path)
        except OutputError as error:
            self._fail(str(error))
            return
        cancel = self._cancel = threading.Event()
        self._set_running(True, busy=kind == "report")
        work = (
            (lambda: _write_report(db_path, self.query, self.ids, out))
            if kind == "report"
            else (lambda: _export(db_path, ExportRequest(kind, out, self.query, self.ids), self._progress, cancel))
        )
        run_in_pool(
            work, on_done=lambda text: self._done(kind, out, text), on_error=lambda error: self._failed(out, error)
        )

    def cancel_or_close(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.status.setText("Cancelling…")
        else:
            self.reject()

    def _set_running(self, running: bool, busy: bool = False) -> None:
        self.export_button.setEnabled(not running)
        self.kind.setEnabled(not running)
        self.target.setEnabled(not running)
        self.cancel_button.setText("Cancel" if running else "Close")
        self.cancel_button.setEnabled(not (running and busy))  # a report cannot stop half-way
        self.progress.setVisible(running)
        self.progress.setRange(0, 0 if busy else 1)
        self.progress.setValue(0)
        if running:
            self.status.setText("Writing…")
        else:
            self._cancel = None

    def _show_progress(self, done: int, total: int) -> None:
        if shiboken6.isValid(self) and self.is_running() and total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.status.setText(f"{done:,} of {total:,} posts…")

    def _done(self, kind: str, out: Path, text: str) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_running(False)
        self.ctx.settings.remember_folder(kind, out.parent)
        self.status.setText(text)
        self.done_export.emit(text)

    def _failed(self, out: Path, error: Exception) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_running(False)
        if isinstance(error, Cancelled):
            self._fail(f"Cancelled: nothing was written to {out}.")
        elif isinstance(error, OSError):
            self._fail(f"Nothing was written: {describe_write_error(out, error)}")
        else:  # the database refused (StoreError) or the target did (OutputError): say which
            self._fail(f"Nothing was written: {error}")

    def _fail(self, message: str) -> None:
        self.status.setText(message)
        self.failed_export.emit(message)


def _export(db_path: Path, request: ExportRequest, progress: _Progress, cancel: threading.Event) -> str:
    """On a pool thread: its own connection, checked, so a damaged database is refused, not half exported."""

    def report(done: int, total: int) -> None:
        if done == total or done % max(1, total // PROGRESS_STEPS) == 0:
            progress.changed.emit(done, total)

    with Store.open(db_path, check=True) as store:
        return run_export(store, request, report, cancel).summary(request)


def _write_report(db_path: Path, query: str | None, ids: list[int] | None, out: Path) -> str:
    with Store.open(db_path) as store:
        data = gather(store, query, ids)
    write_report(data, out)
    return f"Wrote a report on {data.summary.posts} posts ({len(data.samples)} samples) to {out}."
