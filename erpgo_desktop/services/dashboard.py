"""The figures behind the Dashboard tab, read from summaries the database keeps.

Revision 0006 keeps stock value per (warehouse, category), orders per (day, status), and
sales per (day, product) and per (day, customer) in summary tables, written by triggers as
signed changes into `*_pending` twins. Each method first folds the pending rows in
(`dashboard_fold()`, which skips when another session is folding) and then reads the
summary plus whatever is still pending, so every figure equals the same sum over the base
tables at the moment of the read, however many workstations write meanwhile.

**What counts as a sale**: an order whose status is one of `SALE_STATUSES` (placed and not
given up: PENDING, CONFIRMED, PROCESSING, ON_HOLD, PARTIALLY_SHIPPED, SHIPPED, DELIVERED),
not DRAFT, CANCELLED, RETURNED or REFUNDED; dated by its `order_date` as a UTC day. Its
revenue is its `total_amount` (lines, tax and shipping, less discounts). A product's
revenue is the `final_price` of its lines (quantity × unit price + tax − line discount;
order coupons and shipping belong to no product). An order that is partly returned but
still DELIVERED counts in full.

**Warehouse filter**: stock value and low stock honour it. The sales panels (sales, top
products) ignore it: an order belongs to no warehouse, its lines may be filled from several,
and a PENDING order has none yet, so no split of an order's revenue by warehouse would be
honest. Top customers and the pipeline take no warehouse for the same reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    FromClause,
    Subquery,
    cast,
    func,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from erpgo_desktop.db.models import (
    Customer,
    DashboardCustomerDay,
    DashboardOrderDay,
    DashboardProductDay,
    DashboardStockValue,
    Order,
    Product,
    ProductCategory,
    Warehouse,
    dashboard_customer_day_pending,
    dashboard_order_day_pending,
    dashboard_product_day_pending,
    dashboard_stock_value_pending,
)
from erpgo_desktop.domain import orders as order_rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import NotFoundError, ValidationError
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.base import Service, require
from erpgo_desktop.services.inventory import (
    LowStockRow,
    _low_stock_row,
    low_stock_count,
    low_stock_records,
)

__all__ = [
    "GRAINS",
    "OPEN_STATUSES",
    "SALE_STATUSES",
    "DashboardService",
    "KeyFigures",
    "LowStockRow",
    "OverdueRow",
    "SalesPoint",
    "StatusCount",
    "StockValue",
    "TopRow",
    "ValueRow",
]

#: Statuses of orders that count as sales; `dashboard_is_sale()` in revision 0006.
SALE_STATUSES: tuple[str, ...] = (
    order_rules.PENDING,
    order_rules.CONFIRMED,
    order_rules.PROCESSING,
    order_rules.ON_HOLD,
    order_rules.PARTIALLY_SHIPPED,
    order_rules.SHIPPED,
    order_rules.DELIVERED,
)
#: Orders placed and not yet shipped in full: the work still ahead of the warehouse.
OPEN_STATUSES: tuple[str, ...] = (
    order_rules.PENDING,
    order_rules.CONFIRMED,
    order_rules.PROCESSING,
    order_rules.ON_HOLD,
    order_rules.PARTIALLY_SHIPPED,
)
GRAINS = ("day", "week", "month")
MAX_LIMIT = 1_000
#: The longest range of days a sales chart may cover (about 30 years).
MAX_DAYS = 11_000
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ValueRow:
    key: uuid.UUID
    #: In full: the warehouse's code and name, the category's path.
    label: str
    at_cost: Decimal
    at_price: Decimal
    units: int
    #: Short enough for a bar: the warehouse's code, the category's own name.
    short_label: str = ""


@dataclass(frozen=True)
class StockValue:
    #: Active warehouses (and inactive ones still holding stock), by code.
    by_warehouse: tuple[ValueRow, ...]
    #: Categories holding stock, most valuable at cost first; label is the category path.
    by_category: tuple[ValueRow, ...]
    at_cost: Decimal
    at_price: Decimal
    units: int


@dataclass(frozen=True)
class KeyFigures:
    """The figures above the dashboard's charts, read in one snapshot."""

    #: Stock on hand valued at cost and at price (one warehouse's, or every warehouse's).
    stock_at_cost: Decimal
    stock_at_price: Decimal
    #: Sales dated in the range: their revenue and their number.
    sales_revenue: Decimal
    sales_orders: int
    #: Orders in OPEN_STATUSES, whatever their date, and what they are worth.
    open_orders: int
    open_value: Decimal
    #: Stock rows at or below their reorder level, as `low_stock` lists them.
    low_stock: int


