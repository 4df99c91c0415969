"""The co-occurrence network (`network`, core/network.py): GEXF that networkx reads back with the
co-mention counts an independent count over the stored mentions gives."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import networkx as nx
from click.testing import CliRunner

from groundlens.cli import cli
from groundlens.core import network
from groundlens.storage import Store


def co_mentions(store: Store, query: str | None) -> tuple[Counter, Counter]:
    """Posts per entity and per pair, counted in Python over each post's stored predictions."""
    ids = store.post_ids(query)
    singles, pairs = Counter(), Counter()
    for mentions in store.entities_for_posts(ids).values():
        norms = sorted({entity.norm for entity in mentions})
        singles.update(norms)
        pairs.update(combinations(norms, 2))
    return singles, pairs


def test_gexf_has_every_entity_and_the_co_mention_weights(demo_paths, tmp_path):
    out = tmp_path / "net.gexf"
    result = CliRunner().invoke(
        cli, ["--data-dir", str(demo_paths.data_dir), "network", "--out", str(out), "--nodes", "500"]
    )
    assert result.exit_code == 0, result.output
    graph = nx.read_gexf(out)
    with Store.open(demo_paths.db_path) as store:
        singles, pairs = co_mentions(store, None)
    assert set(graph.nodes) == set(singles)
    assert {tuple(sorted(edge)): data["weight"] for *edge, data in graph.edges(data=True)} == dict(pairs)
    assert graph.nodes["grace hopper"]["label"] == "Grace Hopper"
    assert graph.nodes["grace hopper"]["type"] == "PER"
    assert graph.nodes["grace hopper"]["viz"]["color"] == {"r": 0, "g": 114, "b": 178, "a": 1.0}  # PER blue
    assert f"Wrote {len(singles)} entities and {len(pairs)} links" in result.output


def test_network_of_a_query_keeps_the_most_mentioned_entities(demo_paths):
    with Store.open(demo_paths.db_path) as store:
        singles, _ = co_mentions(store, "NASA")
        graph = network.build_graph(store, "NASA", nodes=2)
    assert graph.number_of_nodes() == 2
    assert singles["nasa"] == max(singles.values()) and "nasa" in graph.nodes
    assert all(graph.nodes[n]["posts"] == singles[n] for n in graph.nodes)


def test_layout_is_the_same_for_the_same_search(demo_paths):
    with Store.open(demo_paths.db_path) as store:
        first = network.layout(network.build_graph(store, None))
        second = network.layout(network.build_graph(store, None))
    assert first == second and len(first) > 5
    assert all(-1.0 <= place.x <= 1.0 and -1.0 <= place.y <= 1.0 for place in first)
