"""Light and dark, following the OS: widgets rendered offscreen in both schemes must show readable text;
per-instance colours (Settings) give two people in one photo two colours, the same in text, chip and box."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PIL import Image
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QImage, QPalette

from groundlens.core.config import resolve_paths
from groundlens.gui.app import application
from groundlens.gui.context import open_context
from groundlens.gui.models.feed_model import SUMMARY_ROLE
from groundlens.gui.models.post_bundle import PostBundle, render_visuals
from groundlens.gui.models.presentation import EntityRow, Span
from groundlens.gui.models.record_table import Column, RecordTableModel
from groundlens.gui.theme import DARK, LIGHT, TYPE_COLORS, apply_theme, contrast, per_instance, readable, scheme
from groundlens.gui.views.feed import FeedView
from groundlens.gui.views.inspector import InspectorView
from groundlens.gui.views.settings import SettingsView
from groundlens.gui.widgets.entity_list import EntityList
from groundlens.gui.widgets.entity_text import EntityText
from groundlens.gui.widgets.post_delegate import ROW_HEIGHT, THUMB
from groundlens.records import Entity, Post, Region
from groundlens.storage import Store

TEXT = "Grace Hopper met Alan Turing at NASA"
PEOPLE = [
    Entity(0, 12, "Grace Hopper", "PER", regions=[Region(box=(10, 10, 60, 90))]),
    Entity(17, 28, "Alan Turing", "PER", regions=[Region(box=(70, 10, 120, 90))]),
    Entity(32, 36, "NASA", "ORG"),
]


@pytest.fixture
def app() -> Iterator:
    """The app with the default colour mode (QSettings live in the test run's folder: conftest), and back
    to the OS scheme and that mode afterwards."""
    qt_app = application()
    QSettings().remove("appearance")
    yield qt_app
    QSettings().remove("appearance")
    apply_theme(qt_app)


def readable_pixels(image: QImage, background: str) -> int:
    """Pixels whose colour reads as small text on `background` (WCAG contrast >= 4.5)."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    return sum(
        contrast(image.pixelColor(x, y).name(), background) >= 4.5
        for y in range(0, image.height(), 2)
        for x in range(0, image.width(), 2)
    )


def test_the_scheme_follows_the_os_while_the_app_runs(app):
    hints = app.styleHints()
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # what Qt emits when the OS switches
    assert scheme() is DARK and app.palette().color(QPalette.ColorRole.Window) == QColor(DARK.window)
    assert DARK.base in app.styleSheet()
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert scheme() is LIGHT and app.palette().color(QPalette.ColorRole.Base) == QColor(LIGHT.base)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_post_text_and_entity_chips_are_readable(qtbot, app, dark):
    apply_theme(app, dark)
    text = EntityText()
    qtbot.addWidget(text)
    text.resize(520, 120)
    text.set_content(TEXT, [Span("p0", 0, 12, "PER"), Span("p1", 17, 28, "PER"), Span("p2", 32, 36, "ORG")])
    chips = EntityList()
    qtbot.addWidget(chips)
    chips.resize(320, 140)
    chips.set_rows(
        [
            EntityRow("p0", "Grace Hopper", "PER", "grace hopper", "in image", confidence=0.9),
            EntityRow("p1", "Alan Turing", "PER", "alan turing", "not in image"),
        ]
    )
    for widget, words in ((text, (0, 0, 520, 120)), (chips, (60, 0, 150, 64))):  # chips: the names, between pills
        widget.show()
        qtbot.waitExposed(widget)
        shot = widget.grab().toImage()
        background = shot.pixelColor(shot.width() - 6, shot.height() - 6).name()
        assert (contrast(background, "#000000") < 3) == dark  # the widget itself follows the scheme
        assert readable_pixels(shot.copy(*words), background) > 25, f"{type(widget).__name__}: no readable text"


