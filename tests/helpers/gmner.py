"""Mentions built from (name, type) pairs found in a text, as the NER stage gives them."""

from __future__ import annotations

from groundlens.core.pipeline.types import Mention


def mentions(text: str, *names: tuple[str, str]) -> list[Mention]:
    found = []
    for name, kind in names:
        start = text.index(name)
        found.append(Mention(start=start, end=start + len(name), text=name, type=kind, score=1.0))  # type: ignore[arg-type]  # a str type from GMNER data: PER/LOC/ORG/OTHER
    return found
