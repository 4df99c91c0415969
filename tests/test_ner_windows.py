"""The shipped recogniser gives a post the same entities and scores whatever else shares its batch, and
reads the whole post however long it is (windows over the sub-tokens, not a cut at 128)."""

from __future__ import annotations

import itertools

import pytest

from groundlens.core.pipeline import registry
from groundlens.core.pipeline.ner.windows import plan_windows, word_token_bounds

HOPPER = "The computer scientist Grace Hopper studied at Yale before joining the Navy"
OTHERS = [
    "RT @NASA : Astronaut Scott Kelly returns to Houston after a year in space",
    "Great night at Madison Square Garden with Taylor Swift !",
    "lol",
    "#WorldCup final tonight : France vs Croatia in Moscow 😂 https://t.co/x1Y2z3",
    "New photos from the Louvre in Paris , thanks @AFP",
    " ".join(["so", "much", "rain", "today"] * 20) + " in London",
]


@pytest.fixture(scope="module")
def recognizer():
    return registry.create("ner", "transformers", batch_size=8)


def found(mentions) -> list[tuple[int, int, str, float]]:
    return [(m.start, m.end, m.type, m.score) for m in mentions]


@pytest.mark.slow
def test_a_post_gets_the_same_entities_and_scores_in_any_batch(recognizer) -> None:
    alone = found(recognizer.recognize([HOPPER])[0])
    assert {(HOPPER[s:e], t) for s, e, t, _ in alone} >= {("Grace Hopper", "PER"), ("Yale", "ORG")}
    batches = [[*OTHERS, HOPPER], [HOPPER, *OTHERS * 7], [*OTHERS[:2], HOPPER, *OTHERS[2:]]]
    for batch in batches:
        same_as_alone(found(recognizer.recognize(batch)[batch.index(HOPPER)]), alone)
    # and every other post of a batch is scored as it is alone
    for text, mentions in zip(OTHERS, recognizer.recognize(OTHERS)):
        same_as_alone(found(mentions), found(recognizer.recognize([text])[0]))


@pytest.mark.slow
def test_the_batch_size_setting_changes_no_result(recognizer) -> None:
    """Re-running after a settings change (batch size, hence batch composition) keeps entities and scores."""
    texts = [*OTHERS, HOPPER, *OTHERS[::-1]]
    other = registry.create("ner", "transformers", batch_size=3)
    for mine, theirs in zip(recognizer.recognize(texts), other.recognize(texts)):
        same_as_alone(found(theirs), found(mine))


def same_as_alone(in_batch: list[tuple[int, int, str, float]], alone: list[tuple[int, int, str, float]]) -> None:
    assert [m[:3] for m in in_batch] == [m[:3] for m in alone]
    assert [m[3] for m in in_batch] == pytest.approx([m[3] for m in alone], abs=1e-5)


@pytest.mark.slow
def test_entities_after_the_first_128_sub_tokens_are_found(recognizer) -> None:
    tail = "Barack Obama met Angela Merkel in Paris"
    text = " ".join(["filler"] * 150) + " " + tail
    got = {(m.text, m.type) for m in recognizer.recognize([text])[0]}
    assert {("Barack Obama", "PER"), ("Angela Merkel", "PER"), ("Paris", "LOC")} <= got
    # a long post: the same sentence at the start, in the middle and at the end, each found with its offsets
    sentence = "Barack Obama met Angela Merkel in Paris ."
    filler = " ".join(["the", "weather", "is", "nice", "and", "we", "walk", "slowly"] * 60)
    long_text = f"{sentence} {filler} {sentence} {filler} {sentence}"
    mentions = recognizer.recognize([long_text])[0]
    obamas = [m.start for m in mentions if m.text == "Barack Obama" and m.type == "PER"]
    assert obamas == [i for i in range(len(long_text)) if long_text.startswith("Barack Obama", i)]
    assert all(long_text[m.start : m.end] == m.text for m in mentions)


def test_windows_cover_every_word_once_with_overlap() -> None:
    # 300 words of 1-3 sub-tokens each, windows of at most 20 sub-tokens overlapping by ~6
    word_ids = [w for w in range(300) for _ in range(1 + w % 3)]
    bounds = word_token_bounds(word_ids, 300)
    windows = plan_windows(bounds, budget=20, overlap=6)
    assert windows[0].keep_from == 0 and windows[-1].keep_to == 300
    for window, following in itertools.pairwise(windows):
        assert window.keep_to == following.keep_from  # every word scored by exactly one window
        assert following.first_word < window.stop_word  # consecutive windows overlap
    for window in windows:
        assert window.stop_token - window.first_token <= 20
        assert window.first_word <= window.keep_from < window.keep_to <= window.stop_word


def test_words_without_sub_tokens_and_single_words() -> None:
    bounds = word_token_bounds([0, 0, 2, 3], 4)  # word 1 has no sub-token
    assert bounds == [(0, 2), (2, 2), (2, 3), (3, 4)]
    [window] = plan_windows(bounds, budget=10, overlap=3)
    assert (window.first_word, window.stop_word, window.keep_from, window.keep_to) == (0, 4, 0, 4)
    assert plan_windows([], budget=10, overlap=3) == []
