"""What the image analysers return, and the small interface each one implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from groundlens.core.pipeline.types import Box
from groundlens.records import ImageText


@dataclass(frozen=True)
class Detection:
    """One thing a detector found, in original image pixels.

    label: a COCO class name ("person", "car", "cell phone") or "face"; keypoints: for faces,
    BlazeFace's six points (right eye, left eye, nose tip, mouth centre, right ear tragion,
    left ear tragion) in pixels, empty otherwise.
    """

    label: str
    box: Box
    score: float
    keypoints: tuple[tuple[float, float], ...] = ()


class ObjectDetector(Protocol):
    name: str
    version: str

    def detect(self, image: Image.Image) -> list[Detection]:
        """Every detection above the detector's own score floor, best first."""


class TextReader(Protocol):
    name: str
    version: str

    def read(self, image: Image.Image) -> list[ImageText]:
        """Lines of text read in the image with axis-aligned boxes and recognition scores."""
