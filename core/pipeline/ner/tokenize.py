"""Raw post text -> word tokens with character offsets, close to the dataset's CoNLL tokenisation.

Twitter-GMNER splits "@user" and "#tag" into the sign and the word, keeps hyphenated words and
URLs whole and puts punctuation in tokens of its own; the recogniser was trained on those
tokens, so raw posts must be cut the same way before tagging. Offsets index the raw text
(end exclusive), so entities map straight back to what the user sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Emoji sequences: a base symbol plus skin tones, variation selectors and zero-width-joined parts.
_EMOJI_TAIL = r"(?:[\u200d\ufe0e\ufe0f\u20e3\U0001F3FB-\U0001F3FF]|(?<=\u200d)[^\w\s])*"
_TOKEN = re.compile(
    r"(?P<url>(?:https?://|www\.)\S+)"
    r"|(?P<entity>&(?:amp|lt|gt|quot|apos|#\d+);)"
    r"|(?P<word>\w+(?:['’\-]\w+)*)"
    rf"|(?P<symbol>[^\w\s]{_EMOJI_TAIL})",
    re.UNICODE,
)
URL_PATTERN = re.compile(r"(?:https?://|www\.)\S+")


@dataclass(frozen=True)
class Token:
    text: str
    start: int  # character offsets into the raw text, end exclusive
    end: int


def tokenize(text: str) -> list[Token]:
    """Word, URL, HTML-entity and single-symbol tokens; whitespace is dropped."""
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def is_url(word: str) -> bool:
    return URL_PATTERN.match(word) is not None
