"""Parser for the search language (documented in storage/search.py): user text in, a checked Query out.

Nothing here touches SQL; the compiler in search.py only ever sees validated values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from groundlens.storage.normalize import normalize_entity
from groundlens.records import ENTITY_TYPES


class QueryError(ValueError):
    """A malformed search query; `position` is the 0-based character index of the problem."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Text:
    """A word, a "quoted phrase" or a prefix* matched against full text."""

    value: str
    kind: Literal["word", "phrase", "prefix"]
    position: int


@dataclass(frozen=True)
class Filter:
    """key:value, already parsed; several values (from OR or commas) mean any of them."""

    key: str
    values: tuple[Any, ...]
    position: int


@dataclass(frozen=True)
class Clause:
    terms: tuple[Text, ...] | tuple[Filter, ...]  # OR-ed; a filter clause holds exactly one Filter
    negated: bool = False


@dataclass(frozen=True)
class Query:
    clauses: tuple[Clause, ...]  # AND-ed

    def texts(self, negated: bool) -> list[Clause]:
        return [c for c in self.clauses if isinstance(c.terms[0], Text) and c.negated == negated]

    def filters(self) -> list[tuple[Filter, bool]]:
        return [(c.terms[0], c.negated) for c in self.clauses if isinstance(c.terms[0], Filter)]


# --- filter values -------------------------------------------------------------------------

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?)?)?$")


def parse_period(value: str) -> tuple[datetime, datetime]:
    """YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC) -> [start, end) of that period."""
    match = _DATE.match(value)
    if not match:
        raise ValueError(value)
    year, month, day, hour, minute, second = (int(g) if g else None for g in match.groups())
    assert year is not None  # _DATE requires the year
    start = datetime(year, month or 1, day or 1, hour or 0, minute or 0, second or 0, tzinfo=UTC)
    if hour is not None:
        return start, start + timedelta(seconds=1 if second is not None else 60)
    if day is not None:
        return start, start + timedelta(days=1)
    if month is not None:
        return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, datetime(year + 1, 1, 1, tzinfo=UTC)


def _date_value(key: str) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        try:
            start, end = parse_period(value)
        except ValueError:
            raise ValueError(
                f"bad date {value!r} for {key}: (use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC)"
            ) from None
        return (start, end) if key == "date" else start

    return parse


def _type_value(value: str) -> str:
    upper = value.upper()
    if upper not in ENTITY_TYPES:
        raise ValueError(f"bad type {value!r} for type: (use {', '.join(ENTITY_TYPES)})")
    return upper


def _choice(key: str, choices: dict[str, Any]) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        if value.lower() not in choices:
            raise ValueError(f"bad value {value!r} for {key}: (use {', '.join(sorted(set(choices)))})")
        return choices[value.lower()]

    return parse


