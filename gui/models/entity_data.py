"""What the entity page shows, gathered off the main thread: the profile and every mention
(database thread), then the gallery crops with their masks (pool thread)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from groundlens.core import masks
from groundlens.gui.mask_image import mask_to_qimage
from groundlens.gui.models.presentation import grounding_label
from groundlens.gui.theme import type_color
from groundlens.gui.workers import read_image
from groundlens.storage import Store
from groundlens.storage.summaries import EntityCount, EntityProfile

MAX_POSTS = 500  # mentions listed; the profile's counts still cover every post
MAX_CROPS = 60
CROP_SIDE = 150
CONTEXT_CHARS = 50


@dataclass(frozen=True)
class MentionRow:
    post_id: int
    created_at: datetime | None
    author: str | None
    text: str
    type: str
    grounding: str
    context: str


@dataclass(frozen=True)
class CropSource:
    post_id: int
    image_path: str
    box: tuple[float, float, float, float]
    mask_rle: dict | None
    type: str
    caption: str


@dataclass
class EntityData:
    profile: EntityProfile
    mentions: list[MentionRow] = field(default_factory=list)
    cooccurring: list[EntityCount] = field(default_factory=list)
    crops: list[CropSource] = field(default_factory=list)
    truncated: bool = False


def entity_query(norm: str, include_retweets: bool = True) -> str:
    """The search-bar query for posts mentioning this entity (quotes cannot be escaped, so drop them),
    retweets left out when counting original posts only."""
    return 'entity:"' + norm.replace('"', " ").strip() + '"' + ("" if include_retweets else " -is:retweet")


def context_of(text: str, start: int, end: int) -> str:
    left = max(0, start - CONTEXT_CHARS)
    right = min(len(text), end + CONTEXT_CHARS)
    return (
        ("…" if left else "")
        + text[left:start]
        + "["
        + text[start:end]
        + "]"
        + text[end:right]
        + ("…" if right < len(text) else "")
    )


def load_entity(store: Store, norm: str, resolve_media, include_retweets: bool = False) -> EntityData:
    """The entity's profile, mentions and co-occurring entities, counting retweets or original posts only."""
    data = EntityData(
        profile=store.entity_profile(norm, include_retweets=include_retweets),
        cooccurring=store.cooccurring(norm, limit=25, include_retweets=include_retweets),
    )
    if data.profile.name is None:
        return data
    ids = store.post_ids(entity_query(norm, include_retweets), order="created_desc")
    data.truncated = len(ids) > MAX_POSTS
    for post_id in ids[:MAX_POSTS]:
        post = store.get_post(post_id)
        if post is None:
            continue
        local = post.media[0].local_path if post.media else None
        image_file = resolve_media(local)
        for entity in store.entities_for_post(post_id):
            if entity.norm != norm:
                continue
            data.mentions.append(
                MentionRow(
                    post_id,
                    post.created_at,
                    post.author,
                    entity.text,
                    entity.type,
                    grounding_label(entity, image_file is not None, image_expected=bool(post.media)),
                    context_of(post.text, entity.start, entity.end),
                )
            )
            for region in entity.regions:
                if image_file is not None and len(data.crops) < MAX_CROPS:
                    when = post.created_at.strftime("%d %b %Y") if post.created_at else ""
                    data.crops.append(
                        CropSource(
                            post_id,
                            str(image_file),
                            tuple(region.box),
                            region.mask_rle,
                            entity.type,
                            f"{when}\n@{post.author or post.source}",
                        )
                    )
    return data


def render_crop(source: CropSource) -> QImage:
    """The region with some margin, its mask tinted in the type colour and its box outlined."""
    image = read_image(source.image_path)
    x0, y0, x1, y1 = source.box
    margin = 0.15 * max(x1 - x0, y1 - y0)
    rect = QRect(int(x0 - margin), int(y0 - margin), int(x1 - x0 + 2 * margin), int(y1 - y0 + 2 * margin))
    rect = rect.intersected(image.rect())
    crop = image.copy(rect).convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(crop)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = type_color(source.type)
    if source.mask_rle:
        mask = masks.decode(source.mask_rle)[rect.top() : rect.bottom() + 1, rect.left() : rect.right() + 1]
        painter.setOpacity(0.45)
        painter.drawImage(0, 0, mask_to_qimage(mask, color))
        painter.setOpacity(1.0)
    pen = QPen(QColor(color), max(2.0, rect.width() / CROP_SIDE * 2))
    painter.setPen(pen)
    painter.drawRect(QRectF(x0 - rect.left(), y0 - rect.top(), x1 - x0, y1 - y0))
    painter.end()
    return crop.scaled(
        CROP_SIDE, CROP_SIDE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


def render_crops(sources: list[CropSource]) -> list[tuple[CropSource, QImage]]:
    """Every crop that renders; an unreadable image file just leaves its crop out."""
    crops = []
    for source in sources:
        try:
            crops.append((source, render_crop(source)))
        except OSError:
            continue
    return crops
