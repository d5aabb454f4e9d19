"""The Orders list's query: search, filters and sorts as SQL, keyset pages, capped counts.

`OrderService.list_orders_page` and `count_orders` run these statements; they live here so
that the write path in orders.py stays apart from what the list screen reads.

Orders are listed newest first by default, a keyset walk of idx_orders_order_date_id
(revision 0005) that is as fast at any depth; by order number the unique index on
order_number does the same. By total there is no (total_amount, id) index: every page is
a top-N sort of the matching orders. Measured on 500,000 orders and 100,000 customers (PG
15, this machine): any page by date or number 5-10 ms, the capped count of everything
3 ms, a page by total 250 ms; date, status and payment filters 5-15 ms.

A search matches the order number, and the orders of the customers whose names, company
or email match. A term that begins some order numbers (`2026-277`, how people type them)
finds the numbers it begins, through the range of idx_orders_number_prefix (revision
0018); any other term (`277626`) finds the numbers containing it, through their trigram
index (listing.py `code_matches`). The customers are found first, through their trigram index
(revision 0014), and their ids go into the statement, which PostgreSQL answers through
idx_orders_customer_date_id and the order numbers' trigram index (few matches) or by
walking the list's order (many): see `find_search` and docs/services.md, "How a search
reads".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, any_, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from erpgo_desktop.db.models import Customer, Order
from erpgo_desktop.domain import orders as rules
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.listing import (
    ColumnLike,
    begins_some,
    check_search,
    code_matches,
    count_statement,
    customer_matches,
    keyset_after,
    keyset_order,
)

_UUIDS = ARRAY(PG_UUID(as_uuid=True))

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

    #: Matched in the order number (from its start when it begins some: see
    #: listing.code_matches) or anywhere in the customer's names, company or email.
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


#: A search looks for its customers first: when at most this many match, their ids go
#: into the orders' statement as a list, which PostgreSQL reads through
#: idx_orders_customer_date_id (or checks while walking the list's order, as its
#: estimates say); more, and their orders are common enough that the walk finds a page
#: soon, checking each order's customer against the matches found once. A longer list
#: would cost more to plan than it saves (PostgreSQL estimates each id).
CUSTOMERS_LISTED = 500

#: What an orders search matches of the customer.
CUSTOMER_COLUMNS: tuple[ColumnLike, ...] = (
    Customer.first_name,
    Customer.last_name,
    Customer.first_name + " " + Customer.last_name,
    Customer.company,
    Customer.email,
)


@dataclass(frozen=True)
class OrderSearch:
    """A search's term, its matching customers (None: more than CUSTOMERS_LISTED), and
    whether it begins some order numbers (then it matches numbers from their start)."""

    term: str
    customer_ids: tuple[uuid.UUID, ...] | None
    begins_numbers: bool = False


def find_search(session: Connection | Session, query: OrderQuery) -> OrderSearch | None:
    """The customers the query's search matches, through the trigram index on their
    search text (revision 0014), and whether it begins order numbers (one probe of
    idx_orders_number_prefix); None without a search."""
    term = check_search(query.search)
    if not term:
        return None
    matching = (
        select(Customer.id)
        .where(customer_matches(CUSTOMER_COLUMNS, term))
        .limit(CUSTOMERS_LISTED + 1)
        .subquery()
    )
    # One round trip for both questions.
    begins_numbers, found = session.execute(
        select(
            begins_some(Order.order_number, term),
            select(func.array_agg(matching.c.id)).scalar_subquery(),
        )
    ).one()
    customers = tuple(found or ())
    if len(customers) > CUSTOMERS_LISTED:
        return OrderSearch(term, None, begins_numbers)
    return OrderSearch(term, customers, begins_numbers)


def order_page_statement(
    query: OrderQuery,
    after: OrderListCursor | None,
    limit: int,
    search: OrderSearch | None = None,
) -> Select[*tuple[Any, ...]]:
    """The SELECT of one page of `limit` rows (ask for one more to learn if more follow).

    `search`: `find_search`'s answer for the query (without it, the customers are
    matched in a subquery and order numbers anywhere).
    """
    key = _sort_column(query.sort)
    statement = (
        select(*_PAGE_COLUMNS)
        .join(Customer, Customer.id == Order.customer_id)
        .where(*_filters(query, search))
        .order_by(*keyset_order((key, Order.id), query.descending))
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(
            keyset_after((key, Order.id), (after.key, after.id), query.descending)
        )
    return statement


def order_count_statement(
    query: OrderQuery, cap: int | None, search: OrderSearch | None = None
) -> Select[int]:
    return count_statement(select(Order.id).where(*_filters(query, search)), cap)


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


_PAGE_COLUMNS: tuple[ColumnLike, ...] = (
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


def _filters(query: OrderQuery, search: OrderSearch | None) -> list[Any]:
    filters = _narrowing(query)
    term = check_search(query.search)
    if not term:
        return filters
    if search is not None and search.customer_ids is not None:
        customers: ColumnElement[bool] = Order.customer_id == any_(
            literal(list(search.customer_ids), _UUIDS)
        )
    else:
        # Many customers match: found once (a hashed subplan), and looked up for each
        # order the walk reads.
        matching = select(Customer.id).where(customer_matches(CUSTOMER_COLUMNS, term))
        customers = Order.customer_id.in_(matching)
    numbers = code_matches(
        Order.order_number, term, from_start=search is not None and search.begins_numbers
    )
    return [*filters, or_(numbers, customers)]


def _narrowing(query: OrderQuery) -> list[Any]:
    """The filters other than the search."""
    filters: list[Any] = []
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
