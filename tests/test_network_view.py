"""The Network page in the real window: drawn off the main thread for the current search, a click on a
node opens that entity's page, and its GEXF export loads in networkx."""

from __future__ import annotations

import networkx as nx
from PySide6.QtCore import Qt


def show_network(qtbot, window):
    with qtbot.waitSignal(window.network.loaded, timeout=15_000):
        window.show_page("network")
    return window.network


def test_clicking_a_node_opens_its_entity_page(qtbot, window):
    view = show_network(qtbot, window)
    canvas = view.canvas
    node = canvas.nodes["nasa"]
    with qtbot.waitSignal(window.entity_page.loaded, timeout=10_000):
        qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.mapFromScene(node.scenePos()))
    assert window.current_page() == "entity"
    assert window.entity_page.title.text() == "NASA"


def test_the_network_follows_the_search_and_exports_gexf(qtbot, window, tmp_path):
    view = show_network(qtbot, window)
    everything = set(view.canvas.nodes)
    with qtbot.waitSignal(view.loaded, timeout=15_000):
        window.query_bar.set_text("Falcon")
        window.run_query("Falcon")
    assert set(view.canvas.nodes) < everything and "falcon 9" in view.canvas.nodes
    out = tmp_path / "falcon.gexf"
    assert view.export_gexf(out) is None
    graph = nx.read_gexf(out)
    assert set(graph.nodes) == set(view.canvas.nodes)
    assert graph.nodes["falcon 9"]["type"] == "OTHER"
    weights = {tuple(sorted(edge)): data["weight"] for *edge, data in graph.edges(data=True)}
    assert weights[("falcon 9", "spacex")] == 2  # both Falcon posts name SpaceX
    assert weights[("falcon 9", "nasa")] == 1  # only the launch post names NASA


def test_gexf_export_refuses_the_database(qtbot, window):
    view = show_network(qtbot, window)
    db = window.ctx.paths.db_path
    size = db.stat().st_size
    assert "it is the database" in view.export_gexf(db)
    assert db.stat().st_size == size and "Nothing was written" in view.status.text()
