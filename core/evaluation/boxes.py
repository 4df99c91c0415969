"""Box overlap as the Twitter-GMNER protocol measures it (shared by the scores and the grounding figures)."""

from __future__ import annotations

from collections.abc import Sequence

from groundlens.core.pipeline.types import Box

IOU_THRESHOLD = 0.5


def box_iou(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def best_box_iou(region: Box, gold_boxes: Sequence[Box]) -> float:
    return max((box_iou(region, box) for box in gold_boxes), default=0.0)
