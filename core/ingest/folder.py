"""A folder of images with sidecar text: `a.jpg` + `a.txt` (the post text) or + `a.json` (a record).

Files are grouped by name without extension. A JSON sidecar may name its image itself, but only
inside the folder: sidecars come from wherever the analyst got the folder, so `../` is refused,
and so is a symbolic link to a file outside it (a `notes.txt` linking to ~/.ssh/id_rsa would
otherwise put that file's text into a database analysts share).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator

from core.ingest.fields import RecordError, record_to_post
from core.ingest.jsonl import JSONProblem, parse_json
from core.ingest.report import ItemError, ParsedItem
from core.ingest.textio import encoding_problem, text_lines
from storage.records import Media

FOLDER_SOURCE = "folder"
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"})


def _groups(root: Path) -> dict[Path, dict[str, Path]]:
    groups: dict[Path, dict[str, Path]] = defaultdict(dict)
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            groups[relative.with_suffix("")][path.suffix.lower()] = path
    return groups


def _read_text(path: Path) -> str:
    try:
        text = "".join(text_lines(path))
    except UnicodeDecodeError as error:
        raise RecordError(f"not valid text in its declared encoding ({error.reason})") from None
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
    for stem, files in sorted(_groups(root).items()):
        images = [path for suffix, path in sorted(files.items()) if suffix in IMAGE_SUFFIXES]
        json_path, txt_path = files.get(".json"), files.get(".txt")
        if not images and json_path is None:
            continue
        location = str(json_path or txt_path or images[0])
        escaping = [path for path in files.values() if path.is_symlink() and not path.resolve().is_relative_to(inside)]
        if escaping:
            yield ItemError(str(escaping[0]), f"is a link to {escaping[0].resolve()}, outside the folder: not followed")
            continue
        problem = next(filter(None, (encoding_problem(str(path)) for path in files.values())), None)
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
