"""Trend queries over the daily aggregates (storage/aggregates.py), so they never scan every mention.

Only predicted mentions count unless include_gold=True (then gold mentions are added in).
Retweets are left out unless include_retweets=True: by default each original post counts once,
however often it was retweeted; with retweets every copy counts (amplification).
Mentions of posts without a date cannot be placed on a time line, so series and ranked windows
leave them out; the all-time ranking (no range) counts them, as do entity_profile and
cooccurring. Ranges are [start, end) and whole UTC days: a day counts when any part of it is in
the range.
"""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, date, datetime, timedelta

from groundlens.storage.aggregates import ALL_TYPES
from groundlens.storage.db import DAY_SECONDS, from_epoch, to_epoch
from groundlens.storage.normalize import normalize_entity
from groundlens.storage.search import Where, display_names
from groundlens.storage.summaries import EntityCount, EntityProfile, SeriesPoint

When = date | datetime | None  # a date means its midnight UTC
EPOCH = date(1970, 1, 1)
BUCKETS = ("day", "week")


def _moment(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day, tzinfo=UTC)


def day_range(start: When, end: When) -> tuple[int | None, int | None]:
    """[first day, last day + 1) as day numbers."""
    first = None if start is None else to_epoch(_moment(start)) // DAY_SECONDS
    stop = None if end is None else math.ceil(to_epoch(_moment(end)) / DAY_SECONDS)
    return first, stop


def _scope(include_gold: bool, start: When, end: When) -> Where:
    """Conditions on an aggregate table: which origins count, which days."""
    where = Where()
    where.add("origin IN ('pred', 'gold')" if include_gold else "origin = 'pred'")
    first, stop = day_range(start, end)
    if first is not None:
        where.add("day >= ?", first)
    if stop is not None:
        where.add("day < ?", stop)
    return where


def _counted(include_retweets: bool) -> str:
    """The aggregate column to sum: every mention, or mentions in posts that are not retweets."""
    return "mentions" if include_retweets else "original_mentions"


def _bucket_sql(bucket: str) -> str:
    if bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r} (use {', '.join(BUCKETS)})")
    return "day" if bucket == "day" else "day - (((day + 3) % 7) + 7) % 7"  # 1970-01-01 was a Thursday


def mention_series(
    conn: sqlite3.Connection,
    norms: list[str] | None,
    types: list[str] | None,
    bucket: str,
    start: When,
    end: When,
    include_gold: bool,
    include_retweets: bool = False,
) -> list[SeriesPoint]:
    """Mentions per bucket: one series per entity when norms are given, else one per type.

    Dense: every bucket from the range start (or first data) to its end (or last data) is present
    for every series, zeros included, so charts need no gap handling.
    """
    where = _scope(include_gold, start, end)
    if types:
        where.add(f"type IN ({', '.join('?' * len(types))})", *types)
    if norms:
        keys = list(dict.fromkeys(normalize_entity(n) for n in norms))
        where.add(f"norm IN ({', '.join('?' * len(keys))})", *keys)
        table, key_column = "mention_daily", "norm"
    else:
        keys = list(types or ("PER", "LOC", "ORG", "OTHER"))
        table, key_column = "type_daily", "type"
    size = 7 if bucket == "week" else 1
    rows = conn.execute(
        f"SELECT {key_column}, {_bucket_sql(bucket)} AS bucket, SUM({_counted(include_retweets)}) FROM {table}"
        f" WHERE {where.sql()} GROUP BY 1, 2",
        where.params,
    ).fetchall()
    counts = {(key, bucket_day): count for key, bucket_day, count in rows if count}
    first, stop = day_range(start, end)

    def align(day: int) -> int:  # a week starts on Monday
        return day if size == 1 else day - ((day + 3) % 7)

    days = [bucket_day for _, bucket_day in counts]
    low = align(first) if first is not None else min(days, default=None)
    high = align(stop - 1) if stop is not None else max(days, default=None)
    if low is None or high is None:
        return []
    return [
        SeriesPoint(EPOCH + timedelta(days=bucket_day), key, counts.get((key, bucket_day), 0))
        for key in keys
        for bucket_day in range(low, high + 1, size)
    ]


