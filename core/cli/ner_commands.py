"""`train-ner`: fine-tune the entity recogniser on Twitter-GMNER text."""

from __future__ import annotations

from pathlib import Path

import click

from core.config import RESOURCES_DIR


@click.command("train-ner")
@click.option("--data", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Twitter-GMNER folder (txt/train.txt, txt/dev.txt).")
@click.option("--out", default=RESOURCES_DIR / "models" / "ner", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder to write the model and MODEL_CARD.md to.")
@click.option("--epochs", default=6, show_default=True, type=click.IntRange(min=1))
@click.option("--base", default=None, help="Encoder folder or hub id [default: the packaged all-MiniLM-L6-v2].")
@click.option("--seed", default=13, show_default=True, type=int)
@click.option("--word-shapes/--no-word-shapes", default=True, show_default=True,
              help="Feed word case shapes through the token-type embeddings.")
def train_ner(data: Path, out: Path, epochs: int, base: str | None, seed: int, word_shapes: bool) -> None:
    """Train the NER model: fit on train, choose on dev, write a transformers folder."""
    from core.training.train_ner import TrainConfig, train

    config = TrainConfig(data=data, out=out, base=base, epochs=epochs, seed=seed, word_shapes=word_shapes)
    scores = train(config, log=click.echo)
    click.echo(f"saved to {out}; dev MNER {scores['ALL']}")


COMMANDS = [train_ner]
