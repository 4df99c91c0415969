"""Grounding figures an analyst trusts or not, on the entities the recogniser found.

GMNER F1 mixes recognition and grounding; these separate grounding out. Each is counted on the
gold entities the recogniser found (same text and type, the MNER matching), so a recogniser miss
never counts as a grounding failure:

- box hits: found gold-groundable entities given a box at IoU >= 0.5 with one of their gold boxes;
- false boxes: found gold-ungroundable entities given a box at all (there is nothing to box);
- wrong names: PER boxes that sit on a DIFFERENT gold person of the post (IoU >= 0.5 with that
  person's gold box and more than with any gold box of the name they carry) - the identity error
  of boxing names in text order.

The box misses are split by what went wrong (judged not pictured; judged pictured but not
located; boxed off target), and the found pictured people whose post does not say who is who
(two or more pictured people named, none placed by a position cue or a caption list) are
counted apart: without a name tag the product's rules leave them unlocated on purpose, since
text order alone never picks a box, so the box-hit rate on the other entities is given too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import cast

from groundlens.core.datasets.gmner import GoldEntity
from groundlens.core.evaluation.boxes import IOU_THRESHOLD, best_box_iou
from groundlens.core.evaluation.predictions import PredictedEntity
from groundlens.core.pipeline.evidence.people import placed_by_caption
from groundlens.core.pipeline.types import Mention
from groundlens.records import EntityType


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class GroundingFigures:
    groundable_found: int = 0
    box_hits: int = 0
    ungroundable_found: int = 0
    false_boxes: int = 0
    person_boxes: int = 0  # predicted PER entities with a box, found or not
    wrong_name_boxes: int = 0
    missed_not_pictured: int = 0  # found groundable, judged not in the image
    missed_unlocated: int = 0  # found groundable, judged in the image (or undecided), no box
    missed_off_target: int = 0  # found groundable, boxed at IoU < 0.5
    unplaced_people: int = 0  # found groundable people the post's text does not place
    unplaced_hits: int = 0  # box hits among them (only a name tag can place them)
    gold_groundable: int = 0  # over the whole split, found or not: what the set asks of grounding
    gold_unplaced_people: int = 0

    @property
    def box_hit_rate(self) -> float | None:
        return _share(self.box_hits, self.groundable_found)

    @property
    def false_box_rate(self) -> float | None:
        return _share(self.false_boxes, self.ungroundable_found)

    @property
    def wrong_name_rate(self) -> float | None:
        return _share(self.wrong_name_boxes, self.person_boxes)

    @property
    def placed_found(self) -> int:
        """Found groundable entities other than the people the text does not place."""
        return self.groundable_found - self.unplaced_people

    @property
    def placed_hits(self) -> int:
        return self.box_hits - self.unplaced_hits

    @property
    def placed_hit_rate(self) -> float | None:
        return _share(self.placed_hits, self.placed_found)

    def add_post(
        self,
        text: str,
        gold: Sequence[GoldEntity],
        predicted: Sequence[PredictedEntity],
        found: Sequence[tuple[int, int]],
    ) -> None:
        """`text`: the post (gold offsets index it); `found` pairs (gold index, predicted index)
        matched by text and type."""
        unplaced = unplaced_pictured_people(text, gold)
        self.gold_groundable += sum(g.groundable for g in gold)
        self.gold_unplaced_people += len(unplaced)
        for g, p in found:
            region = predicted[p].region
            if gold[g].groundable:
                self.groundable_found += 1
                hit = region is not None and best_box_iou(region, gold[g].boxes) >= IOU_THRESHOLD
                self.box_hits += hit
                self.missed_not_pictured += predicted[p].groundable is False
                self.missed_unlocated += predicted[p].groundable is not False and region is None
                self.missed_off_target += region is not None and not hit
                self.unplaced_people += g in unplaced
                self.unplaced_hits += g in unplaced and hit
            else:
                self.ungroundable_found += 1
                self.false_boxes += region is not None
        people = [g for g in gold if g.type == "PER" and g.groundable]
        for entity in predicted:
            if entity.type != "PER" or entity.region is None:
                continue
            self.person_boxes += 1
            self.wrong_name_boxes += _on_another_person(entity, people)

    def to_dict(self) -> dict:
        return {
            **asdict(self),
            "box_hit_rate": self.box_hit_rate,
            "false_box_rate": self.false_box_rate,
            "wrong_name_rate": self.wrong_name_rate,
            "placed_hit_rate": self.placed_hit_rate,
        }


def unplaced_pictured_people(text: str, gold: Sequence[GoldEntity]) -> set[int]:
    """Gold indices of the pictured people of a post that names two or more of them without
    saying who is who (no position cue after the name, not in a caption list)."""
    pictured = {i for i, g in enumerate(gold) if g.type == "PER" and g.groundable}
    if len(pictured) < 2:
        return set()
    mentions = [Mention(g.start, g.end, g.text, cast(EntityType, g.type), 1.0) for g in gold]  # only "PER" is looked at
    return pictured - placed_by_caption(text, mentions)


def _on_another_person(entity: PredictedEntity, people: Sequence[GoldEntity]) -> bool:
    region = entity.region
    assert region is not None
    own = max((best_box_iou(region, g.boxes) for g in people if g.text == entity.text), default=0.0)
    other = max((best_box_iou(region, g.boxes) for g in people if g.text != entity.text), default=0.0)
    return other >= IOU_THRESHOLD and other > own
