"""The `groundlens` (or `python main.py`) command line: a click group whose subcommands live one group per module.

The top layer: it may import gui/, core/ and storage/; nothing imports it."""

from __future__ import annotations

import logging
import os

import click

from groundlens.cli import (
    correction_commands,
    data_commands,
    eval_commands,
    import_commands,
    model_commands,
    ner_commands,
    pipeline_commands,
    share_commands,
    training_commands,
)
from groundlens.core.config import resolve_paths
from groundlens.core.diagnostics import configure_logging, install_crash_handler

log = logging.getLogger("groundlens")


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Data folder (database, image cache, settings). Default: $GROUNDLENS_DATA_DIR or the per-user data folder.",
)
@click.option("--demo", is_flag=True, help="Open the GUI on the bundled demo data (its own data folder).")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, demo: bool) -> None:
    """GroundLens: find, ground and segment named entities in social-media posts, locally.

    With no subcommand, opens the desktop app.
    """
    ctx.obj = resolve_paths(data_dir)
    configure_logging(ctx.obj.data_dir)  # logs/ and crash-reports/ in the data folder, token redacted
    install_crash_handler(ctx.obj.data_dir)
    log.info(
        "started: %s (process %d, data folder %s)", ctx.invoked_subcommand or "the app", os.getpid(), ctx.obj.data_dir
    )
    if ctx.invoked_subcommand is None:
        from groundlens.gui.app import launch

        raise SystemExit(launch(ctx.obj, demo=demo))


for module in (
    import_commands,
    data_commands,
    share_commands,
    pipeline_commands,
    model_commands,
    ner_commands,
    eval_commands,
    correction_commands,
    training_commands,
):
    for command in module.COMMANDS:
        cli.add_command(command)


def run(argv: list[str] | None = None, prog_name: str = "groundlens") -> None:
    """The console entry point."""
    cli.main(args=argv, prog_name=prog_name)
