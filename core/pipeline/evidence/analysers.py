"""The image analysers the evidence judge and grounder share, and the findings they derive.

Which analyser each entity type can use (so that none runs for nothing):
- PER: the object detector (people), the face detector (face-derived boxes, SAM points), and
  OCR (name tags) only once someone is in the photo;
- ORG, OTHER: OCR (names, logos, products); the object detector only when the lexicon maps
  the mention to a COCO class;
- LOC: OCR (signs).
Findings are memoised on the `ImageAnalysis`, so the judge and the grounder compute each once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from groundlens.core.pipeline.evidence.people import Person, find_people
from groundlens.core.pipeline.evidence.text_match import TextHit, find_name
from groundlens.core.pipeline.types import Mention
from groundlens.core.pipeline.vision.analysis import ImageAnalysis
from groundlens.core.pipeline.vision.types import Detection, ObjectDetector, TextReader


@dataclass(frozen=True)
class Analysers:
    objects: ObjectDetector | None
    faces: ObjectDetector | None
    reader: TextReader | None

    @property
    def sees_people(self) -> bool:
        """False when both detectors are switched off: then "no person" is not evidence."""
        return self.objects is not None or self.faces is not None

    def people(self, analysis: ImageAnalysis) -> list[Person]:
        """Prominent people, left to right."""

        def compute() -> list[Person]:
            bodies = analysis.detect(self.objects) if self.objects is not None else []
            faces = analysis.detect(self.faces) if self.faces is not None else []
            return find_people(bodies, faces, *analysis.image.size)

        return analysis.memo(("people", id(self)), compute)

    def text_hits(self, analysis: ImageAnalysis, mention: Mention) -> list[TextHit]:
        """Where the mention's name is read in the image (a person also by surname), best first."""
        if self.reader is None:
            return []
        lines = analysis.read(self.reader)
        return analysis.memo(
            ("text", id(self), mention.text, mention.type),
            lambda: find_name(mention.text, lines, surname=mention.type == "PER"),
        )

    def objects_of(self, analysis: ImageAnalysis, labels: Sequence[str]) -> list[Detection]:
        """Detections of the given COCO classes, best first (the detector runs on first use)."""
        if self.objects is None or not labels:
            return []
        return sorted((d for d in analysis.detect(self.objects) if d.label in labels), key=lambda d: -d.score)


_shared: dict[tuple[str | None, str | None, str | None], Analysers] = {}


def shared_analysers(
    objects: str | None = "nanodet", faces: str | None = "blazeface", reader: str | None = "rapidocr"
) -> Analysers:
    """One set of loaded analysers per choice per process: the judge and the grounder built
    from the same settings share their models and, through `ImageAnalysis`, their results."""
    key = (objects, faces, reader)
    if key not in _shared:
        from groundlens.core.pipeline.vision.registry import shared_analyser

        _shared[key] = Analysers(
            objects=shared_analyser(objects) if objects else None,
            faces=shared_analyser(faces) if faces else None,
            reader=shared_analyser(reader) if reader else None,
        )
    return _shared[key]
