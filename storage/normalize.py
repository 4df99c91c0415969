"""The one text normalisation of search, and the grouping key for entity mentions built on it.

Post search (FTS5 over `fold`ed text) and entity search (over `normalize_entity` keys) fold text
the same way, so a word found by one is found by the other: full-width letters and ligatures
(NFKC), case (casefold: ß = ss), accents (é = e, İ = i) and Turkish dotless ı = i.
"""

from __future__ import annotations

import re
import unicodedata

_POSSESSIVE = re.compile(r"['\u2019]s$")
_SPACES = re.compile(r"\s+")
# Accents as NFD writes them for Latin, Greek and Cyrillic letters. Marks of other scripts (Devanagari
# vowel signs, Arabic harakat) are letters' parts, not accents: they stay, as FTS5's unicode61 keeps them.
_ACCENTS = re.compile("[\u0300-\u036f]")


def fold(text: str) -> str:
    """NFKC, casefold, accents off, dotless ı as i; FTS5's tokenizer then sees the same text for posts and queries."""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold())
    return unicodedata.normalize("NFC", _ACCENTS.sub("", decomposed).replace("\u0131", "i"))


def normalize_entity(text: str) -> str:
    """ "@NBA", "#nba" and "NBA's" all count as "nba" in trends: `fold`, strip leading @/# of each word,
    collapse spaces, drop a trailing possessive 's."""
    words = [word.lstrip("@#") for word in _SPACES.split(fold(text).strip())]
    joined = " ".join(word for word in words if word)
    return _POSSESSIVE.sub("", joined).strip()
