"""Export posts with their mentions and regions: JSONL (one post per line), CSV (one row per mention)
or COCO (one JSON object: images, categories, one annotation per region with its mask).

Mentions are the corrected view (storage/corrections.py); each says whether the analyst corrected it.

Reads in chunks so a million posts stream through constant memory. Writes to a handle the caller
opened (core.safe_output renames a complete file into place); `CsvWriter` is the one CSV writer
for every spreadsheet GroundLens writes (this export, the Trends page's), so none runs formulas.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from groundlens.records import ENTITY_TYPES, Entity, ImageFindings, Media, Post, Region
from groundlens.storage.store import Store

FORMATS = ("jsonl", "csv", "coco")
CSV_COLUMNS = (
    "post_id",
    "source",
    "native_id",
    "author",
    "created_at",
    "lang",
    "post_url",
    "retweet_of",
    "quote_of",
    "reply_to",
    "image_url",
    "image_file",
    "origin",
    "start",
    "end",
    "text",
    "norm",
    "type",
    "score",
    "groundable",
    "groundable_score",
    "verdict",
    "evidence",
    "expression",
    "model_version",
    "regions",
    "corrected",
    "corrections",  # the analyst corrected this mention: yes/no, and the ids of those corrections
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


def corrected_fields(entity: Entity) -> dict[str, Any]:
    """What every export says of a mention the analyst corrected: whether, and by which corrections."""
    return {"corrected": entity.corrected, "corrected_by": list(entity.corrected_by)}


def _entity_record(entity: Entity) -> dict[str, Any]:
    record = asdict(entity)
    record.pop("post_id")
    record.update(corrected_fields(entity))
    return record


class Cancelled(Exception):
    """The caller asked the export to stop; the partial output is to be thrown away (atomic_output does)."""


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


Progress = Callable[[int, int], None]  # (posts done, posts in all)


def chosen_ids(store: Store, query: str | None, ids: list[int] | None, order: str = "created_asc") -> list[int]:
    """The posts an export (report, network) is about: the given ids (a selection, kept in its order, each
    once), else the query's matches in `order` (oldest first by default)."""
    return list(dict.fromkeys(ids)) if ids is not None else store.post_ids(query, order=order)


def iter_chosen(
    store: Store, ids: list[int], progress: Progress | None = None, cancel: CancelFlag | None = None
) -> Iterator[tuple[Post, list[Entity], ImageFindings]]:
    """iter_posts that reports each post done and stops (Cancelled) between posts when asked to."""
    for done, item in enumerate(iter_posts(store, ids), start=1):
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"export cancelled after {done - 1} of {len(ids)} posts")
        yield item
        if progress is not None:
            progress(done, len(ids))


def write(
    store: Store,
    handle: IO[str],
    fmt: str,
    query: str | None,
    ids: list[int] | None = None,
    progress: Progress | None = None,
    cancel: CancelFlag | None = None,
) -> tuple[int, int]:
    """Write the export of `ids` (or of the query's matches) to `handle` (opened with newline="");
    returns (posts, mentions), or for COCO (posts, annotations)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (use {', '.join(FORMATS)})")
    chosen = iter_chosen(store, chosen_ids(store, query, ids), progress, cancel)
    if fmt == "coco":
        return write_coco(store, handle, chosen)
    posts = mentions = 0
    writer = CsvWriter(handle) if fmt == "csv" else None
    if writer:
        writer.writerow(CSV_COLUMNS)
    for post, found, seen in chosen:
        posts, mentions = posts + 1, mentions + len(found)
        if writer:
            writer.writerows(_csv_rows(post, found))
        else:
            handle.write(json.dumps(post_record(post, found, seen), ensure_ascii=False) + "\n")
    return posts, mentions


COCO_CATEGORIES = [
    {"id": number, "name": kind, "supercategory": "entity"} for number, kind in enumerate(ENTITY_TYPES, 1)
]
_CATEGORY_IDS = {category["name"]: category["id"] for category in COCO_CATEGORIES}


def image_file(store: Store, media: Media) -> str | None:
    """Where the image is on disk: cached paths are relative to the data folder (the database's folder)."""
    if not media.local_path:
        return None
    path = Path(media.local_path)
    return str(path if path.is_absolute() else store.path.parent / path)


def region_media(post: Post, media_id: int | None) -> Media | None:
    """The image a region was found on (its media id; older results: the post's first image)."""
    if media_id:
        return next((m for m in post.media if m.id == media_id), None)
    return post.media[0] if post.media else None


def write_coco(
    store: Store, handle: IO[str], chosen: Iterable[tuple[Post, list[Entity], ImageFindings]]
) -> tuple[int, int]:
    """COCO instances: one image per stored picture with a known size, one annotation per region
    (pred and gold, told apart by `origin`), its mask as the compressed RLE pycocotools reads, or the
    box as a polygon when the region has no mask. Extra keys name the post and the entity."""
    images: dict[int, dict[str, Any]] = {}
    annotations: list[dict[str, Any]] = []
    posts = 0
    for post, mentions, _seen in chosen:
        posts += 1
        for media in post.media:
            if media.id is not None and media.width and media.height:
                images[media.id] = {
                    "id": media.id,
                    "file_name": image_file(store, media) or media.url,
                    "width": media.width,
                    "height": media.height,
                    "post_id": post.id,
                    "coco_url": media.url,
                }
        for entity in mentions:
            for region in entity.regions:
                shown_on = region_media(post, region.media_id)
                if shown_on is None or shown_on.id is None or shown_on.id not in images:
                    continue
                annotations.append(_coco_annotation(len(annotations) + 1, shown_on.id, post, entity, region))
    coco = {
        "info": {"description": "GroundLens export"},
        "images": list(images.values()),
        "categories": COCO_CATEGORIES,
        "annotations": annotations,
    }
    json.dump(coco, handle, ensure_ascii=False)
    return posts, len(annotations)


def _coco_annotation(number: int, image_id: int, post: Post, entity: Entity, region: Region) -> dict[str, Any]:
    x0, y0, x1, y1 = region.box
    polygon = [[x0, y0, x1, y0, x1, y1, x0, y1]]
    return {
        "id": number,
        "image_id": image_id,
        "category_id": _CATEGORY_IDS[entity.type],
        "iscrowd": 0,
        "bbox": [x0, y0, x1 - x0, y1 - y0],
        "area": region.area or (x1 - x0) * (y1 - y0),
        "segmentation": region.mask_rle or polygon,
        "score": region.score,
        "post_id": post.id,
        "entity": entity.text,
        "norm": entity.norm,
        "origin": entity.origin,
        "entity_score": entity.score,
        **corrected_fields(entity),
    }


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
            post.id,
            post.source,
            post.native_id,
            post.author,
            _iso(post.created_at),
            post.lang,
            post.url,
            post.retweet_of,
            post.quote_of,
            post.reply_to,
            image and image.url,
            image and image.local_path,
            entity.origin,
            entity.start,
            entity.end,
            entity.text,
            entity.norm,
            entity.type,
            entity.score,
            entity.groundable,
            entity.groundable_score,
            entity.verdict,
            "; ".join(e.detail for e in entity.evidence),
            entity.expression,
            entity.model_version,
            json.dumps(regions) if regions else "",
            "yes" if entity.corrected else "no",
            " ".join(map(str, entity.corrected_by)),
        ]
