"""The pipeline's job queue: one row per (post, config_key), claimed atomically by worker processes.

Every function here runs inside a write transaction opened by the Store with BEGIN IMMEDIATE,
so two workers can never claim the same job.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from groundlens.records import Entity, ImageFindings
from groundlens.storage import entities, findings, reposts
from groundlens.storage.db import IDS

STATES = ("pending", "running", "done", "failed")
MAX_ATTEMPTS = 3  # times a post may be in hand when its worker dies before it is failed
STOPPED_ERROR = "the worker stopped while processing this post (%d times)"  # printf format


def enqueue(conn: sqlite3.Connection, config_key: str, post_ids: Iterable[int] | None) -> int:
    """Queue posts that have no job for this config yet; returns how many were queued.

    A retweet that reuses its original's result brings the original into the queue with it, and
    gets the original's result at once when the original is already finished (storage/reposts.py)."""
    scope, params, ids = "", [config_key, time.time()], None
    if post_ids is not None:
        ids = list(post_ids)
        scope = f"WHERE id IN {IDS} OR id IN (SELECT result_of FROM posts WHERE id IN {IDS})"
        params = [*params, json.dumps(ids), json.dumps(ids)]
    queued = conn.execute(
        f"INSERT OR IGNORE INTO jobs (post_id, config_key, state, updated_at)"
        f" SELECT id, ?, 'pending', ? FROM posts {scope}",
        params,
    ).rowcount
    reposts.settle_queued(conn, config_key, ids)
    return queued


def requeue(conn: sqlite3.Connection, config_key: str, post_ids: Sequence[int]) -> int:
    """Run these posts again: their jobs for config_key back to pending (created where missing), whatever
    their state, except those a worker holds now. A retweet that reuses its original's result brings the
    original along, as enqueue does, so the retweet gets the new result. Returns how many jobs were queued."""
    ids = json.dumps(list(post_ids))
    return conn.execute(
        f"""INSERT INTO jobs (post_id, config_key, state, updated_at)
            SELECT id, ?, 'pending', ? FROM posts
            WHERE id IN {IDS} OR id IN (SELECT result_of FROM posts WHERE id IN {IDS})
            ON CONFLICT (post_id, config_key) DO UPDATE
            SET state = 'pending', worker = NULL, error = NULL, attempts = 0, updated_at = excluded.updated_at
            WHERE jobs.state != 'running'""",
        (config_key, time.time(), ids, ids),
    ).rowcount


def claim(conn: sqlite3.Connection, config_key: str, worker: str, n: int) -> list[int]:
    """Up to n pending posts for the pipeline, in queue order. A retweet that reuses its original's result
    is never handed out while the original waits or runs (it gets the result when that is saved), and gets
    it here when the original is already finished; one whose original has no job runs on its own."""
    while True:
        rows = conn.execute(
            """SELECT j.rowid, j.post_id, p.result_of, o.state FROM jobs j JOIN posts p ON p.id = j.post_id
               LEFT JOIN jobs o ON o.post_id = p.result_of AND o.config_key = j.config_key
               WHERE j.config_key = ? AND j.state = 'pending' AND COALESCE(o.state, '') NOT IN ('pending', 'running')
               ORDER BY j.rowid LIMIT ?""",
            (config_key, n),
        ).fetchall()
        finished = [(post_id, original) for _, post_id, original, state in rows if state is not None]
        if not finished:
            break
        reposts.copy_results(conn, config_key, finished)
    conn.executemany(
        "UPDATE jobs SET state = 'running', worker = ?, attempts = attempts + 1, updated_at = ? WHERE rowid = ?",
        [(worker, time.time(), rowid) for rowid, *_ in rows],
    )
    return sorted(post_id for _, post_id, *_ in rows)


def save_results(
    conn: sqlite3.Connection,
    config_key: str,
    results: Sequence[tuple[int, list[Entity], str | None]],
    image_findings: Mapping[int, ImageFindings] | None = None,
) -> int:
    """Replace predictions and finish the jobs of (post_id, entities, error) results; returns posts recorded.

    Results for posts that no longer exist are skipped. A job that was never enqueued is recorded.
    A failed result never replaces predictions the post holds that still fit its text: a re-run that
    fails (its image is now truncated or gone) records the failure and keeps the earlier result.
    Retweets that reuse a saved post's result (storage/reposts.py) get it in the same transaction.
    `image_findings` (post_id -> what its image showed besides the entities) replaces those of the
    posts whose predictions were replaced.
    """
    kept = _fitting_predictions(conn, [post_id for post_id, _, error in results if error])
    saved = entities.replace(conn, {post_id: found for post_id, found, _ in results if post_id not in kept}, "pred")
    known, now = set(saved) | kept, time.time()
    findings.replace(conn, {post_id: seen for post_id, seen in (image_findings or {}).items() if post_id in set(saved)})
    conn.executemany(
        """INSERT INTO jobs (post_id, config_key, state, error, attempts, updated_at) VALUES (?, ?, ?, ?, 1, ?)
           ON CONFLICT (post_id, config_key) DO UPDATE
           SET state = excluded.state, error = excluded.error, updated_at = excluded.updated_at""",
        [
            (post_id, config_key, "failed" if error else "done", error, now)
            for post_id, _, error in results
            if post_id in known
        ],
    )
    reposts.share(conn, config_key, sorted(known))
    return len(known)


