"""One export for the CLI (`export`) and the app's Export dialog: a search's matches or a selection of
posts as JSONL, CSV, COCO (storage/export.py) or a folder of image crops, one PNG per entity box.

A file output is whole or absent (core.safe_output) and never the database; a crops folder gets each
PNG whole and its index.csv last, so a folder with an index lists only crops that are complete. It runs
on whatever thread calls it, opening nothing itself: the caller passes the Store its thread owns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from PIL import Image

from groundlens.core.orientation import upright
from groundlens.core.safe_output import (
    OutputError,
    atomic_output,
    database_files,
    refuse_overwriting,
    write_bytes_atomic,
)
from groundlens.storage import Store
from groundlens.storage import export as exporter
from groundlens.storage.export import CancelFlag, CsvWriter, Progress

KINDS = (*exporter.FORMATS, "crops")
SUFFIXES = {"jsonl": ".jsonl", "csv": ".csv", "coco": ".json", "crops": ""}
CROP_INDEX = "index.csv"
CROP_COLUMNS = (
    "file",
    "post_id",
    "native_id",
    "entity",
    "type",
    "norm",
    "origin",
    "score",
    "x0",
    "y0",
    "x1",
    "y1",
    "has_mask",
    "image_file",
)


@dataclass
class ExportRequest:
    kind: str  # one of KINDS
    out: Path  # a file, or for crops a folder
    query: str | None = None  # the posts matching it (None: every post) ...
    ids: list[int] | None = None  # ... unless these posts are given (a selection)


@dataclass
class ExportResult:
    posts: int
    items: int  # mentions (jsonl, csv), annotations (coco) or crops written
    problems: list[str] = field(default_factory=list)  # crops that could not be cut, each with its reason

    def summary(self, request: ExportRequest) -> str:
        what = {"jsonl": "mentions", "csv": "mentions", "coco": "annotations", "crops": "crops"}[request.kind]
        text = f"Wrote {self.posts} posts and {self.items} {what} to {request.out} ({request.kind})."
        if self.problems:
            text += f" {len(self.problems)} crop(s) could not be cut: " + "; ".join(self.problems[:3])
        return text


def default_name(kind: str) -> str:
    return f"groundlens-{'crops' if kind == 'crops' else 'export'}{SUFFIXES[kind]}"


def check_target(request: ExportRequest, db_path: Path) -> None:
    """OutputError before any work when the output would overwrite the database (or a crops folder
    would land inside the data folder, among its image cache)."""
    if request.kind not in KINDS:
        raise ValueError(f"unknown export kind {request.kind!r} (use {', '.join(KINDS)})")
    if request.kind != "crops":
        refuse_overwriting(request.out, {"the database": database_files(db_path)})
        return
    folder, data_dir = request.out.expanduser().resolve(), db_path.resolve().parent
    if folder == data_dir or data_dir in folder.parents:
        raise OutputError(f"refusing to write crops into {request.out}: it is inside the data folder {data_dir}")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write crops into {request.out}: it is a file, not a folder")


def run_export(
    store: Store, request: ExportRequest, progress: Progress | None = None, cancel: CancelFlag | None = None
) -> ExportResult:
    """Write the export; storage.export.Cancelled when `cancel` is set (no file is left for a file kind)."""
    check_target(request, store.path)
    if request.kind == "crops":
        return write_crops(store, request, progress, cancel)
    with atomic_output(request.out, newline="") as handle:
        posts, items = exporter.write(store, handle, request.kind, request.query, request.ids, progress, cancel)
    return ExportResult(posts, items)


def crop_name(post_id: int, number: int, kind: str, text: str) -> str:
    """`000042-1-PER-grace-hopper.png`: sorts by post, says what it shows, safe on every file system."""
    slug = re.sub(r"[^\w]+", "-", text.lower(), flags=re.ASCII).strip("-")[:40] or "entity"
    return f"{post_id:06d}-{number}-{kind}-{slug}.png"


def write_crops(
    store: Store, request: ExportRequest, progress: Progress | None = None, cancel: CancelFlag | None = None
) -> ExportResult:
    """One PNG per entity box (pred and gold), cut from the picture as displayed, and index.csv naming
    each crop's post, entity and box. A missing or unreadable picture fails alone, listed in problems."""
    request.out.mkdir(parents=True, exist_ok=True)
    rows: list[list[Any]] = []
    problems: list[str] = []
    posts = 0
    ids = exporter.chosen_ids(store, request.query, request.ids)
    for post, mentions, _seen in exporter.iter_chosen(store, ids, progress, cancel):
        posts += 1
        pictures: dict[str, Image.Image] = {}
        for entity in mentions:
            for region in entity.regions:
                media = exporter.region_media(post, region.media_id)
                path = media and exporter.image_file(store, media)
                if not path:
                    problems.append(f"post {post.id} ({entity.text}): the picture is not stored")
                    continue
                try:
                    if path not in pictures:
                        with Image.open(path) as opened:
                            pictures[path] = upright(opened).convert("RGB")
                    name = crop_name(post.id or 0, len(rows) + 1, entity.type, entity.text)
                    write_bytes_atomic(request.out / name, _png(pictures[path], region.box))
                except (OSError, ValueError) as error:
                    problems.append(f"post {post.id} ({entity.text}): {path}: {error}")
                    continue
                rows.append(
                    [
                        name,
                        post.id,
                        post.native_id,
                        entity.text,
                        entity.type,
                        entity.norm,
                        entity.origin,
                        entity.score,
                        *region.box,
                        region.mask_rle is not None,
                        path,
                    ]
                )
    with atomic_output(request.out / CROP_INDEX, newline="") as handle:
        writer = CsvWriter(handle)
        writer.writerow(CROP_COLUMNS)
        writer.writerows(rows)
    return ExportResult(posts, len(rows), problems)


def _png(picture: Image.Image, box: tuple[float, float, float, float]) -> bytes:
    x0, y0, x1, y1 = (round(v) for v in box)
    left, top = max(0, x0), max(0, y0)
    right, bottom = min(picture.width, x1), min(picture.height, y1)
    if right <= left or bottom <= top:
        raise ValueError(f"box {box} lies outside the {picture.width}x{picture.height} picture")
    buffer = BytesIO()
    picture.crop((left, top, right, bottom)).save(buffer, format="PNG")
    return buffer.getvalue()
