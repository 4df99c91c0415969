"""The Jobs page's queue counts and failures: read on the database thread, import errors kept here
(they are in no table), grouped by cause for the failures table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QObject, Signal

from groundlens.core.ingest import ImportReport
from groundlens.core.ingest.report import ItemError
from groundlens.gui.models.failures import Failure, FailureGroup, group_failures
from groundlens.gui.workers import DbWorker, Latest
from groundlens.storage import Store

MAX_FAILURES = 500


@dataclass(frozen=True)
class QueueReport:
    """What the Jobs page shows about the queue of one configuration."""

    counts: dict[str, int]  # jobs by state
    unqueued: int  # posts never run with this configuration: they have no job yet
    groups: list[FailureGroup]
    pipeline_failures: int
    image_failures: int
    import_failures: int


def kept_with_its_media(error: ItemError) -> bool:
    """An image that failed is kept failed with its media (Importer._record_media words it "image <url or
    path>: <why>"); the page lists those from the store, current after every retry, not from old reports."""
    return error.reason.startswith("image ") and not error.reason.startswith("image state could not be stored")


class QueueController(QObject):
    loaded = Signal(object)  # QueueReport, only the newest refresh's

    def __init__(self, db: DbWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.import_failures: list[Failure] = []
        self._latest = Latest(self)

    def refresh(self, config_key: str) -> None:
        self.db.submit(
            lambda store: self._read(store, config_key), self._latest.only(self._latest.start(), self.loaded.emit)
        )

    def add_import_report(self, report: ImportReport) -> None:
        now = datetime.now(UTC)
        new = [Failure(now, "import", e.location, e.reason) for e in report.errors if not kept_with_its_media(e)]
        again = {(f.where, f.reason) for f in new}  # a re-import that fails alike replaces, not repeats
        kept = [f for f in self.import_failures if (f.where, f.reason) not in again]
        self.import_failures = (new + kept)[:MAX_FAILURES]

    def clear_import_failures(self) -> None:
        self.import_failures = []

    def _read(self, store: Store, key: str) -> QueueReport:
        counts, failed = store.job_counts(key), store.failed_jobs(key, MAX_FAILURES)
        images, posts = store.unusable_media(MAX_FAILURES), store.count_posts()
        pipeline = [
            Failure(job.updated_at, "pipeline", f"post {job.post_id}", job.error or "unknown error", job.post_id)
            for job in failed
        ]
        image = [
            Failure(
                None,
                "image",
                f"post {post_id}",
                f"{media.url or media.local_path}: {media.error or media.status}",
                post_id,
            )
            for post_id, media in images
        ]
        imports = list(self.import_failures)
        return QueueReport(
            counts,
            posts - sum(counts.values()),
            group_failures(pipeline + image + imports),
            len(pipeline),
            len(image),
            len(imports),
        )
