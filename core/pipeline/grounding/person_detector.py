"""Default grounder: people from OpenCV's Haar cascades, scenes for places, nothing invented.

The only detection weights that ship inside packages here are OpenCV's Haar cascades
(no open-vocabulary detector does), so the default grounder can find people
and nothing else:

- PER: frontal faces, profile faces (both directions), upper bodies and full bodies are
  detected on a copy scaled to at most `max_side` pixels. A face box (x, y, w, h) is widened
  to the head-and-shoulders box a GMNER annotator draws around a person: 3 face widths wide,
  centred on the face, from 0.5 face heights above the face to 3 face heights below its top,
  clipped to the image. Candidates are merged by NMS and ranked by
  confidence x (0.5 + 0.5 sqrt(area share)) x (1 - 0.5 centre distance), i.e. big, central,
  confident people first. PER mentions (in text order) take distinct boxes in rank order.
- LOC: a place the entailment stage judged visible is usually the scene itself, so the
  whole image is the box (score `scene_score`).
- ORG, OTHER: no box. Logos and products need an open-vocabulary detector (owlv2,
  grounding_dino) whose weights this machine cannot ship.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
from PIL import Image

from core.pipeline.grounding.postprocess import nms
from core.pipeline.registry import register
from core.pipeline.types import Box, Mention

# cascade file -> (how much a hit of this kind is trusted, minNeighbors)
CASCADES: dict[str, tuple[float, int]] = {
    "haarcascade_frontalface_alt2.xml": (1.0, 3),
    "haarcascade_profileface.xml": (0.9, 3),
    "haarcascade_upperbody.xml": (0.6, 4),
    "haarcascade_fullbody.xml": (0.6, 4),
}
FACE_CASCADES = {"haarcascade_frontalface_alt2.xml", "haarcascade_profileface.xml"}


@dataclass(frozen=True)
class Detection:
    box: Box  # original pixels
    score: float  # 0..1
    kind: str  # cascade file name


def face_to_person(x: float, y: float, w: float, h: float, width: int, height: int) -> Box:
    """The head-and-shoulders rule documented in the module docstring."""
    return (max(0.0, x - w), max(0.0, y - 0.5 * h), min(float(width), x + 2 * w), min(float(height), y + 3 * h))


def neighbours_to_score(neighbours: int) -> float:
    """More overlapping raw hits merged into one detection = more confident; 8 hits ~ 0.63."""
    return 1.0 - math.exp(-neighbours / 8.0)


def rank_score(det: Detection, width: int, height: int) -> float:
    x0, y0, x1, y1 = det.box
    share = max(0.0, (x1 - x0) * (y1 - y0)) / float(width * height)
    dx = ((x0 + x1) / 2 - width / 2) / (width / 2)
    dy = ((y0 + y1) / 2 - height / 2) / (height / 2)
    centre = min(1.0, math.hypot(dx, dy) / math.sqrt(2))
    return det.score * (0.5 + 0.5 * math.sqrt(share)) * (1 - 0.5 * centre)


class HaarPersonDetector:
    """Person boxes in an image, ranked; remembers the last image so the entailment judge and
    the grounder, which both ask about the same image, pay for detection once."""

    def __init__(self, max_side: int = 640, min_size: int = 24, nms_iou: float = 0.3):
        self.max_side = max_side
        self.min_size = min_size
        self.nms_iou = nms_iou
        self.cascades = {}
        for file in CASCADES:
            cascade = cv2.CascadeClassifier(cv2.data.haarcascades + file)
            if cascade.empty():
                raise RuntimeError(f"OpenCV cascade {file} is missing (opencv-python-headless 4.x ships it)")
            self.cascades[file] = cascade
        self._last: tuple[Image.Image, list[Detection]] | None = None

    def detect(self, image: Image.Image) -> list[Detection]:
        if self._last is not None and self._last[0] is image:
            return self._last[1]
        detections = self._detect(image)
        self._last = (image, detections)
        return detections

    def _detect(self, image: Image.Image) -> list[Detection]:
        width, height = image.size
        scale = min(1.0, self.max_side / max(width, height))
        small = image.convert("L")
        if scale < 1.0:
            small = small.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.BILINEAR)
        gray = cv2.equalizeHist(np.asarray(small))
        found: list[Detection] = []
        for file, (trust, min_neighbours) in CASCADES.items():
            views = [(gray, False), (gray[:, ::-1].copy(), True)] if file == "haarcascade_profileface.xml" else [(gray, False)]
            for view, flipped in views:
                rects, neighbours = self.cascades[file].detectMultiScale2(
                    view, scaleFactor=1.15, minNeighbors=min_neighbours, minSize=(self.min_size, self.min_size)
                )
                for (x, y, w, h), n in zip(np.asarray(rects).reshape(-1, 4), np.asarray(neighbours).reshape(-1)):
                    if flipped:
                        x = view.shape[1] - x - w
                    x, y, w, h = (float(v) / scale for v in (x, y, w, h))
                    if file in FACE_CASCADES:
                        box = face_to_person(x, y, w, h, width, height)
                    else:
                        box = (x, y, min(float(width), x + w), min(float(height), y + h))
                    found.append(Detection(box, trust * neighbours_to_score(int(n)), file))
        keep = nms([d.box for d in found], [d.score for d in found], self.nms_iou)
        kept = [found[i] for i in keep]
        return sorted(kept, key=lambda d: -rank_score(d, width, height))


_detectors: dict[tuple[int, int, float], HaarPersonDetector] = {}


def shared_detector(max_side: int = 640, min_size: int = 24, nms_iou: float = 0.3) -> HaarPersonDetector:
    """One detector per setting per process, shared by the entailment judge and the grounder
    (so an image they both ask about is scanned once)."""
    key = (int(max_side), int(min_size), float(nms_iou))
    if key not in _detectors:
        _detectors[key] = HaarPersonDetector(*key)
    return _detectors[key]


class PersonDetectorGrounder:
    name = "person_detector"
    version = "1"

    def __init__(self, detector: HaarPersonDetector, scene_types: Sequence[str] = ("LOC",), scene_score: float = 0.5):
        self.detector = detector
        self.scene_types = set(scene_types)
        self.scene_score = scene_score

    def ground(self, image: Image.Image, mentions: Sequence[Mention], expressions: Sequence[str]
               ) -> list[tuple[Box, float] | None]:
        width, height = image.size
        people = self.detector.detect(image) if any(m.type == "PER" for m in mentions) else []
        out: list[tuple[Box, float] | None] = []
        next_person = 0
        for mention in mentions:
            if mention.type == "PER":
                if next_person < len(people):
                    out.append((people[next_person].box, people[next_person].score))
                    next_person += 1
                else:
                    out.append(None)
            elif mention.type in self.scene_types:
                out.append(((0.0, 0.0, float(width), float(height)), self.scene_score))
            else:
                out.append(None)
        return out


@register("grounding", "person_detector")
def create_person_detector(max_side: int = 640, min_size: int = 24, nms_iou: float = 0.3,
                           scene_types: Sequence[str] = ("LOC",), scene_score: float = 0.5) -> PersonDetectorGrounder:
    return PersonDetectorGrounder(shared_detector(max_side, min_size, nms_iou), tuple(scene_types), scene_score)
