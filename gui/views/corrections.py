"""Corrections page: every correction an analyst made (this session or before), newest first,
filterable by kind, author and text; each one revertible (and a reverted one restorable) as an
undoable step of the shared CorrectionLog. Double-click opens the corrected post."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from groundlens.gui.context import AppContext
from groundlens.gui.models.record_table import Column
from groundlens.gui.theme import ERROR_COLOR, MUTED
from groundlens.gui.widgets.common import label
from groundlens.gui.widgets.table_view import RecordTable
from groundlens.gui.workers import Latest
from groundlens.storage import Store
from groundlens.storage.corrections import KINDS, Correction

MAX_LISTED = 5000
STATUS_COLORS = {"reverted": MUTED, "superseded": MUTED, "stale": ERROR_COLOR, "unmatched": ERROR_COLOR}
STATUS_HELP = {
    "applied": "in force: every view shows it",
    "stale": "in force, but the post's text no longer reads the same at its span (re-imported)",
    "unmatched": "in force, but another mention now covers its words",
    "superseded": "a merge or split of a name that a later merge or split of the same name overrides",
    "reverted": "taken back: kept for the record; Restore puts it back",
}
COLUMNS = [
    Column("When", lambda c: c.created_at),
    Column("Author", lambda c: c.author),
    Column("Kind", lambda c: c.kind),
    Column("Post", lambda c: c.post_id if c.post_id is not None else "every post"),
    Column(
        "Status",
        lambda c: c.status,
        color=lambda c: STATUS_COLORS.get(c.status),
        tooltip=lambda c: STATUS_HELP.get(c.status, ""),
    ),
    Column("Correction", lambda c: c.describe(), tooltip=lambda c: c.describe()),
]


@dataclass(frozen=True)
class CorrectionFilter:
    kind: str | None = None
    author: str | None = None
    text: str = ""  # case-insensitive, in what the correction says (Correction.describe)
    include_reverted: bool = True

    def select(self, store: Store) -> list[Correction]:
        found = store.corrections(
            kinds=[self.kind] if self.kind else None,
            author=self.author,
            include_reverted=self.include_reverted,
            limit=MAX_LISTED,
        )
        needle = self.text.casefold()
        return [c for c in found if needle in c.describe().casefold()]


class CorrectionsView(QWidget):
    post_activated = Signal(int)
    loaded = Signal(int)  # how many corrections are listed

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._latest = Latest(self)
        self.kind = QComboBox()
        self.kind.addItem("every kind", None)
        for kind in KINDS:
            self.kind.addItem(kind, kind)
        self.author = QLineEdit()
        self.author.setPlaceholderText("author (OS user)")
        self.text = QLineEdit()
        self.text.setPlaceholderText("text in the correction")
        self.include_reverted = QCheckBox("show reverted")
        self.include_reverted.setChecked(True)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Take the selected correction back (Ctrl+Z undoes that)")
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip("Put the selected reverted correction back in force")
        self.summary = label("", "Muted")
        self.table = RecordTable(COLUMNS)
        self.table.activated_record.connect(lambda c: c.post_id is not None and self.post_activated.emit(c.post_id))

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.refresh)
        self.kind.currentIndexChanged.connect(lambda _i: self.refresh())
        self.include_reverted.toggled.connect(lambda _on: self.refresh())
        for edit in (self.author, self.text):
            edit.textChanged.connect(lambda _t: self._debounce.start())
        self.revert_button.clicked.connect(self.revert_selected)
        self.restore_button.clicked.connect(self.restore_selected)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        ctx.corrections.changed.connect(self.refresh)

        filters = QHBoxLayout()
        for widget in (self.kind, self.author, self.text, self.include_reverted):
            filters.addWidget(widget)
        filters.addStretch(1)
        filters.addWidget(self.revert_button)
        filters.addWidget(self.restore_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(label("Corrections", "PageTitle"))
        layout.addLayout(filters)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self._update_buttons()

    def on_shown(self) -> None:
        self.refresh()

    def current_filter(self) -> CorrectionFilter:
        return CorrectionFilter(
            self.kind.currentData(),
            self.author.text().strip() or None,
            self.text.text().strip(),
            self.include_reverted.isChecked(),
        )

    def refresh(self) -> None:
        token = self._latest.start()
        chosen = self.current_filter()
        self.ctx.db.submit(
            chosen.select,
            self._latest.only(token, self._show),
            self._latest.only(token, lambda exc: self.summary.setText(f"Cannot list corrections: {exc}")),
        )

    def _show(self, found: list[Correction]) -> None:
        self.table.set_records(found)
        more = f" (the latest {MAX_LISTED:,})" if len(found) == MAX_LISTED else ""
        noun = "correction" if len(found) == 1 else "corrections"
        self.summary.setText(f"{len(found):,} {noun}{more}" if found else "No correction matches.")
        self._update_buttons()
        self.loaded.emit(len(found))

    def _update_buttons(self) -> None:
        chosen = self.table.selected_record()
        self.revert_button.setEnabled(chosen is not None and not chosen.reverted)
        self.restore_button.setEnabled(chosen is not None and chosen.reverted)

    def revert_selected(self) -> None:
        if (chosen := self.table.selected_record()) is not None and not chosen.reverted:
            self.ctx.corrections.revert(chosen)

    def restore_selected(self) -> None:
        if (chosen := self.table.selected_record()) is not None and chosen.reverted:
            self.ctx.corrections.restore(chosen)
