"""SQLite storage for posts, media, entity mentions, regions and the pipeline's job queue.

Knows nothing of models or Qt. Use `Store.open(path)`; see docs/ARCHITECTURE.md.
"""

from groundlens.storage.faults import StoreError
from groundlens.storage.normalize import normalize_entity
from groundlens.storage.posts import UpsertSummary
from groundlens.storage.query import QueryError
from groundlens.storage.schema import SCHEMA_VERSION, SchemaError
from groundlens.storage.store import Store
from groundlens.storage.summaries import EntityCount, EntityProfile, EntitySummary, PostSummary, SearchPage, SeriesPoint

__all__ = [
    "SCHEMA_VERSION",
    "EntityCount",
    "EntityProfile",
    "EntitySummary",
    "PostSummary",
    "QueryError",
    "SchemaError",
    "SearchPage",
    "SeriesPoint",
    "Store",
    "StoreError",
    "UpsertSummary",
    "normalize_entity",
]
