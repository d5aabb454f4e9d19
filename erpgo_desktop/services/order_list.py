"""The Orders list's query: search, filters and sorts as SQL, keyset pages, capped counts.

`OrderService.list_orders_page` and `count_orders` run these statements; they live here so
that the write path in orders.py stays apart from what the list screen reads.

Orders are listed newest first by default, a keyset walk of idx_orders_order_date_id
(revision 0005) that is as fast at any depth; by order number the unique index on
order_number does the same. By total there is no (total_amount, id) index: every page is
a top-N sort of the matching orders. A search matches parts of the order number, and
orders of the customers whose names, company or email match (found once, as a hashed
subplan, so a count needs no join). Without trigram indexes on those columns a search
reads orders in list order until it has a page: quick when matches are common, slow when
they are rare and old. Measured on 500,000 orders and 100,000 customers (PG 15, this
machine): any page by date or number 5-10 ms, the capped count of everything 3 ms, a page
by total 250 ms, a search's page 110 ms (common) to 1 s (rare, old matches), its capped
count 120-330 ms; date, status and payment filters 5-15 ms.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, or_, select

from erpgo_desktop.db.models import Customer, Order
from erpgo_desktop.domain import orders as rules
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.listing import (
    ColumnLike,
    check_search,
    contains_any,
    count_statement,
    keyset_after,
    keyset_order,
)

if TYPE_CHECKING:  # orders.py imports this module
    from erpgo_desktop.services.orders import OrderSummary

#: What orders.payment_status may hold (its CHECK constraint), in the order a person
#: follows a payment.
PAYMENT_STATUSES: tuple[str, ...] = (
    "PENDING", "PARTIALLY_PAID", "PAID", "OVERDUE", "REFUNDED", "FAILED",
)  # fmt: skip

# A sort key's value: an order date, an order number or a total.
OrderSortValue = datetime | str | Decimal


class OrderSort(Enum):
    DATE = "order_date"
    NUMBER = "order_number"
    TOTAL = "total_amount"


@dataclass(frozen=True)
class OrderQuery:
    """What the orders list shows. Dates are days of the workstation's calendar, both
    ends included."""

    #: Matched anywhere in the order number or the customer's names, company or email.
    search: str = ""
    status: str | None = None
    payment_status: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: OrderSort = OrderSort.DATE
    descending: bool = True  # newest first

    @property
    def search_term(self) -> str:
        return check_search(self.search)

    @property
    def is_filtered(self) -> bool:
        """Whether anything but a search narrows the list."""
        return any(
            value is not None
            for value in (self.status, self.payment_status, self.date_from, self.date_to)
        )


@dataclass(frozen=True)
class OrderListCursor:
    """Where the next page starts: the last row's sort key and id (ids break ties)."""

    key: OrderSortValue
    id: uuid.UUID


@dataclass(frozen=True)
class OrderListPage:
    rows: tuple[OrderSummary, ...]
    next_cursor: OrderListCursor | None
    has_more: bool


def order_page_statement(
    query: OrderQuery, after: OrderListCursor | None, limit: int
) -> Select[*tuple[Any, ...]]:
    """The SELECT of one page of `limit` rows (ask for one more to learn if more follow)."""
    key = _sort_column(query.sort)
    statement = (
        select(
            Order.id,
            Order.order_number,
            Order.order_date,
            Order.customer_id,
            Customer.first_name,
            Customer.last_name,
            Customer.company,
            Order.status,
            Order.payment_status,
            Order.total_amount,
            Order.paid_amount,
            Order.currency,
            Order.version,
        )
        .join(Customer, Customer.id == Order.customer_id)
        .where(*_filters(query))
        .order_by(*keyset_order((key, Order.id), query.descending))
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(
            keyset_after((key, Order.id), (after.key, after.id), query.descending)
        )
    return statement


def order_count_statement(query: OrderQuery, cap: int | None) -> Select[int]:
    return count_statement(select(Order.id).where(*_filters(query)), cap)


def order_cursor(query: OrderQuery, row: OrderSummary) -> OrderListCursor:
    key: OrderSortValue
    match query.sort:
        case OrderSort.DATE:
            key = row.order_date
        case OrderSort.NUMBER:
            key = row.order_number
        case OrderSort.TOTAL:
            key = row.total_amount
    return OrderListCursor(key, row.id)


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` on the workstation's clock, as an aware datetime."""
    return datetime.combine(day, time.min).astimezone()


def _sort_column(sort: OrderSort) -> ColumnLike:
    match sort:
        case OrderSort.DATE:
            return Order.order_date
        case OrderSort.NUMBER:
            return Order.order_number
        case OrderSort.TOTAL:
            return Order.total_amount


def _filters(query: OrderQuery) -> list[Any]:
    filters: list[Any] = []
    term = check_search(query.search)
    if term:
        # The matching customers are found once (a hashed subplan), not joined to every
        # order the search reads: a count then needs no join at all.
        customers = select(Customer.id).where(
            contains_any(
                (
                    Customer.first_name,
                    Customer.last_name,
                    Customer.first_name + " " + Customer.last_name,
                    Customer.company,
                    Customer.email,
                ),
                term,
            )
        )
        filters.append(
            or_(contains_any((Order.order_number,), term), Order.customer_id.in_(customers))
        )
    if query.status is not None:
        if query.status not in rules.STATUSES:
            raise ValidationError(f"There is no order status {query.status!r}.", field="status")
        filters.append(Order.status == query.status)
    if query.payment_status is not None:
        if query.payment_status not in PAYMENT_STATUSES:
            raise ValidationError(
                f"There is no payment status {query.payment_status!r}.", field="payment_status"
            )
        filters.append(Order.payment_status == query.payment_status)
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise ValidationError("The range starts after the day it ends.", field="date_to")
    if query.date_from is not None:
        filters.append(Order.order_date >= day_start(query.date_from))
    if query.date_to is not None:
        filters.append(Order.order_date < day_start(query.date_to + timedelta(days=1)))
    return filters
