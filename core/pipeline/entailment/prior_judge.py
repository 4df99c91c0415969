"""Default visual-entailment judge: the learned groundability prior, moved by person evidence.

No image-text model ships in any package here, so the text decides first: the
groundability prior (trained on Twitter-GMNER train: does a mention like this, in a post
like this, tend to be in the picture?) gives p. For PER mentions the image then adds
evidence from the Haar person detector, as a shift in log-odds:

    logit(p') = logit(p) + person_boost   if the k-th PER mention (text order) has a k-th person
    logit(p') = logit(p) + no_person_shift otherwise

The defaults (+1.0, -0.5) are deliberately asymmetric: a detected face is strong evidence,
while a miss is weak (Haar cascades miss profiles, small and occluded people). They are
not tuned on data (the dataset's images are not available here); set both to 0 to use the
prior alone. LOC/ORG/OTHER keep the prior's value.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from PIL import Image

from core.pipeline.grounding.person_detector import HaarPersonDetector, shared_detector
from core.pipeline.registry import register
from core.pipeline.types import Mention


def shift_probability(p: float, shift: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return 1.0 / (1.0 + math.exp(-(math.log(p / (1 - p)) + shift)))


class PriorJudge:
    name = "prior"

    def __init__(self, prior, detector: HaarPersonDetector | None, person_boost: float = 1.0,
                 no_person_shift: float = -0.5):
        self.prior = prior
        self.detector = detector
        self.person_boost = person_boost
        self.no_person_shift = no_person_shift
        self.version = f"1+{getattr(prior, 'version', 'prior')}"

    def judge(self, image: Image.Image, text: str, mentions: Sequence[Mention], expressions: Sequence[str]
              ) -> list[float]:
        scores = [float(p) for p in self.prior.predict(text, list(mentions))]
        if self.detector is None or not any(m.type == "PER" for m in mentions):
            return scores
        people = len(self.detector.detect(image))
        rank = 0
        for i, mention in enumerate(mentions):
            if mention.type == "PER":
                rank += 1
                scores[i] = shift_probability(scores[i], self.person_boost if rank <= people else self.no_person_shift)
        return scores


def _validate_prior(path: str | None = None, **_: object) -> None:
    if path is not None and not Path(str(path)).expanduser().is_dir():
        raise FileNotFoundError(f"option 'path': {path} is not a folder holding a groundability prior")


@register("entailment", "prior", validate=_validate_prior)
def create_prior_judge(path: str | None = None, person_evidence: bool = True, person_boost: float = 1.0,
                       no_person_shift: float = -0.5, max_side: int = 640) -> PriorJudge:
    from core.pipeline.entailment.prior import GroundabilityPrior

    detector = shared_detector(max_side) if person_evidence else None
    return PriorJudge(GroundabilityPrior.load(path), detector, person_boost, no_person_shift)
