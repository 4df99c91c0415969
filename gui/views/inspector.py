"""Post inspector: the image with overlays on the left, the text with highlighted entities and
the entity chips on the right. Hover or select an entity anywhere and all three follow.

It is also where the analyst corrects the pipeline: right-click (or the keys in gui/shortcuts.py)
on a chip, a span, the selected text or a box; draw or move boxes in box-edit mode. Each correction
goes through the shared CorrectionLog (undoable); a drawn box's mask is made off the main thread.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import partial

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import (
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from groundlens.core import masks
from groundlens.gui.context import AppContext
from groundlens.gui.models.post_bundle import PostBundle, Visuals, load_bundle, render_visuals
from groundlens.gui.theme import changes, scheme
from groundlens.gui.views import correction_menus as menus
from groundlens.gui.views.correction_menus import popup
from groundlens.gui.widgets.common import label, section
from groundlens.gui.widgets.entity_list import EntityList
from groundlens.gui.widgets.entity_text import EntityText
from groundlens.gui.widgets.image_canvas import ImageCanvas
from groundlens.gui.widgets.overlay_bar import LegendBar, OverlayBar
from groundlens.gui.workers import Latest, run_in_pool
from groundlens.records import BoxTuple, Entity
from groundlens.storage import corrections as drafts
from groundlens.storage.corrections import Correction, Draft


class InspectorView(QWidget):
    entity_opened = Signal(str)  # norm of the entity whose page to open
    loaded = Signal(int)  # post id, once text and image are shown
    image_retry_requested = Signal()  # fetch the images that did not arrive (Jobs runs it)
    mask_finished = Signal(str)  # a drawn box's mask was stored ("") or could not be made (why)

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
        self.notice = label("", "Muted")  # what happened to the last correction
        self.notice.setWordWrap(True)
        right_layout.addWidget(self.notice)

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
        self.legend.gold_button.toggled.connect(lambda _on: self._show_entities())
        self.text.context_requested.connect(lambda key, where: popup(menus.entity_menu(self, key), where))
        self.entities.context_requested.connect(lambda key, where: popup(menus.entity_menu(self, key), where))
        self.canvas.context_requested.connect(lambda overlay, where: popup(menus.region_menu(self, overlay), where))
        self.canvas.box_drawn.connect(self._box_drawn)
        self.canvas.box_moved.connect(lambda overlay, box: self.set_box(overlay.key, box))
        self.corrections = ctx.corrections
        self.corrections.changed.connect(self.reload)
        changes().changed.connect(self.reload)  # light/dark or per-instance colours switched: redraw in them
        self.corrections.failed.connect(lambda why: self.notice.setText(f"Correction not saved: {why}"))
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
            self.notice.clear()
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
        was_selected = self.entity(self._selected)
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
        self.header.setText(
            f"<b style='color:{scheme().text}'>{author}</b> · {when} · {html.escape(post.source)}{link}"
        )
        lines = bundle.link_lines()
        self.links.setText("<br>".join(lines))
        self.links.setVisible(bool(lines))
        # Keys number a post's entities in order, so a correction (an added or deleted entity) can shift them:
        # the selection follows its entity by span, and never carries over to another post's entity.
        kept = (
            next(
                (
                    key
                    for key, e in bundle.keyed()
                    if e.origin == "pred"
                    and was_selected is not None
                    and (e.start, e.end) == (was_selected.start, was_selected.end)
                ),
                "",
            )
            if same_post
            else ""
        )
        self._selected = kept
        self._show_entities()
        self._set_selected(kept)
        if not same_post:
            self.notice.clear()
        image_file = self.ctx.media_file(bundle.local_path)
        keyed = bundle.keyed()
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

    def _show_entities(self) -> None:
        """Text spans and chips; gold (hidden by default) only while the Gold toggle is on, then marked
        against the predictions."""
        if self.bundle is not None:
            gold = self.legend.gold_button.isChecked()
            has_image = self.ctx.media_file(self.bundle.local_path) is not None
            self.text.set_content(self.bundle.post.text, self.bundle.spans(gold))
            self.entities.set_rows(self.bundle.rows(has_image=has_image, include_gold=gold))
            self.entities.select_key(self._selected)

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
        corrected = f"\n✎ corrected {row.corrected}" if row.corrected else ""
        return f"{row.text}: {row.status}\n" + "\n".join(f"• {line}" for line in lines) + corrected

    def _select(self, key: str) -> None:
        self._set_selected("" if key == self._selected else key)

    def _set_selected(self, key: str) -> None:
        self._selected = self.canvas.selected = key
        self.entities.select_key(key)
        self._hover(key)

    # corrections ---------------------------------------------------------------------------
    def entity(self, key: str) -> Entity | None:
        """The predicted (correctable) entity behind a key; gold and findings are not corrected here."""
        entity = dict(self.bundle.keyed()).get(key) if self.bundle is not None else None
        return entity if entity is not None and entity.origin == "pred" else None

    def selected_key(self) -> str:
        return self._selected

    def _correct(self, description: str, draft: Draft, on_stored: Callable[[Correction], None] | None = None) -> None:
        self.notice.setText(f"Saved: {description} (Ctrl+Z undoes it)")
        self.corrections.add(description, draft, on_stored)

    def change_type(self, key: str, entity_type: str) -> None:
        if entity := self.entity(key):
            self._correct(f"{entity.text} is {entity_type}", drafts.change_type(entity, entity_type))

    def fix_span(self, key: str, start: int, end: int) -> None:
        if (entity := self.entity(key)) and self.bundle is not None:
            text = self.bundle.post.text[start:end]
            self._correct(f"{entity.text} → {text}", drafts.fix_span(entity, start, end))

    def delete_entity(self, key: str) -> None:
        if entity := self.entity(key):
            self._set_selected("")
            self._correct(f"{entity.text} is no entity", drafts.delete_entity(entity))

    def add_entity(self, start: int, end: int, entity_type: str) -> None:
        if self.bundle is not None and self.bundle.post.id is not None:
            text = self.bundle.post.text[start:end]
            self._correct(
                f"added {text} ({entity_type})", drafts.add_entity(self.bundle.post.id, start, end, text, entity_type)
            )

    def mark_in_image(self, key: str, in_image: bool) -> None:
        if entity := self.entity(key):
            where = "in the image" if in_image else "not in the image"
            self._correct(f"{entity.text} is {where}", drafts.mark_in_image(entity, in_image))

    def reject_box(self, key: str, box: BoxTuple | None) -> None:
        if entity := self.entity(key):
            self._correct(f"{entity.text}: box rejected", drafts.reject_box(entity, box))

    def set_box(self, key: str, box: BoxTuple) -> None:
        """Draw or move the entity's box; its mask follows from the segmenter, in the background."""
        if entity := self.entity(key):
            self._correct(f"{entity.text}: box drawn", drafts.set_box(entity, box, self._media_id()), self._segment)

    def name_person(self, key: str, box: BoxTuple) -> None:
        """ "This is <entity>": the detected, unidentified person's box becomes the entity's."""
        if entity := self.entity(key):
            self._correct(f"this is {entity.text}", drafts.name_person(entity, box, self._media_id()), self._segment)

    def _media_id(self) -> int | None:
        return self.bundle.post.media[0].id if self.bundle is not None and self.bundle.post.media else None

    def _segment(self, correction: Correction) -> None:
        """Make the stored box's mask on a pool thread (the model never runs on the GUI thread), then
        attach it to the correction on the database thread."""
        image_file = self.ctx.media_file(self.bundle.local_path) if self.bundle is not None else None
        if image_file is None:
            self.mask_finished.emit("no image on disk to segment")
            return
        box = tuple(correction.payload["box"])
        self.notice.setText(f"{self.notice.text()} · computing its mask…")

        stage = self.ctx.settings.settings.pipeline.segmentation  # read here, on the GUI thread that owns them
        masker = self.ctx.box_masker

        def make_mask() -> masks.Rle:
            return masker.mask(image_file, box, stage)

        def store_mask(rle: masks.Rle) -> None:
            if not shiboken6.isValid(self):  # the window closed while the model ran: the box stays without it
                return
            self.corrections.run(
                lambda store: store.set_correction_mask(correction.id, rle, masks.area(rle)),
                lambda _stored: self._mask_done(""),
                lambda exc: self._mask_done(str(exc)),
            )

        run_in_pool(make_mask, store_mask, lambda exc: self._mask_done(str(exc)))

    def _mask_done(self, error: str) -> None:
        self.notice.setText(f"Box kept without a mask: {error}" if error else "Box and its mask saved.")
        self.mask_finished.emit(error)

    def _box_drawn(self, box: BoxTuple) -> None:
        """A box drawn in box-edit mode belongs to the selected entity, else to one picked from a menu."""
        if self.entity(self._selected):
            self.set_box(self._selected, box)
        else:
            popup(menus.box_owner_menu(self, box), QCursor.pos())

    def predicted(self) -> list[tuple[str, Entity]]:
        """The post's predicted (correctable) entities with their keys."""
        return [(key, e) for key, e in self.bundle.keyed() if e.origin == "pred"] if self.bundle is not None else []

    def _menu_at_selection(self, build: Callable[[InspectorView], QMenu]) -> None:
        """A correction key's menu, under the selected chip (or at the pointer)."""
        row = self.entities.currentRow()
        item = self.entities.item(row) if row >= 0 else None
        where = (
            self.entities.viewport().mapToGlobal(self.entities.visualItemRect(item).bottomLeft())
            if item is not None
            else QCursor.pos()
        )
        popup(build(self), where)

    def _fix_selected_span(self) -> None:
        if (selection := self.text.selected_range()) is not None:
            self.fix_span(self._selected, *selection)

    def correction_actions(self) -> dict[str, Callable[[], None]]:
        """What the window's correction shortcuts do (gui/shortcuts.py): on the selected entity, and only while
        the inspector is on screen (Del on another page must not delete an entity out of sight); undo and
        redo work on every page."""
        on_entity = {
            "edit_boxes": self.overlay_bar.edit_button.toggle,
            "correct_type": lambda: self.entity(self._selected) and self._menu_at_selection(menus.type_menu),
            "correct_span": self._fix_selected_span,
            "add_entity": lambda: self._menu_at_selection(menus.add_menu),
            "delete_entity": lambda: self.delete_entity(self._selected),
            "mark_in_image": lambda: self.mark_in_image(self._selected, True),
            "mark_not_in_image": lambda: self.mark_in_image(self._selected, False),
        }
        shown = {name: partial(self._if_shown, action) for name, action in on_entity.items()}
        return shown | {"undo": self.corrections.stack.undo, "redo": self.corrections.stack.redo}

    def _if_shown(self, action: Callable[[], object]) -> None:
        if self.isVisible():
            action()
