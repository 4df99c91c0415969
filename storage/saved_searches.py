"""Saved searches: named queries (the sidebar's list, and `saved:NAME` inside any query).

The stored text is kept as typed and expanded when a query runs, so a saved search always means what
its query means now (new posts, new results, an edited inner saved search). Expansion happens here,
where the database is at hand; the parser (storage/query.py) only checks the name's shape.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from groundlens.storage.query import Clause, Filter, Query, QueryError, parse_query
from groundlens.storage.tags import check_name

Lookup = Callable[[str], "SavedSearch | None"]


@dataclass(frozen=True)
class SavedSearch:
    id: int
    name: str
    query: str


@dataclass(frozen=True)
class SavedQuery:
    """The value of a resolved `saved:NAME` filter: that search's query, parsed and itself resolved."""

    name: str
    query: Query


@dataclass(frozen=True)
class SavedCount:
    """A saved search with the posts it matches now, or why it cannot run (it names a deleted search)."""

    search: SavedSearch
    posts: int | None
    error: str | None = None


_COLUMNS = "id, name, query"


def all_searches(conn: sqlite3.Connection) -> list[SavedSearch]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM saved_searches ORDER BY name COLLATE NOCASE")
    return [SavedSearch(*row) for row in rows]


def find(conn: sqlite3.Connection, name: str) -> SavedSearch | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM saved_searches WHERE name = ?", (name,)).fetchone()
    return SavedSearch(*row) if row else None


def resolve(conn: sqlite3.Connection, text: str) -> Query:
    """Parse `text` with every `saved:NAME` replaced by that search's query; QueryError for a name no search
    has, or a search that refers to itself."""
    return expand(parse_query(text), lambda name: find(conn, name))


def expand(query: Query, lookup: Lookup, within: tuple[str, ...] = ()) -> Query:
    return Query(tuple(_expand_clause(clause, lookup, within) for clause in query.clauses))


def _expand_clause(clause: Clause, lookup: Lookup, within: tuple[str, ...]) -> Clause:
    first = clause.terms[0]
    if not isinstance(first, Filter) or first.key != "saved":
        return clause
    values = []
    for name in first.values:
        search = lookup(name)
        if search is None:
            raise QueryError(f"no saved search is named {name!r}", first.position)
        if search.name.casefold() in within:
            chain = " -> ".join([*within, search.name.casefold()])
            raise QueryError(f"saved search {search.name!r} refers to itself ({chain})", first.position)
        try:
            inner = parse_query(search.query)
        except QueryError as error:
            raise QueryError(f"saved search {search.name!r} is malformed: {error.message}", first.position) from None
        values.append(SavedQuery(search.name, expand(inner, lookup, (*within, search.name.casefold()))))
    return replace(clause, terms=(replace(first, values=tuple(values)),))


def _checked(conn: sqlite3.Connection, name: str, query: str, replacing: int | None) -> tuple[str, str]:
    """The cleaned name and query of a search about to be stored; ValueError / QueryError saying why not."""
    name = check_name(name, "saved search")
    query = " ".join(query.split())
    clash = find(conn, name)
    if clash is not None and clash.id != replacing:
        raise ValueError(f"a saved search is already named {clash.name!r}")
    edited = SavedSearch(replacing or 0, name, query)

    def lookup(other: str) -> SavedSearch | None:  # the edited search as it will be, the others as stored
        return edited if other.casefold() == name.casefold() else find(conn, other)

    expand(Query((Clause((Filter("saved", (name,), 0),)),)), lookup)  # parses, finds cycles through this one
    return name, query


def create(conn: sqlite3.Connection, name: str, query: str) -> SavedSearch:
    name, query = _checked(conn, name, query, None)
    cursor = conn.execute(
        "INSERT INTO saved_searches (name, query, created_at) VALUES (?, ?, ?)", (name, query, time.time())
    )
    return SavedSearch(int(cursor.lastrowid or 0), name, query)


def update(conn: sqlite3.Connection, search_id: int, name: str, query: str) -> SavedSearch:
    """Rename and/or change the query of a saved search; KeyError when it no longer exists."""
    if conn.execute("SELECT 1 FROM saved_searches WHERE id = ?", (search_id,)).fetchone() is None:
        raise KeyError(f"no saved search with id {search_id}")
    name, query = _checked(conn, name, query, search_id)
    conn.execute("UPDATE saved_searches SET name = ?, query = ? WHERE id = ?", (name, query, search_id))
    return SavedSearch(search_id, name, query)


def delete(conn: sqlite3.Connection, search_id: int) -> bool:
    return conn.execute("DELETE FROM saved_searches WHERE id = ?", (search_id,)).rowcount > 0


def counts(conn: sqlite3.Connection, count: Callable[[Query], int]) -> list[SavedCount]:
    """Each saved search with its current number of matching posts (`count` runs a resolved query)."""
    found = []
    for search in all_searches(conn):
        try:
            found.append(SavedCount(search, count(resolve(conn, search.query))))
        except QueryError as error:
            found.append(SavedCount(search, None, error.message))
    return found
