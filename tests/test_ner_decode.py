"""Sub-token scores -> word tags -> character mentions (core/pipeline/ner/decode.py)."""

from __future__ import annotations

import numpy as np
import pytest

from groundlens.core.pipeline.ner.decode import decode_tags, mentions_from_tags, repair_bio, viterbi_bio, word_logprobs
from groundlens.core.pipeline.ner.tokenize import tokenize

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-OTHER", "I-OTHER"]


def logprobs_for(*rows: dict[str, float]) -> np.ndarray:
    """Log-probabilities with the given label probabilities per word; the rest share what is left."""
    table = np.full((len(rows), len(LABELS)), 1e-6)
    for i, row in enumerate(rows):
        for label, p in row.items():
            table[i, LABELS.index(label)] = p
    return np.log(table / table.sum(axis=1, keepdims=True))


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["I-PER", "I-PER"], ["B-PER", "I-PER"]),
        (["O", "I-LOC", "O"], ["O", "B-LOC", "O"]),
        (["B-PER", "I-ORG", "I-ORG"], ["B-PER", "B-ORG", "I-ORG"]),
        (["B-ORG", "I-ORG", "O", "B-PER"], ["B-ORG", "I-ORG", "O", "B-PER"]),
        ([], []),
    ],
)
def test_repair_bio(tags: list[str], expected: list[str]) -> None:
    assert repair_bio(tags) == expected


def test_viterbi_never_starts_or_continues_an_entity_illegally() -> None:
    # argmax would give O, I-PER: a fragment. Viterbi weighs B-PER I-PER against O O.
    scores = logprobs_for({"O": 0.6, "B-PER": 0.4}, {"I-PER": 0.9, "O": 0.1})
    assert [LABELS[i] for i in viterbi_bio(scores, LABELS)] == ["B-PER", "I-PER"]
    starts_inside = logprobs_for({"I-LOC": 0.7, "O": 0.3})
    assert [LABELS[i] for i in viterbi_bio(starts_inside, LABELS)] == ["O"]
    type_switch = logprobs_for({"B-PER": 0.9}, {"I-ORG": 0.6, "I-PER": 0.4})
    assert [LABELS[i] for i in viterbi_bio(type_switch, LABELS)] == ["B-PER", "I-PER"]


def test_unconstrained_decoding_repairs_argmax() -> None:
    scores = logprobs_for({"O": 0.6, "B-PER": 0.4}, {"I-PER": 0.9, "O": 0.1})
    tags, probs = decode_tags(scores, LABELS, constrained=False)
    assert tags == ["O", "B-PER"]
    assert probs == pytest.approx([0.6, 0.9], abs=1e-3)


def test_word_scores_come_from_first_subtoken_and_missing_words_are_outside() -> None:
    token_scores = np.log(np.full((6, len(LABELS)), 1 / len(LABELS)))
    token_scores[1] = np.log(np.eye(len(LABELS))[1] + 1e-9)  # word 0, first piece: B-PER
    token_scores[2] = np.log(np.eye(len(LABELS))[3] + 1e-9)  # word 0, second piece: ignored
    word_ids = [None, 0, 0, 1, None, None]  # word 2 was cut off by the length limit
    scores = word_logprobs(token_scores, word_ids, n_words=3, labels=LABELS)
    assert scores[0].argmax() == 1
    assert scores[2].argmax() == 0 and scores[2, 0] == 0.0


def test_mentions_map_back_to_raw_characters_across_emoji_and_urls() -> None:
    text = "🔥🔥 RT @BarackObama: in #Paris https://t.co/xyz with Google 👍🏽"
    tokens = tokenize(text)
    tags = ["O"] * len(tokens)
    index = {t.text: i for i, t in enumerate(tokens)}
    tags[index["BarackObama"]] = "B-PER"
    tags[index["Paris"]] = "B-LOC"
    tags[index["Google"]] = "B-ORG"
    mentions = mentions_from_tags(text, tokens, tags, np.full(len(tokens), 0.5))
    assert [(m.text, m.type) for m in mentions] == [("BarackObama", "PER"), ("Paris", "LOC"), ("Google", "ORG")]
    assert all(text[m.start : m.end] == m.text for m in mentions)
    assert mentions[1].start == text.index("Paris")


def test_multiword_mention_spans_the_raw_gap_and_scores_the_mean() -> None:
    text = "Barack   Obama spoke"
    tokens = tokenize(text)
    mentions = mentions_from_tags(text, tokens, ["B-PER", "I-PER", "O"], np.array([0.8, 0.6, 0.9]))
    assert len(mentions) == 1
    assert (mentions[0].start, mentions[0].end, mentions[0].text) == (0, 14, "Barack   Obama")
    assert mentions[0].score == pytest.approx(0.7)
