"""The grouping key for entity mentions: "@NBA", "#nba" and "NBA's" all count as "nba" in trends."""

from __future__ import annotations

import re
import unicodedata

_POSSESSIVE = re.compile(r"['\u2019]s$")
_SPACES = re.compile(r"\s+")


def normalize_entity(text: str) -> str:
    """Casefold, NFKC, strip leading @/# of each word, collapse spaces, drop a trailing possessive 's."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = [word.lstrip("@#") for word in _SPACES.split(folded.strip())]
    joined = " ".join(word for word in words if word)
    return _POSSESSIVE.sub("", joined).strip()
