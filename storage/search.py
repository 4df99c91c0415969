"""Search: the query language, compiled to SQL with every user value bound as a parameter.

Query syntax (the same text is in docs/SEARCH.md)
-------------------------------------------------
Terms are separated by spaces and must all match (AND).

=========================  ===========================================================================
``durant``                 a word, anywhere in the post text or in the text read in its image
                           (case and accents ignored)
``"kevin durant"``         a phrase: these words, in this order
``warri*``                 a prefix: warriors, warrior... (``"golden sta"*`` for a phrase prefix)
``-trade``, ``NOT x``      exclude posts matching the word, phrase or filter
``nba OR nfl``             either; OR binds tighter than the implicit AND:
                           ``draft nba OR nfl`` = draft AND (nba OR nfl)
``AND``                    optional, the default between terms
``type:PER``               has a predicted entity of that type (PER, LOC, ORG, OTHER);
                           ``type:PER,LOC`` or ``type:PER OR type:LOC`` for either
``entity:"Kevin Durant"``  has a predicted mention of that entity (normalised name)
``groundable:yes|no``      has a predicted entity judged (not) visible in the image
``source:x``               imported from that source (case ignored): x, jsonl, csv, folder, twitter-gmner
``author:@name``           written by that author (``@`` optional, case ignored)
``lang:en``                in that language
``has:image``              has an image (``has:entities``, ``has:gold`` likewise)
``is:retweet``             a retweet (``is:quote``, ``is:reply`` likewise; ``-is:retweet``: originals)
``after:2024-01-01``       created on or after the start of that day (UTC)
``before:2024-02-01``      created before the start of that day (UTC)
``date:2024-01``           created within that year, month or day (``date:2024``, ``date:2024-01-15``)
``ocr:nasa``               the text read in the post's image (OCR) has that word;
                           ``ocr:"kennedy space"`` a phrase, ``ocr:nas*`` a prefix
=========================  ===========================================================================

Dates are ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``, in UTC; ``after:`` and
``before:`` take the start of the given period. Filter values with spaces go in quotes:
``author:"Jane Doe"``. An excluded filter keeps posts where the value is unknown:
``-author:someone`` keeps posts without an author, ``-date:2024`` undated ones.

Entity filters describe one mention together: ``type:PER groundable:yes`` finds posts with a
person visible in the image; repeating one, ``type:PER type:LOC``, asks for two mentions (a
person and a place).

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

from groundlens.storage.db import to_epoch
from groundlens.storage.entities import TYPE_BITS
from groundlens.storage.normalize import fold
from groundlens.storage.query import ENTITY_FILTERS, Clause, Filter, Query, Text, parse_query


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
    return date_condition(f, "p.created_at", to_epoch)


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
    column = {"type": "e.type", "entity": "e.norm", "groundable": "e.groundable"}[f.key]
    values = tuple(int(v) for v in f.values) if f.key == "groundable" else f.values
    return _any_of(column, values)


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
    columns = [masks[value] for value in dict.fromkeys(by_key["groundable"])] if "groundable" in by_key else [
        "p.pred_types"
    ]
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
NAME_FTS = (
    "SELECT n.norm FROM entity_names n WHERE n.id IN (SELECT rowid FROM entity_names_fts WHERE entity_names_fts MATCH ?)"
)


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
