"""Entity page: one entity across every post: its types, first/last seen, each mention in
context, the entities it appears with, and a gallery of its image regions.

It is also where aliases are merged ("Trump" into "Donald Trump": every mention of one counts as
the other, in every view) and a wrong merge is split again; both are undoable corrections. A name
merged into another opens the other's page."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from groundlens.gui.context import AppContext
from groundlens.gui.models.entity_data import CROP_SIDE, EntityData, entity_query, load_entity, render_crops
from groundlens.gui.models.record_table import Column
from groundlens.gui.theme import MUTED, TYPE_COLORS
from groundlens.gui.widgets.common import counting_choice, label, section
from groundlens.gui.widgets.table_view import RecordTable
from groundlens.gui.workers import Latest, run_in_pool
from groundlens.storage import Store
from groundlens.storage.normalize import normalize_entity

MENTION_COLUMNS = [
    Column("Date", lambda m: m.created_at),
    Column("Author", lambda m: m.author),
    Column("Type", lambda m: m.type, color=lambda m: TYPE_COLORS.get(m.type)),
    Column("Image", lambda m: m.grounding, color=lambda m: None if m.grounding == "in image" else MUTED),
    Column("In context", lambda m: m.context, tooltip=lambda m: m.context),
]
COOCCURRING_COLUMNS = [
    Column("Appears with", lambda c: c.name),
    Column("Type", lambda c: c.type, color=lambda c: TYPE_COLORS.get(c.type)),
    Column("Shared posts", lambda c: c.count),
]
POST_ID_ROLE = Qt.ItemDataRole.UserRole + 1


def load_resolved(store: Store, norm: str, resolve_media, include_retweets: bool) -> tuple[str, EntityData, list[str]]:
    """The entity `norm` counts as after merges, its page data and the names merged into it."""
    resolved = store.resolve_entity(norm)
    return resolved, load_entity(store, resolved, resolve_media, include_retweets), store.entity_aliases(resolved)


class EntityPage(QWidget):
    post_activated = Signal(int)
    entity_activated = Signal(str)
    search_requested = Signal(str)  # "show these posts in the feed"
    loaded = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.norm = ""
        self.data: EntityData | None = None
        self._latest = Latest(self)

        self.title = label("No entity selected", "PageTitle")
        self.types = QLabel()
        self.types.setTextFormat(Qt.TextFormat.RichText)
        self.facts = label("Double-click an entity in the inspector or in search results to open its page.", "Muted")
        self.counting = counting_choice(lambda: self.show_entity(self.norm) if self.norm else None)
        self.feed_button = QPushButton("Show posts in feed")
        self.feed_button.setEnabled(False)
        self.feed_button.clicked.connect(
            lambda: self.search_requested.emit(entity_query(self.norm, bool(self.counting.currentData())))
        )

        self.merge_target = QLineEdit()
        self.merge_target.setPlaceholderText("the entity it is another name of, e.g. Donald Trump")
        self.merge_button = QPushButton("Merge into")
        self.merge_button.setToolTip("Count every mention of this entity as the other one, in every view (undoable)")
        self.merge_button.clicked.connect(self.merge_into_target)
        self.merge_target.returnPressed.connect(self.merge_into_target)
        self.aliases = QComboBox()
        self.aliases.setToolTip("Names merged into this entity")
        self.split_button = QPushButton("Split off")
        self.split_button.setToolTip("Undo a wrong merge: the chosen name counts as its own entity again")
        self.split_button.clicked.connect(self.split_selected_alias)
        self.aliases_label = label("Also counted here:", "Muted")
        ctx.corrections.changed.connect(lambda: self.show_entity(self.norm) if self.norm else None)

        self.mentions = RecordTable(MENTION_COLUMNS)
        self.mentions.activated_record.connect(lambda m: self.post_activated.emit(m.post_id))
        self.cooccurring = RecordTable(COOCCURRING_COLUMNS, stretch=0)
        self.cooccurring.activated_record.connect(lambda c: self.entity_activated.emit(c.norm))
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(CROP_SIDE, CROP_SIDE))
        self.gallery.setGridSize(QSize(CROP_SIDE + 16, CROP_SIDE + 44))
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setWordWrap(True)
        self.gallery.setMinimumHeight(CROP_SIDE + 60)
        self.gallery.itemActivated.connect(lambda item: self.post_activated.emit(item.data(POST_ID_ROLE)))
        self.gallery_label = section("Image regions")

        layout = QGridLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setVerticalSpacing(6)
        header = QVBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.types)
        header.addWidget(self.facts)
        corrections = QHBoxLayout()
        corrections.addWidget(self.merge_button)
        corrections.addWidget(self.merge_target, 1)
        corrections.addSpacing(16)
        corrections.addWidget(self.aliases_label)
        corrections.addWidget(self.aliases)
        corrections.addWidget(self.split_button)
        header.addLayout(corrections)
        layout.addLayout(header, 0, 0)
        buttons = QVBoxLayout()
        buttons.addWidget(self.counting)
        buttons.addWidget(self.feed_button, alignment=Qt.AlignmentFlag.AlignRight)
        layout.addLayout(buttons, 0, 1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        layout.addWidget(section("Mentions"), 1, 0)
        layout.addWidget(section("Co-occurring entities"), 1, 1)
        layout.addWidget(self.mentions, 2, 0)
        layout.addWidget(self.cooccurring, 2, 1)
        layout.addWidget(self.gallery_label, 3, 0, 1, 2)
        layout.addWidget(self.gallery, 4, 0, 1, 2)
        layout.setColumnStretch(0, 3)
        layout.setColumnStretch(1, 1)
        layout.setRowStretch(2, 3)
        layout.setRowStretch(4, 2)

    def show_entity(self, norm: str) -> None:
        self.norm = norm
        token = self._latest.start()
        self.title.setText(norm)
        self.facts.setText("Loading…")
        retweets = bool(self.counting.currentData())
        self.ctx.db.submit(
            lambda store: load_resolved(store, norm, self.ctx.media_file, retweets),
            self._latest.only(token, self._on_resolved),
            self._latest.only(token, lambda exc: self.facts.setText(f"Could not load this entity: {exc}")),
        )

    def _on_resolved(self, loaded: tuple[str, EntityData, list[str]]) -> None:
        resolved, data, aliases = loaded
        self.norm = resolved  # a merged name shows (and searches) the entity it was merged into
        self.aliases.clear()
        self.aliases.addItems(aliases)
        for widget in (self.aliases_label, self.aliases, self.split_button):
            widget.setVisible(bool(aliases))
        self._on_data(data)

    def merge_into_target(self) -> None:
        """Merge the entity on the page into the one typed, once the store knows that one (a typo must not
        make the entity vanish into a name nothing else has); the page then shows the merged entity."""
        target, alias = self.merge_target.text().strip(), self.norm
        if not (alias and target):
            return

        def merge_if_known(known: bool) -> None:
            if known:
                self.merge_target.clear()
                self.ctx.corrections.merge(alias, target)
            else:
                self.facts.setText(f"Not merged: no entity is named “{target}”.")

        self.ctx.db.submit(
            lambda store: store.entity_profile(normalize_entity(target)).name is not None, merge_if_known
        )

    def split_selected_alias(self) -> None:
        if alias := self.aliases.currentText():
            self.ctx.corrections.split(alias)

    def _on_data(self, data: EntityData) -> None:
        self.data = data
        profile = data.profile
        self.feed_button.setEnabled(profile.name is not None)
        self.merge_button.setEnabled(profile.name is not None)
        if profile.name is None:
            self.title.setText(self.norm)
            self.types.clear()
            self.facts.setText("No predicted mention of this entity yet.")
            self.mentions.set_records([])
            self.cooccurring.set_records([])
            self.gallery.clear()
            self.loaded.emit(self.norm)
            return
        self.title.setText(profile.name)
        self.types.setText(
            "  ".join(
                f"<span style='color:white;background:{TYPE_COLORS.get(t, MUTED)}'>&nbsp;{t} {n}&nbsp;</span>"
                for t, n in sorted(profile.types.items(), key=lambda kv: -kv[1])
            )
        )
        first = profile.first_seen.strftime("%Y-%m-%d") if profile.first_seen else "?"
        last = profile.last_seen.strftime("%Y-%m-%d") if profile.last_seen else "?"
        more = f" (listing the latest {len(data.mentions)})" if data.truncated else ""
        counted = "retweets included" if self.counting.currentData() else "original posts only"
        self.facts.setText(
            f"{profile.mentions:,} mentions in {profile.posts:,} posts ({counted}){more}"
            f" · {profile.groundable:,} judged visible · first seen {first} · last seen {last}"
        )
        self.mentions.set_records(data.mentions)
        self.cooccurring.set_records(data.cooccurring)
        self.gallery.clear()
        self.gallery_label.setText(f"IMAGE REGIONS ({len(data.crops)})")
        crops = data.crops
        run_in_pool(lambda: render_crops(crops), self._latest.only(self._latest.current, self._on_crops))

    def _on_crops(self, rendered: list) -> None:
        for source, image in rendered:
            item = QListWidgetItem(QIcon(QPixmap.fromImage(image)), source.caption)
            item.setData(POST_ID_ROLE, source.post_id)
            item.setToolTip("Double-click to open the post")
            self.gallery.addItem(item)
        if not rendered:
            self.gallery_label.setText("IMAGE REGIONS (none: no mention of it was located in an image)")
        self.loaded.emit(self.norm)
