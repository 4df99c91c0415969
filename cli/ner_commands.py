"""`train-ner`: fine-tune the entity recogniser on Twitter-GMNER text."""

from __future__ import annotations

from pathlib import Path

import click

from groundlens.cli.training_commands import extra_data_option


def parse_seeds(value: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {value!r}") from None
    if len(set(seeds)) != len(seeds):
        raise click.BadParameter(f"each seed once, got {value!r}")
    return seeds


@click.command("train-ner")
@click.option(
    "--data",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Twitter-GMNER folder (txt/train.txt, txt/dev.txt).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the model and MODEL_CARD.md to (use it with the ner option model_dir).",
)
@click.option("--epochs", default=6, show_default=True, type=click.IntRange(min=1))
@click.option("--base", default=None, help="Encoder folder or hub id [default: the packaged all-MiniLM-L6-v2].")
@click.option("--seed", default=13, show_default=True, type=int)
@click.option(
    "--word-shapes/--no-word-shapes",
    default=True,
    show_default=True,
    help="Feed word case shapes through the token-type embeddings.",
)
@click.option(
    "--mention-swap",
    default=0.3,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Chance per post and epoch that its entities are replaced by other training entities of the same type.",
)
@click.option(
    "--order-seeds",
    default="13",
    show_default=True,
    callback=lambda _c, _p, v: parse_seeds(v),
    help="Comma-separated seeds: one run per batch order, the runs' weights averaged when that scores higher on dev.",
)
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    help="CPU threads; results are reproducible for the same seeds and thread count.",
)
@extra_data_option
def train_ner(
    data: Path,
    out: Path,
    epochs: int,
    base: str | None,
    seed: int,
    word_shapes: bool,
    mention_swap: float,
    order_seeds: tuple[int, ...],
    threads: int,
    extra: tuple[Path, ...],
) -> None:
    """Train the NER model: fit on train (plus --extra folders), choose on dev, write a transformers folder."""
    from groundlens.core.datasets.gmner import GmnerFormatError
    from groundlens.core.training.train_ner import TrainConfig, train

    config = TrainConfig(
        data=data,
        out=out,
        base=base,
        epochs=epochs,
        seed=seed,
        word_shapes=word_shapes,
        mention_swap=mention_swap,
        order_seeds=order_seeds,
        threads=threads,
        extra=extra,
    )
    try:
        scores = train(config, log=click.echo)
    except GmnerFormatError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"saved to {out}; dev MNER {scores['ALL']}")


COMMANDS = [train_ner]
