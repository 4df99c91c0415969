"""The pipeline on Ray against the local engine, and the parts that bound a cluster's throughput.

    python -m bench.bench_cluster [--posts 24] [--json out.json]

In one run, on this machine: the same photo posts (the demo's photos, cycled) processed by the real
JobRunner with the local engine (one worker process, `threads` CPU threads), with Ray and one
pipeline actor (the same threads), and with Ray and two actors of one thread each. For each:
posts per minute while processing (model loading excluded), the whole run with start-up, and the
ratio to the local engine; the overhead per post of Ray with one actor against the local engine.

Then the parts a capacity estimate for N GPU nodes is built from: how many results per second the
single store writer (the driver's `save_results`, one transaction per batch) accepts, with real
masks; how long shipping one photo to an actor and back takes through Ray's object store on
loopback; and the model time per photo post on this CPU. The driver's ceiling is the smaller of
the writer's rate and 1 / (shipping time per photo).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.results import write_json
from groundlens.core import masks
from groundlens.core.config import resolve_paths
from groundlens.core.jobs.convert import to_entity
from groundlens.core.jobs.ray_engine import shipped
from groundlens.core.jobs.runner import JobRunner
from groundlens.core.pipeline.types import PostInput
from groundlens.core.settings import Settings
from groundlens.records import Media, Post
from groundlens.storage import Store

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"


def demo_photo_posts(count: int) -> list[Post]:
    rows = [json.loads(line) for line in (DEMO / "posts.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [row for row in rows if row.get("image")]
    return [
        Post(
            "bench",
            f"{i:05d}",
            f"{rows[i % len(rows)]['text']} ({i})",
            media=[Media(local_path=str(DEMO / rows[i % len(rows)]["image"]), status="ok")],
        )
        for i in range(count)
    ]


def engine_run(settings: Settings, posts: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="gl-bench-cluster-") as folder:
        paths = resolve_paths(folder).ensure()
        with Store.open(paths.db_path) as store:
            store.upsert_posts(demo_photo_posts(posts))
        started = time.perf_counter()
        progress = JobRunner(paths, settings).start().wait()
        if progress.state != "finished":
            raise SystemExit(f"{settings.engine} run {progress.state}: {progress.message}")
        return {
            "posts": progress.done,
            "posts_per_min": 60 * progress.rate,
            "processing_s": progress.elapsed_s,
            "run_s": time.perf_counter() - started,
        }


def writer_rate(settings: Settings, posts: int = 2000) -> dict[str, float]:
    """Results per second the store accepts, batch by batch as the driver saves them, with real masks."""
    from groundlens.core.pipeline.pipeline import Pipeline

    photo = next(p for p in demo_photo_posts(10) if "Grace Hopper" in p.text)
    [result] = Pipeline.from_config(settings.pipeline).run([PostInput("0", photo.text, photo.media[0].local_path)])
    with tempfile.TemporaryDirectory(prefix="gl-bench-writer-") as folder, Store.open(Path(folder) / "w.db") as store:
        batch = demo_photo_posts(posts)
        store.upsert_posts(batch)
        start = time.perf_counter()
        for i in range(0, posts, settings.batch_size):
            chunk = batch[i : i + settings.batch_size]
            store.save_results("bench", [(p.id, [to_entity(e, "bench") for e in result.entities], None) for p in chunk])
        seconds = time.perf_counter() - start
    boxed = sum(1 for e in result.entities if e.mask is not None)
    rle_bytes = sum(len(masks.encode(e.mask)["counts"]) for e in result.entities if e.mask is not None)
    return {
        "posts": posts,
        "posts_per_s": posts / seconds,
        "entities_per_post": len(result.entities),
        "masks_per_post": boxed,
        "mask_rle_bytes_per_post": rle_bytes,
    }


def shipping_ms(repeat: int = 20) -> dict[str, float]:
    """One photo's bytes read on the driver, sent to an actor and acknowledged (loopback object store)."""
    from groundlens.core.jobs.ray_engine import LOCAL_RAY, LOOPBACK_ONLY

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.update(LOOPBACK_ONLY)
    import ray

    ray.init(address="local", include_dashboard=False, log_to_driver=False, configure_logging=False, **LOCAL_RAY)
    try:

        @ray.remote
        class Sink:
            def take(self, post: PostInput) -> int:
                return len(post.image.data)

        sink = Sink.remote()
        photos = [PostInput(p.native_id, p.text, p.media[0].local_path) for p in demo_photo_posts(6)]
        ray.get(sink.take.remote(shipped(photos[0])))  # warm-up
        times, sizes = [], []
        for i in range(repeat):
            start = time.perf_counter()
            sizes.append(ray.get(sink.take.remote(shipped(photos[i % len(photos)]))))
            times.append(time.perf_counter() - start)
    finally:
        ray.shutdown()
    return {"median_ms": 1000 * statistics.median(times), "mean_photo_bytes": statistics.mean(sizes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=24, help="photo posts per engine run")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads of the local worker and the 1-actor run")
    parser.add_argument("--json", dest="json_path", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()

    base = Settings(threads=args.threads)
    runs = {
        "local": Settings(threads=args.threads),
        "ray_1_worker": Settings(threads=args.threads, engine="ray", ray_workers=1),
        "ray_2_workers": Settings(threads=max(1, args.threads // 2), engine="ray", ray_workers=2),
    }
    report: dict[str, Any] = {"posts": args.posts, "pipeline": base.pipeline.describe()}
    for name, settings in runs.items():
        report[name] = figures = engine_run(settings, args.posts)
        print(
            f"{name:<14} {figures['posts_per_min']:6.1f} posts/min processing, {figures['run_s']:6.1f} s with start-up"
        )
    local = report["local"]
    for name in ("ray_1_worker", "ray_2_workers"):
        report[name]["ratio_to_local"] = report[name]["posts_per_min"] / local["posts_per_min"]
    one = report["ray_1_worker"]
    report["ray_overhead_ms_per_post"] = 1000 * (one["processing_s"] - local["processing_s"]) / args.posts
    print(
        f"Ray / local: 1 worker {one['ratio_to_local']:.2f}x, 2 workers "
        f"{report['ray_2_workers']['ratio_to_local']:.2f}x; Ray overhead "
        f"{report['ray_overhead_ms_per_post']:.0f} ms per post"
    )

    report["store_writer"] = writer = writer_rate(base)
    print(
        f"store writer: {writer['posts_per_s']:.0f} photo-post results/s ({writer['entities_per_post']} entities, "
        f"{writer['masks_per_post']} masks, {writer['mask_rle_bytes_per_post']} RLE bytes per post)"
    )
    report["image_shipping"] = ship = shipping_ms()
    print(
        f"image shipping: {ship['median_ms']:.1f} ms per photo ({ship['mean_photo_bytes'] / 1024:.0f} KiB) "
        f"driver -> actor on loopback"
    )
    model_s_per_post = 60 / local["posts_per_min"]
    ceiling = min(writer["posts_per_s"], 1000 / ship["median_ms"])
    report["capacity"] = {"model_s_per_photo_post_cpu": model_s_per_post, "driver_ceiling_posts_per_s": ceiling}
    print(
        f"model time per photo post on this CPU: {model_s_per_post:.2f} s; one driver's ceiling: {ceiling:.0f} "
        f"posts/s (the smaller of the writer's rate and 1 / shipping time)"
    )
    write_json(args.json_path, "bench_cluster", report)


if __name__ == "__main__":
    main()
