"""The session's corrections as an undo stack over the store.

Each correction an analyst makes (in the inspector, on the entity page, on the corrections page)
is a QUndoCommand whose redo and undo run on the database thread: storing a correction is undone
by reverting it and redone by restoring it (Store.restore_correction puts it back in its original
place among the others); reverting an older correction is undone by restoring it. The store keeps
every correction with its author and time; the stack only orders this session's steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from groundlens.gui.workers import DbWorker
from groundlens.storage import Store
from groundlens.storage.corrections import Correction, Draft
from groundlens.storage.corrections import merge as merge_draft
from groundlens.storage.corrections import split as split_draft

StoreStep = Callable[[Store, int], Any]


class CorrectionLog(QObject):
    changed = Signal()  # a correction was stored, reverted or restored: views re-read what they show
    failed = Signal(str)  # the store refused a correction (the message says why); nothing changed

    def __init__(self, db: DbWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.stack = QUndoStack(self)

    def add(self, description: str, draft: Draft, on_stored: Callable[[Correction], None] | None = None) -> None:
        """Store a correction as one undoable step; `on_stored` gets it once stored (first time only)."""
        self.stack.push(
            _Step(
                self,
                description,
                lambda store: store.add_correction(draft),
                Store.restore_correction,
                Store.revert_correction,
                on_stored,
            )
        )

    def revert(self, correction: Correction) -> None:
        """Take back a stored correction, from this session or an earlier one, as one undoable step."""
        self._flip("revert", correction, Store.revert_correction, Store.restore_correction)

    def restore(self, correction: Correction) -> None:
        """Put a reverted correction back in force, as one undoable step."""
        self._flip("restore", correction, Store.restore_correction, Store.revert_correction)

    def _flip(self, verb: str, correction: Correction, forward: StoreStep, back: StoreStep) -> None:
        self.stack.push(
            _Step(self, f"{verb} {correction.describe()}", lambda store: forward(store, correction.id), forward, back)
        )

    def merge(self, alias: str, into: str) -> None:
        """Count every mention of `alias` as `into` (entity page), as one undoable step."""
        self.add(f"merge {alias} into {into}", merge_draft(alias, into))

    def split(self, alias: str) -> None:
        """Undo a wrong merge of `alias` (entity page), as one undoable step."""
        self.add(f"split {alias} off", split_draft(alias))

    def run(
        self,
        work: Callable[[Store], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Database work that changes corrections; every view is told once it is done."""

        def done(result: Any) -> None:
            if on_done is not None:
                on_done(result)
            self.changed.emit()

        def error(exc: Exception) -> None:
            if on_error is not None:
                on_error(exc)
            self.failed.emit(str(exc))

        self.db.submit(work, done, error)


class _Step(QUndoCommand):
    """first: stores or flips the correction the first time and returns it; again / back: redo and
    undo by its id. The id is written and read on the database thread only, where steps run in order."""

    def __init__(
        self,
        log: CorrectionLog,
        description: str,
        first: Callable[[Store], Correction],
        again: StoreStep,
        back: StoreStep,
        on_stored: Callable[[Correction], None] | None = None,
    ) -> None:
        super().__init__(description)
        self.log = log
        self.first, self.again, self.back = first, again, back
        self.on_stored = on_stored
        self.correction_id: int | None = None

    def redo(self) -> None:
        if self.correction_id is None and self.isObsolete():
            return
        self.log.run(self._redo, self._stored, self._refused)

    def _redo(self, store: Store) -> Correction | None:
        if self.correction_id is None:
            correction = self.first(store)
            self.correction_id = correction.id
            return correction
        self.again(store, self.correction_id)
        return None

    def _stored(self, correction: Correction | None) -> None:
        if correction is not None and self.on_stored is not None:
            self.on_stored(correction)

    def _refused(self, _exc: Exception) -> None:
        self.setObsolete(True)  # nothing was stored: undoing it drops it from the stack

    def undo(self) -> None:
        self.log.run(self._undo)

    def _undo(self, store: Store) -> None:
        if self.correction_id is not None:
            self.back(store, self.correction_id)
