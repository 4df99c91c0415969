"""Export posts with their mentions and regions: JSONL (one post per line) or CSV (one row per mention).

Reads in chunks so a million posts stream through constant memory. Writes to a handle the caller
opened (core.safe_output renames a complete file into place); `CsvWriter` is the one CSV writer
for every spreadsheet GroundLens writes (this export, the Trends page's), so none runs formulas.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import IO, Any

from groundlens.records import Entity, ImageFindings, Post
from groundlens.storage.store import Store

FORMATS = ("jsonl", "csv")
CSV_COLUMNS = (
    "post_id", "source", "native_id", "author", "created_at", "lang", "post_url", "retweet_of", "quote_of", "reply_to",
    "image_url", "image_file",
    "origin", "start", "end", "text", "norm", "type", "score", "groundable", "groundable_score", "verdict",
    "evidence", "expression", "model_version", "regions",
)
_CHUNK = 1000


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def iter_posts(store: Store, ids: list[int]) -> Iterator[tuple[Post, list[Entity], ImageFindings]]:
    """These posts, in order, each with all its mentions (pred and gold) in text order and what its
    image showed besides them."""
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found, mentions = store.get_posts(chunk), store.entities_for_posts(chunk, origin=None)
        seen = store.image_findings(chunk)
        yield from ((found[i], mentions[i], seen[i]) for i in chunk if i in found)


def post_record(post: Post, mentions: list[Entity], seen: ImageFindings) -> dict[str, Any]:
    record = asdict(post)
    record["created_at"] = _iso(post.created_at)
    record["entities"] = [_entity_record(entity) for entity in mentions]
    record["image_text"] = [asdict(line) for line in seen.texts]
    record["image_objects"] = [asdict(thing) for thing in seen.objects]
    return record


def _entity_record(entity: Entity) -> dict[str, Any]:
    record = asdict(entity)
    record.pop("post_id")
    return record


def write(store: Store, handle: IO[str], fmt: str, query: str | None) -> tuple[int, int]:
    """Write the export to `handle` (opened with newline=""); returns (posts, mentions)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (use {', '.join(FORMATS)})")
    ids = store.post_ids(query, order="created_asc")
    posts = mentions = 0
    writer = CsvWriter(handle) if fmt == "csv" else None
    if writer:
        writer.writerow(CSV_COLUMNS)
    for post, found, seen in iter_posts(store, ids):
        posts, mentions = posts + 1, mentions + len(found)
        if writer:
            writer.writerows(_csv_rows(post, found))
        else:
            handle.write(json.dumps(post_record(post, found, seen), ensure_ascii=False) + "\n")
    return posts, mentions


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (=HYPERLINK(...) in an author name) gets a leading '."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_STARTS) else value


class CsvWriter:
    """The CSV writer for every spreadsheet GroundLens writes: csv.writer whose text cells can never
    start a formula, since names and texts come from strangers' posts."""

    def __init__(self, handle: IO[str]):
        self._writer = csv.writer(handle)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def _csv_rows(post: Post, mentions: list[Entity]) -> Iterator[list[Any]]:
    image = post.media[0] if post.media else None
    for entity in mentions:
        regions = [asdict(region) for region in entity.regions]
        yield [
            post.id, post.source, post.native_id, post.author, _iso(post.created_at), post.lang, post.url,
            post.retweet_of, post.quote_of, post.reply_to, image and image.url, image and image.local_path, entity.origin, entity.start, entity.end, entity.text,
            entity.norm, entity.type, entity.score, entity.groundable, entity.groundable_score, entity.verdict,
            "; ".join(e.detail for e in entity.evidence), entity.expression, entity.model_version,
            json.dumps(regions) if regions else "",
        ]
