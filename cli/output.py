"""The CLI's boundary for files it writes: an output over its own source is a usage error (exit 2),
one that cannot be written (missing folder, read-only place, full device) one message naming the path (exit 1)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import click

from groundlens.core.safe_output import OutputError, describe_write_error, refuse_overwriting


def check_output(target: Path, protected: Mapping[str, Iterable[Path]]) -> None:
    """Exit 2 with the reason, before any work, when `target` is one of the `protected` files."""
    try:
        refuse_overwriting(target, protected)
    except OutputError as error:
        raise click.UsageError(str(error)) from None


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Missing folder, read-only place, full device: exit 1 with `cannot write PATH: why`, no traceback."""
    try:
        yield
    except OSError as error:
        raise click.ClickException(describe_write_error(path, error)) from None
