"""Everything the inspector shows for one post, gathered off the main thread in two steps:
records from the store (database thread), then pixels (image decode + masks, pool thread)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtGui import QColor, QImage

from groundlens.core import masks
from groundlens.gui.mask_image import cropped_mask_image
from groundlens.gui.theme import GOLD_COLOR, type_color
from groundlens.gui.widgets.entity_list import EntityRow, evidence_lines, grounding_label
from groundlens.gui.widgets.entity_text import Span
from groundlens.gui.widgets.image_canvas import Overlay
from groundlens.gui.workers import read_image
from groundlens.storage import Store
from groundlens.records import Entity, ImageFindings, Post

LINK_VERBS = {"retweet_of": "Retweet of", "quote_of": "Quotes", "reply_to": "Reply to"}


@dataclass
class PostBundle:
    post: Post
    predictions: list[Entity]
    gold: list[Entity]
    findings: ImageFindings = field(default_factory=ImageFindings)
    linked: dict[str, Post | None] = field(default_factory=dict)  # Post link field -> the stored post, or None

    def link_lines(self) -> list[str]:
        """What the post shares, quotes or answers, as HTML lines (imported text escaped)."""
        lines = []
        for field_name, verb in LINK_VERBS.items():
            native_id = getattr(self.post, field_name)
            if native_id is None:
                continue
            other = self.linked.get(field_name)
            if other is None:
                missing = " (whose text X cut)" if field_name == "retweet_of" else ""
                lines.append(f"{verb} post {html.escape(native_id)}, not in the collection{missing}")
                continue
            who = html.escape(other.author or "unknown author")
            if field_name == "retweet_of":
                lines.append(f"{verb} <b>{who}</b>'s post: the text below is the original's, in full")
            else:
                lines.append(f"{verb} <b>{who}</b>: <i>{html.escape(other.text)}</i>")
        return lines

    def keyed(self) -> list[tuple[str, Entity]]:
        """Stable keys tie one entity's text span, chip and image regions together."""
        return [(f"p{i}", e) for i, e in enumerate(self.predictions)] + [(f"g{i}", e) for i, e in enumerate(self.gold)]

    @property
    def local_path(self) -> str | None:
        return self.post.media[0].local_path if self.post.media else None

    def without_picture(self) -> str:
        """What the canvas says when it has no picture: a post whose image did not arrive is not a post
        without an image."""
        if not self.post.media:
            return NO_IMAGE
        media = self.post.media[0]
        why = media.error or ("not fetched yet" if media.status == "pending" else media.status)
        return f"{NOT_DOWNLOADED} ({why})."

    def spans(self, include_gold: bool) -> list[Span]:
        return [Span(key, e.start, e.end, e.type) for key, e in self.keyed() if include_gold or e.origin != "gold"]

    def rows(self, has_image: bool) -> list[EntityRow]:
        return [
            EntityRow(
                key=key,
                text=e.text,
                type=e.type,
                norm=e.norm,
                grounding=grounding_label(e, has_image, image_expected=bool(self.post.media)),
                score=e.score,
                gold=e.origin == "gold",
                confidence=e.groundable_score if has_image else None,
                evidence=evidence_lines(e),
            )
            for key, e in self.keyed()
        ]


def load_bundle(store: Store, post_id: int) -> PostBundle | None:
    post = store.get_post(post_id)
    if post is None:
        return None
    linked = {
        field_name: store.post_by_native_id(post.source, getattr(post, field_name))
        for field_name in LINK_VERBS
        if getattr(post, field_name) is not None
    }
    return PostBundle(
        post,
        store.entities_for_post(post_id),
        store.entities_for_post(post_id, origin="gold"),
        store.image_findings([post_id])[post_id],
        linked,
    )


NO_IMAGE = "This post has no image."
NOT_DOWNLOADED = "Image not downloaded"


@dataclass
class Visuals:
    image: QImage | None
    overlays: list[Overlay] = field(default_factory=list)
    error: str | None = None
    retry: bool = False  # no picture, but the post has an image that fetching again may bring


def findings_overlays(findings: ImageFindings) -> list[Overlay]:
    """Text read in the image and people or objects not tied to a name, each on a layer of its own."""
    overlays = [Overlay(f"t{i}", f"“{line.text}” {line.score:.2f}", "OTHER", line.box, kind="text")
                for i, line in enumerate(findings.texts)]
    for i, thing in enumerate(findings.objects):
        maybe = f" — maybe {' or '.join(thing.candidates)}" if thing.candidates else ""
        overlays.append(Overlay(f"u{i}", f"{thing.label}, not identified{maybe}", "OTHER", thing.box,
                                kind="unidentified"))
    return overlays


def render_visuals(image_file: Path | None, keyed: list[tuple[str, Entity]],
                   findings: ImageFindings | None = None, without: str = NO_IMAGE) -> Visuals:
    """Decode the photo and every region's mask into ready-to-draw overlays (runs on a pool thread).
    `without`: what to say when there is no file (PostBundle.without_picture)."""
    if image_file is None:
        return Visuals(None, error=without, retry=without != NO_IMAGE)
    try:
        image = read_image(image_file)
    except OSError as exc:  # the cached file is gone or unreadable: the image is missing, not absent
        return Visuals(None, error=f"{NOT_DOWNLOADED} ({exc}).", retry=True)
    overlays: list[Overlay] = []
    for key, entity in keyed:
        gold = entity.origin == "gold"
        color = QColor(GOLD_COLOR) if gold else type_color(entity.type)
        for region in entity.regions:
            overlay = Overlay(key=key, label=entity.text, type=entity.type, box=tuple(region.box), gold=gold)
            if region.mask_rle:
                rendered = cropped_mask_image(masks.decode(region.mask_rle), color)
                if rendered is not None:
                    overlay.mask, overlay.mask_offset = rendered
            overlays.append(overlay)
    return Visuals(image, overlays + findings_overlays(findings or ImageFindings()))
