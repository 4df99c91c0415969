"""Grounding figures an analyst trusts or not, on the entities the recogniser found.

GMNER F1 mixes recognition and grounding; these separate grounding out. Each is counted on the
gold entities the recogniser found (same text and type, the MNER matching), so a recogniser miss
never counts as a grounding failure:

- box hits: found gold-groundable entities given a box at IoU >= 0.5 with one of their gold boxes;
- false boxes: found gold-ungroundable entities given a box at all (there is nothing to box);
- wrong names: PER boxes that sit on a DIFFERENT gold person of the post (IoU >= 0.5 with that
  person's gold box and more than with any gold box of the name they carry) - the identity error
  of boxing names in text order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from groundlens.core.datasets.gmner import GoldEntity
from groundlens.core.evaluation.boxes import IOU_THRESHOLD, best_box_iou
from groundlens.core.evaluation.predictions import PredictedEntity


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

    @property
    def box_hit_rate(self) -> float | None:
        return _share(self.box_hits, self.groundable_found)

    @property
    def false_box_rate(self) -> float | None:
        return _share(self.false_boxes, self.ungroundable_found)

    @property
    def wrong_name_rate(self) -> float | None:
        return _share(self.wrong_name_boxes, self.person_boxes)

    def add_post(
        self, gold: Sequence[GoldEntity], predicted: Sequence[PredictedEntity], found: Sequence[tuple[int, int]]
    ) -> None:
        """`found` pairs (gold index, predicted index) matched by text and type."""
        for g, p in found:
            region = predicted[p].region
            if gold[g].groundable:
                self.groundable_found += 1
                self.box_hits += region is not None and best_box_iou(region, gold[g].boxes) >= IOU_THRESHOLD
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
        }


def _on_another_person(entity: PredictedEntity, people: Sequence[GoldEntity]) -> bool:
    region = entity.region
    assert region is not None
    own = max((best_box_iou(region, g.boxes) for g in people if g.text == entity.text), default=0.0)
    other = max((best_box_iou(region, g.boxes) for g in people if g.text != entity.text), default=0.0)
    return other >= IOU_THRESHOLD and other > own
