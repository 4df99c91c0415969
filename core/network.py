"""The co-occurrence network of a search: entities as nodes (coloured by type), an edge wherever two
share posts, weighted by how many. One graph for the app's Network page, the `network` command and
the GEXF file Gephi opens; its layout is seeded, so the same search always gives the same picture."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from core.palette import type_hex
from core.safe_output import atomic_output
from storage import Store

LAYOUT_SEED = 7
DEFAULT_NODES = 40


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
    chosen = list(dict.fromkeys(ids)) if ids is not None else store.post_ids(query)
    summary = store.summarize_posts(chosen, top=nodes)
    graph = nx.Graph(query=query or "", posts=summary.posts)
    for entity in summary.entities:
        red, green, blue = (int(type_hex(entity.type)[i : i + 2], 16) for i in (1, 3, 5))
        graph.add_node(entity.norm, label=entity.name, type=entity.type, posts=entity.count,
                       viz={"color": {"r": red, "g": green, "b": blue, "a": 1.0}})  # fmt: skip
    for pair in summary.pairs:
        graph.add_edge(pair.a, pair.b, weight=pair.posts)
    return graph


def layout(graph: nx.Graph) -> list[NodePlace]:
    """Spring layout with a fixed seed, in [-1, 1]; nodes sorted so the input order never matters."""
    ordered = nx.Graph()
    ordered.add_nodes_from(sorted(graph.nodes(data=True)))
    ordered.add_edges_from(sorted(graph.edges(data=True)))
    positions = nx.spring_layout(ordered, weight="weight", seed=LAYOUT_SEED) if len(ordered) else {}
    return [
        NodePlace(norm, data["label"], data["type"], data["posts"], float(positions[norm][0]), float(positions[norm][1]))
        for norm, data in ordered.nodes(data=True)
    ]


def write_gexf(graph: nx.Graph, out: Path) -> None:
    """The graph for Gephi, written whole or not at all."""
    with atomic_output(out, "wb") as handle:
        nx.write_gexf(graph, handle)
