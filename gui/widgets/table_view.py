"""The one way tables look and behave: row selection, no row numbers, last column stretches."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from groundlens.gui.models.record_table import Column, RecordTableModel


class RecordTable(QTableView):
    activated_record = Signal(object)  # double-click or Enter on a row

    def __init__(self, columns: list[Column], stretch: int = -1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records = RecordTableModel(columns, self)
        self.setModel(self.records)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(26)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(stretch % len(columns), QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        self.activated.connect(lambda index: self.activated_record.emit(self.records.record(index.row())))

    def set_records(self, records: list) -> None:
        self.records.set_records(records)

    def selected_record(self) -> Any:
        """The record of the current row (the Corrections page reverts it), or None."""
        index = self.currentIndex()
        return self.records.record(index.row()) if index.isValid() else None
