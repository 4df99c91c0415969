"""JSON Lines (twarc2 raw v2 pages or flattened one-tweet-per-line) and whole-document .json files.

Each line is dispatched on its own shape, so a file mixing raw pages and flat tweets, or a
twarc2 file named .json, still imports; a line that is not JSON is reported with its number.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from core.ingest.fields import RecordError, record_to_post
from core.ingest.report import ItemError, ParsedItem
from core.ingest.textio import encoding_problem, sniff_encoding, text_lines
from core.ingest.v2 import posts_from_page

FLAT_SOURCE = "jsonl"


def is_v2_page(obj: Any) -> bool:
    return isinstance(obj, dict) and "text" not in obj and isinstance(obj.get("data"), (list, dict))


def items_from_object(obj: Any, location: str, base_dir: Path) -> Iterator[ParsedItem | ItemError]:
    """A v2 page's tweets, or one flat record."""
    if is_v2_page(obj):
        yield from posts_from_page(obj, location)
        return
    try:
        yield ParsedItem(location, record_to_post(obj, source=FLAT_SOURCE, base_dir=base_dir))
    except RecordError as error:
        yield ItemError(location, str(error))


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
                yield location, json.loads(line)
            except json.JSONDecodeError as error:
                yield ItemError(location, _json_reason(error, line))
    except UnicodeDecodeError as error:
        yield ItemError(str(path), f"not valid text in its declared encoding ({error.reason})")


def _whole_document(path: Path) -> Any | None:
    """The file as one JSON document (a pretty-printed .json), or None when it is not one."""
    raw = path.read_bytes()
    try:
        return json.loads(raw.decode(sniff_encoding(raw[:4])))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def read_jsonl(path: Path, images_dir: Path | None = None) -> Iterator[ParsedItem | ItemError]:
    base_dir = images_dir or path.parent
    document = _whole_document(path) if path.suffix.lower() == ".json" else None
    if isinstance(document, list):
        for index, obj in enumerate(document):
            yield from items_from_object(obj, f"{path} [item {index}]", base_dir)
        return
    if document is not None:
        yield from items_from_object(document, str(path), base_dir)
        return
    for found in json_objects(path):
        if isinstance(found, ItemError):
            yield found
        else:
            yield from items_from_object(found[1], found[0], base_dir)
