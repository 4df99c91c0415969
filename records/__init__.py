"""Plain records that cross layer boundaries: ingest builds them, the store keeps them, views read them.

They carry no behaviour and know nothing of models, so every layer can import them
without pulling in torch, Qt or SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

EntityType = Literal["PER", "LOC", "ORG", "OTHER"]
ENTITY_TYPES: tuple[EntityType, ...] = ("PER", "LOC", "ORG", "OTHER")

MediaStatus = Literal["pending", "ok", "failed", "missing"]
# pending: not fetched yet; ok: decoded and cached; failed: fetch/decode failed (retryable);
# missing: a local file that does not exist (a dataset distributed without its images).

EntityOrigin = Literal["pred", "gold"]

Verdict = Literal["in_image", "probably", "not_in_image"]
# in_image: evidence places the entity in the photo (it has a box, or a scene-level verdict);
# probably: evidence says it is likely shown but not where (e.g. "2 people detected, not identified");
# not_in_image: the evidence speaks against it. None on an Entity: not decided (no image, stage off).

BoxTuple = tuple[float, float, float, float]  # x0, y0, x1, y1 in original image pixels


@dataclass
class Media:
    """One image attached to a post: a remote URL, a local file, or both once cached."""

    url: str | None = None
    local_path: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    width: int | None = None
    height: int | None = None
    status: MediaStatus = "pending"
    error: str | None = None
    id: int | None = None


@dataclass
class Post:
    """A social-media post as ingested; (source, native_id) identifies it across re-imports."""

    source: str
    native_id: str
    text: str
    author: str | None = None
    created_at: datetime | None = None  # timezone-aware, UTC
    lang: str | None = None
    url: str | None = None
    raw: dict[str, Any] | None = None  # the original payload, kept for re-parsing and export
    media: list[Media] = field(default_factory=list)
    id: int | None = None
    # links to other posts of the same source, by native id (the linked post may not be stored):
    retweet_of: str | None = None  # a retweet (its text and media are the original's)
    quote_of: str | None = None  # a quote post: its own text, commenting on the quoted post
    reply_to: str | None = None  # a reply: its own text, answering that post


@dataclass(frozen=True)
class Evidence:
    """One observation behind a verdict or a box, shown to the analyst as it was made.

    kind: "prior" (the text says), "ocr" (text read in the image), "face", "person", "object"
    (a detector's class), "caption" (names listed left to right), "scene", ...; detail is the
    sentence the inspector shows ("read 'NASA' in the image"); score is that observation's own
    confidence in 0..1; box, where the observation has one, in original image pixels.
    """

    kind: str
    detail: str
    score: float
    box: BoxTuple | None = None


@dataclass(frozen=True)
class ImageText:
    """A line of text read in an image (OCR), stored once per image and searchable."""

    text: str
    box: BoxTuple
    score: float
    media_id: int | None = None


@dataclass(frozen=True)
class ImageObject:
    """Something detected in an image that no entity was tied to: "person, not identified" with
    the names it might be (candidates), or an object of a detector class."""

    label: str
    box: BoxTuple
    score: float
    candidates: tuple[str, ...] = ()
    media_id: int | None = None


@dataclass
class ImageFindings:
    """What the pipeline saw in a post's image besides its entities, kept once per image: the text
    read in it (searchable) and the people or objects it could not tie to a name."""

    texts: list[ImageText] = field(default_factory=list)
    objects: list[ImageObject] = field(default_factory=list)


@dataclass
class Region:
    """Where an entity is in an image: a box in original pixels and, optionally, its mask."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    score: float | None = None
    mask_rle: dict[str, Any] | None = None  # COCO RLE: {"size": [h, w], "counts": str}
    area: int | None = None  # mask pixels, or box area when there is no mask
    media_id: int | None = None


@dataclass
class Entity:
    """A named-entity mention in a post's text, predicted by the pipeline or given as gold."""

    start: int  # character offset into Post.text
    end: int  # exclusive
    text: str
    type: EntityType
    norm: str = ""  # normalised form used to group mentions across posts (see storage.normalize)
    score: float | None = None
    groundable: bool | None = None  # None: not decided (no image, or stage switched off)
    groundable_score: float | None = None
    expression: str | None = None
    verdict: Verdict | None = None
    evidence: list[Evidence] = field(default_factory=list)
    model_version: str | None = None
    origin: EntityOrigin = "pred"
    regions: list[Region] = field(default_factory=list)
    id: int | None = None
    post_id: int | None = None
