"""The feed: every post matching the search bar, newest first by default, one painted row each."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QTableView, QVBoxLayout, QWidget

from groundlens.gui.context import AppContext
from groundlens.gui.models.feed_model import ORDERS, FeedModel
from groundlens.gui.widgets.common import label
from groundlens.gui.widgets.post_delegate import ROW_HEIGHT, PostDelegate


class _FeedList(QTableView):
    """A one-column table with fixed-height rows: QListView lays out every row first (1.6 s on the
    main thread for 1M posts, 16 s in batches); a table's header places fixed rows by arithmetic,
    so a feed of any size paints at once."""

    def __init__(self) -> None:
        super().__init__()
        self.horizontalHeader().hide()
        self.horizontalHeader().setStretchLastSection(True)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.setShowGrid(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setWordWrap(False)

    def keyboardSearch(self, search: str) -> None:  # noqa: N802 (Qt override)
        """Off: type-to-find would read every row of a 100k feed; the search bar does this job."""


class FeedView(QWidget):
    post_selected = Signal(object)  # post id, or None when the feed is empty

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = FeedModel(ctx.db, self)
        self.list = _FeedList()
        self.list.setObjectName("Feed")
        self.list.setModel(self.model)
        self.list.setItemDelegate(PostDelegate(ctx, self.list))
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.verticalScrollBar().setSingleStep(ROW_HEIGHT // 3)
        self.list.setMouseTracking(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.selectionModel().currentChanged.connect(lambda current, _prev: self._emit_current(current.row()))
        ctx.thumbnails.loaded.connect(lambda _path: self.list.viewport().update())

        self.count_label = label("", "Muted")
        self.order = QComboBox()
        self.order.addItems(list(ORDERS))
        self.order.setToolTip("Sort order")
        self.order.currentTextChanged.connect(lambda text: self.model.set_query(self.model.query, ORDERS[text]))
        bar = QHBoxLayout()
        bar.setContentsMargins(10, 6, 10, 6)
        bar.addWidget(self.count_label, 1)
        bar.addWidget(self.order)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.list, 1)
        self.model.reset_done.connect(self._on_reset)
        self._keep_id: int | None = None

    def _emit_current(self, row: int) -> None:
        self.post_selected.emit(self.model.post_id(row))

    def _on_reset(self, count: int) -> None:
        noun = "post" if count == 1 else "posts"
        self.count_label.setText(f"{count:,} {noun}" + (" matching" if self.model.query else ""))
        row = self.model.row_of(self._keep_id) if self._keep_id is not None else -1
        if row < 0 and count and not self.list.currentIndex().isValid():
            row = 0
        if row >= 0 and self.list.currentIndex().row() != row:
            self.select_row(row)
        elif count == 0:
            self.post_selected.emit(None)

    def set_query(self, query: str | None) -> None:
        self._keep_id = self.current_post_id()
        self.model.set_query(query)

    def refresh(self) -> None:
        self._keep_id = self.current_post_id()
        self.model.refresh()

    def current_post_id(self) -> int | None:
        return self.model.post_id(self.list.currentIndex().row())

    def select_row(self, row: int) -> None:
        row = max(0, min(row, self.model.rowCount() - 1))
        index = self.model.index(row)
        self.list.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.list.scrollTo(index)

    def step(self, delta: int) -> None:
        """Next/previous post (J/K): moves the selection, which moves the inspector."""
        if self.model.rowCount():
            current = self.list.currentIndex().row()
            self.select_row(delta if current < 0 else current + delta)
