"""Reading the product catalog for list screens: keyset pages and capped counts.

A list screen shows a few columns of possibly a million products. Each call selects only
those columns (no ORM entities), opens its own session and closes it before returning, so
no cursor stays open while the user scrolls. Pages are keyset pages: `WHERE (key, id) >
(:key, :id) ORDER BY key, id LIMIT n`, which the btree indexes on (key, id) of revision
0003 answer at any depth, where OFFSET would read and discard every earlier row.

A list that jumps (the user drags the scrollbar to the middle, or presses Ctrl+End) reads
by position with `list_products_at`: the row before the position is found with OFFSET
over the (key, id) index alone, an index-only scan (some 40 ms at row 500,000 of a
million, against 1.2 s for OFFSET over the joined rows), and the page then follows it as
a keyset page. Positions in the far half are read in the reversed order, so the last page
is a plain keyset LIMIT from the other end.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    String,
    bindparam,
    func,
    literal,
    or_,
    select,
    tuple_,
    union,
)
from sqlalchemy.orm import Session, sessionmaker

from erpgo_desktop.db.models import Product, ProductCategory
from erpgo_desktop.domain.validation import check_search
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services import listing
from erpgo_desktop.services.arguments import checked_entry_points
from erpgo_desktop.services.base import read_reconnecting
from erpgo_desktop.services.listing import escape_like
from erpgo_desktop.services.search_costs import (
    CHOSEN_BY_POSTGRESQL,
    SampleCache,
    SkuSides,
    few_enough_to_collect,
    sku_sides_to_collect,
)

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


@dataclass(frozen=True)
class ProductQuery:
    """What the list shows: a search over SKU, name and barcode, filters, and an order."""

    search: str = ""
    sort: ProductSort = ProductSort.SKU
    descending: bool = False
    category_id: uuid.UUID | None = None
    #: True: active products only; False: inactive ones only; None: both.
    active: bool | None = None

    @property
    def search_term(self) -> str:
        """The search as it is matched: surrounding blanks do not count."""
        return check_search(self.search, MAX_SEARCH_LENGTH)

    @property
    def narrowed(self) -> bool:
        """Whether a search or a filter leaves out some products."""
        return bool(self.search_term) or self.category_id is not None or self.active is not None


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
    # For a search, how its first page chose to read (see `sort_matches_up_to`), so that
    # the following pages read the same way without counting again.
    sort_matches: bool | None = None


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


@checked_entry_points
class ProductCatalogService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        # Tests: count up to this many matches and sort them when no more, else walk;
        # None (the application) leaves the choice to PostgreSQL's estimates.
        sort_matches_up_to: int | None = None,
    ) -> None:
        self._sessions = session_factory
        self._sort_matches_up_to = sort_matches_up_to
        self._samples = SampleCache()

    def list_products(
        self, query: ProductQuery, after: ProductCursor | None, limit: int
    ) -> ProductPage:
        """The `limit` products that follow `after` (or the first ones) in the query's order."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValidationError(f"A page has 1 to {MAX_PAGE_SIZE} rows, not {limit}.")

        def read_page(session: Session) -> tuple[Sequence[Any], bool | None]:
            sort_matches = None
            if query.narrowed:
                if after is not None and after.sort_matches is not None:
                    sort_matches = after.sort_matches
                else:
                    sort_matches = self._few_matches(session, query)
            statement = page_statement(
                query,
                after,
                limit + 1,
                sort_matches=bool(sort_matches),
                collect=self._sides_to_collect(session, query, after, limit + 1),
            )
            return session.execute(statement).all(), sort_matches

        records, sort_matches = read_reconnecting(self._sessions, read_page)
        rows = tuple(_product_row(record) for record in records[:limit])
        cursor = None
        if rows:
            last = rows[-1]
            cursor = ProductCursor(_sort_value(query.sort, last), last.id, sort_matches)
        return ProductPage(rows=rows, next_cursor=cursor, has_more=len(records) > limit)

    def list_products_at(
        self, query: ProductQuery, offset: int, limit: int, *, total: int | None = None
    ) -> ProductPage:
        """The `limit` products from position `offset` (0 is the first) in the query's order.

        `total`, how many products the caller believes match, lets a position in the far
        half be read from the other end: the last page costs what the first does. The
        page's cursor is the one after its last row, so the caller can go on by keyset.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValidationError(f"A page has 1 to {MAX_PAGE_SIZE} rows, not {limit}.")
        if offset < 0:
            raise ValidationError(f"A position cannot be negative: {offset}.")
        _check_search(query)
        read_query, read_offset, read_limit = query, offset, limit
        backwards = total is not None and total - (offset + limit) < offset
        if backwards:
            assert total is not None
            end = min(offset + limit, total)
            if end <= offset:
                return ProductPage(rows=(), next_cursor=None, has_more=False)
            read_query = dataclasses.replace(query, descending=not query.descending)
            read_offset, read_limit = total - end, end - offset

        def read_page(session: Session) -> tuple[Sequence[Any], bool | None, bool]:
            sort_matches = self._few_matches(session, query) if query.narrowed else None
            start = None
            if read_offset > 0:
                before = session.execute(
                    position_statement(read_query, read_offset - 1, bool(sort_matches))
                ).first()
                if before is None:
                    return (), sort_matches, False
                start = ProductCursor(before[0], before[1])
            statement = page_statement(
                read_query,
                start,
                read_limit + 1,
                sort_matches=bool(sort_matches),
                collect=self._sides_to_collect(session, read_query, start, read_limit + 1),
            )
            # Read backwards, the rows after the page (in the list's order) are the ones
            # skipped before it.
            return session.execute(statement).all(), sort_matches, start is not None

        records, sort_matches, skipped = read_reconnecting(self._sessions, read_page)
        rows = [_product_row(record) for record in records[:read_limit]]
        if backwards:
            rows.reverse()
            has_more = skipped
        else:
            has_more = len(records) > read_limit
        cursor = None
        if rows:
            last = rows[-1]
            cursor = ProductCursor(_sort_value(query.sort, last), last.id, sort_matches)
        return ProductPage(rows=tuple(rows), next_cursor=cursor, has_more=has_more)

    def _sides_to_collect(
        self, session: Session, query: ProductQuery, after: ProductCursor | None, rows: int
    ) -> SkuSides:
        """Which sides of a search's page by SKU collect their matches rather than leave
        PostgreSQL to walk the SKU index to them (services/search_costs.py)."""
        if not query.search_term or query.sort is not ProductSort.SKU:
            return CHOSEN_BY_POSTGRESQL
        samples = self._samples.samples(session)
        if samples is None:
            return CHOSEN_BY_POSTGRESQL
        after_sku = after.key if after is not None and isinstance(after.key, str) else None
        return sku_sides_to_collect(
            samples,
            query.search_term,
            after_sku=after_sku,
            descending=query.descending,
            page_rows=rows,
        )

    def _few_matches(self, session: Session, query: ProductQuery) -> bool | None:
        """Whether to sort the matches (True) or walk the sort index (False); None: the
        plain statement, whose plan PostgreSQL chooses from its estimates of the search
        (pg_trgm's statistics and the trigram indexes), without counting anything.

        A search in another order than the SKU's sorts its matches when the statistics
        say they are few (services/search_costs.py): walking an order they lie bunched
        far along would visit most products first. By SKU, `_sides_to_collect` chooses
        for each side of the page."""
        limit = self._sort_matches_up_to
        if limit is None:
            if not query.search_term or query.sort is ProductSort.SKU:
                return None
            samples = self._samples.samples(session)
            if samples is not None and few_enough_to_collect(samples, query.search_term):
                return True
            return None
        if limit <= 0:
            return False
        found = session.scalar(count_statement(query, limit)) or 0
        return found <= limit

    def count_products(
        self, query: ProductQuery, cap: int | None = DEFAULT_COUNT_CAP
    ) -> ProductCount:
        """How many products match, counting no further than `cap` (None: count them all).

        An exact count of a broad search over a million rows costs as much as reading
        them; a status line only needs "10,000+", so the inner query stops at cap + 1.
        """
        statement = count_statement(query, cap)
        found = read_reconnecting(self._sessions, lambda session: session.scalar(statement)) or 0
        if cap is not None and found > cap:
            return ProductCount(count=cap, exact=False)
        return ProductCount(count=found, exact=True)


PageSelect = Select[uuid.UUID, str, str, str, Decimal, int, bool]


def page_statement(
    query: ProductQuery,
    after: ProductCursor | None,
    limit: int,
    *,
    sort_matches: bool = False,
    collect: SkuSides = CHOSEN_BY_POSTGRESQL,
) -> PageSelect:
    """The SELECT of one keyset page; public so that the benchmark can run the same SQL.

    Without `sort_matches` it is the plain statement (`WHERE ... ORDER BY key, id LIMIT
    n`): PostgreSQL walks the (key, id) index and stops after `limit` matches when its
    estimate says matches are common, or collects them through the trigram indexes and
    sorts them when they are few. Nothing is counted first: a search with a hundred
    thousand matches walks a few thousand rows, one with a few dozen reads those. With
    `sort_matches` (tests), the matches are always collected and sorted (a MATERIALIZED
    CTE keeps the planner from walking instead). `collect`: see `_sku_page_by_column`.
    """
    _check_search(query)
    if query.search_term and query.sort is ProductSort.SKU and not sort_matches:
        return _sku_page_by_column(query, after, limit, collect)
    source, filters = _matching(query, sort_matches)
    columns = source.c
    key, row_id = columns[query.sort.value], columns.id
    statement = cast(
        PageSelect,
        select(
            row_id,
            columns.sku,
            columns.name,
            ProductCategory.name.label("category"),
            columns.price,
            columns.stock_quantity,
            columns.is_active,
        )
        .select_from(source)
        .join(ProductCategory, ProductCategory.id == columns.category_id)
        .where(*filters),
    )
    if after is not None:
        # A row comparison, not `key > :k OR (key = :k AND id > :id)`: PostgreSQL turns
        # the row form into one range scan of the (key, id) index.
        position = tuple_(key, row_id)
        bound = tuple_(literal(after.key, key.type), literal(after.id, row_id.type))
        statement = statement.where(position < bound if query.descending else position > bound)
    if query.descending:
        statement = statement.order_by(key.desc(), row_id.desc())
    else:
        statement = statement.order_by(key.asc(), row_id.asc())
    return statement.limit(limit)


def _sku_page_by_column(
    query: ProductQuery,
    after: ProductCursor | None,
    limit: int,
    collect: SkuSides = CHOSEN_BY_POSTGRESQL,
) -> PageSelect:
    """A search's page by SKU, its SKU matches read apart from its name and barcode
    matches: the first `limit` of each in (sku, id) order, merged.

    The name and barcode side is planned by PostgreSQL as the plain statement is: it
    walks the (sku, id) order when the term is common, or collects the matches through
    the trigram indexes and sorts them when they are few. The SKU side reads the
    (sku, id) index alone (an index-only scan, the SKU tested in the index entry), so
    walking past products that do not match costs an index entry each rather than a
    table row: a SKU prefix bunched deep in the order (`CLO-RAI`, 41,000 entries in on
    the demo data) is reached without visiting 41,000 products for their names. That
    walk stops at the name side's last row when the name side fills a page (no row past
    it can be on the page), so a common term (`pro`) reads as far as the name side
    does, not as far as the first SKUs holding it. A product matching both sides is one
    row of the union. The rows and their order are the plain statement's: the matches
    are the rows of either side, and the first `limit` of all are among the first
    `limit` of each side.

    A side named in `collect` collects its matches through the trigram indexes and sorts
    them instead of leaving the choice to PostgreSQL: for matches bunched far along the
    SKU order, which PostgreSQL, reckoning them spread evenly, would walk most of the
    index to reach (services/search_costs.py says when).

    The statement is built once per shape (order, cursor, filters) with its values as
    parameters: building a union of CTEs and subqueries costs SQLAlchemy a millisecond
    or more, several times the whole of a rare term's reading.
    """
    values: dict[str, Any] = {
        "pattern": f"%{escape_like(query.search_term)}%",
        "rows": limit,
        "last_row": limit - 1,
    }
    if after is not None:
        values.update(after_sku=after.key, after_id=after.id)
    if query.category_id is not None:
        values["category_id"] = query.category_id
    shape = _sku_page_shape(
        query.descending,
        after is not None,
        query.category_id is not None,
        query.active,
        collect,
    )
    return shape.params(values)


@functools.lru_cache(maxsize=32)
def _sku_page_shape(
    descending: bool,
    after: bool,
    in_category: bool,
    active: bool | None,
    collect: SkuSides,
) -> PageSelect:
    """`_sku_page_by_column`'s statement, its values left as parameters."""
    p = Product
    narrowing: list[ColumnElement[bool]] = []
    if in_category:
        narrowing.append(p.category_id == bindparam("category_id", type_=p.category_id.type))
    if active is not None:
        narrowing.append(p.is_active.is_(active))
    if after:
        position = tuple_(p.sku, p.id)
        after_key = tuple_(
            bindparam("after_sku", type_=p.sku.type), bindparam("after_id", type_=p.id.type)
        )
        narrowing.append(position < after_key if descending else position > after_key)
    pattern = bindparam("pattern", type_=String())
    rows = bindparam("rows", type_=Integer())
    in_sku, in_name, in_barcode = (
        column.ilike(pattern, escape="\\") for column in (p.sku, p.name, p.barcode)
    )
    named = _first_by_sku(
        "name", [*narrowing, or_(in_name, in_barcode)], descending, rows, collect.names
    ).cte("named")
    # The name side's last row when it holds a page, else the last SKU of all: a bound
    # an index scan stops at (a condition that could be NULL would only filter).
    named_last = (
        select(named.c.sku)
        .order_by(*((named.c.sku.desc(),) if descending else (named.c.sku.asc(),)))
        .offset(bindparam("last_row", type_=Integer()))
        .limit(1)
        .scalar_subquery()
    )
    end_of_all = select(func.min(p.sku) if descending else func.max(p.sku)).scalar_subquery()
    stop = func.coalesce(named_last, end_of_all)
    in_reach = p.sku >= stop if descending else p.sku <= stop
    # Collected, without the walk's bound: a bound on the SKU lets PostgreSQL walk the
    # SKU index again, unordered (and the rows past it never reach the page anyway).
    sku_side = [*narrowing, in_sku] if collect.skus else [*narrowing, in_sku, in_reach]
    skus = _first_by_sku("sku", sku_side, descending, rows, collect.skus)
    found = union(select(named.c.sku, named.c.id), skus).subquery("found")
    page = select(found.c.id).order_by(*_by_sku(found.c, descending)).limit(rows).subquery("page")
    return (
        select(
            p.id,
            p.sku,
            p.name,
            ProductCategory.name.label("category"),
            p.price,
            p.stock_quantity,
            p.is_active,
        )
        .select_from(page)
        .join(p, p.id == page.c.id)
        .join(ProductCategory, ProductCategory.id == p.category_id)
        .order_by(*_by_sku(p, descending))
    )


