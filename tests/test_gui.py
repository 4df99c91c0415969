"""The desktop app driven the way an analyst uses it: open the demo, move through posts,
toggle overlays, search (and mistype a query), open an entity, read a trend, import, run and
cancel the pipeline. The demo data is imported for real; predictions are written through the
store API so the tests do not wait for models."""

from __future__ import annotations

import csv
import json
from datetime import UTC
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QKeySequence, QTextCursor
from PySide6.QtWidgets import QApplication, QTextBrowser

from groundlens.core.config import resolve_paths
from groundlens.core.demo import prepare_demo
from groundlens.core.settings import Settings
from groundlens.gui import import_tasks
from groundlens.gui.app import application
from groundlens.gui.context import open_context
from groundlens.gui.main_window import with_date_range
from groundlens.gui.shortcuts import SHORTCUTS
from groundlens.gui.widgets.image_canvas import LAYERS
from groundlens.storage import Store
from tests.helpers.gui import open_native


def press(qtbot, win, keys: str) -> None:
    """A real key press in the feed, the widget an analyst has focused while browsing."""
    combo = QKeySequence(keys)[0]
    win.activateWindow()
    win.feed.list.setFocus()
    qtbot.keyClick(win.feed.list, combo.key(), combo.keyboardModifiers())


def test_feed_lists_demo_posts_newest_first_with_badges(window):
    model = window.feed.model
    rows = [model.summary(i) for i in range(model.rowCount())]
    assert all(r is not None for r in rows)
    dates = [r.created_at for r in rows]
    assert dates == sorted(dates, reverse=True)
    assert window.feed.count_label.text() == "10 posts"
    assert {r.pipeline_state for r in rows} == {"done"}
    assert sum(r.n_groundable for r in rows) == 4


def test_moving_through_posts_updates_the_inspector(qtbot, window):
    first = window.inspector.post_id
    press(qtbot, window, "J")
    qtbot.waitUntil(
        lambda: (
            window.inspector.post_id != first
            and window.inspector.bundle is not None
            and window.inspector.bundle.post.id == window.inspector.post_id
        )
    )
    second = window.inspector.post_id
    press(qtbot, window, "K")
    qtbot.waitUntil(lambda: window.inspector.post_id == first)
    assert second == window.feed.model.post_id(1)


def test_overlays_toggle_by_layer_type_and_gold(qtbot, window):
    open_native(qtbot, window, "demo-001")
    canvas = window.inspector.canvas
    assert canvas.visible_keys("masks") == ["p0"]  # Grace Hopper, the only located entity
    press(qtbot, window, "M")
    assert canvas.visible_keys("masks") == []
    press(qtbot, window, "M")
    assert canvas.visible_keys("masks") == ["p0"]
    press(qtbot, window, "B")
    assert canvas.visible_keys("boxes") == []
    press(qtbot, window, "L")
    assert canvas.visible_keys("labels") == []
    press(qtbot, window, "B")
    press(qtbot, window, "L")
    window.inspector.legend.type_buttons["PER"].click()
    assert canvas.visible_keys("boxes") == []
    window.inspector.legend.type_buttons["PER"].click()
    assert "g0" not in canvas.visible_keys("boxes")
    press(qtbot, window, "G")
    assert set(canvas.visible_keys("boxes")) == {"p0", "g0"}
    window.inspector.overlay_bar.opacity.setValue(80)
    assert canvas.mask_opacity == pytest.approx(0.8)


def test_typing_in_the_search_bar_does_not_trigger_shortcuts(qtbot, window):
    press(qtbot, window, "/")
    assert window.query_bar.edit.hasFocus()
    qtbot.keyClicks(window.query_bar.edit, "mbl")
    assert window.query_bar.edit.text() == "mbl"
    assert all(window.inspector.canvas.layers[layer] for layer in LAYERS)  # m, b, l typed, not toggled


def test_zoom_keys_and_fit(qtbot, window):
    canvas = window.inspector.canvas
    fitted = canvas.current_scale()
    press(qtbot, window, "+")
    assert canvas.current_scale() == pytest.approx(fitted * 1.25)
    press(qtbot, window, "-")
    press(qtbot, window, "-")
    assert canvas.current_scale() == pytest.approx(fitted / 1.25)
    press(qtbot, window, "1")
    assert canvas.current_scale() == pytest.approx(1.0)
    press(qtbot, window, "0")
    assert canvas.current_scale() == pytest.approx(fitted)


