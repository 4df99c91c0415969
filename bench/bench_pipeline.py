"""End-to-end pipeline speed: `python -m bench.bench_pipeline [--text-posts 20] [--sam-posts 2]`.

Corpus: the demo posts with their photos (resources/demo) plus as many text-only posts
(Twitter-GMNER dev texts when ../shared is beside the repo, else generated ones), so half
the posts carry an image. Runs the saved default pipeline, prints the mean time per stage
for posts with an image and entities, posts/minute over the whole mixed corpus, the
MobileSAM encoder alone on the same photos, and the same pipeline with a SAM ViT-B encoder
(random weights, same code) on a few photos.

Targets: a post with an image and entities <= 1.5x the MobileSAM encoder alone;
>= 60 posts/minute on the mixed corpus. The 2 cores are shared: compare runs, not single numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import defaultdict
from itertools import zip_longest
from pathlib import Path

from bench.bench_ner import bench_texts
from core.pipeline.config import PipelineConfig
from core.pipeline.pipeline import Pipeline, load_image
from core.pipeline.registry import STAGES
from core.pipeline.types import PostInput, PostResult
from core.settings import Settings

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"
STAGE_ROWS = ("ner", "expression", "image", *STAGES[2:])


def demo_posts() -> list[PostInput]:
    posts = []
    for line in (DEMO / "posts.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("image") and (DEMO / row["image"]).exists():
            posts.append(PostInput(row["id"], row["text"], DEMO / row["image"]))
    return posts


def timed_run(pipeline: Pipeline, posts: list[PostInput], batch_size: int) -> tuple[list[PostResult], float]:
    start, results = time.perf_counter(), []
    for i in range(0, len(posts), batch_size):
        results.extend(pipeline.run(posts[i : i + batch_size]))
    return results, time.perf_counter() - start


def stage_table(results: list[PostResult]) -> dict[str, float]:
    """Mean seconds per stage, and in total, over posts that went through the image stages with entities."""
    chosen = [r for r in results if r.entities and "image" in r.timings]
    per_stage = defaultdict(list)
    for r in chosen:
        for stage in STAGE_ROWS:
            per_stage[stage].append(r.timings.get(stage, 0.0))
        per_stage["total"].append(sum(r.timings.values()))
    return {stage: statistics.mean(v) for stage, v in per_stage.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text-posts", type=int, default=None, help="text-only posts (default: as many as photos)")
    parser.add_argument("--sam-posts", type=int, default=2, help="photo posts to run with SAM ViT-B (0 skips)")
    parser.add_argument("--settings", type=Path, default=None, help="settings.json to take the pipeline from")
    parser.add_argument("--set", action="append", default=[], metavar="STAGE=NAME|off",
                        help="use another backend for a stage, e.g. --set ner=spacy")
    args = parser.parse_args()

    settings = Settings.load(args.settings) if args.settings else Settings()
    for item in args.set:
        stage, _, backend = item.partition("=")
        settings.pipeline = settings.pipeline.with_stage(stage, backend)
    import torch

    torch.set_num_threads(settings.threads)
    config: PipelineConfig = settings.pipeline
    print(f"pipeline: {config.describe()}  threads={settings.threads}  batch={settings.batch_size}  "
          f"load average {os.getloadavg()[0]:.1f}")
    start = time.perf_counter()
    pipeline = Pipeline.from_config(config)
    print(f"models loaded in {time.perf_counter() - start:.1f} s: {pipeline.versions}")

    photos = demo_posts()
    if not photos:
        raise SystemExit("no demo photos in resources/demo: nothing to ground")
    texts = bench_texts()[: args.text_posts if args.text_posts is not None else len(photos)]
    text_posts = [PostInput(f"t{i}", text) for i, text in enumerate(texts)]
    corpus = [p for pair in zip_longest(photos, text_posts) for p in pair if p is not None]
    pipeline.run(photos[:1])  # warm-up: first-call allocations, lazy imports

    results, seconds = timed_run(pipeline, corpus, settings.batch_size)
    errors = [r for r in results if r.error]
    table = stage_table(results)
    print(f"\nmixed corpus: {len(corpus)} posts ({len(photos)} with photos), {seconds:.1f} s, "
          f"{60 * len(corpus) / seconds:.0f} posts/minute (target >= 60); {len(errors)} errors"
          + (f": {errors[0].error}" if errors else ""))
    text_only = [sum(r.timings.values()) for r in results if "image" not in r.timings]
    if text_only:
        print(f"text-only post: {1000 * statistics.mean(text_only):.0f} ms")
    print("post with photo and entities, mean ms per stage:")
    for stage, value in table.items():
        print(f"  {stage:<13}{1000 * value:8.0f}")

    segmenter = pipeline.backends["segmentation"]
    if segmenter is not None and hasattr(segmenter, "embed"):
        # alternate encoder-alone and whole-pipeline runs per photo so both see the same load
        ratios = []
        for post in photos:
            image = load_image(post.image)
            start = time.perf_counter()
            segmenter.embed(image)
            encoder = time.perf_counter() - start
            start = time.perf_counter()
            [result] = pipeline.run([post])
            whole = time.perf_counter() - start
            if result.entities:
                ratios.append((whole, encoder))
        whole, encoder = (statistics.median(v) for v in zip(*ratios))
        print(f"photo post with entities, run alone: {1000 * whole:.0f} ms; {segmenter.name} encoder alone: "
              f"{1000 * encoder:.0f} ms; median ratio {statistics.median(w / e for w, e in ratios):.2f}x "
              f"(target <= 1.5x)")

    if args.sam_posts and segmenter is not None:
        from core.pipeline.segmentation.build_sam import build_sam_vit
        from core.pipeline.segmentation.predictor import SamSegmenter

        vit_b = SamSegmenter(build_sam_vit("vit_b"), name="sam", version="vit_b-random")
        pairs = []
        for post in photos[: args.sam_posts]:  # the same post through both, back to back
            pair = []
            for backend in (segmenter, vit_b):
                pipeline.backends["segmentation"] = backend
                start = time.perf_counter()
                pipeline.run([post])
                pair.append(time.perf_counter() - start)
            pairs.append(pair)
        mobile, vit = (statistics.median(v) for v in zip(*pairs))
        print(f"SAM ViT-B encoder (random weights, same code), {len(pairs)} photo post(s): {1000 * vit:.0f} ms per "
              f"post vs {1000 * mobile:.0f} ms with MobileSAM: {vit / mobile:.1f}x")

if __name__ == "__main__":
    main()