def _first_by_sku(
    side: str, conditions: Sequence[ColumnElement[bool]], descending: bool, rows: Any, collect: bool
) -> Select[str, uuid.UUID]:
    """The (sku, id) of the first `rows` products meeting `conditions` in SKU order: as
    PostgreSQL chooses (walking the (sku, id) index, or collecting through the trigram
    indexes), or, with `collect`, collected (MATERIALIZED: every match, then the sort)."""
    p = Product
    if not collect:
        return select(p.sku, p.id).where(*conditions).order_by(*_by_sku(p, descending)).limit(rows)
    matches = (
        select(p.sku, p.id).where(*conditions).cte(f"{side}_matches").prefix_with("MATERIALIZED")
    )
    return select(matches.c.sku, matches.c.id).order_by(*_by_sku(matches.c, descending)).limit(rows)


def _by_sku(columns: Any, descending: bool) -> tuple[Any, Any]:
    if descending:
        return columns.sku.desc(), columns.id.desc()
    return columns.sku.asc(), columns.id.asc()


def position_statement(query: ProductQuery, offset: int, sort_matches: bool = False) -> Select[Any]:
    """The (key, id) of the row at `offset` in the query's order, read from the index alone.

    Only the sort key and id are selected and nothing is joined, so without a search
    PostgreSQL skips `offset` entries of the (key, id) index without visiting the table.
    """
    _check_search(query)
    source, filters = _matching(query, sort_matches)
    key, row_id = source.c[query.sort.value], source.c.id
    order = (key.desc(), row_id.desc()) if query.descending else (key.asc(), row_id.asc())
    return (
        select(key, row_id).select_from(source).where(*filters).order_by(*order).offset(offset)
    ).limit(1)


