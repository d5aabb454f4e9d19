"""The managers' reports: stock valuation, stock movements, sales and customer balances.

Each report is one aggregate (or join) in PostgreSQL, read as the lists are: by keyset
pages in the order asked for, the sort column first and the group's identity after it as
the tie-breaker (`WHERE (key, id...) > (:last...) ORDER BY key, id... LIMIT n+1`), so that
every row comes once, whatever changes between pages. A page carries no total: the
count and the sums of the columns that add up (`ReportService.totals`) are one query of
their own, read once for a report and its filters, not with every page.

A report may be the UNION ALL of branches (the valuation: stock of products, and stock of
variants); a page is then each branch's page, merged. Each branch sorted and limited on
its own is what lets PostgreSQL read a branch through an index (products by SKU, say)
and stop after a page's rows, instead of joining and sorting every stock row first.
Figures:

- inventory valuation: one row per stock row (product or variant in a warehouse) with
  stock on hand, as much rows as the stock tables hold (no grouping). Its values are the
  stock rows' own (`value_at_cost`, `value_at_price`, kept by the database, revision
  0019), so that an index reads it sorted by value or on hand; its totals without a
  search are kept per warehouse (`report_stock_totals`);
- stock movements: one row per product/variant and warehouse that moved in the period,
  from the ledger (`inventory_transactions`), with the quantity before the period
  (`opening`), what came in, went out, was adjusted and transferred, and the quantity
  after it (`closing`). Only the ledger from the period's first day on is read (by its
  time index): closing is on hand now less what moved after the period. A manager reads
  what happened to each item, not each ledger row (the product dialog's ledger lists
  those);
- sales by product, customer and region: orders dated in the period whose goods are sold
  (`SOLD_STATUSES`, and ON_HOLD orders held after confirmation); cancelled, returned and
  refunded orders, drafts and orders not yet confirmed do not count;
- customer balances: every customer owing something (balance or unpaid sold orders);
- changes: every change kept in a period, which `HistoryService.changes` reads from the
  change history (services/history.py); it is a `Report` so that the Reports tab shows and
  exports it as it does the others.

Dates are days of the workstation's calendar, both ends included (as the Orders list).
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Select,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Session, aliased, sessionmaker

from erpgo_desktop.db.models import (
    Customer,
    InventoryTransaction,
    Order,
    OrderAddress,
    OrderItem,
    Product,
    ProductInventory,
    ProductVariant,
    ReportStockTotals,
    VariantInventory,
    Warehouse,
    report_stock_totals_pending,
)
from erpgo_desktop.domain import orders as order_rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.base import Service, require
from erpgo_desktop.services.listing import (
    MAX_PAGE_SIZE,
    check_page_size,
    check_search,
    contains_any,
    customer_matches,
)
from erpgo_desktop.services.order_list import day_start
from erpgo_desktop.services.search_costs import SampleCache, few_enough_to_collect

R = TypeVar("R")

#: Sums and counts of integers come as bigint: still Python ints, cast for clarity.
_INT = BigInteger()

#: Orders whose goods count as sold.
SOLD_STATUSES: tuple[str, ...] = (
    order_rules.CONFIRMED,
    order_rules.PROCESSING,
    order_rules.PARTIALLY_SHIPPED,
    order_rules.SHIPPED,
    order_rules.DELIVERED,
)
#: An ON_HOLD order held after one of these was confirmed (and still is sold).
_HELD_AFTER = tuple(sorted(order_rules.CONFIRMED_STATUSES - {order_rules.RETURNED}))

#: A report period may not span more than this (a typo in a year would read everything).
MAX_PERIOD_DAYS = 3_660


class Report(enum.Enum):
    INVENTORY_VALUATION = "inventory_valuation"
    STOCK_MOVEMENTS = "stock_movements"
    SALES_BY_PRODUCT = "sales_by_product"
    SALES_BY_CUSTOMER = "sales_by_customer"
    SALES_BY_REGION = "sales_by_region"
    CUSTOMER_BALANCES = "customer_balances"
    #: Every change kept in a period: read by `HistoryService.changes` (services/history.py).
    CHANGES = "changes"


#: Where a report's page ended: the sort column's and the tie-breakers' values of its last
#: row, in the order the report sorts by them.
ReportCursor = tuple[Any, ...]


@dataclass(frozen=True)
class ReportPage(Generic[R]):
    """Rows of a report in the order asked for, after the cursor the page was read from."""

    rows: tuple[R, ...]
    #: Where the next page starts; None when no row came.
    next_cursor: ReportCursor | None
    has_more: bool


@dataclass(frozen=True)
class ReportTotals:
    """How many rows a report has, and the sums over all of them of the columns that add
    up (`TOTALS`): what a reader checks a report against. Read apart from the pages."""

    count: int
    sums: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def exact(self) -> bool:
        """Always: a report is counted whole (the list model's count protocol)."""
        return True


# -- rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValuationRow:
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    warehouse_id: uuid.UUID
    warehouse_code: str
    sku: str
    name: str  # "Product — variant" for a variant's stock
    on_hand: int
    reserved: int
    unit_cost: Decimal
    unit_price: Decimal
    value_at_cost: Decimal
    value_at_price: Decimal

    @property
    def key(self) -> tuple[uuid.UUID, uuid.UUID | None, uuid.UUID]:
        return (self.product_id, self.variant_id, self.warehouse_id)


@dataclass(frozen=True)
class MovementRow:
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    warehouse_id: uuid.UUID
    warehouse_code: str
    sku: str
    name: str
    opening: int  # on hand before the first day
    received: int  # IN rows (receipts, returns)
    issued: int  # OUT rows (shipments, damage, loss), as a positive quantity
    adjusted: int  # ADJUST rows, signed
    transferred: int  # TRANSFER rows, signed (in minus out)
    net: int
    closing: int  # on hand after the last day

    @property
    def key(self) -> tuple[uuid.UUID, uuid.UUID | None, uuid.UUID]:
        return (self.product_id, self.variant_id, self.warehouse_id)


@dataclass(frozen=True)
class ProductSalesRow:
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    sku: str
    name: str
    orders: int
    units: int
    returned: int
    #: Line totals less line discounts, before tax.
    net_sales: Decimal

    @property
    def key(self) -> tuple[uuid.UUID, uuid.UUID | None]:
        return (self.product_id, self.variant_id)


@dataclass(frozen=True)
class CustomerSalesRow:
    customer_id: uuid.UUID
    customer_code: str | None
    customer_name: str  # the company, else first and last name
    orders: int
    #: Subtotals less discounts (before tax and shipping).
    net_sales: Decimal
    #: Order totals (with tax and shipping).
    total: Decimal
    paid: Decimal

    @property
    def key(self) -> uuid.UUID:
        return self.customer_id


@dataclass(frozen=True)
class RegionSalesRow:
    country: str
    state: str  # "" when the address has none
    orders: int
    customers: int
    net_sales: Decimal
    total: Decimal

    @property
    def key(self) -> tuple[str, str]:
        return (self.country, self.state)


@dataclass(frozen=True)
class CustomerBalanceRow:
    customer_id: uuid.UUID
    customer_code: str | None
    customer_name: str
    status: str
    credit_limit: Decimal  # 0: no limit
    balance: Decimal
    #: What the limit leaves; None without a limit.
    available_credit: Decimal | None
    unpaid_orders: int
    unpaid_amount: Decimal
    #: Unpaid on orders past their required date.
    overdue_amount: Decimal

    @property
    def key(self) -> uuid.UUID:
        return self.customer_id


# -- sorts: the column names each report sorts by, and its default ----------------------

VALUATION_SORTS = ("sku", "name", "warehouse_code", "on_hand", "unit_cost", "value_at_cost",
                   "value_at_price")  # fmt: skip
MOVEMENT_SORTS = ("sku", "name", "warehouse_code", "opening", "received", "issued", "adjusted",
                  "transferred", "net", "closing")  # fmt: skip
PRODUCT_SALES_SORTS = ("sku", "name", "orders", "units", "returned", "net_sales")
CUSTOMER_SALES_SORTS = ("customer_name", "customer_code", "orders", "net_sales", "total", "paid")
REGION_SALES_SORTS = ("country", "state", "orders", "customers", "net_sales", "total")
#: The columns of each report that add up: summed over the whole report (ReportPage.totals).
TOTALS: dict[Report, tuple[str, ...]] = {
    Report.INVENTORY_VALUATION: ("on_hand", "reserved", "value_at_cost", "value_at_price"),
    Report.STOCK_MOVEMENTS: ("opening", "received", "issued", "adjusted", "transferred", "net",
                             "closing"),
    Report.SALES_BY_PRODUCT: ("units", "returned", "net_sales"),
    Report.SALES_BY_CUSTOMER: ("orders", "net_sales", "total", "paid"),
    Report.SALES_BY_REGION: ("orders", "net_sales", "total"),
    Report.CUSTOMER_BALANCES: ("balance", "unpaid_orders", "unpaid_amount", "overdue_amount"),
}  # fmt: skip
BALANCE_SORTS = ("customer_name", "customer_code", "credit_limit", "balance",
                 "available_credit", "unpaid_orders", "unpaid_amount",
                 "overdue_amount")  # fmt: skip


@dataclass(frozen=True)
class _Shape:
    """A report's statement and how it pages: its branches (UNION ALL), the columns it
    may be sorted by, its tie-breakers (together unique) and how a row is made."""

    branches: tuple[Select[Any], ...]
    sorts: tuple[str, ...]
    tie_breakers: tuple[str, ...]
    summed: tuple[str, ...]
    make: Callable[[Mapping[Any, Any]], Any]
    #: Columns added to a page's rows only, after it is cut: what costs a look-up per
    #: row and is not sorted by (the stock movements' on hand), given the page.
    late: Callable[[Any], Select[Any]] | None = None


def _made(row_type: Any) -> Callable[[Mapping[Any, Any]], Any]:
    return lambda values: row_type(**_fields(values, row_type))


class ReportService(Service):
    """Read-only reports for users with `reports.view`: keyset pages (one method per
    report) and, apart, each report's count and sums (`totals`)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        super().__init__(session_factory)
        self._samples = SampleCache()

    def inventory_valuation(
        self,
        acting: CurrentUser,
        *,
        warehouse_id: uuid.UUID | None = None,
        search: str = "",
        sort: str = "sku",
        descending: bool = False,
        after: ReportCursor | None = None,
        limit: int = MAX_PAGE_SIZE,
    ) -> ReportPage[ValuationRow]:
        """Stock on hand (above 0) per product or variant and warehouse, valued at the
        item's cost and price (a variant without a cost of its own at its product's).
        By SKU first: an index reads that order, so the first page is quick however much
        stock there is; so do the values and on hand (the stock rows' kept values and
        their indexes, revision 0019)."""
        require(acting, perms.REPORTS_VIEW)
        term = check_search(search)
        shape = _valuation(warehouse_id, term, self._found_items(term))
        return self._page(shape, sort, descending, after, limit)

    def stock_movements(
        self,
        acting: CurrentUser,
        start: date,
        end: date,
        *,
        warehouse_id: uuid.UUID | None = None,
        search: str = "",
        sort: str = "sku",
        descending: bool = False,
        after: ReportCursor | None = None,
        limit: int = MAX_PAGE_SIZE,
    ) -> ReportPage[MovementRow]:
        """What moved in the period per product or variant and warehouse, from the ledger."""
        require(acting, perms.REPORTS_VIEW)
        term = check_search(search)
        shape = _movements(start, end, warehouse_id, term, sort, self._found_items(term))
        return self._page(shape, sort, descending, after, limit)

    def sales_by_product(
        self,
        acting: CurrentUser,
        start: date,
        end: date,
        *,
        search: str = "",
        sort: str = "net_sales",
        descending: bool = True,
        after: ReportCursor | None = None,
        limit: int = MAX_PAGE_SIZE,
    ) -> ReportPage[ProductSalesRow]:
        """Units and net sales per product or variant on sold orders of the period (lines
        not cancelled)."""
        require(acting, perms.REPORTS_VIEW)
        term = check_search(search)
        shape = _product_sales(start, end, term, sort, self._found_items(term))
        return self._page(shape, sort, descending, after, limit)

    def sales_by_customer(
        self,
        acting: CurrentUser,
        start: date,
        end: date,
        *,
        search: str = "",
        sort: str = "net_sales",
        descending: bool = True,
        after: ReportCursor | None = None,
        limit: int = MAX_PAGE_SIZE,
    ) -> ReportPage[CustomerSalesRow]:
        """Orders, net sales, totals and payments per customer, sold orders of the period."""
        require(acting, perms.REPORTS_VIEW)
        shape = _customer_sales(start, end, check_search(search), sort)
        return self._page(shape, sort, descending, after, limit)

    def sales_by_region(
        self,
        acting: CurrentUser,
        start: date,
        end: date,
        *,
        search: str = "",
        sort: str = "net_sales",
        descending: bool = True,
        after: ReportCursor | None = None,
        limit: int = MAX_PAGE_SIZE,
    ) -> ReportPage[RegionSalesRow]:
        """Sold orders of the period per shipping country and state."""
        require(acting, perms.REPORTS_VIEW)
        shape = _region_sales(start, end, check_search(search))
        return self._page(shape, sort, descending, after, limit)

    def customer_balances(
        self,
        acting: CurrentUser,
        *,
        search: str = "",
        sort: str = "balance",
        descending: bool = True,
        after: ReportCursor | None = None,
        limit: int = MAX_PAGE_SIZE,
    ) -> ReportPage[CustomerBalanceRow]:
        """Customers with a balance or unpaid sold orders: limit, balance, what is unpaid
        and what of it is overdue (past the order's required date)."""
        require(acting, perms.REPORTS_VIEW)
        shape = _balances(check_search(search))
        return self._page(shape, sort, descending, after, limit)

    def totals(
        self,
        acting: CurrentUser,
        report: Report,
        *,
        start: date | None = None,
        end: date | None = None,
        warehouse_id: uuid.UUID | None = None,
        search: str = "",
    ) -> ReportTotals:
        """How many rows `report` has for these filters, and its sums (`TOTALS`): one
        aggregate over the whole report, read once for a report and its filters rather
        than with each page. The period is required by the reports that have one; the
        warehouse counts only for those that take it. Not for Changes (the change
        history counts its own: `HistoryService.count_changes`)."""
        require(acting, perms.REPORTS_VIEW)
        term = check_search(search)
        if report is Report.INVENTORY_VALUATION and not term:
            # Kept by the database per warehouse (revision 0019); folding its pending
            # changes in writes, hence a write transaction.
            return self._write(lambda session: _kept_stock_totals(session, warehouse_id))
        found = self._found_items(term)
        if report in (Report.INVENTORY_VALUATION, Report.CUSTOMER_BALANCES):
            shape = (
                _valuation(warehouse_id, term, found)
                if report is Report.INVENTORY_VALUATION
                else _balances(term)
            )
        elif report is Report.CHANGES:
            raise ValidationError("The change history counts its own rows.", field="report")
        else:
            if start is None or end is None:
                raise ValidationError("This report covers a period.", field="start")
            if report is Report.STOCK_MOVEMENTS:
                shape = _movements(start, end, warehouse_id, term, found=found)
            elif report is Report.SALES_BY_PRODUCT:
                shape = _product_sales(start, end, term, found=found)
            elif report is Report.SALES_BY_CUSTOMER:
                shape = _customer_sales(start, end, term)
            else:
                shape = _region_sales(start, end, term)
        whole = union_all(*shape.branches).subquery("report")
        statement = select(
            func.count(),
            *(func.coalesce(func.sum(whole.c[name]), 0) for name in shape.summed),
        ).select_from(whole)

        def work(session: Session) -> ReportTotals:
            found = session.execute(statement).one()
            sums = dict(zip(shape.summed, found[1:], strict=True))
            return ReportTotals(int(found[0]), sums)

        return self._read(work)

    # -- shared ------------------------------------------------------------------------

    def _found_items(self, term: str) -> _FoundItems | None:
        """The products and variants a search finds, collected first when the statistics
        say they are few (services/search_costs.py); None: the search is a condition on
        each row of the report, as PostgreSQL plans it."""
        if not term:
            return None
        samples = self._read(self._samples.samples)
        if samples is None or not few_enough_to_collect(samples, term):
            return None
        return _FoundItems.of(term)

    def _page(
        self,
        shape: _Shape,
        sort: str,
        descending: bool,
        after: ReportCursor | None,
        limit: int,
    ) -> ReportPage[Any]:
        if sort not in shape.sorts:
            raise ValidationError(f"This report cannot be sorted by {sort!r}.", field="sort")
        check_page_size(limit)
        names = (sort, *(name for name in shape.tie_breakers if name != sort))
        if after is not None and len(after) != len(names):
            raise ValidationError("This page does not follow from that report.", field="after")

        def page_of(source: Select[Any] | CompoundSelect[Any]) -> Select[Any]:
            rows = source.subquery()
            keys = [rows.c[name] for name in names]
            statement = select(rows).order_by(*_report_order(keys, descending))
            if after is not None:
                statement = statement.where(_report_after(keys, after, descending))
            return statement.limit(limit + 1)

        if len(shape.branches) == 1:
            statement = page_of(shape.branches[0])
            if shape.late is not None:
                page = statement.subquery("page")
                whole = shape.late(page).subquery("whole")
                keys = [whole.c[name] for name in names]
                statement = select(whole).order_by(*_report_order(keys, descending))
        else:
            # Each branch's page (an index can read it), then the merge of those pages.
            pages = [select(page_of(branch).subquery()) for branch in shape.branches]
            statement = page_of(union_all(*pages))

        def work(session: Session) -> ReportPage[Any]:
            records = session.execute(statement).mappings().all()
            rows = tuple(shape.make(record) for record in records[:limit])
            cursor = None
            if records:
                last = records[min(limit, len(records)) - 1]
                cursor = tuple(last[name] for name in names)
            return ReportPage(rows, cursor, len(records) > limit)

        return self._read(work)


def _kept_stock_totals(session: Session, warehouse_id: uuid.UUID | None) -> ReportTotals:
    """The valuation's count and sums from `report_stock_totals` and its pending changes,
    which the stock tables' triggers keep equal to the stock rows (the database's, not
    the workstation's, whoever writes them)."""
    session.execute(select(func.report_stock_fold()))
    kept, pending = ReportStockTotals.__table__, report_stock_totals_pending
    columns = ("stock_rows", *TOTALS[Report.INVENTORY_VALUATION])
    parts = [select(*(table.c[name] for name in columns)) for table in (kept, pending)]
    if warehouse_id is not None:
        parts = [
            part.where(table.c.warehouse_id == warehouse_id)
            for part, table in zip(parts, (kept, pending), strict=True)
        ]
    both = union_all(*parts).subquery("kept")
    found = session.execute(
        select(*(func.coalesce(func.sum(both.c[name]), 0) for name in columns))
    ).one()
    count, *sums = found
    named = dict(zip(TOTALS[Report.INVENTORY_VALUATION], sums, strict=True))
    for whole in ("on_hand", "reserved"):
        named[whole] = int(named[whole])
    return ReportTotals(int(count), named)


def _report_order(keys: Sequence[Any], descending: bool) -> list[Any]:
    """Every key the same way, so that a row comparison finds the rows after a cursor.
    NULLs (no credit limit, no code) where PostgreSQL puts them, after every value
    ascending: an index on the sort column then reads the order."""
    return [key.desc() if descending else key.asc() for key in keys]


def _report_after(
    keys: Sequence[Any], values: Sequence[Any], descending: bool
) -> ColumnElement[bool]:
    """The rows after `values` in `_report_order(keys, descending)`; the tie-breakers are
    never NULL, the sort column may be."""
    lead, *ties = keys
    lead_value, *tie_values = values
    tie_bound = [literal(value, key.type) for key, value in zip(ties, tie_values, strict=True)]
    ties_row, ties_bound = tuple_(*ties), tuple_(*tie_bound)
    later_ties = ties_row < ties_bound if descending else ties_row > ties_bound
    if lead_value is None:
        among_nulls = and_(lead.is_(None), later_ties)
        return or_(among_nulls, lead.is_not(None)) if descending else among_nulls
    position = tuple_(lead, *ties)
    bound = tuple_(literal(lead_value, lead.type), *tie_bound)
    if descending:
        return position < bound  # NULLs came first, before the cursor
    return or_(position > bound, lead.is_(None))


# -- the reports' statements ---------------------------------------------------------------


def _fields(values: Mapping[Any, Any], row_type: Any) -> dict[str, Any]:
    return {field.name: values[field.name] for field in dataclasses.fields(row_type)}


def report_period(start: date, end: date) -> tuple[Any, Any]:
    if start > end:
        raise ValidationError("The period ends before it starts.", field="end")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ValidationError("A report covers at most ten years.", field="start")
    return day_start(start), day_start(end + timedelta(days=1))


def _contains(columns: Sequence[Any], term: str) -> ColumnElement[bool]:
    return contains_any(columns, term)


def _no_uuid() -> ColumnElement[uuid.UUID]:
    return cast(null(), PG_UUID(as_uuid=True))


@dataclass(frozen=True)
class _FoundItems:
    """The products whose SKU or name holds a search, and the variants whose own SKU or
    name does, each collected once (MATERIALIZED: through the trigram indexes, never by
    walking an order): for a search that matches few items, whose rows in a report
    lie anywhere along its order. A report then reads their rows only (their stock rows
    looked up one product at a time, their ledger and sales lines kept by id) instead of
    testing every row of the report against the search."""

    products: Any
    variants: Any

    @classmethod
    def of(cls, term: str) -> _FoundItems:
        p, v = Product, ProductVariant
        products = (
            select(p.id, p.sku, p.name, p.cost, p.price)
            .where(_contains((p.sku, p.name), term))
            .cte("found_products")
            .prefix_with("MATERIALIZED")
        )
        variants = (
            select(v.id)
            .where(_contains((v.sku, v.name), term))
            .cte("found_variants")
            .prefix_with("MATERIALIZED")
        )
        return cls(products, variants)

    def holds(self, product_id: Any, variant_id: Any) -> ColumnElement[bool]:
        """Whether a row of this product (and variant) is found: the search's own
        condition (a variant's row is found by its product's SKU or name too, a
        product's row has no variant), so a report need not look up the SKUs and names
        of all its rows to test them."""
        return or_(
            product_id.in_(select(self.products.c.id)),
            variant_id.in_(select(self.variants.c.id)),
        )


def _warehouse_code(warehouse_id: Any) -> Any:
    # Looked up for the rows of a page only: a join would make PostgreSQL join (and sort)
    # every stock row before the first page.
    return select(Warehouse.code).where(Warehouse.id == warehouse_id).scalar_subquery()


def _valuation(
    warehouse_id: uuid.UUID | None, term: str, found: _FoundItems | None = None
) -> _Shape:
    pi, vi, p, v = ProductInventory, VariantInventory, Product, ProductVariant
    variant_cost = case((v.cost > 0, v.cost), else_=p.cost)
    item: Any = p  # the products whose stock is valued
    stock_rows: Any = pi  # their stock rows
    joined: ColumnElement[bool] = pi.product_id == p.id
    if found is not None:
        item = aliased(Product, found.products)
        # Each found product's stock rows looked up by its id (OFFSET 0 keeps PostgreSQL
        # from joining them by hashing every stock row of the catalog instead).
        stock_rows = select(pi).where(pi.product_id == item.id).offset(0).lateral("stock_rows")
        joined = true()
    stock: Any = pi.__table__.c if found is None else stock_rows.c
    products = (
        select(
            stock.product_id.label("product_id"),
            _no_uuid().label("variant_id"),
            stock.product_id.label("item_id"),
            stock.warehouse_id.label("warehouse_id"),
            _warehouse_code(stock.warehouse_id).label("warehouse_code"),
            item.sku.label("sku"),
            cast(item.name, Text).label("name"),
            stock.quantity_available.label("on_hand"),
            stock.quantity_reserved.label("reserved"),
            item.cost.label("unit_cost"),
            item.price.label("unit_price"),
            stock.value_at_cost.label("value_at_cost"),
            stock.value_at_price.label("value_at_price"),
        )
        .select_from(item)
        .join(stock_rows, joined)
        .where(stock.quantity_available > 0)
    )
    variants = (
        select(
            p.id.label("product_id"),
            vi.variant_id.label("variant_id"),
            vi.variant_id.label("item_id"),
            vi.warehouse_id.label("warehouse_id"),
            _warehouse_code(vi.warehouse_id).label("warehouse_code"),
            v.sku.label("sku"),
            (p.name + literal(" — ") + v.name).label("name"),
            vi.quantity_available.label("on_hand"),
            vi.quantity_reserved.label("reserved"),
            variant_cost.label("unit_cost"),
            v.price.label("unit_price"),
            vi.value_at_cost.label("value_at_cost"),
            vi.value_at_price.label("value_at_price"),
        )
        .select_from(vi)
        .join(v, v.id == vi.variant_id)
        .join(p, p.id == v.product_id)
        .where(vi.quantity_available > 0)
    )
    if warehouse_id is not None:
        products = products.where(stock.warehouse_id == warehouse_id)
        variants = variants.where(vi.warehouse_id == warehouse_id)
    if term:
        if found is None:
            products = products.where(_contains((p.sku, p.name), term))
            variants = variants.where(_contains((v.sku, v.name, p.sku, p.name), term))
        else:
            variants = variants.where(found.holds(v.product_id, v.id))
    return _Shape(
        (products, variants),
        VALUATION_SORTS,
        # The stock rows' own key, not the SKU: with the value or on hand first, it is
        # what their indexes read in order (revision 0019), a page's rows and no more.
        ("item_id", "warehouse_id"),
        TOTALS[Report.INVENTORY_VALUATION],
        _made(ValuationRow),
    )


def _movement_rows(
    first: Any, after_last: Any, warehouse_id: uuid.UUID | None, found: _FoundItems | None = None
) -> Select[Any]:
    """The ledger from the period's first day on, by its time index (revision 0019): what
    moved in the period, and what moved after it. The closing quantity is the stock row's
    on hand less what moved after the period, the opening that less what moved in it: the
    ledger's sums up to those days, since on hand moves only with its ledger rows (the
    database's rule, revision 0011), without reading the ledger before the period."""
    tx = InventoryTransaction
    in_period = tx.created_at < after_last

    def moved(kind: str) -> ColumnElement[int]:
        total = func.sum(tx.quantity).filter(and_(in_period, tx.transaction_type == kind))
        return func.coalesce(total, 0)

    ledger = select(
        tx.product_id,
        tx.variant_id,
        tx.warehouse_id,
        moved("IN").label("received"),
        (-moved("OUT")).label("issued"),
        moved("ADJUST").label("adjusted"),
        moved("TRANSFER").label("transferred"),
        func.coalesce(func.sum(tx.quantity).filter(in_period), 0).label("net"),
        func.coalesce(func.sum(tx.quantity).filter(~in_period), 0).label("later"),
    ).where(tx.created_at >= first)
    if warehouse_id is not None:
        ledger = ledger.where(tx.warehouse_id == warehouse_id)
    if found is not None:
        ledger = ledger.where(found.holds(tx.product_id, tx.variant_id))
    grouped = (
        ledger.group_by(tx.product_id, tx.variant_id, tx.warehouse_id)
        .having(func.count().filter(in_period) > 0)
        .subquery("ledger")
    )
    w = Warehouse
    statement = select(
        grouped.c.product_id,
        grouped.c.variant_id,
        func.coalesce(grouped.c.variant_id, grouped.c.product_id).label("item_id"),
        grouped.c.warehouse_id,
        w.code.label("warehouse_code"),
        cast(grouped.c.received, _INT).label("received"),
        cast(grouped.c.issued, _INT).label("issued"),
        cast(grouped.c.adjusted, _INT).label("adjusted"),
        cast(grouped.c.transferred, _INT).label("transferred"),
        cast(grouped.c.net, _INT).label("net"),
        grouped.c.later,
    ).join(w, w.id == grouped.c.warehouse_id)
    return select(statement.subquery("movement"))


def _with_stock(moved: Any) -> Select[Any]:
    """The moved rows with their opening and closing quantities: a look-up of each row's
    stock row, which a page of a report sorted by something else does for the page's
    rows only (`_Shape.late`)."""
    pi, vi = ProductInventory, VariantInventory
    on_hand = func.coalesce(vi.quantity_available, pi.quantity_available, 0)
    closing = on_hand - moved.c.later
    return (
        select(
            *(column for column in moved.c if column.name != "later"),
            cast(closing - moved.c.net, _INT).label("opening"),
            cast(closing, _INT).label("closing"),
        )
        .select_from(moved)
        .outerjoin(
            pi,
            and_(
                moved.c.variant_id.is_(None),
                pi.product_id == moved.c.product_id,
                pi.warehouse_id == moved.c.warehouse_id,
            ),
        )
        .outerjoin(
            vi,
            and_(vi.variant_id == moved.c.variant_id, vi.warehouse_id == moved.c.warehouse_id),
        )
    )


def _sold_orders(first: Any, after_last: Any) -> list[ColumnElement[bool]]:
    o = Order
    return [
        o.order_date >= first,
        o.order_date < after_last,
        o.type == "SALES",
        or_(
            o.status.in_(SOLD_STATUSES),
            and_(o.status == order_rules.ON_HOLD, o.previous_status.in_(_HELD_AFTER)),
        ),
    ]


def _product_sales_rows(
    first: Any, after_last: Any, found: _FoundItems | None = None
) -> Select[Any]:
    """Each product's or variant's figures, without its SKU and name (`_with_item`)."""
    i = OrderItem
    lines = (
        select(
            i.product_id,
            i.variant_id,
            func.coalesce(i.variant_id, i.product_id).label("item_id"),
            cast(func.count(func.distinct(i.order_id)), _INT).label("orders"),
            cast(func.sum(i.quantity), _INT).label("units"),
            cast(func.sum(i.returned_quantity), _INT).label("returned"),
            func.sum(i.quantity * i.unit_price - i.discount_amount).label("net_sales"),
        )
        .join(Order, Order.id == i.order_id)
        .where(*_sold_orders(first, after_last), i.status != "CANCELLED")
        .group_by(i.product_id, i.variant_id)
    )
    if found is None:
        return select(lines.subquery("lines"))
    # The found items kept after the grouping, which reads the period's lines by their
    # orders as without a search; OFFSET 0 keeps PostgreSQL from moving the test into
    # the grouping, where it read every order line of all time instead.
    grouped = lines.offset(0).subquery("lines")
    return select(grouped).where(found.holds(grouped.c.product_id, grouped.c.variant_id))


def _with_item(rows: Any, term: str = "") -> Select[Any]:
    """`rows` (of a product and a variant each) with their item's SKU and name, and only
    those a search matches: a look-up per row, which a page of a report sorted by a
    figure does for the page's rows only (`_Shape.late`)."""
    p, v = Product, ProductVariant
    statement = (
        select(
            *rows.c,
            func.coalesce(v.sku, p.sku).label("sku"),
            case((v.id.is_(None), p.name), else_=p.name + literal(" — ") + v.name).label("name"),
        )
        .select_from(rows)
        .join(p, p.id == rows.c.product_id)
        .outerjoin(v, v.id == rows.c.variant_id)
    )
    if term:
        statement = statement.where(_contains((p.sku, p.name, v.sku, v.name), term))
    return statement


def _customer_name() -> ColumnElement[str]:
    c = Customer
    return func.coalesce(func.nullif(c.company, ""), c.first_name + literal(" ") + c.last_name)


def _customer_sales_rows(first: Any, after_last: Any, term: str) -> Select[Any]:
    """Each customer's figures, without the customer's code and name (`_with_customer`)."""
    o = Order
    orders = (
        select(
            o.customer_id,
            cast(func.count(), _INT).label("orders"),
            func.sum(o.subtotal - o.discount_amount).label("net_sales"),
            func.sum(o.total_amount).label("total"),
            func.sum(o.paid_amount).label("paid"),
        )
        .where(*_sold_orders(first, after_last), *_of_matching_customers(term))
        .group_by(o.customer_id)
    )
    return select(orders.subquery("orders"))


def _with_customer(rows: Any) -> Select[Any]:
    """`rows` (of a customer each) with the customer's code and name: a look-up per row,
    for a page's rows only when sorted by a figure. A search has already kept the
    customers it matches (`_of_matching_customers`): testing them again here would only
    cost PostgreSQL the planning of the search twice."""
    c = Customer
    return select(
        *rows.c,
        c.customer_code.label("customer_code"),
        _customer_name().label("customer_name"),
    ).join(c, c.id == rows.c.customer_id)


def _of_matching_customers(term: str) -> list[ColumnElement[bool]]:
    """Orders of the customers a search matches only, so that a report summing orders
    per customer reads the orders of those found (by idx_orders_customer_date_id), not
    every customer's."""
    if not term:
        return []
    return [Order.customer_id.in_(select(Customer.id).where(_customer_search(term)))]


def _customer_search(term: str) -> ColumnElement[bool]:
    c = Customer
    columns = (c.first_name + " " + c.last_name, c.company, c.email, c.customer_code)
    return customer_matches(columns, term)


def _region_sales_rows(first: Any, after_last: Any, term: str) -> Select[Any]:
    o, a = Order, OrderAddress
    state = func.coalesce(a.state, "")
    statement = (
        select(
            a.country.label("country"),
            state.label("state"),
            cast(func.count(), _INT).label("orders"),
            cast(func.count(func.distinct(o.customer_id)), _INT).label("customers"),
            func.sum(o.subtotal - o.discount_amount).label("net_sales"),
            func.sum(o.total_amount).label("total"),
        )
        .join(a, a.id == o.shipping_address_id)
        .where(*_sold_orders(first, after_last))
        .group_by(a.country, state)
    )
    if term:
        statement = statement.where(_contains((a.country, a.state), term))
    return select(statement.subquery("regions"))


def _balance_rows(term: str) -> Select[Any]:
    o, c = Order, Customer
    unpaid = o.total_amount - o.paid_amount
    sums = (
        func.count().label("unpaid_orders"),
        func.sum(unpaid).label("unpaid_amount"),
        func.coalesce(func.sum(unpaid).filter(o.required_date < func.now()), 0).label(
            "overdue_amount"
        ),
    )
    open_order = (
        o.type == "SALES",
        # Not `unpaid > 0`: written so, PostgreSQL proves the orders are among those of
        # idx_orders_overdue (revision 0006), a few thousand, and reads only them.
        o.paid_amount < o.total_amount,
        or_(
            o.status.in_(SOLD_STATUSES),
            and_(o.status == order_rules.ON_HOLD, o.previous_status.in_(_HELD_AFTER)),
        ),
    )
    if term:
        # The customers found, each one's open orders summed through
        # idx_orders_customer_date_id: the search runs once, where narrowing the summed
        # orders to the matching customers ran it a second time.
        lateral = select(*sums).where(o.customer_id == c.id, *open_order).lateral("open_orders")
        has_open = lateral.c.unpaid_orders > 0
        return _balance_select(c, lateral, true(), has_open, _customer_search(term))
    open_orders = (
        select(o.customer_id, *sums)
        .where(*open_order)
        .group_by(o.customer_id)
        .subquery("open_orders")
    )
    return _balance_select(
        c,
        open_orders,
        open_orders.c.customer_id == c.id,
        open_orders.c.customer_id.is_not(None),
    )


def _balance_select(
    c: type[Customer],
    open_orders: Any,
    joined_on: ColumnElement[bool],
    has_open: ColumnElement[bool],
    *found: ColumnElement[bool],
) -> Select[Any]:
    """A customer's balance row, from the customer and its open orders' sums (None when
    it has none): the customers (`found` by a search) with a balance or open orders."""
    limit = func.coalesce(c.credit_limit, 0)
    balance = func.coalesce(c.balance, 0)
    statement = (
        select(
            c.id.label("customer_id"),
            c.customer_code.label("customer_code"),
            _customer_name().label("customer_name"),
            c.status.label("status"),
            limit.label("credit_limit"),
            balance.label("balance"),
            case((limit > 0, limit - balance), else_=None).label("available_credit"),
            cast(func.coalesce(open_orders.c.unpaid_orders, 0), _INT).label("unpaid_orders"),
            func.coalesce(open_orders.c.unpaid_amount, 0).label("unpaid_amount"),
            func.coalesce(open_orders.c.overdue_amount, 0).label("overdue_amount"),
        )
        .outerjoin(open_orders, joined_on)
        .where(or_(balance != 0, has_open), *found)
    )
    return select(statement.subquery("balances"))


def _movements(
    start: date,
    end: date,
    warehouse_id: uuid.UUID | None,
    term: str,
    sort: str | None = None,
    found: _FoundItems | None = None,
) -> _Shape:
    """The stock movements. The items' SKUs and names and the stock rows on hand are
    each a look-up per row: done before the page is cut only when the sort (or a
    search) needs them, else for the page's rows (`_Shape.late`). Without a sort
    (totals), the SKUs and names only for a search."""
    first, after_last = report_period(start, end)
    moved = _movement_rows(first, after_last, warehouse_id, found)
    if found is not None:
        term = ""  # the rows are the found items' already: nothing left to test

    def labelled(rows: Any) -> Select[Any]:
        return _with_item(rows, term)

    def both(rows: Any) -> Select[Any]:
        return _with_stock(_with_item(rows, term).subquery("labelled"))

    def stocked(rows: Any) -> Select[Any]:
        return _with_stock(rows)

    early: Callable[[Any], Select[Any]] | None
    late: Callable[[Any], Select[Any]] | None
    if term or sort is None:
        early, late = (both if term else stocked), None
    elif sort in ("sku", "name"):
        early, late = labelled, stocked
    elif sort in ("opening", "closing"):
        early, late = stocked, labelled
    else:
        early, late = None, both
    source = moved if early is None else select(early(moved.subquery("moved")).subquery("rows"))
    return _Shape(
        (source,),
        MOVEMENT_SORTS,
        ("sku", "item_id", "warehouse_id")
        if sort in ("sku", "name")
        else ("item_id", "warehouse_id"),
        TOTALS[Report.STOCK_MOVEMENTS],
        _made(MovementRow),
        late,
    )


def _product_sales(
    start: date,
    end: date,
    term: str,
    sort: str | None = None,
    found: _FoundItems | None = None,
) -> _Shape:
    """Sales by product; sorted by a figure without a search, the SKUs and names are
    looked up for a page's rows only (ties broken by the item, not its SKU)."""
    first, after_last = report_period(start, end)
    lines = _product_sales_rows(first, after_last, found)
    if found is not None:
        term = ""  # the rows are the found items' already: nothing left to test
    late = sort not in ("sku", "name") and not term
    return _Shape(
        (lines if late else select(_with_item(lines.subquery("lines"), term).subquery("sales")),),
        PRODUCT_SALES_SORTS,
        ("item_id",),
        TOTALS[Report.SALES_BY_PRODUCT],
        _made(ProductSalesRow),
        _with_item if late else None,
    )


def _customer_sales(start: date, end: date, term: str, sort: str | None = None) -> _Shape:
    """Sales by customer; sorted by a figure without a search, the customers' codes and
    names are looked up for a page's rows only (ties broken by the customer's id)."""
    first, after_last = report_period(start, end)
    orders = _customer_sales_rows(first, after_last, term)
    late = sort not in ("customer_name", "customer_code") and not term
    return _Shape(
        (orders if late else select(_with_customer(orders.subquery("sold")).subquery()),),
        CUSTOMER_SALES_SORTS,
        ("customer_id",) if late else ("customer_name", "customer_id"),
        TOTALS[Report.SALES_BY_CUSTOMER],
        _made(CustomerSalesRow),
        _with_customer if late else None,
    )


def _region_sales(start: date, end: date, term: str) -> _Shape:
    first, after_last = report_period(start, end)
    return _Shape(
        (_region_sales_rows(first, after_last, term),),
        REGION_SALES_SORTS,
        ("country", "state"),
        TOTALS[Report.SALES_BY_REGION],
        _made(RegionSalesRow),
    )


def _balances(term: str) -> _Shape:
    return _Shape(
        (_balance_rows(term),),
        BALANCE_SORTS,
        ("customer_name", "customer_id"),
        TOTALS[Report.CUSTOMER_BALANCES],
        _made(CustomerBalanceRow),
    )
