"""Sub-token scores -> word tags -> character-offset mentions.

Each word is scored by its first sub-token (the position the model was trained on). Tags come
from a Viterbi pass that forbids invalid BIO moves (I-X only after B-X or I-X), which fixes the
fragments that per-word argmax produces; `repair_bio` is the cheaper alternative for argmax tags.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from groundlens.core.datasets.gmner import bio_spans
from groundlens.core.pipeline.ner.tokenize import Token
from groundlens.core.pipeline.types import Mention
from groundlens.records import ENTITY_TYPES

OUTSIDE = "O"


def word_logprobs(
    token_logprobs: np.ndarray, word_ids: Sequence[int | None], n_words: int, labels: Sequence[str]
) -> np.ndarray:
    """[n_words, n_labels] log-probabilities from each word's first sub-token.

    A word with no sub-token (cut by the length limit, or text the tokenizer drops) is certain "O".
    """
    scores = np.full((n_words, len(labels)), -np.inf, dtype=np.float32)
    scores[:, labels.index(OUTSIDE)] = 0.0
    seen: set[int] = set()
    for position, word in enumerate(word_ids):
        if word is not None and word not in seen and word < n_words:
            seen.add(word)
            scores[word] = token_logprobs[position]
    return scores


def allowed_transitions(labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(start_ok [L], move_ok [L, L]) for the BIO scheme: I-X needs B-X or I-X before it."""
    start_ok = np.array([not label.startswith("I-") for label in labels])
    move_ok = np.ones((len(labels), len(labels)), dtype=bool)
    for j, label in enumerate(labels):
        if label.startswith("I-"):
            kind = label[2:]
            move_ok[:, j] = [prev in (f"B-{kind}", f"I-{kind}") for prev in labels]
    return start_ok, move_ok


def viterbi_bio(logprobs: np.ndarray, labels: Sequence[str]) -> list[int]:
    """Most probable label sequence among the valid BIO sequences."""
    if len(logprobs) == 0:
        return []
    start_ok, move_ok = allowed_transitions(labels)
    penalty = np.where(move_ok, 0.0, -np.inf)
    score = np.where(start_ok, logprobs[0], -np.inf)
    backpointers = []
    for row in logprobs[1:]:
        candidates = score[:, None] + penalty  # [prev, cur]
        best_prev = candidates.argmax(axis=0)
        score = candidates[best_prev, np.arange(len(labels))] + row
        backpointers.append(best_prev)
    path = [int(score.argmax())]
    for best_prev in reversed(backpointers):
        path.append(int(best_prev[path[-1]]))
    return path[::-1]


def repair_bio(tags: Sequence[str]) -> list[str]:
    """Make argmax tags valid: an I-X that does not continue an X entity starts one (B-X)."""
    repaired: list[str] = []
    for tag in tags:
        if tag.startswith("I-") and (not repaired or repaired[-1][2:] != tag[2:]):
            tag = "B-" + tag[2:]
        repaired.append(tag)
    return repaired


def decode_tags(logprobs: np.ndarray, labels: Sequence[str], constrained: bool = True) -> tuple[list[str], np.ndarray]:
    """Word tags and each tag's probability."""
    if constrained:
        path = viterbi_bio(logprobs, labels)
        tags = [labels[i] for i in path]
    else:
        path = logprobs.argmax(axis=1).tolist() if len(logprobs) else []
        tags = repair_bio([labels[i] for i in path])
    probs = np.exp(logprobs[np.arange(len(path)), path]) if path else np.zeros(0)
    return tags, probs


def mentions_from_tags(text: str, tokens: Sequence[Token], tags: Sequence[str], probs: np.ndarray) -> list[Mention]:
    """Typed spans over the raw text: first token's start to last token's end, score = mean tag probability."""
    mentions = []
    for first, stop, kind in bio_spans(list(tags)):
        if kind not in ENTITY_TYPES:
            raise ValueError(f"the NER model tags {kind!r}, which is none of {', '.join(ENTITY_TYPES)}")
        start, end = tokens[first].start, tokens[stop - 1].end
        mentions.append(
            Mention(start=start, end=end, text=text[start:end], type=kind, score=float(np.mean(probs[first:stop])))
        )
    return mentions
