"""Figures over one set of posts (a search's matches, a selection): the entities they mention, which
entities share posts, mentions per week, and what the figures cover.

The trend aggregates are kept per day for the whole store, so they cannot answer for an arbitrary
query; these queries join the entities of just the chosen posts. The ids go in as one JSON array
(`json_each`), which keeps a read transaction free of temporary tables and of SQLite's limit on
bound variables. Only predicted mentions count, and, as on the Trends page by default, retweets
are left out (each original counts once): `PostSetSummary.retweets` says how many were.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from groundlens.storage.db import DAY_SECONDS, from_epoch
from groundlens.storage.search import display_names
from groundlens.storage.summaries import EntityCount

_CHOSEN = "post_id IN (SELECT value FROM json_each(:ids))"
_COUNTED = f"{_CHOSEN} AND origin = 'pred' AND retweet = 0"
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Pair:
    """Two entities (by norm, a < b) and the number of posts mentioning both."""

    a: str
    b: str
    posts: int


@dataclass
class PostSetSummary:
    posts: int  # posts in the set
    processed: int  # of those, posts with a finished pipeline result (under any configuration)
    undated: int  # posts without a date: counted in the rankings, never on the time line
    retweets: int  # retweets in the set, left out of every count below
    newest: datetime | None = None  # the latest date in the set: how far the data reaches
    entities: list[EntityCount] = field(default_factory=list)  # count: posts mentioning it, most first
    pairs: list[Pair] = field(default_factory=list)  # among `entities`, heaviest first
    weekly: dict[str, dict[date, int]] = field(default_factory=dict)  # norm -> week start (Monday) -> mentions
    located: list[int] = field(default_factory=list)  # the first originals (in the order given) with a predicted region

    @property
    def processed_share(self) -> float:
        return self.processed / self.posts if self.posts else 1.0


def summarize(conn: sqlite3.Connection, ids: list[int], top: int, series: int = 0, located: int = 0) -> PostSetSummary:
    """The `top` entities mentioned in the most of these posts, the pairs among them, weekly mentions of
    the first `series` of them, and the first `located` posts whose picture has a predicted region."""
    params = {"ids": json.dumps(list(ids))}
    posts, processed, undated, retweets, newest = conn.execute(
        f"""SELECT COUNT(*),
                   COALESCE(SUM(EXISTS (SELECT 1 FROM jobs WHERE jobs.post_id = posts.id AND jobs.state = 'done')), 0),
                   COALESCE(SUM(created_at IS NULL), 0), COALESCE(SUM(retweet_of IS NOT NULL), 0), MAX(created_at)
            FROM posts WHERE {_CHOSEN.replace("post_id", "id")}""",
        params,
    ).fetchone()
    summary = PostSetSummary(posts, processed, undated, retweets, from_epoch(newest))
    if located > 0 and ids:
        summary.located = _located(conn, params, ids, located)
    if top < 1 or not ids:
        return summary
    ranked = conn.execute(
        f"""SELECT norm, COUNT(DISTINCT post_id) AS n FROM entities WHERE {_COUNTED}
            GROUP BY norm ORDER BY n DESC, norm LIMIT :top""",
        {**params, "top": top},
    ).fetchall()
    norms = [norm for norm, _ in ranked]
    names, types = display_names(conn, norms), _dominant_types(conn, params, norms)
    summary.entities = [EntityCount(norm, names.get(norm, norm), types[norm], n) for norm, n in ranked]
    summary.pairs = _pairs(conn, params, norms)
    summary.weekly = _weekly(conn, params, norms[:series])
    return summary


def _located(conn: sqlite3.Connection, params: dict[str, Any], ids: list[int], limit: int) -> list[int]:
    rows = conn.execute(
        f"""SELECT DISTINCT post_id FROM entities e WHERE {_COUNTED}
            AND EXISTS (SELECT 1 FROM regions r WHERE r.entity_id = e.id)""",
        params,
    )
    found = {post_id for (post_id,) in rows}
    return [post_id for post_id in ids if post_id in found][:limit]


def _among(column: str) -> str:
    return f"{column} IN (SELECT value FROM json_each(:norms))"


def _dominant_types(conn: sqlite3.Connection, params: dict[str, Any], norms: list[str]) -> dict[str, str]:
    """Each entity's most frequent type in these posts (ties: the later type name, as the Trends page does)."""
    rows = conn.execute(
        f"""SELECT norm, type FROM entities WHERE {_COUNTED} AND {_among("norm")}
            GROUP BY norm, type ORDER BY COUNT(*) DESC, type DESC""",
        {**params, "norms": json.dumps(norms)},
    )
    dominant: dict[str, str] = {}
    for norm, kind in rows:
        dominant.setdefault(norm, kind)
    return dominant


def _pairs(conn: sqlite3.Connection, params: dict[str, Any], norms: list[str]) -> list[Pair]:
    """Posts mentioning both, for every pair of these entities that share one."""
    rows = conn.execute(
        f"""WITH chosen AS (SELECT DISTINCT post_id, norm FROM entities
                            WHERE {_COUNTED} AND {_among("norm")})
            SELECT x.norm, y.norm, COUNT(*) AS n FROM chosen x JOIN chosen y ON y.post_id = x.post_id AND x.norm < y.norm
            GROUP BY x.norm, y.norm ORDER BY n DESC, x.norm, y.norm""",
        {**params, "norms": json.dumps(norms)},
    ).fetchall()
    return [Pair(a, b, n) for a, b, n in rows]


def _weekly(conn: sqlite3.Connection, params: dict[str, Any], norms: list[str]) -> dict[str, dict[date, int]]:
    """Mentions per week (weeks start on Monday, UTC), every week from the first to the last present."""
    if not norms:
        return {}
    rows = conn.execute(
        f"""SELECT norm, created_at / {DAY_SECONDS} AS day, COUNT(*) FROM entities
            WHERE {_COUNTED} AND {_among("norm")} AND created_at IS NOT NULL GROUP BY norm, day""",
        {**params, "norms": json.dumps(norms)},
    ).fetchall()
    counts: dict[tuple[str, date], int] = {}
    for norm, day, n in rows:
        week = EPOCH + timedelta(days=day - (day + 3) % 7)  # 1970-01-01 was a Thursday
        counts[(norm, week)] = counts.get((norm, week), 0) + n
    weeks = [week for _, week in counts]
    if not weeks:
        return {norm: {} for norm in norms}
    span = [min(weeks) + timedelta(weeks=i) for i in range((max(weeks) - min(weeks)).days // 7 + 1)]
    return {norm: {week: counts.get((norm, week), 0) for week in span} for norm in norms}
