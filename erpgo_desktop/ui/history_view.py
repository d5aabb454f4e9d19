"""A record's History page: who changed what and when, in words.

The database keeps every change (revision 0012); `HistoryService.record_history` reads a
record's own changes and those of what belongs to it (an order's lines and addresses, a
product's variants and stock), newest first. This page lists them in a read-only table
(When, Who, Record, What changed) with the selected change's fields below it, each old →
new value on a line of its own, and the same lines as the tooltip of its row.

The history is read on a worker, and only when the page is first shown: most people
never open it, and a dialog should not wait for it. `refresh()` (after a save, or when
someone else changed the record) reads it again at once if the page is on screen, else
the next time it is shown. A record not saved yet has no history: the page says that it
starts with the save.

    view = HistoryView(services.history, runner, acting, "customers", customer_id)
    tabs.addTab(view, "Histor&y")
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.history import RECORD_HISTORY_LIMIT, ChangeRow, HistoryService
from erpgo_desktop.ui.tasks import TaskRunner, user_message
from erpgo_desktop.ui.widgets import error_label

__all__ = ["COLUMNS", "HistoryView", "change_details", "record_text"]

COLUMNS = ("When", "Who", "Record", "What changed")
WHEN, WHO, RECORD, WHAT = range(len(COLUMNS))

NOT_SAVED = "The history of this record starts when it is saved."
LOADING = "Loading…"
NO_CHANGES = "No changes yet."
FAILED = "The history could not be read: {reason}"
NOTHING_SELECTED = "Select a change to see each field's old and new value."
#: How many lines of the selected change show below the table at once.
DETAIL_LINES = 6
#: Wide enough for a date, a name, a record and a change or two in words.
PREFERRED_WIDTH = 680


def record_text(row: ChangeRow) -> str:
    """The kind of record and its name: "Stock HX-1 @ MAIN", "Order line SO-… · HX-1"."""
    return f"{row.kind} {row.record}"


def when_text(row: ChangeRow) -> str:
    return f"{row.changed_at.astimezone():%Y-%m-%d %H:%M}"


def change_details(row: ChangeRow) -> str:
    """A change in full: who and when, then each field on a line of its own."""
    lines = [f"{row.action_label} {when_text(row)} by {row.person}: {record_text(row)}"]
    lines.extend(field.in_words for field in row.fields)
    return "\n".join(lines)


class HistoryView(QWidget):
    """The History page of a record dialog; see the module docstring."""

    #: The history was read and shown (or its reading failed): tests wait on it.
    settled = Signal()

    def __init__(
        self,
        history: HistoryService,
        runner: TaskRunner,
        acting: CurrentUser,
        table: str,
        record_id: uuid.UUID | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("history_view")
        self._history = history
        self._runner = runner
        self._acting = acting
        self._table = table
        self._record_id = record_id
        self.rows: tuple[ChangeRow, ...] = ()
        self.loading = False
        #: Whether what is shown may be out of date: read again when next shown.
        self._stale = True
        # Each reading is numbered; an answer to one that a later reading replaced (a
        # save while the page was loading) is dropped.
        self._generation = 0
        #: Why the last reading failed (shown in red), None when it did not.
        self._failure: str | None = None

        self.status = QLabel()
        self.status.setObjectName("history_status")
        self.status.setWordWrap(True)
        self.error = error_label()
        self.error.setObjectName("history_error")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("Read the history again")
        self.retry_button.setObjectName("history_retry")
        self.retry_button.setAutoDefault(False)
        self.retry_button.clicked.connect(self.reload)
        self.retry_button.hide()

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("history")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setWordWrap(False)  # one line per change; the details show it whole
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column in (WHEN, WHO, RECORD):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.currentCellChanged.connect(lambda *_: self._show_details())
        # The page's mnemonic lands in the table, where the arrows read the changes.
        self.setFocusProxy(self.table)

        self.details = QPlainTextEdit()
        self.details.setObjectName("history_details")
        self.details.setReadOnly(True)
        # Read-only, yet the keyboard may select and copy a value from it.
        self.details.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.details.setTabChangesFocus(True)
        self.details.setPlaceholderText(NOTHING_SELECTED)
        # Room for whole lines only (a change of many fields scrolls by lines): the
        # margin goes around the viewport, where no half line can show in it.
        margin = int(self.details.document().documentMargin())
        self.details.document().setDocumentMargin(0)
        self.details.setViewportMargins(margin, margin, margin, margin)
        self.details.setFixedHeight(
            self.details.fontMetrics().lineSpacing() * DETAIL_LINES
            + 2 * margin
            + 2 * self.details.frameWidth()
        )

        state = QHBoxLayout()
        state.addWidget(self.status, 1)
        state.addWidget(self.retry_button)
        #: The page's layout: a page that holds the view beside more sets its margins.
        self.page_layout = layout = QVBoxLayout(self)
        layout.addLayout(state)
        layout.addWidget(self.error)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        self._show_state()

    # -- what to read --------------------------------------------------------------------

    @property
    def record_id(self) -> uuid.UUID | None:
        return self._record_id

    def use_service(self, history: HistoryService, acting: CurrentUser) -> None:
        """Read as someone else from now on (the next sign-in): what was shown was read
        with the rights of the one before, so it is read again."""
        self._history = history
        self._acting = acting
        self.refresh()

    def show_record(self, record_id: uuid.UUID | None) -> None:
        """The record the page is about (a new record once saved); reads it again."""
        self._record_id = record_id
        self.refresh()

    def refresh(self) -> None:
        """Something changed: read the history again now if the page is on screen, else
        the next time it is shown."""
        self._stale = True
        if self.isVisible():
            self.reload()
        elif self._record_id is None:
            self._show_state()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def reload(self) -> None:
        """Read the history on a worker; the page says it is loading meanwhile."""
        self._stale = False
        self._generation += 1
        if self._record_id is None:
            self.loading = False
            self._failure = None
            self._set_rows(())
            self._show_state()
            self.settled.emit()
            return
        generation = self._generation
        history, acting, table, record_id = (
            self._history,
            self._acting,
            self._table,
            self._record_id,
        )
        self.loading = True
        self._failure = None
        self._show_state()
        self._runner.run(
            lambda: tuple(history.record_history(acting, table, record_id)),
            lambda rows: self._arrived(generation, rows),
            lambda error: self._failed(generation, error),
            owner=self,
        )

    # -- showing it ----------------------------------------------------------------------

    def _arrived(self, generation: int, rows: tuple[ChangeRow, ...]) -> None:
        if generation != self._generation:
            return
        self.loading = False
        self._set_rows(rows)
        self._show_state()
        self.settled.emit()

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self.loading = False
        # Whatever was shown before stays (it was true when read); the error says why it
        # is not newer, and the next showing tries again.
        self._stale = True
        self._failure = FAILED.format(reason=user_message(error))
        self._show_state()
        self.settled.emit()

    def _set_rows(self, rows: Sequence[ChangeRow]) -> None:
        self.rows = tuple(rows)
        table = self.table
        table.setRowCount(len(self.rows))
        for index, row in enumerate(self.rows):
            details = change_details(row)
            values = (when_text(row), row.person, record_text(row), row.summary)
            for column, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(details)
                table.setItem(index, column, item)
        # "What changed" takes the rest of the width, cut short with "…" where it is
        # long (the details show it whole); a long name must not push it out of sight.
        for column in (WHEN, WHO, RECORD):
            table.resizeColumnToContents(column)
        for column in (WHO, RECORD):
            table.setColumnWidth(column, min(table.columnWidth(column), 240))
        if self.rows:
            table.setCurrentCell(0, 0)
        self._show_details()

    def _show_details(self) -> None:
        index = self.table.currentRow()
        if 0 <= index < len(self.rows):
            self.details.setPlainText(change_details(self.rows[index]))
        else:
            self.details.clear()

    def _show_state(self) -> None:
        if self._record_id is None:
            text = NOT_SAVED
        elif self.loading:
            text = LOADING
        elif self._failure is not None:
            text = ""
        elif not self.rows:
            text = NO_CHANGES
        elif len(self.rows) >= RECORD_HISTORY_LIMIT:
            text = (
                f"The latest {len(self.rows):,} changes, newest first; the Changes report "
                "reads further back."
            )
        else:
            count = len(self.rows)
            text = f"{count:,} change{'' if count == 1 else 's'}, newest first."
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.error.setText(self._failure or "")
        self.error.setVisible(self._failure is not None)
        self.retry_button.setVisible(self._failure is not None)
        showing = self._record_id is not None
        self.table.setVisible(showing)
        self.details.setVisible(showing)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(max(hint.width(), PREFERRED_WIDTH), hint.height())

    @property
    def state_text(self) -> str:
        """What the page says of itself now: loading, no changes, an error, a count."""
        return self._failure or self.status.text()
