"""Retweets that reuse their original's pipeline result, so a retweet wave costs one pipeline run.

A retweet whose original is stored with the same text and the same images (URLs or paths, in
order) names that original in `posts.result_of`. Its jobs never run the pipeline: the original's
result (mentions, regions, the job's state and error) is copied onto it, re-mapped to its own
media rows, whenever the original's result is saved, when such a retweet is queued after its
original was done, and when a claim meets one whose original is already finished. A copy is what
the pipeline would have produced (same input, same output), so the sharing is exact; a retweet
whose text or images differ from its original's (the original edited, a payload without the
original's full text) has no result_of and runs on its own.

An original is never itself a retweet, so result_of never chains.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from collections.abc import Iterable

from groundlens.records import Entity
from groundlens.storage import entities, findings
from groundlens.storage.db import IDS


def _images(post: str) -> str:
    """SQL: the post's images in order, as one comparable JSON text."""
    return (
        "(SELECT json_group_array(COALESCE(url, local_path)) FROM"
        f" (SELECT url, local_path FROM media WHERE post_id = {post} ORDER BY position))"
    )


_ORIGINAL_WITH_SAME_CONTENT = f"""(SELECT o.id FROM posts o
    WHERE o.source = posts.source AND o.native_id = posts.retweet_of AND o.retweet_of IS NULL
    AND o.text = posts.text AND {_images("o.id")} = {_images("posts.id")})"""


def relink(conn: sqlite3.Connection, post_ids: list[int]) -> None:
    """Recompute result_of for these posts (just written) and for the stored retweets of them."""
    if not post_ids:
        return
    key = json.dumps(post_ids)
    conn.execute(
        f"""UPDATE posts SET result_of = {_ORIGINAL_WITH_SAME_CONTENT}
            WHERE (retweet_of IS NOT NULL OR result_of IS NOT NULL) AND (id IN {IDS} OR id IN (
                SELECT r.id FROM posts o JOIN posts r ON r.source = o.source AND r.retweet_of = o.native_id
                WHERE o.id IN {IDS} AND r.retweet_of IS NOT NULL))""",
        (key, key),
    )


def _copies(found: list[Entity], media_map: dict[int, int]) -> list[Entity]:
    """Fresh records of an original's mentions, their regions moved onto the retweet's own media rows."""
    return [
        dataclasses.replace(
            entity,
            id=None,
            post_id=None,
            regions=[
                dataclasses.replace(
                    region, media_id=None if region.media_id is None else media_map.get(region.media_id)
                )
                for region in entity.regions
            ],
        )
        for entity in found
    ]


def _media_map(conn: sqlite3.Connection, original: int, retweet: int) -> dict[int, int]:
    rows = conn.execute(
        "SELECT o.id, r.id FROM media o JOIN media r ON r.position = o.position WHERE o.post_id = ? AND r.post_id = ?",
        (original, retweet),
    )
    return dict(rows.fetchall())


def copy_results(conn: sqlite3.Connection, config_key: str, pairs: Iterable[tuple[int, int]]) -> int:
    """Give each (retweet, original) the original's result and job outcome under config_key; returns how many."""
    by_original: dict[int, list[int]] = {}
    for retweet, original in pairs:
        by_original.setdefault(original, []).append(retweet)
    if not by_original:
        return 0
    found = entities.read(conn, list(by_original), "pred", before_merges=True)  # the merges hold for copies too
    seen = findings.read(conn, list(by_original))
    outcome = dict(
        (post_id, (state, error))
        for post_id, state, error in conn.execute(
            f"SELECT post_id, state, error FROM jobs WHERE config_key = ? AND post_id IN {IDS}",
            (config_key, json.dumps(list(by_original))),
        )
    )
    copied, copied_findings, rows = {}, {}, []
    for original, retweets in by_original.items():
        state, error = outcome[original]
        for retweet in retweets:
            media = _media_map(conn, original, retweet)
            copied[retweet] = _copies(found[original], media)
            copied_findings[retweet] = findings.moved(seen[original], media)
            rows.append((state, error, time.time(), retweet, config_key))
    entities.replace(conn, copied, "pred")
    findings.replace(conn, copied_findings)
    conn.executemany(
        "UPDATE jobs SET state = ?, error = ?, worker = NULL, updated_at = ? WHERE post_id = ? AND config_key = ?", rows
    )
    return len(rows)


def share(conn: sqlite3.Connection, config_key: str, original_ids: list[int]) -> int:
    """Copy the just-saved results of these originals onto their retweets that have a job under config_key
    (not one a worker holds: it will save the same result itself); returns how many retweets got one."""
    pairs = conn.execute(  # CROSS JOIN: from the originals' retweets (an index), never a scan of the queue
        f"""SELECT p.id, p.result_of FROM posts p CROSS JOIN jobs j
            WHERE p.result_of IN {IDS} AND p.result_of IS NOT NULL
            AND j.post_id = p.id AND j.config_key = ? AND j.state != 'running'""",
        (json.dumps(original_ids), config_key),
    ).fetchall()
    return copy_results(conn, config_key, pairs)


def settle_queued(conn: sqlite3.Connection, config_key: str, post_ids: list[int] | None) -> int:
    """Pending retweets (of these posts, or all) whose original is finished under config_key get its result."""
    # from the given posts (CROSS JOIN keeps that order), or else from the pending part of the queue
    source, params = "jobs j JOIN posts p ON p.id = j.post_id", [config_key]
    if post_ids is not None:
        source = f"posts p CROSS JOIN jobs j ON j.post_id = p.id AND p.id IN {IDS}"
        params = [json.dumps(post_ids), *params]
    pairs = conn.execute(
        f"""SELECT p.id, p.result_of FROM {source} CROSS JOIN jobs o ON o.post_id = p.result_of
            WHERE p.result_of IS NOT NULL AND j.config_key = ? AND j.state = 'pending'
            AND o.config_key = j.config_key AND o.state IN ('done', 'failed')""",
        params,
    ).fetchall()
    return copy_results(conn, config_key, pairs)


def refresh_copies(conn: sqlite3.Connection, original_ids: list[int]) -> None:
    """Retweets holding a copy of these originals' results get their current view again (after a correction
    to an original: what the analyst said of the original holds for its retweets)."""
    pairs = conn.execute(
        f"""SELECT p.id, p.result_of FROM posts p WHERE p.result_of IN {IDS} AND p.result_of IS NOT NULL
            AND EXISTS (SELECT 1 FROM jobs j WHERE j.post_id = p.id AND j.state IN ('done', 'failed'))""",
        (json.dumps(original_ids),),
    ).fetchall()
    found = entities.read(conn, sorted({original for _, original in pairs}), "pred", before_merges=True)
    copied = {retweet: _copies(found[original], _media_map(conn, original, retweet)) for retweet, original in pairs}
    entities.replace(conn, copied, "pred")
