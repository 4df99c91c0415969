"""`eval`: score an `analyze` output against Twitter-GMNER gold; `train-prior`: fit the groundability prior."""

from __future__ import annotations

import json
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from groundlens.cli.extras import require_extra
from groundlens.cli.output import check_output, writing
from groundlens.cli.pipeline_commands import build_engine, progress_bar, stage_options
from groundlens.cli.training_commands import extra_data_option
from groundlens.core.config import AppPaths
from groundlens.core.datasets.gmner import GmnerFormatError, GmnerPost, dataset_paths, read_split
from groundlens.core.evaluation.masks import read_gold_masks
from groundlens.core.evaluation.predictions import PredictionFile, read_predictions
from groundlens.core.evaluation.scoring import EvalReport
from groundlens.core.ingest.gmner_import import IMAGE_FOLDERS
from groundlens.core.safe_output import write_text_atomic


def _render(report: EvalReport, console: Console) -> None:
    table = Table(title=f"Scores over {report.split_posts} gold posts")
    for column in ("task", "precision", "recall", "F1", "correct", "predicted", "gold"):
        table.add_column(column, justify="left" if column == "task" else "right")
    rows = [("MNER", report.mner), ("EEG", report.eeg), ("GMNER", report.gmner)]
    if report.smner is not None:
        rows.append((f"SMNER ({report.smner.posts} posts)", report.smner.counts))
    for name, counts in rows:
        table.add_row(
            name,
            f"{100 * counts.precision:.2f}",
            f"{100 * counts.recall:.2f}",
            f"{100 * counts.f1:.2f}",
            str(counts.correct),
            str(counts.predicted),
            str(counts.gold),
        )
    console.print(table)
    g = report.groundability
    if g.accuracy is None or g.ungroundable_baseline is None:
        console.print(f"Groundability: none of the {g.found} gold entities found carries a verdict.")
    else:
        console.print(
            f"Groundability on the {g.found} of {g.gold_entities} gold entities found (text and type), "
            f"{g.judged} with a verdict: accuracy {100 * g.accuracy:.2f}% "
            f"(all-ungroundable baseline {100 * g.ungroundable_baseline:.2f}%); "
            f"over all gold entities {100 * g.accuracy_all_gold:.2f}%."
        )
    _render_grounding(report, console)
    if report.smner is not None and report.smner.iou_entities:
        smner = report.smner.to_dict()
        console.print(f"Mean mask IoU over {smner['iou_entities']} found groundable entities: {smner['mean_iou']:.3f}")
    issues = [
        (len(report.missing_ids), "gold posts had no prediction (scored as finding nothing)"),
        (len(report.extra_ids), "predicted ids are not in this split (ignored)"),
        (report.failed_posts, "predictions carry an error (scored as they are)"),
        (report.malformed_lines, f"of {report.prediction_lines} lines were malformed (skipped)"),
        (report.duplicate_ids, "lines repeated an id (the first was kept)"),
    ]
    for count, what in issues:
        if count:
            console.print(f"[yellow]{count} {what}[/yellow]")
    for problem in report.problems:
        console.print(f"  {problem}", style="yellow", markup=False)
    for note in report.not_scored:
        console.print(f"Note: {note}", style="cyan", markup=False)


