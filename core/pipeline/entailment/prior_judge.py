"""Text-only visual-entailment judge: the learned groundability prior, without looking at the image.

No image-text model ships in any package here, so the text decides first: the groundability
prior (trained on Twitter-GMNER train: does a mention like this, in a post like this, tend to
be in the picture?) gives p. The `evidence` judge (evidence_judge.py, the default) moves p by
what the image analysers saw; this one is the prior alone, for when they are switched off
or for measuring what the image adds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from groundlens.core.pipeline.registry import register
from groundlens.core.pipeline.types import Judgment, Mention
from groundlens.core.pipeline.vision.analysis import ImageAnalysis
from groundlens.records import Evidence


def shift_probability(p: float, shift: float) -> float:
    """p moved by `shift` in log-odds."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return 1.0 / (1.0 + math.exp(-(math.log(p / (1 - p)) + shift)))


def prior_evidence(p: float) -> Evidence:
    leaning = "suggests it is pictured" if p >= 0.5 else "suggests it is not pictured"
    return Evidence("prior", f"the post's wording {leaning}, {p:.2f}", p)


class PriorJudge:
    name = "prior"

    def __init__(self, prior: Any):
        self.prior = prior
        self.version = f"2+{getattr(prior, 'version', 'prior')}"

    def judge(
        self, analysis: ImageAnalysis | None, text: str, mentions: Sequence[Mention], expressions: Sequence[str]
    ) -> list[Judgment]:
        if not mentions:
            return []
        return [Judgment(float(p), [prior_evidence(float(p))]) for p in self.prior.predict(text, list(mentions))]


def _validate_prior(path: str | None = None, **_: object) -> None:
    if path is not None and not Path(str(path)).expanduser().is_dir():
        raise FileNotFoundError(f"option 'path': {path} is not a folder holding a groundability prior")


@register("entailment", "prior", validate=_validate_prior)
def create_prior_judge(path: str | None = None) -> PriorJudge:
    from groundlens.core.pipeline.entailment.prior import GroundabilityPrior

    return PriorJudge(GroundabilityPrior.load(path))
