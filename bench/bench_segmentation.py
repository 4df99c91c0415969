"""Segmentation cost on the demo photos:
`python -m bench.bench_segmentation [--repeat 2] [--boxes 4] [--no-vit-b] [--json out.json]`.

Prints the MobileSAM image encoder time per image, the prompt encoder + mask decoder time per
box (including the upscale to original size), and SAM ViT-B's encoder time at the same input
size (random weights: the architecture fixes the cost) for the ratio. The cores are shared,
so read the best of several runs; CPU seconds / threads approximates wall time on idle cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from bench.results import write_json
from groundlens.core.config import RESOURCES_DIR
from groundlens.core.modelstore import require
from groundlens.core.pipeline.pipeline import load_image
from groundlens.core.pipeline.segmentation.build_sam import build_mobile_sam, build_sam_vit
from groundlens.core.pipeline.segmentation.predictor import SamSegmenter, valid_boxes

IMAGES = sorted((RESOURCES_DIR / "demo" / "images").glob("*.jpg"))


def boxes_for(image: Image.Image, count: int) -> list[tuple[float, float, float, float]]:
    """`count` boxes spread over the image: quarters, centre, whole."""
    w, h = image.size
    layout = [
        (0, 0, w / 2, h / 2),
        (w / 2, 0, w, h / 2),
        (0, h / 2, w / 2, h),
        (w / 2, h / 2, w, h),
        (w / 4, h / 4, 3 * w / 4, 3 * h / 4),
        (0, 0, w, h),
    ]
    return [layout[i % len(layout)] for i in range(count)]


@dataclass
class Timings:
    """Wall seconds, and CPU seconds of this process (less sensitive to other loads on shared cores)."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, wall: float, cpu: float, per: int = 1) -> None:
        self.wall.append(wall / per)
        self.cpu.append(cpu / per)

    def report(self, label: str, unit: str) -> dict[str, float]:
        """Print the figures and return them; the CPU median is the steadier basis for ratios on shared cores."""
        figures = {
            "wall_best_s": min(self.wall),
            "wall_median_s": statistics.median(self.wall),
            "cpu_median_s": statistics.median(self.cpu),
            "n": len(self.wall),
        }
        print(
            f"{label}: wall best {figures['wall_best_s']:.3f} s, median {figures['wall_median_s']:.3f} s; "
            f"CPU median {figures['cpu_median_s']:.3f} s {unit} (n={len(self.wall)})"
        )
        return figures


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def measure(segmenter: SamSegmenter, images: list[Path], repeat: int, boxes: int) -> tuple[Timings, Timings]:
    """Encoder time per image, and prompt + decoder time per box (none when `boxes` is 0)."""
    encode, decode = Timings(), Timings()
    for _ in range(repeat):
        for path in images:
            image = load_image(path)  # as displayed (EXIF orientation), like the pipeline
            wall, cpu = clock()
            embedding = segmenter.embed(image)
            encode.add(time.perf_counter() - wall, time.process_time() - cpu)
            if boxes:
                prompts = valid_boxes(boxes_for(image, boxes), image.width, image.height)
                wall, cpu = clock()
                segmenter.decode(embedding, prompts)
                decode.add(time.perf_counter() - wall, time.process_time() - cpu, per=boxes)
    return encode, decode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--boxes", type=int, default=4, help="boxes per image for the decoder figure")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-vit-b", action="store_true", help="skip the slow SAM ViT-B encoder figure")
    parser.add_argument("--json", dest="json_path", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    mobile = SamSegmenter(build_mobile_sam(require("mobile_sam")), name="mobile_sam", version="bench")
    mobile.embed(load_image(IMAGES[0]))  # warm-up
    print(
        f"{len(IMAGES)} demo photos, {args.threads} threads, encoder input 1024 px, load average {os.getloadavg()[0]:.1f}"
    )
    encode, decode = measure(mobile, IMAGES, args.repeat, args.boxes)
    mobile_sam = {"encoder": encode.report("MobileSAM encoder", "per image")}
    if args.boxes:
        mobile_sam["decoder_per_box"] = decode.report(
            f"prompt encoder + mask decoder ({args.boxes} boxes/image, one batch)", "per box"
        )
    report: dict[str, object] = {
        "images": len(IMAGES),
        "threads": args.threads,
        "boxes_per_image": args.boxes,
        "mobile_sam": mobile_sam,
    }
    if not args.no_vit_b:
        vit_b = SamSegmenter(build_sam_vit("vit_b"), name="sam", version="random-init")
        vit_encoder = measure(vit_b, IMAGES[:2], 1, 0)[0].report("SAM ViT-B encoder", "per image")
        report["sam_vit_b"] = {"encoder": vit_encoder}
        report["vit_b_over_mobile_cpu"] = ratio = vit_encoder["cpu_median_s"] / mobile_sam["encoder"]["cpu_median_s"]
        print(f"SAM ViT-B / MobileSAM encoder CPU time: {ratio:.1f}x")
    write_json(args.json_path, "bench_segmentation", report)


if __name__ == "__main__":
    main()
