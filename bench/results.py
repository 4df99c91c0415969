"""Benchmark figures as JSON, so runs can be kept and compared.

Each benchmark writes its own figures (`--json PATH`): a nested dict whose keys carry their unit
(`_ms`, `_s`, `_mib`, `_bytes`, `posts_per_s`, ...) plus a `meta` block. The runner (`python -m bench`)
gathers them into one summary with the machine's facts and the headline figures against their targets.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from groundlens.core.safe_output import write_text_atomic

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
SUMMARY_NAME = "summary.json"
LATEST_NAME = "latest.json"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory (Linux reports ru_maxrss in KiB) of this process, or of its waited-for children."""
    return resource.getrusage(who).ru_maxrss / 1024


def write_json(path: Path | None, benchmark: str, figures: dict[str, Any]) -> None:
    """The figures plus what is needed to read them later: arguments, time, load, this process's peak memory."""
    if path is None:
        return
    meta = {
        "benchmark": benchmark,
        "argv": sys.argv[1:],
        "finished_utc": utc_now(),
        "load_average_1m": os.getloadavg()[0],
        "peak_rss_mib": peak_rss_mib(),
        "children_peak_rss_mib": peak_rss_mib(resource.RUSAGE_CHILDREN),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps({**figures, "meta": meta}, indent=2, default=str))


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _proc_field(path: str, field: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == field:
                return value.strip()
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    """What the figures depend on: hardware, library versions, the code's commit (and whether it had edits)."""
    mem_kib = _proc_field("/proc/meminfo", "MemTotal")
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "date_utc": utc_now(),
        "cpu_model": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or None,
        "cpu_cores": os.cpu_count(),
        "cpu_cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "ram_mib": int(mem_kib.split()[0]) / 1024 if mem_kib else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": _version("torch"),
        "pyside6": _version("PySide6-Essentials") or _version("PySide6"),
        "sqlite": sqlite3.sqlite_version,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        "load_average_1m": os.getloadavg()[0],
    }


# headline figures ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    """One headline figure: where it sits in a benchmark's JSON, its unit and (optionally) its target."""

    label: str
    benchmark: str
    path: tuple[str, ...]
    unit: str
    op: str | None = None  # ">=", "<" or "<="
    limit: float | None = None

    @property
    def target(self) -> str:
        return "" if self.op is None else f"{self.op} {self.limit:,g} {self.unit}"

    def passes(self, value: float) -> bool | None:
        if self.op is None or self.limit is None:
            return None
        return {">=": value >= self.limit, "<": value < self.limit, "<=": value <= self.limit}[self.op]