def test_entity_text_chips_and_regions_highlight_each_other(qtbot, window):
    open_native(qtbot, window, "demo-001")
    inspector = window.inspector
    rows = {row.text: row for row in inspector.bundle.rows(has_image=True)}
    assert rows["Grace Hopper"].grounding == "in image"
    assert rows["COBOL"].grounding == "not in image"  # shown as a dashed "not in image" chip
    canvas = inspector.canvas
    assert focused_entities(inspector.text) == set()
    canvas.entity_hovered.emit("p0")  # hovering Grace Hopper's region puts her name in bold
    assert focused_entities(inspector.text) == {"p0"}
    canvas.set_layer_visible("boxes", False)  # with boxes off, a box shows only for the entity in focus
    inspector.text.entity_hovered.emit("p0")
    assert canvas.visible_keys("boxes") == ["p0"]
    inspector.text.entity_hovered.emit("")
    assert canvas.visible_keys("boxes") == []
    inspector.entities.entity_selected.emit("p0")
    assert canvas.visible_keys("boxes") == ["p0"] and inspector.entities.currentRow() == 0


def focused_entities(text: QTextBrowser) -> set[str]:
    """Links (entity anchors) of the rendered post text drawn underlined, as the entity in focus is (not bold:
    a bolder word would reflow the text under the pointer)."""
    document, found = text.document(), set()
    cursor = QTextCursor(document)
    for position in range(1, document.characterCount()):
        cursor.setPosition(position)  # charFormat: of the character before the cursor
        character = cursor.charFormat()
        if character.isAnchor() and character.fontUnderline():
            found.add(character.anchorHref().rpartition(":")[2])
    return found


def test_search_filters_feed_and_shows_malformed_query_inline(qtbot, window):
    bar = window.query_bar
    bar.set_text('"grace hopper"')
    qtbot.waitUntil(lambda: window.feed.model.rowCount() == 4)
    assert bar.error.isHidden()
    bar.set_text("type:XYZ")
    qtbot.waitUntil(lambda: not bar.error.isHidden())
    assert "bad type" in bar.error.text() and "column" in bar.error.text()
    assert QApplication.activeModalWidget() is None
    assert window.feed.model.rowCount() == 4  # the last good results stay
    bar.set_text('"unbalanced')
    qtbot.waitUntil(lambda: "quote" in bar.error.text())
    bar.set_text("")
    qtbot.waitUntil(lambda: window.feed.model.rowCount() == 10 and bar.error.isHidden())


def test_search_page_lists_posts_and_entities(qtbot, window):
    press(qtbot, window, "Ctrl+2")
    search = window.search
    window.query_bar.set_text("nasa")
    qtbot.waitUntil(lambda: search.post_table.records.rowCount() == 4)
    assert "of 4 posts" in search.summary.text()
    search.entities_button.click()
    qtbot.waitUntil(lambda: search.entity_table.records.rowCount() > 0)
    names = [e.name for e in search.entity_table.records.records]
    assert "NASA" in names
    window.query_bar.set_text("author:")
    qtbot.waitUntil(lambda: not window.query_bar.error.isHidden())


def test_entity_page_shows_mentions_cooccurrences_and_crops(qtbot, window):
    page = window.entity_page
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        window.inspector.entities.entity_opened.emit("grace hopper")
    assert window.current_page() == "entity"
    assert page.gallery.count() == 1
    assert page.title.text() == "Grace Hopper"
    assert page.mentions.records.rowCount() == 3
    assert "3 mentions in 3 posts" in page.facts.text()
    cooccurring = {c.name for c in page.cooccurring.records.records}
    assert {"Navy", "MIT"} <= cooccurring
    page.feed_button.click()
    qtbot.waitUntil(lambda: window.feed.model.rowCount() == 3)
    assert window.current_page() == "explore"


def test_trends_chart_range_filters_feed_and_exports(qtbot, window, tmp_path):
    trends = window.trends
    with qtbot.waitSignal(trends.loaded, timeout=10_000):
        window.show_page("trends")
    lines = trends.series_axes.get_lines()
    assert {line.get_label() for line in lines} == {"PER", "LOC", "ORG", "OTHER"}
    trends.entities_edit.setText("NASA, Grace Hopper")
    with qtbot.waitSignal(trends.loaded, timeout=10_000):
        trends.reload()
    assert {line.get_label() for line in trends.series_axes.get_lines()} == {"NASA", "Grace Hopper"}
    from datetime import date

    with qtbot.waitSignal(trends.loaded, timeout=10_000):
        trends.select_range(date(2026, 11, 1), date(2026, 11, 10))
    assert all(c.count for c in trends.data.top)
    assert window.query_bar.text() == "after:2026-11-01 before:2026-11-11"  # the feed follows at once
    qtbot.waitUntil(lambda: window.feed.model.rowCount() == 3)
    assert window.current_page() == "trends"
    trends.filter_button.click()
    assert window.current_page() == "explore"
    trends.export_png(tmp_path / "t.png")
    trends.export_csv(tmp_path / "t.csv")
    assert (tmp_path / "t.png").stat().st_size > 1000
    rows = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert {r["label"] for r in rows} == {"NASA", "Grace Hopper"}
    assert sum(int(r["mentions"]) for r in rows if r["label"] == "NASA") == 4
    trends.clear_selection()
    qtbot.waitUntil(lambda: window.feed.model.rowCount() == 10)
    assert window.query_bar.text() == ""


