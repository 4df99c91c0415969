"""Which posts a bulk action applies to, as the GUI hands it over.

"Select all matching" on 100k posts is held as the query and the rows the analyst unticked, never as
100k ids built on the main thread; the store turns it into ids on the database thread when the action runs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PostSelection:
    ids: tuple[int, ...] = ()  # the posts picked one by one (shift/ctrl), when not all_matching
    all_matching: bool = False  # every post matching `query` (None: every post) ...
    query: str | None = None
    excluded: frozenset[int] = frozenset()  # ... except these

    @classmethod
    def of(cls, ids: list[int] | tuple[int, ...]) -> PostSelection:
        return cls(ids=tuple(ids))

    @classmethod
    def matching(cls, query: str | None, excluded: frozenset[int] = frozenset()) -> PostSelection:
        return cls(all_matching=True, query=query or None, excluded=excluded)
