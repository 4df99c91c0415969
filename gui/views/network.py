"""The Network page: entities of the current search as a co-occurrence graph (core/network.py), nodes
coloured by type and sized by posts, edges as thick as the posts two entities share. The graph is read
and laid out on the pool, never on the main thread; clicking a node opens its
entity page; Export GEXF… writes the same graph for Gephi."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import (
    QFileDialog,
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from groundlens.core import network
from groundlens.core.output_folders import remembered_folder
from groundlens.core.safe_output import (
    OutputError,
    database_files,
    describe_write_error,
    refuse_overwriting,
)
from groundlens.gui.context import AppContext
from groundlens.gui.theme import MUTED, type_color
from groundlens.gui.widgets.common import label
from groundlens.gui.workers import Latest, run_in_pool
from groundlens.storage import Store

if TYPE_CHECKING:
    import networkx as nx

NODE_SPACE = 80.0  # scene units per sqrt(node): the layout's [-1, 1] grows with the graph, the nodes do not
NORM_ROLE = 0  # QGraphicsItem.data key holding a node's entity norm


@dataclass
class NetworkData:
    graph: nx.Graph
    places: list[network.NodePlace]


def network_data(db_path: Path, query: str | None, nodes: int) -> NetworkData:
    with Store.open(db_path) as store:
        graph = network.build_graph(store, query, nodes=nodes)
    return NetworkData(graph, network.layout(graph))


class GraphCanvas(QGraphicsView):
    """The drawn graph; a click on a node (or its label) emits its norm."""

    node_clicked = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setScene(QGraphicsScene(self))  # parented: Python must not collect it under the view
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.nodes: dict[str, QGraphicsEllipseItem] = {}

    def draw(self, data: NetworkData) -> None:
        scene = self.scene()
        scene.clear()
        self.nodes = {}
        places = {place.norm: place for place in data.places}
        spread = NODE_SPACE * math.sqrt(max(1, len(places)))
        heaviest = max((w for *_, w in data.graph.edges(data="weight")), default=1)
        for a, b, weight in data.graph.edges(data="weight"):
            pen = QPen(QColor(MUTED), 0.5 + 5.0 * weight / heaviest)
            pen.setCosmetic(True)
            line = scene.addLine(
                places[a].x * spread, places[a].y * spread, places[b].x * spread, places[b].y * spread, pen
            )
            line.setOpacity(0.55)
            line.setToolTip(f"{places[a].name} and {places[b].name}: {weight} posts")
        most = max((place.posts for place in data.places), default=1)
        for place in data.places:
            radius = 6 + 14 * math.sqrt(place.posts / most)
            node = QGraphicsEllipseItem(-radius, -radius, 2 * radius, 2 * radius)
            node.setPos(QPointF(place.x * spread, place.y * spread))
            node.setBrush(QBrush(type_color(place.type)))
            node.setPen(QPen(Qt.GlobalColor.white, 1))
            node.setZValue(1)
            node.setData(NORM_ROLE, place.norm)
            node.setToolTip(f"{place.name} ({place.type}): {place.posts} posts. Click to open its page.")
            node.setCursor(Qt.CursorShape.PointingHandCursor)
            caption = QGraphicsSimpleTextItem(place.name, node)
            caption.setPos(radius + 2, -caption.boundingRect().height() / 2)
            caption.setData(NORM_ROLE, place.norm)
            scene.addItem(node)
            self.nodes[place.norm] = node
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-20, -20, 20, 20))
        self.fitInView(scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def node_at(self, item: QGraphicsItem | None) -> str | None:
        while item is not None:
            if item.data(NORM_ROLE):
                return item.data(NORM_ROLE)
            item = item.parentItem()
        return None

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        norm = self.node_at(self.itemAt(event.position().toPoint()))
        super().mouseReleaseEvent(event)
        if norm and event.button() == Qt.MouseButton.LeftButton:
            self.node_clicked.emit(norm)


class NetworkView(QWidget):
    entity_activated = Signal(str)
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.query: str | None = None
        self.data: NetworkData | None = None
        self._stale = True
        self._latest = Latest(self)

        self.title = label("Co-occurrence network", "PageTitle")
        self.caption = label("Entities mentioned together in the posts of the current search.", "Muted")
        self.nodes = QSpinBox()
        self.nodes.setRange(2, 300)
        self.nodes.setValue(network.DEFAULT_NODES)
        self.nodes.setPrefix("Top ")
        self.nodes.setSuffix(" entities")
        self.nodes.valueChanged.connect(self.reload)
        self.export_button = QPushButton("Export GEXF…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._ask_gexf_path)
        self.canvas = GraphCanvas()
        self.canvas.node_clicked.connect(self.entity_activated)
        self.status = QLabel()

        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.title)
        titles.addWidget(self.caption)
        header.addLayout(titles, 1)
        header.addWidget(self.nodes)
        header.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(header)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.status)

    def set_query(self, query: str | None) -> None:
        """The search changed: redraw now if the page is shown, else when it next is."""
        self.query = query or None
        self._stale = True
        if self.isVisible():
            self.reload()

    def on_shown(self) -> None:
        if self._stale:
            self.reload()

    def reload(self) -> None:
        """Read and lay out on the pool with a connection of its own: on 100k posts the figures take
        seconds, which the shared database thread (the feed's, the inspector's) must not wait for."""
        self._stale = False
        token = self._latest.start()
        db_path, query, nodes = self.ctx.paths.db_path, self.query, self.nodes.value()
        self.status.setText("Loading…")
        run_in_pool(
            lambda: network_data(db_path, query, nodes),
            self._latest.only(token, self._on_data),
            self._latest.only(token, self._on_error),
        )

    def _on_data(self, data: NetworkData) -> None:
        self.data = data
        self.canvas.draw(data)
        self.export_button.setEnabled(data.graph.number_of_nodes() > 0)
        posts = data.graph.graph.get("posts", 0)
        self.status.setText(
            f"{data.graph.number_of_nodes()} entities, {data.graph.number_of_edges()} links, from {posts:,} posts"
            " (predictions; retweets left out). Edge width: posts mentioning both. Click a node to open its page."
            if data.places
            else "No entities in these posts."
        )
        self.loaded.emit()

    def _on_error(self, error: Exception) -> None:
        self.status.setText(f"Cannot draw the network: {error}")

    # export --------------------------------------------------------------------------------
    def _ask_gexf_path(self) -> None:
        folder = remembered_folder(self.ctx.settings.settings, "gexf")
        path, _ = QFileDialog.getSaveFileName(
            self, "Export GEXF", str(folder / "groundlens-network.gexf"), "GEXF (*.gexf)"
        )
        if path:
            self.export_gexf(Path(path))

    def export_gexf(self, path: Path) -> str | None:
        """None once written (and its folder remembered); otherwise why not, also shown on the page."""
        if self.data is None:
            return "nothing drawn yet"
        try:
            refuse_overwriting(path, {"the database": database_files(self.ctx.paths.db_path)})
            network.write_gexf(self.data.graph, path)
            self.ctx.settings.remember_folder("gexf", path.parent)
        except OutputError as error:
            problem = str(error)
        except OSError as error:
            problem = describe_write_error(path, error)
        else:
            self.status.setText(f"Wrote {path}.")
            return None
        self.status.setText(f"Nothing was written: {problem}")
        return problem
