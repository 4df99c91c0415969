"""Saved searches in the sidebar: named queries with how many posts each matches now.

Counts are computed on the database thread (Store.saved_search_counts) whenever posts or results change
(an import, a pipeline batch, a bulk action) and after each edit; the main thread only fills the list.
Clicking one puts `saved:NAME` in the search bar, so the filter stays visible and editable.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from groundlens.gui.context import AppContext
from groundlens.gui.widgets.common import label
from groundlens.gui.workers import Latest
from groundlens.storage.saved_searches import SavedCount, SavedSearch

SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1


def saved_filter(name: str) -> str:
    """The query that runs a saved search by name (names never hold double quotes: storage/tags.check_name)."""
    return f'saved:"{name}"' if " " in name else f"saved:{name}"


def item_text(entry: SavedCount) -> str:
    return f"{entry.search.name}  ({entry.posts:,})" if entry.posts is not None else f"{entry.search.name}  (!)"


class SavedSearchDialog(QDialog):
    """Name and query of a saved search; it stays open, showing the store's reason, until they are accepted."""

    submitted = Signal(str, str)  # name, query

    def __init__(self, title: str, name: str, query: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.name_edit = QLineEdit(name)
        self.query_edit = QLineEdit(query)
        self.query_edit.setMinimumWidth(380)
        self.error = label("", "QueryError")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(lambda: self.submitted.emit(self.name_edit.text(), self.query_edit.text()))
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Query", self.query_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def show_error(self, message: str) -> None:
        self.error.setText(message)


class SavedSearchPanel(QWidget):
    query_requested = Signal(str)  # saved:NAME, for the search bar
    changed = Signal()  # a saved search was added, edited or deleted

    def __init__(self, ctx: AppContext, current_query: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.current_query = current_query
        self.dialog: SavedSearchDialog | None = None
        self._latest = Latest(self)
        self.list = QListWidget()
        self.list.setObjectName("SavedSearches")
        self.list.itemClicked.connect(lambda item: self.query_requested.emit(saved_filter(item.data(SEARCH_ROLE).name)))
        self.list.currentItemChanged.connect(lambda *_: self._enable())
        self.save_button = QPushButton("Save current search…")
        self.save_button.setToolTip("Save the search bar's query under a name")
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setToolTip("Rename the selected saved search or change its query")
        self.delete_button = QPushButton("Delete")
        self.save_button.clicked.connect(self.new_search)
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.status = QLabel()
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(label("Saved searches", "SectionTitle"))
        layout.addWidget(self.list, 1)
        layout.addWidget(self.save_button)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self._enable()
        self.refresh()

    # counts --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recount every saved search on the database thread; the newest answer wins."""
        token = self._latest.start()
        self.ctx.db.submit(
            lambda store: store.saved_search_counts(),
            self._latest.only(token, self._show),
            self._latest.only(token, lambda error: self.status.setText(f"Cannot count: {error}")),
        )

    def _show(self, counts: list[SavedCount]) -> None:
        selected = self.selected()
        self.list.clear()
        for entry in counts:
            item = QListWidgetItem(item_text(entry))
            item.setData(SEARCH_ROLE, entry.search)
            item.setToolTip(entry.search.query if entry.error is None else f"{entry.search.query}\n{entry.error}")
            self.list.addItem(item)
            if selected is not None and entry.search.id == selected.id:
                self.list.setCurrentItem(item)
        self._enable()

    def counts(self) -> dict[str, str]:
        """Name -> the text shown for it (what the analyst reads)."""
        return {self.list.item(i).data(SEARCH_ROLE).name: self.list.item(i).text() for i in range(self.list.count())}

    # editing -------------------------------------------------------------------------------
    def selected(self) -> SavedSearch | None:
        item = self.list.currentItem()
        return item.data(SEARCH_ROLE) if item is not None else None

    def _enable(self) -> None:
        self.edit_button.setEnabled(self.selected() is not None)
        self.delete_button.setEnabled(self.selected() is not None)

    def new_search(self) -> None:
        self._open_dialog("Save search", "", self.current_query(), None)

    def edit_selected(self) -> None:
        search = self.selected()
        if search is not None:
            self._open_dialog("Edit saved search", search.name, search.query, search.id)

    def _open_dialog(self, title: str, name: str, query: str, search_id: int | None) -> None:
        dialog = SavedSearchDialog(title, name, query, self)
        dialog.submitted.connect(lambda new_name, new_query: self._save(dialog, search_id, new_name, new_query))
        self.dialog = dialog
        dialog.open()

    def _save(self, dialog: SavedSearchDialog, search_id: int | None, name: str, query: str) -> None:
        def work(store):
            if search_id is None:
                return store.save_search(name, query)
            return store.update_saved_search(search_id, name, query)

        def done(_search: SavedSearch) -> None:
            dialog.accept()
            self.refresh()
            self.changed.emit()

        self.ctx.db.submit(work, done, lambda error: dialog.show_error(str(error)))

    def delete_selected(self) -> None:
        search = self.selected()
        if search is None:
            return
        answer = QMessageBox.question(self, "Delete saved search", f"Delete the saved search '{search.name}'?")
        if answer != QMessageBox.StandardButton.Yes:
            return

        def done(_deleted: bool) -> None:
            self.refresh()
            self.changed.emit()

        self.ctx.db.submit(lambda store: store.delete_saved_search(search.id), done)
