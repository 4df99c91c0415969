"""The feed: ordered post ids for a query (cheap enough for 1M rows) and summaries for visible rows."""

from __future__ import annotations

import json
import sqlite3

from groundlens.storage.db import IDS, from_epoch
from groundlens.storage.query import DATE_FILTERS, Query
from groundlens.storage.saved_searches import resolve
from groundlens.storage.search import fts_match, post_where
from groundlens.storage.summaries import PostSummary, SearchPage

SNIPPET_CHARS = 280
ORDERS = {
    "created_desc": "p.created_at DESC, p.id DESC",
    "created_asc": "p.created_at ASC, p.id ASC",
    "entities_desc": "p.n_pred DESC, p.created_at DESC, p.id DESC",
}


def _order(order: str) -> str:
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r} (use {', '.join(ORDERS)})")
    return ORDERS[order]


def walk_feed_order(conn: sqlite3.Connection, query: Query) -> bool:
    """For one page of a word found in many posts, walking the feed order beats sorting every match.

    With n posts and m matches, sorting costs ~m lookups and walking ~n/m steps per row wanted;
    walking wins once m is above ~sqrt(10 n). Filters other than dates could make the walk long
    (a rare author), so those queries keep the match-driven plan.
    """
    matching, _ = fts_match(query)
    if matching is None or any(f.key not in DATE_FILTERS for f, _ in query.filters()):
        return False
    matches = conn.execute("SELECT COUNT(*) FROM posts_fts WHERE posts_fts MATCH ?", (matching,)).fetchone()[0]
    posts = conn.execute("SELECT COALESCE(MAX(id), 0) FROM posts").fetchone()[0]
    return bool(matches * matches > 10 * posts)


def post_ids(
    conn: sqlite3.Connection, query: str | Query | None, order: str, limit: int | None = None, offset: int = 0
) -> list[int]:
    parsed = resolve(conn, query) if isinstance(query, str) and query.strip() else query
    walk = limit is not None and isinstance(parsed, Query) and walk_feed_order(conn, parsed)
    where = post_where(parsed if isinstance(parsed, Query) else None, walk_matches=not walk)
    (ids,) = conn.execute(  # one JSON array: a third faster than a million result rows
        f"SELECT json_group_array(id) FROM"
        f" (SELECT p.id FROM posts p WHERE {where.sql()} ORDER BY {_order(order)} LIMIT ? OFFSET ?)",
        (*where.params, -1 if limit is None else limit, offset),
    ).fetchone()
    found: list[int] = json.loads(ids)
    return found


def count_matching(conn: sqlite3.Connection, query: str | Query | None) -> int:
    where = post_where(resolve(conn, query) if isinstance(query, str) and query.strip() else query)
    return int(conn.execute(f"SELECT COUNT(*) FROM posts p WHERE {where.sql()}", where.params).fetchone()[0])


def post_summaries(conn: sqlite3.Connection, ids: list[int]) -> list[PostSummary]:
    """Rows in the order of `ids`; ids of posts that no longer exist are left out."""
    rows = conn.execute(
        f"""SELECT p.id, p.source, p.native_id, p.author, p.created_at, substr(p.text, 1, {SNIPPET_CHARS + 1}),
                   p.n_pred, p.n_gold,
                   (SELECT COUNT(*) FROM entities e WHERE e.post_id = p.id AND e.origin = 'pred' AND e.groundable = 1),
                   p.has_media,
                   (SELECT m.local_path FROM media m WHERE m.post_id = p.id AND m.status = 'ok'
                    ORDER BY m.position LIMIT 1),
                   (SELECT j.state FROM jobs j WHERE j.post_id = p.id ORDER BY j.updated_at DESC LIMIT 1),
                   p.retweet_of IS NOT NULL
            FROM posts p WHERE p.id IN {IDS}""",
        (json.dumps(ids),),
    )
    by_id = {}
    for pid, source, native_id, author, created, text, n_pred, n_gold, n_ground, has_image, thumb, state, rt in rows:
        snippet = text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "\u2026"
        by_id[pid] = PostSummary(
            id=pid,
            source=source,
            native_id=native_id,
            author=author,
            created_at=from_epoch(created),
            snippet=snippet,
            has_image=bool(has_image),
            thumbnail_path=thumb,
            n_entities=n_pred,
            n_groundable=n_ground,
            n_gold=n_gold,
            pipeline_state=state,
            retweet=bool(rt),
        )
    return [by_id[i] for i in ids if i in by_id]


def search_posts(conn: sqlite3.Connection, query: str, limit: int, offset: int, order: str) -> SearchPage[PostSummary]:
    ids = post_ids(conn, resolve(conn, query), order, limit + 1, offset)  # parse: blank text is an error here
    return SearchPage(post_summaries(conn, ids[:limit]), offset, limit, has_more=len(ids) > limit)
