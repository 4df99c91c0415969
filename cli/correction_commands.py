"""`corrections list | revert | restore | export`: the analyst's corrections from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from groundlens.cli.output import check_output, writing
from groundlens.cli.store_access import opened_store
from groundlens.core.safe_output import atomic_output, database_files
from groundlens.storage import Store
from groundlens.storage.corrections import KINDS, Correction

_DAY_OR_MOMENT = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])


def _filters(function: Any) -> Any:
    """The options every listing command takes, in the order --help shows them."""
    options = [
        click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only this kind (repeatable)."),
        click.option("--author", default=None, help="Only corrections by this user."),
        click.option(
            "--post", "post_ids", multiple=True, type=int, help="Only corrections of this post id (repeatable)."
        ),
        click.option(
            "--since", type=_DAY_OR_MOMENT, default=None, help="Made at or after this UTC time (YYYY-MM-DD[THH:MM])."
        ),
        click.option(
            "--until", type=_DAY_OR_MOMENT, default=None, help="Made before this UTC time (YYYY-MM-DD[THH:MM])."
        ),
        click.option("--in-force", is_flag=True, help="Leave out reverted corrections."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


def _select(
    store: Store,
    kinds: tuple[str, ...],
    author: str | None,
    post_ids: tuple[int, ...],
    since: datetime | None,
    until: datetime | None,
    in_force: bool,
    limit: int | None,
) -> list[Correction]:
    return store.corrections(
        post_ids or None,
        kinds=kinds or None,
        author=author,
        since=_utc(since),
        until=_utc(until),
        include_reverted=not in_force,
        limit=limit,
    )


@click.group("corrections")
def corrections_group() -> None:
    """The analyst's corrections: list them, revert or restore one, export them as JSONL.

    Corrections are kept apart from predictions: a pipeline re-run never overwrites them, and every
    view (search, trends, entity pages, exports) shows the corrected mentions.
    """


@corrections_group.command("list")
@_filters
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000), help="Rows to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one correction per line) instead of a table.")
@click.pass_context
def list_command(
    ctx: click.Context,
    kinds: tuple[str, ...],
    author: str | None,
    post_ids: tuple[int, ...],
    since: datetime | None,
    until: datetime | None,
    in_force: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Corrections matching every filter given, newest first."""
    with opened_store(ctx.obj) as store:
        found = _select(store, kinds, author, post_ids, since, until, in_force, limit)
    if as_json:
        for correction in found:
            click.echo(json.dumps(correction.record(), ensure_ascii=False))
        return
    if not found:
        click.echo("No corrections.")
        return
    table = Table(title=f"{len(found)} correction(s), newest first")
    for column in ("id", "made", "author", "post", "correction", "status"):
        table.add_column(column, justify="right" if column in ("id", "post") else "left")
    for c in found:
        table.add_row(
            str(c.id),
            c.created_at.strftime("%Y-%m-%d %H:%M"),
            c.author,
            "" if c.post_id is None else str(c.post_id),
            c.describe(),
            c.status,
        )
    Console().print(table)


def _flip(ctx: click.Context, ids: tuple[int, ...], revert: bool) -> None:
    """Each id on its own: one that does not exist is reported and the others are still done (exit 1 then)."""
    missing = []
    with opened_store(ctx.obj, check=True) as store:
        for correction_id in ids:
            try:
                found = store.revert_correction(correction_id) if revert else store.restore_correction(correction_id)
            except (KeyError, ValueError) as error:
                missing.append(correction_id)
                click.echo(f"error: correction {correction_id}: {str(error).strip(chr(39))}", err=True)
                continue
            click.echo(f"{correction_id}: {found.describe()} ({found.status})")
    if missing:
        raise click.exceptions.Exit(1)


@corrections_group.command("revert")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.pass_context
def revert_command(ctx: click.Context, ids: tuple[int, ...]) -> None:
    """Take back corrections by id: the views show the predictions again (the corrections stay listed)."""
    _flip(ctx, ids, revert=True)


@corrections_group.command("restore")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.pass_context
def restore_command(ctx: click.Context, ids: tuple[int, ...]) -> None:
    """Put reverted corrections back in force, by id."""
    _flip(ctx, ids, revert=False)


@corrections_group.command("export")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@_filters
@click.pass_context
def export_command(
    ctx: click.Context,
    out: Path,
    kinds: tuple[str, ...],
    author: str | None,
    post_ids: tuple[int, ...],
    since: datetime | None,
    until: datetime | None,
    in_force: bool,
) -> None:
    """Write the corrections matching the filters to OUT as JSONL, oldest first, one per line, with the
    post's source and native id (which identify it in any database). OUT appears only when complete."""
    check_output(out, {"the database": database_files(ctx.obj.db_path)})
    with opened_store(ctx.obj, check=True) as store, writing(out), atomic_output(out, newline="") as handle:
        found = _select(store, kinds, author, post_ids, since, until, in_force, None)[::-1]
        posts = store.get_posts(sorted({c.post_id for c in found if c.post_id is not None}))
        for correction in found:
            post = posts.get(correction.post_id)  # type: ignore[arg-type]
            record = {**correction.record(), "source": post and post.source, "native_id": post and post.native_id}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    click.echo(f"Wrote {len(found)} corrections to {out}.")


COMMANDS: list[click.Command] = [corrections_group]
