"""The Twitter-GMNER layout (txt/{split}.txt CoNLL + xml/ VOC boxes + optional images) as posts.

Gold annotations ride along as origin="gold" entities so evaluation can compare them with
predictions; images are `<images_dir>/<id>.jpg` and a missing one is status "missing", since
the dataset is distributed without its images.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from groundlens.core.datasets.gmner import GmnerFormatError, GmnerPost, build_post, read_conll
from groundlens.core.ingest.report import ItemError, ParsedItem
from groundlens.records import Entity, Media, Post, Region
from groundlens.storage.normalize import normalize_entity

GMNER_SOURCE = "twitter-gmner"
IMAGE_FOLDERS = ("images", "image", "img")
_LOCATED = re.compile(r"^(?P<location>.+?:\d+): (?P<reason>.*)$", re.S)


def dataset_layout(path: Path) -> tuple[Path, list[Path]]:
    """(dataset root, split files) for a root folder or one `txt/<split>.txt` file."""
    if path.is_file():
        return (path.parent.parent if path.parent.name == "txt" else path.parent), [path]
    return path, sorted((path / "txt").glob("*.txt"))


def _as_item_error(error: GmnerFormatError, fallback: Path) -> ItemError:
    located = _LOCATED.match(str(error))
    if located:
        return ItemError(located["location"], located["reason"])
    return ItemError(str(fallback), str(error))


def _media(image_id: str, images_dir: Path | None, size: tuple[int, int] | None) -> Media:
    width, height = size or (None, None)
    if images_dir is None:
        return Media(status="missing", error="no images folder given", width=width, height=height)
    path = images_dir / f"{image_id}.jpg"
    if not path.is_file():
        return Media(
            local_path=str(path), status="missing", error="not in the images folder", width=width, height=height
        )
    return Media(local_path=str(path), width=width, height=height)


def gold_entities(sample: GmnerPost) -> list[Entity]:
    """The sample's gold mentions with their VOC boxes as regions (no box: not groundable)."""
    return [
        Entity(
            start=gold.start,
            end=gold.end,
            text=gold.text,
            type=gold.type,  # type: ignore[arg-type]  # a str type from GMNER data: PER/LOC/ORG/OTHER
            norm=normalize_entity(gold.text),
            groundable=gold.groundable,
            origin="gold",
            regions=[Region(box=box, area=round((box[2] - box[0]) * (box[3] - box[1]))) for box in gold.boxes],
        )
        for gold in sample.entities
    ]


def read_gmner(path: Path, images_dir: Path | None = None) -> Iterator[ParsedItem | ItemError]:
    root, splits = dataset_layout(path)
    if not splits:
        yield ItemError(str(path), "no txt/<split>.txt files: not the Twitter-GMNER layout")
        return
    xml_dir = root / "xml" if (root / "xml").is_dir() else None
    images_dir = images_dir or next((root / name for name in IMAGE_FOLDERS if (root / name).is_dir()), None)
    for conll in splits:
        errors: list[GmnerFormatError] = []
        try:
            for image_id, tokens, tags in read_conll(conll, on_error=errors.append):
                yield from (_as_item_error(error, conll) for error in errors)
                errors.clear()
                try:
                    sample = build_post(image_id, tokens, tags, xml_dir)
                except (ValueError, OSError) as error:  # GmnerFormatError (a bad size or box), an unreadable XML
                    xml_path = (xml_dir or root) / f"{image_id}.xml"
                    yield ItemError(str(xml_path), str(error).removeprefix(f"{xml_path}: "))
                    continue
                post = Post(
                    source=GMNER_SOURCE,
                    native_id=image_id,
                    text=sample.text,
                    raw={"split": conll.stem, "tokens": tokens, "tags": tags},
                    media=[_media(image_id, images_dir, sample.image_size)],
                )
                yield ParsedItem(f"{conll} [post {image_id}]", post, gold=gold_entities(sample))
        except UnicodeDecodeError as error:
            yield ItemError(str(conll), f"not valid UTF-8 ({error.reason} at byte {error.start})")
        yield from (_as_item_error(error, conll) for error in errors)
