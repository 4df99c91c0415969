"""CSV/TSV exports (spreadsheets, scrapers): one post per row, header names matched liberally.

Rows without an id column get a content-derived id, so importing the same sheet twice updates
its posts instead of duplicating them.

A quote left open swallows the rest of the file into one field, which the csv module returns
without complaint; a marker line appended after the file's last line tells: it ends up inside
a field only when a quote was never closed. Fields may be as long as a post text may be
(fields.MAX_TEXT_CHARS, far above the csv module's 128 KiB default); a longer one is refused
with its row.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from itertools import chain, islice
from pathlib import Path

from groundlens.core.ingest.fields import MAX_TEXT_CHARS, RecordError, record_to_post
from groundlens.core.ingest.report import ItemError, ParsedItem
from groundlens.core.ingest.textio import encoding_problem, text_lines

CSV_SOURCE = "csv"
_DELIMITERS = ",;\t|"
_END = "\ufdd0end of file\ufdd0"  # a noncharacter: never in real text
_SEP_LINE = re.compile(r'^"?sep=(.)"?\s*$')
# process-wide, and only ever raised: past it the csv module raises mid-row. Over MAX_TEXT_CHARS
# a field is refused here with a reason; over this the csv module's error is reported instead.
csv.field_size_limit(max(csv.field_size_limit(), 16 * MAX_TEXT_CHARS))


def declared_delimiter(line: str) -> str | None:
    """The delimiter Excel's `sep=;` first line names (written before the header so that Excel splits the
    columns whatever the computer's list separator), or None when the line is not one."""
    found = _SEP_LINE.match(line)
    return found.group(1) if found else None


def _delimiter(path: Path, header: str) -> str:
    """The delimiter the header line uses most (csv.Sniffer guesses wrong on prose)."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    best = max(_DELIMITERS, key=header.count)
    return best if header.count(best) else ","


def _cell_problem(header: list[str], row: list[str]) -> str | None:
    for name, cell in zip(header, row):
        if len(cell) > MAX_TEXT_CHARS:
            return f"field {name!r} is {len(cell):,} characters long, over the {MAX_TEXT_CHARS:,} limit"
        problem = encoding_problem(cell)
        if problem:
            return f"field {name!r}: {problem}"
    return None


def _content_id(row: list[str]) -> str:
    return "sha1:" + hashlib.sha1("\x1f".join(row).encode("utf-8", "surrogateescape")).hexdigest()[:20]


def read_csv(path: Path, images_dir: Path | None = None) -> Iterator[ParsedItem | ItemError]:
    lines = text_lines(path)
    try:
        first = list(islice(lines, 1))
    except UnicodeDecodeError as error:
        yield ItemError(str(path), f"not valid text in its declared encoding ({error.reason})")
        return
    skipped, delimiter = 0, declared_delimiter(first[0]) if first else None
    if delimiter is not None:
        skipped, first = 1, list(islice(lines, 1))
    if not first or not first[0].strip():
        yield ItemError(f"{path}:{1 + skipped}", "no header row (empty file?)")
        return
    reader = csv.reader(chain(first, lines, [_END + "\n"]), "excel", delimiter=delimiter or _delimiter(path, first[0]))
    header = [name.strip() for name in next(reader)]
    problem = encoding_problem("".join(header))
    if problem:
        yield ItemError(f"{path}:{1 + skipped}", f"header {problem}")
        return
    base_dir = images_dir or path.parent
    while True:
        start = reader.line_num + 1
        location = f"{path}:{start + skipped}"
        try:
            row = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as error:
            yield ItemError(str(path), f"not valid text in its declared encoding ({error.reason})")
            return
        except csv.Error as error:
            yield ItemError(location, f"malformed CSV: {error}")
            if reader.line_num < start:
                return  # the reader could not move past the bad line
            continue
        if row == [_END]:
            return
        if row and _END in row[-1]:
            yield ItemError(
                location,
                "a quote opened in this row is never closed:"
                f" lines {start + skipped} to {reader.line_num - 1 + skipped}, the end of the"
                " file, are not imported",
            )
            return
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield ItemError(location, f"row has {len(row)} fields, the header has {len(header)}")
            continue
        problem = _cell_problem(header, row)
        if problem:
            yield ItemError(location, problem)
            continue
        record = dict(zip(header, row))
        try:
            yield ParsedItem(
                location,
                record_to_post(record, source=CSV_SOURCE, base_dir=base_dir, default_id=_content_id(row)),
            )
        except RecordError as error:
            yield ItemError(location, str(error))
