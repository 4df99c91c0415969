"""Imports as plain functions for a worker thread: each opens its own Store (SQLite wants one
connection per thread), checked so that a damaged database is refused rather than written into,
and reports through `progress`, stopping when `cancel` is set."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from groundlens.core.ingest import ImportProgress, ImportReport, fetch_images, import_items, import_paths
from groundlens.gui.widgets.x_import_dialog import XRequest
from groundlens.storage import Store

Progress = Callable[[ImportProgress], None]
STREAM_BATCH = 20  # streamed posts trickle in: store them in small batches so they show up soon


def import_files(db_path: Path, paths: list[str], progress: Progress, cancel: threading.Event) -> ImportReport:
    """Local images are copied into the data folder's cache, as the Jobs page says: the posts keep
    their pictures (and boxes) when the analyst's folder moves."""
    with Store.open(db_path, check=True) as store:
        return import_paths(store, paths, progress=progress, cancel=cancel, copy_images=True)


def retry_images(db_path: Path, progress: Progress, cancel: threading.Event) -> ImportReport:
    with Store.open(db_path, check=True) as store:
        return fetch_images(store, retry_failed=True, progress=progress, cancel=cancel)


def import_from_x(
    db_path: Path, request: XRequest, token: str, progress: Progress, cancel: threading.Event
) -> ImportReport:
    from groundlens.core.ingest import x_api  # tweepy is only needed when someone uses the API

    batch_size = None
    if request.mode == "stream":
        stream, lines = x_api.make_stream(token)
        items = x_api.stream_posts(stream, lines, rules=[request.query], max_posts=request.max_posts, cancel=cancel)
        batch_size = STREAM_BATCH
    else:
        client = x_api.make_client(token)
        fetch = x_api.search_recent if request.mode == "search" else x_api.user_timeline
        items = fetch(client, request.query, max_posts=request.max_posts, cancel=cancel)
    with Store.open(db_path, check=True) as store:
        extra = {"batch_size": batch_size} if batch_size else {}
        return import_items(
            store, items, source=f"X {request.mode}: {request.query}", progress=progress, cancel=cancel, **extra
        )