def _fitting_predictions(conn: sqlite3.Connection, post_ids: list[int]) -> set[int]:
    """Those posts holding predictions whose every span still reads the same in the post's text
    (a text changed since would leave them pointing at the wrong words)."""
    if not post_ids:
        return set()
    rows = conn.execute(
        f"""SELECT e.post_id FROM entities e JOIN posts p ON p.id = e.post_id
            WHERE e.origin = 'pred' AND e.post_id IN {IDS}
            GROUP BY e.post_id HAVING MIN(substr(p.text, e.start + 1, e."end" - e.start) = e.text) = 1""",
        (json.dumps(post_ids),),
    )
    return {row[0] for row in rows}


def requeue_stale(
    conn: sqlite3.Connection, config_key: str, workers: Iterable[str] | None, older_than: float | None
) -> int:
    """Release running jobs whose worker stopped; returns how many. Each claim counted an attempt, so a
    post that was in hand MAX_ATTEMPTS times when its worker died (a native crash, the OOM killer) is
    failed with a reason instead of crashing every restart; the others go back to pending."""
    where, params = "config_key = ? AND state = 'running'", list[Any]([config_key])
    if workers is not None:
        where, params = f"{where} AND worker IN {IDS}", [*params, json.dumps(list(workers))]
    if older_than is not None:
        where, params = f"{where} AND updated_at < ?", [*params, time.time() - older_than]
    return conn.execute(
        f"""UPDATE jobs SET worker = NULL, updated_at = ?,
                state = CASE WHEN attempts >= {MAX_ATTEMPTS} THEN 'failed' ELSE 'pending' END,
                error = CASE WHEN attempts >= {MAX_ATTEMPTS} THEN printf(?, attempts) ELSE error END
            WHERE {where}""",
        [time.time(), STOPPED_ERROR, *params],
    ).rowcount


def retry_failed(conn: sqlite3.Connection, config_key: str) -> int:
    return conn.execute(
        "UPDATE jobs SET state = 'pending', worker = NULL, error = NULL, updated_at = ?"
        " WHERE config_key = ? AND state = 'failed'",
        (time.time(), config_key),
    ).rowcount


def job_counts(conn: sqlite3.Connection, config_key: str | None) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    scope, params = ("WHERE config_key = ?", (config_key,)) if config_key is not None else ("", ())
    counts.update(conn.execute(f"SELECT state, COUNT(*) FROM jobs {scope} GROUP BY state", params).fetchall())
    return counts


def pending_with_image(conn: sqlite3.Connection, config_key: str) -> int:
    """Pending posts whose first image is downloaded: they cost the image stages (the run's ETA)."""
    return int(
        conn.execute(
            """SELECT COUNT(*) FROM jobs j WHERE j.config_key = ? AND j.state = 'pending' AND EXISTS
           (SELECT 1 FROM media m WHERE m.post_id = j.post_id AND m.position = 0 AND m.status = 'ok')""",
            (config_key,),
        ).fetchone()[0]
    )


@dataclass(frozen=True)
class FailedJob:
    """A post the pipeline failed on under one configuration, with the reason (for the GUI's Jobs list)."""

    post_id: int
    error: str | None
    attempts: int
    updated_at: datetime


def failed_jobs(conn: sqlite3.Connection, config_key: str, limit: int) -> list[FailedJob]:
    rows = conn.execute(
        "SELECT post_id, error, attempts, updated_at FROM jobs WHERE config_key = ? AND state = 'failed'"
        " ORDER BY updated_at DESC, post_id LIMIT ?",
        (config_key, limit),
    ).fetchall()
    return [
        FailedJob(post_id, error, attempts, datetime.fromtimestamp(updated, UTC))
        for post_id, error, attempts, updated in rows
    ]
