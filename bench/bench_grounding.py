"""Grounding accuracy on the repository's own photo set (datasets/grounding-dev), with the default pipeline.

    python -m bench.bench_grounding [--data datasets/grounding-dev] [--split dev] [--pred OUT.jsonl]
                                    [--save-pred OUT.jsonl] [--threads 2] [--json out.json]

Runs the default pipeline (the product's built-in configuration, not the user's saved settings)
on every post through the `analyze` path, then scores it as `main.py eval` does: box hits
(found gold-groundable entities boxed at IoU >= 0.5), false boxes (found gold-ungroundable
entities given a box), people boxed under another gold person's name, MNER/EEG/GMNER F1, and the
seconds per post. `--pred` scores an existing `analyze` output instead of running the pipeline.

Targets (issue 12): box hits >= 80%, false boxes <= 5%, GMNER F1 >= 70.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.results import write_json
from groundlens.core.datasets.gmner import dataset_paths, read_split
from groundlens.core.evaluation.dataset_run import predict_split
from groundlens.core.evaluation.predictions import read_predictions
from groundlens.core.evaluation.scoring import EvalReport, evaluate
from groundlens.core.jobs.engine import LocalEngine
from groundlens.core.settings import Settings

DATASET = Path(__file__).resolve().parent.parent / "datasets" / "grounding-dev"


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def print_figures(report: EvalReport) -> None:
    g = report.grounding
    print(f"box hits      {_rate(g.box_hit_rate):>7}  ({g.box_hits} of {g.groundable_found} found groundable entities)")
    print(
        f"  missed: {g.missed_not_pictured} judged not in the image, {g.missed_unlocated} judged in it but not located, "
        f"{g.missed_off_target} boxed off target (IoU < 0.5)"
    )
    print(
        f"  hits on the others {_rate(g.placed_hit_rate)}  ({g.placed_hits} of "
        f"{g.placed_found}; {g.unplaced_people} found people are named in posts that "
        "do not say who is who)"
    )
    print(
        f"false boxes   {_rate(g.false_box_rate):>7}  ({g.false_boxes} of {g.ungroundable_found} found ungroundable entities)"
    )
    print(
        f"wrong names   {_rate(g.wrong_name_rate):>7}  ({g.wrong_name_boxes} of {g.person_boxes} PER boxes on another person)"
    )
    for name, counts in (("MNER", report.mner), ("EEG", report.eeg), ("GMNER", report.gmner)):
        print(
            f"{name:<6} F1 {100 * counts.f1:6.2f}  (P {100 * counts.precision:.2f}, R {100 * counts.recall:.2f}; "
            f"{counts.correct} correct, {counts.predicted} predicted, {counts.gold} gold)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATASET)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--pred", type=Path, default=None, help="score this analyze output instead of running")
    parser.add_argument("--save-pred", type=Path, default=None, help="keep the predictions here")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", dest="json_path", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    conll, xml_dir = dataset_paths(args.data, args.split)
    gold = read_split(conll, xml_dir)
    seconds = None
    pred_path = args.pred
    if pred_path is None:
        settings = Settings(threads=args.threads)
        print(f"pipeline {settings.pipeline.describe()} on {len(gold)} posts of {args.data}")
        engine = LocalEngine(settings)
        pred_path = args.save_pred or Path(tempfile.mkdtemp(prefix="bench-grounding-")) / "predictions.jsonl"
        started = time.perf_counter()
        predict_split(engine, gold, args.data / "images", pred_path)
        seconds = time.perf_counter() - started
        print(f"{seconds / len(gold):.2f} s/post; predictions in {pred_path}")
    report = evaluate(gold, read_predictions(pred_path))
    print_figures(report)
    write_json(
        args.json_path,
        "bench_grounding",
        {
            "dataset": str(args.data),
            "posts": len(gold),
            "seconds": seconds,
            "s_per_post": seconds / len(gold) if seconds else None,
            "box_hit_rate": report.grounding.box_hit_rate,
            "false_box_rate": report.grounding.false_box_rate,
            "wrong_name_rate": report.grounding.wrong_name_rate,
            "grounding": report.grounding.to_dict(),
            "mner_f1": report.mner.f1,
            "eeg_f1": report.eeg.f1,
            "gmner_f1": report.gmner.f1,
        },
    )


if __name__ == "__main__":
    main()
