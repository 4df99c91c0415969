"""The data folder's database as every command opens it: a database that cannot be used (not a database,
damaged, full, read-only, from a newer GroundLens) ends the command with one message, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import click

from groundlens.core.config import AppPaths
from groundlens.storage import Store, StoreError

log = logging.getLogger(__name__)


def refuse(error: StoreError) -> click.ClickException:
    log.error("%s", error)
    return click.ClickException(str(error))


@contextmanager
def opened_store(app: AppPaths, check: bool = False) -> Iterator[Store]:
    """The store, closed afterwards. `check` (commands that write, or read everything) refuses a damaged
    database up front: writing into it spreads the damage, and an export would silently leave rows out."""
    try:
        store = Store.open(app.ensure().db_path, check=check)
    except StoreError as error:
        raise refuse(error) from None
    try:
        yield store
    except StoreError as error:
        raise refuse(error) from None
    finally:
        store.close()
