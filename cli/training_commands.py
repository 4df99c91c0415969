"""`export-training`: the analyst's corrected posts as training data for `train-ner --extra` and `train-prior --extra`."""

from __future__ import annotations

from pathlib import Path

import click

from groundlens.cli.store_access import opened_store


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
