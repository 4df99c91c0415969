"""What the inspector's widgets show, as plain data: the chips' rows, the text's spans, the image's
overlays, and the labels for verdicts and evidence. Built by gui/models (post_bundle, entity_data) and
drawn by gui/widgets, which import them from here (widgets depend on models, never the reverse).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QImage

from groundlens.records import Entity


@dataclass(frozen=True)
class EntityRow:
    key: str
    text: str
    type: str
    norm: str
    grounding: str  # see grounding_label
    score: float | None = None
    gold: bool = False
    confidence: float | None = None  # of the grounding verdict
    evidence: tuple[str, ...] = ()  # one line per observation behind the verdict
    color: str = ""  # the entity's colour (gui.theme.entity_colors); "": its type's
    corrected: str = ""  # who corrected it and when ("" when nothing was corrected)
    gold_mark: str = ""  # when gold is shown: "matches gold", "not in gold" or "missed" (a gold row)

    @property
    def status(self) -> str:
        """The chip's text: the verdict and, where there is one, its confidence."""
        return self.grounding if self.confidence is None else f"{self.grounding} {self.confidence:.2f}"


VERDICT_LABELS = {"in_image": "in image", "probably": "probably, not located", "not_in_image": "not in image"}


def grounding_label(entity: Entity, has_image: bool, image_expected: bool = False) -> str:
    """'Is it in the photo?' as the pipeline answered it: its verdict where it gave one (an entity it
    believes is shown but cannot place is 'probably, not located'), else what groundability and the
    regions say (results stored before verdicts existed). image_expected: the post has an image that
    is not on disk (failed, missing or not fetched yet)."""
    if not has_image:
        return "image not downloaded" if image_expected else "no image"
    if entity.verdict is not None:
        label = VERDICT_LABELS[entity.verdict]
        return "in image, not located" if entity.verdict == "in_image" and not entity.regions else label
    if entity.regions:
        return "in image"
    if entity.groundable is False:
        return "not in image"
    if entity.groundable is True:
        return "in image, not located"
    return "undecided"


def evidence_lines(entity: Entity) -> tuple[str, ...]:
    """Each observation behind the verdict as the analyst reads it, with its score: "read 'NASA' in the
    image, 0.97" as the pipeline wrote it, or "1 person detected, not identified (0.90)" when the
    detail does not state it."""
    return tuple(e.detail if f"{e.score:.2f}" in e.detail else f"{e.detail} ({e.score:.2f})" for e in entity.evidence)


@dataclass(frozen=True)
class Span:
    key: str
    start: int
    end: int
    type: str
    color: str = ""  # the entity's colour (gui.theme.entity_colors); "": its type's
    corrected: bool = False  # an analyst's correction decided this span or its type
    gold_mark: str = ""  # when gold is shown: "matches gold", "not in gold" or "missed" (a gold span)


@dataclass
class Overlay:
    """One entity region as drawn: `key` ties it to the same entity in the text panel."""

    key: str
    label: str
    type: str
    box: tuple[float, float, float, float]
    mask: QImage | None = None
    mask_offset: tuple[int, int] = (0, 0)  # where the (cropped) mask image's top-left sits
    gold: bool = False
    kind: str = "entity"  # or a FINDING_LAYERS key: drawn dashed, shown with that layer's toggle
    color: str = ""  # the entity's colour (gui.theme.entity_colors); "": its type's
    corrected: bool = False  # an analyst drew or moved it: its label says so
