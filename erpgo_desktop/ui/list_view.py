"""The table view every list screen uses, over a PagedTableModel (ui/list_model.py).

    table = ListTableView()
    table.setModel(model)

What it settles once for every list:

- compact rows of one fixed height: the view never measures rows, whatever their number,
  and a list screen is for scanning many lines at once;
- whole-row, extended selection; no word wrap; no row numbers;
- Tab leaves the table instead of walking a million cells;
- columns sized to what they show (ui/column_fit.py): codes, numbers and dates whole,
  the long text column taking the spare width; each `Column.fit` of the model says which;
- Home and End go to the first and last row (the columns of a list are not a place to
  move through), as Ctrl+Home and Ctrl+End do; with Shift they extend the selection.

Ctrl+End on a sparse model simply goes to rowCount() - 1: the model shows the last rows
at once. On a short append-only model the view asks `fetch_to_end()` and follows the
rows as they arrive, so one key press reaches the true last row; on a list of unknown
length it goes to the last row loaded, and more load as usual.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from erpgo_desktop.ui.column_fit import ColumnFitter, Fit

ModelIndex = QModelIndex | QPersistentModelIndex

_END_KEYS = (Qt.Key.Key_End,)
_JUMP_ACTIONS = {
    QAbstractItemView.CursorAction.MoveHome,
    QAbstractItemView.CursorAction.MoveEnd,
}


class ListTableView(QTableView):
    def __init__(self, parent: QWidget | None = None, *, fits: Sequence[Fit] | None = None) -> None:
        super().__init__(parent)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setWordWrap(False)
        self.setTabKeyNavigation(False)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # Set while End waits for an append-only model's last rows: the modifiers it had.
        self._end_pending: Qt.KeyboardModifier | None = None
        #: Sizes the columns; `fits` for a model without `columns` (else each Column's).
        self.column_fitter = ColumnFitter(self, fits)

    def setModel(self, model: QAbstractItemModel | None) -> None:
        old = self.model()
        if old is not None:
            old.rowsInserted.disconnect(self._rows_arrived)
            old.modelReset.disconnect(self._forget_end)
        super().setModel(model)
        new = self.model()
        if new is not None:
            new.rowsInserted.connect(self._rows_arrived)
            new.modelReset.connect(self._forget_end)
        self.column_fitter.watch_model()

    def moveCursor(
        self, cursorAction: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        model = self.model()
        if cursorAction in _JUMP_ACTIONS and model is not None and model.rowCount() > 0:
            # QTableView's Home/End without Ctrl move along the row, and without a current
            # row even Ctrl+End goes to the first one: rows are what a list moves through.
            row = 0 if cursorAction == QAbstractItemView.CursorAction.MoveHome else -1
            return model.index(row % model.rowCount(), max(self.currentIndex().column(), 0))
        return super().moveCursor(cursorAction, modifiers)

    def selectionCommand(
        self, index: ModelIndex, event: QEvent | None = None
    ) -> QItemSelectionModel.SelectionFlag:
        command = super().selectionCommand(index, event)
        if (
            isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Home, Qt.Key.Key_End)
            and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            # Ctrl+Home/End would only move the focus frame (Ctrl means "keep the selection"
            # for arrows); going to the first or last record means choosing it.
            return (
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows
            )
        return command

    def keyPressEvent(self, event: QKeyEvent) -> None:
        self._end_pending = None
        if event.key() in _END_KEYS and self.model() is not None:
            fetch_to_end = getattr(self.model(), "fetch_to_end", None)
            if callable(fetch_to_end) and fetch_to_end():
                self._end_pending = event.modifiers()
        super().keyPressEvent(event)

    def _rows_arrived(self, parent: ModelIndex, _first: int, _last: int) -> None:
        if self._end_pending is None or parent.isValid():
            return
        model = self.model()
        last = model.index(model.rowCount() - 1, max(self.currentIndex().column(), 0))
        selection = self.selectionModel()
        rows = QItemSelectionModel.SelectionFlag.Rows
        if self._end_pending & Qt.KeyboardModifier.ShiftModifier and self.currentIndex().isValid():
            # Shift+End: the selection the key press made grows down to the new last row.
            selection.select(
                QItemSelection(self.currentIndex(), last),
                QItemSelectionModel.SelectionFlag.Select | rows,
            )
            selection.setCurrentIndex(last, QItemSelectionModel.SelectionFlag.NoUpdate)
        else:
            selection.setCurrentIndex(last, QItemSelectionModel.SelectionFlag.ClearAndSelect | rows)
        self.scrollTo(last)
        if not getattr(model, "has_more", False):
            self._end_pending = None

    def _forget_end(self) -> None:
        self._end_pending = None