def _dominant_types(
    conn: sqlite3.Connection, norms: list[str], where: Where, counted: str, table: str = "mention_daily"
) -> dict[str, str]:
    if not norms:
        return {}
    rows = conn.execute(
        f"SELECT norm, type, SUM({counted}) FROM {table} WHERE {where.sql()}"
        f" AND norm IN ({', '.join('?' * len(norms))}) GROUP BY norm, type ORDER BY 3 DESC, type DESC",
        (*where.params, *norms),
    )
    dominant: dict[str, str] = {}
    for norm, kind, _ in rows:
        dominant.setdefault(norm, kind)
    return dominant


def ranked_norms(
    conn: sqlite3.Connection,
    table: str,
    where: Where,
    origins: tuple[str, ...],
    bound_type: str,
    limit: int,
    counted: str = "mentions",
) -> list[tuple[str, int]]:
    """The `limit` norms with the most `counted` mentions over rows of `table` (alias a) meeting `where`.

    An entity's all-time total (entity_totals, type `bound_type`) bounds its count under any
    filter, so with `floor` = the count the list must reach, entities whose total is below it are
    skipped. Start from the limit-th largest total; if the filtered limit-th count is lower, lower
    the floor to it and go once more (then every entity that could reach it is counted).
    """
    in_origins = f"origin IN ({', '.join('?' * len(origins))})"
    kth = conn.execute(
        f"SELECT {counted} FROM entity_totals WHERE {in_origins} AND type = ? ORDER BY {counted} DESC LIMIT 1 OFFSET ?",
        (*origins, bound_type, limit - 1),
    ).fetchone()
    floor = kth[0] if kth else 1
    while True:
        candidates, params = "", []
        if floor > 1:  # else every entity is a candidate: let the other conditions do the narrowing
            candidates = (
                f"AND a.norm IN (SELECT norm FROM entity_totals WHERE {in_origins} AND type = ? AND {counted} >= ?)"
            )
            params = [*origins, bound_type, math.ceil(floor / len(origins))]  # a sum over origins reaches it
        rows = conn.execute(
            f"SELECT a.norm, SUM(a.{counted}) AS n FROM {table} a WHERE {where.sql()} {candidates}"
            " GROUP BY a.norm HAVING n > 0 ORDER BY n DESC, a.norm LIMIT ?",
            (*where.params, *params, limit),
        ).fetchall()
        reached = rows[-1][1] if len(rows) == limit else 0
        if floor <= 1 or reached >= floor:
            return rows
        floor = max(1, reached)


def top_entities(
    conn: sqlite3.Connection,
    start: When,
    end: When,
    type: str | None,
    limit: int,
    include_gold: bool,
    include_retweets: bool = False,
) -> list[EntityCount]:
    """The most mentioned entities in a window (see ranked_norms for why this is cheap)."""
    if limit < 1:
        return []
    if start is None and end is None:
        return top_entities_all_time(conn, type, limit, include_gold, include_retweets)
    window = _scope(include_gold, start, end)
    if type is not None:
        window.add("type = ?", type)
    origins = ("pred", "gold") if include_gold else ("pred",)
    counted = _counted(include_retweets)
    rows = ranked_norms(conn, "mention_daily", window, origins, type or ALL_TYPES, limit, counted)
    norms = [norm for norm, _ in rows]
    names, types = display_names(conn, norms), _dominant_types(conn, norms, window, counted)
    return [EntityCount(norm, names.get(norm, norm), types[norm], count) for norm, count in rows]


