"""Trends: mentions over time for chosen entities or types, and the top entities of a window.

Drag across the time chart to select a range (matplotlib SpanSelector): the top-entities chart
follows it and "Filter feed" turns it into after:/before: in the search bar. PNG and CSV export
write exactly what is on screen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO

import matplotlib.dates as mdates
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.widgets import SpanSelector
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from groundlens.core.safe_output import (
    OutputError,
    atomic_output,
    database_files,
    describe_write_error,
    refuse_overwriting,
)
from groundlens.gui.context import AppContext
from groundlens.gui.theme import ACCENT, TYPE_COLORS
from groundlens.gui.widgets.common import counting_choice, label
from groundlens.gui.workers import Latest
from groundlens.storage.coverage import Coverage
from groundlens.storage.export import CsvWriter
from groundlens.storage.normalize import normalize_entity
from groundlens.storage.summaries import COUNTED, EntityCount, SeriesPoint

TOP_N = 12
SERIES_PALETTE = ["#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]


@dataclass
class TrendData:
    include_retweets: bool = False  # what these counts cover, for the title and the exports
    include_gold: bool = False
    series: list[SeriesPoint] = field(default_factory=list)
    top: list[EntityCount] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # series key -> label
    coverage: Coverage | None = None  # of the selected range (all posts without one)


def day_start(value: date) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def range_clause(start: date, end: date) -> str:
    """Search-bar filter for [start, end] inclusive, in the store's syntax."""
    return f"after:{start.isoformat()} before:{(end + timedelta(days=1)).isoformat()}"


