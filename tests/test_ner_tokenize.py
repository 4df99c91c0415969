"""Raw post text -> word tokens with character offsets (core/pipeline/ner/tokenize.py) and word shapes."""

from __future__ import annotations

from groundlens.core.pipeline.ner.shape import LOWER, MIXED, N_CASES, TITLE, UPPER, case_class, word_shapes
from groundlens.core.pipeline.ner.tokenize import is_url, tokenize


def words(text: str) -> list[str]:
    return [t.text for t in tokenize(text)]


def test_mentions_and_hashtags_split_like_the_dataset() -> None:
    assert words("RT @ESPN: LeBron wins #NBAFinals!") == [
        "RT",
        "@",
        "ESPN",
        ":",
        "LeBron",
        "wins",
        "#",
        "NBAFinals",
        "!",
    ]


def test_urls_stay_whole_and_hyphens_and_apostrophes_stay_inside_words() -> None:
    assert words("see https://t.co/AbC123?x=1 now, it's a game-winning shot") == [
        "see",
        "https://t.co/AbC123?x=1",
        "now",
        ",",
        "it's",
        "a",
        "game-winning",
        "shot",
    ]
    assert is_url("https://t.co/AbC123") and is_url("www.example.org") and not is_url("http")


def test_offsets_index_the_raw_text_with_emoji_and_odd_spacing() -> None:
    text = "😂😂  Obama\tin 👩‍👩‍👧 Paris 👍🏽&amp; more"
    tokens = tokenize(text)
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert [t.text for t in tokens] == ["😂", "😂", "Obama", "in", "👩‍👩‍👧", "Paris", "👍🏽", "&amp;", "more"]


def test_empty_and_blank_text_give_no_tokens() -> None:
    assert tokenize("") == [] and tokenize(" \n\t") == []


def test_case_classes() -> None:
    assert [case_class(w) for w in ("obama", "Obama", "NBA", "iPhone", "I", "2019", "McDonald")] == [
        LOWER,
        TITLE,
        UPPER,
        MIXED,
        TITLE,
        LOWER,
        MIXED,
    ]


def test_shapes_mark_words_after_mention_and_hashtag_signs() -> None:
    shapes = word_shapes(["@", "ESPN", "#", "nba", "Paris"])
    assert shapes == [LOWER, N_CASES + UPPER, LOWER, 2 * N_CASES + LOWER, TITLE]
