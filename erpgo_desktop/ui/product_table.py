"""The Products list: the generic paged model over the catalog's keyset pages.

Sorting and searching happen in PostgreSQL (see services/catalog.py); only columns with a
(column, id) index sort. Counting all products is an index-only scan (tens of ms for a
million rows), so the status line can say exactly how many; a broad search has to
recheck every candidate row, so its count stops at a cap ("10,000+ matches").

With a catalog that reads by position (`list_products_at`), a list whose count is exact
(the whole catalog, or a search below the cap) is sparse: every row is in the model at
once and Ctrl+End shows the true last rows at once (see ui/list_model.py). `row_at()`
then gives None for a row whose block has not loaded yet.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject

from erpgo_desktop.domain.wording import active_tone
from erpgo_desktop.services.catalog import (
    DEFAULT_COUNT_CAP,
    ProductCount,
    ProductCursor,
    ProductPage,
    ProductQuery,
    ProductRow,
    ProductSort,
)
from erpgo_desktop.ui.list_model import (
    CACHE_ROWS,
    PAGE_SIZE,
    SPARSE_FROM,
    Column,
    PagedTableModel,
    money,
    number,
    yes_no,
)
from erpgo_desktop.ui.tasks import TaskRunner

COLUMNS: tuple[Column[ProductRow], ...] = (
    Column("SKU", lambda p: p.sku, sort=ProductSort.SKU),
    Column("Name", lambda p: p.name, sort=ProductSort.NAME, tooltip=True, stretch=True),
    Column("Category", lambda p: p.category, tooltip=True),
    Column("Price", lambda p: money(p.price), sort=ProductSort.PRICE, align_right=True),
    Column(
        "Stock",
        lambda p: number(p.stock_quantity),
        sort=ProductSort.STOCK_QUANTITY,
        align_right=True,
    ),
    Column("Active", lambda p: yes_no(p.is_active), badge=lambda p: active_tone(p.is_active)),
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


class PositionalProductSource(ProductSource, Protocol):
    """A catalog that can also read by position, as ProductCatalogService does."""

    def list_products_at(
        self, query: ProductQuery, offset: int, limit: int, *, total: int | None = ...
    ) -> ProductPage: ...


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


class PositionalCatalogListSource(CatalogListSource):
    """The catalog as a source the model can jump through (sparse mode)."""

    def __init__(self, catalog: PositionalProductSource, count_cap: int | None) -> None:
        super().__init__(catalog, count_cap)
        self._positional = catalog

    def fetch_at(self, query: ProductQuery, offset: int, limit: int, total: int) -> ProductPage:
        return self._positional.list_products_at(query, offset, limit, total=total)


def catalog_source(catalog: ProductSource, count_cap: int | None) -> CatalogListSource:
    """A positional source when the catalog can read by position, else an append-only one."""
    if callable(getattr(catalog, "list_products_at", None)):
        return PositionalCatalogListSource(catalog, count_cap)  # type: ignore[arg-type]
    return CatalogListSource(catalog, count_cap)


class ProductTableModel(PagedTableModel):
    def __init__(
        self,
        catalog: ProductSource,
        runner: TaskRunner,
        *,
        page_size: int = PAGE_SIZE,
        count_cap: int | None = DEFAULT_COUNT_CAP,  # for searches
        sparse_from: int = SPARSE_FROM,
        cache_rows: int = CACHE_ROWS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(
            catalog_source(catalog, count_cap),
            runner,
            COLUMNS,
            ProductQuery(),
            page_size=page_size,
            sparse_from=sparse_from,
            cache_rows=cache_rows,
            parent=parent,
        )

    @property
    def query(self) -> ProductQuery:
        query = super().query
        assert isinstance(query, ProductQuery)
        return query

    def row_at(self, row: int) -> ProductRow | None:
        """The product at `row`; None in sparse mode while its block is not loaded."""
        product = super().row_at(row)
        assert product is None or isinstance(product, ProductRow)
        return product