def _nonempty(transform: Callable[[str], str]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        result = transform(value)
        if not result:
            raise ValueError(f"{value!r} is empty once normalised")
        return result

    return parse


def _ocr_value(value: str) -> Text:
    """ocr:word, ocr:"two words" or ocr:pref* -> the text to find among the words read in the image."""
    text = value.strip()
    prefix = text.endswith("*")
    text = text[:-1] if prefix else text
    if "*" in text:
        raise ValueError("'*' may only end the text of ocr: (prefix search, as in ocr:nas*)")
    if not any(ch.isalnum() for ch in text):
        raise ValueError(f"ocr:{value} has nothing to search for (no letters or digits)")
    return Text(text, "prefix" if prefix else "phrase" if " " in text else "word", 0)


FILTERS: dict[str, Callable[[str], Any]] = {
    "type": _type_value,
    "entity": _nonempty(normalize_entity),
    "groundable": _choice("groundable", {"yes": True, "true": True, "no": False, "false": False}),
    "source": _nonempty(str.strip),
    "author": _nonempty(lambda v: v.strip().lstrip("@")),
    "lang": _nonempty(lambda v: v.strip().lower()),
    "has": _choice("has", {"image": "image", "entities": "entities", "gold": "gold"}),
    "is": _choice("is", {"retweet": "retweet", "quote": "quote", "reply": "reply"}),  # X's own operators
    "after": _date_value("after"),
    "before": _date_value("before"),
    "date": _date_value("date"),
    "ocr": _ocr_value,
}
ENTITY_FILTERS = frozenset({"type", "entity", "groundable"})  # about one mention, not the post
DATE_FILTERS = frozenset({"after", "before", "date"})
OPERATORS = frozenset({"OR", "AND", "NOT"})


# --- lexer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: Literal["text", "filter", "op"]
    position: int
    negated: bool = False
    text: Text | None = None
    filter: Filter | None = None
    op: str = ""


def _searchable(value: str, position: int, what: str) -> None:
    if not any(ch.isalnum() for ch in value):
        raise QueryError(f"{what} has nothing to search for (no letters or digits)", position)


def _closing_quote(query: str, opening: int) -> int:
    closing = query.find('"', opening + 1)
    if closing < 0:
        raise QueryError('unbalanced quote: a phrase opened here is never closed', opening)
    return closing


def _filter_token(key: str, raw: str, start: int, value_position: int, negated: bool) -> _Token:
    key = key.lower()
    if key not in FILTERS:
        known = ", ".join(f"{k}:" for k in FILTERS)
        raise QueryError(f"unknown filter '{key}:' (known: {known}); quote the text to search for it", start)
    if not raw.strip():
        raise QueryError(f"filter '{key}:' needs a value", value_position)
    values = []
    for part in raw.split(",") if key in ("type", "lang", "source", "has", "is") else [raw]:
        try:
            values.append(FILTERS[key](part))
        except ValueError as error:
            raise QueryError(str(error), value_position) from None
    return _Token("filter", start, negated, filter=Filter(key, tuple(values), start))


def _tokens(query: str) -> list[_Token]:
    tokens, i, n = [], 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
        start, negated = i, False
        if query[i] == "-":
            if i + 1 >= n or query[i + 1].isspace():
                raise QueryError("'-' must be directly followed by the word, phrase or filter to exclude", i)
            negated, i = True, i + 1
        if query[i] == '"':
            closing = _closing_quote(query, i)
            phrase = query[i + 1 : closing]
            if not phrase.strip():
                raise QueryError("empty phrase", i)
            _searchable(phrase, i, f'the phrase "{phrase}"')
            i = closing + 1
            kind: Literal["phrase", "prefix"] = "phrase"
            if i < n and query[i] == "*":
                kind, i = "prefix", i + 1
            tokens.append(_Token("text", start, negated, text=Text(phrase, kind, start)))
            continue
        end = i
        while end < n and not query[end].isspace() and query[end] != '"':
            end += 1
        bare = query[i:end]
        key, colon, value = bare.partition(":")
        if colon and key.isalpha():
            value_position = i + len(key) + 1
            if not value and end < n and query[end] == '"':
                closing = _closing_quote(query, end)
                value, end = query[end + 1 : closing], closing + 1
            tokens.append(_filter_token(key, value, start, value_position, negated))
        elif bare in OPERATORS and not negated:
            tokens.append(_Token("op", start, op=bare))
        else:
            tokens.append(_Token("text", start, negated, text=_word(bare, i)))
        i = end
    return tokens


def _word(bare: str, position: int) -> Text:
    if "*" in bare.rstrip("*") or bare.count("*") > 1:
        raise QueryError("'*' may only end a word (prefix search, as in trum*)", position + bare.index("*"))
    if bare.endswith("*"):
        _searchable(bare[:-1], position, f"the prefix '{bare}'")
        return Text(bare[:-1], "prefix", position)
    _searchable(bare, position, f"'{bare}'")
    return Text(bare, "word", position)


# --- parser ---------------------------------------------------------------------------------


def parse_query(query: str) -> Query:
    """Parse user text; raises QueryError (with a position) for anything malformed, including empty.

    Control characters (a pasted NUL or escape) separate words like spaces: FTS5 strings end at a NUL.
    """
    tokens = _tokens("".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in query))
    if not tokens:
        raise QueryError("empty query", 0)
    clauses: list[Clause] = []
    i = 0
    while i < len(tokens):
        term, i = _term(tokens, i)
        group = [term]
        while i < len(tokens) and tokens[i].op in ("OR", "AND"):
            operator = tokens[i]
            nxt, i = _term(tokens, i + 1, after=operator)
            if operator.op == "AND":
                clauses.append(_clause(group, operator.position))
                group = [nxt]
            else:
                group.append(nxt)
        clauses.append(_clause(group, group[0].position))
    return Query(tuple(clauses))


def _term(tokens: list[_Token], i: int, after: _Token | None = None) -> tuple[_Token, int]:
    if i >= len(tokens):
        assert after is not None
        raise QueryError(f"{after.op} must be followed by a word, phrase or filter", after.position)
    token = tokens[i]
    if token.op == "NOT":
        if i + 1 >= len(tokens) or tokens[i + 1].kind == "op" or tokens[i + 1].negated:
            raise QueryError("NOT must be followed by a word, phrase or filter", token.position)
        target = tokens[i + 1]
        return _Token(target.kind, token.position, True, target.text, target.filter), i + 2
    if token.kind == "op":
        where = f"after {after.op}" if after else "here"
        raise QueryError(f"{token.op} cannot stand {where}; it joins two words, phrases or filters", token.position)
    return token, i + 1


def _clause(group: list[_Token], position: int) -> Clause:
    if len(group) == 1:
        token = group[0]
        if token.text is not None:
            return Clause((token.text,), token.negated)
        if token.filter is not None:
            return Clause((token.filter,), token.negated)
        raise QueryError("an operator needs terms on both sides", token.position)
    if any(token.negated for token in group):
        raise QueryError("a negated term cannot be part of an OR", next(t.position for t in group if t.negated))
    if all(token.kind == "text" for token in group):
        return Clause(tuple(token.text for token in group if token.text is not None))  # every one is a text token
    keys = {token.filter.key for token in group if token.filter}
    if all(token.kind == "filter" for token in group) and len(keys) == 1:
        values = tuple(value for token in group if token.filter for value in token.filter.values)
        return Clause((Filter(keys.pop(), values, group[0].position),))
    raise QueryError(
        "OR joins words and phrases, or values of one filter (type:PER OR type:LOC), not a mix", group[1].position
    )
