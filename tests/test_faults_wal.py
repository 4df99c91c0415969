"""The GUI reading while a worker process writes (WAL): no read ever fails with "database is locked",
each read sees one consistent moment, and what it sees only grows."""

from __future__ import annotations

import logging
import multiprocessing
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from groundlens.core.config import AppPaths
from groundlens.records import Entity, Post
from groundlens.storage import Store
from tests.helpers.faults import assert_sound

KEY = "wal-test"
BATCH = 40
WRITE_SECONDS = 2.5
START = datetime(2024, 3, 1, tzinfo=UTC)


def write_for(db_path: Path, seconds: float) -> None:
    """A pipeline worker's writes, as fast as they go: new posts, then their results, one batch at a time."""
    store = Store.open(db_path)
    deadline, n = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        posts = [
            Post(
                source="wal",
                native_id=str(i),
                text=f"Grace Hopper visited Paris ({i})",
                created_at=START + timedelta(hours=i),
            )
            for i in range(n, n + BATCH)
        ]
        store.upsert_posts(posts)
        store.enqueue(KEY, [p.id for p in posts])
        claimed = store.claim(KEY, "writer", BATCH)
        store.save_results(
            KEY,
            [
                (post_id, [Entity(0, 12, "Grace Hopper", "PER"), Entity(21, 26, "Paris", "LOC")], None)
                for post_id in claimed
            ],
        )
        n += BATCH
    store.close()


def start_writer(db_path: Path) -> multiprocessing.process.BaseProcess:
    writer = multiprocessing.get_context("spawn").Process(target=write_for, args=(db_path, WRITE_SECONDS))
    writer.start()
    return writer


def data_folder(tmp_path: Path) -> AppPaths:
    paths = AppPaths(data_dir=tmp_path / "data", models_dir=tmp_path / "models").ensure()
    Store.open(paths.db_path).close()
    return paths


def test_store_reads_never_fail_and_only_grow_while_a_process_writes(tmp_path):
    paths = data_folder(tmp_path)
    store = Store.open(paths.db_path)
    writer = start_writer(paths.db_path)
    seen = [0]
    while writer.is_alive():
        stats = store.stats()  # one read transaction: its numbers must agree with each other
        done = stats["jobs"].get(KEY, {}).get("done", 0)
        assert stats["entities"]["pred"] == ({"PER": done, "LOC": done} if done else {})
        ids = store.post_ids(None)
        store.post_summaries(ids[:100])
        store.search_posts("paris", limit=50)
        store.top_entities()
        store.mention_series(types=["PER", "LOC"], bucket="week")
        counts = [stats["posts"], len(ids), store.count_matching("paris"), store.count_posts()]
        assert counts == sorted(counts) and counts[0] >= seen[-1]  # later reads never see fewer posts
        seen.append(counts[-1])
    writer.join()
    assert writer.exitcode == 0
    final = store.count_posts()
    assert len(set(seen) - {0, final}) >= 2  # the reads really overlapped the writes
    assert store.top_entities()[0].count == final
    store.close()
    assert_sound(paths.db_path)


def test_the_feed_and_status_bar_refresh_while_a_process_writes(qtbot, tmp_path, caplog):
    from groundlens.gui.app import application
    from groundlens.gui.context import open_context
    from groundlens.gui.main_window import MainWindow

    paths = data_folder(tmp_path)
    application()
    win = MainWindow(open_context(paths))
    qtbot.addWidget(win)
    win.show()
    failures: list[Exception] = []
    win.feed.model.query_failed.connect(failures.append)
    caplog.set_level(logging.WARNING, logger="groundlens.gui.workers")  # where a failed background read is logged
    writer = start_writer(paths.db_path)
    rows = []
    while writer.is_alive():
        with qtbot.waitSignal(win.feed.model.reset_done, timeout=10_000) as refreshed:
            win.jobs.results_changed.emit()  # what the Jobs page sends as pipeline results come in
        rows.append(refreshed.args[0])
        qtbot.wait(20)  # let the visible rows and the status bar load
    writer.join()
    with qtbot.waitSignal(win.feed.model.reset_done, timeout=10_000) as refreshed:
        win.jobs.results_changed.emit()
    rows.append(refreshed.args[0])
    win.ctx.db.wait(10_000)
    assert failures == [] and [r.message for r in caplog.records] == []
    assert rows == sorted(rows) and len(set(rows)) > 2  # it kept up, and saw the feed grow
    with Store.open(paths.db_path) as store:
        assert rows[-1] == win.feed.model.rowCount() == store.count_posts()
    qtbot.waitUntil(lambda: win.counts_label.text().startswith(f"{rows[-1]:,} posts"), timeout=5000)
    win.close()
    assert_sound(paths.db_path)
