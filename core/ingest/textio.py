"""Decoding text files line by line so that one badly encoded line is reported, not fatal.

UTF-8 lines are decoded with `surrogateescape`: undecodable bytes survive as lone surrogates,
which `encoding_problem` turns into a located reason. Files with a UTF-16/32 byte-order mark
(Excel and Notepad exports) are decoded whole, since their lines cannot be split as bytes.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Iterator

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ESCAPED = re.compile("[\udc80-\udcff]")


def sniff_encoding(head: bytes) -> str:
    """The encoding a byte-order mark announces, else UTF-8."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    return "utf-8"


def text_lines(path: Path) -> Iterator[str]:
    """Lines with their endings; raises UnicodeDecodeError only for a broken UTF-16/32 file."""
    with open(path, "rb") as handle:
        encoding = sniff_encoding(handle.read(4))
        handle.seek(0)
        if encoding.startswith("utf-8"):
            if encoding == "utf-8-sig":
                handle.seek(len(codecs.BOM_UTF8))
            for raw in handle:
                yield raw.decode("utf-8", errors="surrogateescape")
            return
        yield from handle.read().decode(encoding).splitlines(keepends=True)


def encoding_problem(text: str) -> str | None:
    """Why `text` (decoded by `text_lines`) is not valid UTF-8, or None when it is."""
    found = _ESCAPED.search(text)
    if found is None:
        return None
    byte = ord(found.group()) - 0xDC00
    return f"not valid UTF-8 (byte 0x{byte:02x} at column {found.start() + 1})"
