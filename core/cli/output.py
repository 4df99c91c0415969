"""The CLI's boundary for files it writes: an OSError becomes one message naming the path."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from core.write_errors import describe_write_error


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Missing folder, read-only place, full device: exit 1 with `cannot write PATH: why`, no traceback."""
    try:
        yield
    except OSError as error:
        raise click.ClickException(describe_write_error(path, error)) from None
