"""The app on a retweet wave: Trends and the entity page count originals only unless the analyst asks for
every post, and the inspector shows what a post retweets or quotes. Posts are imported from a twarc2 page
for real; the original's result is saved through the store (its retweets then share it)."""

from __future__ import annotations

import pytest

from groundlens.core.config import resolve_paths
from groundlens.core.ingest import import_paths
from groundlens.gui.app import application
from groundlens.gui.context import open_context
from groundlens.gui.main_window import MainWindow
from groundlens.storage import Store
from tests.helpers.reposts import ORIGINAL, by_native, durant, original_tweet, page, retweet, tweet, write_pages


@pytest.fixture
def window(qtbot, tmp_path):
    paths = resolve_paths(tmp_path / "data").ensure()
    quote = tweet("50", "Brooklyn again, what a crowd", 5, referenced_tweets=[{"type": "quoted", "id": "1"}])
    pages = page([retweet("101", 2), retweet("102", 3), retweet("103", 3), quote], [original_tweet()])
    with Store.open(paths.db_path) as store:
        assert import_paths(store, [write_pages(tmp_path / "wave.jsonl", pages)], download=False).ok
        store.enqueue("cfg")
        original, quote = by_native(store, "1").id, by_native(store, "50").id
        assert store.claim("cfg", "w", 10) == [original, quote]  # the retweets wait for the original
        store.save_results("cfg", [(original, durant(store, "1"), None), (quote, [], None)])
    application()
    win = MainWindow(open_context(paths))
    qtbot.addWidget(win)
    win.resize(1400, 860)
    win.show()
    qtbot.waitUntil(lambda: win.feed.model.rowCount() == 5, timeout=10_000)
    yield win
    win.close()


def test_trends_count_originals_by_default_and_every_post_on_request(qtbot, window):
    trends = window.trends
    with qtbot.waitSignal(trends.loaded, timeout=10_000):
        window.show_page("trends")
    assert trends.counting.currentText() == "original posts only (default)"
    trends.entities_edit.setText("Kevin Durant")
    with qtbot.waitSignal(trends.loaded, timeout=10_000):
        trends.reload()
    assert sum(p.count for p in trends.data.series) == 1
    assert [(c.name, c.count) for c in trends.data.top if c.name == "Kevin Durant"] == [("Kevin Durant", 1)]
    with qtbot.waitSignal(trends.loaded, timeout=10_000):
        trends.counting.setCurrentIndex(1)
    assert sum(p.count for p in trends.data.series) == 4  # the original and its three retweets
    assert [(c.name, c.count) for c in trends.data.top if c.name == "Kevin Durant"] == [("Kevin Durant", 4)]


def test_entity_page_counts_as_chosen(qtbot, window):
    entity_page = window.entity_page
    with qtbot.waitSignal(entity_page.loaded, timeout=10_000):
        window.inspector.entities.entity_opened.emit("kevin durant")
    assert "1 mentions in 1 posts (original posts only)" in entity_page.facts.text()
    assert entity_page.mentions.records.rowCount() == 1
    entity_page.feed_button.click()
    qtbot.waitUntil(lambda: window.feed.model.rowCount() == 1)
    assert window.query_bar.text() == 'entity:"kevin durant" -is:retweet'
    window.show_page("entity")
    with qtbot.waitSignal(entity_page.loaded, timeout=10_000):
        entity_page.counting.setCurrentIndex(1)
    assert "4 mentions in 4 posts (retweets included)" in entity_page.facts.text()
    assert entity_page.mentions.records.rowCount() == 4
    entity_page.feed_button.click()
    qtbot.waitUntil(lambda: window.feed.model.rowCount() == 4)
    assert window.query_bar.text() == 'entity:"kevin durant"'


def test_inspector_shows_the_quoted_text_and_the_retweeted_author(qtbot, window):
    inspector = window.inspector
    with Store.open(window.ctx.paths.db_path) as store:
        quote_id, retweet_id = by_native(store, "50").id, by_native(store, "101").id
    with qtbot.waitSignal(inspector.loaded, timeout=10_000):
        inspector.show_post(quote_id)
    assert "Quotes <b>nba</b>" in inspector.links.text() and ORIGINAL[:60] in inspector.links.text()
    with qtbot.waitSignal(inspector.loaded, timeout=10_000):
        inspector.show_post(retweet_id)
    assert "Retweet of <b>nba</b>'s post" in inspector.links.text()
    assert inspector.bundle.post.text == ORIGINAL