class TrendsView(QWidget):
    entity_activated = Signal(str)
    range_selected = Signal(str)  # an after:/before: clause for the search bar; "" when cleared
    feed_requested = Signal()
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.data = TrendData()
        self.selection: tuple[date, date] | None = None
        self._latest = Latest(self)
        self._stale = True

        title = label("Trends", "PageTitle")
        self.entities_edit = QLineEdit()
        self.entities_edit.setPlaceholderText("Entities to compare, comma-separated (empty: mentions per type)")
        self.entities_edit.returnPressed.connect(self.reload)
        self.type_boxes: dict[str, QCheckBox] = {}
        self.bucket = QComboBox()
        self.bucket.addItems(["week", "day"])
        self.bucket.currentTextChanged.connect(lambda _t: self.reload())
        self.gold = QCheckBox("Include gold")
        self.gold.toggled.connect(lambda _on: self.reload())
        self.counting = counting_choice(self.reload)
        show = QPushButton("Show")
        show.setObjectName("Primary")
        show.clicked.connect(self.reload)
        controls = QHBoxLayout()
        controls.addWidget(title)
        controls.addSpacing(12)
        controls.addWidget(self.entities_edit, 1)
        for entity_type in TYPE_COLORS:
            box = QCheckBox(entity_type)
            box.setChecked(True)
            box.toggled.connect(lambda _on: self.reload())
            self.type_boxes[entity_type] = box
            controls.addWidget(box)
        controls.addWidget(QLabel("per"))
        controls.addWidget(self.bucket)
        controls.addWidget(self.gold)
        controls.addWidget(QLabel("count"))
        controls.addWidget(self.counting)
        controls.addWidget(show)

        self.figure = Figure(figsize=(10, 6), layout="constrained")
        self.figure.patch.set_facecolor("#FFFFFF")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.series_axes = self.figure.add_subplot(2, 1, 1)
        self.top_axes = self.figure.add_subplot(2, 1, 2)
        self.span: SpanSelector | None = None
        self.canvas.mpl_connect("pick_event", self._on_pick)

        self.coverage_label = label("", "Muted")
        self.selection_label = label("Drag across the upper chart to select a time range.", "Muted")
        self.filter_button = QPushButton("Show feed")
        self.filter_button.setToolTip("The feed is already filtered to the selected range")
        self.filter_button.setEnabled(False)
        self.filter_button.clicked.connect(self.feed_requested)
        self.clear_button = QPushButton("Clear range")
        self.clear_button.setEnabled(False)
        self.clear_button.clicked.connect(self.clear_selection)
        png = QPushButton("Export PNG…")
        png.clicked.connect(lambda: self._ask_path("PNG image (*.png)", ".png", self.export_png))
        csv_button = QPushButton("Export CSV…")
        csv_button.clicked.connect(lambda: self._ask_path("CSV (*.csv)", ".csv", self.export_csv))
        bottom = QHBoxLayout()
        bottom.addWidget(self.selection_label, 1)
        bottom.addWidget(self.filter_button)
        bottom.addWidget(self.clear_button)
        bottom.addSpacing(12)
        bottom.addWidget(png)
        bottom.addWidget(csv_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(controls)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.coverage_label)
        layout.addLayout(bottom)

    # loading -------------------------------------------------------------------------------
    def on_shown(self) -> None:
        if self._stale:
            self.reload()

    def mark_stale(self) -> None:
        """New results arrived: redraw now if visible, else next time the page is shown."""
        self._stale = True
        if self.isVisible():
            self.reload()

    def chosen_norms(self) -> list[str]:
        return [n for n in (normalize_entity(part) for part in self.entities_edit.text().split(",")) if n]

    def chosen_types(self) -> list[str]:
        return [t for t, box in self.type_boxes.items() if box.isChecked()]

    def reload(self) -> None:
        self._stale = False
        token = self._latest.start()
        norms, types = self.chosen_norms() or None, self.chosen_types()
        bucket, gold, selection = self.bucket.currentText(), self.gold.isChecked(), self.selection
        retweets = bool(self.counting.currentData())

        def work(store) -> TrendData:
            data = TrendData(include_retweets=retweets, include_gold=gold)
            data.series = store.mention_series(
                norms, types, bucket=bucket, start=None, end=None, include_gold=gold, include_retweets=retweets
            )
            start, end = (
                (day_start(selection[0]), day_start(selection[1]) + timedelta(days=1)) if selection else (None, None)
            )
            only_type = types[0] if len(types) == 1 else None
            data.top = store.top_entities(
                start=start, end=end, type=only_type, limit=TOP_N, include_gold=gold, include_retweets=retweets
            )
            data.coverage = store.coverage(start=start, end=end)
            if norms:
                data.names = {n: store.entity_profile(n).name or n for n in norms}
            return data

        self.ctx.db.submit(
            work,
            self._latest.only(token, self._on_data),
            self._latest.only(token, lambda exc: self.selection_label.setText(f"Could not load trends: {exc}")),
        )

    def _on_data(self, data: TrendData) -> None:
        self.data = data
        self._draw()
        self.loaded.emit()

    # drawing -------------------------------------------------------------------------------
    def series_by_key(self) -> dict[str, list[SeriesPoint]]:
        by_key: dict[str, list[SeriesPoint]] = {}
        for point in self.data.series:
            by_key.setdefault(point.key, []).append(point)
        return by_key

    def series_title(self) -> str:
        """Says what was counted, so an exported chart cannot pass amplification off as original posts."""
        gold = " (pred + gold)" if self.data.include_gold else ""
        return f"Mentions per {self.bucket.currentText()}, {COUNTED[self.data.include_retweets]}{gold}"

    def _draw(self) -> None:
        ax = self.series_axes
        ax.clear()
        by_key = self.series_by_key()
        for i, (key, points) in enumerate(by_key.items()):
            color = TYPE_COLORS.get(key) or SERIES_PALETTE[i % len(SERIES_PALETTE)]
            ax.plot(
                [p.bucket for p in points],
                [p.count for p in points],
                marker="o",
                markersize=3,
                linewidth=1.8,
                color=color,
                label=self.data.names.get(key, key),
            )
        ax.set_title(self.series_title(), loc="left", fontsize=11, fontweight="bold")
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        self._style(ax)
        if by_key:
            ax.legend(
                frameon=False, fontsize=9, ncols=min(6, len(by_key)), loc="lower right", bbox_to_anchor=(1.0, 1.0)
            )
        else:
            undated = self.data.coverage.undated if self.data.coverage else 0
            ax.text(
                0.5,
                0.5,
                f"No dated mentions: {undated:,} posts have no date (their mentions are in the top entities)."
                if undated and self.data.top
                else "No mentions yet: run the pipeline (Jobs) or widen the selection.",
                ha="center",
                va="center",
                transform=ax.transAxes,
                color="#6B7280",
            )
        size = 7 if self.bucket.currentText() == "week" else 1
        last = max((p.bucket for p in self.data.series), default=None)
        partial = last if last and self.data.coverage and self.data.coverage.is_partial(last, size) else None
        if partial is not None:
            ax.axvspan(
                partial, partial + timedelta(days=size), color="#9CA3AF", alpha=0.18, hatch="//", lw=0, gid="partial"
            )
            ax.text(
                mdates.date2num(partial),
                1.0,
                f" partial {self.bucket.currentText()}",
                transform=ax.get_xaxis_transform(),
                va="top",
                fontsize=8,
                color="#6B7280",
            )
        if self.selection:
            ax.axvspan(self.selection[0], self.selection[1] + timedelta(days=1), color=ACCENT, alpha=0.12)
        self.span = SpanSelector(
            ax,
            self._on_span,
            "horizontal",
            useblit=True,
            minspan=0.5,
            props={"alpha": 0.15, "facecolor": ACCENT},
            interactive=False,
        )
        if self.data.series:
            # The selector's hidden rectangle sits at x=0 (1970): pin the axis to the data instead.
            first = min(p.bucket for p in self.data.series)
            last = max(p.bucket for p in self.data.series)
            ax.set_xlim(first - timedelta(days=1), last + timedelta(days=1))

        top = self.top_axes
        top.clear()
        counts = list(reversed(self.data.top))
        bars = top.barh(
            [c.name for c in counts],
            [c.count for c in counts],
            color=[TYPE_COLORS.get(c.type, "#999999") for c in counts],
            picker=True,
        )
        for bar, count in zip(bars, counts):
            bar.set_gid(count.norm)
        window = f"{self.selection[0]:%d %b} – {self.selection[1]:%d %b %Y}" if self.selection else "all time"
        top.set_title(f"Top entities, {window}  (click a bar to open it)", loc="left", fontsize=11, fontweight="bold")
        self._style(top)
        top.tick_params(axis="y", labelsize=9)
        top.xaxis.set_major_locator(MaxNLocator(integer=True))
        coverage = self.data.coverage
        self.coverage_label.setText(coverage.summary(self.selection is not None) if coverage else "")
        self.canvas.draw_idle()

    @staticmethod
    def _style(ax) -> None:
        ax.set_facecolor("#FFFFFF")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_color("#C9CDD2")
        ax.tick_params(colors="#4B5058", labelsize=9)
        ax.grid(axis="both", color="#EEF0F2", linewidth=0.8)
        ax.set_axisbelow(True)

    # interaction ---------------------------------------------------------------------------
    def _on_span(self, xmin: float, xmax: float) -> None:
        start = mdates.num2date(xmin).date()
        end = mdates.num2date(xmax).date()
        self.select_range(start, end)

    def select_range(self, start: date, end: date) -> None:
        self.selection = (min(start, end), max(start, end))
        self.selection_label.setText(
            f"Selected {self.selection[0]:%d %b %Y} – {self.selection[1]:%d %b %Y}: the feed shows this range."
        )
        self.filter_button.setEnabled(True)
        self.clear_button.setEnabled(True)
        self.range_selected.emit(range_clause(*self.selection))
        self.reload()

    def clear_selection(self) -> None:
        self.selection = None
        self.selection_label.setText("Drag across the upper chart to select a time range.")
        self.filter_button.setEnabled(False)
        self.clear_button.setEnabled(False)
        self.range_selected.emit("")
        self.reload()

    def _on_pick(self, event) -> None:
        norm = event.artist.get_gid()
        if norm:
            self.entity_activated.emit(norm)

    # export --------------------------------------------------------------------------------
    def _ask_path(self, file_filter: str, suffix: str, write) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export", f"groundlens-trends{suffix}", file_filter)
        if path:
            problem = self.export(Path(path), write)
            if problem:
                QMessageBox.warning(self, "Export", f"Nothing was written: {problem}")

    def export(self, path: Path, write: Callable[[Path], None]) -> str | None:
        """None once written; otherwise why not, naming the path (the database refused, a missing folder,
        a read-only place, a full device)."""
        try:
            write(path)
        except OutputError as error:
            return str(error)
        except OSError as error:
            return describe_write_error(path, error)
        return None

    @contextmanager
    def _output(self, path: Path, mode: str) -> Iterator[IO]:
        """The file appears only when complete, and is never the database (OutputError)."""
        refuse_overwriting(path, {"the database": database_files(self.ctx.paths.db_path)})
        with atomic_output(path, mode, newline="") as handle:
            yield handle

    def export_png(self, path: Path) -> None:
        with self._output(path, "wb") as handle:
            self.figure.savefig(handle, format="png", dpi=150)

    def export_csv(self, path: Path) -> None:
        with self._output(path, "w") as handle:
            writer = CsvWriter(handle)
            writer.writerow(["bucket_start", "series", "label", "mentions", "counted"])
            counted = COUNTED[self.data.include_retweets] + (", pred + gold" if self.data.include_gold else "")
            for point in self.data.series:
                writer.writerow(
                    [
                        point.bucket.isoformat(),
                        point.key,
                        self.data.names.get(point.key, point.key),
                        point.count,
                        counted,
                    ]
                )
