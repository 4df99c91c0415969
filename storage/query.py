"""Parser for the search language: user text in, a checked Query out.

The language is described once, here, beside the parser: TEXT_SYNTAX and FILTER_SPECS (syntax, meaning,
examples, and each filter's value parser) are what the app's search help is generated from and what
the tests check docs/SEARCH.md and README against. Adding a filter = one FilterSpec + its SQL in
search.py. Nothing here touches SQL; the compiler in search.py only ever sees validated values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from groundlens.records import ENTITY_TYPES
from groundlens.storage.normalize import normalize_entity


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


@dataclass(frozen=True)
class Syntax:
    """One line of the language's reference: examples first (each must parse), then what they find."""

    examples: tuple[str, ...]
    meaning: str  # plain words for analysts; `code` in backquotes


@dataclass(frozen=True, kw_only=True)
class FilterSpec(Syntax):
    """A key:value filter: its reference line and the parser of one value (ValueError: the reason)."""

    key: str
    parse: Callable[[str], Any]
    several: bool = False  # key:a,b means any of a, b


TEXT_SYNTAX: tuple[Syntax, ...] = (
    Syntax(("durant",), "the word, in the post or in text read in its photo (capitals and accents ignored)"),
    Syntax(('"kevin durant"',), "these words side by side, in this order"),
    Syntax(("warri*", '"golden sta"*'), "words that start so: warriors, warrior..."),
    Syntax(("-trade", "NOT trade", "-has:image"), "leaves out posts that match the word, phrase or filter"),
    Syntax(("nba OR nfl",), "either one; `draft nba OR nfl` means draft and (nba or nfl)"),
    Syntax(("draft AND nba",), "both; AND can be left out: every term must match anyway"),
)

FILTER_SPECS: tuple[FilterSpec, ...] = (
    FilterSpec(
        ("type:PER", "type:PER,LOC"),
        "a name of that kind was found: person `PER`, place `LOC`, organisation `ORG`, `OTHER`; "
        "`type:PER,LOC` (or `type:PER OR type:LOC`) either",
        key="type",
        parse=_type_value,
        several=True,
    ),
    FilterSpec(
        ('entity:"Kevin Durant"',),
        "that name was found (capitals, accents, `@`, `#` and a possessive 's ignored)",
        key="entity",
        parse=_nonempty(normalize_entity),
    ),
    FilterSpec(
        ("groundable:yes", "groundable:no"),
        "a name found in the post is judged visible (`yes`) or not visible (`no`) in its photo",
        key="groundable",
        parse=_choice("groundable", {"yes": True, "true": True, "no": False, "false": False}),
    ),
    FilterSpec(
        ("source:x", "source:csv"),
        "imported from there: `x` (X collections, archives and the API), `jsonl`, `csv`, `folder`, `twitter-gmner`",
        key="source",
        parse=_nonempty(str.strip),
        several=True,
    ),
    FilterSpec(
        ("author:@nasa", 'author:"Jane Doe"'),
        "written by that account (`@` and capitals optional)",
        key="author",
        parse=_nonempty(lambda v: v.strip().lstrip("@")),
    ),
    FilterSpec(
        ("lang:en", "lang:en,fr"),
        "written in that language",
        key="lang",
        parse=_nonempty(lambda v: v.strip().lower()),
        several=True,
    ),
    FilterSpec(
        ("has:image", "has:entities", "has:gold"),
        "with a photo; with names found by the pipeline; with hand-made (gold) annotations",
        key="has",
        parse=_choice("has", {"image": "image", "entities": "entities", "gold": "gold"}),
        several=True,
    ),
    FilterSpec(
        ("is:retweet", "is:quote,reply", "-is:retweet"),
        "retweets, quote posts or replies, as on X; `-is:retweet` leaves the copies out (originals only)",
        key="is",
        parse=_choice("is", {"retweet": "retweet", "quote": "quote", "reply": "reply"}),
        several=True,
    ),
    FilterSpec(
        ("after:2024-01-01",), "posted on or after the start of that day (UTC)", key="after", parse=_date_value("after")
    ),
    FilterSpec(("before:2024-02-01",), "posted before that day (UTC)", key="before", parse=_date_value("before")),
    FilterSpec(
        ("date:2024-01", "date:2024", "date:2024-01-15"),
        "posted in that month, year or day (UTC)",
        key="date",
        parse=_date_value("date"),
    ),
    FilterSpec(
        ("ocr:nasa", 'ocr:"kennedy space"', "ocr:nas*"),
        "its photo shows that word, phrase or prefix (text read in the image)",
        key="ocr",
        parse=_ocr_value,
    ),
    FilterSpec(
        ("tag:urgent", 'tag:"to check"', "-tag:done"),
        "posts an analyst tagged so (capitals ignored); `-tag:done` the others. A tag doubles as a collection: "
        "a post may carry several",
        key="tag",
        parse=_nonempty(lambda v: " ".join(v.split())),  # storage/tags.py
    ),
    FilterSpec(
        ("saved:floods", 'saved:"recent floods"'),
        "what the saved search of that name finds, as its query reads now (saved searches may use `saved:` "
        "themselves, never in a circle)",
        key="saved",
        parse=_nonempty(lambda v: " ".join(v.split())),  # expanded by storage/saved_searches.py
    ),
)

