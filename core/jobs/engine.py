"""Where the pipeline's model work runs: in this process, or on a Ray cluster.

Both engines take batches of posts and give back their results batch by batch, in the order
the batches were given, so the callers (the job-queue worker and `analyze`) stay the single
place that claims posts and writes results, with the same guarantees whatever runs the models.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from groundlens.core.pipeline.types import PostInput, PostResult
from groundlens.core.settings import Settings


class Engine(Protocol):
    name: str

    def map_batches(self, batches: Iterable[list[PostInput]]) -> Iterator[list[PostResult]]:
        """Results of each batch, in batch order; batches are read lazily (a few ahead at most)."""

    def close(self) -> None:
        """Release models and workers (a cluster is left running: it is not ours)."""


class LocalEngine:
    """The pipeline in this process: models load once (on the chosen device, with `threads` torch
    threads), batches run one after the other. A Ray actor holds one of these too."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        from groundlens.core.pipeline import device
        from groundlens.core.pipeline.pipeline import Pipeline

        device.use(settings.device)
        if settings.threads:
            import torch

            torch.set_num_threads(settings.threads)
        self.pipeline = Pipeline.from_config(settings.pipeline)

    def map_batches(self, batches: Iterable[list[PostInput]]) -> Iterator[list[PostResult]]:
        return (self.pipeline.run(batch) for batch in batches)

    def close(self) -> None:
        self.pipeline = None  # type: ignore[assignment]  # released on close: the models' memory goes with it
