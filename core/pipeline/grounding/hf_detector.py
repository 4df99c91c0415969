"""What the transformers detectors share: load processor + model from a folder or hub id, a
score threshold, a version naming the weights they came from, and the `Grounder` answer
built from each expression's best box."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from groundlens.core.pipeline import device
from groundlens.core.pipeline.types import Box, Grounding, Groundings, Mention
from groundlens.core.pipeline.vision.analysis import ImageAnalysis
from groundlens.records import Evidence


class TransformersDetector:
    name: str  # each subclass's backend name
    model_class = ""  # a transformers class name, imported lazily

    def __init__(self, model: str, threshold: float):
        import transformers

        self.processor = transformers.AutoProcessor.from_pretrained(model)
        self.model = getattr(transformers, self.model_class).from_pretrained(model).eval().to(device.current())
        self.threshold = threshold
        self.version = f"1+{Path(str(model)).name}"

    def boxes(self, image: Image.Image, expressions: Sequence[str]) -> list[tuple[Box, float] | None]:
        """Each expression's best box and score, None below the threshold."""
        raise NotImplementedError

    def ground(
        self, analysis: ImageAnalysis, text: str, mentions: Sequence[Mention], expressions: Sequence[str]
    ) -> Groundings:
        found = self.boxes(analysis.image, expressions) if expressions else []
        return Groundings(
            [
                Grounding(
                    hit[0],
                    hit[1],
                    [Evidence("detector", f"{self.name} found the expression, {hit[1]:.2f}", hit[1], hit[0])],
                )
                if hit is not None
                else Grounding()
                for hit in found
            ]
        )
