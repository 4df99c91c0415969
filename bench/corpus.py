"""Synthetic posts at any size, shaped like Twitter-GMNER, for storage and ingest benchmarks.

Each post reuses the text of a random Twitter-GMNER train post with its entities swapped for
others of the same type drawn by their train frequency, so texts, entity counts per post and the
name/type distribution are realistic; a share of names are recombined into new ones, so the
number of distinct entities keeps growing with the corpus as it does in real feeds. Without
../shared/data/twitter-gmner a small built-in set of templates and names is used instead.

    python -m bench.corpus --posts 100000 --out posts.jsonl
"""

from __future__ import annotations

import argparse
import functools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

from groundlens.core.safe_output import atomic_output
from groundlens.records import Entity, Media, Post, Region

REPO_ROOT = Path(__file__).resolve().parent.parent
GMNER_DIR = REPO_ROOT.parent / "shared" / "data" / "twitter-gmner"
SOURCE = "bench"
LANGS = (("en", 90), ("es", 4), ("fr", 3), ("de", 3))

# (tokens, [(token_start, token_end, type)]) templates and (name, type, weight) when the dataset is absent
_FALLBACK_TEMPLATES = [
    (["{}", "met", "{}", "in", "{}", "today"], [(0, 1, "PER"), (2, 3, "PER"), (4, 5, "LOC")]),
    (["Big", "night", "for", "the", "{}", "fans", "!"], [(3, 4, "ORG")]),
    (["RT", "@", "news", ":", "{}", "announces", "new", "plans", "for", "{}"], [(4, 5, "PER"), (9, 10, "LOC")]),
    (["Watching", "{}", "with", "friends", "#", "weekend"], [(1, 2, "OTHER")]),
    (["nothing", "much", "happening", "here"], []),
]
_FALLBACK_NAMES = [
    ("Donald Trump", "PER", 20),
    ("Kevin Durant", "PER", 6),
    ("Taylor Swift", "PER", 4),
    ("Lady Gaga", "PER", 3),
    ("Barack Obama", "PER", 5),
    ("NBA", "ORG", 15),
    ("NFL", "ORG", 9),
    ("Premier League", "ORG", 4),
    ("Golden State Warriors", "ORG", 3),
    ("New York", "LOC", 8),
    ("London", "LOC", 6),
    ("Paris", "LOC", 5),
    ("Texas", "LOC", 3),
    ("Star Wars", "OTHER", 4),
    ("Game of Thrones", "OTHER", 3),
    ("iPhone", "OTHER", 2),
]


@dataclass
class SyntheticPost:
    native_id: str
    text: str
    author: str
    created_at: datetime
    lang: str
    image_url: str | None
    mentions: list[tuple[int, int, str, str]]  # start, end, surface, type
    groundable: list[bool | None]
    masks: list[dict | None]

    def json_line(self) -> str:
        """The flattened JSONL record an ingest reader accepts."""
        return json.dumps(
            {
                "id": self.native_id,
                "text": self.text,
                "author": self.author,
                "created_at": self.created_at.isoformat(),
                "lang": self.lang,
                "image_url": self.image_url,
            },
            ensure_ascii=False,
        )

    def post(self) -> Post:
        media = [Media(url=self.image_url)] if self.image_url else []
        return Post(SOURCE, self.native_id, self.text, self.author, self.created_at, self.lang, media=media)

    def predictions(self) -> list[Entity]:
        """Entities as a full pipeline run would save them (groundable ones with a box and mask)."""
        entities = []
        for (start, end, surface, kind), groundable, mask in zip(self.mentions, self.groundable, self.masks):
            regions = [Region((40.0, 30.0, 220.0, 310.0), 0.7, mask, 24_000)] if groundable else []
            entities.append(
                Entity(
                    start,
                    end,
                    surface,
                    kind,
                    score=0.9,
                    groundable=groundable,  # type: ignore[arg-type]  # a str type from GMNER data: PER/LOC/ORG/OTHER
                    groundable_score=None if groundable is None else (0.8 if groundable else 0.2),
                    expression=f"{surface}, a {kind.lower()}",
                    model_version="bench",
                    regions=regions,
                )
            )
        return entities


@functools.lru_cache(maxsize=2)
def _gmner_shape(root: Path) -> tuple[list, list[tuple[str, str, int]], float] | None:
    """(templates, (name, type, count) of every entity, share of groundable mentions) of the train split."""
    if not (root / "txt" / "train.txt").exists():
        return None
    from groundlens.core.datasets.gmner import (  # bench may read ../shared; the product never does
        dataset_paths,
        read_split,
    )

    conll, xml_dir = dataset_paths(root, "train")
    posts = read_split(conll, xml_dir)
    counts: dict[tuple[str, str], int] = {}
    for post in posts:
        for entity in post.entities:
            counts[(entity.text, entity.type)] = counts.get((entity.text, entity.type), 0) + 1
    templates = [(p.tokens, [(e.token_start, e.token_end, e.type) for e in p.entities]) for p in posts]
    mentions = [e for p in posts for e in p.entities]
    groundable_share = sum(e.groundable for e in mentions) / max(1, len(mentions))
    return templates, [(name, kind, n) for (name, kind), n in counts.items()], groundable_share


