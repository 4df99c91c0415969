"""Decoding text files line by line so that one badly encoded line is reported, not fatal.

UTF-8 lines are decoded with `surrogateescape`: undecodable bytes survive as lone surrogates,
which `encoding_problem` turns into a located reason, so a Latin-1 line amid UTF-8 ones fails
alone. Files with a UTF-16/32 byte-order mark (Excel and Notepad exports) are decoded strictly.
Lines end at LF, CRLF or a lone CR (old Mac exports) and nowhere else: U+2028, U+0085 and
the other characters `str.splitlines` would also break at stay inside their line's text. A
byte-order mark starting a later line (files joined with `cat`) is dropped like the first one.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path

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
    """Lines, each ending in LF whatever the file used; raises UnicodeDecodeError only for a broken UTF-16/32 file."""
    with open(path, "rb") as handle:
        encoding = sniff_encoding(handle.read(4))
    errors = "surrogateescape" if encoding.startswith("utf-8") else "strict"
    with open(path, encoding=encoding, errors=errors, newline=None) as handle:
        for line in handle:
            yield line.removeprefix("\ufeff")


def encoding_problem(text: str) -> str | None:
    """Why `text` (decoded by `text_lines`) is not valid UTF-8, or None when it is."""
    found = _ESCAPED.search(text)
    if found is None:
        return None
    byte = ord(found.group()) - 0xDC00
    return f"not valid UTF-8 (byte 0x{byte:02x} at column {found.start() + 1})"
