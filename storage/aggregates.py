"""Mention counts kept in step with `entities`, so trend queries never scan millions of mentions.

- mention_daily (norm, day, type, origin): series per entity, top entities in a window
- type_daily (type, day, origin): series per type
- entity_totals (origin, type, norm): all-time counts, type '*' for all types; they bound any
  window's count, which lets top_entities look only at entities that could make the list

mention_daily and entity_totals also count distinct posts and mentions judged groundable, for
entity search. Every table counts `original_mentions` beside `mentions`: the mentions of posts that
are not retweets, for trends that count originals only. A post is saved whole, so per-key distinct
post counts add up across writes.

The daily tables count dated mentions only; entity_totals counts every mention. Mentions are written
through one path (storage.entities.replace, which corrections and merges use too); every write
that changes a post's entities (or its date) calls
`shift(conn, post_ids, -1)` before the change and `shift(conn, post_ids, +1)` after it, inside
the same transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from groundlens.storage.db import IDS, day_sql

ALL_TYPES = "*"
_SCOPE = f"post_id IN {IDS}"
_DATED = "created_at IS NOT NULL"
_COUNTS = {
    "mentions": "COUNT(*)",
    "posts": "COUNT(DISTINCT post_id)",
    "groundable": "COALESCE(SUM(groundable = 1), 0)",
    "original_mentions": "COALESCE(SUM(retweet = 0), 0)",  # retweets left out: trends' default count
}
_ALL_COUNTS = tuple(_COUNTS)
# (table, key columns, the SELECT expressions producing them from `entities`, which mentions count, counts kept)
_TABLES = [
    (
        "mention_daily",
        ("norm", "day", "type", "origin"),
        ("norm", day_sql("created_at"), "type", "origin"),
        _DATED,
        _ALL_COUNTS,
    ),
    (
        "type_daily",
        ("type", "day", "origin"),
        ("type", day_sql("created_at"), "origin"),
        _DATED,
        ("mentions", "original_mentions"),
    ),
    ("entity_totals", ("origin", "type", "norm"), ("origin", "type", "norm"), "1", _ALL_COUNTS),
    ("entity_totals", ("origin", "type", "norm"), ("origin", f"'{ALL_TYPES}'", "norm"), "1", _ALL_COUNTS),
]


def _statements(scope: str, factor: str, present: Callable[[str], set[str]] | None = None) -> list[str]:
    """The upserts that add (factor +1) or remove (-1) mentions in `scope`; `present`, when given, names the
    columns a table has (a migration step rebuilds the tables as they were at that step)."""
    statements = []
    for table, keys, expressions, counted, counts in _TABLES:
        counts = tuple(name for name in counts if present is None or name in present(table))
        values = ", ".join(f"{factor} * {_COUNTS[name]}" for name in counts)
        statements.append(
            f"""INSERT INTO {table} ({", ".join(keys)}, {", ".join(counts)})
                SELECT {", ".join(expressions)}, {values} FROM entities
                WHERE {counted} {scope} GROUP BY {", ".join(str(i + 1) for i in range(len(keys)))}
                ON CONFLICT ({", ".join(keys)}) DO UPDATE SET
                {", ".join(f"{name} = {name} + excluded.{name}" for name in counts)}"""
        )
    return statements


def shift(conn: sqlite3.Connection, post_ids: Sequence[int], sign: int, origin: str | None = None) -> None:
    """Add (sign=+1) or remove (sign=-1) the current mentions of these posts (of one origin, or all)."""
    if not post_ids:
        return
    scope, params = _SCOPE, [json.dumps(list(post_ids))]
    if origin is not None:
        scope, params = f"{scope} AND origin = ?", [*params, origin]
    for sql in _statements(f"AND {scope}", "+1" if sign > 0 else "-1"):
        conn.execute(sql, params)
    if sign < 0:
        touched = f"(SELECT norm FROM entities WHERE {scope})"
        conn.execute(f"DELETE FROM mention_daily WHERE mentions <= 0 AND norm IN {touched}", params)
        conn.execute(
            f"DELETE FROM entity_totals WHERE mentions <= 0 AND origin IN ('pred', 'gold')"
            f" AND type IN ('PER', 'LOC', 'ORG', 'OTHER', '{ALL_TYPES}') AND norm IN {touched}",
            params,
        )
        conn.execute("DELETE FROM type_daily WHERE mentions <= 0")


def rebuild(conn: sqlite3.Connection) -> None:
    """Recompute every table from `entities` (migrations and repairs)."""
    for table in {table for table, *_ in _TABLES}:
        conn.execute(f"DELETE FROM {table}")

    def present(table: str) -> set[str]:
        return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}

    for sql in _statements("", "+1", present):
        conn.execute(sql)


def verify(conn: sqlite3.Connection) -> list[str]:
    """Where the stored counters differ from a recount of `entities` (a check for `doctor` and tests): one line
    per differing row, naming the table, its key and both counts; [] when every counter is right."""
    problems = []
    for table in dict.fromkeys(table for table, *_ in _TABLES):
        keys = next(keys for name, keys, *_ in _TABLES if name == table)
        stored = _rows(conn, f"SELECT {', '.join(keys + _counted(table))} FROM {table}", len(keys))
        expected: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for name, _, expressions, counted, counts in _TABLES:
            if name == table:
                select = ", ".join((*expressions, *(_COUNTS[c] for c in counts)))
                group = ", ".join(str(i + 1) for i in range(len(keys)))
                expected.update(
                    _rows(conn, f"SELECT {select} FROM entities WHERE {counted} GROUP BY {group}", len(keys))
                )
        for key in sorted(set(stored) | set(expected), key=repr):
            if stored.get(key) != expected.get(key):
                problems.append(f"{table} {key}: stored {stored.get(key)}, recounted {expected.get(key)}")
    return problems


def _counted(table: str) -> tuple[str, ...]:
    return next(counts for name, _, _, _, counts in _TABLES if name == table)


def _rows(conn: sqlite3.Connection, sql: str, n_keys: int) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    return {tuple(row[:n_keys]): tuple(row[n_keys:]) for row in conn.execute(sql)}
