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
from groundlens.core.demo import DemoSetup
from groundlens.gui.context import AppContext, open_context
from groundlens.gui.shortcuts import SHORTCUTS
from groundlens.gui.views.corrections import CorrectionsView
from groundlens.gui.views.entity_page import EntityPage
from groundlens.gui.views.export_dialog import ExportDialog
from groundlens.gui.views.feed import FeedView
from groundlens.gui.views.first_run import FirstRunView
from groundlens.gui.views.inspector import InspectorView
from groundlens.gui.views.jobs import JobsView
from groundlens.gui.views.network import NetworkView
from groundlens.gui.views.search import SearchView
from groundlens.gui.views.settings import SettingsView
from groundlens.gui.views.trends import TrendsView
from groundlens.gui.widgets.common import label
from groundlens.gui.widgets.query_bar import QueryBar
from groundlens.gui.widgets.saved_searches import SavedSearchPanel
from groundlens.gui.widgets.shortcut_sheet import ShortcutSheet
from groundlens.storage import StoreError
from groundlens.storage.query import DATE_FILTERS, QueryError, rewrite_filters

STATUS_INTERVAL_MS = 3000
SIDEBAR_WIDTH = 180  # the navigation rail, and the saved searches under it
ICONS_DIR = RESOURCES_DIR / "icons"


