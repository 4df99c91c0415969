"""The command-line face of core.safe_output: an output that would overwrite its source is a usage error."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

import click

from core.safe_output import OutputError, refuse_overwriting


def check_output(target: Path, protected: Mapping[str, Iterable[Path]]) -> None:
    """Exit 2 with the reason, before any work, when `target` is one of the `protected` files."""
    try:
        refuse_overwriting(target, protected)
    except OutputError as error:
        raise click.UsageError(str(error)) from None
