"""Someone saved the record after it was opened here: both versions side by side.

Shown by `forms.RecordDialog` when a save raises `ConflictError` with `current` (after
Tryton's client, which compares its `_timestamp` and offers to overwrite or reload). The
fields that differ are highlighted and come first in the reading order of the form. The
person chooses:

- Reload theirs: what they typed is dropped and the form shows the current version.
- Overwrite: what they typed is saved again, this time over the current version. Only
  with the permission to write such records (checked by the caller, and by the service).
- Keep editing: nothing happens; a later save meets the same conflict again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.ui.widgets import WrappingItemDelegate
from erpgo_desktop.ui.window_fit import fit_to_content

# Light amber behind the differing rows; the text stays the palette's, so it reads on
# either theme well enough, and the rows are also bold for those who cannot tell colours.
DIFFERENCE = QColor("#ffe8a3")
DIFFERENCE_TEXT = QColor("#000000")


def saved_by_heading(who: str | None, when: datetime | None) -> str:
    by = who or "someone else"
    at = f" at {when.astimezone():%Y-%m-%d %H:%M}" if when else ""
    return f"Saved by {by}{at}"


class ConflictDialog(QDialog):
    """Both versions of a record: rows of (field label, yours, theirs)."""

    reload_requested = Signal()
    overwrite_requested = Signal()

    def __init__(
        self,
        rows: Sequence[tuple[str, str, str]],
        *,
        who: str | None,
        when: datetime | None,
        message: str = "",
        can_overwrite: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.window_fitter = fit_to_content(self)  # grows to what it shows
        self.setWindowTitle("Changed by someone else")
        self.setMinimumSize(560, 360)
        self.differences = [label for label, mine, theirs in rows if mine != theirs]

        intro = QLabel(
            message
            or "This record was changed by someone else after you opened it; nothing was saved."
        )
        intro.setWordWrap(True)
        summary = QLabel(
            f"{len(self.differences)} field{'s' if len(self.differences) != 1 else ''} "
            "differ (highlighted)."
            if self.differences
            else "The values you see are the same; only the version differs."
        )

        self.table = QTableWidget(len(rows), 3)
        self.table.setObjectName("versions")
        self.table.setHorizontalHeaderLabels(["Field", "Your version", saved_by_heading(who, when)])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        self.table.setItemDelegate(WrappingItemDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        # Differences first, so that a long form does not hide them below the fold.
        ordered = sorted(rows, key=lambda r: r[1] == r[2])
        for index, (label, mine, theirs) in enumerate(ordered):
            differs = mine != theirs
            for column, text in enumerate((label, mine, theirs)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if differs:
                    item.setBackground(QBrush(DIFFERENCE))
                    item.setForeground(QBrush(DIFFERENCE_TEXT))
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                item.setData(Qt.ItemDataRole.UserRole, differs)
                self.table.setItem(index, column, item)
        self.table.resizeRowsToContents()
        # Rows as tall as their wrapped values at whatever width the columns get.
        header.sectionResized.connect(self.table.resizeRowsToContents)
        # Both versions' headings whole ("Saved by <who> at <when>"): the columns share the
        # width equally, so the table is at least twice the longer heading wide.
        versions = max(header.sectionSizeHint(1), header.sectionSizeHint(2))
        self.table.setMinimumWidth(
            header.sectionSizeHint(0)
            + 2 * versions
            + 2 * self.table.frameWidth()
            + self.table.verticalScrollBar().sizeHint().width()
        )

        self.buttons = QDialogButtonBox()
        self.reload_button = QPushButton("&Reload theirs")
        self.reload_button.setToolTip("Drop your changes and edit the version saved now.")
        self.overwrite_button = QPushButton("&Overwrite")
        self.overwrite_button.setToolTip("Save your version over theirs.")
        self.overwrite_button.setEnabled(can_overwrite)
        if not can_overwrite:
            self.overwrite_button.setToolTip("You may not change such records.")
        self.keep_button = QPushButton("&Keep editing")
        self.keep_button.setDefault(True)
        self.buttons.addButton(self.reload_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.buttons.addButton(self.overwrite_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.keep_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.reload_button.clicked.connect(self._reload)
        self.overwrite_button.clicked.connect(self._overwrite)
        self.keep_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)
        self.keep_button.setFocus()

    def row_values(self) -> list[tuple[str, str, str, bool]]:
        """The table as shown: (field, yours, theirs, highlighted)."""

        def text(row: int, column: int) -> str:
            item = self.table.item(row, column)
            return "" if item is None else item.text()

        out = []
        for row in range(self.table.rowCount()):
            field = self.table.item(row, 0)
            differs = field is not None and bool(field.data(Qt.ItemDataRole.UserRole))
            out.append((text(row, 0), text(row, 1), text(row, 2), differs))
        return out

    def _reload(self) -> None:
        self.reload_requested.emit()
        self.accept()

    def _overwrite(self) -> None:
        if not self.overwrite_button.isEnabled():
            return
        self.overwrite_requested.emit()
        self.accept()
