"""The analyst's workflow tools through the real window and a real database: select posts (click, Shift,
Ctrl, select all matching), tag them, delete them, run the pipeline on them again, save searches whose
counts follow imports, and filter by `tag:` and `saved:`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from groundlens.core.config import resolve_paths
from groundlens.core.settings import Settings
from groundlens.gui import import_tasks
from groundlens.gui.app import application
from groundlens.gui.context import open_context
from groundlens.gui.main_window import MainWindow
from groundlens.gui.views.feed import FeedView
from groundlens.records import Entity, Post
from groundlens.storage import Store

POSTS = 1_200
START = datetime(2026, 1, 1, tzinfo=UTC)


def corpus_post(i: int) -> Post:
    """Post i: every third one about floods in Valencia, the rest about a match in Madrid."""
    text = f"Flood warning {i} for Valencia" if i % 3 == 0 else f"Match report {i} from Madrid"
    return Post(source="jsonl", native_id=f"p{i}", text=text, created_at=START + timedelta(minutes=i))


@pytest.fixture
def paths(tmp_path):
    """A data folder with POSTS posts, each with a finished pipeline result under the app's configuration."""
    paths = resolve_paths(tmp_path / "data").ensure()
    key = Settings.load(paths.settings_file).pipeline.key()
    with Store.open(paths.db_path) as store:
        posts = [corpus_post(i) for i in range(POSTS)]
        store.upsert_posts(posts)
        results = []
        for post in posts:
            name = "Valencia" if "Valencia" in post.text else "Madrid"
            start = post.text.index(name)
            results.append((post.id, [Entity(start, start + len(name), name, "LOC", score=0.9)], None))
        store.save_results(key, results)
    return paths


@pytest.fixture
def window(qtbot, paths):
    application()
    win = MainWindow(open_context(paths))
    qtbot.addWidget(win)
    win.resize(1400, 860)
    win.show()
    qtbot.waitUntil(lambda: win.feed.model.rowCount() == POSTS, timeout=10_000)
    yield win
    win.close()


