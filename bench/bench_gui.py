"""GUI benchmark: the feed's first painted rows on a large database, main-thread stalls while it
scrolls, while typing in the search bar, during bulk actions on every post (select all matching,
tag them, recount the saved searches, delete them) and while the pipeline runs in its worker process,
and the mask overlay time.

    python -m bench.bench_gui [--db DATA/groundlens.db | --posts 100000] [--pipeline-seconds 90]
                              [--skip-pipeline] [--skip-bulk] [--bulk-posts 100000] [--json out.json]

--db opens an existing data folder's database (bench_store's, so 1M posts are not built twice)
as the app would; it only reads it (the app's own start-up may create the folder's images/ and
apply pending migrations). Without it a store of --posts posts is built in a temporary folder.

The bulk actions write (a tag, saved searches, then deleting every post), so they run on a store of
their own: the one built here, or with --db a new one of --bulk-posts posts.

Targets: the feed's first rows painted < 1 s after the window starts opening; the longest
main-thread stall (a QTimer heartbeat's lateness) < 50 ms while the feed scrolls, while typing a
query, during each bulk action and while the pipeline runs; a 2048x2048 mask turned into its coloured overlay < 30 ms.
Runs offscreen unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QPoint, QTimer
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from rich.console import Console
from rich.table import Table

from bench.corpus import CorpusGenerator
from bench.results import write_json
from groundlens.core import masks
from groundlens.core.config import AppPaths, resolve_paths
from groundlens.core.demo import prepare_demo
from groundlens.gui.app import application
from groundlens.gui.context import open_context
from groundlens.gui.main_window import MainWindow
from groundlens.gui.mask_image import cropped_mask_image, mask_to_qimage
from groundlens.gui.models.feed_model import PAGE_SIZE
from groundlens.gui.views.feed import FeedView
from groundlens.gui.widgets.image_canvas import ImageCanvas, Overlay
from groundlens.gui.widgets.query_bar import DEBOUNCE_MS
from groundlens.storage import Store

HEARTBEAT_MS = 5
MASK_SIDE = 2048
console = Console()


class Heartbeat:
    """A fast QTimer; any lateness beyond its interval is time the main thread was busy."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(HEARTBEAT_MS)
        self._timer.timeout.connect(self._beat)

    def _beat(self) -> None:
        self.gaps.append(max(0.0, self._clock.nsecsElapsed() / 1e6 - HEARTBEAT_MS))
        self._clock.restart()

    def __enter__(self) -> Heartbeat:
        self._clock.start()
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.stop()

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.gaps) or [0.0]
        return {
            "stall_max_ms": ordered[-1],
            "stall_p99_ms": ordered[int(0.99 * (len(ordered) - 1))],
            "heartbeats": len(self.gaps),
        }


