"""Image analyser cost on the demo photos:
`python -m bench.bench_vision [--repeat 3] [--threads 2] [--json out.json]`.

For each registered analyser (NanoDet-m, BlazeFace short + full range, PP-OCRv6 through
rapidocr) prints the model load time and the wall and CPU milliseconds per photo (median over
every photo and repeat; the photos are decoded beforehand and each call gets a fresh copy, so
neither decoding nor an analyser's last-image memo is counted). The cores are shared: compare
runs, not single numbers.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from PIL import Image

from bench.results import write_json
from groundlens.core.config import RESOURCES_DIR
from groundlens.core.pipeline.vision.registry import available_analysers, create_analyser

IMAGES = sorted((RESOURCES_DIR / "demo" / "images").glob("*.jpg"))


def analyse(analyser, image: Image.Image) -> int:
    found = analyser.read(image) if hasattr(analyser, "read") else analyser.detect(image)
    return len(found)


def bench_analyser(name: str, images: list[Image.Image], repeat: int, threads: int) -> dict[str, float]:
    start = time.perf_counter()
    analyser = create_analyser(name, threads=threads)
    load_s = time.perf_counter() - start
    analyse(analyser, images[0].copy())  # warm-up: first-call allocations
    wall_ms, cpu_ms, found = [], [], 0
    for _ in range(repeat):
        for image in images:
            fresh = image.copy()
            wall, cpu = time.perf_counter(), time.process_time()
            found += analyse(analyser, fresh)
            cpu_ms.append((time.process_time() - cpu) * 1000)
            wall_ms.append((time.perf_counter() - wall) * 1000)
    return {
        "load_s": round(load_s, 3),
        "ms_per_image_median": round(statistics.median(wall_ms), 1),
        "ms_per_image_mean": round(statistics.mean(wall_ms), 1),
        "cpu_ms_per_image_median": round(statistics.median(cpu_ms), 1),
        "found_per_image": round(found / len(wall_ms), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads per analyser")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    images = [Image.open(path).convert("RGB") for path in IMAGES]
    figures: dict[str, object] = {"images": len(images), "repeat": args.repeat, "threads": args.threads}
    print(f"{len(images)} demo photos x {args.repeat}, {args.threads} threads")
    print(f"{'analyser':<10} {'load s':>7} {'ms/image':>9} {'mean':>7} {'cpu ms':>7} {'found':>6}")
    for name in available_analysers():
        row = bench_analyser(name, images, args.repeat, args.threads)
        figures[name] = row
        print(
            f"{name:<10} {row['load_s']:>7.2f} {row['ms_per_image_median']:>9.1f} {row['ms_per_image_mean']:>7.1f} "
            f"{row['cpu_ms_per_image_median']:>7.1f} {row['found_per_image']:>6.2f}"
        )
    write_json(args.json, "bench_vision", figures)


if __name__ == "__main__":
    main()
