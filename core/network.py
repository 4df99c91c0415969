"""The co-occurrence network of a search: entities as nodes (coloured by type), an edge wherever two
share posts, weighted by how many. One graph for the app's Network page, the `network` command and
the GEXF file Gephi opens; its layout is seeded, so the same search always gives the same picture."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from groundlens.core.palette import type_hex
from groundlens.core.safe_output import atomic_output
from groundlens.storage import Store
from groundlens.storage.export import chosen_ids

if TYPE_CHECKING:  # networkx is imported where a graph is built: 285 modules the app need not load at start
    import networkx as nx

DEFAULT_NODES = 40
LAYOUT_SEED = 7


@dataclass(frozen=True)
class NodePlace:
    norm: str
    name: str
    type: str
    posts: int
    x: float
    y: float


def build_graph(store: Store, query: str | None, ids: list[int] | None = None, nodes: int = DEFAULT_NODES) -> nx.Graph:
    """The `nodes` entities mentioned in the most posts of the search (or selection), and the posts each
    pair shares. Node attributes: label, type, posts, viz colour; edge attribute: weight."""
    import networkx as nx

    summary = store.summarize_posts(chosen_ids(store, query, ids), top=nodes)
    graph = nx.Graph(query=query or "", posts=summary.posts)
    for entity in summary.entities:
        red, green, blue = (int(type_hex(entity.type)[i : i + 2], 16) for i in (1, 3, 5))
        graph.add_node(
            entity.norm,
            label=entity.name,
            type=entity.type,
            posts=entity.count,
            viz={"color": {"r": red, "g": green, "b": blue, "a": 1.0}},
        )
    for pair in summary.pairs:
        graph.add_edge(pair.a, pair.b, weight=pair.posts)
    return graph


def layout(graph: nx.Graph) -> list[NodePlace]:
    """Positions in [-1, 1]: each group of connected entities laid out on its own (a spring layout with a
    fixed seed) and the groups set side by side in rows, largest first, so unconnected groups neither fly
    apart nor pile up. Nodes are sorted first, so the same graph always gives the same picture."""
    import networkx as nx

    ordered = nx.Graph()
    ordered.add_nodes_from(sorted(graph.nodes(data=True)))
    ordered.add_edges_from(sorted(graph.edges(data=True)))
    groups = sorted((sorted(group) for group in nx.connected_components(ordered)), key=lambda g: (-len(g), g[0]))
    positions: dict[str, tuple[float, float]] = {}
    row_width = 2.4 * math.sqrt(len(ordered))  # about as wide as tall in the end
    x = y = row_height = 0.0
    for group in groups:
        radius = math.sqrt(len(group)) * 0.5
        if x > 0 and x + 2 * radius > row_width:
            x, y, row_height = 0.0, y + row_height, 0.0
        spacing = 2.0 / math.sqrt(len(group))  # twice networkx's default: labels need the room
        placed = nx.spring_layout(ordered.subgraph(group), k=spacing, weight=None, seed=LAYOUT_SEED, scale=radius)
        for norm, (px, py) in placed.items():
            positions[norm] = (x + radius + float(px), y + radius + float(py))
        x, row_height = x + 2 * radius + 0.6, max(row_height, 2 * radius + 0.6)
    if positions:
        fitted = nx.rescale_layout_dict(positions, scale=1.0)
        positions = {norm: (float(px), float(py)) for norm, (px, py) in fitted.items()}
    return [
        NodePlace(norm, data["label"], data["type"], data["posts"], *positions[norm])
        for norm, data in ordered.nodes(data=True)
    ]


def write_gexf(graph: nx.Graph, out: Path) -> None:
    """The graph for Gephi, written whole or not at all."""
    import networkx as nx

    with atomic_output(out, "wb") as handle:
        nx.write_gexf(graph, handle)
