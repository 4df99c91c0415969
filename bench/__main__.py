"""`python -m bench`: run every benchmark, one process each, then one table of the headline figures.

Separate processes keep one benchmark's threads, caches and peak memory from colouring the next
one's figures. Each writes its figures to bench/results/<UTC time>/<name>.json; the run's
summary.json adds the machine's facts and the headline figures against their targets, and a full
run of every benchmark also becomes bench/results/latest.json (the committed reference).
bench_store builds the 1M-post database in <run>/data and bench_gui opens that same database.

    python -m bench                          # everything at full size (15-25 min on 2 idle cores)
    python -m bench --quick bench_store      # small sizes: checks the benchmarks run, figures not comparable
    python -m bench --compare OLD NEW        # headline figures of two runs (folders or summary files)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bench.results import (
    LATEST_NAME,
    RESULTS_DIR,
    SUMMARY_NAME,
    compare,
    headline_rows,
    machine,
    print_rows,
    summary_row,
    utc_now,
)
from groundlens.core.safe_output import write_text_atomic

BENCHMARKS: dict[str, list[str]] = {
    "bench_store": ["--posts", "1000000", "--repeat", "40"],
    "bench_gui": [],  # opens bench_store's database when that ran, else builds its own (--posts)
    "bench_ner": [],
    "bench_groundability": [],
    "bench_segmentation": [],
    "bench_vision": [],
    "bench_pipeline": [],
    "bench_grounding": [],
    "bench_cluster": [],  # needs the 'cluster' extra (Ray)
}
QUICK: dict[str, list[str]] = {
    "bench_store": ["--posts", "3000", "--repeat", "5"],
    "bench_gui": ["--posts", "3000", "--skip-pipeline", "--bulk-posts", "3000"],
    "bench_ner": ["--repeat", "1"],
    "bench_groundability": [],
    "bench_segmentation": ["--repeat", "1", "--no-vit-b"],
    "bench_vision": ["--repeat", "1"],
    "bench_pipeline": ["--sam-posts", "0", "--text-posts", "10"],
    "bench_grounding": [],  # 33 posts: already small
    "bench_cluster": ["--posts", "4"],
}


@dataclass
class Ran:
    """How one benchmark process went; its figures are in `json` (None when it wrote none)."""

    args: list[str]
    exit_code: int
    wall_s: float
    peak_rss_mib: float
    json: str | None = None


def run_one(name: str, arguments: list[str]) -> Ran:
    """Run a benchmark in its own process; wait4 gives that process's own peak memory (with any it waited for)."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", f"bench.{name}", *arguments])
    try:
        _, status, usage = os.wait4(process.pid, 0)
    except KeyboardInterrupt:
        process.kill()
        process.wait()
        raise
    process.returncode = os.waitstatus_to_exitcode(status)
    return Ran(arguments, process.returncode, time.perf_counter() - started, usage.ru_maxrss / 1024)


def new_run_dir(results_dir: Path) -> Path:
    """bench/results/<UTC time>, with a suffix when a run already started in that second."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir, n = results_dir / stamp, 1
    while run_dir.exists():
        n += 1
        run_dir = results_dir / f"{stamp}-{n}"
    return run_dir


def run_all(names: list[str], quick: bool, results_dir: Path, keep_db: bool, console: Console) -> int:
    run_dir = new_run_dir(results_dir)
    data_dir = run_dir / "data"  # a GroundLens data folder: bench_gui opens it as the app would
    data_dir.mkdir(parents=True)
    db_path = data_dir / "groundlens.db"
    facts, started = machine(), utc_now()
    runs: dict[str, Ran] = {}
    results: dict[str, dict] = {}
    for name in names:
        json_path = run_dir / f"{name}.json"
        arguments = [*(QUICK if quick else BENCHMARKS)[name], "--json", str(json_path)]
        store_built = "bench_store" in runs and runs["bench_store"].exit_code == 0
        if name == "bench_store" or (name == "bench_gui" and store_built):
            arguments += ["--db", str(db_path)]
        console.print(f"\n[bold]=== {name} {' '.join(arguments)}", highlight=False)
        runs[name] = run_one(name, arguments)
        if json_path.exists():
            results[name] = json.loads(json_path.read_text())
            runs[name].json = json_path.name
    if not keep_db:
        shutil.rmtree(data_dir)
    rows = headline_rows(results)
    for name, run in runs.items():
        rows.append(summary_row(f"{name}: wall time", run.wall_s, "s", target="exit 0", ok=run.exit_code == 0))
        rows.append(summary_row(f"{name}: peak RSS", run.peak_rss_mib, "MiB"))
    summary = {
        "machine": facts,
        "started_utc": started,
        "finished_utc": utc_now(),
        "quick": quick,
        "benchmarks": {name: asdict(run) for name, run in runs.items()},
        "figures": rows,
        "results": results,
    }
    text = json.dumps(summary, indent=2, default=str)
    write_text_atomic(run_dir / SUMMARY_NAME, text)
    complete = not quick and names == list(BENCHMARKS) and all(run.exit_code == 0 for run in runs.values())
    if complete:
        write_text_atomic(results_dir / LATEST_NAME, text)
    title = (
        f"{'Quick run (figures not comparable)' if quick else 'Benchmarks'}: {facts['cpu_model']}, "
        f"{facts['cpu_cores']} cores, commit {str(facts['git_commit'])[:10]}"
    )
    print_rows(console, title, rows)
    console.print(f"figures in {run_dir}" + (f" and {results_dir / LATEST_NAME}" if complete else ""))
    return max(run.exit_code for run in runs.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: checks the benchmarks run, figures not comparable"
    )
    parser.add_argument(
        "--results-dir", type=Path, default=RESULTS_DIR, help=f"where run folders go (default {RESULTS_DIR})"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the run's database (<run>/data) after the run")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"), help="compare two runs' summaries")
    args = parser.parse_args()
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)  # logs and pipes: rich would wrap the tables at 80 columns
    if args.compare:
        compare(console, *args.compare)
        return
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = [name for name in BENCHMARKS if not args.names or name in args.names]
    sys.exit(run_all(names, args.quick, args.results_dir, args.keep_db, console))


if __name__ == "__main__":
    main()
