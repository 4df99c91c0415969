"""Box arithmetic shared by the grounding backends and the object detector, kept free of models so it is unit-tested by hand.

Detector heads emit normalised (cx, cy, w, h) boxes relative to the tensor they saw: OWLv2
pads the image to a square (bottom/right) before resizing, so its boxes are relative to a
side of max(w, h); Grounding DINO resizes without padding, so its boxes are relative to the
image itself. Everything leaves this module in original image pixels (x0, y0, x1, y1).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from groundlens.core.pipeline.types import Box, as_box


def cxcywh_to_xyxy(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    """Normalised (cx, cy, w, h) rows -> pixel (x0, y0, x1, y1) rows for a reference of width x height."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    cx, cy, w, h = boxes.T
    return np.stack([(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height], axis=1)


def from_padded_square(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Boxes normalised to the bottom/right-padded square (OWLv2) -> pixels of the width x height image."""
    side = max(width, height)
    return clip_boxes(cxcywh_to_xyxy(boxes, side, side), width, height)


def from_unpadded(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Boxes normalised to the image itself (Grounding DINO) -> pixels."""
    return clip_boxes(cxcywh_to_xyxy(boxes, width, height), width, height)


def clip_boxes(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    out = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, width)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, height)
    return out


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def nms(
    boxes: Sequence[Box], scores: Sequence[float], iou_threshold: float = 0.5, score_threshold: float = 0.0
) -> list[int]:
    """Indices kept by greedy non-maximum suppression, best score first (OpenCV's implementation)."""
    if len(boxes) == 0:
        return []
    xywh = [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes]
    keep = cv2.dnn.NMSBoxes(xywh, [float(s) for s in scores], score_threshold, iou_threshold)
    keep = [int(i) for i in np.asarray(keep).reshape(-1)]
    return sorted(keep, key=lambda i: -scores[i])


def best_per_query(scores: np.ndarray, boxes: np.ndarray, threshold: float) -> list[tuple[Box, float] | None]:
    """For a (candidates x queries) score matrix, each query's highest-scoring box, None below threshold.
    Boxes that clipping to the image left with no area never win."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    empty = (boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])
    scores = np.where(empty[:, None], -np.inf, np.asarray(scores, dtype=np.float64))
    out: list[tuple[Box, float] | None] = []
    for q in range(scores.shape[1]):
        best = int(np.argmax(scores[:, q]))
        score = float(scores[best, q])
        out.append((as_box(boxes[best]), score) if score >= threshold else None)
    return out
