"""Default visual-entailment judge: the text prior, moved by what the image analysers saw.

The groundability prior (trained on Twitter-GMNER train, text only) gives p; each observation
shifts its log-odds, and is kept as evidence the analyst sees:

- the name read in the image (OCR, whole words, OCR slips tolerated): + text_weight x score;
  for a person only when read on a detected person (a name tag), not printed elsewhere;
- PER: people detected: + person_weight; no person and no face at all: + no_person_weight;
- ORG/OTHER whose words name a COCO class (a car maker -> car, "iPhone" -> cell phone) and
  such an object detected: + object_weight x score.

Weights are log-odds shifts (defaults in `EvidenceWeights`); set them all to 0 for the prior alone.
Whether a kept mention is also located (and so "in image" rather than "probably") is the
grounder's decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from groundlens.core.pipeline.entailment.prior_judge import prior_evidence, shift_probability
from groundlens.core.pipeline.evidence.analysers import Analysers, shared_analysers
from groundlens.core.pipeline.evidence.lexicon import object_classes
from groundlens.core.pipeline.evidence.people import count_phrase
from groundlens.core.pipeline.evidence.text_match import TextHit
from groundlens.core.pipeline.registry import register
from groundlens.core.pipeline.types import Judgment, Mention
from groundlens.core.pipeline.vision.analysis import ImageAnalysis
from groundlens.records import Evidence


@dataclass(frozen=True)
class EvidenceWeights:
    text: float = 4.0
    person: float = 1.0
    no_person: float = -3.0
    object: float = 2.0


class EvidenceJudge:
    name = "evidence"

    def __init__(self, prior: Any, analysers: Analysers, weights: EvidenceWeights = EvidenceWeights()):
        self.prior = prior
        self.analysers = analysers
        self.weights = weights
        self.version = f"1+{getattr(prior, 'version', 'prior')}"

    def judge(
        self, analysis: ImageAnalysis, text: str, mentions: Sequence[Mention], expressions: Sequence[str]
    ) -> list[Judgment]:
        priors = [float(p) for p in self.prior.predict(text, list(mentions))] if mentions else []
        return [self._one(analysis, m, e, p) for m, e, p in zip(mentions, expressions, priors)]

    def _one(self, analysis: ImageAnalysis, mention: Mention, expression: str, p: float) -> Judgment:
        evidence = [prior_evidence(p)]
        if mention.type == "PER":
            shift = self._person(analysis, mention, evidence)
        else:
            shift = self._thing(analysis, mention, expression, evidence)
        return Judgment(shift_probability(p, shift), evidence)

    def _person(self, analysis: ImageAnalysis, mention: Mention, evidence: list[Evidence]) -> float:
        """People in the photo, and the name read on one of them (a name tag). A name printed
        elsewhere (a book cover, a poster) does not show the person, and with nobody in the
        photo there is no tag to read, so OCR is not asked for."""
        if not self.analysers.sees_people:
            return 0.0
        people = self.analysers.people(analysis)
        evidence.append(Evidence("person", count_phrase(len(people)), max((q.score for q in people), default=1.0)))
        if not people:
            return self.weights.no_person
        hits = self.analysers.text_hits(analysis, mention)
        tags = [h for h in hits if any(person.contains(h.box) for person in people)]
        if not tags:
            evidence += [
                Evidence("ocr", f"read '{h.text}' in the image, not on a person", h.score, h.box) for h in hits[:1]
            ]
            return self.weights.person
        evidence.append(read_evidence(tags[0]))
        return self.weights.person + self.weights.text * tags[0].score

    def _thing(self, analysis: ImageAnalysis, mention: Mention, expression: str, evidence: list[Evidence]) -> float:
        """The name read anywhere in the photo; an object of a class the mention's words name."""
        shift = 0.0
        hits = self.analysers.text_hits(analysis, mention)
        if hits:
            shift += self.weights.text * hits[0].score
            evidence.append(read_evidence(hits[0]))
        found = self.analysers.objects_of(analysis, object_classes(mention, expression))
        if found:
            shift += self.weights.object * found[0].score
            evidence.append(
                Evidence("object", f"a {found[0].label} detected, {found[0].score:.2f}", found[0].score, found[0].box)
            )
        return shift


def read_evidence(hit: TextHit) -> Evidence:
    return Evidence("ocr", f"read '{hit.text}' in the image, {hit.score:.2f}", hit.score, hit.box)


@register("entailment", "evidence")
def create_evidence_judge(
    path: str | None = None,
    objects: str | None = "nanodet",
    faces: str | None = "blazeface",
    reader: str | None = "rapidocr",
    **weights: float,
) -> EvidenceJudge:
    from groundlens.core.pipeline.entailment.prior import GroundabilityPrior

    known = {f.name for f in fields(EvidenceWeights)}
    unknown = set(weights) - {f"{k}_weight" for k in known}
    if unknown:
        raise ValueError(f"unknown evidence judge options: {', '.join(sorted(unknown))}")
    chosen = EvidenceWeights(**{k.removesuffix("_weight"): float(v) for k, v in weights.items()})
    return EvidenceJudge(GroundabilityPrior.load(path), shared_analysers(objects, faces, reader), chosen)
