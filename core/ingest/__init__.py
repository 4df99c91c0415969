"""Ingestion: files and the X API -> groundlens.records.Post -> the store, images into the cache.

The GUI and the CLI call `import_paths`, `import_items` (API generators from `core.ingest.x_api`)
and `fetch_images` (retry failed downloads); all return an `ImportReport`.
"""

from groundlens.core.ingest.detect import FORMATS, detect_format
from groundlens.core.ingest.images import ImageLimits
from groundlens.core.ingest.importer import fetch_images, import_items, import_paths
from groundlens.core.ingest.report import ImportProgress, ImportReport, ItemError, ParsedItem

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
