"""`report` and `network`: a search's findings as files to share (an offline HTML report, a GEXF graph)."""

from __future__ import annotations

from pathlib import Path

import click

from groundlens.cli.data_commands import _store
from groundlens.cli.output import check_output, writing
from groundlens.core import network
from groundlens.core.report import gather, write_report
from groundlens.core.safe_output import database_files


@click.command("report")
@click.option("--query", default=None, help="The posts matching this search query (default: every post).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The HTML file to write.")
@click.option("--top", default=15, show_default=True, type=click.IntRange(1, 200), help="Top entities listed.")
@click.option(
    "--samples",
    default=6,
    show_default=True,
    type=click.IntRange(0, 100),
    help="Sample posts shown with their pictures drawn over.",
)
@click.option("--title", default=None, help="The report's title (default: names the query).")
@click.pass_context
def report_command(ctx: click.Context, query: str | None, out: Path, top: int, samples: int, title: str | None) -> None:
    """One offline HTML file: top entities, a trend chart, co-mentioned entities and sample posts with
    their boxes and masks, every image embedded (it names no web address)."""
    check_output(out, {"the database": database_files(ctx.obj.db_path)})
    with _store(ctx) as store, writing(out):
        data = gather(store, query, top=top, samples=samples, title=title)
        write_report(data, out)
    click.echo(f"Wrote a report on {data.summary.posts} posts ({len(data.samples)} samples) to {out}.")


@click.command("network")
@click.option("--query", default=None, help="The posts matching this search query (default: every post).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .gexf file to write.")
@click.option(
    "--nodes",
    default=network.DEFAULT_NODES,
    show_default=True,
    type=click.IntRange(1, 2000),
    help="Entities in the graph: those mentioned in the most posts.",
)
@click.pass_context
def network_command(ctx: click.Context, query: str | None, out: Path, nodes: int) -> None:
    """The co-occurrence network of a search as GEXF (for Gephi): entities as nodes coloured by type,
    edges weighted by the number of posts mentioning both."""
    check_output(out, {"the database": database_files(ctx.obj.db_path)})
    with _store(ctx) as store, writing(out):
        graph = network.build_graph(store, query, nodes=nodes)
        network.write_gexf(graph, out)
    click.echo(f"Wrote {graph.number_of_nodes()} entities and {graph.number_of_edges()} links to {out}.")


COMMANDS: list[click.Command] = [report_command, network_command]