def _masks(count: int, rng: random.Random) -> list[dict]:
    """A few real COCO RLE masks (ellipses in a 375x500 image) reused for every region."""
    import numpy as np
    from pycocotools import mask as mask_utils

    ys, xs = np.mgrid[0:375, 0:500]
    masks = []
    for _ in range(count):
        cy, cx, ry, rx = rng.uniform(100, 275), rng.uniform(100, 400), rng.uniform(30, 90), rng.uniform(30, 90)
        blob = (((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2 <= 1).astype(np.uint8)
        rle = mask_utils.encode(np.asfortranarray(blob))
        masks.append({"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")})
    return masks


class CorpusGenerator:
    """Deterministic for a given seed: two generators with the same arguments yield the same posts."""

    def __init__(
        self,
        seed: int = 0,
        start: datetime = datetime(2024, 1, 1, tzinfo=UTC),
        days: int = 180,
        image_share: float = 0.5,
        novel_share: float = 0.2,
        authors: int = 20_000,
    ) -> None:
        self.rng = random.Random(seed)
        shape = _gmner_shape(GMNER_DIR)
        self.from_dataset = shape is not None
        templates, names, self.groundable_share = shape or (_FALLBACK_TEMPLATES, _FALLBACK_NAMES, 0.4)
        self.templates = templates
        self.names_by_type: dict[str, tuple[list[str], list[float]]] = {}
        for kind in ("PER", "LOC", "ORG", "OTHER"):
            chosen = [(name, n) for name, k, n in names if k == kind] or [(kind.title(), 1)]
            self.names_by_type[kind] = ([n for n, _ in chosen], list(accumulate(w for _, w in chosen)))
        self.start, self.seconds = start, days * 86_400
        self.image_share, self.novel_share = image_share, novel_share
        self.authors = [f"user{i}" for i in range(authors)]
        self.author_weights = list(accumulate(1 / (rank + 1) for rank in range(authors)))  # Zipf-like
        self.langs, self.lang_weights = [lang for lang, _ in LANGS], list(accumulate(w for _, w in LANGS))
        self.masks = _masks(16, self.rng)

    def _name(self, kind: str) -> str:
        names, weights = self.names_by_type[kind]
        name = self.rng.choices(names, cum_weights=weights)[0]
        if self.rng.random() < self.novel_share:  # recombine two names of the type into a new one
            other = self.rng.choices(names, cum_weights=weights)[0].split()
            words = name.split()
            name = " ".join(words[: max(1, len(words) // 2)] + other[len(other) // 2 :] + [str(self.rng.randrange(50))])
        return name

    def _one(self, index: int) -> SyntheticPost:
        rng = self.rng
        tokens, spans = rng.choice(self.templates)
        pieces, mentions, cursor, position = [], [], 0, 0
        for token_start, token_end, kind in spans:
            before = " ".join(tokens[cursor:token_start])
            if before:
                pieces.append(before)
                position += len(before) + 1
            surface = self._name(kind)
            mentions.append((position, position + len(surface), surface, kind))
            pieces.append(surface)
            position += len(surface) + 1
            cursor = token_end
        if tokens[cursor:]:
            pieces.append(" ".join(tokens[cursor:]))
        has_image = rng.random() < self.image_share
        groundable = [(rng.random() < self.groundable_share) if has_image else None for _ in mentions]
        return SyntheticPost(
            native_id=str(index),
            text=" ".join(pieces),
            author=rng.choices(self.authors, cum_weights=self.author_weights)[0],
            created_at=self.start + timedelta(seconds=rng.randrange(self.seconds)),
            lang=rng.choices(self.langs, cum_weights=self.lang_weights)[0],
            image_url=f"https://pbs.example.com/media/{index}.jpg" if has_image else None,
            mentions=mentions,
            groundable=groundable,
            masks=[rng.choice(self.masks) if g else None for g in groundable],
        )

    def posts(self, n: int) -> Iterator[SyntheticPost]:
        for index in range(n):
            yield self._one(index)


def write_jsonl(path: Path, n: int, generator: CorpusGenerator) -> None:
    with atomic_output(path) as handle:
        for post in generator.posts(n):
            handle.write(post.json_line() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    generator = CorpusGenerator(seed=args.seed)
    write_jsonl(args.out, args.posts, generator)
    origin = "Twitter-GMNER train" if generator.from_dataset else "built-in"
    print(f"wrote {args.posts} posts to {args.out} ({origin} distribution)")


if __name__ == "__main__":
    main()
