"""What a pipeline run reports: shared by the worker (sender), the CLI bar and the GUI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

JobState = Literal["starting", "loading", "running", "finished", "cancelled", "failed"]
TERMINAL_STATES = ("finished", "cancelled", "failed")


@dataclass(frozen=True)
class JobProgress:
    state: JobState = "starting"
    done: int = 0  # posts finished in this run, with or without error
    failed: int = 0  # of those, posts whose result carries an error
    total: int = 0  # posts this run set out to process
    elapsed_s: float = 0.0  # since processing began (model loading excluded)
    message: str | None = None  # why a run failed or stopped early

    @property
    def rate(self) -> float:
        """Posts per second so far."""
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate > 0 else None

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_STATES
