"""`export-training`: the analyst's corrected posts as training data for `train-ner --extra` and `train-prior --extra`."""

from __future__ import annotations

from pathlib import Path

import click

from groundlens.cli.store_access import opened_store

# `train-ner --extra` and `train-prior --extra`: the folders `export-training` writes, among others
extra_data_option = click.option(
    "--extra",
    "extra",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Another folder in the Twitter-GMNER layout (e.g. exported corrected posts) whose train split is "
    "added to the training posts; dev still chooses the model. Repeatable.",
)


@click.command("export-training")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def export_training(ctx: click.Context, out: Path) -> None:
    """Write every post with a correction in force, as corrected, to the new folder OUT in the
    Twitter-GMNER layout (txt/train.txt CoNLL, xml/<id>.xml VOC boxes)."""
    from groundlens.core.training.export_corrected import export_corrected

    with opened_store(ctx.obj, check=True) as store:
        try:
            summary = export_corrected(store, out)
        except FileExistsError as error:
            raise click.ClickException(str(error)) from None
    click.echo(
        f"Wrote {summary.posts} corrected posts ({summary.entities} entities, {summary.boxes} boxes) to {out}; "
        f"train on them with --extra {out}"
    )


COMMANDS: list[click.Command] = [export_training]
