"""Store benchmark: JSONL ingest rate, prediction save rate, database size, search and trend latencies.

    python -m bench.bench_store --posts 100000 [--json out.json] [--db path.db] [--repeat 30]

Targets (docs/ARCHITECTURE.md; at 1M posts / 2M mentions): ingest >= 20k posts/s,
search p95 < 50 ms, trend queries < 200 ms.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.corpus import CorpusGenerator, write_jsonl
from bench.results import write_json
from groundlens.core.ingest import import_paths
from groundlens.core.ingest.jsonl import FLAT_SOURCE
from groundlens.storage import Store

BATCH = 1000


def ingest(store: Store, jsonl: Path) -> dict[str, float]:
    """The product's import path (`main.py import --no-download`): JSONL reader, field mapping, store, FTS.

    Wall and CPU time of this process (both threads): on a shared machine the CPU figure carries over.
    """
    started, cpu = time.perf_counter(), time.process_time()
    report = import_paths(store, [jsonl], format="jsonl", download=False)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if report.errors:
        raise RuntimeError(f"the generated corpus did not import cleanly: {report.errors[0]}")
    return {
        "posts": report.posts_inserted,
        "seconds": seconds,
        "posts_per_s": report.posts_inserted / seconds,
        "cpu_seconds": cpu,
        "posts_per_cpu_s": report.posts_inserted / cpu,
    }


def save_predictions(store: Store, generator: CorpusGenerator, n: int) -> dict[str, float]:
    """save_results in batches, as pipeline workers would; generation time is not counted."""
    ids = dict(store._conn.execute("SELECT native_id, id FROM posts WHERE source = ?", (FLAT_SOURCE,)).fetchall())
    posts, mentions, seconds, cpu = iter(generator.posts(n)), 0, 0.0, 0.0
    while batch := list(islice(posts, BATCH)):
        results = [(ids[p.native_id], p.predictions(), None) for p in batch]
        mentions += sum(len(found) for _, found, _ in results)
        started, cpu_started = time.perf_counter(), time.process_time()
        store.save_results("bench", results)
        seconds += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    return {
        "mentions": mentions,
        "seconds": seconds,
        "mentions_per_s": mentions / seconds,
        "cpu_seconds": cpu,
        "mentions_per_cpu_s": mentions / cpu,
    }


def _latency(call: Callable[[], object], repeat: int) -> dict[str, float]:
    """Wall-clock percentiles, and CPU ones (steadier than wall time on a busy machine)."""
    call()  # warm the page cache once
    wall, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return {
        "p50_ms": _percentile(wall, 50),
        "p95_ms": _percentile(wall, 95),
        "max_ms": max(wall),
        "cpu_p50_ms": _percentile(cpu, 50),
        "cpu_p95_ms": _percentile(cpu, 95),
    }


def _percentile(values: list[float], q: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _rotating(queries: list[str], run: Callable[[str], object]) -> Callable[[], object]:
    """A call that runs the next query of the list each time (so p95 spans many different queries)."""
    cycle = iter(queries * 1000)
    return lambda: run(next(cycle))


def query_sets(store: Store, rng: random.Random) -> dict[str, list[str]]:
    """Realistic queries drawn from the entities actually stored (weighted by mentions)."""
    names = [
        row[0]
        for row in store._conn.execute(
            "SELECT name FROM entity_names n JOIN (SELECT norm, SUM(mentions) AS m FROM mention_daily GROUP BY norm"
            " ORDER BY m DESC LIMIT 400) t ON t.norm = n.norm"
        )
    ]
    single = [n for n in names if n.isalpha() and len(n) > 3]
    multi = [n for n in names if len(n.split()) > 1 and all(w.isalnum() for w in n.split())]

    def pick(pool: list[str]) -> list[str]:
        return rng.sample(pool, min(len(pool), 40))

    months = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    return {
        "entity name": pick(single),
        "phrase": [f'"{name}"' for name in pick(multi)],
        "prefix": [f"{name[:4]}*" for name in pick(single)],
        "filtered": [
            f"{name} type:{kind} has:image date:{rng.choice(months)}"
            for name, kind in zip(pick(single), rng.choices(["PER", "ORG", "LOC", "OTHER"], k=40))
        ]
        + [f"type:LOC groundable:yes lang:en after:{m}-10" for m in months],
    }


def measure(store: Store, repeat: int, seed: int) -> dict[str, dict[str, float]]:
    rng = random.Random(seed)
    sets = query_sets(store, rng)
    results: dict[str, dict[str, float]] = {}
    for label, queries in sets.items():
        search = _rotating(queries, lambda q: store.search_posts(q, limit=50))
        results[f"search posts: {label}"] = _latency(search, repeat)
    everything = [q for queries in sets.values() for q in queries]
    results["count matching (any)"] = _latency(_rotating(everything, store.count_matching), repeat)
    results["search entities: prefix"] = _latency(
        _rotating(sets["prefix"], lambda q: store.search_entities(q, limit=50)), repeat
    )
    results["feed: all post ids"] = _latency(lambda: store.post_ids(None), max(5, repeat // 5))
    ids = store.post_ids(None)
    results["feed: 100 summaries"] = _latency(
        lambda: store.post_summaries(ids[(start := rng.randrange(len(ids) - 100)) : start + 100]), repeat
    )
    top = [c.norm for c in store.top_entities(limit=50)]
    start = datetime(2024, 1, 1, tzinfo=UTC)

    def window() -> datetime:
        return start + timedelta(days=rng.randrange(150))

    results["trends: 3 entities per day"] = _latency(
        lambda: store.mention_series(rng.sample(top, 3), bucket="day"), repeat
    )
    results["trends: per type per week"] = _latency(lambda: store.mention_series(bucket="week"), repeat)
    results["top 20 entities, all time"] = _latency(lambda: store.top_entities(limit=20), repeat)
    results["top 20 entities, 30 days"] = _latency(
        lambda: store.top_entities(w := window(), w + timedelta(days=30), limit=20), repeat
    )
    results["top 20 PER, 30 days"] = _latency(
        lambda: store.top_entities(w := window(), w + timedelta(days=30), type="PER", limit=20), repeat
    )
    results["co-occurring (top-50 entity)"] = _latency(lambda: store.cooccurring(rng.choice(top)), repeat)
    results["entity profile (top-50 entity)"] = _latency(lambda: store.entity_profile(rng.choice(top)), repeat)
    for label, query in (("all posts", None), ("type:PER", "type:PER")):  # the Network page and the report
        chosen = store.post_ids(query)
        results[f"post-set figures, top 40 ({label})"] = _latency(
            lambda chosen=chosen: store.summarize_posts(chosen, top=40, series=5, located=6), max(3, repeat // 10)
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40, help="Timed runs per query kind.")
    parser.add_argument("--db", type=Path, default=None, help="Database file (default: a temporary folder).")
    parser.add_argument("--json", dest="json_path", type=Path, default=None, help="Write the figures here.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench_store_") as scratch:
        db_path = args.db or Path(scratch) / "bench.db"
        jsonl = Path(scratch) / "posts.jsonl"
        generator_started = time.perf_counter()
        generator = CorpusGenerator(seed=args.seed)
        write_jsonl(jsonl, args.posts, generator)
        console.print(
            f"generated {args.posts:,} posts in {time.perf_counter() - generator_started:.1f} s "
            f"({'Twitter-GMNER train' if generator.from_dataset else 'built-in'} distribution)"
        )
        with Store.open(db_path) as store:
            loaded = ingest(store, jsonl)
            saved = save_predictions(store, CorpusGenerator(seed=args.seed), args.posts)
            store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size = db_path.stat().st_size
            stats = store.stats()
            latencies = measure(store, args.repeat, args.seed)
    report = {
        "posts": args.posts,
        "mentions": saved["mentions"],
        "distinct_entities": stats["distinct_entities"],
        "ingest": loaded,
        "save_predictions": saved,
        "database_bytes": size,
        "latency_ms": latencies,
    }
    summary = Table(title=f"Store benchmark, {args.posts:,} posts")
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    summary.add_row(
        "JSONL ingest", f"{loaded['posts_per_s']:,.0f} posts/s ({loaded['posts_per_cpu_s']:,.0f} per CPU s)"
    )
    summary.add_row(
        "save predictions",
        f"{saved['mentions_per_s']:,.0f} mentions/s "
        f"({saved['mentions_per_cpu_s']:,.0f} per CPU s; {saved['mentions']:,} in all)",
    )
    summary.add_row("distinct entities", f"{stats['distinct_entities']:,}")
    summary.add_row("database size", f"{size / 2**20:,.0f} MiB")
    console.print(summary)
    table = Table(title="Latency (ms)")
    columns = {"p50": "p50_ms", "p95": "p95_ms", "max": "max_ms", "CPU p50": "cpu_p50_ms", "CPU p95": "cpu_p95_ms"}
    table.add_column("query")
    for column in columns:
        table.add_column(column, justify="right")
    for name, figures in latencies.items():
        table.add_row(name, *(f"{figures[key]:.1f}" for key in columns.values()))
    console.print(table)
    write_json(args.json_path, "bench_store", report)


if __name__ == "__main__":
    main()