@dataclass(frozen=True)
class SalesPoint:
    #: The first day of the period (a Monday for weeks, the 1st for months).
    period: date
    orders: int
    revenue: Decimal


@dataclass(frozen=True)
class TopRow:
    key: uuid.UUID
    label: str
    #: Units sold for a product; orders placed for a customer.
    quantity: int
    revenue: Decimal


@dataclass(frozen=True)
class StatusCount:
    status: str
    orders: int
    value: Decimal


@dataclass(frozen=True)
class OverdueRow:
    order_id: uuid.UUID
    order_number: str
    customer_id: uuid.UUID
    customer_name: str
    required_date: date
    total_amount: Decimal
    paid_amount: Decimal
    days_overdue: int

    @property
    def unpaid(self) -> Decimal:
        return self.total_amount - self.paid_amount


def _both(summary: FromClause, pending: FromClause, *columns: str) -> FromClause:
    """The summary's rows and the changes still pending, to be summed together."""
    return union_all(
        select(*(summary.c[name] for name in columns)),
        select(*(pending.c[name] for name in columns)),
    ).subquery()


def _money(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(ZERO)


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"Show 1 to {MAX_LIMIT:,} rows, not {limit}.", field="limit")


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise ValidationError("The range ends before it starts.", field="end")
    if (end - start).days > MAX_DAYS:
        raise ValidationError("The range is too long.", field="start")


