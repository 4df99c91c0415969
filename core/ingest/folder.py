"""A folder of images with sidecar text: `a.jpg` + `a.txt` (the post text) or + `a.json` (a record).

Files are grouped by name without extension. A JSON sidecar may name its image itself, but only
inside the folder: sidecars come from wherever the analyst got the folder, so `../` is refused,
and so is a symbolic link to a file outside it (a `notes.txt` linking to ~/.ssh/id_rsa would
otherwise put that file's text into a database analysts share).

Nothing in the folder is dropped unsaid: an unreadable subfolder or sidecar, a link that leads
nowhere, and two sidecars whose names differ only in case are each reported; `photo.jpg` and
`photo.JPG` are both the post's images; images in formats Pillow cannot decode (HEIC, SVG) are
imported so that the image check reports them.
"""

from __future__ import annotations

import json
import mimetypes
import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groundlens.core.ingest.fields import RecordError, record_to_post
from groundlens.core.ingest.jsonl import JSONProblem, parse_json
from groundlens.core.ingest.report import ItemError, ParsedItem
from groundlens.core.ingest.textio import encoding_problem, text_lines
from groundlens.records import Media

FOLDER_SOURCE = "folder"
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"})
SIDECAR_SUFFIXES = (".json", ".txt")


@dataclass
class _Group:
    """The files that share one name without extension: one post."""

    images: list[Path] = field(default_factory=list)
    sidecars: dict[str, list[Path]] = field(default_factory=dict)  # ".txt" -> a.txt (and a.TXT: a clash)


def is_image_name(path: Path) -> bool:
    """Our formats, and any other a file's suffix says is an image (HEIC, SVG...): those are imported
    too, so the image check reports that it cannot decode them instead of the file vanishing."""
    kind = mimetypes.guess_type(path.name)[0] or ""
    return path.suffix.lower() in IMAGE_SUFFIXES or kind.startswith("image/")


def _scan(root: Path) -> tuple[dict[Path, _Group], list[ItemError]]:
    """Groups by name without extension, and an error for every entry that cannot be imported
    (an unreadable subfolder, a link that leads nowhere, a pipe), so nothing is dropped unsaid."""
    groups: dict[Path, _Group] = defaultdict(_Group)
    errors: list[ItemError] = []

    def unreadable(error: OSError) -> None:
        reason = f"folder cannot be read ({error.strerror}): its files were not imported"
        errors.append(ItemError(str(error.filename), reason))

    for folder, subfolders, names in os.walk(root, onerror=unreadable):  # links to folders are not followed
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if name.startswith("."):
                continue
            if not path.is_file():
                what = "a link that leads nowhere" if path.is_symlink() else "not a regular file"  # a loop, a gone file
                errors.append(ItemError(str(path), f"{what}: not imported"))
                continue
            group = groups[path.relative_to(root).with_suffix("")]
            if path.suffix.lower() in SIDECAR_SUFFIXES:
                group.sidecars.setdefault(path.suffix.lower(), []).append(path)
            elif is_image_name(path):
                group.images.append(path)
    return groups, errors


def _read_text(path: Path) -> str:
    try:
        text = "".join(text_lines(path))
    except UnicodeDecodeError as error:
        raise RecordError(f"not valid text in its declared encoding ({error.reason})") from None
    except OSError as error:
        raise RecordError(f"cannot be read ({error.strerror or error})") from None
    problem = encoding_problem(text)
    if problem:
        raise RecordError(problem)
    return text


def _sidecar_record(json_path: Path | None, txt_path: Path | None) -> dict[str, Any]:
    if json_path is not None:
        try:
            return parse_json(_read_text(json_path))
        except json.JSONDecodeError as error:
            raise RecordError(f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
        except JSONProblem as error:
            raise RecordError(f"invalid JSON: {error}") from None
    if txt_path is not None:
        return {"text": _read_text(txt_path).strip()}
    return {"text": ""}


def read_folder(root: Path, images_dir: Path | None = None) -> Iterator[ParsedItem | ItemError]:
    """One post per image (or per JSON sidecar); a lone .txt without an image is not a post."""
    inside = root.resolve()
    groups, errors = _scan(root)
    yield from errors
    for stem, group in sorted(groups.items()):
        images = group.images
        clash = next((found for found in group.sidecars.values() if len(found) > 1), None)
        json_path, txt_path = (group.sidecars.get(suffix, [None])[0] for suffix in SIDECAR_SUFFIXES)
        if not images and json_path is None:
            continue
        location = str(json_path or txt_path or images[0])
        if clash:
            yield ItemError(
                str(clash[1]),
                f"{' and '.join(p.name for p in clash)} differ only in case;"
                " which one holds the post is unclear: keep one",
            )
            continue
        files = [*images, *(path for found in group.sidecars.values() for path in found)]
        escaping = [path for path in files if path.is_symlink() and not path.resolve().is_relative_to(inside)]
        if escaping:
            yield ItemError(str(escaping[0]), f"is a link to {escaping[0].resolve()}, outside the folder: not followed")
            continue
        problem = next(filter(None, (encoding_problem(str(path)) for path in files)), None)
        if problem:  # the name becomes the post's id and the image's path, which the store keeps as UTF-8
            yield ItemError(location, f"file name is {problem}: rename it")
            continue
        try:
            record = _sidecar_record(json_path, txt_path)
            post = record_to_post(
                record,
                source=FOLDER_SOURCE,
                base_dir=json_path.parent if json_path else root,
                default_id=f"{root.name}/{stem.as_posix()}",
                allow_absolute=False,
            )
        except RecordError as error:
            yield ItemError(location, str(error))
            continue
        if not post.media:
            post.media = [Media(local_path=str(path)) for path in images]
        yield ParsedItem(location, post)
