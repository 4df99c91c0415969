"""Search: the query language, compiled to SQL with every user value bound as a parameter.

The language (words, phrases, prefixes, exclusions, OR, filters) is described once, beside its parser:
TEXT_SYNTAX and FILTER_SPECS in storage/query.py, rendered in docs/SEARCH.md and the app's search help.
Every filter a FilterSpec declares needs its SQL here (_post_filter, or _entity_filter for ENTITY_FILTERS).

In entity search (``search --entities``, Store.search_entities) words match entity names and
the filters select which mentions are counted.

A malformed query (unbalanced quote, unknown filter, bad date or type, a dangling OR/NOT,
``*`` inside a word, a term with no letters or digits, an empty query) raises QueryError with
the character position. FTS5 operators typed by the user (NEAR, ^, column filters) are not
special: every term is quoted before it reaches FTS5, so they are searched as plain words.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from groundlens.storage import tags
from groundlens.storage.db import to_epoch
from groundlens.storage.entities import TYPE_BITS
from groundlens.storage.normalize import fold
from groundlens.storage.query import ENTITY_FILTERS, Clause, Filter, Query, QueryError, Text, parse_query
from groundlens.storage.saved_searches import SavedQuery


@dataclass
class Where:
    """SQL conditions joined by AND, and their parameters in order."""

    conditions: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, condition: str, *params: Any) -> None:
        self.conditions.append(condition)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.conditions) or "1"


def fts_term(text: Text) -> str:
    """An FTS5 string literal for one term (quotes doubled), so no user text is FTS5 syntax; folded as the
    indexed post text and entity names are (storage.normalize.fold), so both searches match alike."""
    literal = '"' + fold(text.value).replace('"', '""') + '"'
    return literal + " *" if text.kind == "prefix" else literal


def _fts_clause(clause: Clause) -> str:
    terms = [fts_term(term) for term in clause.terms if isinstance(term, Text)]  # query.texts(): text clauses only
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def fts_match(query: Query) -> tuple[str | None, str | None]:
    """(MATCH for the positive terms with exclusions folded in, MATCH for exclusions alone when nothing is positive)."""
    positive = " AND ".join(_fts_clause(c) for c in query.texts(negated=False))
    negative = " OR ".join(_fts_clause(c) for c in query.texts(negated=True))
    if positive:
        return (f"({positive}) NOT ({negative})" if negative else positive), None
    return None, negative or None


def add_text(where: Where, query: Query, subject: str, fts_ids: str) -> None:
    matching, excluded = fts_match(query)
    if matching:
        where.add(f"{subject} IN ({fts_ids})", matching)
    elif excluded:
        where.add(f"{subject} NOT IN ({fts_ids})", excluded)


def _any_of(column: str, values: tuple[Any, ...], collate: str = "") -> tuple[str, list[Any]]:
    marks = ", ".join("?" * len(values))
    return f"{column}{collate} IN ({marks})", list(values)


def _post_filter(f: Filter) -> tuple[str, list[Any]]:
    """SQL on alias p for a filter about the post itself."""
    if f.key in ("source", "lang"):
        return _any_of(f"p.{f.key}", f.values, " COLLATE NOCASE")
    if f.key == "author":
        return _any_of("p.author", tuple(v for a in f.values for v in (a, "@" + a)), " COLLATE NOCASE")
    if f.key == "ocr":
        return f"p.id IN ({_POST_FTS})", [" OR ".join(f"ocr_text : {fts_term(text)}" for text in f.values)]
    if f.key == "has":
        tests = {
            "image": "p.has_media = 1",
            "entities": "p.pred_types != 0",
            "gold": "p.n_gold > 0",
        }
        return "(" + " OR ".join(tests[v] for v in f.values) + ")", []
    if f.key == "is":
        return "(" + " OR ".join(f"p.{_LINKS[v]} IS NOT NULL" for v in f.values) + ")", []
    if f.key == "tag":
        return tags.condition(f.values)
    if f.key == "saved":
        return _saved_condition(f)
    return date_condition(f, "p.created_at", to_epoch)


def _saved_condition(f: Filter) -> tuple[str, list[Any]]:
    """saved:NAME as the posts its query finds; the store expands names first (storage/saved_searches.py)."""
    conditions, params = [], []
    for value in f.values:
        if not isinstance(value, SavedQuery):
            raise QueryError(f"saved:{value} was not expanded (run the query through the Store)", f.position)
        inner = post_where(value.query)
        conditions.append(f"p.id IN (SELECT p.id FROM posts p WHERE {inner.sql()})")
        params += inner.params
    return "(" + " OR ".join(conditions) + ")", params


_LINKS = {"retweet": "retweet_of", "quote": "quote_of", "reply": "reply_to"}  # is: value -> the post's link column


def date_condition(f: Filter, column: str, encode: Callable[[datetime], int]) -> tuple[str, list[Any]]:
    """after:/before:/date: on a column of unix seconds (encode=to_epoch) or of day numbers."""
    if f.key == "date":
        spans = [(encode(start), encode(end)) for start, end in f.values]
        return "(" + " OR ".join(f"({column} >= ? AND {column} < ?)" for _ in spans) + ")", [
            bound for span in spans for bound in span
        ]
    operator = ">=" if f.key == "after" else "<"  # after / before
    return "(" + " OR ".join(f"{column} {operator} ?" for _ in f.values) + ")", [encode(v) for v in f.values]


def _entity_filter(f: Filter) -> tuple[str, list[Any]]:
    """SQL on alias e for a filter about one mention."""
    if f.key == "entity":
        return entity_named(f.values, "e.norm")
    column = {"type": "e.type", "groundable": "e.groundable"}[f.key]
    values = tuple(int(v) for v in f.values) if f.key == "groundable" else f.values
    return _any_of(column, values)


def entity_named(norms: tuple[Any, ...], column: str) -> tuple[str, list[Any]]:
    """SQL: `column` names one of these entities, or the entity one of them was merged into (an analyst's
    correction: `entity:trump` finds "Donald Trump" once "Trump" is merged into it)."""
    named, params = _any_of(column, norms)
    merged, more = _any_of("m.pred_norm", norms)
    return (
        f"({named} OR {column} IN (SELECT m.norm FROM entities m WHERE {merged} AND m.origin = 'pred'))",
        params + more,
    )


def _has_mention(filters: list[Filter]) -> tuple[str, list[Any]]:
    """SQL on alias p: the post has one predicted mention meeting all these filters.

    Type and groundability are answered from the type bitmasks stored on the post (a scan of a
    narrow index); a named entity is looked up through the mentions' norm index.
    """
    by_key = {f.key: f.values for f in filters}
    if "entity" in by_key:
        parts = [_entity_filter(f) for f in filters]
        sql = " AND ".join(part for part, _ in parts)
        return f"p.id IN (SELECT e.post_id FROM entities e WHERE e.origin = 'pred' AND {sql})", [
            p for _, params in parts for p in params
        ]
    bits = sum(TYPE_BITS[kind] for kind in set(by_key.get("type", TYPE_BITS)))
    masks = {True: "p.ground_types", False: "p.unground_types"}
    columns = (
        [masks[value] for value in dict.fromkeys(by_key["groundable"])] if "groundable" in by_key else ["p.pred_types"]
    )
    return "(" + " OR ".join(f"({column} & ?) != 0" for column in columns) + ")", [bits] * len(columns)


def _negate(condition: str) -> str:
    """NOT that also keeps rows where the condition is unknown: -author:x keeps posts without an author."""
    return f"NOT COALESCE({condition}, 0)"


def _mention_groups(filters: list[Filter]) -> list[list[Filter]]:
    """Entity filters with different keys describe one mention; a repeated key starts another."""
    groups: list[list[Filter]] = []
    for f in filters:
        group = next((g for g in groups if all(other.key != f.key for other in g)), None)
        if group is None:
            groups.append(group := [])
        group.append(f)
    return groups


_POST_FTS = "SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?"
NAME_FTS = "SELECT n.norm FROM entity_names n WHERE n.id IN (SELECT rowid FROM entity_names_fts WHERE entity_names_fts MATCH ?)"


def post_where(query: str | Query | None, walk_matches: bool = True) -> Where:
    """Conditions on posts (alias p) for a query; None or blank text matches every post.

    walk_matches=False keeps SQLite from driving the query by the full-text matches (it then
    walks the feed order and tests each post), which is faster for a page of a common word.
    """
    where = Where()
    if query is None or (isinstance(query, str) and not query.strip()):
        return where
    parsed = parse_query(query) if isinstance(query, str) else query
    add_text(where, parsed, "p.id" if walk_matches else "+p.id", _POST_FTS)
    mention_filters = []
    for f, negated in parsed.filters():
        if f.key in ENTITY_FILTERS and not negated:
            mention_filters.append(f)
            continue
        condition, params = _post_filter(f) if f.key not in ENTITY_FILTERS else _has_mention([f])
        where.add(_negate(condition) if negated else condition, *params)
    for group in _mention_groups(mention_filters):
        condition, params = _has_mention(group)
        where.add(condition, *params)
    return where


def entity_where(parsed: Query) -> Where:
    """Conditions on predicted mentions (alias e, joined to its post as p) for an entity search."""
    where = Where()
    where.add("e.origin = 'pred'")
    add_text(where, parsed, "e.norm", NAME_FTS)
    for f, negated in parsed.filters():
        condition, params = _entity_filter(f) if f.key in ENTITY_FILTERS else _post_filter(f)
        where.add(_negate(condition) if negated else condition, *params)
    return where


def display_names(conn: sqlite3.Connection, norms: list[str]) -> dict[str, str]:
    marks = ", ".join("?" * len(norms))
    return dict(conn.execute(f"SELECT norm, name FROM entity_names WHERE norm IN ({marks})", norms).fetchall())