SEARCH_P95_MS, TREND_P95_MS = 50.0, 200.0
HEADLINES = [
    Figure("store: JSONL ingest", "bench_store", ("ingest", "posts_per_s"), "posts/s", ">=", 20_000),
    Figure("store: save predictions", "bench_store", ("save_predictions", "mentions_per_s"), "mentions/s"),
    Figure("store: database size", "bench_store", ("database_bytes",), "bytes"),
    Figure("gui: feed first paint", "bench_gui", ("feed", "first_paint_ms"), "ms", "<", 1000),
    Figure("gui: feed all ids loaded", "bench_gui", ("feed", "ids_loaded_ms"), "ms"),
    Figure("gui: stall max while scrolling", "bench_gui", ("feed", "scroll", "stall_max_ms"), "ms", "<", 50),
    Figure(
        "gui: search as you type, query to rows (max)",
        "bench_gui",
        ("search_as_you_type", "query_to_rows_max_ms"),
        "ms",
    ),
    Figure("gui: stall max while typing", "bench_gui", ("search_as_you_type", "stall_max_ms"), "ms", "<", 50),
    Figure("gui: stall max while the pipeline runs", "bench_gui", ("pipeline_running", "stall_max_ms"), "ms", "<", 50),
    Figure(
        "gui: stall max, select all matching (bulk)",
        "bench_gui",
        ("bulk_actions", "select_all_matching", "stall_max_ms"),
        "ms",
        "<",
        50,
    ),
    Figure(
        "gui: stall max, bulk tag of every post",
        "bench_gui",
        ("bulk_actions", "bulk_tag", "stall_max_ms"),
        "ms",
        "<",
        50,
    ),
    Figure(
        "gui: stall max, saved-search recount",
        "bench_gui",
        ("bulk_actions", "saved_search_refresh", "stall_max_ms"),
        "ms",
        "<",
        50,
    ),
    Figure(
        "gui: stall max, bulk delete of every post",
        "bench_gui",
        ("bulk_actions", "bulk_delete", "stall_max_ms"),
        "ms",
        "<",
        50,
    ),
    Figure("gui: stall max idle (baseline)", "bench_gui", ("idle", "stall_max_ms"), "ms"),
    Figure("gui: 2048² mask to cropped overlay", "bench_gui", ("mask_overlay_ms", "cropped_overlay_ms"), "ms", "<", 30),
    Figure("ner: best run", "bench_ner", ("best_posts_per_s",), "posts/s", ">=", 300),
    Figure("groundability: speed", "bench_groundability", ("entities_per_s",), "entities/s", ">=", 200),
    Figure("groundability: dev accuracy", "bench_groundability", ("accuracy",), "ratio"),
    Figure(
        "segmentation: MobileSAM encoder, median", "bench_segmentation", ("mobile_sam", "encoder", "wall_median_s"), "s"
    ),
    Figure("segmentation: SAM ViT-B / MobileSAM (CPU)", "bench_segmentation", ("vit_b_over_mobile_cpu",), "x"),
    Figure("vision: NanoDet-m per photo, median", "bench_vision", ("nanodet", "ms_per_image_median"), "ms"),
    Figure(
        "vision: BlazeFace short+full per photo, median", "bench_vision", ("blazeface", "ms_per_image_median"), "ms"
    ),
    Figure("vision: PP-OCRv6 (rapidocr) per photo, median", "bench_vision", ("rapidocr", "ms_per_image_median"), "ms"),
    Figure("pipeline: mixed (half with image)", "bench_pipeline", ("mixed", "posts_per_min"), "posts/min", ">=", 60),
    Figure("pipeline: text-only posts", "bench_pipeline", ("text_only", "posts_per_min"), "posts/min"),
    Figure("pipeline: posts with an image", "bench_pipeline", ("with_image", "posts_per_min"), "posts/min"),
    Figure(
        "pipeline: photo post / encoder alone", "bench_pipeline", ("photo_post_vs_encoder", "ratio"), "x", "<=", 1.5
    ),
    Figure("pipeline: in-process peak RSS", "bench_pipeline", ("in_process_peak_rss_mib",), "MiB"),
    Figure("pipeline: JobRunner worker peak RSS", "bench_pipeline", ("job_runner", "worker_peak_rss_mib"), "MiB"),
    Figure("pipeline: JobRunner parent peak RSS", "bench_pipeline", ("job_runner", "parent_peak_rss_mib"), "MiB"),
    Figure("grounding: box hits", "bench_grounding", ("box_hit_rate",), "ratio", ">=", 0.8),
    Figure("grounding: false boxes", "bench_grounding", ("false_box_rate",), "ratio", "<=", 0.05),
    Figure("grounding: people boxed with the wrong name", "bench_grounding", ("wrong_name_rate",), "ratio"),
    Figure("grounding: GMNER F1", "bench_grounding", ("gmner_f1",), "ratio", ">=", 0.7),
    Figure("cluster: local engine", "bench_cluster", ("local", "posts_per_min"), "posts/min"),
    Figure("cluster: Ray, 1 worker / local", "bench_cluster", ("ray_1_worker", "ratio_to_local"), "x"),
    Figure("cluster: Ray, 2 workers / local", "bench_cluster", ("ray_2_workers", "ratio_to_local"), "x"),
    Figure("cluster: Ray overhead per post", "bench_cluster", ("ray_overhead_ms_per_post",), "ms"),
    Figure("cluster: store writer", "bench_cluster", ("store_writer", "posts_per_s"), "posts/s"),
    Figure("cluster: image shipping per photo", "bench_cluster", ("image_shipping", "median_ms"), "ms"),
]