def count_statement(query: ProductQuery, cap: int | None) -> Select[int]:
    """The SELECT count(*) of `count_products`; public so that the benchmark can run it."""
    _check_search(query)
    return listing.count_statement(select(Product.id).where(*_filters(query)), cap)


def _check_search(query: ProductQuery) -> None:
    check_search(query.search, MAX_SEARCH_LENGTH)


def _matching(
    query: ProductQuery, sort_matches: bool
) -> tuple[FromClause, list[ColumnElement[bool]]]:
    """Where a page reads from, and the filters still to apply there."""
    filters = _filters(query)
    if not (sort_matches and filters):
        return Product.__table__, filters
    listed = [
        Product.id,
        Product.sku,
        Product.name,
        Product.category_id,
        Product.price,
        Product.stock_quantity,
        Product.is_active,
    ]
    matches = select(*listed).where(*filters).cte("matches").prefix_with("MATERIALIZED")
    return matches, []


def _product_row(record: Any) -> ProductRow:
    return ProductRow(
        id=record.id,
        sku=record.sku,
        name=record.name,
        category=record.category,
        price=record.price,
        stock_quantity=record.stock_quantity,
        is_active=record.is_active,
    )


def _filters(query: ProductQuery) -> list[ColumnElement[bool]]:
    filters = _narrowing(query)
    term = query.search_term
    if not term:
        return filters
    return [*filters, or_(*_contains(term, (Product.sku, Product.name, Product.barcode)))]


def _narrowing(query: ProductQuery) -> list[ColumnElement[bool]]:
    """The query's filters other than its search."""
    filters: list[ColumnElement[bool]] = []
    if query.category_id is not None:
        filters.append(Product.category_id == query.category_id)
    if query.active is not None:
        filters.append(Product.is_active.is_(query.active))
    return filters


def _contains(term: str, columns: Sequence[Any]) -> list[ColumnElement[bool]]:
    """Each column contains `term`, ignoring case.

    Plain ILIKE on the bare columns: the pg_trgm GIN indexes of revisions 0003 and 0005
    answer it. (SQLAlchemy's icontains() would compare lower(column), which those
    indexes cannot.)
    """
    pattern = f"%{escape_like(term)}%"
    return [column.ilike(pattern, escape="\\") for column in columns]


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
