"""What the list tabs share: a search box and filters over a paged table, and the surface
the main window drives (`reload`, `focus_search`, `apply_change`, `status_text` with
`status_changed`, `selected_id`, `open_requested(uuid)`, `new_requested`).

A tab subclass makes its `PagedTableModel` and its filter widgets, and changes the model's
query when a filter changes; searching, sorting by header clicks, the keyboard and the
status line work the same way in every tab. Nothing is read before the tab is first shown
(ui/first_show.py): until then the model is held, and filters and sorts only choose what
`first_load` reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.domain.wording import code_label
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.ui.badges import BadgeDelegate
from erpgo_desktop.ui.first_show import load_when_first_shown
from erpgo_desktop.ui.list_model import Count, PagedTableModel
from erpgo_desktop.ui.list_view import ListTableView

SEARCH_DELAY_MS = 250


def list_status(
    loading: bool,
    count: Count | None,
    *,
    singular: str,
    plural: str,
    search: str = "",
    filtered: bool = False,
    loaded: int = 0,
) -> str:
    """The status bar's summary of a list: "1,234 customers", "10,000+ matches",
    "No orders match “x”", "Loading…" (the wording of the Products tab's status)."""
    if count is None:
        return "Loading…"
    one = count.count == 1 and count.exact
    number = f"{count.count:,}" + ("" if count.exact else "+")
    if search:
        if count.count == 0:
            return f"No {plural} match “{search}”"
        text = f"{number} {'match' if one else 'matches'}"
    elif count.count == 0:
        return f"No {plural} match the filters" if filtered else f"No {plural} yet"
    else:
        text = f"{number} {singular if one else plural}"
    if loading and loaded:
        text += " — loading…"
    elif loading:
        text = "Loading…"
    return text


def add_code_choices(combo: QComboBox, everything: str, codes: tuple[str, ...]) -> None:
    """A filter combo: `everything` (no filter, data None), then each code by its label."""
    combo.addItem(everything, None)
    for code in codes:
        combo.addItem(code_label(code), code)


class ListTab(QWidget):
    """A search box and a row of filters above a paged, sortable table."""

    #: Enter or a double click on a row: the row's id.
    open_requested = Signal(uuid.UUID)
    #: The tab's New button.
    new_requested = Signal()
    #: The status bar's summary changed (see `status_text`).
    status_changed = Signal()

    #: The tables whose changes can alter what the tab lists.
    tables: tuple[str, ...] = ()
    #: For the status line: "1 customer", "2 customers".
    singular = "row"
    plural = "rows"

    def __init__(
        self,
        model: PagedTableModel,
        *,
        name: str,
        search_placeholder: str,
        sort_column: int,
        sort_order: Qt.SortOrder,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        model.setParent(self)
        model.hold()
        model.status_changed.connect(lambda *_status: self.status_changed.emit())
        self._failure: str | None = None
        model.load_failed.connect(self._load_failed)
        model.modelReset.connect(self._forget_failure)

        self.search = QLineEdit()
        self.search.setObjectName(f"{name}_search")
        self.search.setPlaceholderText(search_placeholder)
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName(f"Search {self.plural}")
        self.search.installEventFilter(self)

        # Typing "smith" is five edits; the list reloads once, a moment after the last.
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.search.textEdited.connect(lambda _text: self._search_timer.start())
        self.search.textChanged.connect(self._search_text_changed)
        self.search.returnPressed.connect(self.apply_search)

        self.table = ListTableView()
        self.table.setObjectName(f"{name}_table")
        self.table.setModel(model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        for number, column in enumerate(model.columns):
            if column.badge is not None:
                self.table.setItemDelegateForColumn(number, BadgeDelegate(self.table))
        # The indicator first, then sorting on: enabling sorting sorts the (held) model by
        # the indicator, which is what the first load will read.
        header.setSortIndicator(sort_column, sort_order)
        header.sortIndicatorChanged.connect(self._sort_indicator_changed)
        self.table.setSortingEnabled(True)
        self.table.activated.connect(self._activated)

        self.filter_row = QHBoxLayout()
        self.filter_row.addWidget(self.search, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(self.filter_row)
        layout.addWidget(self.table)
        self.setFocusProxy(self.table)
        self.first_show = load_when_first_shown(self, self.first_load)

    def first_load(self) -> None:
        """Read what the tab shows, the first time it is shown (subclasses add what their
        filters need)."""
        self.model.start()

    def add_filters(self, widgets: Sequence[QWidget]) -> None:
        """Put `widgets` after the search box, in Tab order: search, filters, table."""
        previous: QWidget = self.search
        for widget in widgets:
            self.filter_row.addWidget(widget)
            if widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
                QWidget.setTabOrder(previous, widget)
                previous = widget
        QWidget.setTabOrder(previous, self.table)

    # -- what the main window asks of every tab ------------------------------------------

    def reload(self) -> None:
        self.model.reload()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def apply_change(self, change: Change) -> None:
        """Re-read the rows when `change` concerns a table this tab lists; the selection
        stays on its rows."""
        if any(change.concerns(table) for table in self.tables):
            self.model.refresh()

    def status_text(self) -> str:
        if self._failure is not None:
            return (
                f"{self.plural.capitalize()} could not be loaded: {self._failure} (F5 tries again)"
            )
        model = self.model
        return list_status(
            model.is_loading,
            model.count,
            singular=self.singular,
            plural=self.plural,
            search=model.query.search.strip(),
            filtered=self.is_filtered(),
            loaded=model.rowCount(),
        )

    def is_filtered(self) -> bool:
        """Whether a filter (not the search) narrows the list; for the status wording."""
        return False

    def selected_id(self) -> uuid.UUID | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        row = self.model.row_at(index.row())
        return None if row is None else row.id

    def reset_filters(self) -> None:
        """Empty the search box and put every filter back to its default, without listing:
        a drill-down sets its own filter next and lists once. Subclasses reset their own
        filter widgets too."""
        self._search_timer.stop()
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)

    # -- searching -----------------------------------------------------------------------

    def apply_search(self) -> None:
        self._search_timer.stop()
        self.model.set_search(self.search.text())

    def _search_text_changed(self, text: str) -> None:
        # The clear button and Esc change the text without an edit: no reason to wait.
        if not text:
            self.apply_search()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key == Qt.Key.Key_Escape:
                if self.search.text():
                    self.search.clear()
                else:
                    self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return True
            if key == Qt.Key.Key_Down:
                # Down from the search box goes into the results, as in a browser's list.
                self.apply_search()
                self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
                if not self.table.currentIndex().isValid() and self.model.rowCount() > 0:
                    self.table.selectRow(0)
                return True
        return super().eventFilter(watched, event)

    # -- the table -----------------------------------------------------------------------

    def _activated(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        row = self.model.row_at(index.row())
        if row is not None:
            self.open_requested.emit(row.id)

    def _sort_indicator_changed(self, column: int, _order: Qt.SortOrder) -> None:
        if self.model.columns[column].sort is not None:
            return  # the view sorts the model, which reloads in that order
        # A column without an index to page by does not sort: put the arrow back where
        # the rows really are sorted. The model ignores the request itself.
        query = self.model.query
        sorted_column = self.model.column_of_sort(query.sort)
        if sorted_column is None:
            return
        order = Qt.SortOrder.DescendingOrder if query.descending else Qt.SortOrder.AscendingOrder
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(sorted_column, order)
        header.blockSignals(False)

    def _load_failed(self, message: str) -> None:
        self._failure = message
        self.status_changed.emit()

    def _forget_failure(self) -> None:
        self._failure = None
