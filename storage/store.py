"""Store: the one entry point to the SQLite database (see docs/ARCHITECTURE.md for the contract).

Each public method is one transaction on the Store's own connection, guarded by a lock so a
Store can be shared between threads; other processes open their own Store on the same file.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from groundlens.storage import coverage, entity_search, feed, findings, job_images, jobs, posts, schema, trends
from groundlens.storage import entities as entity_rows
from groundlens.storage.aggregates import ALL_TYPES
from groundlens.storage.coverage import Coverage
from groundlens.storage.db import connect, run_transaction
from groundlens.storage.faults import StoreError, damaged, named_faults
from groundlens.storage.posts import UpsertSummary
from groundlens.records import ENTITY_TYPES, Entity, ImageFindings, Media, Post
from groundlens.storage.summaries import EntityCount, EntityProfile, EntitySummary, PostSummary, SearchPage, SeriesPoint
from groundlens.storage.trends import When

T = TypeVar("T")


def _check_types(types: Iterable[str] | None) -> None:
    for kind in types or ():
        if kind not in ENTITY_TYPES:
            raise ValueError(f"unknown entity type {kind!r} (use {', '.join(ENTITY_TYPES)})")


_INTEGRITY_CHECKS = (
    ("integrity check", "PRAGMA integrity_check(100)"),
    ("foreign key (table, row, missing parent, key)", "PRAGMA foreign_key_check"),
    ("full-text index posts_fts", "INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)"),
    ("full-text index entity_names_fts",
     "INSERT INTO entity_names_fts (entity_names_fts, rank) VALUES ('integrity-check', 1)"),
)


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    problems = [line for row in conn.execute("PRAGMA quick_check(3)") for line in row[0].splitlines()]
    if problems != ["ok"]:
        raise damaged(path, "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else ""))


class Store:
    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: str | Path, check: bool = False) -> Store:
        """Open (creating or migrating) the database at `path`; StoreError when it cannot be used.

        `check`, for commands about to write (or read everything), also runs SQLite's quick_check
        (0.7 s per 200k posts) so that a damaged file is refused instead of written into or half read.
        """
        path = Path(path)
        if path.exists() and not path.is_file():
            kind = "a folder" if path.is_dir() else "a device, pipe or socket"
            raise StoreError(f"{path} is {kind}, not a database file: move it away or choose another data folder.")
        with named_faults(path):
            conn = connect(path)
            try:
                if check:
                    _quick_check(conn, path)
                schema.migrate(conn)
            except BaseException:
                conn.close()
                raise
        return cls(path, conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock, named_faults(self.path):
            return run_transaction(self._conn, work, write=True)

    def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock, named_faults(self.path):
            return run_transaction(self._conn, work, write=False)

    def integrity_problems(self) -> list[str]:
        """Every problem SQLite's full integrity_check, the foreign keys and both full-text indexes show
        (reads the whole file: `doctor`, not every open); [] when the database is sound."""

        def work(conn: sqlite3.Connection) -> list[str]:
            found: list[str] = []
            for check, statement in _INTEGRITY_CHECKS:
                try:
                    rows = conn.execute(statement).fetchall()
                except sqlite3.DatabaseError as error:  # a check that cannot even run has found damage too
                    found.append(f"{check}: {error}")
                    continue
                found += [f"{check}: {line}" for row in rows if row != ("ok",)
                          for line in " ".join(map(str, row)).splitlines()]
            return found

        with self._lock, named_faults(self.path):  # rolled back, never committed: a check writes nothing
            self._conn.execute("BEGIN")
            try:
                return work(self._conn)
            finally:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")

    # --- posts (ingest side) ---------------------------------------------------------------

    def upsert_posts(self, items: Iterable[Post], batch_size: int = 1000) -> UpsertSummary:
        """Insert or update by (source, native_id), one transaction per batch; sets post.id and media.id."""
        total, iterator = UpsertSummary(), iter(items)
        while batch := list(islice(iterator, batch_size)):
            total += self._write(lambda conn: posts.upsert_batch(conn, batch))
        return total

    def update_media(self, media: Media) -> None:
        self._write(lambda conn: posts.update_media(conn, media))

    def update_media_many(self, items: Iterable[Media], batch_size: int = 1000) -> None:
        """update_media for many images, one transaction per batch."""
        iterator = iter(items)
        while batch := list(islice(iterator, batch_size)):

            def work(conn: sqlite3.Connection, batch: list[Media] = batch) -> None:
                for media in batch:
                    posts.update_media(conn, media)

            self._write(work)

    def media_to_fetch(self, limit: int | None = None, retry_failed: bool = False) -> list[tuple[int, Media]]:
        return self._read(lambda conn: posts.media_to_fetch(conn, limit, retry_failed))

    def unusable_media(self, limit: int | None = None) -> list[tuple[int, Media]]:
        """(post id, media) whose image failed to download or whose file is missing, with the reason in
        `media.error`: what the Jobs page lists, current after every retry."""
        return self._read(lambda conn: posts.media_in_states(conn, ("failed", "missing"), limit))

    def media_with_status(self, status: str) -> list[tuple[int, Media]]:
        """(post_id, media) of every image in this state ('ok': to check that their files are still there)."""
        return self._read(lambda conn: posts.media_in_states(conn, (status,), None))

    def add_gold_entities(self, post_id: int, items: list[Entity]) -> None:
        """Replace the post's gold mentions (gold never mixes with predictions)."""
        if not self._write(lambda conn: entity_rows.replace(conn, {post_id: items}, "gold")):
            raise KeyError(f"no post with id {post_id}")

    # --- reading ---------------------------------------------------------------------------

    def get_post(self, post_id: int) -> Post | None:
        return self.get_posts([post_id]).get(post_id)

    def post_by_native_id(self, source: str, native_id: str) -> Post | None:
        """The stored post a retweet, quote or reply links to (links are native ids of the same source)."""
        found = self._read(
            lambda conn: conn.execute(
                "SELECT id FROM posts WHERE source = ? AND native_id = ?", (source, native_id)
            ).fetchone()
        )
        return None if found is None else self.get_post(found[0])

    def get_posts(self, post_ids: list[int]) -> dict[int, Post]:
        """Many posts with their media in one read (export, bulk views); missing ids are absent."""
        return self._read(lambda conn: posts.get_posts(conn, list(post_ids)))

    def entities_for_post(self, post_id: int, origin: str = "pred") -> list[Entity]:
        return self.entities_for_posts([post_id], origin)[post_id]

    def entities_for_posts(self, post_ids: list[int], origin: str | None = "pred") -> dict[int, list[Entity]]:
        """Mentions with regions for many posts at once (origin None: both); every id gets a list."""
        return self._read(lambda conn: entity_rows.read(conn, list(post_ids), origin))

    def image_findings(self, post_ids: list[int]) -> dict[int, ImageFindings]:
        """OCR lines and unidentified detections of these posts' images (empty for posts without)."""
        return self._read(lambda conn: findings.read(conn, list(post_ids)))

    def count_posts(self) -> int:
        return self._read(lambda conn: int(conn.execute("SELECT COUNT(*) FROM posts").fetchone()[0]))

    def stats(self) -> dict[str, Any]:
        """Counts for the status bar and `stats` command."""

        def work(conn: sqlite3.Connection) -> dict[str, Any]:
            mentions: dict[str, dict[str, int]] = {"pred": {}, "gold": {}}
            for origin, kind, count in conn.execute(
                f"SELECT origin, type, SUM(mentions) FROM entity_totals WHERE type != '{ALL_TYPES}' GROUP BY 1, 2"
            ):
                mentions[origin][kind] = count
            queue: dict[str, dict[str, int]] = {}
            for key, state, count in conn.execute("SELECT config_key, state, COUNT(*) FROM jobs GROUP BY 1, 2"):
                queue.setdefault(key, dict.fromkeys(jobs.STATES, 0))[state] = count
            page_size, pages = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_size", "page_count"))
            return {
                "posts": conn.execute("SELECT COUNT(*) FROM posts").fetchone()[0],
                "media": dict(conn.execute("SELECT status, COUNT(*) FROM media GROUP BY status").fetchall()),
                "entities": mentions,
                "distinct_entities": conn.execute("SELECT COUNT(*) FROM entity_names").fetchone()[0],
                "jobs": queue,
                "database_bytes": page_size * pages,
                "schema_version": schema.user_version(conn),
            }

        return self._read(work)

    def post_ids(self, query: str | None = None, order: str = "created_desc") -> list[int]:
        """Every matching post id in feed order (None or blank: all posts); QueryError if malformed."""
        return self._read(lambda conn: feed.post_ids(conn, query, order))

    def post_summaries(self, ids: list[int]) -> list[PostSummary]:
        return self._read(lambda conn: feed.post_summaries(conn, list(ids)))

    def count_matching(self, query: str | None) -> int:
        return self._read(lambda conn: feed.count_matching(conn, query))

    # --- search ----------------------------------------------------------------------------

    def search_posts(
        self, query: str, limit: int = 50, offset: int = 0, order: str = "created_desc"
    ) -> SearchPage[PostSummary]:
        return self._read(lambda conn: feed.search_posts(conn, query, limit, offset, order))

    def search_entities(self, query: str, limit: int = 50, offset: int = 0) -> SearchPage[EntitySummary]:
        return self._read(lambda conn: entity_search.search_entities(conn, query, limit, offset))

    # --- trends ----------------------------------------------------------------------------

    def mention_series(
        self,
        norms: list[str] | None = None,
        types: list[str] | None = None,
        bucket: str = "day",
        start: When = None,
        end: When = None,
        include_gold: bool = False,
        include_retweets: bool = False,
    ) -> list[SeriesPoint]:
        _check_types(types)
        return self._read(
            lambda conn: trends.mention_series(conn, norms, types, bucket, start, end, include_gold, include_retweets)
        )

    def top_entities(
        self,
        start: When = None,
        end: When = None,
        type: str | None = None,
        limit: int = 20,
        include_gold: bool = False,
        include_retweets: bool = False,
    ) -> list[EntityCount]:
        _check_types([type] if type else None)
        return self._read(
            lambda conn: trends.top_entities(conn, start, end, type, limit, include_gold, include_retweets)
        )

    def coverage(self, start: When = None, end: When = None) -> Coverage:
        """Posts in the range, how many are processed, how many have no date, the latest date (storage/coverage.py)."""
        return self._read(lambda conn: coverage.coverage(conn, start, end))

    def cooccurring(
        self,
        norm: str,
        limit: int = 20,
        start: When = None,
        end: When = None,
        include_gold: bool = False,
        include_retweets: bool = False,
    ) -> list[EntityCount]:
        return self._read(
            lambda conn: trends.cooccurring(conn, norm, limit, start, end, include_gold, include_retweets)
        )

    def entity_profile(self, norm: str, include_gold: bool = False, include_retweets: bool = False) -> EntityProfile:
        return self._read(lambda conn: trends.entity_profile(conn, norm, include_gold, include_retweets))

    # --- pipeline results and job queue ----------------------------------------------------

    def enqueue(self, config_key: str, post_ids: Iterable[int] | None = None) -> int:
        ids = None if post_ids is None else list(post_ids)
        return self._write(lambda conn: jobs.enqueue(conn, config_key, ids))

    def claim(self, config_key: str, worker: str, n: int) -> list[int]:
        return self._write(lambda conn: jobs.claim(conn, config_key, worker, n))

    def save_result(self, post_id: int, config_key: str, entities: list[Entity], error: str | None) -> None:
        """One transaction: replace the post's predictions and regions, mark its job done (or failed)."""
        if not self.save_results(config_key, [(post_id, entities, error)]):
            raise KeyError(f"no post with id {post_id}")

    def save_results(
        self,
        config_key: str,
        results: list[tuple[int, list[Entity], str | None]],
        image_findings: dict[int, ImageFindings] | None = None,
        images: Mapping[int, str | None] | None = None,
    ) -> int:
        """save_result for a batch in one transaction; posts that vanished are skipped. `image_findings`
        replaces what those posts' images showed besides their entities (OCR text, people not identified).
        `images`: post id -> sha256 of the image its result used (None: text only), see requeue_image_changes;
        without it, each result is taken to match its post's current image."""

        def work(conn: sqlite3.Connection) -> int:
            saved = jobs.save_results(conn, config_key, results, image_findings)
            if images is None:
                job_images.record_current(conn, config_key, [post_id for post_id, _, _ in results])
            else:
                job_images.record(conn, config_key, images)
            return saved

        return self._write(work)

    def requeue_image_changes(self, config_key: str) -> int:
        """Finished posts whose first image is not the one their result used (arrived, changed, went) -> pending."""
        return self._write(lambda conn: job_images.requeue_changed(conn, config_key))

    def requeue_stale(
        self, config_key: str, workers: Iterable[str] | None = None, older_than: float | None = None
    ) -> int:
        """Running jobs back to pending: all of them, or only those of `workers` / not updated for `older_than` s."""
        names = None if workers is None else list(workers)
        return self._write(lambda conn: jobs.requeue_stale(conn, config_key, names, older_than))

    def job_counts(self, config_key: str | None = None) -> dict[str, int]:
        return self._read(lambda conn: jobs.job_counts(conn, config_key))

    def pending_with_image(self, config_key: str) -> int:
        return self._read(lambda conn: jobs.pending_with_image(conn, config_key))

    def retry_failed(self, config_key: str) -> int:
        return self._write(lambda conn: jobs.retry_failed(conn, config_key))

    def failed_jobs(self, config_key: str, limit: int = 200) -> list[jobs.FailedJob]:
        """The most recent failures under this configuration, with their error messages."""
        return self._read(lambda conn: jobs.failed_jobs(conn, config_key, limit))
