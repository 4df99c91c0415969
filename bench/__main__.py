"""`python -m bench`: run every benchmark, one process each, then a summary of how each ran.

Each benchmark prints its own figures with their targets; separate processes keep one
benchmark's threads, caches and peak memory from colouring the next one's figures.
`--quick` runs each with small sizes: a smoke run whose figures are not comparable.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

BENCHMARKS: dict[str, list[str]] = {
    "bench_store": ["--posts", "100000"],
    "bench_ner": [],
    "bench_groundability": [],
    "bench_segmentation": [],
    "bench_pipeline": [],
    "bench_gui": [],
}
QUICK: dict[str, list[str]] = {
    "bench_store": ["--posts", "5000", "--repeat", "10"],
    "bench_ner": ["--repeat", "1"],
    "bench_groundability": [],
    "bench_segmentation": ["--repeat", "1", "--no-vit-b"],
    "bench_pipeline": ["--sam-posts", "0"],
    "bench_gui": ["--posts", "5000", "--skip-pipeline"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the benchmarks run, figures not comparable")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    summary = []
    for name in args.names or BENCHMARKS:
        arguments = (QUICK if args.quick else BENCHMARKS)[name]
        print(f"\n=== {name} {' '.join(arguments)}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}", *arguments])
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        summary.append((name, code, time.perf_counter() - started, peak_mib))
    print("\nbenchmark             exit   wall s   peak RSS so far (MiB)")
    for name, code, seconds, peak in summary:
        print(f"{name:<20} {code:>5} {seconds:>8.1f} {peak:>10.0f}")
    sys.exit(max(code for _, code, _, _ in summary))


if __name__ == "__main__":
    main()
