"""The Products list: the generic paged model over the catalog's keyset pages.

Sorting and searching happen in PostgreSQL (see services/catalog.py); only columns with a
(column, id) index sort. Counting all products is an index-only scan (tens of ms for a
million rows), so the status line can say exactly how many; a broad search has to
recheck every candidate row, so its count stops at a cap ("10,000+ matches").
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject

from erpgo_desktop.services.catalog import (
    DEFAULT_COUNT_CAP,
    ProductCount,
    ProductCursor,
    ProductPage,
    ProductQuery,
    ProductRow,
    ProductSort,
)
from erpgo_desktop.ui.list_model import PAGE_SIZE, Column, PagedTableModel, money, number, yes_no
from erpgo_desktop.ui.tasks import TaskRunner

COLUMNS: tuple[Column[ProductRow], ...] = (
    Column("SKU", lambda p: p.sku, sort=ProductSort.SKU, width=150),
    Column("Name", lambda p: p.name, sort=ProductSort.NAME, tooltip=True, stretch=True),
    Column("Category", lambda p: p.category, tooltip=True, width=180),
    Column("Price", lambda p: money(p.price), sort=ProductSort.PRICE, align_right=True, width=110),
    Column(
        "Stock",
        lambda p: number(p.stock_quantity),
        sort=ProductSort.STOCK_QUANTITY,
        align_right=True,
        width=90,
    ),
    Column("Active", lambda p: yes_no(p.is_active), width=70),
)
HEADERS = tuple(column.title for column in COLUMNS)
SKU, NAME, CATEGORY, PRICE, STOCK, ACTIVE = range(len(HEADERS))
SORT_KEYS: dict[int, ProductSort] = {
    number_: column.sort for number_, column in enumerate(COLUMNS) if column.sort is not None
}
COLUMN_OF_SORT = {sort: column for column, sort in SORT_KEYS.items()}


class ProductSource(Protocol):
    """What the model needs of the catalog service (tests may put a slower one in between)."""

    def list_products(
        self, query: ProductQuery, after: ProductCursor | None, limit: int
    ) -> ProductPage: ...

    def count_products(self, query: ProductQuery, cap: int | None = ...) -> ProductCount: ...


class CatalogListSource:
    """The catalog as a list source: searches count up to a cap, the whole list exactly."""

    def __init__(self, catalog: ProductSource, count_cap: int | None) -> None:
        self._catalog = catalog
        self._count_cap = count_cap

    def fetch_page(
        self, query: ProductQuery, after: ProductCursor | None, limit: int
    ) -> ProductPage:
        return self._catalog.list_products(query, after, limit)

    def count(self, query: ProductQuery) -> ProductCount:
        cap = self._count_cap if query.search_term else None
        return self._catalog.count_products(query, cap)


class ProductTableModel(PagedTableModel):
    def __init__(
        self,
        catalog: ProductSource,
        runner: TaskRunner,
        *,
        page_size: int = PAGE_SIZE,
        count_cap: int | None = DEFAULT_COUNT_CAP,  # for searches
        parent: QObject | None = None,
    ) -> None:
        super().__init__(
            CatalogListSource(catalog, count_cap),
            runner,
            COLUMNS,
            ProductQuery(),
            page_size=page_size,
            parent=parent,
        )

    @property
    def query(self) -> ProductQuery:
        query = super().query
        assert isinstance(query, ProductQuery)
        return query

    def row_at(self, row: int) -> ProductRow:
        product = super().row_at(row)
        assert isinstance(product, ProductRow)
        return product
