"""Search results for the bar's query, as posts or as entities with counts (Datasette-style
paging: a page at a time, "n of N" once the total is counted)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from groundlens.gui.context import AppContext
from groundlens.gui.models.record_table import Column
from groundlens.gui.theme import TYPE_COLORS
from groundlens.gui.widgets.common import label
from groundlens.gui.widgets.table_view import RecordTable
from groundlens.gui.workers import Latest

PAGE = 50

POST_COLUMNS = [
    Column("Date", lambda p: p.created_at),
    Column("Author", lambda p: p.author or p.source),
    Column("Entities", lambda p: p.n_entities),
    Column("In image", lambda p: p.n_groundable),
    Column("Pipeline", lambda p: p.pipeline_state or "not queued"),
    Column("Text", lambda p: p.snippet, tooltip=lambda p: p.snippet),
]
ENTITY_COLUMNS = [
    Column("Entity", lambda e: e.name),
    Column("Type", lambda e: e.type, color=lambda e: TYPE_COLORS.get(e.type)),
    Column("Mentions", lambda e: e.mentions),
    Column("Posts", lambda e: e.posts),
    Column("In image", lambda e: e.groundable),
    Column("First seen", lambda e: e.first_seen),
    Column("Last seen", lambda e: e.last_seen),
    Column("Types", lambda e: ", ".join(f"{t} {n}" for t, n in sorted(e.types.items(), key=lambda kv: -kv[1]))),
]


class SearchView(QWidget):
    post_activated = Signal(int)
    entity_activated = Signal(str)
    query_failed = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.query = ""
        self.offset = 0
        self._latest = Latest(self)
        self._stale = True

        title = label("Search", "PageTitle")
        self.posts_button = QPushButton("Posts")
        self.entities_button = QPushButton("Entities")
        group = QButtonGroup(self)
        for button in (self.posts_button, self.entities_button):
            button.setCheckable(True)
            group.addButton(button)
        self.posts_button.setChecked(True)
        group.buttonToggled.connect(lambda _b, on: on and self._reload(0))
        self.summary = label("", "Muted")
        self.previous_button = QPushButton("‹ Previous")
        self.next_button = QPushButton("Next ›")
        self.previous_button.clicked.connect(lambda: self._reload(max(0, self.offset - PAGE)))
        self.next_button.clicked.connect(lambda: self._reload(self.offset + PAGE))

        self.post_table = RecordTable(POST_COLUMNS)
        self.entity_table = RecordTable(ENTITY_COLUMNS, stretch=0)
        self.post_table.activated_record.connect(lambda p: self.post_activated.emit(p.id))
        self.entity_table.activated_record.connect(lambda e: self.entity_activated.emit(e.norm))
        self.tables = QStackedWidget()
        self.tables.addWidget(self.post_table)
        self.tables.addWidget(self.entity_table)

        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(16)
        top.addWidget(self.posts_button)
        top.addWidget(self.entities_button)
        top.addStretch(1)
        top.addWidget(self.summary)
        top.addWidget(self.previous_button)
        top.addWidget(self.next_button)
        hint = label(
            "Double-click a post to inspect it, or an entity to open its page. "
            "The query bar above filters the feed and these results alike.",
            "Muted",
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addWidget(hint)
        layout.addWidget(self.tables, 1)

    @property
    def mode(self) -> str:
        return "entities" if self.entities_button.isChecked() else "posts"

    def set_query(self, query: str) -> None:
        """Remember the query; run it now if visible, otherwise when the page is next shown."""
        self.query = query
        self._stale = True
        if self.isVisible():
            self._reload(0)

    def on_shown(self) -> None:
        if self._stale:
            self._reload(0)

    def _reload(self, offset: int) -> None:
        self._stale = False
        token, query, mode = self._latest.start(), self.query, self.mode
        self.tables.setCurrentIndex(1 if mode == "entities" else 0)
        if not query:
            self.post_table.set_records([])
            self.entity_table.set_records([])
            self.summary.setText("Type a query in the bar above (press ? beside it for the syntax).")
            self.previous_button.setEnabled(False)
            self.next_button.setEnabled(False)
            return

        def work(store):
            search = store.search_entities if mode == "entities" else store.search_posts
            page = search(query, limit=PAGE, offset=offset)
            total = store.count_matching(query) if mode == "posts" else None
            return page, total

        self.ctx.db.submit(
            work,
            self._latest.only(token, lambda result: self._on_page(mode, *result)),
            self._latest.only(token, self.query_failed.emit),
        )

    def _on_page(self, mode: str, page, total: int | None) -> None:
        self.offset = page.offset
        table = self.entity_table if mode == "entities" else self.post_table
        table.set_records(page.items)
        first, last = page.offset + 1, page.offset + len(page.items)
        of = f" of {total:,}" if total is not None else ""
        noun = "entities" if mode == "entities" else "posts"
        self.summary.setText(f"{first:,}–{last:,}{of} {noun}" if page.items else f"No {noun} match.")
        self.previous_button.setEnabled(page.offset > 0)
        self.next_button.setEnabled(page.has_more)
