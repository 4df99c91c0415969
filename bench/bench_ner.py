"""Recogniser throughput in the pipeline's batch path:
`python -m bench.bench_ner [--backend spacy] [--repeat 3] [--json out.json]`.

Texts: the Twitter-GMNER dev posts when ../shared is beside the repo, else generated posts of
similar length. Prints posts/s per run (wall clock) and posts per CPU-second of this process: on cores shared with
other work, wall-clock figures fall with the load while the CPU-time figure stays near what an
idle machine gives per core. Read the best of several runs. Target: >= 300 posts/s.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from bench.results import write_json
from groundlens.core.datasets.gmner import read_split
from groundlens.core.pipeline import registry

DEV_FILE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "twitter-gmner" / "txt" / "dev.txt"
WORDS = [
    "the",
    "a",
    "new",
    "game",
    "tonight",
    "with",
    "Barack",
    "Obama",
    "in",
    "Paris",
    "at",
    "Google",
    "love",
    "this",
    "photo",
    "of",
    "NEW",
    "YORK",
]
EXTRAS = ["@ESPN", "#WorldCup", "https://t.co/x1Y2z3", "😂", "RT", ":", "!", "."]


def bench_texts(count: int = 1500, seed: int = 0) -> list[str]:
    if DEV_FILE.exists():
        return [post.text for post in read_split(DEV_FILE)]
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS + EXTRAS) for _ in range(rng.randint(6, 30))) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="transformers", choices=registry.available("ner"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", dest="json_path", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    options = {"threads": args.threads} if args.backend == "transformers" else {}
    recognizer = registry.create("ner", args.backend, **options)
    texts = bench_texts()
    recognizer.recognize(texts[:64])  # warm-up
    print(
        f"ner/{args.backend}@{recognizer.version}: {len(texts)} posts ({'dev' if DEV_FILE.exists() else 'generated'})"
    )
    runs = []
    for run in range(1, args.repeat + 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        found = recognizer.recognize(texts)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        runs.append(
            {
                "seconds": seconds,
                "posts_per_s": len(texts) / seconds,
                "posts_per_cpu_s": len(texts) / cpu_seconds,
                "mentions": sum(map(len, found)),
            }
        )
        print(
            f"run {run}: {len(texts) / seconds:.0f} posts/s wall, {len(texts) / cpu_seconds:.0f} posts per CPU-second"
            f" ({runs[-1]['mentions']} mentions, {seconds:.2f} s)"
        )
    write_json(
        args.json_path,
        "bench_ner",
        {
            "backend": f"{args.backend}@{recognizer.version}",
            "threads": args.threads,
            "posts": len(texts),
            "texts": "dev" if DEV_FILE.exists() else "generated",
            "runs": runs,
            "best_posts_per_s": max(r["posts_per_s"] for r in runs),
            "best_posts_per_cpu_s": max(r["posts_per_cpu_s"] for r in runs),
        },
    )


if __name__ == "__main__":
    main()
