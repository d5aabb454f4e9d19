"""The Products table model: rows loaded in keyset pages off the GUI thread.

`data()` only looks rows up in what is already loaded. When the view scrolls near the end
it asks `canFetchMore`/`fetchMore`, and the next page is requested through the task
runner, one request at a time. Sorting and searching happen in PostgreSQL: changing either
empties the model and starts again from the first page. Each load carries the
generation it was started in, so a page that arrives after the user has moved on to
another sort or search is dropped instead of being mixed into the new list.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from erpgo_desktop.services.catalog import (
    DEFAULT_COUNT_CAP,
    ProductCount,
    ProductCursor,
    ProductPage,
    ProductQuery,
    ProductRow,
    ProductSort,
)
from erpgo_desktop.ui.tasks import TaskRunner, user_message

log = logging.getLogger(__name__)

ModelIndex = QModelIndex | QPersistentModelIndex

PAGE_SIZE = 200

HEADERS = ("SKU", "Name", "Category", "Price", "Stock", "Active")
SKU, NAME, CATEGORY, PRICE, STOCK, ACTIVE = range(len(HEADERS))

# Only columns with a (column, id) index sort; ordering a million rows by category name
# or by the active flag would mean sorting the whole table for every page.
SORT_KEYS: dict[int, ProductSort] = {
    SKU: ProductSort.SKU,
    NAME: ProductSort.NAME,
    PRICE: ProductSort.PRICE,
    STOCK: ProductSort.STOCK_QUANTITY,
}
COLUMN_OF_SORT = {sort: column for column, sort in SORT_KEYS.items()}

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class ProductSource(Protocol):
    """What the model needs of the catalog service (tests may put a slower one in between)."""

    def list_products(
        self, query: ProductQuery, after: ProductCursor | None, limit: int
    ) -> ProductPage: ...

    def count_products(self, query: ProductQuery, cap: int | None = ...) -> ProductCount: ...


class ProductTableModel(QAbstractTableModel):
    # (loading, count): count is None until the count query has answered.
    status_changed = Signal(bool, object)
    # A message for the user; loading stops until the next reload.
    load_failed = Signal(str)

    def __init__(
        self,
        catalog: ProductSource,
        runner: TaskRunner,
        *,
        page_size: int = PAGE_SIZE,
        count_cap: int | None = DEFAULT_COUNT_CAP,  # for searches
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._catalog = catalog
        self._runner = runner
        self._page_size = page_size
        self._count_cap = count_cap
        self._query = ProductQuery()
        self._rows: list[ProductRow] = []
        self._cursor: ProductCursor | None = None
        self._has_more = False  # nothing is known before the first reload()
        self._loading = False
        self._failed = False
        self._count: ProductCount | None = None
        self._generation = 0
        self._started = False

    # -- state for the view --------------------------------------------------------------

    @property
    def query(self) -> ProductQuery:
        return self._query

    @property
    def is_loading(self) -> bool:
        return self._loading

    @property
    def count(self) -> ProductCount | None:
        return self._count

    @property
    def has_more(self) -> bool:
        return self._has_more

    def row_at(self, row: int) -> ProductRow:
        return self._rows[row]

    # -- changing what is listed ---------------------------------------------------------

    def set_search(self, text: str) -> None:
        query = ProductQuery(text, self._query.sort, self._query.descending)
        # The search ignores case, so "DRILL" after "drill" would only list the same rows.
        if query.search_term.lower() != self._query.search_term.lower() or not self._started:
            self._query = query
            self.reload()

    def set_sort(self, sort: ProductSort, descending: bool) -> None:
        query = ProductQuery(self._query.search, sort, descending)
        if query != self._query or not self._started:
            self._query = query
            self.reload()

    def reload(self) -> None:
        """Forget the loaded rows and start again from the first page."""
        self._started = True
        self._generation += 1
        self.beginResetModel()
        self._rows = []
        self._cursor = None
        self._has_more = True
        self._loading = False  # the old generation's request, if any, will be dropped
        self._failed = False
        self._count = None
        self.endResetModel()
        self._request_count()
        self._request_page()

    # -- QAbstractTableModel -------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < len(self._rows) and 0 <= column < len(HEADERS)):
            return None
        product = self._rows[row]
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(product, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if column in (PRICE, STOCK) else _LEFT
        if role == Qt.ItemDataRole.ToolTipRole and column in (NAME, CATEGORY):
            # Long names are cut off by the column width; the tooltip shows them whole.
            return _display(product, column)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if section in (PRICE, STOCK) else _LEFT
        if role == Qt.ItemDataRole.ToolTipRole:
            if section in SORT_KEYS:
                return f"Click to sort by {HEADERS[section].lower()}"
            return "This column cannot be sorted"
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = SORT_KEYS.get(column)
        if key is None:
            return
        self.set_sort(key, order == Qt.SortOrder.DescendingOrder)

    def canFetchMore(self, parent: ModelIndex) -> bool:
        if parent.isValid():
            return False
        return self._has_more and not self._loading and not self._failed

    def fetchMore(self, parent: ModelIndex) -> None:
        if parent.isValid():
            return
        self._request_page()

    # -- loading -------------------------------------------------------------------------

    def _request_page(self) -> None:
        if self._loading or not self._has_more or self._failed:
            return  # never more than one page request in flight
        self._loading = True
        generation, query, cursor, limit = (
            self._generation,
            self._query,
            self._cursor,
            self._page_size,
        )
        catalog = self._catalog
        self._runner.run(
            lambda: catalog.list_products(query, cursor, limit),
            lambda page: self._page_loaded(generation, page),
            lambda error: self._load_failed(generation, error),
        )
        self._emit_status()

    def _page_loaded(self, generation: int, page: ProductPage) -> None:
        if generation != self._generation:
            return  # the list was re-sorted or re-searched meanwhile
        # The cursor moves on before the rows go in: views (and the model tester) may ask
        # for the next page from inside endInsertRows(), and must not get this one again.
        self._loading = False
        self._has_more = page.has_more
        if page.next_cursor is not None:
            self._cursor = page.next_cursor
        if page.rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
            self._rows.extend(page.rows)
            self.endInsertRows()
        self._emit_status()

    def _request_count(self) -> None:
        generation, query = self._generation, self._query
        # Counting all products is an index-only scan (tens of ms for a million rows), so
        # the status line can say exactly how many. A broad search has to recheck every
        # candidate row, so its count stops at the cap ("10,000+ matches").
        cap = self._count_cap if query.search_term else None
        catalog = self._catalog
        self._runner.run(
            lambda: catalog.count_products(query, cap),
            lambda count: self._count_loaded(generation, count),
            lambda error: self._load_failed(generation, error),
        )

    def _count_loaded(self, generation: int, count: ProductCount) -> None:
        if generation != self._generation:
            return
        self._count = count
        self._emit_status()

    def _load_failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        # Stop asking: a view scrolled to the bottom would otherwise retry at once, forever.
        self._loading = False
        self._failed = True
        self._emit_status()
        self.load_failed.emit(user_message(error))

    def _emit_status(self) -> None:
        self.status_changed.emit(self._loading, self._count)


def _display(product: ProductRow, column: int) -> str:
    if column == SKU:
        return product.sku
    if column == NAME:
        return product.name
    if column == CATEGORY:
        return product.category
    if column == PRICE:
        return f"{product.price:,.2f}"
    if column == STOCK:
        return f"{product.stock_quantity:,}"
    return "Yes" if product.is_active else "No"
