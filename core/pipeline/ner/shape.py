"""Word-shape ids that give the uncased encoder back the casing cues NER depends on.

The packaged MiniLM lower-cases its input, so "Apple" and "apple" look alike to it. Each word
gets a shape id (case class x whether it follows "@" or "#"), fed to the encoder through
BERT's token-type embeddings, widened from 2 to N_SHAPES rows at training time. The model stays
a plain BertForTokenClassification; a caller that passes no token types gets shape 0 (lower
case, plain context), a graceful fallback.
"""

from __future__ import annotations

from collections.abc import Sequence

LOWER, TITLE, UPPER, MIXED = range(4)  # lower case or no letters / Capitalised / ALL CAPS / mIxEd
CONTEXTS = {"@": 1, "#": 2}  # the word after a mention or hashtag sign
N_CASES = 4
N_SHAPES = N_CASES * (len(CONTEXTS) + 1)


def case_class(word: str) -> int:
    letters = [c for c in word if c.isalpha()]
    if not letters or not any(c.isupper() for c in letters):
        return LOWER
    if all(c.isupper() for c in letters):
        return UPPER if len(letters) > 1 else TITLE
    if letters[0].isupper() and not any(c.isupper() for c in letters[1:]):
        return TITLE
    return MIXED


def word_shapes(words: Sequence[str]) -> list[int]:
    """One shape id per word, in [0, N_SHAPES)."""
    shapes, previous = [], ""
    for word in words:
        shapes.append(CONTEXTS.get(previous, 0) * N_CASES + case_class(word))
        previous = word
    return shapes
