"""The report's charts with matplotlib's Agg backend (no display, no Qt), as SVG text to embed."""

from __future__ import annotations

from datetime import date
from io import StringIO
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure

from groundlens.core.palette import type_hex
from groundlens.storage.summaries import EntityCount


def trend_svg(weekly: dict[str, dict[date, int]], entities: list[EntityCount]) -> str | None:
    """Mentions per week of the given entities, one line each; None when no mention has a date."""
    named = {entity.norm: entity for entity in entities}
    series = {norm: points for norm, points in weekly.items() if any(points.values())}
    if not series:
        return None
    figure = Figure(figsize=(8, 3.2), dpi=100)
    axes = figure.add_subplot()
    for norm, points in series.items():
        entity = named.get(norm)
        weeks: list[Any] = sorted(points)  # matplotlib plots dates; its stubs name only numbers
        axes.plot(
            weeks,
            [points[week] for week in weeks],
            marker="o",
            markersize=3,
            label=entity.name if entity else norm,
        )
    axes.set_ylabel("mentions per week")
    axes.legend(fontsize="small", frameon=False, loc="upper left")
    axes.spines[["top", "right"]].set_visible(False)
    figure.autofmt_xdate()
    figure.tight_layout()
    return _svg(figure)


def top_bar_svg(entities: list[EntityCount]) -> str | None:
    """The top entities as horizontal bars in their type's colour (posts mentioning each)."""
    if not entities:
        return None
    shown = list(reversed(entities))
    figure = Figure(figsize=(8, 0.3 * len(shown) + 0.8), dpi=100)
    axes = figure.add_subplot()
    axes.barh([e.name for e in shown], [e.count for e in shown], color=[type_hex(e.type) for e in shown])
    axes.set_xlabel("posts mentioning it")
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return _svg(figure)


def _svg(figure: Figure) -> str:
    """Same data, same bytes: no date in the metadata, element ids from a fixed salt."""
    buffer = StringIO()
    with rc_context({"svg.hashsalt": "groundlens"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