def click_row(qtbot, feed: FeedView, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A real mouse click on a feed row (scrolled into view first), with Shift or Ctrl held as given."""
    index = feed.model.index(row)
    feed.list.scrollTo(index)
    qtbot.mouseClick(feed.list.viewport(), Qt.MouseButton.LeftButton, modifier, feed.list.visualRect(index).center())


def run_bulk(qtbot, bar, button) -> str:
    with qtbot.waitSignal(bar.finished, timeout=20_000) as outcome:
        button.click()
    return outcome.args[0]


def posts_with(paths, query: str) -> list[int]:
    with Store.open(paths.db_path) as store:
        return store.post_ids(query)


def test_bulk_tagging_of_a_thousand_shift_selected_posts(qtbot, window, paths):
    feed = window.feed
    click_row(qtbot, feed, 0)
    click_row(qtbot, feed, 999, Qt.KeyboardModifier.ShiftModifier)
    assert feed.bulk.count_label.text() == "1,000 posts selected"
    feed.bulk.tag_name.setEditText("to check")
    assert run_bulk(qtbot, feed.bulk, feed.bulk.tag_button) == "Tagged 1,000 posts 'to check'"
    assert posts_with(paths, 'tag:"to check"') == [feed.model.post_id(row) for row in range(1000)]
    window.query_bar.set_text('tag:"TO CHECK"')  # the filter, typed in the bar, finds exactly them
    qtbot.waitUntil(lambda: feed.model.rowCount() == 1000)
    assert feed.count_label.text() == "1,000 posts matching"
    qtbot.waitUntil(lambda: feed.bulk.tag_name.findText("to check") >= 0)  # offered for the next time


def test_select_all_matching_less_a_ctrl_click_tags_the_query_without_it(qtbot, window, paths):
    feed = window.feed
    window.query_bar.set_text("flood")
    qtbot.waitUntil(lambda: feed.model.rowCount() == POSTS // 3)
    feed.select_all_button.click()
    assert feed.bulk.count_label.text() == "all 400 matching posts selected"
    click_row(qtbot, feed, 5, Qt.KeyboardModifier.ControlModifier)  # untick one
    left_out = feed.model.post_id(5)
    assert feed.bulk.count_label.text() == "399 posts selected"
    feed.bulk.tag_name.setEditText("floods")
    assert run_bulk(qtbot, feed.bulk, feed.bulk.tag_button) == "Tagged 399 posts 'floods'"
    tagged = posts_with(paths, "tag:floods")
    assert len(tagged) == 399 and left_out not in tagged and set(tagged) < set(posts_with(paths, "flood"))


def test_delete_of_a_selection_after_confirming(qtbot, window, paths, monkeypatch):
    feed = window.feed
    click_row(qtbot, feed, 2)
    click_row(qtbot, feed, 4, Qt.KeyboardModifier.ControlModifier)
    click_row(qtbot, feed, 7, Qt.KeyboardModifier.ControlModifier)
    doomed = [feed.model.post_id(row) for row in (2, 4, 7)]
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.No)
    feed.bulk.delete_button.click()  # refused: nothing happens
    assert len(posts_with(paths, None)) == POSTS
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Yes)
    assert run_bulk(qtbot, feed.bulk, feed.bulk.delete_button) == "Deleted 3 posts"
    qtbot.waitUntil(lambda: feed.model.rowCount() == POSTS - 3)
    remaining = posts_with(paths, None)
    assert len(remaining) == POSTS - 3 and not set(doomed) & set(remaining)
    with Store.open(paths.db_path) as store:
        assert sum(c.count for c in store.top_entities()) == POSTS - 3  # trends no longer count them
        assert store.integrity_problems() == []


def test_rerun_queues_exactly_the_selection(qtbot, paths):
    """The bar of a feed alone (the window would start a real pipeline worker on them): the posts selected,
    and only those, go back to the queue of the configuration the app runs."""
    application()
    ctx = open_context(paths)
    feed = FeedView(ctx)
    qtbot.addWidget(feed)
    feed.resize(600, 800)
    feed.show()
    key = Settings.load(paths.settings_file).pipeline.key()
    feed.bulk.config_key = lambda: key
    feed.set_query("valencia")
    qtbot.waitUntil(lambda: feed.model.rowCount() == POSTS // 3)
    click_row(qtbot, feed, 10)
    click_row(qtbot, feed, 12, Qt.KeyboardModifier.ShiftModifier)
    click_row(qtbot, feed, 30, Qt.KeyboardModifier.ControlModifier)
    chosen = sorted(feed.model.post_id(row) for row in (10, 11, 12, 30))
    with qtbot.waitSignal(feed.bulk.rerun_queued, timeout=10_000) as queued:
        feed.bulk.rerun_button.click()
    assert queued.args == [4]
    ctx.db.close()
    with Store.open(paths.db_path) as store:
        assert store.job_counts(key) == {"pending": 4, "running": 0, "done": POSTS - 4, "failed": 0}
        assert store.claim(key, "test", POSTS) == chosen


def test_saved_search_counts_follow_an_import_and_run_from_the_sidebar(qtbot, window, paths, tmp_path):
    panel = window.saved_searches
    window.query_bar.set_text("flood valencia")
    panel.save_button.click()
    dialog = panel.dialog
    assert dialog.query_edit.text() == "flood valencia"  # the bar's query, ready to name
    dialog.name_edit.setText("Valencia floods")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: panel.counts() == {"Valencia floods": "Valencia floods  (400)"})
    assert not dialog.isVisible()

    source = tmp_path / "more.jsonl"
    source.write_text(
        "".join(f'{{"id": "new{i}", "text": "New flood alert {i} in Valencia"}}\n' for i in range(5)), encoding="utf-8"
    )
    window.jobs.start_import(
        "more.jsonl",
        lambda progress, cancel: import_tasks.import_files(paths.db_path, [str(source)], progress, cancel),
    )
    qtbot.waitUntil(lambda: panel.counts() == {"Valencia floods": "Valencia floods  (405)"}, timeout=20_000)

    panel.list.setCurrentRow(0)
    panel.list.itemClicked.emit(panel.list.item(0))
    assert window.query_bar.text() == 'saved:"Valencia floods"'
    qtbot.waitUntil(lambda: window.feed.model.rowCount() == 405)


def test_saved_search_edit_refuses_a_circle_and_renames(qtbot, window):
    panel = window.saved_searches
    window.query_bar.set_text("madrid")
    panel.save_button.click()
    panel.dialog.name_edit.setText("matches")
    panel.dialog.buttons.button(panel.dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: panel.counts() == {"matches": "matches  (800)"})
    panel.list.setCurrentRow(0)
    panel.edit_button.click()
    dialog = panel.dialog
    dialog.query_edit.setText("saved:matches")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: "refers to itself" in dialog.error.text())
    assert dialog.isVisible()  # still open, with the reason, for the analyst to fix
    dialog.name_edit.setText("Madrid matches")
    dialog.query_edit.setText("madrid -saved:nothing")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: "no saved search is named 'nothing'" in dialog.error.text())
    dialog.query_edit.setText("madrid after:2026-01-01T10:00")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: panel.counts() == {"Madrid matches": "Madrid matches  (400)"})


def test_search_results_select_all_matching_across_pages(qtbot, window, paths):
    window.query_bar.set_text("madrid")
    window.show_page("search")
    search = window.search
    qtbot.waitUntil(lambda: search.select_all_button.text() == "Select all 800 matching")
    search.select_all_button.click()
    assert search.bulk.count_label.text() == "all 800 matching posts selected"
    table = search.post_table
    first = table.records.record(0).id
    index = table.model().index(0, 0)
    qtbot.mouseClick(
        table.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        table.visualRect(index).center(),
    )
    assert search.bulk.count_label.text() == "799 posts selected"
    search.next_button.click()  # the next page comes selected too
    qtbot.waitUntil(lambda: table.records.record(0) is not None and table.records.record(0).id != first)
    assert len(table.selectionModel().selectedRows()) == 50
    search.bulk.tag_name.setEditText("sport")
    assert run_bulk(qtbot, search.bulk, search.bulk.tag_button) == "Tagged 799 posts 'sport'"
    tagged = posts_with(paths, "tag:sport")
    assert len(tagged) == 799 and first not in tagged
    # the page shown again has a Tags column saying so
    tags_column = [c.title for c in table.records.columns].index("Tags")
    qtbot.waitUntil(lambda: table.records.index(0, tags_column).data() == "sport")


def test_reject_and_confirm_an_entity_in_the_selected_posts(qtbot, window, paths):
    feed = window.feed
    window.query_bar.set_text("flood")
    qtbot.waitUntil(lambda: feed.model.rowCount() == POSTS // 3)
    click_row(qtbot, feed, 0)
    click_row(qtbot, feed, 2, Qt.KeyboardModifier.ShiftModifier)
    rejected = [feed.model.post_id(row) for row in range(3)]
    feed.bulk.entity_name.setText("valencia")
    assert run_bulk(qtbot, feed.bulk, feed.bulk.reject_button) == "Rejected 3 mentions of 'valencia'"
    assert len(posts_with(paths, "entity:valencia")) == POSTS // 3 - 3
    assert not set(rejected) & set(posts_with(paths, "entity:valencia"))
    click_row(qtbot, feed, 3)
    assert run_bulk(qtbot, feed.bulk, feed.bulk.confirm_button) == "Confirmed 1 mention of 'valencia'"
    with Store.open(paths.db_path) as store:
        made = store.corrections()
        assert sorted((c.kind, c.post_id) for c in made) == sorted(
            [("delete", post_id) for post_id in rejected] + [("type", feed.model.post_id(3))]
        )
