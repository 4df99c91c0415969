"""Mention replacement: training posts whose entities are swapped for other entities of the same type.

Half of the dev entities never occur in train, and the recogniser misses a third of those
against a seventh of the seen ones: it leans on names it has memorised. Swapping each entity for
a random training entity of the same type (Dai and Adel, COLING 2020) keeps the sentence frame
and the label, so the model has to read the context as well as the name. A fresh draw every epoch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from groundlens.core.datasets.gmner import GmnerPost, bio_spans


@dataclass(frozen=True)
class MentionPool:
    """Every training entity's tokens, by type."""

    by_type: dict[str, list[tuple[str, ...]]]

    @classmethod
    def from_posts(cls, posts: list[GmnerPost]) -> MentionPool:
        by_type: dict[str, list[tuple[str, ...]]] = {}
        for post in posts:
            for start, end, kind in bio_spans(post.tags):
                by_type.setdefault(kind, []).append(tuple(post.tokens[start:end]))
        return cls(by_type)


def swap_mentions(post: GmnerPost, pool: MentionPool, rng: random.Random) -> GmnerPost:
    """The post with each entity replaced by a random same-type entity (tokens and BIO tags)."""
    tokens: list[str] = []
    tags: list[str] = []
    position = 0
    for start, end, kind in bio_spans(post.tags):
        tokens += post.tokens[position:start]
        tags += post.tags[position:start]
        replacement = rng.choice(pool.by_type[kind])
        tokens += replacement
        tags += [f"B-{kind}", *[f"I-{kind}"] * (len(replacement) - 1)]
        position = end
    tokens += post.tokens[position:]
    tags += post.tags[position:]
    return GmnerPost(image_id=post.image_id, tokens=tokens, tags=tags)


def has_entities(post: GmnerPost) -> bool:
    return any(tag != "O" for tag in post.tags)


def augment(posts: list[GmnerPost], pool: MentionPool, rate: float, rng: random.Random) -> list[GmnerPost]:
    """One epoch's training set: each post with entities is swapped with probability `rate`."""
    return [swap_mentions(post, pool, rng) if has_entities(post) and rng.random() < rate else post for post in posts]
