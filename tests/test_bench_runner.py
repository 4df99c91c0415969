"""`python -m bench`: a run folder per run holding each benchmark's figures and a summary (machine facts,
headline figures against their targets) that a later run can be compared with."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from bench.results import compare, headline_rows
from groundlens.storage import Store

REPO_ROOT = Path(__file__).resolve().parent.parent
QUICK_STORE_POSTS = 3000  # bench/__main__.py QUICK["bench_store"]


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


def test_quick_run_writes_figures_and_summary_then_compares_with_the_next(tmp_path):
    first = bench("--quick", "bench_store", "--results-dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    [run] = tmp_path.iterdir()
    assert sorted(p.name for p in run.iterdir()) == ["bench_store.json", "summary.json"]  # the database went

    figures = json.loads((run / "bench_store.json").read_text())
    assert figures["ingest"]["posts"] == QUICK_STORE_POSTS and figures["ingest"]["posts_per_s"] > 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["quick"] is True
    assert {"date_utc", "cpu_model", "cpu_cores", "ram_mib", "python", "torch", "sqlite", "git_commit"} <= set(
        summary["machine"]
    )
    assert summary["machine"]["cpu_cores"] >= 1 and summary["machine"]["ram_mib"] > 0
    assert summary["results"]["bench_store"] == figures
    ran = summary["benchmarks"]["bench_store"]
    assert ran["exit_code"] == 0 and ran["peak_rss_mib"] > 0 and ran["json"] == "bench_store.json"
    rows = {row["figure"]: row for row in summary["figures"]}
    assert rows["store: JSONL ingest"]["target"] == ">= 20,000 posts/s"
    assert rows["store: JSONL ingest"]["value"] == figures["ingest"]["posts_per_s"]
    searches = [row for label, row in rows.items() if label.startswith("store p95: search")]
    assert searches and all(row["limit"] == 50 and row["ok"] is (row["value"] < 50) for row in searches)
    assert "store: JSONL ingest" in first.stdout and "ok?" in first.stdout  # the final table
    assert not (tmp_path / "latest.json").exists()  # a quick run never replaces the committed reference

    second = bench("--quick", "bench_store", "--results-dir", str(tmp_path), "--keep-db")
    assert second.returncode == 0, second.stderr
    [later] = set(tmp_path.iterdir()) - {run}
    with Store.open(later / "data" / "groundlens.db") as store:  # where bench_gui finds bench_store's posts
        assert store.count_posts() == QUICK_STORE_POSTS

    compared = bench("--compare", str(run), str(later / "summary.json"))
    assert compared.returncode == 0, compared.stderr
    assert "store: JSONL ingest" in compared.stdout and "store p95: search posts" in compared.stdout


def test_targets_mark_figures_on_the_right_side_of_their_limit():
    rows = headline_rows(
        {
            "bench_pipeline": {"mixed": {"posts_per_min": 60.0}, "text_only": {"posts_per_min": 900.0}},
            "bench_gui": {
                "feed": {"first_paint_ms": None, "scroll": {"stall_max_ms": 50.0}},
                "search_as_you_type": {"stall_max_ms": 49.9},
            },
            "bench_ner": {"best_posts_per_s": 299.0},
        }
    )
    verdicts = {row["figure"]: row["ok"] for row in rows}
    assert verdicts == {
        "gui: feed first paint": False,  # never painted (the wait timed out): missing its target is a failure
        "gui: stall max while scrolling": False,  # < 50 ms: exactly 50 misses
        "gui: stall max while typing": True,
        "ner: best run": False,
        "pipeline: mixed (half with image)": True,  # >= 60 posts/min
        "pipeline: text-only posts": None,  # no target: shown, not judged
    }


def test_compare_says_which_way_each_figure_moved(tmp_path):
    def summary(name: str, ingest: float, first_paint: float, size: float) -> Path:
        results = {
            "bench_store": {"ingest": {"posts_per_s": ingest}, "database_bytes": size},
            "bench_gui": {"feed": {"first_paint_ms": first_paint}},
        }
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"machine": {}, "figures": headline_rows(results)}))
        return path

    console = Console(record=True, width=200)
    compare(console, summary("old", 20_000, 400, 1e9), summary("new", 25_000, 800, 1.2e9))
    lines = {line.split("│")[1].strip(): line for line in console.export_text().splitlines() if line.count("│") > 2}
    assert "better" in lines["store: JSONL ingest"] and "+25%" in lines["store: JSONL ingest"]
    assert "worse" in lines["gui: feed first paint"] and "+100%" in lines["gui: feed first paint"]
    assert "better" not in lines["store: database size"] and "worse" not in lines["store: database size"]
