"""The Jobs page's failures, grouped by cause: 202 images from one unreachable host are one row
saying 202, with the items behind it, not 202 identical rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

# What differs from item to item inside one cause: the path of a URL (its host stays: one host down is
# one cause) and file paths.
_URL_PATH = re.compile(r"\b([a-z][a-z0-9+.-]*://[^/\s:]+(?::\d+)?)/\S*?(?=:?\s|:$|$)", re.IGNORECASE)
_FILE_PATH = re.compile(r"(?<![\w/.])(?:~|\.{1,2})?/(?:[^/\s:]+/)+[^/\s:]+")
SHOWN_ITEMS = 5


@dataclass(frozen=True)
class Failure:
    when: datetime | None
    kind: str  # "pipeline", "image" or "import"
    where: str  # "post 12" or "file.jsonl:3"
    reason: str
    post_id: int | None = None


@dataclass(frozen=True)
class FailureGroup:
    kind: str
    cause: str  # the reason with what differs per item (URL paths, file paths) left out
    failures: tuple[Failure, ...]

    @property
    def count(self) -> int:
        return len(self.failures)

    @property
    def last(self) -> datetime | None:
        return max((f.when for f in self.failures if f.when is not None), default=None)

    @property
    def items(self) -> str:
        shown = ", ".join(f.where for f in self.failures[:SHOWN_ITEMS])
        return shown + (f" and {self.count - SHOWN_ITEMS:,} more" if self.count > SHOWN_ITEMS else "")

    @property
    def post_ids(self) -> list[int]:
        return [f.post_id for f in self.failures if f.post_id is not None]

    def details(self) -> str:
        """Tooltip: one full reason and every item."""
        return f"{self.failures[0].reason}\n\n" + "\n".join(f"{f.where}: {f.reason}" for f in self.failures)


def cause_of(reason: str) -> str:
    return _FILE_PATH.sub("…", _URL_PATH.sub(r"\1/…", reason))


def group_failures(failures: list[Failure]) -> list[FailureGroup]:
    """One group per (kind, cause), identical failures (same item and reason) counted once; the
    largest group first."""
    groups: dict[tuple[str, str], dict[tuple[str, str], Failure]] = {}
    for failure in failures:
        group = groups.setdefault((failure.kind, cause_of(failure.reason)), {})
        group.setdefault((failure.where, failure.reason), failure)
    ordered = [FailureGroup(kind, cause, tuple(found.values())) for (kind, cause), found in groups.items()]
    return sorted(ordered, key=lambda g: (-g.count, g.kind, g.cause))
