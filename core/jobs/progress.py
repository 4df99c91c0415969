"""What a pipeline run reports: shared by the worker (sender), the CLI bar and the GUI.

The ETA is the worker's own estimate (`RemainingTime`), not remaining posts / posts per second:
a post with an image costs 50-100x one without (entailment, detection, segmentation: seconds,
against a tenth of a second for text alone), so a first batch of photos made the first ETA of a
mostly text run 20x too long, and a first batch of text made it far too short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

JobState = Literal["starting", "loading", "running", "finished", "cancelled", "failed"]
TERMINAL_STATES = ("finished", "cancelled", "failed")
TEXT_STAGES = ("ner", "expression")  # what a post costs without its image


@dataclass(frozen=True)
class JobProgress:
    state: JobState = "starting"
    done: int = 0  # posts finished in this run, with or without error
    failed: int = 0  # of those, posts whose result carries an error
    total: int = 0  # posts this run set out to process
    elapsed_s: float = 0.0  # since processing began (model loading excluded)
    message: str | None = None  # why a run failed or stopped early
    eta_s: float | None = None  # seconds left, by RemainingTime; None until the first batch is done

    @property
    def rate(self) -> float:
        """Posts per second so far."""
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_STATES


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


@dataclass(frozen=True)
class PostCost:
    """One finished post: whether it went through the image stages, and its stage timings (seconds)."""

    with_image: bool
    timings: dict[str, float]


class RemainingTime:
    """Seconds left, from what posts with and without an image have cost so far and how many of each
    are left. A kind not seen yet is priced from the other: a text-only post costs the text stages of
    a post with an image; a post with an image at least the mean so far."""

    def __init__(self, with_image: int, without_image: int) -> None:
        self.left = {True: with_image, False: without_image}
        self.spent = {True: 0.0, False: 0.0}
        self.seen = {True: 0, False: 0}
        self.text_spent = 0.0  # text-stage seconds of every post, images or not

    def add_batch(self, posts: Sequence[PostCost], wall_s: float) -> None:
        """A batch's wall time shared out by the posts' own stage timings (the rest is storage and glue)."""
        measured = [sum(p.timings.values()) for p in posts]
        scale = wall_s / sum(measured) if sum(measured) > 0 else 0.0
        for post, cost in zip(posts, measured):
            share = cost * scale if scale else wall_s / len(posts)
            self.spent[post.with_image] += share
            self.seen[post.with_image] += 1
            self.left[post.with_image] = max(0, self.left[post.with_image] - 1)
            self.text_spent += sum(post.timings.get(s, 0.0) for s in TEXT_STAGES) * (scale or 1.0)

    def seconds(self) -> float | None:
        seen = self.seen[True] + self.seen[False]
        if seen == 0:
            return None
        mean = (self.spent[True] + self.spent[False]) / seen
        text = self.spent[False] / self.seen[False] if self.seen[False] else self.text_spent / seen
        image = self.spent[True] / self.seen[True] if self.seen[True] else mean
        return self.left[True] * image + self.left[False] * text