def test_date_range_replaces_only_date_filters():
    assert (
        with_date_range("nasa after:2020-01-01 type:ORG", "after:2026-11-01 before:2026-11-11")
        == "nasa type:ORG after:2026-11-01 before:2026-11-11"
    )
    assert with_date_range("nasa date:2026-11", "") == "nasa"


def test_import_file_adds_posts_and_lists_bad_lines(qtbot, window, tmp_path):
    source = tmp_path / "more.jsonl"
    source.write_text(
        '{"id": "x1", "text": "Hello from Lisbon", "created_at": "2026-11-18T10:00:00Z"}\n{not json\n', encoding="utf-8"
    )
    jobs = window.jobs
    with qtbot.waitSignal(jobs.results_changed, timeout=10_000):
        assert jobs.start_import(
            "more.jsonl",
            lambda progress, cancel: import_tasks.import_files(
                window.ctx.paths.db_path, [str(source)], progress, cancel
            ),
        )
    assert "1 posts added" in jobs.import_status.text()
    qtbot.waitUntil(lambda: window.feed.model.rowCount() == 11)
    qtbot.waitUntil(
        lambda: any(g.kind == "import" and "invalid JSON" in g.cause for g in jobs.failures.records.records)
    )


@pytest.mark.slow
def test_pipeline_run_starts_reports_and_cancels(qtbot, window):
    jobs = window.jobs
    with Store.open(window.ctx.paths.db_path) as store:
        store.retry_failed(jobs.config_key)
        ids = store.post_ids(None)
    # A new configuration key makes every post pending again, so the run has work to cancel.
    settings = Settings(pipeline=window.ctx.settings.settings.pipeline.with_stage("expression", None), batch_size=1)
    window.ctx.settings.save(settings)  # what the Settings page does; the Jobs page follows
    assert jobs.config_key == settings.pipeline.key()
    window.show_page("jobs")
    jobs.start_pipeline()
    assert jobs.pipeline_running and not jobs.run_button.isEnabled()
    jobs.cancel_pipeline()
    qtbot.waitUntil(lambda: not jobs.pipeline_running, timeout=120_000)
    assert jobs.run_button.isEnabled()
    status = jobs.pipeline_status.text().lower()
    assert any(word in status for word in ("cancelled", "finished")) and "failed" not in status, status
    with Store.open(window.ctx.paths.db_path) as store:
        counts = store.job_counts(jobs.config_key)
    assert counts["running"] == 0 and sum(counts.values()) == len(ids)


def test_settings_save_and_reject_bad_options(qtbot, window):
    settings_page = window.settings
    with qtbot.waitSignal(settings_page.populated, timeout=20_000):
        window.show_page("settings")
    assert "mobile_sam" in [settings_page.backends["segmentation"].itemText(i) for i in range(3)]
    settings_page.groundable.setValue(0.7)
    settings_page.save()
    saved = json.loads(window.ctx.paths.settings_file.read_text())
    assert saved["pipeline"]["groundable_threshold"] == pytest.approx(0.7)
    assert window.ctx.settings.settings.pipeline.groundable_threshold == pytest.approx(0.7)
    settings_page.options["grounding"].setText("{not json")
    settings_page.save()
    assert "not valid JSON" in settings_page.message.text()


def test_shortcut_sheet_and_status_bar(qtbot, window):
    from groundlens.gui.widgets.shortcut_sheet import sheet_html

    html = sheet_html()
    assert all(s.description.split(" (")[0] in html.replace("&#x27;", "'") for s in SHORTCUTS)
    keys = [k for s in SHORTCUTS for k in s.keys]
    assert len(keys) == len(set(keys))
    qtbot.waitUntil(lambda: "10 posts" in window.counts_label.text())
    assert "mentions" in window.counts_label.text()


def test_entity_spans_render_in_type_colours_and_escape_text():
    from groundlens.gui.models.presentation import Span
    from groundlens.gui.theme import TYPE_COLORS, readable, tinted
    from groundlens.gui.widgets.entity_text import render_html

    html = render_html(
        "<b>Grace Hopper</b> at MIT",
        [Span("p0", 3, 15, "PER"), Span("p1", 23, 26, "ORG"), Span("p2", 5, 9, "LOC")],
        highlight="p1",
    )
    assert "&lt;b&gt;" in html and 'href="ent:p0"' in html and 'href="ent:p1"' in html
    assert 'href="ent:p2"' not in html  # overlaps p0: left plain rather than nesting anchors
    for kind in ("PER", "ORG"):  # the highlight in the type's colour, its label in a shade that reads as text
        assert tinted(TYPE_COLORS[kind], 0.18) in html or tinted(TYPE_COLORS[kind], 0.45) in html
        assert f"color:{readable(TYPE_COLORS[kind])};" in html
    assert html.count("text-decoration:underline") == 1  # only the highlighted span, and in colour alone:
    assert "font-weight:600" not in html  # bold would widen it and reflow the text under the pointer


