"""The main window: a navigation rail, the search bar on top, one page per view, a status bar.

It only wires views together (search -> feed, feed -> inspector, entity chips -> entity page,
trend range -> feed); each view does its own loading through the shared AppContext.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, QThreadPool, QTimer
from PySide6.QtGui import QCloseEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from groundlens.core.config import RESOURCES_DIR, AppPaths
from groundlens.gui.context import AppContext, open_context
from groundlens.gui.shortcuts import SHORTCUTS
from groundlens.gui.views.entity_page import EntityPage
from groundlens.gui.views.feed import FeedView
from groundlens.gui.views.inspector import InspectorView
from groundlens.gui.views.jobs import JobsView
from groundlens.gui.views.search import SearchView
from groundlens.gui.views.settings import SettingsView
from groundlens.gui.views.trends import TrendsView
from groundlens.gui.widgets.common import label
from groundlens.gui.widgets.query_bar import QueryBar
from groundlens.gui.widgets.shortcut_sheet import ShortcutSheet
from groundlens.storage import StoreError

STATUS_INTERVAL_MS = 3000
ICONS_DIR = RESOURCES_DIR / "icons"


def icon(name: str) -> QIcon:
    return QIcon(str(ICONS_DIR / f"{name}.svg"))


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, title_suffix: str = "") -> None:
        super().__init__()
        self.ctx = ctx
        ctx.db.setParent(self)
        ctx.thumbnails.setParent(self)
        self.setWindowTitle(f"GroundLens{title_suffix} — {ctx.paths.data_dir}")
        self.resize(1440, 900)

        self.query_bar = QueryBar()
        toolbar = QToolBar("Search")
        toolbar.setMovable(False)
        toolbar.setFloatable(False)
        brand = label("  GroundLens", "PageTitle")
        toolbar.addWidget(brand)
        spacer = QWidget()
        spacer.setFixedWidth(40)
        toolbar.addWidget(spacer)
        self.query_bar.setMaximumWidth(900)
        toolbar.addWidget(self.query_bar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)

        self.feed = FeedView(ctx)
        self.inspector = InspectorView(ctx)
        explore = QSplitter(Qt.Orientation.Horizontal)
        explore.addWidget(self.feed)
        explore.addWidget(self.inspector)
        explore.setChildrenCollapsible(False)
        explore.setStretchFactor(0, 0)
        explore.setStretchFactor(1, 1)
        self.feed.setMinimumWidth(300)
        explore.setSizes([360, 950])
        self.search = SearchView(ctx)
        self.entity_page = EntityPage(ctx)
        self.trends = TrendsView(ctx)
        self.jobs = JobsView(ctx)
        self.settings = SettingsView(ctx)

        self.pages = QStackedWidget()
        self.nav = QListWidget()
        self.nav.setObjectName("NavRail")
        self.nav.setFixedWidth(132)
        self.nav.setIconSize(QSize(18, 18))
        for name, text, page in (
            ("explore", "Explore", explore),
            ("search", "Search", self.search),
            ("entity", "Entity", self.entity_page),
            ("trends", "Trends", self.trends),
            ("jobs", "Jobs", self.jobs),
            ("settings", "Settings", self.settings),
        ):
            item = QListWidgetItem(icon(name), text)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setSizeHint(QSize(0, 36))
            self.nav.addItem(item)
            self.pages.addWidget(page)
        self.nav.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.nav.currentRowChanged.connect(self._page_shown)
        self.nav.setCurrentRow(0)

        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.nav)
        row.addWidget(self.pages, 1)
        self.setCentralWidget(body)

        self.counts_label = QLabel()
        self.activity_label = QLabel()
        self.statusBar().addWidget(self.counts_label, 1)
        self.statusBar().addPermanentWidget(self.activity_label)

        self._wire()
        self._bind_shortcuts()
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_INTERVAL_MS)
        self._status_timer.timeout.connect(self.refresh_status)
        self._status_timer.start()
        self.feed.set_query(None)  # first: the one database thread serves the feed before the status counts
        self.refresh_status()

    # wiring --------------------------------------------------------------------------------
    def _wire(self) -> None:
        self.query_bar.submitted.connect(self.run_query)
        self.feed.model.query_failed.connect(self.query_bar.show_error)
        self.feed.model.reset_done.connect(lambda _n: self.query_bar.clear_error())
        self.search.query_failed.connect(self.query_bar.show_error)
        self.feed.post_selected.connect(self.inspector.show_post)
        self.inspector.entity_opened.connect(self.open_entity)
        self.inspector.image_retry_requested.connect(self.jobs.retry_images)
        self.search.entity_activated.connect(self.open_entity)
        self.search.post_activated.connect(self.open_post)
        self.entity_page.post_activated.connect(self.open_post)
        self.entity_page.entity_activated.connect(self.open_entity)
        self.trends.entity_activated.connect(self.open_entity)
        self.trends.range_selected.connect(self.filter_by_range)
        self.trends.feed_requested.connect(lambda: self.show_page("explore"))
        self.jobs.activity.connect(self.activity_label.setText)
        self.jobs.results_changed.connect(self._results_changed)
        self.jobs.post_activated.connect(self.open_post)
        self.settings.saved.connect(self.jobs.set_settings)
        self.settings.data_folder_requested.connect(self.switch_data_folder)
        self.entity_page.search_requested.connect(self.show_in_feed)

    def _bind_shortcuts(self) -> None:
        canvas, bar = self.inspector.canvas, self.inspector.overlay_bar
        actions = {
            "next_post": lambda: self.feed.step(1),
            "previous_post": lambda: self.feed.step(-1),
            "focus_search": self.query_bar.focus,
            "clear_search": lambda: self.query_bar.set_text(""),
            "toggle_masks": lambda: bar.toggle_layer("masks"),
            "toggle_boxes": lambda: bar.toggle_layer("boxes"),
            "toggle_labels": lambda: bar.toggle_layer("labels"),
            "toggle_gold": self.inspector.legend.gold_button.toggle,
            "zoom_in": canvas.zoom_in,
            "zoom_out": canvas.zoom_out,
            "zoom_fit": canvas.fit,
            "zoom_actual": canvas.actual_size,
            "page_explore": lambda: self.show_page("explore"),
            "page_search": lambda: self.show_page("search"),
            "page_entity": lambda: self.show_page("entity"),
            "page_trends": lambda: self.show_page("trends"),
            "page_jobs": lambda: self.show_page("jobs"),
            "page_settings": lambda: self.show_page("settings"),
            "import_files": self.jobs.import_files,
            "shortcut_sheet": self.show_shortcuts,
        }
        self.shortcuts: dict[str, list[QShortcut]] = {}
        for shortcut in SHORTCUTS:
            bound = []
            for keys in shortcut.keys:
                qs = QShortcut(QKeySequence(keys), self)
                qs.setContext(Qt.ShortcutContext.WindowShortcut)
                qs.activated.connect(actions[shortcut.action])
                bound.append(qs)
            self.shortcuts[shortcut.action] = bound

    # navigation ----------------------------------------------------------------------------
    def page_names(self) -> list[str]:
        return [self.nav.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.nav.count())]

    def show_page(self, name: str) -> None:
        self.nav.setCurrentRow(self.page_names().index(name))

    def current_page(self) -> str:
        return self.page_names()[self.nav.currentRow()]

    def _page_shown(self, row: int) -> None:
        page = self.pages.widget(row)
        if hasattr(page, "on_shown"):
            page.on_shown()

    def run_query(self, query: str) -> None:
        self.feed.set_query(query or None)
        self.search.set_query(query)

    def open_entity(self, norm: str) -> None:
        if norm:
            self.entity_page.show_entity(norm)
            self.show_page("entity")

    def open_post(self, post_id: int) -> None:
        self.show_page("explore")
        row = self.feed.model.row_of(post_id)
        if row >= 0:
            self.feed.select_row(row)
        else:  # not in the current filter: show it anyway
            self.inspector.show_post(post_id)

    def show_in_feed(self, query: str) -> None:
        """Queries from other views go through the search bar, so the filter is visible and editable."""
        self.query_bar.set_text(query)
        self.show_page("explore")

    def filter_by_range(self, clause: str) -> None:
        """A trend range replaces any date filter in the query (other terms stay); the page stays put."""
        self.query_bar.set_text(with_date_range(self.query_bar.text(), clause))

    def switch_data_folder(self, folder: Path) -> None:
        """Open a new window on another data folder and close this one (its jobs are cancelled)."""
        try:
            ctx = open_context(AppPaths(data_dir=folder.resolve(), models_dir=self.ctx.paths.models_dir))
        except (StoreError, OSError) as error:
            QMessageBox.warning(self, "GroundLens", f"Cannot open {folder}:\n{error}")
            return
        window = MainWindow(ctx)
        window.show()
        self.close()
        self.deleteLater()

    def show_shortcuts(self) -> None:
        ShortcutSheet(self).exec()

    # status --------------------------------------------------------------------------------
    def refresh_status(self) -> None:
        self.ctx.db.submit(lambda store: store.stats(), self._show_stats)

    def _show_stats(self, stats: dict) -> None:
        self.counts_label.setText(format_stats(stats, self.jobs.config_key))

    def _results_changed(self) -> None:
        self.feed.refresh()
        self.inspector.reload()
        self.trends.mark_stale()
        self.refresh_status()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self._status_timer.stop()
        self.jobs.shutdown()
        QThreadPool.globalInstance().waitForDone(2000)
        self.ctx.db.close()
        super().closeEvent(event)


DATE_FILTERS = ("after:", "before:", "date:")


def with_date_range(query: str, clause: str) -> str:
    """`query` with its date filters replaced by `clause` ("" removes them)."""
    kept = [term for term in query.split() if not term.lower().startswith(DATE_FILTERS)]
    return " ".join([*kept, clause]).strip()


def format_stats(stats: dict, config_key: str) -> str:
    """'1,204 posts · 980 images · 3,411 mentions of 1,020 entities · queue: 120 pending, 3 failed', the queue
    being the configuration's the Jobs page runs (jobs left by a one-off `process --ner spacy` never run here)."""
    images = stats.get("media", {}).get("ok", 0)
    mentions = sum(stats.get("entities", {}).get("pred", {}).values())
    gold = sum(stats.get("entities", {}).get("gold", {}).values())
    parts = [
        f"{stats.get('posts', 0):,} posts",
        f"{images:,} images",
        f"{mentions:,} mentions of {stats.get('distinct_entities', 0):,} entities",
    ]
    if gold:
        parts.append(f"{gold:,} gold")
    queue: dict[str, int] = stats.get("jobs", {}).get(config_key, {})
    waiting = {state: n for state, n in queue.items() if state in ("pending", "running", "failed") and n}
    if waiting:
        parts.append("queue: " + ", ".join(f"{n:,} {state}" for state, n in waiting.items()))
    return "  ·  ".join(parts)
