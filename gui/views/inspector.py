"""Post inspector: the image with overlays on the left, the text with highlighted entities and
the entity chips on the right. Hover or select an entity anywhere and all three follow."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from groundlens.gui.context import AppContext
from groundlens.gui.models.post_bundle import PostBundle, Visuals, load_bundle, render_visuals
from groundlens.gui.widgets.common import label, section
from groundlens.gui.widgets.entity_list import EntityList
from groundlens.gui.widgets.entity_text import EntityText
from groundlens.gui.widgets.image_canvas import ImageCanvas
from groundlens.gui.widgets.overlay_bar import LegendBar, OverlayBar
from groundlens.gui.workers import Latest, run_in_pool


class InspectorView(QWidget):
    entity_opened = Signal(str)  # norm of the entity whose page to open
    loaded = Signal(int)  # post id, once text and image are shown
    image_retry_requested = Signal()  # fetch the images that did not arrive (Jobs runs it)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.bundle: PostBundle | None = None
        self.post_id: int | None = None
        self._latest = Latest(self)
        self._selected = ""

        self.canvas = ImageCanvas()
        self.overlay_bar = OverlayBar(self.canvas)
        self.legend = LegendBar(self.canvas)
        self.canvas_message = QLabel()
        self.canvas_message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.canvas_message.setWordWrap(True)
        self.retry_image_button = QPushButton("Retry downloading images")
        self.retry_image_button.setToolTip("Fetch again every image that failed or was not downloaded yet")
        self.retry_image_button.clicked.connect(self.image_retry_requested)
        message_page = QWidget()
        message_page.setStyleSheet("color:#9AA0A6; background:#1F2328; font-size:14px;")
        message_layout = QVBoxLayout(message_page)
        message_layout.addStretch(1)
        message_layout.addWidget(self.canvas_message)
        message_layout.addWidget(self.retry_image_button, 0, Qt.AlignmentFlag.AlignHCenter)
        message_layout.addStretch(1)
        self.canvas_stack = QStackedWidget()
        self.canvas_stack.addWidget(self.canvas)
        self.canvas_stack.addWidget(message_page)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(0)
        left_layout.addWidget(self.overlay_bar)
        left_layout.addWidget(self.canvas_stack, 1)
        left_layout.addWidget(self.legend)

        self.header = label("", "Muted")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setOpenExternalLinks(True)
        self.header.setWordWrap(True)
        self.links = label("", "Muted")  # what the post retweets, quotes or answers
        self.links.setTextFormat(Qt.TextFormat.RichText)
        self.links.setWordWrap(True)
        self.text = EntityText()
        self.entities = EntityList()
        right = QWidget()
        right.setMinimumWidth(300)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(12, 10, 12, 10)
        right_layout.addWidget(self.header)
        right_layout.addWidget(self.links)
        right_layout.addWidget(section("Text"))
        right_layout.addWidget(self.text, 1)
        right_layout.addWidget(section("Entities"))
        right_layout.addWidget(self.entities, 1)
        self.evidence = label("", "Muted")
        self.evidence.setWordWrap(True)
        self.evidence.setTextFormat(Qt.TextFormat.PlainText)
        right_layout.addWidget(self.evidence)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([640, 310])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        for source in (self.canvas, self.text, self.entities):
            source.entity_hovered.connect(self._hover)
            source.entity_selected.connect(self._select)
        self.entities.entity_opened.connect(self.entity_opened)
        self.legend.gold_button.toggled.connect(lambda _on: self._show_text())
        self._show_message("Select a post in the feed.")

    # loading -------------------------------------------------------------------------------
    def show_post(self, post_id: int | None) -> None:
        token = self._latest.start()
        self.post_id = post_id
        if post_id is None:
            self.bundle = None
            self.header.clear()
            self.links.clear()
            self.text.set_content("", [])
            self.entities.set_rows([])
            self.evidence.clear()
            self._show_message("Select a post in the feed.")
            return
        self.ctx.db.submit(
            lambda store: load_bundle(store, post_id),
            self._latest.only(token, self._on_bundle),
            self._latest.only(token, self._on_error),
        )

    def reload(self) -> None:
        """Pick up new pipeline results for the post on screen, keeping zoom and toggles."""
        if self.post_id is not None:
            self.show_post(self.post_id)

    def _on_error(self, exc: Exception) -> None:
        self._show_message(f"Could not load this post: {exc}")

    def _on_bundle(self, bundle: PostBundle | None) -> None:
        same_post = self.bundle is not None and bundle is not None and self.bundle.post.id == bundle.post.id
        self.bundle = bundle
        if bundle is None:
            self._show_message("This post no longer exists.")
            return
        post = bundle.post
        when = post.created_at.strftime("%Y-%m-%d %H:%M UTC") if post.created_at else "no date"
        # imported text: escaped, and only web links are clickable (never file:// or other schemes)
        web = post.url and post.url.lower().startswith(("https://", "http://"))
        link = f' · <a href="{html.escape(post.url, quote=True)}">open original</a>' if web else ""
        author = html.escape(post.author or "unknown author")
        self.header.setText(f"<b style='color:#1F2328'>{author}</b> · {when} · {html.escape(post.source)}{link}")
        lines = bundle.link_lines()
        self.links.setText("<br>".join(lines))
        self.links.setVisible(bool(lines))
        self._show_text()
        image_file = self.ctx.media_file(bundle.local_path)
        keyed = bundle.keyed()
        self.entities.set_rows(bundle.rows(has_image=image_file is not None))
        token = self._latest.current  # the user may move on while pixels decode
        without = bundle.without_picture()
        run_in_pool(
            lambda: render_visuals(image_file, keyed, bundle.findings, without),
            self._latest.only(token, lambda visuals: self._on_visuals(visuals, keep_view=same_post)),
            self._latest.only(token, self._on_error),
        )

    def _on_visuals(self, visuals: Visuals, keep_view: bool) -> None:
        if visuals.image is None:
            self.canvas.clear_content()
            self._show_message(visuals.error or "No image.", retry=visuals.retry)
        else:
            if not (keep_view and self.canvas.has_image()):
                self.canvas.set_image(visuals.image)
            self.canvas.set_overlays(visuals.overlays)
            self.canvas_stack.setCurrentWidget(self.canvas)
        self.loaded.emit(self.post_id)

    def _show_text(self) -> None:
        if self.bundle is not None:
            self.text.set_content(self.bundle.post.text, self.bundle.spans(self.legend.gold_button.isChecked()))

    def _show_message(self, message: str, retry: bool = False) -> None:
        self.canvas_message.setText(message)
        self.retry_image_button.setVisible(retry)
        self.canvas_stack.setCurrentIndex(1)

    # linking text, chips and regions --------------------------------------------------------
    def _hover(self, key: str) -> None:
        shown = key or self._selected
        self.canvas.highlight(shown)
        self.text.highlight(shown)
        self.evidence.setText(self._evidence_text(shown))

    def _evidence_text(self, key: str) -> str:
        """Why the pipeline placed (or did not place) the entity under the pointer: its evidence."""
        row = next((r for r in self.entities.rows() if r.key == key), None)
        if row is None:
            return ""
        lines = row.evidence or ("no evidence recorded for this verdict",)
        return f"{row.text}: {row.status}\n" + "\n".join(f"• {line}" for line in lines)

    def _select(self, key: str) -> None:
        self._selected = "" if key == self._selected else key
        self.entities.select_key(self._selected)
        self._hover(self._selected)
