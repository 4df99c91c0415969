"""How much of a trend range the pipeline has processed, so a chart is read against what it covers.

A range half processed shows half the mentions; a week that has only begun shows a few days' worth.
Both look like a collapse unless the view says so: `coverage` gives the counts it needs.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta

from groundlens.storage.db import DAY_SECONDS, from_epoch
from groundlens.storage.search import Where
from groundlens.storage.trends import When, day_range

_PROCESSED = "EXISTS (SELECT 1 FROM jobs WHERE jobs.post_id = posts.id AND jobs.state = 'done')"


@dataclass(frozen=True)
class Coverage:
    posts: int  # posts in the range; with no range, every post (undated ones included)
    processed: int  # of those, posts with a finished pipeline result (under any configuration)
    undated: int  # posts without a date: in all-time rankings, never on a time line
    last_day: date | None  # the date of the latest dated post; a bucket reaching past it is partial

    @property
    def share(self) -> float:
        return self.processed / self.posts if self.posts else 1.0

    def is_partial(self, bucket_start: date, days: int) -> bool:
        """Whether a bucket reaches past the latest post (a week just begun): its low count means
        "not over yet", not a collapse."""
        return self.last_day is not None and bucket_start + timedelta(days=days - 1) > self.last_day

    def summary(self, ranged: bool) -> str:
        """One line for the GUI and the CLI: the processed share, and where the undated posts count."""
        where = "in the selected range" if ranged else "in all"
        text = f"Processed {self.processed:,} of {self.posts:,} posts {where} ({self.share:.0%})."
        if self.undated:
            posts = f"{self.undated:,} post has" if self.undated == 1 else f"{self.undated:,} posts have"
            text += f" {posts} no date: their mentions are in the all-time top entities, not on the time line."
        return text


def coverage(conn: sqlite3.Connection, start: When, end: When) -> Coverage:
    """Counts over [start, end) in whole UTC days, like the trend queries (None: open on that side)."""
    where = Where()
    first, stop = day_range(start, end)
    if first is not None:
        where.add("created_at >= ?", first * DAY_SECONDS)
    if stop is not None:
        where.add("created_at < ?", stop * DAY_SECONDS)
    posts, processed = conn.execute(
        f"SELECT COUNT(*), COALESCE(SUM({_PROCESSED}), 0) FROM posts WHERE {where.sql()}", where.params
    ).fetchone()
    undated = conn.execute("SELECT COUNT(*) FROM posts WHERE created_at IS NULL").fetchone()[0]
    latest = from_epoch(conn.execute("SELECT MAX(created_at) FROM posts").fetchone()[0])
    return Coverage(posts, processed, undated, latest.date() if latest else None)
