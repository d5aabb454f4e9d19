"""The Products tab: a search box over the paged, sortable product list."""

from __future__ import annotations

import uuid

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.services.catalog import ProductCount
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.ui.product_table import (
    COLUMN_OF_SORT,
    COLUMNS,
    SKU,
    SORT_KEYS,
    ProductSource,
    ProductTableModel,
)
from erpgo_desktop.ui.tasks import TaskRunner

#: The tables whose changes can alter a product row (its stock comes from the inventory).
PRODUCT_TABLES = ("products", "product_variants", "product_inventory", "variant_inventory")

SEARCH_DELAY_MS = 250
SEARCH_PLACEHOLDER = "Search SKU or name (Ctrl+F)"


class ProductsTab(QWidget):
    """Search box over a paged, sortable table of products."""

    #: Enter or a double click on a product.
    open_requested = Signal(uuid.UUID)
    #: The status bar's summary changed (see `status_text`).
    status_changed = Signal()

    def __init__(
        self, catalog: ProductSource, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = ProductTableModel(catalog, runner, parent=self)
        self.model.status_changed.connect(lambda *_status: self.status_changed.emit())
        self._failure: str | None = None
        self.model.load_failed.connect(self._load_failed)
        self.model.modelReset.connect(self._forget_failure)

        self.search = QLineEdit()
        self.search.setObjectName("product_search")
        self.search.setPlaceholderText(SEARCH_PLACEHOLDER)
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search products")
        self.search.installEventFilter(self)

        # Typing "drill" is five edits; the list reloads once, a moment after the last.
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.search.textEdited.connect(lambda _text: self._search_timer.start())
        self.search.textChanged.connect(self._search_text_changed)
        self.search.returnPressed.connect(self.apply_search)

        self.table = QTableView()
        self.table.setObjectName("product_table")
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(False)
        # Tab leaves the table instead of walking a million cells.
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        # Fixed row heights: the view never measures rows, whatever their number.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        # Compact rows: a list screen is for scanning many lines at once.
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for number, column in enumerate(COLUMNS):
            if column.stretch:
                header.setSectionResizeMode(number, QHeaderView.ResizeMode.Stretch)
            elif column.width:
                self.table.setColumnWidth(number, column.width)
        # The indicator first, then sorting on: enabling sorting sorts by the indicator,
        # and that first sort is what loads the first page.
        header.setSortIndicator(SKU, Qt.SortOrder.AscendingOrder)
        self._sorted_column = SKU
        header.sortIndicatorChanged.connect(self._sort_indicator_changed)
        self.table.setSortingEnabled(True)

        self.table.activated.connect(self._activated)

        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table)
        self.setFocusProxy(self.table)

    # -- what the main window asks of every tab ------------------------------------------

    def reload(self) -> None:
        self.model.reload()

    def apply_change(self, change: Change) -> None:
        if any(change.concerns(table) for table in PRODUCT_TABLES):
            self.model.refresh()

    def status_text(self) -> str:
        if self._failure is not None:
            return f"Products could not be loaded: {self._failure} (F5 tries again)"
        model = self.model
        return products_status(
            model.is_loading, model.count, model.query.search_term, model.rowCount()
        )

    def selected_id(self) -> uuid.UUID | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.row_at(index.row()).id

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_requested.emit(self.model.row_at(index.row()).id)

    def _load_failed(self, message: str) -> None:
        self._failure = message
        self.status_changed.emit()

    def _forget_failure(self) -> None:
        self._failure = None

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def apply_search(self) -> None:
        self._search_timer.stop()
        self.model.set_search(self.search.text())

    def _search_text_changed(self, text: str) -> None:
        # The clear button and Esc change the text without an edit: no reason to wait.
        if not text:
            self.apply_search()

    def _sort_indicator_changed(self, column: int, _order: Qt.SortOrder) -> None:
        header = self.table.horizontalHeader()
        if column in SORT_KEYS:
            self._sorted_column = column
            return
        # Category and Active cannot be sorted (no index): put the arrow back where the
        # rows really are sorted. The model ignores the request itself.
        query = self.model.query
        order = Qt.SortOrder.DescendingOrder if query.descending else Qt.SortOrder.AscendingOrder
        header.blockSignals(True)
        header.setSortIndicator(COLUMN_OF_SORT[query.sort], order)
        header.blockSignals(False)

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


def products_status(loading: bool, count: ProductCount | None, search: str, loaded: int) -> str:
    """The status bar's summary of the list: "1,234 products", "10,000+ matches", ..."""
    if count is None:
        return "Loading…"
    number = f"{count.count:,}" + ("" if count.exact else "+")
    if search:
        if count.count == 0:
            return f"No products match “{search}”"
        noun = "match" if count.count == 1 and count.exact else "matches"
        text = f"{number} {noun}"
    elif count.count == 0:
        return "No products yet"
    else:
        noun = "product" if count.count == 1 and count.exact else "products"
        text = f"{number} {noun}"
    if loading and loaded:
        text += " — loading…"
    elif loading:
        text = "Loading…"
    return text
