"""End-to-end pipeline speed and memory.

    python -m bench.bench_pipeline [--text-posts 100] [--sam-posts 2] [--job-seconds 600] [--json out.json]

First the real JobRunner (a spawned worker process, as the app and `groundlens run` use it) processes
the demo posts in a fresh data folder: its throughput, the worker's peak RSS and this (parent)
process's peak RSS, measured before this process loads any model. Then, in this process, the same
pipeline runs over text-only posts (Twitter-GMNER dev texts when ../shared is beside the repo, else
generated ones) and over the demo posts with their photos (resources/demo), timed separately:
posts/minute for each and for a mixed feed where half the posts carry an image; the mean time per
stage for posts with an image and entities, each image analyser (object detector, face detector,
OCR) as a row of its own ("vision:NAME", left out of the stage that asked for it); the MobileSAM
encoder alone on the same photos and the ratio of a photo post to it (median, and the highest
over posts where something was boxed, so the encoder ran too); the same
pipeline with a SAM ViT-B encoder (random weights, same code) on a few photos; this process's peak RSS.

Targets: >= 60 posts/minute on the mixed feed; a post with an image and entities <= 2x the
MobileSAM encoder alone, OCR included. The 2 cores are shared: compare runs, not single numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.bench_ner import bench_texts
from bench.results import peak_rss_mib, write_json
from groundlens.core.config import resolve_paths
from groundlens.core.demo import demo_paths, prepare_demo
from groundlens.core.jobs.runner import JobRunner
from groundlens.core.pipeline.config import PipelineConfig
from groundlens.core.pipeline.pipeline import Pipeline, load_image
from groundlens.core.pipeline.registry import STAGES
from groundlens.core.pipeline.types import PostInput, PostResult
from groundlens.core.settings import Settings

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
    """Mean seconds per stage and per image analyser, and in total, over posts that went through the
    image stages with entities (an analyser that did not run on a post counts 0 s there)."""
    chosen = [r for r in results if r.entities and "image" in r.timings]
    analysers = sorted({name for r in chosen for name in r.timings if name.startswith("vision:")})
    per_stage = defaultdict(list)
    for r in chosen:
        for stage in (*STAGE_ROWS, *analysers):
            per_stage[stage].append(r.timings.get(stage, 0.0))
        per_stage["total"].append(sum(r.timings.values()))
    return {stage: statistics.mean(v) for stage, v in per_stage.items()}


def job_runner_run(settings: Settings, seconds: float) -> dict[str, object]:
    """The demo posts through the real JobRunner. The worker is this process's only child, so once it has been
    waited for, RUSAGE_CHILDREN's peak is the worker's own."""
    with tempfile.TemporaryDirectory(prefix="gl-bench-jobs-") as folder:
        paths = resolve_paths(folder)
        settings.save(demo_paths(paths).ensure().settings_file)  # the demo queues its posts for this pipeline
        setup = prepare_demo(paths)
        started = time.perf_counter()
        handle = JobRunner(setup.paths, settings).start()
        progress = handle.wait(seconds)
        if handle.running:
            handle.terminate()
            progress = handle.progress()
        run_s = time.perf_counter() - started
    return {
        "posts": setup.pending,
        "done": progress.done,
        "failed": progress.failed,
        "state": progress.state,
        "run_s": run_s,  # with the worker's start-up and model loading
        "processing_s": progress.elapsed_s,
        "posts_per_min": 60 * progress.rate,  # model loading excluded
        "worker_peak_rss_mib": peak_rss_mib(resource.RUSAGE_CHILDREN),
        "parent_peak_rss_mib": peak_rss_mib(),
    }


def throughput(results: list[PostResult], seconds: float) -> dict[str, float]:
    return {
        "posts": len(results),
        "seconds": seconds,
        "posts_per_min": 60 * len(results) / seconds,
        "errors": sum(1 for r in results if r.error),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text-posts", type=int, default=100, help="text-only posts to time")
    parser.add_argument("--sam-posts", type=int, default=2, help="photo posts to run with SAM ViT-B (0 skips)")
    parser.add_argument("--job-seconds", type=float, default=600, help="the JobRunner run's time limit (0 skips it)")
    parser.add_argument("--settings", type=Path, default=None, help="settings.json to take the pipeline from")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="STAGE=NAME|off",
        help="use another backend for a stage, e.g. --set ner=spacy",
    )
    parser.add_argument("--json", dest="json_path", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()

    settings = Settings.load(args.settings) if args.settings else Settings()
    for item in args.set:
        stage, _, backend = item.partition("=")
        settings.pipeline = settings.pipeline.with_stage(stage, backend)
    config: PipelineConfig = settings.pipeline
    report: dict[str, object] = {
        "pipeline": config.describe(),
        "threads": settings.threads,
        "batch_size": settings.batch_size,
    }
    print(
        f"pipeline: {config.describe()}  threads={settings.threads}  batch={settings.batch_size}  "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    if args.job_seconds:
        report["job_runner"] = jobs = job_runner_run(settings, args.job_seconds)
        print(
            f"JobRunner on the demo: {jobs['done']}/{jobs['posts']} posts ({jobs['state']}) in {jobs['run_s']:.1f} s "
            f"with start-up, {jobs['posts_per_min']:.0f} posts/minute processing; peak RSS worker "
            f"{jobs['worker_peak_rss_mib']:.0f} MiB, parent {jobs['parent_peak_rss_mib']:.0f} MiB"
        )

    import torch

    torch.set_num_threads(settings.threads)
    start = time.perf_counter()
    pipeline = Pipeline.from_config(config)
    report["models_load_s"] = time.perf_counter() - start
    print(f"models loaded in {report['models_load_s']:.1f} s: {pipeline.versions}")

    photos = demo_posts()
    if not photos:
        raise SystemExit("no demo photos in resources/demo: nothing to ground")
    text_posts = [PostInput(f"t{i}", text) for i, text in enumerate(bench_texts()[: args.text_posts])]
    pipeline.run(photos[:1])  # warm-up: first-call allocations, lazy imports

    text_results, seconds = timed_run(pipeline, text_posts, settings.batch_size)
    report["text_only"] = text = throughput(text_results, seconds)
    results, seconds = timed_run(pipeline, photos, settings.batch_size)
    report["with_image"] = image = throughput(results, seconds)
    # half the posts with an image: a minute holds as many of each, so the rate is the harmonic mean
    mixed = 2 / (1 / text["posts_per_min"] + 1 / image["posts_per_min"])
    report["mixed"] = {"image_share": 0.5, "posts_per_min": mixed}
    report["stage_ms"] = stage_ms = {stage: 1000 * value for stage, value in stage_table(results).items()}
    errors = [r for r in text_results + results if r.error]
    print(
        f"text-only: {text['posts']} posts, {text['posts_per_min']:.0f} posts/minute; with a photo: "
        f"{image['posts']} posts, {image['posts_per_min']:.0f} posts/minute; mixed (half with a photo) "
        f"{mixed:.0f} posts/minute (target >= 60); {len(errors)} errors" + (f": {errors[0].error}" if errors else "")
    )
    print("post with photo and entities, mean ms per stage:")
    for stage, value in stage_ms.items():
        print(f"  {stage:<20}{value:8.0f}")

    segmenter = pipeline.backends["segmentation"]
    if segmenter is not None and hasattr(segmenter, "embed"):
        # alternate encoder-alone and whole-pipeline runs per photo so both see the same load
        ratios = []
        for post in photos:
            image_data = load_image(post.image)
            start = time.perf_counter()
            segmenter.embed(image_data)
            encoder = time.perf_counter() - start
            start = time.perf_counter()
            [result] = pipeline.run([post])
            whole = time.perf_counter() - start
            if result.entities:
                ratios.append((whole, encoder, any(e.box is not None for e in result.entities)))
        whole, encoder = (statistics.median(v) for v in list(zip(*ratios))[:2])
        ratio = statistics.median(w / e for w, e, _ in ratios)
        boxed = [w / e for w, e, has_box in ratios if has_box]  # the encoder ran: the costly case
        worst = max(boxed, default=float("nan"))
        report["photo_post_vs_encoder"] = {
            "post_ms": 1000 * whole,
            "encoder_ms": 1000 * encoder,
            "ratio": ratio,
            "boxed_posts": len(boxed),
            "boxed_ratio_max": worst,
        }
        print(
            f"photo post with entities, run alone: {1000 * whole:.0f} ms; {segmenter.name} encoder alone: "
            f"{1000 * encoder:.0f} ms; median ratio {ratio:.2f}x, highest over the {len(boxed)} posts with a box "
            f"{worst:.2f}x (target <= 2x, OCR included)"
        )

    if args.sam_posts and segmenter is not None:
        from groundlens.core.pipeline.segmentation.build_sam import build_sam_vit
        from groundlens.core.pipeline.segmentation.predictor import SamSegmenter

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
        report["sam_vit_b"] = {
            "posts": len(pairs),
            "post_ms": 1000 * vit,
            "mobile_sam_post_ms": 1000 * mobile,
            "slowdown": vit / mobile,
        }
        print(
            f"SAM ViT-B encoder (random weights, same code), {len(pairs)} photo post(s): {1000 * vit:.0f} ms per "
            f"post vs {1000 * mobile:.0f} ms with MobileSAM: {vit / mobile:.1f}x"
        )

    report["in_process_peak_rss_mib"] = peak_rss_mib()
    print(f"peak RSS of this process: {report['in_process_peak_rss_mib']:.0f} MiB")
    write_json(args.json_path, "bench_pipeline", report)


if __name__ == "__main__":
    main()
