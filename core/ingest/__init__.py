"""Ingestion: files and the X API -> storage.records.Post -> the store, images into the cache.

The GUI and the CLI call `import_paths`, `import_items` (API generators from `core.ingest.x_api`)
and `fetch_images` (retry failed downloads); all return an `ImportReport`.
"""

from core.ingest.detect import FORMATS, detect_format
from core.ingest.images import ImageLimits
from core.ingest.importer import fetch_images, import_items, import_paths
from core.ingest.report import ImportProgress, ImportReport, ItemError, ParsedItem

__all__ = [
    "FORMATS",
    "ImageLimits",
    "ImportProgress",
    "ImportReport",
    "ItemError",
    "ParsedItem",
    "detect_format",
    "fetch_images",
    "import_items",
    "import_paths",
]
