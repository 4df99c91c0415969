"""The analyst's corrected posts as training data, in the Twitter-GMNER layout.

`txt/train.txt` holds each post as CoNLL (`IMGID:<id>`, then one whitespace token and its BIO tag
per line) and `xml/<id>.xml` the boxes of its entities in Pascal VOC, so that `train-ner --extra`
and `train-prior --extra` read the folder as they read Twitter-GMNER. A post is exported when a
correction of one of its mentions is in force, with its whole corrected view (what every view of
the product shows), since an analyst who fixed one entity of a post has looked at all of them.

What the layout cannot say is left out, not invented: an entity "probably in image, not located"
has no box, so it is exported as ungroundable, as Twitter-GMNER would have it; an entity whose
span cuts a whitespace token takes the whole token (the CoNLL layout tags tokens, not characters).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from groundlens.records import Entity, Post
from groundlens.storage import Store

_TOKEN = re.compile(r"\S+")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class ExportSummary:
    posts: int
    entities: int
    boxes: int


def image_id(post: Post) -> str:
    """A file-safe id that names the post in any database: its source and native id."""
    return _UNSAFE.sub("_", f"{post.source}-{post.native_id}")


def token_entities(text: str, entities: list[Entity]) -> list[tuple[str, int | None]]:
    """The post's whitespace tokens, each with the index of the entity whose span it overlaps."""
    return [
        (
            found.group(),
            next(
                (i for i, e in enumerate(entities) if found.start() < e.end and e.start < found.end()),
                None,
            ),
        )
        for found in _TOKEN.finditer(text)
    ]


def bio_lines(tokens: list[tuple[str, int | None]], entities: list[Entity]) -> list[str]:
    lines, previous = [], None
    for word, index in tokens:
        tag = "O" if index is None else f"{'I' if index == previous else 'B'}-{entities[index].type}"
        lines.append(f"{word}\t{tag}")
        previous = index
    return lines


def voc_xml(
    post_id: str,
    size: tuple[int, int] | None,
    named_boxes: Sequence[tuple[str, tuple[float, ...]]],
) -> bytes:
    root = ET.Element("annotation")
    ET.SubElement(root, "filename").text = f"{post_id}.jpg"
    if size is not None:
        dims = ET.SubElement(root, "size")
        ET.SubElement(dims, "width").text = str(size[0])
        ET.SubElement(dims, "height").text = str(size[1])
        ET.SubElement(dims, "depth").text = "3"
    for name, box in named_boxes:
        thing = ET.SubElement(root, "object")
        ET.SubElement(thing, "name").text = name
        corners = ET.SubElement(thing, "bndbox")
        for key, value in zip(("xmin", "ymin", "xmax", "ymax"), box):
            ET.SubElement(corners, key).text = str(round(value))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def export_corrected(store: Store, out: Path) -> ExportSummary:
    """Write the corrected posts to `out` (a new folder; it appears only when complete)."""
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists: choose a new folder (an export never overwrites one)")
    ids = sorted({c.post_id for c in store.corrections(include_reverted=False) if c.post_id is not None})
    posts = store.get_posts(ids)
    views = store.effective_entities_for_posts(ids)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        (staging / "txt").mkdir()
        (staging / "xml").mkdir()
        blocks, entity_count, box_count = [], 0, 0
        for post_id in ids:
            post, entities = (
                posts.get(post_id),
                sorted(views.get(post_id, []), key=lambda e: e.start),
            )
            if post is None:
                continue
            name = image_id(post)
            tokens = token_entities(post.text, entities)
            blocks.append("\n".join([f"IMGID:{name}", *bio_lines(tokens, entities)]))
            surface = {i: " ".join(w for w, j in tokens if j == i) for i in range(len(entities))}
            boxes = [
                (surface[i], region.box)
                for i, entity in enumerate(entities)
                if entity.verdict == "in_image" and surface[i]
                for region in entity.regions
            ]
            medium = next((m for m in post.media if m.width and m.height), None)
            size = (medium.width, medium.height) if medium is not None and medium.width and medium.height else None
            (staging / "xml" / f"{name}.xml").write_bytes(voc_xml(name, size, boxes))
            entity_count += len(entities)
            box_count += len(boxes)
        (staging / "txt" / "train.txt").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportSummary(len(blocks), entity_count, box_count)
