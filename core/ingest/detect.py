"""Which reader handles a path: `--format` when given, else the extension plus a look at the content."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from groundlens.core.ingest.archive import read_archive
from groundlens.core.ingest.csvfile import declared_delimiter, read_csv
from groundlens.core.ingest.fields import TEXT
from groundlens.core.ingest.folder import read_folder
from groundlens.core.ingest.gmner_import import read_gmner
from groundlens.core.ingest.jsonl import read_jsonl
from groundlens.core.ingest.report import ItemError, ParsedItem
from groundlens.core.ingest.textio import sniff_encoding

Reader = Callable[[Path, Path | None], Iterator[ParsedItem | ItemError]]

# twarc2 and flattened JSONL share one reader: it dispatches on each line's shape.
READERS: dict[str, Reader] = {
    "twarc2": read_jsonl,
    "jsonl": read_jsonl,
    "x-archive": read_archive,
    "csv": read_csv,
    "folder": read_folder,
    "gmner": read_gmner,
}
FORMATS = tuple(READERS)
_JSON_SUFFIXES = {".jsonl", ".ndjson", ".jsonlines", ".json"}


class FormatError(ValueError):
    """The format of a path cannot be told; the message says what was seen."""


def _head(path: Path, size: int = 4096) -> str:
    with open(path, "rb") as handle:
        raw = handle.read(size)
    return raw.decode(sniff_encoding(raw[:4]), errors="replace").lstrip("\ufeff").lstrip()


def _looks_like_csv_header(line: str) -> bool:
    cells = re.split(r"[,;\t|]", line)
    names = {re.sub(r"[^a-z0-9]", "", cell.strip().strip('"').lower()) for cell in cells}
    return len(cells) > 1 and bool(names & set(TEXT))


def detect_format(path: Path) -> str:
    if path.is_dir():
        splits = sorted((path / "txt").glob("*.txt"))
        return "gmner" if splits and _head(splits[0]).startswith("IMGID:") else "folder"
    if not path.is_file():
        raise FormatError("no such file or folder")
    head = _head(path)
    suffix = path.suffix.lower()
    if head.startswith("window.YTD.") or suffix == ".js":
        return "x-archive"
    if head.startswith("IMGID:"):
        return "gmner"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in _JSON_SUFFIXES or head.startswith(("{", "[")):
        return "twarc2" if head.startswith("{") and '"data"' in head.split("\n", 1)[0][:200] else "jsonl"
    if declared_delimiter(head.split("\n", 1)[0]) or _looks_like_csv_header(head.split("\n", 1)[0]):
        return "csv"
    if not head:
        raise FormatError("the file is empty")
    raise FormatError(f"cannot tell the format from the name or the content; pass --format ({', '.join(FORMATS)})")
