"""One small interface per RiVEG stage (see ../shared/METHOD.md).

Backends implement one of these protocols and register under a name in
`core.pipeline.registry`, whose `register` and `create` are typed per stage so that mypy checks
each backend against its protocol; the pipeline only ever talks to the protocol.
Every backend has `name` and `version` so results record what produced them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, TypedDict

import numpy as np
import numpy.typing as npt
from PIL import Image

from groundlens.core.pipeline.types import Box, Groundings, Judgment, Mention, PointPrompt

if TYPE_CHECKING:  # a name for annotations only: listing backends (registry -> stages) loads no image analyser
    from groundlens.core.pipeline.vision.analysis import ImageAnalysis


class Backend(Protocol):
    name: str
    version: str


class EntityRecognizer(Backend, Protocol):
    def recognize(self, texts: Sequence[str]) -> list[list[Mention]]:
        """Find typed entity spans in each raw post text (batched for throughput)."""


class ExpressionWriter(Backend, Protocol):
    def express(self, text: str, mentions: Sequence[Mention]) -> list[str]:
        """A short referring expression per mention, e.g. 'Kevin Durant, the basketball player'."""


class EntailmentJudge(Backend, Protocol):
    def judge(
        self, analysis: ImageAnalysis, text: str, mentions: Sequence[Mention], expressions: Sequence[str]
    ) -> list[Judgment]:
        """Probability, per mention, that the image (analysis.image) shows it, with the evidence."""


class Grounder(Backend, Protocol):
    def ground(
        self, analysis: ImageAnalysis, text: str, mentions: Sequence[Mention], expressions: Sequence[str]
    ) -> Groundings:
        """Per mention its box (original pixels), score and evidence, or None where nothing fits;
        plus the detections tied to no mention."""


class Segmenter(Backend, Protocol):
    def segment(
        self, image: Image.Image, boxes: Sequence[Box], points: Sequence[Sequence[PointPrompt]] | None = None
    ) -> list[npt.NDArray[np.bool_]]:
        """A bool HxW mask per box, each optionally with point prompts; the image is encoded
        once for all its boxes."""


class StageBackends(TypedDict, total=False):
    """The backend of each stage; a stage that is off is None or absent."""

    ner: EntityRecognizer | None
    expression: ExpressionWriter | None
    entailment: EntailmentJudge | None
    grounding: Grounder | None
    segmentation: Segmenter | None
