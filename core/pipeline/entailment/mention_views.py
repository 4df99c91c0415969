"""Pieces of a long post that each fit the groundability encoder, together covering every mention.

The encoder reads at most `max_length` word pieces; a post cut there left every later mention to
be judged from the [CLS] piece alone, without a word of its own context. A post that fits is one
view; a longer one gets a window of text around each group of nearby mentions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from groundlens.core.pipeline.types import Mention

SPECIAL_PIECES = 2  # [CLS] ... [SEP]


@dataclass(frozen=True)
class View:
    text: str
    mentions: list[Mention]  # offsets into `text`
    indexes: list[int]  # which of the post's mentions these are


def mention_views(tokenizer: Any, text: str, mentions: Sequence[Mention], max_length: int) -> list[View]:
    """The post itself when it fits, else windows of at most max_length pieces, one per group of mentions."""
    budget = max_length - SPECIAL_PIECES
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)["offset_mapping"]
    if len(offsets) <= budget or not mentions:
        return [View(text, list(mentions), list(range(len(mentions))))]
    views = []
    remaining = sorted(range(len(mentions)), key=lambda i: mentions[i].start)
    while remaining:
        first = mentions[remaining[0]]
        pieces = [p for p, (a, b) in enumerate(offsets) if b > a and a < first.end and b > first.start] or [0]
        low = max(0, min((pieces[0] + pieces[-1]) // 2 - budget // 2, len(offsets) - budget))
        start, end = offsets[low][0], offsets[low + budget - 1][1]
        inside = [i for i in remaining if start <= mentions[i].start and mentions[i].end <= end] or remaining[:1]
        shifted = [replace(mentions[i], start=mentions[i].start - start, end=mentions[i].end - start) for i in inside]
        views.append(View(text[start:end], shifted, inside))
        remaining = [i for i in remaining if i not in inside]
    return views
