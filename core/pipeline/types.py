"""Values that flow between pipeline stages.

Evidence, ImageText and ImageObject are the store's records (records/), reused
as they are so a verdict's evidence reaches the inspector unchanged.

A stage sees only these, never the store, so the same pipeline serves the job queue
(`process`) and the file-to-file path (`analyze`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from groundlens.records import EntityType, Evidence, ImageObject, ImageText, Verdict

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in original image pixels


def as_box(values: Iterable[float]) -> Box:
    """Four numbers (a list, an array row) as a Box of plain floats; any other count is an error."""
    x0, y0, x1, y1 = (float(v) for v in values)
    return x0, y0, x1, y1


@dataclass(frozen=True)
class PointPrompt:
    """A point for SAM in original image pixels: on the thing (positive) or on its background."""

    x: float
    y: float
    positive: bool = True


@dataclass(frozen=True)
class Mention:
    """An entity span found in the text by the recogniser."""

    start: int  # character offset, end exclusive
    end: int
    text: str
    type: EntityType
    score: float


@dataclass
class Judgment:
    """The entailment stage's answer for one mention: probability it is shown, and why."""

    score: float
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Grounding:
    """The grounding stage's answer for one mention: its box (None: not located), why, and
    points for SAM where known (a face centre on the person, the box's top corners off it)."""

    box: Box | None = None
    score: float = 0.0
    evidence: list[Evidence] = field(default_factory=list)
    points: tuple[PointPrompt, ...] = ()


@dataclass
class Groundings:
    """One Grounding per mention, plus what was detected but tied to no mention
    ("person, not identified" with the names it might be)."""

    per_mention: list[Grounding]
    objects: list[ImageObject] = field(default_factory=list)


@dataclass
class GroundedEntity:
    """A mention after every stage that ran on it."""

    mention: Mention
    expression: str | None = None
    groundable: bool | None = None  # None when the post has no image or entailment is off
    groundable_score: float | None = None
    box: Box | None = None
    box_score: float | None = None
    points: tuple[PointPrompt, ...] = ()  # point prompts for the mask, from grounding
    mask: np.ndarray | None = None  # bool HxW at original image size
    verdict: Verdict | None = None  # None when the post has no image or entailment is off
    evidence: list[Evidence] = field(default_factory=list)  # why the verdict and the box, in order


@dataclass
class PostResult:
    """What the pipeline made of one post; `error` is set when any stage failed on it."""

    post_id: str
    entities: list[GroundedEntity] = field(default_factory=list)
    error: str | None = None
    image_text: list[ImageText] = field(default_factory=list)  # OCR lines of the post's image
    image_objects: list[ImageObject] = field(default_factory=list)  # detections no entity was tied to
    timings: dict[str, float] = field(default_factory=dict)  # stage name -> seconds
    model_versions: dict[str, str] = field(default_factory=dict)  # stage name -> backend@version


@dataclass(frozen=True)
class ImageBytes:
    """An image sent by value, to a cluster worker that cannot read the driver's disk. `name` is the
    file it was read from (for messages); `error` says why it could not be read, if it could not."""

    name: str
    data: bytes | None
    error: str | None = None

    def __str__(self) -> str:
        return self.name


@dataclass
class PostInput:
    """One post as the pipeline takes it: the image is a path (opened lazily, so an unreadable
    file fails that post alone), its bytes, an already decoded image, or None for a text-only post."""

    post_id: str
    text: str
    image: str | os.PathLike[str] | ImageBytes | Image.Image | None = None
