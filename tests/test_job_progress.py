"""The remaining-time estimate a run reports (core.jobs.progress.RemainingTime)."""

from __future__ import annotations

import pytest

from groundlens.core.jobs.progress import JobProgress, PostCost, RemainingTime, format_duration

# Stage timings measured on this machine for the default pipeline (demo posts, 2 threads): a photo of a
# person costs ~8 s (segmentation most of it), a post without an image ~0.1 s.
PHOTO = {"ner": 0.12, "expression": 0.0, "image": 0.01, "entailment": 0.8, "grounding": 0.05, "segmentation": 7.0}
TEXT = {"ner": 0.1, "expression": 0.0}


def true_cost(photos: int, texts: int) -> float:
    return photos * sum(PHOTO.values()) + texts * sum(TEXT.values())


def test_a_first_batch_of_photos_does_not_price_the_text_posts_as_photos():
    """The first ETA of a run of 2 photos then 40 text posts was 20x too long: remaining posts over the
    posts per second of a batch of photos."""
    estimate = RemainingTime(with_image=2, without_image=40)
    wall = true_cost(2, 0) * 1.02  # the batch also stores its results
    estimate.add_batch([PostCost(True, PHOTO), PostCost(True, PHOTO)], wall)
    naive = JobProgress(state="running", done=2, total=42, elapsed_s=wall)
    naive_eta = (naive.total - naive.done) / naive.rate
    actual = true_cost(0, 40)
    assert naive_eta / actual > 20  # what the old estimate said
    assert estimate.seconds() == pytest.approx(actual, rel=0.3)  # priced from the photos' text stages


def test_a_first_batch_of_text_does_not_price_the_photos_as_text():
    estimate = RemainingTime(with_image=10, without_image=12)
    estimate.add_batch([PostCost(False, TEXT)] * 2, true_cost(0, 2))
    assert estimate.seconds() >= true_cost(0, 10)  # never less than the photos' text part
    estimate.add_batch([PostCost(True, PHOTO)] * 2, true_cost(2, 0))
    assert estimate.seconds() == pytest.approx(true_cost(8, 10), rel=0.05)


def test_the_estimate_counts_down_to_zero():
    estimate = RemainingTime(with_image=1, without_image=1)
    assert estimate.seconds() is None  # nothing measured yet: no guess
    estimate.add_batch([PostCost(True, PHOTO), PostCost(False, TEXT)], true_cost(1, 1))
    assert estimate.seconds() == 0
    assert format_duration(3725) == "1h 02m" and format_duration(75) == "1m 15s" and format_duration(None) == "—"
