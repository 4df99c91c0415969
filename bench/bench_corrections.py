"""Corrections benchmark: what the analyst waits for when correcting, undoing and merging.

    python -m bench.bench_corrections --posts 20000 [--json out.json] [--repeat 20]

Every post names "Trump" (and a few others), so a merge of "trump" rewrites a mention in every post:
the worst case of the entity page's merge. A single correction, its undo (revert) and redo (restore)
recompute one post; the re-run save rate is measured before and after the merge.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.results import write_json
from groundlens.records import Entity, EntityType, Post
from groundlens.storage import Store
from groundlens.storage import corrections as fix

BATCH = 1000
_NAMES: list[tuple[str, EntityType]] = [("Trump", "PER"), ("Biden", "PER"), ("Ohio", "LOC"), ("Nasa", "ORG")]


def _post(i: int) -> Post:
    return Post(source="bench", native_id=str(i), text=f"Trump, Biden, Ohio and Nasa, post {i}")


def _predictions(post: Post) -> list[Entity]:
    found, start = [], 0
    for name, kind in _NAMES:
        start = post.text.index(name, start)
        found.append(Entity(start, start + len(name), name, kind, score=0.9))
    return found


def _save_all(store: Store, posts: list[Post]) -> float:
    """Seconds to save every post's predictions in pipeline-sized batches."""
    started = time.perf_counter()
    for begin in range(0, len(posts), BATCH):
        store.save_results("bench", [(p.id or 0, _predictions(p), None) for p in posts[begin : begin + BATCH]])
    return time.perf_counter() - started


def _ms(call: Callable[[], object], repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": statistics.median(times), "max_ms": max(times)}


def measure(store: Store, n: int, repeat: int) -> dict[str, dict[str, float]]:
    posts = [_post(i) for i in range(n)]
    store.upsert_posts(posts)
    _save_all(store, posts)
    plain = _save_all(store, posts)  # a re-run of every post (replacing what the first run saved)
    target = store.entities_for_post(posts[n // 2].id or 0)[2]  # "Ohio" of one post
    correction = store.add_correction(fix.change_type(target, "ORG"))
    figures = {
        "correct_one_post": _ms(lambda: store.add_correction(fix.change_type(target, "ORG")), repeat),
        "undo": _ms(lambda: store.revert_correction(correction.id), repeat),
        "redo": _ms(lambda: store.restore_correction(correction.id), repeat),
    }
    started = time.perf_counter()
    merge = store.merge_entities("trump", "donald trump")
    figures["merge_every_post"] = {"seconds": time.perf_counter() - started, "posts": n}
    started = time.perf_counter()
    store.revert_correction(merge.id)
    figures["undo_merge"] = {"seconds": time.perf_counter() - started, "posts": n}
    store.restore_correction(merge.id)
    merged = _save_all(store, posts)  # the same re-run, now that a merge renames a mention in every post
    mentions = n * len(_NAMES)
    figures["rerun_saves"] = {
        "before_merge_mentions_per_s": mentions / plain,
        "merged_mentions_per_s": mentions / merged,
    }
    started = time.perf_counter()
    problems = store.verify_aggregates()
    figures["verify_aggregates"] = {"seconds": time.perf_counter() - started, "problems": len(problems)}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20, help="Timed runs of each one-post operation.")
    parser.add_argument("--json", dest="json_path", type=Path, default=None, help="Write the figures here.")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench_corrections_") as scratch,
        Store.open(Path(scratch) / "bench.db") as store,
    ):
        figures = measure(store, args.posts, args.repeat)
    table = Table(title=f"Corrections benchmark, {args.posts:,} posts")
    table.add_column("operation")
    table.add_column("figures", justify="right")
    for name, values in figures.items():
        table.add_row(name, ", ".join(f"{key} {value:,.1f}" for key, value in values.items()))
    Console().print(table)
    write_json(args.json_path, "bench_corrections", {"posts": args.posts, **figures})


if __name__ == "__main__":
    main()
