"""Everything the inspector shows for one post, gathered off the main thread in two steps:
records from the store (database thread), then pixels (image decode + masks, pool thread)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtGui import QColor, QImage

from groundlens.core import masks
from groundlens.gui.mask_image import cropped_mask_image
from groundlens.gui.models.presentation import EntityRow, Overlay, Span, evidence_lines, grounding_label
from groundlens.gui.theme import GOLD_COLOR, entity_colors
from groundlens.gui.workers import read_image
from groundlens.records import Entity, ImageFindings, Post
from groundlens.storage import Store
from groundlens.storage.corrections import Correction

LINK_VERBS = {"retweet_of": "Retweet of", "quote_of": "Quotes", "reply_to": "Reply to"}


@dataclass
class PostBundle:
    post: Post
    predictions: list[Entity]
    gold: list[Entity]
    findings: ImageFindings = field(default_factory=ImageFindings)
    linked: dict[str, Post | None] = field(default_factory=dict)  # Post link field -> the stored post, or None
    corrections: dict[int, Correction] = field(default_factory=dict)  # those in force that shape its entities

    def correction_note(self, entity: Entity) -> str:
        """Who corrected the entity, how and when: "by alice, 2026-12-01 13:10 (type 'COBOL': type=OTHER)"."""
        notes = [self.corrections[i] for i in entity.corrected_by if i in self.corrections]
        return "; ".join(f"by {c.author}, {c.created_at:%Y-%m-%d %H:%M} ({c.describe()})" for c in notes) or (
            "by an analyst" if entity.corrected else ""
        )

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

    def colors(self) -> dict[str, str]:
        return colors_of(self.keyed())

    def gold_marks(self) -> dict[str, str]:
        """Against the post's gold (when it has any): each prediction "matches gold" (same span and
        type) or is "not in gold"; a gold mention no prediction matches was "missed"."""
        if not self.gold:
            return {}
        gold = {(e.start, e.end, e.type) for e in self.gold}
        predicted = {(e.start, e.end, e.type) for e in self.predictions}
        return {
            key: ("missed" if (e.start, e.end, e.type) not in predicted else "")
            if e.origin == "gold"
            else ("matches gold" if (e.start, e.end, e.type) in gold else "not in gold")
            for key, e in self.keyed()
        }

    def shown(self, include_gold: bool) -> list[tuple[str, Entity]]:
        """What the text and the chips show: gold only when asked for (it is hidden by default)."""
        return [(key, e) for key, e in self.keyed() if include_gold or e.origin != "gold"]

    def spans(self, include_gold: bool) -> list[Span]:
        marks = self.gold_marks() if include_gold else {}
        colors = self.colors()
        return [
            Span(key, e.start, e.end, e.type, colors[key], corrected=e.corrected, gold_mark=marks.get(key, ""))
            for key, e in self.shown(include_gold)
        ]

    def rows(self, has_image: bool, include_gold: bool = False) -> list[EntityRow]:
        marks = self.gold_marks() if include_gold else {}
        colors = self.colors()
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
                color=colors[key],
                corrected=self.correction_note(e),
                gold_mark=marks.get(key, ""),
            )
            for key, e in self.shown(include_gold)
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
    predictions = store.entities_for_post(post_id)
    used = {cid for entity in predictions for cid in entity.corrected_by}
    in_force = store.corrections([post_id], include_reverted=False) if used else []
    if used - {c.id for c in in_force}:  # merges hold in every post: they are not listed under it
        in_force += store.corrections(kinds=["merge"], include_reverted=False)
    return PostBundle(
        post,
        predictions,
        store.entities_for_post(post_id, origin="gold"),
        store.image_findings([post_id])[post_id],
        linked,
        {c.id: c for c in in_force if c.id in used},
    )


def colors_of(keyed: list[tuple[str, Entity]]) -> dict[str, str]:
    """Each entity's colour, the same in text, chip, mask and box (by type, or per instance: gui.theme)."""
    return entity_colors([(key, entity.type) for key, entity in keyed])


NO_IMAGE = "This post has no image."
NOT_DOWNLOADED = "Image not downloaded"


@dataclass
class Visuals:
    image: QImage | None
    overlays: list[Overlay] = field(default_factory=list)
    error: str | None = None
    retry: bool = False  # no picture, but the post has an image that fetching again may bring


def findings_overlays(findings: ImageFindings, named: set[tuple[float, ...]] = frozenset()) -> list[Overlay]:
    """Text read in the image and people or objects not tied to a name, each on a layer of its own;
    `named`: boxes an entity now holds (an analyst said "this is ..."), whose finding is no longer unidentified."""
    overlays = [
        Overlay(f"t{i}", f"“{line.text}” {line.score:.2f}", "OTHER", line.box, kind="text")
        for i, line in enumerate(findings.texts)
    ]
    for i, thing in enumerate(findings.objects):
        if tuple(round(v) for v in thing.box) in named:
            continue
        maybe = f" — maybe {' or '.join(thing.candidates)}" if thing.candidates else ""
        overlays.append(
            Overlay(f"u{i}", f"{thing.label}, not identified{maybe}", "OTHER", thing.box, kind="unidentified")
        )
    return overlays


def render_visuals(
    image_file: Path | None,
    keyed: list[tuple[str, Entity]],
    findings: ImageFindings | None = None,
    without: str = NO_IMAGE,
) -> Visuals:
    """Decode the photo and every region's mask into ready-to-draw overlays (runs on a pool thread).
    `without`: what to say when there is no file (PostBundle.without_picture)."""
    if image_file is None:
        return Visuals(None, error=without, retry=without != NO_IMAGE)
    try:
        image = read_image(image_file)
    except OSError as exc:  # the cached file is gone or unreadable: the image is missing, not absent
        return Visuals(None, error=f"{NOT_DOWNLOADED} ({exc}).", retry=True)
    overlays: list[Overlay] = []
    colors = colors_of(keyed)
    for key, entity in keyed:
        gold = entity.origin == "gold"
        color = QColor(GOLD_COLOR if gold else colors[key])
        for region in entity.regions:
            overlay = Overlay(
                key=key,
                label=entity.text,
                type=entity.type,
                box=tuple(region.box),
                gold=gold,
                color=colors[key],
                corrected=entity.corrected,
            )
            if region.mask_rle:
                rendered = cropped_mask_image(masks.decode(region.mask_rle), color)
                if rendered is not None:
                    overlay.mask, overlay.mask_offset = rendered
            overlays.append(overlay)
    named = {
        tuple(round(v) for v in region.box)
        for _key, entity in keyed
        if entity.origin == "pred"
        for region in entity.regions
    }
    return Visuals(image, overlays + findings_overlays(findings or ImageFindings(), named))
