"""`search`, `trends`, `export`, `stats`, `doctor`: read the store and print (rich tables) or write files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from groundlens.cli.output import writing
from groundlens.cli.store_access import opened_store, refuse
from groundlens.core.exporting import KINDS, ExportRequest, check_target, run_export
from groundlens.core.safe_output import OutputError
from groundlens.records import ENTITY_TYPES
from groundlens.storage import QueryError, Store
from groundlens.storage.faults import damaged
from groundlens.storage.normalize import normalize_entity
from groundlens.storage.query import parse_period, syntax_text
from groundlens.storage.summaries import COUNTED


@contextmanager
def _store(ctx: click.Context, check: bool = False) -> Iterator[Store]:
    """The data folder's store (see opened_store); a malformed query ends the command with a message (exit 2)."""
    with opened_store(ctx.obj, check) as store:
        try:
            yield store
        except QueryError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(2)


def _when(text: str | None, end: bool, option: str) -> datetime | None:
    """--since takes the start of the period given, --until its end (so --until 2024-01 includes January)."""
    if text is None:
        return None
    try:
        start, stop = parse_period(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not YYYY, YYYY-MM or YYYY-MM-DD", param_hint=option) from None
    return stop if end else start


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


class _QueryCommand(click.Command):
    """`search -obama trump`: an argument that is not one of the command's options is a query word,
    so an exclusion may come first; a mistyped --option is still an error, not a search term, and
    everything after `--` is query."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        flags = set(ctx.help_option_names)
        valued: set[str] = set()
        for param in self.params:
            if isinstance(param, click.Option):
                (flags if param.is_flag else valued).update(param.opts + param.secondary_opts)
        options, words = [], []
        rest = iter(args)
        for arg in rest:
            if arg == "--":
                words += list(rest)
            elif arg in flags or arg.split("=", 1)[0] in valued:
                options.append(arg)
                if arg in valued:  # --limit 5: its value too
                    options.append(next(rest, ""))
            elif arg.startswith("--"):
                raise click.NoSuchOption(arg.split("=", 1)[0], ctx=ctx)
            else:
                words.append(arg)
        return super().parse_args(ctx, [*options, "--", *words])


@click.command(
    "search", cls=_QueryCommand, epilog="\b\n" + syntax_text().replace("\n\n", "\n\n\b\n")
)  # \b: click keeps the lines as written
@click.argument("query_words", metavar="QUERY", nargs=-1, required=True)
@click.option("--entities", "entity_mode", is_flag=True, help="List matching entities instead of posts.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Rows to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per result) instead of a table.")
@click.pass_context
def search_command(
    ctx: click.Context, query_words: tuple[str, ...], entity_mode: bool, limit: int, as_json: bool
) -> None:
    """Search posts (or entities) with the query language below.

    Example: search '"kevin durant" type:PER after:2024-01-01 -trade'

    The words of QUERY may be given as several arguments; an exclusion may come first (search -obama
    trump). A query that looks like one of this command's options goes after -- (search -- --json).
    """
    query = " ".join(query_words)
    console = Console()
    with _store(ctx) as store:
        if entity_mode:
            page: Any = store.search_entities(query, limit=limit)
            total = None
        else:
            page = store.search_posts(query, limit=limit)
            total = store.count_matching(query)
    if as_json:
        for item in page.items:
            click.echo(json.dumps({k: _plain(v) for k, v in asdict(item).items()}, ensure_ascii=False))
        return
    table = Table(title=f"{len(page.items)} of {total} matching posts" if total is not None else None)
    if entity_mode:
        for column in ("entity", "type", "mentions", "posts", "in image", "first seen", "last seen"):
            table.add_column(column, justify="left" if column in ("entity", "type") else "right")
        for e in page.items:
            table.add_row(
                e.name, e.type, str(e.mentions), str(e.posts), str(e.groundable), _day(e.first_seen), _day(e.last_seen)
            )
    else:
        for column in ("id", "created", "author", "source", "entities", "text"):
            table.add_column(
                column,
                justify="right" if column in ("id", "entities") else "left",
                overflow="fold" if column == "text" else "ellipsis",
            )
        for p in page.items:
            table.add_row(
                str(p.id), _day(p.created_at), p.author or "", p.source, str(p.n_entities), " ".join(p.snippet.split())
            )
    if not page.items:
        console.print("No matches.")
        return
    console.print(table)
    if page.has_more:
        console.print(f"[dim]More results: raise --limit (now {limit}).[/dim]")


# how trends count: the option's values and the words the tables say it with
COUNTING = {"originals": COUNTED[False], "all": COUNTED[True]}


@click.command("trends")
@click.option("--entity", "entities", multiple=True, help="Entity name (repeatable): one series per entity.")
@click.option(
    "--type",
    "types",
    multiple=True,
    type=click.Choice(ENTITY_TYPES, case_sensitive=False),
    help="Only mentions of this type (repeatable).",
)
@click.option("--bucket", type=click.Choice(["day", "week"]), default="week", show_default=True)
@click.option("--since", help="First day counted: YYYY, YYYY-MM or YYYY-MM-DD (UTC).")
@click.option("--until", help="Last period counted, inclusive: YYYY, YYYY-MM or YYYY-MM-DD (UTC).")
@click.option(
    "--top",
    default=10,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Also list the N most mentioned entities in the range (0: do not).",
)
@click.option("--include-gold", is_flag=True, help="Count gold mentions too (default: predictions only).")
@click.option(
    "--count",
    "counting",
    type=click.Choice(tuple(COUNTING)),
    default="originals",
    show_default=True,
    help="originals: each post once, retweets left out; all: every post, retweets included (amplification).",
)
@click.pass_context
def trends_command(
    ctx: click.Context,
    entities: tuple[str, ...],
    types: tuple[str, ...],
    bucket: str,
    since: str | None,
    until: str | None,
    top: int,
    include_gold: bool,
    counting: str,
) -> None:
    """Mentions over time: per entity (--entity) or per type, and the top entities of the range."""
    start, end = _when(since, False, "--since"), _when(until, True, "--until")
    kinds = [t.upper() for t in types] or None
    console = Console()
    with _store(ctx) as store:
        retweets = counting == "all"
        series = store.mention_series(list(entities) or None, kinds, bucket, start, end, include_gold, retweets)
        # an entity's series is keyed by its normalised name; head it as the Trends page does, as written
        norms = map(normalize_entity, entities)
        names = {norm: store.entity_profile(norm, include_gold).name or norm for norm in norms}
        leaders = (
            [
                (kind, store.top_entities(start, end, kind, top, include_gold, retweets))
                for kind in ([*kinds] if kinds else [None])
            ]
            if top
            else []
        )
        coverage = store.coverage(start, end)
    keys = list(dict.fromkeys(point.key for point in series))
    title = f"Mentions per {bucket}, {COUNTING[counting]}" + (" (pred + gold)" if include_gold else "")
    table = Table(title=title)
    table.add_column(f"{bucket} of")
    for key in keys:
        table.add_column(names.get(key, key), justify="right")
    by_bucket: dict[date, dict[str, int]] = {}
    for point in series:
        by_bucket.setdefault(point.bucket, {})[point.key] = point.count
    days = 7 if bucket == "week" else 1
    for bucket_start, counts in by_bucket.items():
        partial = " (partial)" if coverage.is_partial(bucket_start, days) else ""
        table.add_row(bucket_start.isoformat() + partial, *(str(counts.get(key, 0)) for key in keys))
    console.print(table if series else "No dated mentions in this range.")
    console.print(coverage.summary(start is not None or end is not None))
    for kind, ranked in leaders:
        if not ranked:
            continue
        top_table = Table(title=f"Top {kind or ''} entities".replace("  ", " "))
        for column in ("#", "entity", "type", "mentions"):
            top_table.add_column(column, justify="right" if column in ("#", "mentions") else "left")
        for rank, item in enumerate(ranked, start=1):
            top_table.add_row(str(rank), item.name, item.type, str(item.count))
        console.print(top_table)


@click.command("export")
@click.argument("out", type=click.Path(writable=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(KINDS),
    default=None,
    help="jsonl: one post per line with entities and regions; csv: one row per mention; "
    "coco: COCO instances with masks; crops: OUT is a folder of one PNG per entity box "
    "with index.csv. Default: from OUT's suffix (.csv, .json), else jsonl.",
)
@click.option("--query", default=None, help="Only posts matching this search query.")
@click.pass_context
def export_command(ctx: click.Context, out: Path, fmt: str | None, query: str | None) -> None:
    """Write posts with their entities (predicted and gold) and regions to OUT.

    OUT appears only when complete (an error leaves no file, or the old one), and is never the database.
    """
    fmt = fmt or {".csv": "csv", ".json": "coco"}.get(out.suffix.lower(), "jsonl")
    request = ExportRequest(fmt, out, query)
    try:
        check_target(request, ctx.obj.db_path)
    except OutputError as error:
        raise click.UsageError(str(error)) from None
    with _store(ctx, check=True) as store, writing(out):
        result = run_export(store, request)
    click.echo(result.summary(request))
    for problem in result.problems:
        click.echo(f"warning: {problem}", err=True)


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_context
def stats_command(ctx: click.Context, as_json: bool) -> None:
    """Counts of posts, media, entities and pipeline jobs in the data folder's database."""
    with _store(ctx) as store:
        counts = store.stats()
    if as_json:
        click.echo(json.dumps(counts, indent=2))
        return
    console = Console()
    overview = Table(title=f"GroundLens database {ctx.obj.db_path}", show_header=False)
    overview.add_row("posts", f"{counts['posts']:,}")
    overview.add_row("distinct entities", f"{counts['distinct_entities']:,}")
    overview.add_row("database size", f"{counts['database_bytes'] / 2**20:,.1f} MiB")
    for status, n in sorted(counts["media"].items()):
        overview.add_row(f"media {status}", f"{n:,}")
    console.print(overview)
    mentions = Table(title="Entity mentions")
    mentions.add_column("type")
    for origin in ("pred", "gold"):
        mentions.add_column(origin, justify="right")
    for kind in ENTITY_TYPES:
        mentions.add_row(kind, *(f"{counts['entities'][o].get(kind, 0):,}" for o in ("pred", "gold")))
    console.print(mentions)
    if counts["jobs"]:
        queue = Table(title="Pipeline jobs")
        queue.add_column("config")
        states = ("pending", "running", "done", "failed")
        for state in states:
            queue.add_column(state, justify="right")
        for key, by_state in counts["jobs"].items():
            queue.add_row(key, *(f"{by_state[s]:,}" for s in states))
        console.print(queue)


@click.command("doctor")
@click.pass_context
def doctor_command(ctx: click.Context) -> None:
    """Check the whole database: SQLite's integrity_check, foreign keys, every full-text index.

    Reads every page (seconds per 100k posts); exit 1 with what is damaged and how to recover.
    """
    path = ctx.obj.db_path
    with opened_store(ctx.obj) as store:
        problems = store.integrity_problems()
    if problems:
        for problem in problems:
            click.echo(f"{path}: {problem}", err=True)
        raise refuse(damaged(path, f"{len(problems)} problem(s), listed above"))
    click.echo(f"{path}: no problems found (integrity check, foreign keys, full-text indexes).")


COMMANDS: list[click.Command] = [search_command, trends_command, export_command, stats_command, doctor_command]
