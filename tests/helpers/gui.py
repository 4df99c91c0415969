"""Driving the real main window in widget tests."""

from __future__ import annotations

from groundlens.gui.main_window import MainWindow


def feed_row(win: MainWindow, native_id: str) -> int | None:
    """The feed's row of that post, once the row's summary has loaded (None until then)."""
    model = win.feed.model
    for row in range(model.rowCount()):
        summary = model.summary(row)
        if summary is not None and summary.native_id == native_id:
            return row
    return None


def open_native(qtbot, win: MainWindow, native_id: str) -> None:
    """Select that post in the feed and wait until the inspector shows it with its image."""
    qtbot.waitUntil(lambda: feed_row(win, native_id) is not None, timeout=10_000)
    row = feed_row(win, native_id)
    model = win.feed.model
    with qtbot.waitSignal(win.inspector.loaded, check_params_cb=lambda post_id: post_id == model.post_id(row)):
        win.feed.select_row(row)
    assert win.inspector.bundle.post.native_id == native_id and win.inspector.canvas.has_image()