def store_latency_figures(report: dict[str, Any]) -> Iterator[Figure]:
    """bench_store's p95 per query kind: searches against the search target, the feed's reads without one
    (the GUI's first paint covers them), the rest (trends, top entities, profiles) against the trend target."""
    for name in report.get("latency_ms", {}):
        path = ("latency_ms", name, "p95_ms")
        if name.startswith(("search", "count")):
            yield Figure(f"store p95: {name}", "bench_store", path, "ms", "<", SEARCH_P95_MS)
        elif name.startswith("feed"):
            yield Figure(f"store p95: {name}", "bench_store", path, "ms")
        else:
            yield Figure(f"store p95: {name}", "bench_store", path, "ms", "<", TREND_P95_MS)


_ABSENT = object()


def _lookup(report: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(report, dict) or key not in report:
            return _ABSENT
        report = report[key]
    return report


def headline_rows(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per headline figure the run measured: figure, value, unit, target, ok (None: no target).
    A figure a benchmark left out (a part it was told to skip) has no row; one it wrote as null (a wait that
    timed out) shows as missing its target."""
    store = [figure for figure in HEADLINES if figure.benchmark == "bench_store"]
    figures = [
        *store,
        *store_latency_figures(results.get("bench_store", {})),
        *(figure for figure in HEADLINES if figure.benchmark != "bench_store"),
    ]
    rows = []
    for figure in figures:
        value = _lookup(results.get(figure.benchmark, {}), figure.path)
        if value is _ABSENT or not (value is None or isinstance(value, (int, float))):
            continue
        ok = figure.passes(value) if value is not None else (False if figure.op else None)
        rows.append(summary_row(figure.label, value, figure.unit, figure.target, figure.op, figure.limit, ok))
    return rows


def summary_row(
    figure: str,
    value: float | None,
    unit: str,
    target: str = "",
    op: str | None = None,
    limit: float | None = None,
    ok: bool | None = None,
) -> dict[str, Any]:
    """A summary row as stored in summary.json (plain JSON, so old summaries stay readable without this code)."""
    return {"figure": figure, "value": value, "unit": unit, "target": target, "op": op, "limit": limit, "ok": ok}


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "bytes":
        return f"{value / 2**20:,.0f} MiB"
    if unit == "ratio":
        return f"{value:.1%}"
    digits = 0 if abs(value) >= 100 else 2 if abs(value) < 10 else 1
    return f"{value:,.{digits}f} {unit}"


def print_rows(console: Console, title: str, rows: list[dict[str, Any]]) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target")
    table.add_column("ok?", justify="center")
    for row in rows:
        ok = {True: "[green]yes[/]", False: "[red]NO[/]", None: ""}[row["ok"]]
        table.add_row(row["figure"], _format(row["value"], row["unit"]), row["target"], ok)
    console.print(table)


# comparing runs ---------------------------------------------------------------------------------------------
def load_summary(location: Path) -> dict[str, Any]:
    """A run folder (its summary.json) or a summary file such as bench/results/latest.json."""
    path = location / SUMMARY_NAME if location.is_dir() else location
    return json.loads(path.read_text())


def compare(console: Console, old_location: Path, new_location: Path) -> None:
    """Headline figures of two runs side by side, with the change and whether it went the target's way."""
    old, new = load_summary(old_location), load_summary(new_location)
    before = {row["figure"]: row for row in old["figures"]}
    table = Table(title=f"{old_location} -> {new_location}", title_justify="left")
    for column in ("figure", "old", "new", "change", ""):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for row in new["figures"]:
        previous = before.get(row["figure"])
        if previous is None or previous["value"] is None or row["value"] is None:
            continue
        change = (row["value"] - previous["value"]) / previous["value"] if previous["value"] else None
        better = {">=": 1, "<": -1, "<=": -1}.get(row["op"] or "", 0) * (row["value"] - previous["value"])
        verdict = (
            ""
            if not better or change is None or abs(change) < 0.05
            else ("[green]better[/]" if better > 0 else "[red]worse[/]")
        )
        table.add_row(
            row["figure"],
            _format(previous["value"], row["unit"]),
            _format(row["value"], row["unit"]),
            "—" if change is None else f"{change:+.0%}",
            verdict,
        )
    console.print(table)
    for label, summary in (("old", old), ("new", new)):
        facts = summary.get("machine", {})
        console.print(
            f"{label}: {facts.get('date_utc')}  {facts.get('cpu_model')} x{facts.get('cpu_cores')}  "
            f"commit {str(facts.get('git_commit'))[:10]}  load {facts.get('load_average_1m', 0):.1f}"
        )
