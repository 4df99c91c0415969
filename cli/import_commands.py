"""`import` (files, folders, datasets; --retry-images) and `x` (search, timeline, stream via the X API).

Exit codes: 0 every item went in, 1 some items or images failed (each listed on stderr),
2 usage errors (click's own). Ctrl-C stops at the next item and still prints what got in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from groundlens.cli.store_access import opened_store
from groundlens.core.config import AppPaths
from groundlens.core.diagnostics import log_file
from groundlens.core.ingest import (
    FORMATS,
    ImportProgress,
    ImportReport,
    credentials,
    fetch_images,
    import_items,
    import_paths,
    x_api,
)
from groundlens.storage import Store

log = logging.getLogger(__name__)
Work = Callable[[Store, Callable[[ImportProgress], None], threading.Event], ImportReport]


def _run(app: AppPaths, work: Work) -> ImportReport:
    """Run `work` in a thread under a rich progress display; Ctrl-C cancels it: the import stops at once
    (downloads in flight are abandoned, their images stay pending) and what it stored is kept."""
    app.image_cache_dir.mkdir(parents=True, exist_ok=True)  # also makes the data folder
    console = Console(stderr=True)
    cancel = threading.Event()
    result: list[ImportReport] = []
    with (
        opened_store(app, check=True) as store,
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar,
    ):
        posts = bar.add_task("posts", total=None)
        images = bar.add_task("images", total=0)

        def show(tick: ImportProgress) -> None:
            bar.update(posts, completed=tick.posts_done, description=f"posts  {tick.source[-40:]}")
            bar.update(images, completed=tick.images_done, total=tick.images_total)

        finished = threading.Event()

        def run() -> None:
            try:
                result.append(work(store, show, cancel))
            finally:
                finished.set()

        # Waited for with an Event, not Thread.join: a Ctrl-C inside join() marks the thread stopped while it
        # still runs (Python 3.11, bpo-45274), and a second join() then returned at once, without the report.
        threading.Thread(target=run, name="import", daemon=True).start()
        try:
            while not finished.wait(0.2):
                pass
        except KeyboardInterrupt:
            console.print("[yellow]stopping: keeping what is stored, abandoning downloads in flight...[/]")
            log.info("import cancelled (Ctrl-C)")
            cancel.set()
            finished.wait()
    if not result:  # the crash handler has written the traceback to the crash report and the log
        where = log_file() or "the crash report"
        raise click.ClickException(f"the import stopped on an internal error (details in {where})")
    return result[0]


def _finish(report: ImportReport) -> None:
    for error in report.errors:
        click.echo(str(error), err=True)
    click.echo(report.summary())
    if report.cancelled and not report.stopped:
        click.echo(
            "Cancelled: the posts counted above are stored. Run the same import again to read the rest; "
            "images not downloaded stay pending (`import --retry-images` fetches them).",
            err=True,
        )
    click.get_current_context().exit(0 if report.ok else 1)


@click.command("import")
@click.argument("inputs", metavar="[PATH]...", nargs=-1, type=click.Path(exists=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Input format; detected from each path's name and content when left out.",
)
@click.option(
    "--images-dir",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Folder that relative image names (and the Twitter-GMNER <id>.jpg files) are looked up in.",
)
@click.option(
    "--no-download", is_flag=True, help="Store image URLs without fetching them (fetch later with --retry-images)."
)
@click.option("--copy-images", is_flag=True, help="Copy local image files into the data folder's image cache.")
@click.option("--retry-images", is_flag=True, help="Fetch images left pending or failed by earlier imports.")
@click.pass_obj
def import_command(
    app: AppPaths,
    inputs: tuple[str, ...],
    fmt: str | None,
    images_dir: str | None,
    no_download: bool,
    copy_images: bool,
    retry_images: bool,
) -> None:
    """Import posts from PATHs: twarc2/flattened JSONL, X archive tweets.js, CSV, image folders, Twitter-GMNER."""
    if not inputs and not retry_images:
        raise click.UsageError("give at least one PATH, or --retry-images")

    def work(store: Store, show, cancel: threading.Event) -> ImportReport:
        report = import_paths(
            store,
            inputs,
            format=fmt,
            images_dir=images_dir,
            download=not no_download,
            progress=show,
            cancel=cancel,
            copy_images=copy_images,
        )
        if retry_images and not (cancel.is_set() or report.stopped):
            report.absorb(fetch_images(store, progress=show, cancel=cancel))
        return report

    _finish(_run(app, work))


def _client_token() -> str:
    token = credentials.load_token()
    if not token:
        raise click.UsageError(f"no X API bearer token: set ${credentials.TOKEN_ENV} or save it in the app's settings")
    return token


@click.group("x")
def x_group() -> None:
    """Import posts from the X API v2 (needs a bearer token)."""


_max = click.option("--max", "max_posts", type=click.IntRange(min=1), default=None, help="Stop after this many posts.")
_no_download = click.option("--no-download", is_flag=True, help="Store image URLs without fetching them.")


def _import_from_api(app: AppPaths, source: str, items_for, no_download: bool, batch_size: int = 100) -> None:
    def work(store: Store, show, cancel: threading.Event) -> ImportReport:
        return import_items(
            store,
            items_for(cancel),
            source,
            download=not no_download,
            progress=show,
            cancel=cancel,
            batch_size=batch_size,
        )

    _finish(_run(app, work))


def _paged_command(name: str, argument: str, help_text: str, items) -> click.Command:
    """`x search QUERY` and `x timeline USER`: one paged API call each, the same options."""

    @x_group.command(name, help=help_text)
    @click.argument(argument)
    @_max
    @_no_download
    @click.pass_obj
    def command(app: AppPaths, /, max_posts: int | None, no_download: bool, **values: str) -> None:
        client = x_api.make_client(_client_token())
        value = values[argument]
        _import_from_api(
            app,
            f"{name} {value!r}",
            lambda cancel: items(client, value, max_posts=max_posts, cancel=cancel),
            no_download,
        )

    return command


_paged_command("search", "query", "Recent posts (last 7 days) matching QUERY, in X search syntax.", x_api.search_recent)
_paged_command(
    "timeline", "user", "USER's posts (a username, with or without @, or a numeric id).", x_api.user_timeline
)


@x_group.command("stream")
@click.argument("rules", nargs=-1)
@_max
@_no_download
@click.pass_obj
def x_stream(app: AppPaths, rules: tuple[str, ...], max_posts: int | None, no_download: bool) -> None:
    """The filtered stream (adding RULES first if new) until Ctrl-C or --max posts."""
    stream, lines = x_api.make_stream(_client_token())
    _import_from_api(
        app,
        "stream",
        lambda cancel: x_api.stream_posts(stream, lines, rules=list(rules), max_posts=max_posts, cancel=cancel),
        no_download,
        batch_size=1,
    )


COMMANDS: list[click.Command] = [import_command, x_group]