def period_start(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def _next_period(period: date, grain: str) -> date:
    if grain == "week":
        return period + timedelta(days=7)
    if grain == "month":
        return (period + timedelta(days=32)).replace(day=1)
    return period + timedelta(days=1)


#: How deep top_products walks each month's ranking before summing the days instead.
TOP_DEPTH_LIMIT = 20_000

#: The threshold top-k over a month summary (see `_top_by_month_once`); formatted with the
#: summary's tables and columns, never with anything a user typed.
_TOP_BY_MONTH = """
WITH months AS (
    SELECT generate_series(
        date_trunc('month', CAST(:start AS date)), CAST(:end AS date), interval '1 month'
    )::date AS month
),
ranked AS (
    SELECT m.month, r.{key}, r.revenue
    FROM months m
    CROSS JOIN LATERAL (
        SELECT {key}, revenue FROM {month_table}
        WHERE month = m.month
        ORDER BY revenue DESC, {key}
        LIMIT :depth
    ) r
),
bounds AS (
    SELECT count(*) >= :depth AS is_open, min(revenue) AS bound
    FROM ranked GROUP BY month
),
candidates AS (
    SELECT {key} FROM ranked
    UNION
    SELECT {key} FROM {day_table}_pending
    WHERE day BETWEEN :start AND :end
),
sales AS (
    SELECT {key}, {count}, revenue FROM {month_table}
    WHERE {key} IN (SELECT {key} FROM candidates)
      AND month >= :full_from AND month < :full_until
    UNION ALL
    SELECT {key}, {count}, revenue FROM {day_table}
    WHERE {key} IN (SELECT {key} FROM candidates)
      AND day BETWEEN :start AND :end AND (day < :full_from OR day >= :full_until)
    UNION ALL
    SELECT {key}, {count}, revenue FROM {day_table}_pending
    WHERE day BETWEEN :start AND :end
),
top AS (
    SELECT {key}, sum({count}) AS quantity, sum(revenue) AS revenue
    FROM sales
    WHERE {key} IN (SELECT {key} FROM candidates)
    GROUP BY {key}
    HAVING sum({count}) <> 0
    ORDER BY sum(revenue) DESC, {key}
    LIMIT :limit
)
SELECT top.{key} AS key, top.quantity, top.revenue, {names},
       (SELECT coalesce(sum(bound), 0) FROM bounds WHERE is_open) AS threshold,
       (SELECT count(*) FROM bounds WHERE is_open) AS open_months,
       EXISTS (
           SELECT 1 FROM {day_table}
           WHERE revenue < 0
             AND day >= date_trunc('month', CAST(:start AS date))
             AND day < :full_from
           UNION ALL
           SELECT 1 FROM {day_table}
           WHERE revenue < 0 AND day >= :full_until
             AND day < date_trunc('month', CAST(:end AS date)) + interval '1 month'
       ) AS partial_negative
FROM (SELECT 1) one
LEFT JOIN top ON true
LEFT JOIN {named_by}
ORDER BY top.revenue DESC, top.{key}
"""
_TOP_PRODUCTS_BY_MONTH = text(
    _TOP_BY_MONTH.format(
        key="product_id",
        count="quantity",
        month_table="dashboard_product_month",
        day_table="dashboard_product_day",
        names="p.name, p.sku",
        named_by="products p ON p.id = top.product_id",
    )
)
_TOP_CUSTOMERS_BY_MONTH = text(
    _TOP_BY_MONTH.format(
        key="customer_id",
        count="orders",
        month_table="dashboard_customer_month",
        day_table="dashboard_customer_day",
        names="coalesce(nullif(c.company, ''), concat_ws(' ', c.first_name, c.last_name)) AS name",
        named_by="customers c ON c.id = top.customer_id",
    )
)


def _top_row(product_id: uuid.UUID, name: str, sku: str, quantity: Any, revenue: Any) -> TopRow:
    return TopRow(product_id, f"{name} ({sku})", int(quantity), _money(revenue))


def _top_product(record: Any) -> TopRow:
    return _top_row(record.key, record.name, record.sku, record.quantity, record.revenue)


def _top_customer(record: Any) -> TopRow:
    return TopRow(record.key, record.name, int(record.quantity), _money(record.revenue))


def _top_by_month(
    session: Session,
    statement: Any,
    row_of: Callable[[Any], TopRow],
    start: date,
    end: date,
    limit: int,
) -> tuple[TopRow, ...] | None:
    """The top `limit` keys (products, customers) of `start`..`end` by the threshold top-k
    over a month summary, or None when it cannot tell (the caller then sums the days).

    The months `full_from`..`full_until` are those the range covers whole. The depth (how
    many of each month's best are walked) grows fourfold up to TOP_DEPTH_LIMIT until
    `_top_by_month_once` proves the answer."""
    full_from = _next_period(period_start(start - timedelta(days=1), "month"), "month")
    full_until = period_start(end + timedelta(days=1), "month")
    if full_from >= full_until:
        return None  # no whole month in the range: its days are few enough to sum directly
    depth = max(4 * limit, 64)
    while depth <= TOP_DEPTH_LIMIT:
        found = _top_by_month_once(
            session, statement, row_of, start, end, (full_from, full_until), limit, depth
        )
        if found is not None:
            return found
        depth *= 4
    return None


def _top_by_month_once(
    session: Session,
    statement: Any,
    row_of: Callable[[Any], TopRow],
    start: date,
    end: date,
    full: tuple[date, date],
    limit: int,
    depth: int,
) -> tuple[TopRow, ...] | None:
    """The top keys of `start`..`end` by a threshold top-k over the month summary, or
    None when walking each month's `depth` best does not prove the answer.

    A key outside every month's `depth` best (and with nothing pending in the range)
    sold at most that month's `depth`-th revenue in each month, so at most their sum (the
    threshold) over the range: for a month the range covers only partly, its days in the
    range sold at most the month's total, provided no day of that month is negative.
    Whatever has been walked is summed exactly (whole months from the month table, the
    partial months' days from the day table, pending changes as they are), so once the
    `limit`-th of those beats the threshold, or every month was walked to its end, no
    key left out can be in the top. One statement, so one snapshot."""
    records = session.execute(
        statement,
        {
            "start": start,
            "end": end,
            "full_from": full[0],
            "full_until": full[1],
            "limit": limit,
            "depth": depth,
        },
    ).all()
    first = records[0]
    rows = tuple(row_of(r) for r in records if r.key is not None)
    if first.partial_negative:
        return None
    if first.open_months == 0:
        return rows
    if len(rows) == limit and rows[-1].revenue > first.threshold:
        return rows
    return None


def _top_products_by_day(
    session: Session, start: date, end: date, limit: int
) -> tuple[TopRow, ...]:
    """The top products summed over every (day, product) row of the range."""
    top = _top_of_days(
        DashboardProductDay.__table__,
        dashboard_product_day_pending,
        "product_id",
        "quantity",
        start,
        end,
        limit,
    )
    records = session.execute(
        select(top, Product.name, Product.sku)
        .join(Product, Product.id == top.c.product_id)
        .order_by(top.c.revenue.desc(), top.c.product_id)
    ).all()
    return tuple(_top_row(r.product_id, r.name, r.sku, r.quantity, r.revenue) for r in records)


def _top_of_days(
    summary: FromClause,
    pending: FromClause,
    key: str,
    count: str,
    start: date,
    end: date,
    limit: int,
) -> Subquery:
    """The `limit` keys with the most revenue over the days `start`..`end` of a per-day
    summary and its pending changes, with their summed `count` and revenue (a subquery)."""
    both = _both(summary, pending, "day", key, count, "revenue")
    return (
        select(
            both.c[key],
            func.sum(both.c[count]).label(count),
            func.sum(both.c.revenue).label("revenue"),
        )
        .where(both.c.day.between(start, end))
        .group_by(both.c[key])
        .having(func.sum(both.c[count]) != 0)
        .order_by(func.sum(both.c.revenue).desc(), both.c[key])
        .limit(limit)
        .subquery()
    )


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


class DashboardService(Service):
    """Read-only figures for managers; every method needs `reports.view`."""

    def _figures(self, work: Any) -> Any:
        def folded(session: Session) -> Any:
            session.execute(text("SELECT dashboard_fold()"))
            return work(session)

        # A write transaction: folding moves pending rows into the summaries.
        return self._write(folded)

    def stock_value(self, acting: CurrentUser, warehouse_id: uuid.UUID | None = None) -> StockValue:
        """Units on hand (product_inventory and variant_inventory `quantity_available`) and
        their value at cost and at price (the variant's own for variant stock), by warehouse
        and by category; with `warehouse_id`, that warehouse's stock only."""
        require(acting, perms.REPORTS_VIEW)

        def work(session: Session) -> StockValue:
            if warehouse_id is not None and session.get(Warehouse, warehouse_id) is None:
                raise NotFoundError("That warehouse does not exist (any more).", field="warehouse")
            both = _both(
                DashboardStockValue.__table__,
                dashboard_stock_value_pending,
                "warehouse_id",
                "category_id",
                "units",
                "at_cost",
                "at_price",
            )
            cells = select(
                both.c.warehouse_id,
                both.c.category_id,
                func.sum(both.c.units).label("units"),
                func.sum(both.c.at_cost).label("at_cost"),
                func.sum(both.c.at_price).label("at_price"),
            ).group_by(both.c.warehouse_id, both.c.category_id)
            if warehouse_id is not None:
                cells = cells.where(both.c.warehouse_id == warehouse_id)
            grid = session.execute(cells).all()
            warehouses = session.execute(
                select(Warehouse.id, Warehouse.code, Warehouse.name, Warehouse.is_active)
            ).all()
            category_ids = {row.category_id for row in grid if row.units}
            categories = {
                row.id: ((row.path or row.name).strip("/"), row.name)
                for row in session.execute(
                    select(ProductCategory.id, ProductCategory.path, ProductCategory.name).where(
                        ProductCategory.id.in_(category_ids)
                    )
                )
            }
            return _stock_value(grid, warehouses, categories, warehouse_id)

        result: StockValue = self._figures(work)
        return result

    def key_figures(
        self,
        acting: CurrentUser,
        start: date,
        end: date,
        warehouse_id: uuid.UUID | None = None,
    ) -> KeyFigures:
        """The figures a manager reads first: stock value (at cost and at price), sales
        dated `start`..`end` (revenue and orders), open orders (OPEN_STATUSES, any date) and
        the number of low stock rows. `warehouse_id` narrows the stock figures only (see
        the module's docstring). Each equals what the matching panel's method answers."""
        require(acting, perms.REPORTS_VIEW)
        _check_range(start, end)

        def work(session: Session) -> KeyFigures:
            if warehouse_id is not None and session.get(Warehouse, warehouse_id) is None:
                raise NotFoundError("That warehouse does not exist (any more).", field="warehouse")
            stock = _both(
                DashboardStockValue.__table__,
                dashboard_stock_value_pending,
                "warehouse_id",
                "at_cost",
                "at_price",
            )
            stock_query = select(func.sum(stock.c.at_cost), func.sum(stock.c.at_price))
            if warehouse_id is not None:
                stock_query = stock_query.where(stock.c.warehouse_id == warehouse_id)
            at_cost, at_price = session.execute(stock_query).one()
            days = _both(
                DashboardOrderDay.__table__,
                dashboard_order_day_pending,
                "day",
                "status",
                "orders",
                "value",
            )
            in_range = days.c.day.between(start, end)
            is_sale = days.c.status.in_(SALE_STATUSES)
            is_open = days.c.status.in_(OPEN_STATUSES)
            orders = session.execute(
                select(
                    func.coalesce(func.sum(days.c.orders).filter(in_range, is_sale), 0),
                    func.sum(days.c.value).filter(in_range, is_sale),
                    func.coalesce(func.sum(days.c.orders).filter(is_open), 0),
                    func.sum(days.c.value).filter(is_open),
                )
            ).one()
            return KeyFigures(
                stock_at_cost=_money(at_cost),
                stock_at_price=_money(at_price),
                sales_revenue=_money(orders[1]),
                sales_orders=int(orders[0]),
                open_orders=int(orders[2]),
                open_value=_money(orders[3]),
                low_stock=low_stock_count(session, warehouse_id),
            )

        result: KeyFigures = self._figures(work)
        return result

    def low_stock(
        self, acting: CurrentUser, warehouse_id: uuid.UUID | None = None, limit: int = 50
    ) -> tuple[LowStockRow, ...]:
        """Stock at or below its reorder level, as InventoryService.low_stock lists it (by
        warehouse code and SKU; one warehouse, or every active one), the first `limit`."""
        require(acting, perms.REPORTS_VIEW)
        _check_limit(limit)

        def work(session: Session) -> tuple[LowStockRow, ...]:
            if warehouse_id is not None and session.get(Warehouse, warehouse_id) is None:
                raise NotFoundError("That warehouse does not exist (any more).", field="warehouse")
            records = low_stock_records(session, warehouse_id, after=None, limit=limit)
            return tuple(_low_stock_row(record) for record in records)

        return self._read(work)

    def sales(
        self,
        acting: CurrentUser,
        start: date,
        end: date,
        grain: str = "day",
        warehouse_id: uuid.UUID | None = None,
    ) -> tuple[SalesPoint, ...]:
        """Sales (see the module's docstring) per day, week (from Monday) or month of the
        days `start`..`end` inclusive; every period present, empty ones as zeros. A period
        is labelled by its first day, which for the first week or month may be before
        `start`; only days in the range count. `warehouse_id` is ignored: orders belong to
        no warehouse (see the module's docstring)."""
        require(acting, perms.REPORTS_VIEW)
        if grain not in GRAINS:
            raise ValidationError(f"Group by day, week or month, not {grain!r}.", field="grain")
        _check_range(start, end)
        del warehouse_id

        def work(session: Session) -> tuple[SalesPoint, ...]:
            both = _both(
                DashboardOrderDay.__table__,
                dashboard_order_day_pending,
                "day",
                "status",
                "orders",
                "value",
            )
            period = (
                both.c.day if grain == "day" else cast(func.date_trunc(grain, both.c.day), Date)
            ).label("period")
            rows = session.execute(
                select(period, func.sum(both.c.orders), func.sum(both.c.value))
                .where(
                    both.c.day.between(start, end),
                    both.c.status.in_(SALE_STATUSES),
                )
                .group_by(period)
            ).all()
            found = {row[0]: (int(row[1]), _money(row[2])) for row in rows}
            points = []
            current = period_start(start, grain)
            while current <= end:
                orders, revenue = found.get(current, (0, ZERO))
                points.append(SalesPoint(current, orders, revenue))
                current = _next_period(current, grain)
            return tuple(points)

        result: tuple[SalesPoint, ...] = self._figures(work)
        return result

    def top_products(
        self,
        acting: CurrentUser,
        start: date,
        end: date,
        limit: int = 10,
        warehouse_id: uuid.UUID | None = None,
    ) -> tuple[TopRow, ...]:
        """The products (variants counted with their product) with the most revenue from
        sales dated `start`..`end`: units sold and the lines' final_price. `warehouse_id`
        is ignored (see the module's docstring). Label: "name (SKU)"."""
        require(acting, perms.REPORTS_VIEW)
        _check_range(start, end)
        _check_limit(limit)
        del warehouse_id

        def work(session: Session) -> tuple[TopRow, ...]:
            found = _top_by_month(session, _TOP_PRODUCTS_BY_MONTH, _top_product, start, end, limit)
            return found if found is not None else _top_products_by_day(session, start, end, limit)

        result: tuple[TopRow, ...] = self._figures(work)
        return result

    def top_customers(
        self, acting: CurrentUser, start: date, end: date, limit: int = 10
    ) -> tuple[TopRow, ...]:
        """The customers with the most revenue (total_amount) from sales dated
        `start`..`end`; `quantity` is their number of such orders. Label: the company
        name when there is one, else first and last name."""
        require(acting, perms.REPORTS_VIEW)
        _check_range(start, end)
        _check_limit(limit)

        def work(session: Session) -> tuple[TopRow, ...]:
            found = _top_by_month(
                session, _TOP_CUSTOMERS_BY_MONTH, _top_customer, start, end, limit
            )
            if found is not None:
                return found
            top = _top_of_days(
                DashboardCustomerDay.__table__,
                dashboard_customer_day_pending,
                "customer_id",
                "orders",
                start,
                end,
                limit,
            )
            rows = session.execute(
                select(top, _customer_name().label("name"))
                .join(Customer, Customer.id == top.c.customer_id)
                .order_by(top.c.revenue.desc(), top.c.customer_id)
            ).all()
            return tuple(
                TopRow(row.customer_id, row.name, int(row.orders), _money(row.revenue))
                for row in rows
            )

        result: tuple[TopRow, ...] = self._figures(work)
        return result

    def pipeline(
        self, acting: CurrentUser, start: date | None = None, end: date | None = None
    ) -> tuple[StatusCount, ...]:
        """Orders and their total_amount per status, every status of the domain in its
        order (zeros included); with `start`/`end`, orders dated in those days only."""
        require(acting, perms.REPORTS_VIEW)
        if start is not None and end is not None:
            _check_range(start, end)

        def work(session: Session) -> tuple[StatusCount, ...]:
            both = _both(
                DashboardOrderDay.__table__,
                dashboard_order_day_pending,
                "day",
                "status",
                "orders",
                "value",
            )
            statement = select(
                both.c.status, func.sum(both.c.orders), func.sum(both.c.value)
            ).group_by(both.c.status)
            if start is not None:
                statement = statement.where(both.c.day >= start)
            if end is not None:
                statement = statement.where(both.c.day <= end)
            found = {row[0]: (int(row[1]), _money(row[2])) for row in session.execute(statement)}
            return tuple(
                StatusCount(status, *found.get(status, (0, ZERO)))
                for status in order_rules.STATUSES
            )

        result: tuple[StatusCount, ...] = self._figures(work)
        return result

    def overdue_unpaid(
        self, acting: CurrentUser, today: date | None = None, limit: int = 100
    ) -> tuple[OverdueRow, ...]:
        """Sales (see the module's docstring; so neither cancelled nor drafts) whose
        `required_date` is a UTC day before `today` (default: today in UTC) and whose paid
        amount is below the total; the longest overdue first."""
        require(acting, perms.REPORTS_VIEW)
        _check_limit(limit)
        day = today if today is not None else datetime.now(UTC).date()

        def work(session: Session) -> tuple[OverdueRow, ...]:
            # The same predicate as idx_orders_overdue, so that index answers.
            rows = session.execute(
                select(
                    Order.id,
                    Order.order_number,
                    Order.customer_id,
                    _customer_name().label("name"),
                    Order.required_date,
                    Order.total_amount,
                    Order.paid_amount,
                )
                .join(Customer, Customer.id == Order.customer_id)
                .where(
                    Order.required_date < _utc_midnight(day),
                    Order.paid_amount < Order.total_amount,
                    Order.status.in_(SALE_STATUSES),
                )
                .order_by(Order.required_date, Order.id)
                .limit(limit)
            ).all()
            result = []
            for row in rows:
                required = row.required_date.astimezone(UTC).date()
                result.append(
                    OverdueRow(
                        order_id=row.id,
                        order_number=row.order_number,
                        customer_id=row.customer_id,
                        customer_name=row.name,
                        required_date=required,
                        total_amount=row.total_amount,
                        paid_amount=row.paid_amount,
                        days_overdue=(day - required).days,
                    )
                )
            return tuple(result)

        return self._read(work)


def _customer_name() -> Any:
    person = func.concat_ws(" ", Customer.first_name, Customer.last_name)
    return func.coalesce(func.nullif(Customer.company, ""), person)


def _stock_value(
    grid: Any,
    warehouses: Any,
    categories: dict[uuid.UUID, tuple[str, str]],
    only: uuid.UUID | None,
) -> StockValue:
    """`categories`: each category's (path, own name)."""
    per_warehouse: dict[uuid.UUID, list[Any]] = {}
    per_category: dict[uuid.UUID, list[Any]] = {}
    for row in grid:
        for key, bucket in ((row.warehouse_id, per_warehouse), (row.category_id, per_category)):
            total = bucket.setdefault(key, [0, ZERO, ZERO])
            total[0] += int(row.units)
            total[1] += row.at_cost
            total[2] += row.at_price
    by_warehouse = []
    for warehouse in sorted(warehouses, key=lambda w: w.code):
        if only is not None and warehouse.id != only:
            continue
        units, at_cost, at_price = per_warehouse.get(warehouse.id, (0, ZERO, ZERO))
        if only is None and not warehouse.is_active and not units:
            continue
        label = f"{warehouse.code} {warehouse.name}"
        by_warehouse.append(
            ValueRow(warehouse.id, label, _money(at_cost), _money(at_price), units, warehouse.code)
        )
    by_category = []
    for key, (units, cost, price) in per_category.items():
        if units:
            path, name = categories.get(key, ("?", "?"))
            by_category.append(ValueRow(key, path, _money(cost), _money(price), units, name))
    by_category.sort(key=lambda row: (-row.at_cost, row.label))
    return StockValue(
        by_warehouse=tuple(by_warehouse),
        by_category=tuple(by_category),
        at_cost=_money(sum((row.at_cost for row in by_warehouse), ZERO)),
        at_price=_money(sum((row.at_price for row in by_warehouse), ZERO)),
        units=sum(row.units for row in by_warehouse),
    )
