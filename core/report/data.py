"""What a report shows, read from the store: the figures over the chosen posts (storage/post_set.py)
and a few sample posts with their pictures drawn over."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from groundlens.core.report.overlay import overlay_jpeg
from groundlens.records import Entity, Post
from groundlens.storage import Store
from groundlens.storage import export as exporter
from groundlens.storage.post_set import PostSetSummary

TREND_SERIES = 5  # lines on the trend chart: more are unreadable


@dataclass
class SamplePost:
    post: Post
    entities: list[Entity]  # predictions, in text order
    overlay_jpeg: bytes | None  # the picture with the entities drawn on it
    problem: str | None = None  # why there is no overlay although the post has regions


@dataclass
class ReportData:
    title: str
    query: str | None  # None: every post, or a selection (`selection` posts)
    selection: int | None
    summary: PostSetSummary
    samples: list[SamplePost] = field(default_factory=list)


def gather(
    store: Store,
    query: str | None,
    ids: list[int] | None = None,
    top: int = 15,
    samples: int = 6,
    title: str | None = None,
) -> ReportData:
    """The report over the posts matching `query` (or the given ids). Samples are the newest posts
    (for a selection: the first chosen) whose picture has regions; a picture that cannot be read still
    shows its post, saying why."""
    chosen = exporter.chosen_ids(store, query, ids, order="created_desc")
    summary = store.summarize_posts(chosen, top=top, series=TREND_SERIES, located=samples)
    data = ReportData(
        title or _title(query, ids), query if ids is None else None, len(chosen) if ids is not None else None, summary
    )
    for post, mentions, _seen in exporter.iter_posts(store, summary.located):
        data.samples.append(_sample(store, post, [entity for entity in mentions if entity.origin == "pred"]))
    return data


def _title(query: str | None, ids: list[int] | None) -> str:
    if ids is not None:
        return f"GroundLens report: {len(ids)} selected posts"
    return f"GroundLens report: {query}" if query else "GroundLens report: all posts"


def _sample(store: Store, post: Post, entities: list[Entity]) -> SamplePost:
    first = next(region for entity in entities for region in entity.regions)
    media = exporter.region_media(post, first.media_id)
    path = media and exporter.image_file(store, media)
    if not path:
        return SamplePost(post, entities, None, "the picture is not stored")
    try:
        return SamplePost(post, entities, overlay_jpeg(Path(path), entities, first.media_id))
    except (OSError, ValueError) as error:
        return SamplePost(post, entities, None, f"the picture cannot be read ({error})")