SYNTAX_NOTES: tuple[str, ...] = (
    (
        "Dates are `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`, in UTC: "
        "`after:2024-01-01 before:2024-02-01` is January 2024."
    ),
    'Values with spaces go in quotes: `author:"Jane Doe"`.',
    (
        "Leaving out a filter keeps posts where it is unknown: `-author:someone` keeps posts without an author, "
        "`-date:2024` undated ones."
    ),
    (
        "Name filters describe one name together: `type:PER groundable:yes` is a person visible in the photo; "
        "`type:PER type:LOC` asks for a person and a place."
    ),
)

FILTERS: dict[str, Callable[[str], Any]] = {spec.key: spec.parse for spec in FILTER_SPECS}


def syntax_markdown() -> str:
    """The reference as docs/SEARCH.md holds it (a test compares the two): one table, then the notes."""
    rows = [
        f"| {' · '.join(f'`{example}`' for example in line.examples)} | {line.meaning} |"
        for line in (*TEXT_SYNTAX, *FILTER_SPECS)
    ]
    notes = [f"- {note}" for note in SYNTAX_NOTES]
    return "\n".join(["| query | finds posts... |", "|---|---|", *rows, "", *notes]) + "\n"


def syntax_text() -> str:
    """The reference as a terminal shows it (`search --help`): each line's examples, then what they find."""
    lines = [f"{', '.join(line.examples)}\n    {line.meaning}" for line in (*TEXT_SYNTAX, *FILTER_SPECS)]
    return "\n".join(["Query syntax (every term must match):", *lines, "", *SYNTAX_NOTES])


ENTITY_FILTERS = frozenset({"type", "entity", "groundable"})  # about one mention, not the post
DATE_FILTERS = frozenset({"after", "before", "date"})
OPERATORS = frozenset({"OR", "AND", "NOT"})
_SEVERAL = frozenset(spec.key for spec in FILTER_SPECS if spec.several)


# --- lexer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: Literal["text", "filter", "op"]
    position: int
    negated: bool = False
    text: Text | None = None
    filter: Filter | None = None
    op: str = ""
    end: int = 0  # where the token's text ends: rewrite_filters keeps the rest of a query as typed


def _searchable(value: str, position: int, what: str) -> None:
    if not any(ch.isalnum() for ch in value):
        raise QueryError(f"{what} has nothing to search for (no letters or digits)", position)


def _closing_quote(query: str, opening: int) -> int:
    closing = query.find('"', opening + 1)
    if closing < 0:
        raise QueryError("unbalanced quote: a phrase opened here is never closed", opening)
    return closing


def _filter_token(key: str, raw: str, start: int, value_position: int, negated: bool) -> _Token:
    key = key.lower()
    if key not in FILTERS:
        known = ", ".join(f"{k}:" for k in FILTERS)
        raise QueryError(f"unknown filter '{key}:' (known: {known}); quote the text to search for it", start)
    if not raw.strip():
        raise QueryError(f"filter '{key}:' needs a value", value_position)
    values = []
    for part in raw.split(",") if key in _SEVERAL else [raw]:
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
            tokens.append(_Token("text", start, negated, text=Text(phrase, kind, start), end=i))
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
            token = _filter_token(key, value, start, value_position, negated)
        elif bare in OPERATORS and not negated:
            token = _Token("op", start, op=bare)
        else:
            token = _Token("text", start, negated, text=_word(bare, i))
        tokens.append(replace(token, end=end))
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
    return Query(tuple(clause for clause, _ in _clauses(_plain(query))))


def rewrite_filters(query: str, keys: Collection[str], added: str = "") -> str:
    """`query` without its clauses on these filter keys (excluded ones too), then `added` (query text).

    The rest stays as typed: phrases, exclusions, OR groups and their order. A blank query gives `added`;
    QueryError when `query` or `added` is malformed, so a rewrite never turns bad text into another meaning.
    """
    if added.strip():
        parse_query(added)
    text = _plain(query)
    spans = _clauses(text) if text.strip() else []
    kept = [text[start:end] for clause, (start, end) in spans if not _on_filters(clause, keys)]
    return " ".join([*kept, added.strip()]).strip()


def _on_filters(clause: Clause, keys: Collection[str]) -> bool:
    term = clause.terms[0]
    return isinstance(term, Filter) and term.key in keys


def _plain(query: str) -> str:
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in query)


def _clauses(query: str) -> list[tuple[Clause, tuple[int, int]]]:
    """The AND-ed clauses, each with the span of text it was parsed from (an explicit AND left out)."""
    tokens = _tokens(query)
    if not tokens:
        raise QueryError("empty query", 0)
    clauses: list[tuple[Clause, tuple[int, int]]] = []
    i = 0
    while i < len(tokens):
        term, i = _term(tokens, i)
        group = [term]
        while i < len(tokens) and tokens[i].op in ("OR", "AND"):
            operator = tokens[i]
            nxt, i = _term(tokens, i + 1, after=operator)
            if operator.op == "AND":
                clauses.append((_clause(group, operator.position), (group[0].position, group[-1].end)))
                group = [nxt]
            else:
                group.append(nxt)
        clauses.append((_clause(group, group[0].position), (group[0].position, group[-1].end)))
    return clauses


def _term(tokens: list[_Token], i: int, after: _Token | None = None) -> tuple[_Token, int]:
    if i >= len(tokens):
        assert after is not None
        raise QueryError(f"{after.op} must be followed by a word, phrase or filter", after.position)
    token = tokens[i]
    if token.op == "NOT":
        if i + 1 >= len(tokens) or tokens[i + 1].kind == "op" or tokens[i + 1].negated:
            raise QueryError("NOT must be followed by a word, phrase or filter", token.position)
        target = tokens[i + 1]
        return _Token(target.kind, token.position, True, target.text, target.filter, end=target.end), i + 2
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
