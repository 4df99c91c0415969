"""One image's analysis, shared by every stage that looks at it.

The pipeline makes one `ImageAnalysis` per post image and hands it to the entailment judge,
the grounder and the segmenter. Each analyser (object detector, face detector, OCR) runs at
most once per image, and only when a backend asks for its result; derived findings that
the judge and the grounder both need are memoised here too. The time each analyser took is
kept apart so that benchmarks can report it as a stage of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from PIL import Image

from groundlens.core.pipeline.vision.types import Detection, ObjectDetector, TextReader
from groundlens.records import ImageText

T = TypeVar("T")


class ImageAnalysis:
    def __init__(self, image: Image.Image):
        self.image = image
        self.timings: dict[str, float] = {}  # analyser name -> seconds spent on this image
        self.texts: list[ImageText] | None = None  # what OCR read, once some backend asked
        self._memo: dict[Hashable, Any] = {}

    def detect(self, detector: ObjectDetector) -> list[Detection]:
        return self._run(
            ("detect", detector.name, detector.version), detector.name, lambda: detector.detect(self.image)
        )

    def read(self, reader: TextReader) -> list[ImageText]:
        texts = self._run(("read", reader.name, reader.version), reader.name, lambda: reader.read(self.image))
        self.texts = texts
        return texts

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A value derived from the analysers, computed once per image and key."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])  # stored by compute() under this key

    @property
    def analysis_seconds(self) -> float:
        return sum(self.timings.values())

    def _run(self, key: Hashable, name: str, compute: Callable[[], T]) -> T:
        if key not in self._memo:
            start = time.perf_counter()
            self._memo[key] = compute()
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start
        return cast(T, self._memo[key])  # stored by compute() under this key
