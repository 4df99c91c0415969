"""BlazeFace face detection (MediaPipe's short and full range models) run with onnxruntime.

The short range model (128x128) finds faces within about 2 m of the camera, the full range model
(192x192) faces up to about 5 m; a posted photo may hold either, so both run (3 + 8 ms) and
their faces are pooled, overlapping ones merged. Each model reads the photo letterboxed to its
square input, RGB in [-1, 1], NHWC, and gives per anchor a score logit and 16 numbers: box
centre, width and height, then six keypoints (right eye, left eye, nose tip, mouth centre,
right ear tragion, left ear tragion), in input pixels relative to the anchor. Anchors and
post-processing follow MediaPipe's face_detection_{short,full}_range_common.pbtxt (SSD anchors
with fixed size, sigmoid with logits clipped to +-100, weighted NMS at IoU 0.3). The score
floor is 0.6, not MediaPipe's 0.5: at 0.5 the short range model took Chelsea the cat's face for
a person's (0.50); the people in the demo photos score 0.76 to 0.95.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from groundlens.core.pipeline.vision.memo import LastImageMemo
from groundlens.core.pipeline.vision.onnx_model import open_session
from groundlens.core.pipeline.vision.registry import register_analyser
from groundlens.core.pipeline.vision.types import Detection

KEYPOINTS = 6
RAW_SCORE_LIMIT = 80.0  # MediaPipe clips at 100; 80 keeps exp() finite in float32


@dataclass(frozen=True)
class FaceModel:
    """One BlazeFace variant: its catalogue name, input side and SSD anchor strides."""

    name: str
    size: int
    strides: tuple[int, ...]
    anchors_per_cell_per_layer: int  # 2 when interpolated_scale_aspect_ratio is 1.0, else 1


SHORT_RANGE = FaceModel("blazeface_short_range", 128, (8, 16, 16, 16), 2)
FULL_RANGE = FaceModel("blazeface_full_range", 192, (4,), 1)
RANGES = {"short": SHORT_RANGE, "full": FULL_RANGE}


def ssd_anchor_centres(model: FaceModel) -> np.ndarray:
    """(N, 2) anchor centres in [0, 1], as MediaPipe's SsdAnchorsCalculator with fixed anchor size:
    layers that share a stride share one grid, each cell repeating its anchor per layer."""
    centres = []
    layer = 0
    while layer < len(model.strides):
        stride = model.strides[layer]
        same = sum(1 for s in model.strides[layer:] if s == stride)
        grid = model.size // stride
        ys, xs = np.meshgrid((np.arange(grid) + 0.5) / grid, (np.arange(grid) + 0.5) / grid, indexing="ij")
        cell = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(cell, same * model.anchors_per_cell_per_layer, axis=0))
        layer += same
    return np.concatenate(centres).astype(np.float32)


def _iou_one_to_many(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def weighted_nms(rows: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's weighted NMS: the best remaining face absorbs every face overlapping it by more
    than `iou_threshold`, its box and keypoints becoming their score-weighted mean; its score stays.
    rows: (N, 4 + 2K) x0, y0, x1, y1, keypoints."""
    order = np.argsort(-scores, kind="stable")
    rows, scores = rows[order], scores[order]
    merged = []
    remaining = np.arange(len(rows))
    while len(remaining):
        best = remaining[0]
        overlap = _iou_one_to_many(rows[best, :4], rows[remaining, :4]) > iou_threshold
        group = remaining[overlap | (remaining == best)]
        weights = scores[group][:, None]
        merged.append(((rows[group] * weights).sum(axis=0) / weights.sum(), float(scores[best])))
        remaining = remaining[~(overlap | (remaining == best))]
    return merged


class BlazeFaceDetector:
    """Faces with their six keypoints, best first."""

    name = "blazeface"
    version = "short+full"

    def __init__(
        self,
        threads: int | None = None,
        ranges: tuple[str, ...] = ("short", "full"),
        score_floor: float = 0.6,
        nms_iou: float = 0.3,
        model_paths: dict[str, str] | None = None,
    ):
        unknown = set(ranges) - set(RANGES)
        if unknown or not ranges:
            raise ValueError(f"blazeface ranges must be among {', '.join(RANGES)}; got {', '.join(ranges) or 'none'}")
        self.score_floor = score_floor
        self.nms_iou = nms_iou
        self.models = [RANGES[r] for r in ranges]
        self.sessions = [open_session(m.name, threads, (model_paths or {}).get(r)) for m, r in zip(self.models, ranges)]
        self.anchors = [ssd_anchor_centres(m) for m in self.models]
        self._memo: LastImageMemo[Detection] = LastImageMemo()

    def detect(self, image: Image.Image) -> list[Detection]:
        return self._memo.get(image, self._detect)

    def _faces(
        self, image: Image.Image, model: FaceModel, session: Any, anchors: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Candidate rows (x0, y0, x1, y1, keypoints) in original pixels and their scores."""
        width, height = image.size
        scale = model.size / max(width, height)
        resized = image.convert("RGB").resize(
            (max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BILINEAR
        )
        pad_x, pad_y = (model.size - resized.width) // 2, (model.size - resized.height) // 2
        tensor = np.full((1, model.size, model.size, 3), -1.0, dtype=np.float32)  # padding: black
        tensor[0, pad_y : pad_y + resized.height, pad_x : pad_x + resized.width] = (
            np.asarray(resized, dtype=np.float32) / 127.5 - 1.0
        )
        raw_boxes, raw_scores = session.run(None, {session.get_inputs()[0].name: tensor})
        logits = np.clip(raw_scores[0, :, 0], -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)
        scores = 1.0 / (1.0 + np.exp(-logits))
        keep = np.nonzero(scores >= self.score_floor)[0]
        raw = raw_boxes[0, keep].reshape(-1, 2 + KEYPOINTS, 2) / model.size  # (cx, cy), (w, h), points
        centre = raw[:, 0] + anchors[keep]
        half = raw[:, 1] / 2
        points = raw[:, 2:] + anchors[keep][:, None, :]
        corners = np.concatenate([centre - half, centre + half], axis=1)
        valid = (half > 0).all(axis=1)
        rows = np.concatenate([corners, points.reshape(len(keep), 2 * KEYPOINTS)], axis=1)[valid]
        # letterboxed square [0, 1] -> original pixels
        rows = (rows * model.size - np.tile([pad_x, pad_y], 2 + KEYPOINTS)) / scale
        return rows, scores[keep][valid]

    def _detect(self, image: Image.Image) -> list[Detection]:
        width, height = image.size
        found = [self._faces(image, m, s, a) for m, s, a in zip(self.models, self.sessions, self.anchors)]
        rows = np.concatenate([f[0] for f in found])
        scores = np.concatenate([f[1] for f in found])
        faces = []
        for row, score in weighted_nms(rows, scores, self.nms_iou):
            box = (
                float(np.clip(row[0], 0, width)),
                float(np.clip(row[1], 0, height)),
                float(np.clip(row[2], 0, width)),
                float(np.clip(row[3], 0, height)),
            )
            points = tuple((float(x), float(y)) for x, y in row[4:].reshape(KEYPOINTS, 2))
            faces.append(Detection("face", box, score, points))
        return faces


@register_analyser("blazeface")
def create_blazeface(
    threads: int | None = None,
    ranges: tuple[str, ...] = ("short", "full"),
    score_floor: float = 0.6,
    nms_iou: float = 0.3,
) -> BlazeFaceDetector:
    return BlazeFaceDetector(threads, tuple(ranges), score_floor, nms_iou)