def test_mask_overlay_is_premultiplied_colour_inside_and_transparent_outside():
    from PySide6.QtGui import QColor

    from groundlens.gui.mask_image import cropped_mask_image, mask_to_qimage

    mask = np.zeros((40, 60), bool)
    mask[10:20, 30:50] = True
    image = mask_to_qimage(mask, QColor("#0072B2"), alpha=0.5)
    assert (image.width(), image.height()) == (60, 40)
    assert image.pixel(0, 0) == 0
    inside = image.pixelColor(35, 15)  # un-premultiplied
    assert inside.alpha() in (127, 128) and abs(inside.blue() - 0xB2) <= 2
    cropped, offset = cropped_mask_image(mask, QColor("red"))
    assert offset == (30, 10) and (cropped.width(), cropped.height()) == (20, 10)
    assert cropped_mask_image(np.zeros((5, 5), bool), QColor("red")) is None


def test_gui_docs_list_every_shortcut():
    from groundlens.gui.shortcuts import shortcuts_markdown

    assert shortcuts_markdown() in (Path(__file__).resolve().parent.parent / "docs" / "GUI.md").read_text(
        encoding="utf-8"
    )


def test_demo_is_imported_once_and_queued(tmp_path):
    paths = resolve_paths(tmp_path / "data")
    first = prepare_demo(paths)
    assert first.paths.data_dir == paths.data_dir / "demo"
    assert first.imported is not None and first.imported.posts_inserted == 10 and not first.imported.errors
    assert first.pending == 10
    again = prepare_demo(paths)
    assert again.imported is None and again.pending == 10
    with Store.open(again.paths.db_path) as store:
        posts = [store.get_post(i) for i in store.post_ids(None)]
    with_images = [p for p in posts if p.media]
    assert len(with_images) == 7 and all(
        Path(p.media[0].local_path).is_relative_to(again.paths.data_dir) for p in with_images
    )


def test_thumbnails_load_off_the_main_thread_and_are_cached(qtbot):
    from groundlens.core.demo import DEMO_DIR
    from groundlens.gui.workers import ThumbnailCache

    application()
    cache = ThumbnailCache(side=48)
    photo = str(DEMO_DIR / "images" / "chelsea.jpg")
    with qtbot.waitSignal(cache.loaded, timeout=5000) as loaded:
        assert cache.get(photo) is None  # not yet: decoding on the pool
    assert loaded.args == [photo]
    pixmap = cache.get(photo)
    assert pixmap is not None and min(pixmap.width(), pixmap.height()) == 48
    missing = str(DEMO_DIR / "images" / "no-such-file.jpg")
    with qtbot.waitSignal(cache.loaded, timeout=5000):
        cache.get(missing)
    assert cache.get(missing) is None


def test_feed_reads_only_the_rows_on_screen(qtbot, tmp_path):
    from datetime import datetime, timedelta

    from groundlens.gui.models.feed_model import PAGE_SIZE
    from groundlens.gui.views.feed import FeedView
    from groundlens.records import Post

    application()
    paths = resolve_paths(tmp_path / "big").ensure()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with Store.open(paths.db_path) as store:
        store.upsert_posts(
            Post("bench", str(i), f"post {i}", created_at=start + timedelta(minutes=i)) for i in range(3000)
        )
    ctx = open_context(paths)
    feed = FeedView(ctx)
    qtbot.addWidget(feed)
    feed.resize(400, 700)
    feed.show()
    feed.set_query(None)
    qtbot.waitUntil(lambda: feed.model.rowCount() == 3000 and feed.model.summary(0) is not None, timeout=15_000)
    assert feed.model.loaded_pages() == [0]
    last_page = (3000 - 1) // PAGE_SIZE

    def scrolled_to_the_end() -> bool:
        feed.list.scrollToBottom()  # again each time: the batched layout may still be growing the range
        return last_page in feed.model.loaded_pages()

    qtbot.waitUntil(scrolled_to_the_end, timeout=15_000)
    assert len(feed.model.loaded_pages()) <= 6  # of 30: only where the view has been
    assert feed.model.summary(2999).snippet == "post 0"  # oldest last
    ctx.db.close()


def test_without_a_display_the_app_explains_instead_of_aborting(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from groundlens.cli import cli

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no display" in result.stderr and "QT_QPA_PLATFORM=offscreen" in result.stderr
