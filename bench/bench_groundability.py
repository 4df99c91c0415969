"""Groundability prior benchmark: dev accuracy of the model as loaded and its speed, entities per
second over the dev posts (in batches for the encoder kind).

    python -m bench.bench_groundability [--model resources/models/groundability] [--data ../shared/data/twitter-gmner]
                                        [--json out.json]

Target: >= 200 entities/s on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench.results import write_json
from groundlens.core.datasets.gmner import dataset_paths, read_split
from groundlens.core.pipeline.entailment.prior import DEFAULT_DIR, GroundabilityPrior
from groundlens.core.training.groundability import mentions_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_DIR)
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data" / "twitter-gmner"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", dest="json_path", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        pass
    posts = [p for p in read_split(*dataset_paths(args.data, "dev")) if p.entities]
    prior = GroundabilityPrior.load(args.model)
    inputs = [(p.text, mentions_of(p)) for p in posts]
    labels = np.array([e.groundable for p in posts for e in p.entities])
    started = time.perf_counter()
    if hasattr(prior, "predict_posts"):
        scores = prior.predict_posts(inputs)
    else:
        scores = [prior.predict(text, found) for text, found in inputs]
    seconds = time.perf_counter() - started
    flat = np.array([s for post in scores for s in post])
    accuracy = float(((flat >= 0.5) == labels).mean())
    print(f"model {args.model} ({type(prior).__name__}, {prior.version})")
    print(f"dev accuracy {accuracy:.2%} on {len(labels)} entities")
    print(f"speed {len(labels) / seconds:.0f} entities/s ({len(posts) / seconds:.0f} posts/s, {args.threads} threads)")
    write_json(
        args.json_path,
        "bench_groundability",
        {
            "model": f"{type(prior).__name__}@{prior.version}",
            "threads": args.threads,
            "entities": len(labels),
            "accuracy": accuracy,
            "seconds": seconds,
            "entities_per_s": len(labels) / seconds,
            "posts_per_s": len(posts) / seconds,
        },
    )


if __name__ == "__main__":
    main()
