"""The feed's rows: ids for the whole query up front (one cheap store call), summaries fetched
a page at a time on the database thread only when a row is painted. 100k posts cost 100k ints
in memory and a handful of page reads while scrolling."""

from __future__ import annotations

from collections import OrderedDict
from itertools import pairwise

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from groundlens.gui.workers import DbWorker, Latest

SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
PAGE_SIZE = 100
MAX_PAGES = 60  # pages kept in memory; scrolling back re-reads evicted ones

ORDERS = {"Newest first": "created_desc", "Oldest first": "created_asc", "Most entities": "entities_desc"}


class FeedModel(QAbstractListModel):
    query_failed = Signal(object)  # the exception (storage.QueryError has message + position)
    reset_done = Signal(int)  # number of rows after a new query

    def __init__(self, db: DbWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.query: str | None = None
        self.order = "created_desc"
        self._ids: list[int] = []
        self._pages: OrderedDict[int, list] = OrderedDict()
        self._requested: set[int] = set()
        self._latest = Latest(self)

    # loading -------------------------------------------------------------------------------
    def set_query(self, query: str | None, order: str | None = None) -> None:
        self.query = query or None
        self.order = order or self.order
        token, query, order = self._latest.start(), self.query, self.order
        self.db.submit(
            lambda store: store.post_ids(query, order=order),
            self._latest.only(token, self._on_ids),
            self._latest.only(token, self.query_failed.emit),
        )

    def refresh(self) -> None:
        """Re-run the query (new posts) and re-read visible rows (new badges), keeping the list in place."""
        self.set_query(self.query, self.order)

    def _on_ids(self, ids: list[int]) -> None:
        if ids == self._ids:
            # Same rows: only refresh their contents (pipeline progress) without resetting the view.
            self._pages.clear()
            self._requested.clear()
            if ids:
                self.dataChanged.emit(self.index(0), self.index(len(ids) - 1))
        else:
            self.beginResetModel()
            self._ids = list(ids)
            self._pages.clear()
            self._requested.clear()
            self.endResetModel()
        self.reset_done.emit(len(self._ids))

    def _request_page(self, page: int) -> None:
        if page in self._requested:
            return
        self._requested.add(page)
        ids = self._ids[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        # Rows for an older query (or refresh) are dropped: its ids may no longer be these rows.
        deliver = self._latest.only(self._latest.current, lambda rows: self._on_page(page, rows))
        self.db.submit(lambda store: store.post_summaries(ids), deliver)

    def _on_page(self, page: int, rows: list) -> None:
        self._requested.discard(page)
        self._pages[page] = rows
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        first = page * PAGE_SIZE
        last = min(len(self._ids), first + len(rows)) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first), self.index(last))

    # Qt model interface -------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._ids):
            return None
        row = index.row()
        if role == ID_ROLE:
            return self._ids[row]
        if role == SUMMARY_ROLE:
            return self.summary(row)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            summary = self.summary(row)
            return summary.snippet if summary is not None else None
        return None

    def summary(self, row: int):
        """The row's PostSummary, or None while its page loads (the request is made here)."""
        page = row // PAGE_SIZE
        rows = self._pages.get(page)
        if rows is None:
            self._request_page(page)
            return None
        self._pages.move_to_end(page)
        offset = row - page * PAGE_SIZE
        return rows[offset] if offset < len(rows) else None

    def loaded_pages(self) -> list[int]:
        """Pages of summaries in memory (rows are read only when shown)."""
        return sorted(self._pages)

    def post_id(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def ids_of_rows(self, spans: list[tuple[int, int]]) -> list[int]:
        """Post ids in these row spans (first and last row included), in feed order."""
        return [post_id for first, last in spans for post_id in self._ids[first : last + 1]]

    def ids_outside(self, spans: list[tuple[int, int]]) -> list[int]:
        """Post ids of the rows outside these sorted, disjoint spans: what "all matching" leaves out."""
        edges = [(-1, -1), *spans, (len(self._ids), len(self._ids))]
        return [post_id for (_, end), (start, _) in pairwise(edges) for post_id in self._ids[end + 1 : start]]

    def row_of(self, post_id: int) -> int:
        try:
            return self._ids.index(post_id)
        except ValueError:
            return -1
