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
    model_version: str | None = None
    origin: EntityOrigin = "pred"
    regions: list[Region] = field(default_factory=list)
    id: int | None = None
    post_id: int | None = None