def stored_post(tmp_path):
    """A data folder holding one post with a person, a second person and an organisation found."""
    paths = resolve_paths(tmp_path / "data")
    ctx = open_context(paths)
    with Store.open(paths.db_path) as store:
        store.upsert_posts([Post("x", "1", TEXT, author="@hopper")])
        post_id = store.post_ids(None)[0]
        store.save_result(post_id, "test", [Entity(e.start, e.end, e.text, e.type) for e in PEOPLE], None)
    return ctx, post_id


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_feed_is_readable(qtbot, app, tmp_path, dark):
    apply_theme(app, dark)
    ctx, _ = stored_post(tmp_path)
    feed = FeedView(ctx)
    qtbot.addWidget(feed)
    feed.resize(380, 200)
    feed.set_query(None)
    qtbot.waitUntil(lambda: feed.model.rowCount() == 1, timeout=10_000)
    feed.show()
    qtbot.waitExposed(feed)
    qtbot.waitUntil(lambda: feed.model.index(0, 0).data(SUMMARY_ROLE) is not None, timeout=10_000)  # not "Loading…"
    feed.list.clearSelection()  # a row as most rows are: not selected, not hovered
    shot = feed.list.viewport().grab().toImage()
    background = shot.pixelColor(shot.width() - 4, 4).name()  # the row's own background
    assert (contrast(background, "#000000") < 3) == dark
    words = shot.copy(THUMB + 22, 0, shot.width() - THUMB - 32, ROW_HEIGHT - 26)  # author, date, text: no badges
    assert readable_pixels(words, background) > 150
    ctx.db.close()


def test_type_colours_as_text_read_on_both_schemes(app):
    for chosen in (LIGHT, DARK):
        for color in TYPE_COLORS.values():
            assert contrast(readable(color, chosen.base), chosen.base) >= 4.5
        assert contrast(chosen.text, chosen.base) >= 7 and contrast(chosen.gold_text, chosen.base) >= 4.5


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_type_coloured_table_cells_read(app, dark):
    apply_theme(app, dark)
    table = RecordTableModel([Column("Type", lambda kind: kind, color=lambda kind: TYPE_COLORS[kind])])
    table.set_records(list(TYPE_COLORS))
    for row in range(table.rowCount()):
        shown = table.data(table.index(row, 0), Qt.ItemDataRole.ForegroundRole)
        assert contrast(shown.name(), scheme().base) >= 4.5, table.records[row]


def bundle() -> PostBundle:
    return PostBundle(Post("x", "1", TEXT), predictions=list(PEOPLE), gold=[])


def colours(shown: PostBundle, tmp_path) -> tuple[dict, dict, dict]:
    photo = tmp_path / "photo.png"
    Image.new("RGB", (140, 100), "gray").save(photo)
    boxes = {o.key: o.color for o in render_visuals(photo, shown.keyed()).overlays}
    return ({s.key: s.color for s in shown.spans(False)}, {r.key: r.color for r in shown.rows(True)}, boxes)


def test_by_type_two_people_share_a_colour_and_per_instance_they_do_not(qtbot, app, tmp_path):
    spans, rows, boxes = colours(bundle(), tmp_path)
    assert spans["p0"] == spans["p1"] == TYPE_COLORS["PER"] == boxes["p0"] == boxes["p1"]
    ctx = open_context(resolve_paths(tmp_path / "data"))
    settings = SettingsView(ctx)
    qtbot.addWidget(settings)
    settings.per_instance_colors.setChecked(True)
    assert per_instance() and QSettings().value("appearance/per_instance_colours", type=bool)  # kept for next time
    spans, rows, boxes = colours(bundle(), tmp_path)
    assert len({spans["p0"], spans["p1"], spans["p2"]}) == 3
    assert spans == rows and {k: spans[k] for k in boxes} == boxes  # one colour per entity everywhere
    ctx.db.close()


def test_the_inspector_redraws_when_the_colour_mode_changes(qtbot, app, tmp_path):
    ctx, post_id = stored_post(tmp_path)
    inspector = InspectorView(ctx)
    qtbot.addWidget(inspector)
    with qtbot.waitSignal(inspector.loaded, timeout=10_000):
        inspector.show_post(post_id)
    assert len({row.color for row in inspector.entities.rows() if row.type == "PER"}) == 1
    dot = inspector.legend.type_buttons["PER"].icon().pixmap(12, 12).toImage().pixelColor(6, 6)
    assert dot == QColor(TYPE_COLORS["PER"])
    settings = SettingsView(ctx)
    qtbot.addWidget(settings)
    with qtbot.waitSignal(inspector.loaded, timeout=10_000):
        settings.per_instance_colors.setChecked(True)
    assert len({row.color for row in inspector.entities.rows()}) == 3
    dot = inspector.legend.type_buttons["PER"].icon().pixmap(12, 12).toImage().pixelColor(6, 6)
    assert dot == QColor(scheme().muted)  # the legend no longer claims that colours mean types
    ctx.db.close()
