"""Images the store calls downloaded whose file has gone (the cache deleted, a photo folder moved).

Their media stayed "ok", so `import --retry-images` fetched nothing and `process` quietly treated
the posts as text only. A vanished file is put back to "pending" when it has a URL to fetch it
from again, else marked "missing"; either way the post's image has changed availability, so its
pipeline result is redone once the image is back (storage/job_images.py).
"""

from __future__ import annotations

from pathlib import Path

from groundlens.records import Media
from groundlens.storage import Store


def file_is_gone(media: Media) -> bool:
    return media.status == "ok" and not (media.local_path and Path(media.local_path).is_file())


def mark_gone(media: Media) -> Media:
    """In place: pending (to be fetched again) when the image has a URL, else missing; the reason in .error."""
    media.error = f"the image file is gone: {media.local_path}"
    media.status = "pending" if media.url else "missing"
    return media


def recheck_downloaded(store: Store) -> int:
    """Mark every downloaded image whose file is gone (see mark_gone); returns how many."""
    gone = [mark_gone(media) for _, media in store.media_with_status("ok") if file_is_gone(media)]
    store.update_media_many(gone)
    return len(gone)