def pump(app: QApplication, seconds: float, until: Callable[[], bool] | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (until and until()):
        app.processEvents()
        time.sleep(0.001)


def median_ms(fn: Callable[[], object], repeat: int = 15) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_idle(app: QApplication, seconds: float = 5.0) -> dict[str, float]:
    """The same heartbeat with nothing to do: what the machine alone (other processes) costs, so the
    stalls below can be read against it on a shared or loaded machine."""
    with Heartbeat() as beat:
        pump(app, seconds)
    return beat.summary()


def bench_masks(app: QApplication) -> dict[str, float]:
    yy, xx = np.mgrid[0:MASK_SIDE, 0:MASK_SIDE]
    mask = ((xx - 1000) / 700.0) ** 2 + ((yy - 1100) / 800.0) ** 2 <= 1
    mask |= (xx // 64 + yy // 64) % 7 == 0  # ragged edges, so the RLE is not trivially short
    rle = masks.encode(mask)
    color = QColor("#0072B2")
    canvas = ImageCanvas()
    canvas.resize(1200, 900)
    canvas.show()
    photo = QImage(MASK_SIDE, MASK_SIDE, QImage.Format.Format_RGB32)
    photo.fill(QColor("#777777"))
    canvas.set_image(photo)
    image, offset = cropped_mask_image(mask, color)
    overlay = Overlay("p0", "Entity", "PER", (200.0, 200.0, 1800.0, 1900.0), image, offset)

    def draw() -> None:
        canvas.set_overlays([overlay])
        canvas.viewport().grab()  # renders the view: image, mask, box and label

    return {
        "rle_decode_ms": median_ms(lambda: masks.decode(rle)),  # pycocotools
        "full_argb_qimage_ms": median_ms(lambda: mask_to_qimage(mask, color)),  # numpy, the whole 2048²
        "cropped_overlay_ms": median_ms(lambda: cropped_mask_image(mask, color)),  # bounds + numpy
        "canvas_render_ms": median_ms(draw),  # overlay into the canvas and a full render
    }


def build_feed_store(paths: AppPaths, n: int) -> float:
    generator = CorpusGenerator(seed=1)
    start = time.perf_counter()
    with Store.open(paths.db_path) as store:
        batch: list = []
        for synthetic in generator.posts(n):
            batch.append(synthetic)
            if len(batch) == 5000:
                _save(store, batch)
                batch = []
        if batch:
            _save(store, batch)
    return time.perf_counter() - start


def _save(store: Store, batch: list) -> None:
    posts = [s.post() for s in batch]
    store.upsert_posts(posts)
    store.save_results("bench", [(p.id, s.predictions(), None) for p, s in zip(posts, batch)])


class FirstRowsPainted(QObject):
    """Notes the feed viewport's first paint event once the rows at its top have their contents (not the
    "Loading…" placeholder). The filter sees the event just before it is painted; the paint itself is done by
    the time the event loop returns, which is when `wait_ms` reads the clock."""

    def __init__(self, feed: FeedView) -> None:
        super().__init__(feed)
        self.done = False
        self._feed = feed
        feed.list.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if not self.done and event.type() == QEvent.Type.Paint:
            top = self._feed.list.indexAt(QPoint(1, 1)).row()
            self.done = top >= 0 and top // PAGE_SIZE in self._feed.model.loaded_pages()
        return False


def wait_ms(app: QApplication, since: float, until: Callable[[], bool], timeout: float = 120.0) -> float | None:
    """Milliseconds from `since` until `until()` holds, checked after each round of events (None: timed out)."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            return None
        app.processEvents()
        time.sleep(0.001)
    return (time.perf_counter() - since) * 1000


def bench_feed(app: QApplication, paths: AppPaths, n: int) -> tuple[MainWindow, dict[str, object]]:
    """Open the main window on `paths` as the app does, time its first painted rows, then scroll it."""
    start = time.perf_counter()
    window = MainWindow(open_context(paths))
    # both hooked before any event is handled: the ids arrive, and the window paints, only from the event loop
    painted = FirstRowsPainted(window.feed)
    ids_loaded: list[float] = []
    window.feed.model.reset_done.connect(lambda _count: ids_loaded.append((time.perf_counter() - start) * 1000))
    window.resize(1400, 900)
    window.show()
    shown_ms = (time.perf_counter() - start) * 1000
    first_paint_ms = wait_ms(app, start, lambda: painted.done)
    wait_ms(app, start, lambda: window.feed.model.rowCount() == n)
    pump(app, 1.0)
    bar = window.feed.list.verticalScrollBar()
    rng = random.Random(0)
    with Heartbeat() as beat:
        for _ in range(150):  # jumps anywhere (scrollbar drags)
            bar.setValue(rng.randrange(bar.maximum() + 1))
            pump(app, 0.02)
        for _ in range(300):  # wheel-like steady scrolling
            bar.setValue(bar.value() + 3 * bar.singleStep())
            pump(app, 0.01)
        for _ in range(40):  # J/K through posts: inspector loads each one
            window.feed.step(1)
            pump(app, 0.05)
    return window, {
        "posts": n,
        "window_shown_ms": shown_ms,
        "first_paint_ms": first_paint_ms,
        "ids_loaded_ms": ids_loaded[0] if ids_loaded else None,
        "scroll": beat.summary(),
    }


def typing_queries(db_path: Path, count: int = 6) -> list[str]:
    """Single-word names of the most mentioned entities: what an analyst would type."""
    with Store.open(db_path) as store:
        names = [e.name for e in store.top_entities(limit=60)]
    return [name for name in names if name.isalpha()][:count]


def bench_typing(app: QApplication, window: MainWindow, queries: list[str]) -> dict[str, object]:
    """Type each query into the search bar as a user would; time from the debounced submit (and from the last
    keystroke) until the feed holds the matching rows, with the heartbeat running throughout."""
    submitted: list[float] = []
    answered: list[float] = []
    window.query_bar.submitted.connect(lambda _text: submitted.append(time.perf_counter()))
    window.feed.model.reset_done.connect(lambda _n: answered.append(time.perf_counter()))
    window.feed.model.query_failed.connect(lambda _error: answered.append(time.perf_counter()))
    edit = window.query_bar.edit
    query_ms, typed_ms = [], []
    with Heartbeat() as beat:
        for query in queries:
            edit.setFocus()
            edit.selectAll()
            waiting_for = len(answered) + 1
            QTest.keyClicks(edit, query)
            typed_at = time.perf_counter()
            if wait_ms(app, typed_at, lambda: len(answered) >= waiting_for, timeout=30) is None:  # noqa: B023 - called within this iteration
                continue
            query_ms.append((answered[-1] - submitted[-1]) * 1000)
            typed_ms.append((answered[-1] - typed_at) * 1000)
            pump(app, 0.3)
    if not query_ms:
        return {"queries": 0}
    return {
        "queries": len(query_ms),
        "debounce_ms": DEBOUNCE_MS,
        "query_to_rows_median_ms": statistics.median(query_ms),
        "query_to_rows_max_ms": max(query_ms),
        "typed_to_rows_median_ms": statistics.median(typed_ms),
        **beat.summary(),
    }


BULK_TAG = "bench-bulk"
SAVED_SEARCHES = {
    "bench tagged": f"tag:{BULK_TAG}",
    "bench people": "type:PER",
    "bench images": "has:image -is:retweet",
}


def _timed_action(
    app: QApplication, start: Callable[[], None], done: Callable[[], bool], settle_s: float = 1.0
) -> dict[str, object]:
    """Run `start`, pump until `done()` and `settle_s` more (the refreshes an action triggers), under the heartbeat."""
    with Heartbeat() as beat:
        began = time.perf_counter()
        start()
        took = wait_ms(app, began, done, timeout=600)
        pump(app, settle_s)
    return {"action_ms": took, **beat.summary()}


def open_window(app: QApplication, paths: AppPaths, n: int) -> MainWindow:
    window = MainWindow(open_context(paths))
    window.resize(1400, 900)
    window.show()
    wait_ms(app, time.perf_counter(), lambda: window.feed.model.rowCount() == n)
    return window


def bench_bulk(app: QApplication, window: MainWindow, n: int) -> dict[str, object]:
    """Bulk actions on all n posts through the feed's own buttons: select all matching, tag every post,
    recount the saved searches, delete every post. Each store write runs on the database thread."""
    feed, bar, panel = window.feed, window.feed.bulk, window.saved_searches
    window.query_bar.set_text("")
    wait_ms(app, time.perf_counter(), lambda: feed.model.rowCount() == n and feed.model.query is None)
    pump(app, 1.0)
    outcomes: list[str] = []
    bar.finished.connect(outcomes.append)
    report: dict[str, object] = {"posts": n}
    report["select_all_matching"] = _timed_action(
        app, feed.select_all_button.click, lambda: bar.count_label.text().startswith("all "), settle_s=0.5
    )
    bar.tag_name.setEditText(BULK_TAG)
    report["bulk_tag"] = _timed_action(app, bar.tag_button.click, lambda: len(outcomes) == 1)
    report["bulk_tag"]["outcome"] = outcomes[-1]
    with Store.open(window.ctx.paths.db_path) as store:
        for name, query in SAVED_SEARCHES.items():
            store.save_search(name, query)
    report["saved_search_refresh"] = _timed_action(
        app, panel.refresh, lambda: panel.list.count() == len(SAVED_SEARCHES), settle_s=0.5
    )
    report["saved_search_refresh"]["counts"] = ", ".join(panel.counts().values())
    feed.select_all_button.click()
    pump(app, 0.2)
    report["bulk_delete"] = _timed_action(app, bar.delete, lambda: len(outcomes) == 2)
    report["bulk_delete"]["outcome"] = outcomes[-1]
    return report


def bench_pipeline(app: QApplication, scratch: Path, seconds: float) -> dict[str, object]:
    setup = prepare_demo(resolve_paths(scratch / "pipeline"))
    window = MainWindow(open_context(setup.paths))
    window.resize(1400, 900)
    window.show()
    pump(app, 1.0)
    jobs = window.jobs
    start = time.monotonic()
    with Heartbeat() as beat:
        jobs.start_pipeline()
        while jobs.pipeline_running and time.monotonic() - start < seconds:
            window.feed.step(1 if random.random() < 0.7 else -1)
            pump(app, 0.5)
    status = jobs.pipeline_status.text()
    if jobs.pipeline_running:
        jobs.cancel_pipeline()
        jobs.wait_pipeline(60)
    window.close()
    return {"run_s": time.monotonic() - start, "final_status": status, **beat.summary()}


def show(title: str, figures: Mapping[str, object], targets: dict[str, str] | None = None) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target")
    nested = {name: value for name, value in figures.items() if isinstance(value, dict)}
    for name, value in figures.items():
        if name not in nested:
            text = f"{value:,.1f}" if isinstance(value, float) else str(value)
            table.add_row(name, text, (targets or {}).get(name, ""))
    console.print(table)
    for name, value in nested.items():
        show(f"{title}: {name}", value, targets)


def feed_paths(args: argparse.Namespace, scratch: Path) -> tuple[AppPaths, int, float | None]:
    """The data folder to open, its post count, and the seconds spent building it (None: it existed)."""
    if args.db is not None:
        paths = resolve_paths(args.db.parent)
        if paths.db_path != args.db.resolve() or not args.db.exists():
            raise SystemExit(f"--db must be an existing data folder's {paths.db_path.name}, not {args.db}")
        with Store.open(paths.db_path) as store:
            return paths, store.count_posts(), None
    paths = resolve_paths(scratch / "feed").ensure()
    console.print(f"building a store with {args.posts:,} posts …")
    return paths, args.posts, build_feed_store(paths, args.posts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=None, help="an existing data folder's groundlens.db to open")
    parser.add_argument("--posts", type=int, default=100_000, help="posts to build a store of (without --db)")
    parser.add_argument("--pipeline-seconds", type=float, default=90.0)
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--skip-bulk", action="store_true", help="no bulk actions")
    parser.add_argument("--bulk-posts", type=int, default=100_000, help="posts of the bulk actions' store (with --db)")
    parser.add_argument("--json", dest="json_path", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    app = application()
    idle = bench_idle(app)
    show("Idle baseline (this app doing nothing)", idle)
    overlay = bench_masks(app)
    show(
        "Mask overlay, 2048x2048 (median ms)",
        overlay,
        {"full_argb_qimage_ms": "< 30 ms", "cropped_overlay_ms": "< 30 ms"},
    )
    with tempfile.TemporaryDirectory(prefix="gl-bench-gui-") as scratch:
        paths, posts, build_s = feed_paths(args, Path(scratch))
        window, feed = bench_feed(app, paths, posts)
        if build_s is not None:
            feed["store_build_s"] = build_s
        show(f"Feed with {posts:,} posts", feed, {"first_paint_ms": "< 1000 ms", "stall_max_ms": "< 50 ms"})
        typing = bench_typing(app, window, typing_queries(paths.db_path))
        show("Search as you type (feed rows for the typed query)", typing, {"stall_max_ms": "< 50 ms"})
        report = {"idle": idle, "mask_overlay_ms": overlay, "feed": feed, "search_as_you_type": typing}
        if not args.skip_bulk:
            bulk_posts = posts
            if build_s is None:  # they write: never into the --db given, but into a store of their own
                window.close()
                bulk_posts = args.bulk_posts
                console.print(f"building a store with {bulk_posts:,} posts for the bulk actions …")
                bulk_paths = resolve_paths(Path(scratch) / "bulk").ensure()
                build_feed_store(bulk_paths, bulk_posts)
                window = open_window(app, bulk_paths, bulk_posts)
            report["bulk_actions"] = bulk = bench_bulk(app, window, bulk_posts)
            show(f"Bulk actions on all {bulk_posts:,} posts (main thread)", bulk, {"stall_max_ms": "< 50 ms"})
        window.close()
        if not args.skip_pipeline:
            report["pipeline_running"] = running = bench_pipeline(app, Path(scratch), args.pipeline_seconds)
            show("While the pipeline runs (demo data, real JobRunner)", running, {"stall_max_ms": "< 50 ms"})
    write_json(args.json_path, "bench_gui", report)


if __name__ == "__main__":
    main()
