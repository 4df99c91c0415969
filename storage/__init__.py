"""SQLite storage for posts, media, entity mentions, regions and the pipeline's job queue.

Knows nothing of models or Qt. Use `Store.open(path)`; see docs/ARCHITECTURE.md.
"""

from storage.faults import StoreError
from storage.normalize import normalize_entity
from storage.posts import UpsertSummary
from storage.query import QueryError
from storage.schema import SCHEMA_VERSION, SchemaError
from storage.store import Store
from storage.summaries import EntityCount, EntityProfile, EntitySummary, PostSummary, SearchPage, SeriesPoint

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
