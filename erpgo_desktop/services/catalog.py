"""Reading the product catalog for list screens: keyset pages and capped counts.

A list screen shows a few columns of possibly a million products. Each call selects only
those columns (no ORM entities), opens its own session and closes it before returning, so
no cursor stays open while the user scrolls. Pages are keyset pages: `WHERE (key, id) >
(:key, :id) ORDER BY key, id LIMIT n`, which the btree indexes on (key, id) of revision
0003 answer at any depth, where OFFSET would read and discard every earlier row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, or_, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from erpgo_desktop.db.models import Product, ProductCategory
from erpgo_desktop.errors import ValidationError

DEFAULT_COUNT_CAP = 10_000
MAX_PAGE_SIZE = 1_000
MAX_SEARCH_LENGTH = 300  # the longest name a product may have

# A sort key's value: a SKU or name (str), a price (Decimal) or a stock quantity (int).
SortValue = str | Decimal | int


class ProductSort(Enum):
    """The orders a product list can have; each has a btree index on (column, id)."""

    SKU = "sku"
    NAME = "name"
    PRICE = "price"
    STOCK_QUANTITY = "stock_quantity"


_SORT_COLUMNS: dict[ProductSort, InstrumentedAttribute[Any]] = {
    ProductSort.SKU: Product.sku,
    ProductSort.NAME: Product.name,
    ProductSort.PRICE: Product.price,
    ProductSort.STOCK_QUANTITY: Product.stock_quantity,
}


@dataclass(frozen=True)
class ProductQuery:
    """What the list shows: a search over SKU and name, and an order."""

    search: str = ""
    sort: ProductSort = ProductSort.SKU
    descending: bool = False

    @property
    def search_term(self) -> str:
        """The search as it is matched: surrounding blanks do not count."""
        return self.search.strip()


@dataclass(frozen=True)
class ProductRow:
    id: uuid.UUID
    sku: str
    name: str
    category: str
    price: Decimal
    stock_quantity: int
    is_active: bool


@dataclass(frozen=True)
class ProductCursor:
    """Where the next page starts: the last row's sort key and id (ids break ties)."""

    key: SortValue
    id: uuid.UUID


@dataclass(frozen=True)
class ProductPage:
    rows: tuple[ProductRow, ...]
    # The cursor after the last row, None when the page is empty.
    next_cursor: ProductCursor | None
    has_more: bool


@dataclass(frozen=True)
class ProductCount:
    """How many products match; when `exact` is false there are more than `count`."""

    count: int
    exact: bool


class ProductCatalogService:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def list_products(
        self, query: ProductQuery, after: ProductCursor | None, limit: int
    ) -> ProductPage:
        """The `limit` products that follow `after` (or the first ones) in the query's order."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValidationError(f"A page has 1 to {MAX_PAGE_SIZE} rows, not {limit}.")
        statement = page_statement(query, after, limit + 1)
        with self._sessions() as session:
            records = session.execute(statement).all()
        rows = tuple(
            ProductRow(
                id=record.id,
                sku=record.sku,
                name=record.name,
                category=record.category,
                price=record.price,
                stock_quantity=record.stock_quantity,
                is_active=record.is_active,
            )
            for record in records[:limit]
        )
        cursor = None
        if rows:
            last = rows[-1]
            cursor = ProductCursor(key=_sort_value(query.sort, last), id=last.id)
        return ProductPage(rows=rows, next_cursor=cursor, has_more=len(records) > limit)

    def count_products(
        self, query: ProductQuery, cap: int | None = DEFAULT_COUNT_CAP
    ) -> ProductCount:
        """How many products match, counting no further than `cap` (None: count them all).

        An exact count of a broad search over a million rows costs as much as reading
        them; a status line only needs "10,000+", so the inner query stops at cap + 1.
        """
        statement = count_statement(query, cap)
        with self._sessions() as session:
            found = session.scalar(statement) or 0
        if cap is not None and found > cap:
            return ProductCount(count=cap, exact=False)
        return ProductCount(count=found, exact=True)


PageSelect = Select[uuid.UUID, str, str, str, Decimal, int, bool]


def page_statement(query: ProductQuery, after: ProductCursor | None, limit: int) -> PageSelect:
    """The SELECT of one keyset page; public so that the benchmark can run the same SQL."""
    _check_search(query)
    key = _SORT_COLUMNS[query.sort]
    statement = (
        select(
            Product.id,
            Product.sku,
            Product.name,
            ProductCategory.name.label("category"),
            Product.price,
            Product.stock_quantity,
            Product.is_active,
        )
        .join(ProductCategory, ProductCategory.id == Product.category_id)
        .where(*_filters(query))
    )
    if after is not None:
        # A row comparison, not `key > :k OR (key = :k AND id > :id)`: PostgreSQL turns
        # the row form into one range scan of the (key, id) index.
        position = tuple_(key, Product.id)
        bound = tuple_(literal(after.key, key.type), literal(after.id, Product.id.type))
        statement = statement.where(position < bound if query.descending else position > bound)
    if query.descending:
        statement = statement.order_by(key.desc(), Product.id.desc())
    else:
        statement = statement.order_by(key.asc(), Product.id.asc())
    return statement.limit(limit)


def count_statement(query: ProductQuery, cap: int | None) -> Select[int]:
    """The SELECT count(*) of `count_products`; public so that the benchmark can run it."""
    _check_search(query)
    matching = select(Product.id).where(*_filters(query))
    if cap is None:
        return select(func.count()).select_from(matching.subquery())
    if cap < 0:
        raise ValidationError(f"A count cap cannot be negative: {cap}.")
    return select(func.count()).select_from(matching.limit(cap + 1).subquery())


def escape_like(text: str) -> str:
    """`text` as a literal part of a LIKE pattern whose escape character is a backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _check_search(query: ProductQuery) -> None:
    if len(query.search_term) > MAX_SEARCH_LENGTH:
        raise ValidationError(f"Search for at most {MAX_SEARCH_LENGTH} characters.", field="search")


def _filters(query: ProductQuery) -> list[ColumnElement[bool]]:
    term = query.search_term
    if not term:
        return []
    # Plain ILIKE on the bare columns: the pg_trgm GIN indexes of revision 0003 answer it.
    # (SQLAlchemy's icontains() would compare lower(column), which those indexes cannot.)
    pattern = f"%{escape_like(term)}%"
    return [or_(Product.sku.ilike(pattern, escape="\\"), Product.name.ilike(pattern, escape="\\"))]


def _sort_value(sort: ProductSort, row: ProductRow) -> SortValue:
    match sort:
        case ProductSort.SKU:
            return row.sku
        case ProductSort.NAME:
            return row.name
        case ProductSort.PRICE:
            return row.price
        case ProductSort.STOCK_QUANTITY:
            return row.stock_quantity