def top_entities_all_time(
    conn: sqlite3.Connection, type: str | None, limit: int, include_gold: bool, include_retweets: bool = False
) -> list[EntityCount]:
    """The most mentioned entities over every mention, undated posts included (from the all-time totals)."""
    origins = ("pred", "gold") if include_gold else ("pred",)
    in_origins = f"origin IN ({', '.join('?' * len(origins))})"
    ranked, typed = Where(), Where()
    ranked.add(in_origins, *origins)
    ranked.add("type = ?", type or ALL_TYPES)
    typed.add(in_origins, *origins)
    if type is None:
        typed.add("type != ?", ALL_TYPES)
    else:
        typed.add("type = ?", type)
    counted = _counted(include_retweets)
    rows = ranked_norms(conn, "entity_totals", ranked, origins, type or ALL_TYPES, limit, counted)
    norms = [norm for norm, _ in rows]
    names, types = display_names(conn, norms), _dominant_types(conn, norms, typed, counted, "entity_totals")
    return [EntityCount(norm, names.get(norm, norm), types[norm], count) for norm, count in rows]


def cooccurring(
    conn: sqlite3.Connection,
    norm: str,
    limit: int,
    start: When,
    end: When,
    include_gold: bool,
    include_retweets: bool = False,
) -> list[EntityCount]:
    """Entities mentioned in the same posts as `norm`, by number of shared posts."""
    where = Where()
    where.add("e1.norm = ?", normalize_entity(norm))
    where.add("e1.origin IN ('pred', 'gold')" if include_gold else "e1.origin = 'pred'")
    if not include_retweets:
        where.add("e1.retweet = 0")
    if start is not None:
        where.add("e1.created_at >= ?", to_epoch(_moment(start)))
    if end is not None:
        where.add("e1.created_at < ?", to_epoch(_moment(end)))
    rows = conn.execute(
        f"""SELECT e2.norm, COUNT(DISTINCT e2.post_id) AS n FROM entities e1
            JOIN entities e2 ON e2.post_id = e1.post_id AND e2.origin = e1.origin AND e2.norm != e1.norm
            WHERE {where.sql()} GROUP BY e2.norm ORDER BY n DESC, e2.norm LIMIT ?""",
        (*where.params, limit),
    ).fetchall()
    norms = [other for other, _ in rows]
    names = display_names(conn, norms)
    types = _dominant_types(conn, norms, _scope(include_gold, None, None), _counted(include_retweets))
    return [EntityCount(other, names.get(other, other), types.get(other, "OTHER"), n) for other, n in rows]


def entity_profile(
    conn: sqlite3.Connection, norm: str, include_gold: bool, include_retweets: bool = False
) -> EntityProfile:
    key = normalize_entity(norm)
    origins = "('pred', 'gold')" if include_gold else "('pred')"
    scope = f"norm = ? AND origin IN {origins}" + ("" if include_retweets else " AND retweet = 0")
    rows = conn.execute(
        f"""SELECT type, COUNT(*), SUM(groundable = 1), MIN(created_at), MAX(created_at) FROM entities
            WHERE {scope} GROUP BY type""",
        (key,),
    ).fetchall()
    posts = conn.execute(f"SELECT COUNT(DISTINCT post_id) FROM entities WHERE {scope}", (key,)).fetchone()[0]
    if not rows:
        return EntityProfile(norm=key, name=None)
    firsts = [row[3] for row in rows if row[3] is not None]
    lasts = [row[4] for row in rows if row[4] is not None]
    return EntityProfile(
        norm=key,
        name=display_names(conn, [key]).get(key, key),
        types={kind: count for kind, count, *_ in sorted(rows, key=lambda r: -r[1])},
        mentions=sum(row[1] for row in rows),
        posts=posts,
        groundable=sum(row[2] or 0 for row in rows),
        first_seen=from_epoch(min(firsts)) if firsts else None,
        last_seen=from_epoch(max(lasts)) if lasts else None,
    )
