"""The shipped groundability encoder judges a mention late in a long post from the words around it, not
from the [CLS] piece of a post cut at 64 word pieces."""

from __future__ import annotations

import pytest

from groundlens.core.pipeline.entailment.prior import DEFAULT_DIR, GroundabilityPrior
from tests.helpers.gmner import mentions

pytestmark = pytest.mark.slow

TAIL = "so much fun today " * 16 + "Selfie with Taylor Swift at the stadium"  # > 62 pieces around the mention


@pytest.fixture(scope="module")
def encoder_alone():
    prior = GroundabilityPrior.load(DEFAULT_DIR)
    prior.blend = None  # the encoder's own judgement (the logistic half reads the whole text anyway)
    return prior


def test_a_late_mention_is_judged_from_its_own_context(encoder_alone) -> None:
    early_a = "Watching the news about taxes and the budget vote tonight . " * 4
    early_b = "Cooking pasta with my grandmother in the kitchen all afternoon . " * 4
    first, second = (early + TAIL for early in (early_a, early_b))
    [score_first] = encoder_alone.predict(first, mentions(first, ("Taylor Swift", "PER")))
    [score_second] = encoder_alone.predict(second, mentions(second, ("Taylor Swift", "PER")))
    # only the words near the mention count: text more than a window away changes nothing
    assert score_first == pytest.approx(score_second, abs=1e-5)
    # and they do count: another context around the mention gives another judgement
    other = early_a + TAIL.replace("Selfie with", "Thinking about")
    [score_other] = encoder_alone.predict(other, mentions(other, ("Taylor Swift", "PER")))
    assert abs(score_other - score_first) > 1e-3


def test_every_mention_of_a_long_post_gets_a_score_in_its_order(encoder_alone) -> None:
    text = "Obama in Paris . " + "so much fun today " * 40 + "Selfie with Taylor Swift in London"
    found = mentions(text, ("Obama", "PER"), ("Paris", "LOC"), ("Taylor Swift", "PER"), ("London", "LOC"))
    scores = encoder_alone.predict(text, found)
    assert len(scores) == 4 and all(0 < s < 1 for s in scores)
    assert scores[:2] == pytest.approx(
        encoder_alone.predict("Obama in Paris . " + "so much fun today " * 40, found[:2]), abs=1e-5
    )
