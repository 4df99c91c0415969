"""What an import produced: parsed items on the way in, and the report the CLI and GUI show.

Readers yield `ParsedItem` or `ItemError` so that one bad record never stops a batch and every
failure keeps the place it came from (file:line or file [item N]).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from groundlens.records import Entity, Post

# Control characters (terminal escape sequences among them), line breaks, bidi overrides and the
# lone surrogates of undecodable file names: a file name or a value quoted in a reason could
# otherwise rewrite the terminal, reorder the line or fail to print at all.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` with every such character written as its escape (\\x1b, \\u202e)."""
    return _UNPRINTABLE.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


@dataclass(frozen=True)
class ItemError:
    """One item that did not go in (or whose image did not), with where it is and why."""

    location: str
    reason: str

    def __str__(self) -> str:
        """One line, safe to print to a terminal."""
        return printable(f"{self.location}: {self.reason}")


@dataclass
class ParsedItem:
    """A post read from a file or the API, with the gold annotations a dataset carries."""

    location: str
    post: Post
    gold: list[Entity] | None = None


@dataclass
class ImportReport:
    """Counts and failures of one import; `errors` lists every item or image that failed."""

    posts_read: int = 0
    posts_inserted: int = 0
    posts_updated: int = 0
    posts_unchanged: int = 0  # re-imported, identical
    posts_failed: int = 0
    gold_entities: int = 0
    images_ok: int = 0
    images_failed: int = 0
    images_missing: int = 0
    images_pending: int = 0  # left for later (--no-download)
    errors: list[ItemError] = field(default_factory=list)
    cancelled: bool = False
    stopped: str | None = None  # why the import ended early on a fault every later item would hit too

    @property
    def ok(self) -> bool:
        return not self.errors and not self.cancelled and not self.stopped

    def add_error(self, error: ItemError, *, image: bool = False) -> None:
        self.errors.append(error)
        if image:
            self.images_failed += 1
        else:
            self.posts_failed += 1

    def absorb(self, other: ImportReport) -> None:
        """Add another report's counts and errors to this one (an import followed by an image retry)."""
        for name in (f.name for f in fields(self)):
            mine, theirs = getattr(self, name), getattr(other, name)
            flag = mine is None or isinstance(mine, (bool, str))  # cancelled, stopped: either one's
            setattr(self, name, mine or theirs if flag else mine + theirs)

    def summary(self) -> str:
        parts = [
            f"{self.posts_inserted} posts added",
            f"{self.posts_updated} updated",
            f"{self.posts_unchanged} unchanged",
            f"{self.posts_failed} failed",
            f"images: {self.images_ok} ok, {self.images_failed} failed",
        ]
        if self.images_missing:
            parts.append(f"{self.images_missing} missing")
        if self.images_pending:
            parts.append(f"{self.images_pending} not downloaded")
        if self.gold_entities:
            parts.append(f"{self.gold_entities} gold entities")
        if self.cancelled:
            parts.append("cancelled")
        if self.stopped:
            parts.append("stopped early")
        return ", ".join(parts)


@dataclass(frozen=True)
class ImportProgress:
    """A progress tick for the CLI bar or the GUI: where the import is and how far it got."""

    source: str  # the file being read, or the API query
    posts_done: int
    images_done: int
    images_total: int
