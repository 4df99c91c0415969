"""Reader for the JSONL that `main.py analyze` writes: one post per line.

Each line is validated on its own; a malformed line is skipped with a message naming its line
number, so one bad record never hides the score of the rest of the file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groundlens.core.ingest.jsonl import JSONProblem, parse_json
from groundlens.core.pipeline.types import Box, as_box

MAX_MESSAGES = 20  # problems listed one by one; beyond this only counted


@dataclass(frozen=True)
class PredictedEntity:
    text: str
    type: str
    groundable: bool | None  # the entailment verdict as written; None when not decided
    box: Box | None
    mask: dict[str, Any] | None  # COCO RLE

    @property
    def region(self) -> Box | None:
        """The region the GMNER protocol scores: the box, unless the entity is declared not groundable."""
        return None if self.groundable is False else self.box

    @property
    def verdict(self) -> bool | None:
        """Predicted groundability: the flag, else whether a box was given; None when neither says."""
        if self.groundable is not None:
            return self.groundable
        return True if self.box is not None else None


@dataclass
class PredictedPost:
    id: str
    entities: list[PredictedEntity]
    error: str | None = None


@dataclass
class PredictionFile:
    posts: dict[str, PredictedPost] = field(default_factory=dict)
    lines: int = 0
    malformed: int = 0
    duplicates: int = 0
    messages: list[str] = field(default_factory=list)

    def problem(self, message: str) -> None:
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(message)


class PredictionFormatError(ValueError):
    """One line does not follow the analyze output format."""


def _box(value: Any) -> Box | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 4:
        raise PredictionFormatError(f"box must be null or [x0, y0, x1, y1], got {value!r}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        raise PredictionFormatError(f"box has a non-numeric coordinate: {value!r}")
    return as_box(value)


def _mask(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    size = value.get("size") if isinstance(value, dict) else None
    valid_size = isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) for v in size)
    if not valid_size or not isinstance(value.get("counts"), (str, list)):
        raise PredictionFormatError("mask must be null or a COCO RLE {'size': [h, w], 'counts': ...}")
    return value


def _entity(raw: Any) -> PredictedEntity:
    if not isinstance(raw, dict):
        raise PredictionFormatError(f"an entity must be an object, got {type(raw).__name__}")
    text, kind = raw.get("text"), raw.get("type")
    if not isinstance(text, str) or not isinstance(kind, str):
        raise PredictionFormatError("an entity needs string fields 'text' and 'type'")
    groundable = raw.get("groundable")
    if groundable is not None and not isinstance(groundable, bool):
        raise PredictionFormatError(f"'groundable' must be true, false or null, got {groundable!r}")
    return PredictedEntity(
        text=" ".join(text.split()),
        type=kind,
        groundable=groundable,
        box=_box(raw.get("box")),
        mask=_mask(raw.get("mask")),
    )


def parse_line(line: str) -> PredictedPost:
    """One analyze record; raises PredictionFormatError saying what is wrong."""
    try:
        raw = parse_json(line)  # nesting 100,000 deep or a 5,001-digit number is this line's problem only
    except json.JSONDecodeError as error:
        raise PredictionFormatError(f"not valid JSON ({error.msg})") from None
    except JSONProblem as error:
        raise PredictionFormatError(f"not valid JSON ({error})") from None
    if not isinstance(raw, dict):
        raise PredictionFormatError("a line must be a JSON object")
    post_id = raw.get("id")
    if not isinstance(post_id, (str, int)) or isinstance(post_id, bool):
        raise PredictionFormatError("missing or non-string 'id'")
    entities = raw.get("entities", [])
    if not isinstance(entities, list):
        raise PredictionFormatError("'entities' must be a list")
    failure = raw.get("error")
    return PredictedPost(
        id=str(post_id), entities=[_entity(e) for e in entities], error=None if failure is None else str(failure)
    )


def read_predictions(path: Path) -> PredictionFile:
    """All well-formed posts of the file, keyed by id; the first of duplicate ids wins."""
    result = PredictionFile()
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            result.lines += 1
            try:
                post = parse_line(line)
            except PredictionFormatError as error:
                result.malformed += 1
                result.problem(f"line {number}: {error}")
                continue
            if post.id in result.posts:
                result.duplicates += 1
                result.problem(f"line {number}: id {post.id!r} already seen; the first record is kept")
                continue
            result.posts[post.id] = post
    return result