def _render_grounding(report: EvalReport, console: Console) -> None:
    """Grounding alone, on the gold entities the recogniser found (text and type)."""
    g = report.grounding
    table = Table(title="Grounding of the entities found")
    for column in ("figure", "share", "count", "of"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    rows = [
        ("box hits (groundable, IoU >= 0.5)", g.box_hits, g.groundable_found),
        ("  missed: judged not in the image", g.missed_not_pictured, g.groundable_found),
        ("  missed: judged in it, not located", g.missed_unlocated, g.groundable_found),
        ("  missed: boxed off target (IoU < 0.5)", g.missed_off_target, g.groundable_found),
        ("  people the text does not tell apart", g.unplaced_people, g.groundable_found),
        ("box hits on the others", g.placed_hits, g.placed_found),
        ("false boxes (ungroundable, boxed)", g.false_boxes, g.ungroundable_found),
        ("wrong-name person boxes", g.wrong_name_boxes, g.person_boxes),
    ]
    for name, part, whole in rows:
        table.add_row(name, f"{100 * part / whole:.1f}%" if whole else "n/a", str(part), str(whole))
    console.print(table)
    if g.gold_unplaced_people:
        console.print(
            f"Note: {g.unplaced_people} of the found pictured people are named in posts that name two or more "
            "pictured people without saying who is who (no '(left)', no caption list); without a name tag "
            "GroundLens leaves them unlocated on purpose, since text order alone never picks a box "
            f"(over the whole split: {g.gold_unplaced_people} of {g.gold_groundable} gold groundable entities).",
            style="cyan",
            markup=False,
        )


@click.command("eval")
@click.option(
    "--gold",
    "--dataset",
    "gold_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Dataset folder in the Twitter-GMNER layout (txt/<split>.txt, xml/, images/).",
)
@click.option("--split", default="dev", show_default=True, help="Which txt/<split>.txt to score against.")
@click.option(
    "--pred",
    "pred_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSONL written by `main.py analyze`. Without it, eval runs the pipeline on the split itself "
    "(images from --images-dir) and scores that.",
)
@click.option(
    "--images-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Where <IMGID>.jpg are when eval runs the pipeline (default: the dataset's images/ folder); "
    "a missing image makes that post text-only.",
)
@click.option(
    "--save-pred",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="When eval runs the pipeline, keep its predictions here (the `analyze` output format).",
)
@click.option(
    "--gold-masks",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of <IMGID>.json gold masks (format in core/evaluation/masks.py) to score SMNER.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the full report here as JSON.",
)
@stage_options
@click.pass_obj
def eval_command(
    paths: AppPaths,
    /,
    gold_dir: Path,
    split: str,
    pred_path: Path | None,
    images_dir: Path | None,
    save_pred: Path | None,
    gold_masks: Path | None,
    json_path: Path | None,
    **overrides: Any,
) -> None:
    """Score predictions with the Twitter-GMNER protocol: MNER, EEG, GMNER (and SMNER) P/R/F1, groundability,
    and the grounding figures (box hits, false boxes, people boxed with the wrong name)."""
    require_extra("scipy")
    from groundlens.core.evaluation.scoring import evaluate

    conll, xml_dir = dataset_paths(gold_dir, split)
    if json_path is not None:
        check_output(json_path, {"an input": [p for p in (pred_path, conll, save_pred) if p is not None]})
    if not conll.exists():
        raise click.ClickException(f"no split {split!r}: {conll} does not exist")
    try:
        gold = read_split(conll, xml_dir if xml_dir.is_dir() else None)
    except GmnerFormatError as error:
        raise click.ClickException(f"gold data is malformed: {error}") from None
    if pred_path is None:
        images = images_dir or next((gold_dir / name for name in IMAGE_FOLDERS if (gold_dir / name).is_dir()), None)
        predictions = _predict(paths, overrides, gold, images, save_pred)
    else:
        predictions = read_predictions(pred_path)
    masks = read_gold_masks(gold_masks, [post.image_id for post in gold]) if gold_masks else None
    report = evaluate(gold, predictions, masks)
    _render(report, Console())
    if json_path is not None:
        with writing(json_path):
            write_text_atomic(json_path, json.dumps(report.to_dict(), indent=2))
        click.echo(f"Report written to {json_path}")


def _predict(
    paths: AppPaths, overrides: dict[str, Any], gold: list[GmnerPost], images: Path | None, save_pred: Path | None
) -> PredictionFile:
    """Run the configured pipeline on the gold posts as `analyze` would, and read its output back."""
    from groundlens.core.evaluation.dataset_run import analyze_rows, predict_split

    settings, engine = build_engine(paths, overrides)
    with tempfile.TemporaryDirectory(prefix="groundlens-eval-") as work, closing(engine):
        target = save_pred or Path(work) / "predictions.jsonl"
        with progress_bar() as bar:
            task = bar.add_task("analyzing", total=len(gold), rate="", left="")
            summary = predict_split(
                engine, gold, images, target, settings.batch_size, on_progress=lambda n: bar.advance(task, n)
            )
        with_image = sum(row["image"] is not None for row in analyze_rows(gold, images))
        click.echo(
            f"analyzed {summary.posts} posts ({with_image} with an image from {images}, "
            f"{summary.errors} with errors)" + (f"; predictions in {save_pred}" if save_pred else "")
        )
        return read_predictions(target)


@click.command("train-prior")
@click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Dataset folder in the Twitter-GMNER layout with train and dev splits.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for weights.npz, config.json and MODEL_CARD.md.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the solver (and of the encoder's training).")
@click.option(
    "--kind",
    type=click.Choice(["logistic", "encoder"]),
    default="logistic",
    show_default=True,
    help="logistic: hashed-feature regression, numpy only, seconds to fit. encoder: fine-tuned MiniLM "
    "blended with it (needs torch; about an hour on 2 CPU cores).",
)
@extra_data_option
def train_prior_command(data_dir: Path, out_dir: Path, seed: int, kind: str, extra: tuple[Path, ...]) -> None:
    """Fit the text-only groundability prior on train, choose it on dev, write it with its model card."""
    require_extra("scipy", "sklearn")
    from groundlens.core.training.groundability import save_prior, train_prior

    for split in ("train", "dev"):
        if not dataset_paths(data_dir, split)[0].exists():
            raise click.ClickException(f"{data_dir} has no {split} split (txt/{split}.txt)")
    if kind == "encoder":
        _train_encoder_prior(data_dir, out_dir, seed, extra)
        return
    try:
        prior, report = train_prior(data_dir, seed=seed, extra=extra)
    except (GmnerFormatError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    save_prior(out_dir, prior, report)
    click.echo(
        f"dev accuracy {report.dev_accuracy:.2%} (type only {report.type_only_dev_accuracy:.2%}, "
        f"C={report.c}) on {report.dev_entities} entities; written to {out_dir}"
    )


def _train_encoder_prior(data_dir: Path, out_dir: Path, seed: int, extra: tuple[Path, ...]) -> None:
    from groundlens.core.training.groundability_encoder import EncoderSettings, save_encoder_prior, train_encoder_prior

    settings = EncoderSettings(seed=seed)
    try:
        model, tokenizer, report, logistic = train_encoder_prior(data_dir, settings, log=click.echo, extra=extra)
    except (GmnerFormatError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    save_encoder_prior(out_dir, model, tokenizer, report, logistic, settings)
    click.echo(
        f"dev accuracy {report.dev_accuracy:.2%} ({report.variant}; encoder {report.encoder_dev_accuracy:.2%}, "
        f"logistic {report.logistic_dev_accuracy:.2%}, type only {report.type_only_dev_accuracy:.2%}, "
        f"epoch {report.epoch}) on {report.dev_entities} entities; written to {out_dir}"
    )


COMMANDS = [eval_command, train_prior_command]
