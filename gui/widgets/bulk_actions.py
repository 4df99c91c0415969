"""Bulk actions on the posts a view has selected: tag, untag, confirm or reject an entity's mentions,
run the pipeline again, delete.

The bar only holds a description of the selection (storage.selection.PostSelection); turning it into
ids and every write happen in one job on the database thread, in batches (Store.BULK_BATCH), so
acting on 100k posts never stalls the window.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from groundlens.gui.context import AppContext
from groundlens.gui.theme import ERROR_COLOR
from groundlens.gui.widgets.common import label
from groundlens.storage import Store
from groundlens.storage.selection import PostSelection

SelectionSource = Callable[[], PostSelection | None]


def counted(count: int, noun: str) -> str:
    """'1 post', '2,000 posts'."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def describe_count(count: int, all_matching: bool) -> str:
    return f"all {counted(count, 'matching post')} selected" if all_matching else f"{counted(count, 'post')} selected"


class BulkActionBar(QWidget):
    changed = Signal(str)  # the store changed (tags, deletes, queue); the text says what was done
    rerun_queued = Signal(int)  # posts queued again: the pipeline should start
    finished = Signal(str)  # every action's outcome, done or failed (the status label's text)

    def __init__(
        self, ctx: AppContext, selection: SelectionSource, compact: bool = False, parent: QWidget | None = None
    ) -> None:
        """`compact` stacks the controls in four rows, for a narrow column such as the feed."""
        super().__init__(parent)
        self.ctx = ctx
        self.selection = selection
        self.config_key: Callable[[], str] | None = None  # the configuration the Jobs page runs
        self.busy = False

        self.count_label = label("", "Muted")
        self.tag_name = QComboBox()
        self.tag_name.setEditable(True)
        self.tag_name.setMinimumWidth(120)
        self.tag_name.setToolTip("Tag name: type a new one or pick an existing tag")
        editor = self.tag_name.lineEdit()
        if editor is not None:  # always, for an editable combo box
            editor.setPlaceholderText("tag")
        self.tag_button = QPushButton("Tag")
        self.untag_button = QPushButton("Untag")
        self.entity_name = QLineEdit()
        self.entity_name.setPlaceholderText("entity")
        self.entity_name.setMinimumWidth(110)
        self.entity_name.setToolTip("The entity whose mentions in the selected posts to confirm or reject")
        self.confirm_button = QPushButton("Confirm")
        self.confirm_button.setToolTip("Keep these mentions as predicted whatever a later run says (a correction each)")
        self.reject_button = QPushButton("Reject")
        self.reject_button.setToolTip("These mentions are not named entities (a correction each, revertible)")
        self.confirm_button.clicked.connect(lambda: self.correct(self.entity_name.text(), confirm=True))
        self.reject_button.clicked.connect(lambda: self.correct(self.entity_name.text(), confirm=False))
        self.rerun_button = QPushButton("Re-run pipeline")
        self.rerun_button.setToolTip("Queue the selected posts again and run the pipeline on them")
        self.delete_button = QPushButton("Delete…")
        self.status = QLabel()
        self.tag_button.clicked.connect(lambda: self.tag(self.tag_name.currentText()))
        self.untag_button.clicked.connect(lambda: self.untag(self.tag_name.currentText()))
        self.rerun_button.clicked.connect(self.rerun)
        self.delete_button.clicked.connect(self.ask_delete)
        self.buttons = (
            self.tag_button,
            self.untag_button,
            self.confirm_button,
            self.reject_button,
            self.rerun_button,
            self.delete_button,
        )
        groups = [
            [self.count_label, self.status],
            [self.tag_name, self.tag_button, self.untag_button],
            [self.entity_name, self.confirm_button, self.reject_button],
            [self.rerun_button, self.delete_button],
        ]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 2, 10, 4)
        layout.setSpacing(4)
        row = QHBoxLayout()
        for group in groups:
            if compact and row.count():
                layout.addLayout(row)
                row = QHBoxLayout()
                row.addStretch(0 if group[0] in (self.tag_name, self.entity_name) else 1)
            for widget in group:
                row.addWidget(widget, 1 if widget in (self.status, self.tag_name, self.entity_name) else 0)
        layout.addLayout(row)
        self.set_count(0, False)
        self.load_tags()

    # state ---------------------------------------------------------------------------------
    def set_count(self, count: int, all_matching: bool) -> None:
        """What the view has selected now (shown, and enabling the actions)."""
        self.count_label.setText(describe_count(count, all_matching) if count else "")
        self._enable(count > 0)

    def _enable(self, on: bool) -> None:
        for button in self.buttons:
            button.setEnabled(on and not self.busy)
        self.rerun_button.setEnabled(on and not self.busy and self.config_key is not None)

    def load_tags(self) -> None:
        """The existing tags as choices (read on the database thread)."""
        self.ctx.db.submit(lambda store: [t.name for t in store.tag_counts()], self._on_tags)

    def _on_tags(self, names: list[str]) -> None:
        typed = self.tag_name.currentText()
        self.tag_name.clear()
        self.tag_name.addItems(names)
        self.tag_name.setEditText(typed)

    # actions -------------------------------------------------------------------------------
    def tag(self, name: str) -> None:
        self._run(f"Tagged {{posts}} '{name.strip()}'", lambda store, ids: store.tag_posts(ids, name))

    def untag(self, name: str) -> None:
        self._run(f"Took '{name.strip()}' off {{posts}}", lambda store, ids: store.untag_posts(ids, name))

    def correct(self, name: str, confirm: bool) -> None:
        verb = "Confirmed" if confirm else "Rejected"
        self._run(
            f"{verb} {{mentions}} of '{name.strip()}'", lambda store, ids: store.correct_mentions(ids, name, confirm)
        )

    def rerun(self) -> None:
        if self.config_key is None:
            return
        key = self.config_key()
        self._run(
            "Queued {posts} for the pipeline",
            lambda store, ids: store.requeue_posts(key, ids),
            then=self.rerun_queued.emit,
        )

    def ask_delete(self) -> None:
        answer = QMessageBox.question(
            self,
            "Delete posts",
            f"Delete {self.count_label.text().replace(' selected', '')} from this data folder, with their "
            "entities, boxes and tags? Importing the same files again brings them back.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete()

    def delete(self) -> None:
        self._run("Deleted {posts}", lambda store, ids: store.delete_posts(ids))

    def _run(
        self, done: str, work: Callable[[Store, list[int]], int], then: Callable[[int], None] | None = None
    ) -> None:
        selection = self.selection()
        if selection is None or self.busy:
            return
        self.busy = True
        self._enable(False)
        self.status.setStyleSheet("")
        self.status.setText("Working…")

        def job(store: Store) -> int:
            return work(store, store.selection_ids(selection))

        def on_done(count: int) -> None:
            text = done.format(posts=counted(count, "post"), mentions=counted(count, "mention"))
            self._settle(text, failed=False)
            self.load_tags()
            self.changed.emit(text)
            if then is not None:
                then(count)

        self.ctx.db.submit(job, on_done, lambda error: self._settle(f"Failed: {error}", failed=True))

    def _settle(self, text: str, failed: bool) -> None:
        self.busy = False
        self._enable(bool(self.count_label.text()))
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {ERROR_COLOR};" if failed else "")
        self.finished.emit(text)
