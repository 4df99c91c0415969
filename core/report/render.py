"""The report as one HTML file that opens offline: every chart and picture is a data: URI inside it,
and it names no web address, so it can be mailed to someone who does not run GroundLens."""

from __future__ import annotations

import base64
from pathlib import Path

from groundlens.core.config import RESOURCES_DIR
from groundlens.core.palette import TYPE_COLORS, TYPE_NAMES
from groundlens.core.report.charts import top_bar_svg, trend_svg
from groundlens.core.report.data import ReportData
from groundlens.core.safe_output import write_text_atomic

TEMPLATE_DIR = RESOURCES_DIR / "report"
TEMPLATE = "report.html.j2"
PAIRS_SHOWN = 20


def data_uri(mime: str, data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"


def plural(count: int, noun: str, nouns: str) -> str:
    """'1 post', '2 posts', '1,204 posts'."""
    return f"{count:,} {noun if count == 1 else nouns}"


def render(data: ReportData) -> str:
    import jinja2  # here, not at the top: the app imports this module at start and needs jinja2 only to write

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True, undefined=jinja2.StrictUndefined
    )
    summary = data.summary
    names = {entity.norm: entity for entity in summary.entities}
    trend, bars = trend_svg(summary.weekly, summary.entities), top_bar_svg(summary.entities)
    return environment.get_template(TEMPLATE).render(
        data=data,
        summary=summary,
        pairs=[(names[p.a], names[p.b], p.posts) for p in summary.pairs[:PAIRS_SHOWN]],
        trend_uri=trend and data_uri("image/svg+xml", trend),
        bars_uri=bars and data_uri("image/svg+xml", bars),
        samples=[
            (sample, sample.overlay_jpeg and data_uri("image/jpeg", sample.overlay_jpeg)) for sample in data.samples
        ],
        plural=plural,
        colors=TYPE_COLORS,
        type_names=TYPE_NAMES,
    )


def write_report(data: ReportData, out: Path) -> None:
    """Written whole or not at all (core.safe_output)."""
    write_text_atomic(out, render(data))
