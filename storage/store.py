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

from groundlens.records import ENTITY_TYPES, Entity, ImageFindings, Media, Post
from groundlens.storage import (
    aggregates,
    bulk_corrections,
    corrected_view,
    corrections,
    coverage,
    deletion,
    entity_search,
    feed,
    findings,
    job_images,
    jobs,
    post_set,
    posts,
    reposts,
    saved_searches,
    schema,
    tags,
    trends,
)
from groundlens.storage import entities as entity_rows
from groundlens.storage.aggregates import ALL_TYPES
from groundlens.storage.corrections import Correction, Draft
from groundlens.storage.coverage import Coverage
from groundlens.storage.db import connect, introspect, run_transaction
from groundlens.storage.faults import StoreError, damaged, named_faults
from groundlens.storage.post_set import PostSetSummary
from groundlens.storage.posts import UpsertSummary
from groundlens.storage.saved_searches import SavedCount, SavedSearch
from groundlens.storage.selection import PostSelection
from groundlens.storage.summaries import EntityCount, EntityProfile, EntitySummary, PostSummary, SearchPage, SeriesPoint
from groundlens.storage.trends import When

T = TypeVar("T")
BULK_BATCH = 2000  # posts per transaction in bulk actions: other readers get the database between batches


def _check_types(types: Iterable[str] | None) -> None:
    for kind in types or ():
        if kind not in ENTITY_TYPES:
            raise ValueError(f"unknown entity type {kind!r} (use {', '.join(ENTITY_TYPES)})")


_INTEGRITY_CHECKS = (
    ("integrity check", "PRAGMA integrity_check(100)"),
    ("foreign key (table, row, missing parent, key)", "PRAGMA foreign_key_check"),
)


