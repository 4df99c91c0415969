"""The queue the app shows is the configuration's it runs: the status bar and the Jobs page agree."""

from __future__ import annotations

from groundlens.storage import Store
from tests.helpers.storage import make_post


def test_status_bar_and_jobs_page_count_the_queue_of_the_configuration_the_app_runs(qtbot, window):
    with Store.open(window.ctx.paths.db_path) as store:
        store.upsert_posts([make_post(f"new-{i}", f"Fresh post {i} about Grace Hopper") for i in range(3)])
        store.enqueue("another-configuration", store.post_ids(None))  # left by a one-off `process --ner spacy`
        own = store.job_counts(window.jobs.config_key)
    assert sum(own.values()) == 10  # the demo's posts are done with the app's configuration; the new ones have no job
    window.refresh_status()
    qtbot.waitUntil(lambda: "13 posts" in window.counts_label.text(), timeout=10_000)
    assert "pending" not in window.counts_label.text()  # the 13 are pending only for another configuration

    window.show_page("jobs")
    qtbot.waitUntil(lambda: "3 posts not run with it yet" in window.jobs.queue_label.text(), timeout=5_000)
    assert window.jobs.queue_label.text().startswith("Queue for this configuration: 0 pending")