def icon(name: str) -> QIcon:
    return QIcon(str(ICONS_DIR / f"{name}.svg"))


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, title_suffix: str = "") -> None:
        super().__init__()
        self.ctx = ctx
        ctx.db.setParent(self)
        ctx.thumbnails.setParent(self)
        ctx.settings.setParent(self)  # destroyed with the window, on this thread (its file watcher too)
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
        toolbar.addAction("Export…", lambda: self.export_posts()).setToolTip(
            "Export the current search: JSONL, CSV, COCO, crops"
        )
        toolbar.addAction("Report…", lambda: self.export_posts(kind="report")).setToolTip(
            "An offline HTML report on the current search"
        )
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
        self.first_run = FirstRunView(ctx.paths)
        self.explore = QStackedWidget()  # the first-run screen while the data folder has no post
        self.explore.addWidget(explore)
        self.explore.addWidget(self.first_run)
        self.search = SearchView(ctx)
        self.entity_page = EntityPage(ctx)
        self.trends = TrendsView(ctx)
        self.network = NetworkView(ctx)
        self.jobs = JobsView(ctx)
        self.settings = SettingsView(ctx)
        self.corrections = CorrectionsView(ctx)

        self.pages = QStackedWidget()
        self.nav = QListWidget()
        self.nav.setObjectName("NavRail")
        self.nav.setFixedWidth(SIDEBAR_WIDTH)
        self.nav.setIconSize(QSize(18, 18))
        for name, text, page in (
            ("explore", "Explore", self.explore),
            ("search", "Search", self.search),
            ("entity", "Entity", self.entity_page),
            ("trends", "Trends", self.trends),
            ("network", "Network", self.network),
            ("jobs", "Jobs", self.jobs),
            ("settings", "Settings", self.settings),
            ("corrections", "Corrections", self.corrections),
        ):
            item = QListWidgetItem(icon(name), text)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setSizeHint(QSize(0, 36))
            self.nav.addItem(item)
            self.pages.addWidget(page)
        self.nav.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.nav.currentRowChanged.connect(self._page_shown)
        self.nav.setCurrentRow(0)

        self.saved_searches = SavedSearchPanel(ctx, self.query_bar.text)
        self.saved_searches.setFixedWidth(SIDEBAR_WIDTH)
        sidebar = QSplitter(Qt.Orientation.Vertical)
        sidebar.addWidget(self.nav)
        sidebar.addWidget(self.saved_searches)
        sidebar.setChildrenCollapsible(False)
        sidebar.setSizes([260, 400])

        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(sidebar)
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
        self.network.entity_activated.connect(self.open_entity)
        self.trends.range_selected.connect(self.filter_by_range)
        self.trends.feed_requested.connect(lambda: self.show_page("explore"))
        self.jobs.activity.connect(self.activity_label.setText)
        self.jobs.results_changed.connect(self._results_changed)
        self.jobs.post_activated.connect(self.open_post)
        self.first_run.import_requested.connect(lambda: self.jobs.import_files() and self.show_page("jobs"))
        self.first_run.demo_ready.connect(self.open_demo)
        self.settings.data_folder_requested.connect(self.switch_data_folder)
        self.entity_page.search_requested.connect(self.show_in_feed)
        self.saved_searches.query_requested.connect(self.show_in_feed)
        self.saved_searches.changed.connect(self.feed.refresh)  # a shown saved: query may mean other posts now
        for bulk in (self.feed.bulk, self.search.bulk):
            bulk.config_key = lambda: self.jobs.config_key
            bulk.changed.connect(self._results_changed)
            bulk.rerun_queued.connect(lambda _n: self.jobs.start_pipeline())
        self.corrections.post_activated.connect(self.open_post)
        self.ctx.corrections.failed.connect(
            lambda why: self.statusBar().showMessage(f"Correction not saved: {why}", 8000)
        )
        self.ctx.corrections.changed.connect(lambda: (self.feed.refresh(), self.trends.mark_stale()))

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
            "page_corrections": lambda: self.show_page("corrections"),
        } | self.inspector.correction_actions()
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
        self.network.set_query(query)

    def export_posts(self, ids: list[int] | None = None, kind: str = "jsonl") -> ExportDialog:
        """The Export dialog for these posts (a selection), else for the current search."""
        dialog = ExportDialog(self.ctx, self.query_bar.text().strip() or None, ids, kind, self)
        dialog.show()
        return dialog

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

    def switch_data_folder(self, folder: Path, title_suffix: str = "") -> MainWindow | None:
        """Open a new window on another data folder and close this one (its jobs are cancelled)."""
        try:
            ctx = open_context(AppPaths(data_dir=folder.resolve(), models_dir=self.ctx.paths.models_dir))
        except (StoreError, OSError) as error:
            QMessageBox.warning(self, "GroundLens", f"Cannot open {folder}:\n{error}")
            return None
        window = MainWindow(ctx, title_suffix)
        window.show()
        self.close()
        self.deleteLater()
        return window

    def open_demo(self, setup: DemoSetup) -> None:
        """The first-run screen's demo, opened as `--demo` opens it: its own folder, its pipeline started."""
        window = self.switch_data_folder(setup.paths.data_dir, " — demo")
        if window is not None and setup.pending:
            window.jobs.start_pipeline()

    def show_shortcuts(self) -> None:
        ShortcutSheet(self).exec()

    # status --------------------------------------------------------------------------------
    def refresh_status(self) -> None:
        self.ctx.db.submit(lambda store: store.stats(), self._show_stats)

    def _show_stats(self, stats: dict) -> None:
        self.counts_label.setText(format_stats(stats, self.jobs.config_key))
        self.explore.setCurrentWidget(self.explore.widget(0 if stats.get("posts", 0) else 1))

    def _results_changed(self) -> None:
        self.saved_searches.refresh()
        self.feed.refresh()
        self.inspector.reload()
        self.trends.mark_stale()
        self.search.mark_stale()
        self.refresh_status()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self._status_timer.stop()
        self.jobs.shutdown()
        QThreadPool.globalInstance().waitForDone(2000)
        self.ctx.db.close()
        super().closeEvent(event)


def with_date_range(query: str, clause: str) -> str:
    """`query` with its date filters replaced by `clause` ("" removes them), rewritten by the query parser so
    phrases, exclusions and OR groups survive; a query that does not parse gets the clause appended (the bar
    keeps showing what is wrong with it)."""
    try:
        return rewrite_filters(query, DATE_FILTERS, clause)
    except QueryError:
        return f"{query} {clause}".strip()


def format_stats(stats: dict, config_key: str | None) -> str:
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
