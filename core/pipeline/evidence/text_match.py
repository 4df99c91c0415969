"""Find an entity's name in text read from the image, tolerating OCR slips but not partial words.

Both sides are reduced to case-folded, accent-free alphanumeric tokens. A name matches a run of
whole OCR tokens when their concatenation is within a small edit distance of the name's
concatenation ("COCA-COLA" ~ "Coca Cola", "G00GLE" ~ "Google"). Names up to 7 characters
allow only substituted characters, never an added or dropped one, so "NASA" does not match
"NASAL"; names up to 3 characters must match exactly (after reading digits that look like
letters as those letters, when the name has no digits; a name with digits needs them all, in order:
"STS-98" is not "STS-93").
A person is also found by the surname alone, since name tags show only that.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from groundlens.core.pipeline.types import Box
from groundlens.records import ImageText

_WORD = re.compile(r"[^\W_]+")
SURNAME_DISCOUNT = 0.9  # a surname alone is weaker evidence than the full name


def tokens(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return _WORD.findall(plain.casefold())


LOOKALIKES = str.maketrans("015086", "olsobg")  # digits OCR reads for letters


def allowed_edits(length: int) -> int:
    """Edits tolerated in a name of this many characters: 0 up to 3, 1 up to 7, then 2."""
    return 0 if length <= 3 else 1 if length <= 7 else 2


def same_length_only(length: int) -> bool:
    """Short names tolerate substitutions only: an extra letter makes another word."""
    return length <= 7


@dataclass(frozen=True)
class TextHit:
    """Where a name was read: the OCR text it was found in, the box of the matched words
    (a share of the line's box, by characters), the words and how closely they match."""

    text: str
    box: Box
    ocr_score: float
    words: str
    similarity: float  # 1 - edits / length

    @property
    def score(self) -> float:
        return self.ocr_score * self.similarity


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def match_run(name: Sequence[str], line: Sequence[str]) -> tuple[int, int, float] | None:
    """Best (start, end, similarity) run of whole tokens in `line` spelling `name`, or None."""
    target = "".join(name)
    if not target:
        return None
    letters_only = not any(c.isdigit() for c in target)
    budget = allowed_edits(len(target))
    best: tuple[int, int, float] | None = None
    for start in range(len(line)):
        for end in range(start + 1, min(len(line), start + len(name) + 1) + 1):
            candidate = "".join(line[start:end])
            if len(candidate) > len(target) + budget:
                break
            if letters_only:
                candidate = candidate.translate(LOOKALIKES)
            elif _digits(candidate) != _digits(target):
                continue
            if same_length_only(len(target)) and len(candidate) != len(target):
                continue
            edits = Levenshtein.distance(candidate, target, score_cutoff=budget)
            if edits <= budget:
                similarity = 1.0 - edits / max(len(target), len(candidate))
                if best is None or similarity > best[2]:
                    best = (start, end, similarity)
    return best


def find_name(name: str, lines: Sequence[ImageText], surname: bool = False) -> list[TextHit]:
    """Where `name` (or, with `surname`, its last word of 3+ letters) is read, best first.
    A name of several words may run over two neighbouring lines of a sign ("COPY" / "CENTRE")."""
    full = tokens(name)
    patterns = [(full, 1.0)]
    if surname and len(full) > 1 and len(full[-1]) >= 3:
        patterns.append(([full[-1]], SURNAME_DISCOUNT))
    candidates = list(lines)
    if len(full) > 1:
        candidates += [join_lines(a, b) for a in lines for b in lines if a is not b and neighbours(a, b)]
    hits = []
    for line in candidates:
        words = tokens(line.text)
        best: TextHit | None = None
        for pattern, weight in patterns:
            found = match_run(pattern, words)
            if found is not None and (best is None or found[2] * weight > best.similarity):
                start, end, similarity = found
                best = TextHit(
                    line.text,
                    span_box(line.box, words, start, end),
                    line.score,
                    " ".join(words[start:end]),
                    similarity * weight,
                )
        if best is not None:
            hits.append(best)
    return sorted(hits, key=lambda h: -h.score)


def span_box(box: Box, words: Sequence[str], start: int, end: int) -> Box:
    """The part of a line's box that words[start:end] take, by their share of its characters."""
    total = len(" ".join(words))
    if total == 0 or (start == 0 and end == len(words)):
        return box
    before = len(" ".join(words[:start])) + (1 if start else 0)
    width = len(" ".join(words[start:end]))
    x0, y0, x1, y1 = box
    return (x0 + (x1 - x0) * before / total, y0, x0 + (x1 - x0) * (before + width) / total, y1)


def neighbours(a: ImageText, b: ImageText) -> bool:
    """b continues a: on the same row just to its right, or just below it, overlapping in x."""
    ax0, ay0, ax1, ay1 = a.box
    bx0, by0, bx1, by1 = b.box
    height = max(ay1 - ay0, by1 - by0)
    same_row = min(ay1, by1) - max(ay0, by0) > 0.5 * min(ay1 - ay0, by1 - by0)
    if same_row:
        return -height <= bx0 - ax1 <= height and bx0 > ax0  # OCR boxes of one row may overlap
    return 0 <= by0 - ay1 + 0.3 * height <= 1.3 * height and min(ax1, bx1) > max(ax0, bx0)


def join_lines(a: ImageText, b: ImageText) -> ImageText:
    box = (min(a.box[0], b.box[0]), min(a.box[1], b.box[1]), max(a.box[2], b.box[2]), max(a.box[3], b.box[3]))
    return ImageText(f"{a.text} {b.text}", box, min(a.score, b.score))
