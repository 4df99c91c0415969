"""One small interface per RiVEG stage (see ../shared/METHOD.md).

Backends implement one of these protocols and register under a name in
`core.pipeline.registry`; the pipeline only ever talks to the protocol.
Every backend has `name` and `version` so results record what produced them.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np
from PIL import Image

from core.pipeline.types import Box, Mention


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
        self, image: Image.Image, text: str, mentions: Sequence[Mention], expressions: Sequence[str]
    ) -> list[float]:
        """Probability, per mention, that the image shows it (groundable)."""


class Grounder(Backend, Protocol):
    def ground(
        self, image: Image.Image, mentions: Sequence[Mention], expressions: Sequence[str]
    ) -> list[tuple[Box, float] | None]:
        """Best box and its score per mention, in original pixels; None where nothing fits."""


class Segmenter(Backend, Protocol):
    def segment(self, image: Image.Image, boxes: Sequence[Box]) -> list[np.ndarray]:
        """A bool HxW mask per box; the image is encoded once for all its boxes."""