def _fts_checks(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """A check of every full-text index the file holds against its content table (rank 1), the indexes
    found by sqlite-utils, so that one a later schema step adds is checked too."""
    return [
        (f"full-text index {name}", f'INSERT INTO "{name}" ("{name}", rank) VALUES (\'integrity-check\', 1)')
        for name in introspect(conn).table_names(fts5=True)
    ]


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    problems = [line for row in conn.execute("PRAGMA quick_check(3)") for line in row[0].splitlines()]
    if problems != ["ok"]:
        raise damaged(path, "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else ""))


def _refresh_corrected(conn: sqlite3.Connection, post_ids: list[int]) -> None:
    """Rebuild these posts' corrected view and their retweets' copies of it, after their corrections changed."""
    entity_rows.rematerialise(conn, post_ids)
    reposts.refresh_copies(conn, post_ids)


def _recomputing(conn: sqlite3.Connection, correction: Draft | Correction, change: Callable[[], int]) -> int:
    """Make the change to the corrections (returning a correction id) and bring the views it alters in step:
    the post's corrected view and its retweets' copies of it, or the names of every mention a merge or
    split renames (those it touches are found before the change)."""
    if correction.post_id is not None:
        correction_id = change()
        _refresh_corrected(conn, [correction.post_id])
        return correction_id
    named = corrections.alias_scope(conn, correction.target["norm"])
    correction_id = change()
    entity_rows.realias(conn, named)
    return correction_id


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
        """Every problem SQLite's full integrity_check, the foreign keys and every full-text index show
        (reads the whole file: `doctor`, not every open); [] when the database is sound."""

        def work(conn: sqlite3.Connection) -> list[str]:
            found: list[str] = []
            try:
                checks = [*_INTEGRITY_CHECKS, *_fts_checks(conn)]
            except sqlite3.DatabaseError as error:  # the schema itself cannot be read
                checks, found = list(_INTEGRITY_CHECKS), [f"full-text indexes: cannot be listed: {error}"]
            for check, statement in checks:
                try:
                    rows = conn.execute(statement).fetchall()
                except sqlite3.DatabaseError as error:  # a check that cannot even run has found damage too
                    found.append(f"{check}: {error}")
                    continue
                found += [
                    f"{check}: {line}"
                    for row in rows
                    if row != ("ok",)
                    for line in " ".join(map(str, row)).splitlines()
                ]
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
        """OCR lines and unidentified detections of these posts' images (empty for posts without); a person
        the analyst named is no longer among them."""
        return self._read(lambda conn: corrected_view.without_named(conn, findings.read(conn, list(post_ids))))

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

    def summarize_posts(self, ids: list[int], top: int = 20, series: int = 0, located: int = 0) -> PostSetSummary:
        """Top entities, their co-mentions and weekly series over just these posts (storage/post_set.py)."""
        return self._read(lambda conn: post_set.summarize(conn, list(ids), top, series, located))

    def entity_profile(self, norm: str, include_gold: bool = False, include_retweets: bool = False) -> EntityProfile:
        return self._read(lambda conn: trends.entity_profile(conn, norm, include_gold, include_retweets))

    # --- pipeline results and job queue ----------------------------------------------------

    def enqueue(self, config_key: str, post_ids: Iterable[int] | None = None) -> int:
        ids = None if post_ids is None else list(post_ids)
        return self._write(lambda conn: jobs.enqueue(conn, config_key, ids))

    def claim(self, config_key: str, worker: str, n: int) -> list[int]:
        return self._write(lambda conn: jobs.claim(conn, config_key, worker, n))

    def save_result(self, post_id: int, config_key: str, entities: list[Entity], error: str | None) -> None:
        """One transaction: replace the post's predictions and regions, mark its job done (or failed). The
        analyst's corrections still hold: what is shown is the new predictions with them applied."""
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

    # --- corrections (storage/corrections.py) ----------------------------------------------

    def add_correction(self, draft: Draft, author: str | None = None) -> Correction:
        """Store the analyst's correction (author: the OS user) and recompute the views it changes.
        ValueError or KeyError, naming the reason, for one that cannot apply (a span the post's text does
        not hold, an unknown type, a merge into itself)."""

        def work(conn: sqlite3.Connection) -> Correction:
            return corrections.get(conn, _recomputing(conn, draft, lambda: corrections.insert(conn, draft, author)))

        return self._write(work)

    def revert_correction(self, correction_id: int) -> Correction:
        """Take a correction back (undo): the view returns to what it was without it; it stays listed."""
        return self._flip_correction(correction_id, reverted=True)

    def restore_correction(self, correction_id: int) -> Correction:
        """Put a reverted correction back in force (redo), in its original place among the others."""
        return self._flip_correction(correction_id, reverted=False)

    def _flip_correction(self, correction_id: int, reverted: bool) -> Correction:
        def work(conn: sqlite3.Connection) -> Correction:
            found = corrections.get(conn, correction_id)
            _recomputing(conn, found, lambda: corrections.set_reverted(conn, correction_id, reverted).id)
            return corrections.get(conn, correction_id)

        return self._write(work)

    def set_correction_mask(self, correction_id: int, mask_rle: Mapping[str, Any], area: int | None) -> Correction:
        """The segmenter's mask for a drawn or named box (COCO RLE) joins that box in the corrected view."""

        def work(conn: sqlite3.Connection) -> Correction:
            found = corrections.get(conn, correction_id)
            _recomputing(conn, found, lambda: corrections.set_mask(conn, correction_id, mask_rle, area).id)
            return corrections.get(conn, correction_id)

        return self._write(work)

    def corrections(self, post_ids: Iterable[int] | None = None, **filters: Any) -> list[Correction]:
        """Corrections matching every filter given, newest first: post_ids, kinds, author, since, until (exclusive),
        include_reverted (default True), limit; see storage.corrections.select."""
        ids = None if post_ids is None else list(post_ids)
        return self._read(lambda conn: corrections.select(conn, ids, **filters))

    def merge_entities(self, alias_norm: str, into_norm: str, author: str | None = None) -> Correction:
        """Count every mention of `alias_norm` ("Trump") as `into_norm` ("Donald Trump"), in every post."""
        return self.add_correction(corrections.merge(alias_norm, into_norm), author)

    def split_entity(self, alias_norm: str, author: str | None = None) -> Correction:
        """Undo a wrong merge: mentions of `alias_norm` count as their own entity again."""
        return self.add_correction(corrections.split(alias_norm), author)

    def entity_aliases(self, norm: str) -> list[str]:
        """The names merged into this entity (what its page lists and can split off)."""
        return self._read(lambda conn: corrections.merged_into(corrections.aliases(conn), norm))

    def resolve_entity(self, norm: str) -> str:
        """The entity a name counts as after merges (its own norm when not merged)."""
        return self._read(lambda conn: corrections.resolve(corrections.aliases(conn), norm)[0])

    def effective_entities_for_posts(self, post_ids: list[int]) -> dict[int, list[Entity]]:
        """The corrected view of these posts' predictions (what every view shows); `Entity.corrected_by`
        names the corrections that shaped each mention."""
        return self.entities_for_posts(post_ids, "pred")

    def raw_predictions(self, post_ids: list[int]) -> dict[int, list[Entity]]:
        """What the pipeline itself predicted for these posts, before corrections and merges (every id gets a list)."""
        return self._read(lambda conn: entity_rows.raw_predictions(conn, list(post_ids)))

    # --- trend aggregates (storage/aggregates.py) ------------------------------------------

    def verify_aggregates(self) -> list[str]:
        """Where the trend counters and the posts' mention facts disagree with a recount of the mentions
        ([] when they agree): what every write path must keep in step."""
        return self._read(lambda conn: aggregates.verify(conn) + entity_rows.post_fact_problems(conn))

    def rebuild_aggregates(self) -> None:
        """Recount the trend counters and post facts from the mentions (a repair; `verify_aggregates` says
        when it is needed)."""

        def work(conn: sqlite3.Connection) -> None:
            aggregates.rebuild(conn)
            entity_rows.refresh_post_facts(conn, None)

        self._write(work)

    # --- the analyst's organisation: tags, saved searches, bulk actions ---------------------

    def _in_batches(
        self, ids: Iterable[int], batch_size: int, work: Callable[[sqlite3.Connection, list[int]], int]
    ) -> int:
        """`work` over the ids a batch (one transaction each) at a time; returns the sum of its counts."""
        total, iterator = 0, iter(ids)
        while batch := list(islice(iterator, batch_size)):
            total += self._write(lambda conn: work(conn, batch))
        return total

    def selection_ids(self, selection: PostSelection) -> list[int]:
        """The posts a bulk action applies to, in feed order for "all matching" (read now, exclusions left out)."""
        if not selection.all_matching:
            return list(selection.ids)
        return [post_id for post_id in self.post_ids(selection.query) if post_id not in selection.excluded]

    def tag_posts(self, post_ids: Iterable[int], name: str, batch_size: int = BULK_BATCH) -> int:
        """Put tag `name` on these posts; returns how many newly carry it. ValueError for a bad name."""
        name = tags.check_name(name)
        return self._in_batches(post_ids, batch_size, lambda conn, batch: tags.add(conn, batch, name))

    def untag_posts(self, post_ids: Iterable[int], name: str, batch_size: int = BULK_BATCH) -> int:
        return self._in_batches(post_ids, batch_size, lambda conn, batch: tags.remove(conn, batch, name))

    def delete_tag(self, name: str) -> bool:
        return self._write(lambda conn: tags.delete(conn, name))

    def tag_counts(self) -> list[tags.TagCount]:
        return self._read(tags.counts)

    def tags_of_posts(self, post_ids: list[int]) -> dict[int, list[str]]:
        return self._read(lambda conn: tags.of_posts(conn, list(post_ids)))

    def delete_posts(self, post_ids: Iterable[int], batch_size: int = BULK_BATCH) -> int:
        """Delete posts and everything derived from them (storage/deletion.py); returns how many went."""
        return self._in_batches(post_ids, batch_size, deletion.delete_posts)

    def requeue_posts(self, config_key: str, post_ids: Iterable[int], batch_size: int = BULK_BATCH) -> int:
        """Queue exactly these posts (and originals whose result they share) for the pipeline again."""
        return self._in_batches(post_ids, batch_size, lambda conn, batch: jobs.requeue(conn, config_key, batch))

    def correct_mentions(
        self,
        post_ids: Iterable[int],
        name: str,
        confirm: bool,
        author: str | None = None,
        batch_size: int = BULK_BATCH,
    ) -> int:
        """Confirm or reject every predicted mention of entity `name` in these posts, one correction each
        (storage/bulk_corrections.py); returns how many corrections were made."""

        def work(conn: sqlite3.Connection, batch: list[int]) -> int:
            found = bulk_corrections.drafts(conn, batch, name, confirm)
            for draft in found:
                corrections.insert(conn, draft, author)
            _refresh_corrected(conn, sorted({draft.post_id for draft in found if draft.post_id is not None}))
            return len(found)

        return self._in_batches(post_ids, batch_size, work)

    def saved_searches(self) -> list[SavedSearch]:
        return self._read(saved_searches.all_searches)

    def save_search(self, name: str, query: str) -> SavedSearch:
        """A new saved search; ValueError for a bad or taken name, QueryError for a query that cannot run."""
        return self._write(lambda conn: saved_searches.create(conn, name, query))

    def update_saved_search(self, search_id: int, name: str, query: str) -> SavedSearch:
        return self._write(lambda conn: saved_searches.update(conn, search_id, name, query))

    def delete_saved_search(self, search_id: int) -> bool:
        return self._write(lambda conn: saved_searches.delete(conn, search_id))

    def saved_search_counts(self) -> list[SavedCount]:
        """Every saved search with the number of posts it matches now (one read)."""
        return self._read(lambda conn: saved_searches.counts(conn, lambda query: feed.count_matching(conn, query)))
