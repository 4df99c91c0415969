"""JSON Lines (twarc2 raw v2 pages or flattened one-tweet-per-line) and whole-document .json files.

Each line is dispatched on its own shape, so a file mixing raw pages and flat tweets, or a
twarc2 file named .json, still imports; a line that is not JSON is reported with its number.

`parse_json` is json.loads made safe for files from anywhere: nesting deeper than MAX_DEPTH
levels (which would exhaust the stack here or when the store writes the record back out),
integers past Python's digit limit and escapes of half a surrogate pair ("\\ud800", which no
UTF-8 database can hold) are refused with a reason; NaN and +-Infinity, which Python writes but
JSON does not have, and floats too large to hold (1e400) are read as null so that the stored
record and its exports stay valid JSON.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from groundlens.core.ingest.fields import record_items
from groundlens.core.ingest.report import ItemError, ParsedItem
from groundlens.core.ingest.textio import encoding_problem, sniff_encoding, text_lines
from groundlens.core.ingest.v2 import is_v2_page, non_post_kind, posts_from_page, records_in

FLAT_SOURCE = "jsonl"
MAX_DEPTH = 100  # tweets nest about 6 deep; the interpreter's own limit is near 1000
# escapes of a whole surrogate pair (an emoji written by ensure_ascii), and of any half of one
_PAIR = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


class JSONProblem(ValueError):
    """Text that json.loads reads, or would crash on, but that cannot be stored as a record."""


def _finite(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


_DECODER = json.JSONDecoder(parse_constant=lambda _: None, parse_float=_finite)


def parse_json(text: str) -> Any:
    """json.loads for untrusted text: JSONDecodeError for bad syntax, JSONProblem (the reason) for the rest."""
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise JSONProblem(f"nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:  # the only other one: an integer literal over sys.get_int_max_str_digits()
        raise JSONProblem(f"a number has more than {sys.get_int_max_str_digits()} digits") from None
    if text.count("[") + text.count("{") > MAX_DEPTH and _deeper_than(value, MAX_DEPTH):
        raise JSONProblem(f"nested more than {MAX_DEPTH} levels deep")
    if ("\\ud" in text or "\\uD" in text) and _SURROGATE.search(_PAIR.sub("", text)):  # filters; encoding tells
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as error:
            half = error.object[error.start]
            raise JSONProblem(f"\\u{ord(half):04x} is half of a UTF-16 surrogate pair, not a character") from None
    return value


def items_from_object(obj: Any, location: str, base_dir: Path) -> Iterator[ParsedItem | ItemError]:
    """A v2 page's tweets, or one flat record."""
    if is_v2_page(obj):
        yield from posts_from_page(obj, location)
        return
    yield from record_items(obj, location, source=FLAT_SOURCE, base_dir=base_dir)


def _json_reason(error: json.JSONDecodeError, line: str) -> str:
    reason = f"invalid JSON: {error.msg} (column {error.colno})"
    if not line.endswith("\n") or error.pos >= len(line.rstrip()):
        reason += "; the line ends early: truncated?"
    return reason


def json_objects(path: Path) -> Iterator[tuple[str, Any] | ItemError]:
    """(location, decoded object) per non-blank line, or an ItemError for a line that does not decode."""
    try:
        for number, line in enumerate(text_lines(path), start=1):
            location = f"{path}:{number}"
            if not line.strip():
                continue
            problem = encoding_problem(line)
            if problem:
                yield ItemError(location, problem)
                continue
            try:
                yield location, parse_json(line)
            except json.JSONDecodeError as error:
                yield ItemError(location, _json_reason(error, line))
            except JSONProblem as error:
                yield ItemError(location, f"invalid JSON: {error}")
    except UnicodeDecodeError as error:
        yield ItemError(str(path), f"not valid text in its declared encoding ({error.reason})")


def _whole_document(path: Path) -> Any | None:
    """The file as one JSON document (a pretty-printed .json), or None when it is not one (then read as lines)."""
    raw = path.read_bytes()
    try:
        return parse_json(raw.decode(sniff_encoding(raw[:4])))
    except (UnicodeDecodeError, ValueError):
        return None


def _objects(path: Path) -> Iterator[tuple[str, Any] | ItemError]:
    """(location, object): the items of a whole-document array, the document, or each line."""
    document = _whole_document(path) if path.suffix.lower() == ".json" else None
    if isinstance(document, list):
        yield from ((f"{path} [item {index}]", obj) for index, obj in enumerate(document))
    elif document is not None:
        yield str(path), document
    else:
        yield from json_objects(path)


def read_jsonl(path: Path, images_dir: Path | None = None) -> Iterator[ParsedItem | ItemError]:
    """Posts of the file; objects of other kinds (twarc2 users, lists, counts...) get one message per kind."""
    base_dir = images_dir or path.parent
    others: dict[str, tuple[str, int]] = {}  # kind -> (where first seen, how many)
    for found in _objects(path):
        if isinstance(found, ItemError):
            yield found
        elif kind := non_post_kind(found[1]):
            first, count = others.get(kind, (found[0], 0))
            others[kind] = first, count + records_in(found[1])
        else:
            yield from items_from_object(found[1], found[0], base_dir)
    for kind, (first, count) in others.items():
        yield ItemError(first, f"this file holds {kind} objects, not posts ({count:,} skipped)")
