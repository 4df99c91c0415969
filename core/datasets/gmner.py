"""Reader for the Twitter-GMNER layout: CoNLL text with BIO tags plus Pascal VOC boxes per image.

Shared by the dataset importer, NER training and evaluation so that all three agree on how
tokens become text and how boxes attach to entities.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

IMGID_PREFIX = "IMGID:"
Box = tuple[float, float, float, float]
T = TypeVar("T")  # a box, or anything else kept per VOC object name (the evaluation's masks)


class GmnerFormatError(ValueError):
    """A malformed line or file, with where it is."""


@dataclass(frozen=True)
class GoldEntity:
    text: str  # the tokens joined by single spaces (the dataset's surface string)
    type: str
    start: int  # character offsets into GmnerPost.text
    end: int
    token_start: int
    token_end: int  # exclusive
    boxes: tuple[Box, ...] = ()  # empty: ungroundable

    @property
    def groundable(self) -> bool:
        return bool(self.boxes)


@dataclass
class GmnerPost:
    image_id: str
    tokens: list[str]
    tags: list[str]
    entities: list[GoldEntity] = field(default_factory=list)
    image_size: tuple[int, int] | None = None  # (width, height) from the VOC file

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


def token_offsets(tokens: list[str]) -> list[tuple[int, int]]:
    """Character span of each token in `" ".join(tokens)`."""
    spans, position = [], 0
    for token in tokens:
        spans.append((position, position + len(token)))
        position += len(token) + 1
    return spans


def bio_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """(token_start, token_end, type) per entity; a stray I- opens a new entity (standard repair)."""
    spans: list[tuple[int, int, str]] = []
    current: tuple[int, str] | None = None  # (first token, type) of the entity being read
    for index, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-")
        continues = prefix == "I" and current is not None and current[1] == label
        if current is not None and not continues:
            spans.append((current[0], index, current[1]))
            current = None
        if prefix in ("B", "I") and not continues:
            current = (index, label)
    return spans


def is_plain_id(image_id: str) -> bool:
    """An id that, as `<id>.jpg` or `<id>.xml`, can only name a file directly inside its folder."""
    return bool(image_id) and image_id not in (".", "..") and not any(c in image_id for c in "/\\\0")


def read_conll(
    path: Path, on_error: Callable[[GmnerFormatError], None] | None = None
) -> Iterator[tuple[str, list[str], list[str]]]:
    """Yield (image_id, tokens, tags) per post; raises GmnerFormatError with the line number.

    With `on_error` (the importer's way of going on past bad input), a malformed line is passed
    to it instead and the post it belongs to is skipped.
    """
    image_id, skipping = None, False
    tokens: list[str] = []
    tags: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line_number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\n")
            if not line.strip():
                if image_id is not None and tokens and not skipping:
                    yield image_id, tokens, tags
                image_id, tokens, tags, skipping = None, [], [], False
                continue
            if line.startswith(IMGID_PREFIX):
                if image_id is not None and tokens and not skipping:
                    yield image_id, tokens, tags
                image_id, tokens, tags, skipping = line[len(IMGID_PREFIX) :].strip(), [], [], False
                if not is_plain_id(image_id):  # it names <id>.jpg and <id>.xml: no way out of the dataset
                    bad_id = GmnerFormatError(
                        f"{path}:{line_number}: image id {image_id!r} is not a plain file name"
                        " (no folders, '..' or absolute paths)"
                    )
                    if on_error is None:
                        raise bad_id
                    on_error(bad_id)
                    skipping = True
                continue
            if skipping:
                continue
            token, sep, tag = line.rpartition("\t")
            error: GmnerFormatError | None = None
            if not sep or image_id is None:
                error = GmnerFormatError(f"{path}:{line_number}: expected 'token<TAB>tag' inside a post, got {line!r}")
            elif tag != "O" and tag[:2] not in ("B-", "I-"):
                error = GmnerFormatError(f"{path}:{line_number}: {tag!r} is not a BIO tag")
            if error is not None:
                if on_error is None:
                    raise error
                on_error(error)
                skipping = True
                continue
            tokens.append(token)
            tags.append(tag)
    if image_id is not None and tokens and not skipping:
        yield image_id, tokens, tags


def read_voc(path: Path) -> tuple[tuple[int, int] | None, dict[str, list[Box]]]:
    """Image size and boxes keyed by entity surface string."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        raise GmnerFormatError(f"{path}: not valid XML ({error})") from None
    size = None
    width, height = root.findtext("size/width"), root.findtext("size/height")
    if width and height:
        try:
            size = (int(float(width)), int(float(height)))
        except (ValueError, OverflowError):  # "abc", nan, inf
            size = None
        if size is None or min(size) <= 0:
            raise GmnerFormatError(f"{path}: image size {width.strip()} x {height.strip()} is not two positive numbers")
    boxes: dict[str, list[Box]] = {}
    for obj in root.iter("object"):
        name = (obj.findtext("name") or "").strip()
        box = obj.find("bndbox")
        if not name or box is None:
            continue
        try:
            x0, y0, x1, y1 = (float(box.findtext(k) or "") for k in ("xmin", "ymin", "xmax", "ymax"))  # "": ValueError
        except (TypeError, ValueError):
            raise GmnerFormatError(f"{path}: object {name!r} has a malformed bndbox") from None
        coords = (x0, y0, x1, y1)
        if not all(math.isfinite(c) for c in coords):
            raise GmnerFormatError(f"{path}: object {name!r} has a bndbox that is not finite numbers: {coords}")
        boxes.setdefault(name, []).append(coords)
    return size, boxes


def boxes_for(name: str, boxes: Mapping[str, list[T]]) -> tuple[T, ...]:
    """The boxes of the VOC objects named `name` (exactly, else case-insensitively): the dataset's rule."""
    if name in boxes:
        return tuple(boxes[name])
    folded = name.casefold()
    return tuple(b for key, found in boxes.items() if key.casefold() == folded for b in found)


def build_post(image_id: str, tokens: list[str], tags: list[str], xml_dir: Path | None) -> GmnerPost:
    size: tuple[int, int] | None = None
    boxes: dict[str, list[Box]] = {}
    if xml_dir is not None and (xml_dir / f"{image_id}.xml").exists():
        size, boxes = read_voc(xml_dir / f"{image_id}.xml")
    offsets = token_offsets(tokens)
    entities = []
    for token_start, token_end, kind in bio_spans(tags):
        text = " ".join(tokens[token_start:token_end])
        entities.append(
            GoldEntity(
                text=text,
                type=kind,
                start=offsets[token_start][0],
                end=offsets[token_end - 1][1],
                token_start=token_start,
                token_end=token_end,
                boxes=boxes_for(text, boxes),
            )
        )
    return GmnerPost(image_id=image_id, tokens=tokens, tags=tags, entities=entities, image_size=size)


def read_split(conll_path: Path, xml_dir: Path | None = None) -> list[GmnerPost]:
    """All posts of one split with their gold entities and boxes."""
    return [build_post(i, tok, tag, xml_dir) for i, tok, tag in read_conll(conll_path)]


def dataset_paths(root: Path, split: str) -> tuple[Path, Path]:
    """(conll file, xml folder) of a split in the standard layout."""
    return root / "txt" / f"{split}.txt", root / "xml"
