"""Commands whose libraries live in an optional extra (pyproject.toml) say so instead of failing on an import."""

from __future__ import annotations

import importlib.util

import click


def require_extra(*modules: str, extra: str = "train") -> None:
    """Stop with one line naming the extra to install when any of `modules` is missing."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise click.ClickException(
            f"this command needs {', '.join(missing)}, which the app does not install by default: "
            f"pip install 'groundlens[{extra}]' (make test installs it)"
        )
