"""Entity search: entities whose names match a query, ranked by matching predicted mentions.

Queries that only name entities and filter by type or whole days are answered from the trend
aggregates (storage/aggregates.py), so they cost the same at a million posts as at a thousand;
anything else (author:, source:, groundable:, a time of day...) counts the mentions themselves.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from groundlens.records import ENTITY_TYPES
from groundlens.storage.aggregates import ALL_TYPES
from groundlens.storage.db import DAY_SECONDS, from_epoch, to_epoch
from groundlens.storage.query import DATE_FILTERS, Filter, Query
from groundlens.storage.saved_searches import resolve
from groundlens.storage.search import (
    NAME_FTS,
    Where,
    add_text,
    date_condition,
    display_names,
    entity_named,
    entity_where,
)
from groundlens.storage.summaries import EntitySummary, SearchPage
from groundlens.storage.trends import ranked_norms

_AGGREGATED = DATE_FILTERS | {"type", "entity"}


def _whole_days(f: Filter) -> bool:
    moments = [m for value in f.values for m in (value if isinstance(value, tuple) else (value,))]
    return all(m.hour == m.minute == m.second == 0 for m in moments)


def _aggregated(query: Query) -> bool:
    return all(
        f.key in _AGGREGATED and (f.key not in DATE_FILTERS or (not negated and _whole_days(f)))
        for f, negated in query.filters()
    )


def _day(moment: datetime) -> int:
    return to_epoch(moment) // DAY_SECONDS


def _aggregate_where(query: Query, names: bool = True) -> tuple[str, Where]:
    """(table, conditions on alias a) over mention_daily when dates are asked for, else entity_totals.

    names=False leaves out the words and entity: filters (for counting norms already chosen).
    """
    dated = any(f.key in DATE_FILTERS for f, _ in query.filters())
    where = Where()
    where.add("a.origin = 'pred'")
    if names:
        add_text(where, query, "a.norm", NAME_FTS)
    for f, negated in query.filters():
        if f.key == "entity" and not names:
            continue
        if f.key in DATE_FILTERS:
            condition, params = date_condition(f, "a.day", _day)
        elif f.key == "entity":
            condition, params = entity_named(f.values, "a.norm")
        else:
            condition, params = f"a.type IN ({', '.join('?' * len(f.values))})", list(f.values)
        where.add(f"NOT {condition}" if negated else condition, *params)
    return ("mention_daily" if dated else "entity_totals"), where


# (norm, mentions, posts, groundable, first seen, last seen) rows, and each norm's mentions per type
_Found = tuple[list[tuple[str, int, int, int, int | None, int | None]], dict[str, dict[str, int]]]


def _seen(conn: sqlite3.Connection, query: Query, norm: str) -> tuple[int | None, int | None]:
    """Exact first and last mention times within the query's types and dates.

    Two single-aggregate subqueries, so each is one seek on entities_norm (norm, origin, created_at).
    """
    where = Where()
    where.add("e.norm = ?", norm)
    where.add("e.origin = 'pred'")
    for f, negated in query.filters():
        if f.key in DATE_FILTERS:
            condition, params = date_condition(f, "e.created_at", to_epoch)
            where.add(condition, *params)
        elif f.key == "type":
            where.add(f"e.type {'NOT ' if negated else ''}IN ({', '.join('?' * len(f.values))})", *f.values)
    first, last = (f"(SELECT {fn}(e.created_at) FROM entities e WHERE {where.sql()})" for fn in ("MIN", "MAX"))
    seen: tuple[int | None, int | None] = conn.execute(
        f"SELECT {first}, {last}", (*where.params, *where.params)
    ).fetchone()
    return seen


def _from_aggregates(conn: sqlite3.Connection, query: Query, limit: int, offset: int) -> _Found:
    (table, where), (_, counting) = _aggregate_where(query), _aggregate_where(query, names=False)
    kinds = [(f.values, negated) for f, negated in query.filters() if f.key == "type"]
    if table == "entity_totals":  # it keeps an all-types row per entity: count on it unless types are picked
        for conditions in (where, counting):
            conditions.add(f"a.type {'!=' if kinds else '='} '{ALL_TYPES}'")
    if query.texts(negated=False) or any(f.key == "entity" and not negated for f, negated in query.filters()):
        ranked = conn.execute(  # a few named entities: count them all
            f"SELECT a.norm, SUM(a.mentions) AS n FROM {table} a WHERE {where.sql()}"
            " GROUP BY a.norm HAVING n > 0 ORDER BY n DESC, a.norm LIMIT ? OFFSET ?",
            (*where.params, limit + 1, offset),
        ).fetchall()
    else:  # every entity could match: rank with the totals as bounds
        single = kinds[0][0][0] if len(kinds) == 1 and len(kinds[0][0]) == 1 and not kinds[0][1] else ALL_TYPES
        ranked = ranked_norms(conn, table, where, ("pred",), single, offset + limit + 1)[offset:]
    norms = [norm for norm, _ in ranked]
    marks = ", ".join("?" * len(norms))
    counts: dict[str, list[int]] = {norm: [0, 0, 0] for norm in norms}
    types: dict[str, dict[str, int]] = {norm: {} for norm in norms[:limit]}
    for norm, kind, mentions, posts, groundable in conn.execute(
        f"""SELECT a.norm, a.type, SUM(a.mentions), SUM(a.posts), SUM(a.groundable) FROM {table} a
            WHERE {counting.sql()} AND a.norm IN ({marks}) GROUP BY a.norm, a.type""",
        (*counting.params, *norms),
    ):
        totals = counts[norm]
        totals[0], totals[1], totals[2] = totals[0] + mentions, totals[1] + posts, totals[2] + groundable
        if kind != ALL_TYPES and mentions and norm in types:
            types[norm][kind] = mentions
    if table == "entity_totals" and not kinds:  # the '*' row counted the totals; the types come from the rest
        for norm, kind, mentions in conn.execute(
            f"SELECT norm, type, mentions FROM entity_totals WHERE origin = 'pred'"  # type IN: seeks on the key
            f" AND type IN ({', '.join('?' * len(ENTITY_TYPES))}) AND norm IN ({marks})",
            (*ENTITY_TYPES, *norms),
        ):
            if norm in types:
                types[norm][kind] = mentions
    return [(norm, *counts[norm], *_seen(conn, query, norm)) for norm in norms], types


def _from_mentions(conn: sqlite3.Connection, query: Query, limit: int, offset: int) -> _Found:
    where = entity_where(query)
    rows = conn.execute(
        f"""SELECT e.norm, COUNT(*), COUNT(DISTINCT e.post_id), COALESCE(SUM(e.groundable = 1), 0),
                   MIN(e.created_at), MAX(e.created_at)
            FROM entities e JOIN posts p ON p.id = e.post_id
            WHERE {where.sql()} GROUP BY e.norm ORDER BY COUNT(*) DESC, e.norm LIMIT ? OFFSET ?""",
        (*where.params, limit + 1, offset),
    ).fetchall()
    norms = [row[0] for row in rows[:limit]]
    types: dict[str, dict[str, int]] = {norm: {} for norm in norms}
    for norm, kind, count in conn.execute(
        f"""SELECT e.norm, e.type, COUNT(*) FROM entities e JOIN posts p ON p.id = e.post_id
            WHERE {where.sql()} AND e.norm IN ({", ".join("?" * len(norms))}) GROUP BY e.norm, e.type""",
        (*where.params, *norms),
    ):
        types[norm][kind] = count
    return rows, types


def search_entities(conn: sqlite3.Connection, query: str, limit: int, offset: int) -> SearchPage[EntitySummary]:
    parsed = resolve(conn, query)
    search = _from_aggregates if _aggregated(parsed) else _from_mentions
    rows, types = search(conn, parsed, limit, offset)
    names = display_names(conn, list(types))
    items = [
        EntitySummary(
            norm=norm,
            name=names.get(norm, norm),
            type=max(types[norm], key=types[norm].__getitem__),
            types=types[norm],
            mentions=mentions,
            posts=posts,
            groundable=groundable,
            first_seen=from_epoch(first),
            last_seen=from_epoch(last),
        )
        for norm, mentions, posts, groundable, first, last in rows[:limit]
    ]
    return SearchPage(items, offset, limit, has_more=len(rows) > limit)
