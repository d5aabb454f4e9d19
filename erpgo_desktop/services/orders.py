"""Sales orders, from draft to delivery, return and refund.

Each public method is one user action in its own transaction (`Service._write`): it checks
the permission first, validates its input with the pure rules of `domain.orders`, locks
the order row (SELECT ... FOR UPDATE) and compares the version the person opened, so a
change made meanwhile on another workstation is reported with who made it and when
instead of being overwritten. It returns the order as it is after the change.

A write costs few statements (see "The order and its lines as a write sees them"): the
order is read locked together with its lines and whatever else the action needs, changes
are written with Core statements returning what the database set, and the returned
detail is built from those rows rather than read back.

Locks are always taken in one order: the order, then stock rows (all in one
`StockLedger.lock` call), then the customer (balance and credit limit, as late as
possible: every confirmation for the customer waits for that row), so two workstations
queue up instead of deadlocking.

Money moves between the order and the customer's balance at exactly three moments:
confirming adds the unpaid total (total - paid); a payment on a confirmed order takes
the payment off; cancelling a confirmed order takes the unpaid total off. Nothing else
(refunds, returns, payments before confirming) touches the balance, so for every
customer the balance is the sum of `total - paid` over their confirmed, not cancelled
orders (plus whatever it held before).

Stock: confirming reserves every line that tracks inventory in named warehouses and
records where (stock_reservations); shipping turns exactly those reservations into OUT
ledger rows; cancelling releases exactly what is still reserved; a return puts goods IN to
a chosen warehouse. Every stock change goes through StockLedger.
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, NoReturn, TypeVar

from sqlalchemy import (
    Integer,
    Numeric,
    Select,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from erpgo_desktop.db.models import (
    Customer,
    Order,
    OrderAddress,
    OrderItem,
    OrderStatusHistory,
    Product,
    ProductInventory,
    ProductVariant,
    StockReservation,
    User,
    VariantInventory,
    Warehouse,
)
from erpgo_desktop.domain import orders as rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.inventory import (
    LineNeed,
    ReservationOptions,
    StockItem,
    WarehouseRef,
    reservation_options,
)
from erpgo_desktop.domain.money import ZERO
from erpgo_desktop.domain.orders import (
    CANCELLED,
    CONFIRMED,
    DELIVERED,
    DRAFT,
    ON_HOLD,
    PARTIALLY_SHIPPED,
    PENDING,
    PROCESSING,
    REFUNDED,
    RETURNED,
    SHIPPED,
    Address,
    LineAmounts,
    OrderHeader,
)
from erpgo_desktop.domain.wording import in_sentence
from erpgo_desktop.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    StockShortageError,
    ValidationError,
)
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.base import Service, require
from erpgo_desktop.services.listing import DEFAULT_COUNT_CAP, ListCount, capped, check_page_size
from erpgo_desktop.services.order_list import (
    OrderListCursor,
    OrderListPage,
    OrderQuery,
    find_search,
    order_count_statement,
    order_cursor,
    order_page_statement,
)
from erpgo_desktop.services.stock import StockKey, StockLedger

__all__ = [
    "Address",
    "Allocations",
    "NewLine",
    "OrderCursor",
    "OrderDetail",
    "OrderHeader",
    "OrderLineRow",
    "OrderPage",
    "OrderService",
    "OrderSummary",
    "ReservationRow",
    "StatusChangeRow",
]

T = TypeVar("T")
#: Makes a write's OrderDetail, after its transaction (see `_saved`).
_Detail = Callable[[], "OrderDetail"]
MAX_PAGE_SIZE = 1_000
#: Per line id, the warehouses to reserve it from and how many in each.
Allocations = Mapping[uuid.UUID, Sequence[tuple[uuid.UUID, int]]]

_CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
_IDS = ARRAY(PG_UUID(as_uuid=True))
_RESERVATIONS: Table = StockReservation.__table__  # type: ignore[assignment]
# Made once: building aliases is costly, and the same ones let SQLAlchemy cache the SQL.
_VARIANT = aliased(ProductVariant, name="variant")


# --- Rows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReservationRow:
    """How much of a line a warehouse holds for it."""

    warehouse_id: uuid.UUID
    warehouse_code: str
    quantity: int


@dataclass(frozen=True)
class OrderLineRow:
    id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    #: The variant's SKU and name for a variant line, else the product's.
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    total_price: Decimal
    discount_amount: Decimal
    tax_amount: Decimal
    final_price: Decimal
    weight: Decimal
    status: str
    shipped_quantity: int
    returned_quantity: int
    tracks_inventory: bool
    allows_backorder: bool
    reservations: tuple[ReservationRow, ...]
    notes: str | None

    @property
    def reserved_quantity(self) -> int:
        return sum(r.quantity for r in self.reservations)

    @property
    def backordered_quantity(self) -> int:
        """Confirmed but neither reserved nor shipped yet: waiting for stock."""
        if not self.tracks_inventory or self.status != "CONFIRMED":
            return 0
        return self.quantity - self.shipped_quantity - self.reserved_quantity


@dataclass(frozen=True)
class OrderDetail:
    id: uuid.UUID
    order_number: str
    customer_id: uuid.UUID
    customer_name: str
    customer_code: str | None
    status: str
    previous_status: str | None
    priority: str
    payment_status: str
    shipping_method: str
    currency: str
    subtotal: Decimal
    tax_amount: Decimal
    shipping_amount: Decimal
    #: The lines' discounts plus `order_discount`.
    discount_amount: Decimal
    order_discount: Decimal
    total_amount: Decimal
    paid_amount: Decimal
    refunded_amount: Decimal
    order_date: datetime
    required_date: datetime | None
    shipping_date: datetime | None
    delivery_date: datetime | None
    cancelled_date: datetime | None
    shipping_address: Address
    billing_address: Address
    notes: str | None
    customer_notes: str | None
    internal_notes: str | None
    carrier: str | None
    tracking_number: str | None
    created_by: uuid.UUID
    created_by_name: str | None
    approved_by: uuid.UUID | None
    approved_by_name: str | None
    approved_at: datetime | None
    shipped_by: uuid.UUID | None
    shipped_by_name: str | None
    shipped_at: datetime | None
    updated_at: datetime
    updated_by: uuid.UUID | None
    updated_by_name: str | None
    version: int
    lines: tuple[OrderLineRow, ...]

    @property
    def unpaid(self) -> Decimal:
        return self.total_amount - self.paid_amount

    @property
    def needs_approval(self) -> bool:
        return rules.needs_approval(self.total_amount)

    @property
    def header(self) -> OrderHeader:
        """The editable fields, as `update_order` takes them."""
        return OrderHeader(
            shipping_address=self.shipping_address,
            billing_address=self.billing_address,
            shipping_method=self.shipping_method,
            priority=self.priority,
            order_discount=self.order_discount,
            required_date=self.required_date,
            notes=self.notes,
            customer_notes=self.customer_notes,
            internal_notes=self.internal_notes,
        )


@dataclass(frozen=True)
class NewLine:
    """A line to add with `add_lines`; the same choices `add_line` takes."""

    product_id: uuid.UUID
    quantity: int
    variant_id: uuid.UUID | None = None
    #: None: the product's (or variant's) price.
    unit_price: Decimal | None = None
    discount: Decimal = ZERO
    notes: str | None = None


@dataclass(frozen=True)
class OrderSummary:
    """One row of the orders list."""

    id: uuid.UUID
    order_number: str
    order_date: datetime
    customer_id: uuid.UUID
    customer_name: str
    status: str
    payment_status: str
    total_amount: Decimal
    paid_amount: Decimal
    currency: str
    version: int


@dataclass(frozen=True)
class OrderCursor:
    """Where the next page starts: the last row's order date and id (newest first)."""

    order_date: datetime
    id: uuid.UUID


@dataclass(frozen=True)
class OrderPage:
    rows: tuple[OrderSummary, ...]
    next_cursor: OrderCursor | None
    has_more: bool


@dataclass(frozen=True)
class StatusChangeRow:
    """A status the order entered (order_status_history, written by a trigger)."""

    #: None for the order's first status.
    from_status: str | None
    to_status: str
    changed_by: uuid.UUID | None
    #: None when the user is not (or no longer) in this database.
    changed_by_name: str | None
    changed_at: datetime


# --- The service -------------------------------------------------------------------------


class OrderService(Service):
    """Orders: drafts and their lines, the status changes of the rules' table, stock,
    credit and money."""

    # --- Drafts and lines ---------------------------------------------------------------

    def create_draft(
        self,
        acting: CurrentUser,
        customer_id: uuid.UUID,
        header: OrderHeader,
        *,
        currency: str = "USD",
    ) -> OrderDetail:
        """A new DRAFT order for an active customer, numbered by the database."""
        require(acting, perms.ORDERS_CREATE)
        clean = rules.check_header(header)
        currency = rules.check_currency(currency)
        if clean.order_discount != ZERO:
            rules.check_order_discount(clean.order_discount, ZERO)

        def work(session: Session) -> _Detail:
            billing = _billing(clean)
            amounts = rules.order_amounts([], clean.shipping_method, ZERO)
            values = {
                "customer_id": customer_id,
                "status": DRAFT,
                "priority": clean.priority,
                "shipping_method": clean.shipping_method,
                "currency": currency,
                "required_date": clean.required_date,
                "notes": clean.notes,
                "customer_notes": clean.customer_notes,
                "internal_notes": clean.internal_notes,
                "created_by": acting.id,
                "updated_by": acting.id,
                "subtotal": amounts.subtotal,
                "discount_amount": amounts.discount,
                "tax_amount": amounts.tax,
                "shipping_amount": amounts.shipping,
                "total_amount": amounts.total,
                "payment_status": rules.payment_status(amounts.total, ZERO, ZERO),
            }
            addresses = {
                f"{kind}_{name}": getattr(address, name)
                for kind, address in (("shipping", clean.shipping_address), ("billing", billing))
                for name in _ADDRESS_FIELDS
            }
            # next_order_number() keeps the counter row locked until this transaction
            # ends, so numbers are issued one after the other and never twice.
            row = (
                _db(session)
                .execute(
                    _INSERT_DRAFT,
                    {f"new_{name}": value for name, value in values.items()}
                    | addresses
                    | {"acting_id": acting.id},
                )
                .mappings()
                .one_or_none()
            )
            if row is None:  # nothing inserted: the customer is missing or not active
                _refuse_customer(session, customer_id)
            extras = _Extras(
                customer_name=_customer_name(
                    row["customer_company"], row["customer_first_name"], row["customer_last_name"]
                ),
                customer_code=row["customer_code"],
                tax_exempt=bool(row["customer_tax_exempt"]),
                shipping_address=clean.shipping_address,
                billing_address=billing,
                usernames={acting.id: row["acting_name"] or acting.username},
                now=None,
            )
            order = _order_row(row, extras)
            return lambda: _build_detail(order, [])

        return self._write(work)()

    def update_order(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int, header: OrderHeader
    ) -> OrderDetail:
        """Save the header (addresses, shipping method, the order's own discount, notes)
        of a DRAFT or PENDING order; totals follow."""
        require(acting, perms.ORDERS_CREATE)
        clean = rules.check_header(header)

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version)
            _require_editable(order, "Its details")
            _update_address(session, order.shipping_address_id, clean.shipping_address)
            _update_address(session, order.billing_address_id, _billing(clean))
            order.extras.shipping_address = clean.shipping_address
            order.extras.billing_address = _billing(clean)
            order.shipping_method = clean.shipping_method
            order.priority = clean.priority
            order.required_date = clean.required_date
            order.notes = clean.notes
            order.customer_notes = clean.customer_notes
            order.internal_notes = clean.internal_notes
            lines = order.lines
            _recompute(order, lines, clean.order_discount)
            return _saved(session, order, acting, lines)

        return self._write(work)()

    def add_line(
        self,
        acting: CurrentUser,
        order_id: uuid.UUID,
        expected_version: int,
        product_id: uuid.UUID,
        quantity: int,
        *,
        variant_id: uuid.UUID | None = None,
        unit_price: Decimal | None = None,
        discount: Decimal = ZERO,
        notes: str | None = None,
    ) -> OrderDetail:
        """Add a line of an active product (or variant); the unit price defaults to its
        price, and the tax is worked out now from its tax rate and the customer."""
        require(acting, perms.ORDERS_CREATE)
        line = _checked_new_line(
            NewLine(product_id, quantity, variant_id, unit_price, discount, notes)
        )
        return self._add_lines(acting, order_id, expected_version, [line], numbered=False)

    def add_lines(
        self,
        acting: CurrentUser,
        order_id: uuid.UUID,
        expected_version: int,
        lines: Sequence[NewLine],
    ) -> OrderDetail:
        """Add several lines in one change, in the order given, each as `add_line` would
        (as an order entry form saves the lines typed into it): all of them or none. A
        message about one of them starts with its number ("Line 2: ...")."""
        require(acting, perms.ORDERS_CREATE)
        if not lines:
            raise ValidationError("Choose the lines to add.", field="lines")
        checked = []
        for number, line in enumerate(lines, 1):
            with _numbered(number):
                checked.append(_checked_new_line(line))
        return self._add_lines(acting, order_id, expected_version, checked, numbered=True)

    def _add_lines(
        self,
        acting: CurrentUser,
        order_id: uuid.UUID,
        expected_version: int,
        wanted: Sequence[NewLine],
        *,
        numbered: bool,
    ) -> OrderDetail:
        def work(session: Session) -> _Detail:
            items = [(new.product_id, new.variant_id) for new in wanted]
            order = _lock(session, acting, order_id, expected_version, items=items)
            _require_editable(order, "Lines")
            lines = order.lines
            order_discount = _order_discount(order, lines)
            catalog = order.extras.catalog
            # Lines added together share created_at; ids made in ascending order keep them
            # in the order given (lines are listed by created_at, then id).
            ids = sorted(uuid.uuid4() for _ in wanted)
            for number, (new, line_id) in enumerate(zip(wanted, ids, strict=True), 1):
                with _numbered(number if numbered else None):
                    sold = _sold(catalog, new.product_id, new.variant_id)
                    lines.append(_new_line(order, line_id, new, sold))
            _recompute(order, lines, order_discount)
            return _saved(session, order, acting, lines)

        return self._write(work)()

    def change_line(
        self,
        acting: CurrentUser,
        order_id: uuid.UUID,
        expected_version: int,
        line_id: uuid.UUID,
        *,
        quantity: int | None = None,
        unit_price: Decimal | None = None,
        discount: Decimal | None = None,
        notes: str | None = None,
    ) -> OrderDetail:
        """Change a line's quantity, unit price, discount or notes (None: keep; notes ''
        clears them). The tax is worked out again from the product and customer as now."""
        require(acting, perms.ORDERS_CREATE)
        new_quantity = None if quantity is None else rules.check_quantity(quantity)
        new_price = None if unit_price is None else rules.check_unit_price(unit_price)
        new_discount = None if discount is None else rules.check_discount(discount)

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version)
            _require_editable(order, "Lines")
            lines = order.lines
            order_discount = _order_discount(order, lines)
            item = _find_item(lines, line_id)
            sold = _sold_item(session, item.product_id, item.variant_id, changing=True)
            item.quantity = new_quantity or item.quantity
            item.unit_price = new_price or item.unit_price
            if new_discount is not None:
                item.discount_amount = new_discount
            amounts = _line_amounts(
                order, sold, item.quantity, item.unit_price, item.discount_amount
            )
            item.tax_amount = amounts.tax
            item.weight = _weight(sold.weight, item.quantity)
            if notes is not None:
                item.notes = _text(notes)
            _recompute(order, lines, order_discount)
            return _saved(session, order, acting, lines)

        return self._write(work)()

    def remove_line(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int, line_id: uuid.UUID
    ) -> OrderDetail:
        require(acting, perms.ORDERS_CREATE)

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version)
            _require_editable(order, "Lines")
            lines = order.lines
            order_discount = _order_discount(order, lines)
            line = _find_line(lines, line_id)
            _recompute(order, [other for other in lines if other is not line], order_discount)
            return _saved(session, order, acting, lines, removed=[line])

        return self._write(work)()

    def submit(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int
    ) -> OrderDetail:
        """DRAFT -> PENDING: the order is complete and waits for confirmation."""
        require(acting, perms.ORDERS_CREATE)

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version)
            if order.status == ON_HOLD:
                raise ValidationError(
                    f"Order {order.order_number} is on hold: resume it to go back to "
                    f"{in_sentence(rules.resume_target(order.previous_status))}.",
                    field="status",
                )
            rules.check_transition(order.status, PENDING)
            lines = order.lines
            if not lines:
                raise ValidationError(
                    "Add at least one line before submitting the order.", field="lines"
                )
            order.status = PENDING
            return _saved(session, order, acting, lines)

        return self._write(work)()

    # --- Approval and confirmation ------------------------------------------------------

    def approve(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int
    ) -> OrderDetail:
        """A manager's approval of an order over 10,000.00, needed before confirming it.
        Changing the total afterwards withdraws the approval."""
        require(acting, perms.ORDERS_APPROVE)

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version)
            if order.status not in (PENDING, ON_HOLD) or _is_confirmed(order):
                raise ValidationError(
                    f"Order {order.order_number} is {in_sentence(order.status)}: only a "
                    "submitted order that is not confirmed yet can be approved.",
                    field="status",
                )
            if not rules.needs_approval(order.total_amount):
                raise ValidationError(
                    f"Order {order.order_number} totals {order.total_amount:,}: only orders "
                    f"over {rules.APPROVAL_ABOVE:,} need approval.",
                    field="approved_by",
                )
            if order.approved_by is not None:
                raise ValidationError(
                    f"Order {order.order_number} was approved already by "
                    f"{_username(session, order, order.approved_by)}.",
                    field="approved_by",
                )
            order.approved_by = acting.id
            order.approved_at = order.now
            return _saved(session, order, acting)

        return self._write(work)()

    def confirm(
        self,
        acting: CurrentUser,
        order_id: uuid.UUID,
        expected_version: int,
        warehouse_id: uuid.UUID | None,
        *,
        allocations: Allocations | None = None,
        override_credit: bool = False,
    ) -> OrderDetail:
        """PENDING (or held before confirming) -> CONFIRMED.

        Reserves every line that tracks inventory: from `allocations[line]` (warehouse and
        quantity pairs adding up to the line's quantity) where given, else all of it from
        `warehouse_id`. All lines or none: when a warehouse has too little sellable stock
        the confirmation is refused naming SKU, warehouse and quantities, except for
        products that allow backorders, which reserve what there is and wait for the rest
        (see `reserve_backorders`). Orders over 10,000.00 must be approved first. For a
        customer with a credit limit, the balance plus this order's unpaid total may not
        exceed it unless `override_credit` is asked by a user who may override credit.
        """
        require(acting, perms.ORDERS_CONFIRM)
        wanted = _check_allocations(allocations)
        named = _named_warehouses(warehouse_id, wanted)

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version, warehouses=named)
            rules.check_transition(order.status, CONFIRMED)
            if _is_confirmed(order):
                raise ValidationError(
                    f"Order {order.order_number} was confirmed before it was put on hold: "
                    "resume it instead.",
                    field="status",
                )
            lines = order.lines
            if not lines:
                raise ValidationError("An order without lines cannot be confirmed.", field="lines")
            for line in lines:
                if not line.active:
                    raise ValidationError(
                        f"{line.sku} ({line.name}) is no longer sold: remove its line first.",
                        field="lines",
                    )
            if rules.needs_approval(order.total_amount) and order.approved_by is None:
                raise ValidationError(
                    f"Order {order.order_number} totals {order.total_amount:,}, over "
                    f"{rules.APPROVAL_ABOVE:,}: a manager must approve it before it is "
                    "confirmed.",
                    field="approved_by",
                )
            plan = _plan(
                session,
                lines,
                warehouse_id,
                wanted,
                lambda line: line.item.quantity,
                True,
                order.extras.warehouses,
            )
            ledger = StockLedger(session, acting.id)
            try:
                _reserve(session, ledger, order, lines, plan, all_or_nothing=True)
            except StockShortageError as error:
                # Read under the locks just taken: what the screen offers instead holds.
                error.options = _reservation_options(session, lines)
                raise
            for line in lines:
                line.item.status = "CONFIRMED"
            order.status = CONFIRMED
            detail = _saved(session, order, acting, lines)
            self._take_on_credit(session, acting, order, override_credit)
            return detail

        return self._write(work)()

    def reserve_backorders(
        self,
        acting: CurrentUser,
        order_id: uuid.UUID,
        expected_version: int,
        warehouse_id: uuid.UUID | None,
        *,
        allocations: Allocations | None = None,
    ) -> OrderDetail:
        """Reserve what has come in of a confirmed order's backordered quantities.

        Per line, `allocations` (up to the backordered quantity) or everything backordered
        from `warehouse_id`; takes what is sellable and leaves the rest backordered.
        """
        require(acting, perms.ORDERS_CONFIRM)
        wanted = _check_allocations(allocations)
        named = _named_warehouses(warehouse_id, wanted)

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version, warehouses=named)
            if not _is_confirmed(order) or order.status not in (
                CONFIRMED,
                PROCESSING,
                PARTIALLY_SHIPPED,
                ON_HOLD,
            ):
                raise ValidationError(
                    f"Order {order.order_number} is {in_sentence(order.status)}: backorders "
                    "are reserved for confirmed orders that are not shipped yet.",
                    field="status",
                )
            lines = order.lines
            if not any(line.backordered for line in lines):
                raise ValidationError(
                    f"Nothing on order {order.order_number} is backordered.", field="lines"
                )
            plan = _plan(
                session,
                lines,
                warehouse_id,
                wanted,
                lambda line: line.backordered,
                False,
                order.extras.warehouses,
            )
            ledger = StockLedger(session, acting.id)
            if _reserve(session, ledger, order, lines, plan, all_or_nothing=False) == 0:
                raise ValidationError(
                    "None of the backordered goods is in stock there yet: nothing was reserved.",
                    field="quantity",
                )
            return _saved(session, order, acting, lines)

        return self._write(work)()

    def reservation_options(self, acting: CurrentUser, order_id: uuid.UUID) -> ReservationOptions:
        """What each active warehouse can sell of the order's stocked lines, and where the
        whole order can be reserved from (one warehouse, or a split over several), for
        choosing where to confirm from. A refused confirmation carries the same, read
        under its locks (`StockShortageError.options`)."""
        require(acting, perms.ORDERS_CONFIRM)

        def work(session: Session) -> ReservationOptions:
            if session.get(Order, order_id) is None:
                raise NotFoundError("That order does not exist.")
            return _reservation_options(session, _lines(session, order_id))

        return self._read(work)

    def _take_on_credit(
        self, session: Session, acting: CurrentUser, order: _OrderRow, override: bool
    ) -> None:
        """Add the order's unpaid total to the customer's balance, refused over a credit
        limit unless overridden (noted in the order's internal notes). One statement, the
        last before the commit: every confirmation for the customer waits for this row
        until the transaction ends."""
        unpaid = order.total_amount - order.paid_amount
        if unpaid == ZERO:  # nothing to add, but a balance over the limit still refuses
            customer = (
                _db(session).execute(_CUSTOMER_CREDIT, {"customer_id": order.customer_id}).one()
            )
        else:
            customer = (
                _db(session)
                .execute(
                    _ADD_TO_BALANCE,
                    {"customer_id": order.customer_id, "amount": unpaid, "acting_id": acting.id},
                )
                .one()
            )
        limit = customer.credit_limit or ZERO
        after = customer.balance or ZERO
        if limit <= ZERO or after <= limit:
            return
        name = customer.company or f"{customer.first_name} {customer.last_name}"
        over = (
            f"Confirming order {order.order_number} would take {name}'s balance to "
            f"{after:,} (now {after - unpaid:,}, plus {unpaid:,} unpaid on this order), "
            f"over the credit limit of {limit:,}."
        )
        if not override:
            raise ValidationError(
                f"{over} A user with the permission {perms.CUSTOMERS_CREDIT_OVERRIDE!r} "
                "may confirm it anyway.",
                field="credit_limit",
            )
        if not acting.can(perms.CUSTOMERS_CREDIT_OVERRIDE):
            raise PermissionDeniedError(
                f"{over} Overriding the credit limit needs the permission "
                f"{perms.CUSTOMERS_CREDIT_OVERRIDE!r}, which your roles "
                f"({', '.join(acting.roles) or 'none'}) do not grant."
            )
        note = (
            f"Credit limit {limit:,} overridden by {acting.username}: balance "
            f"{after:,} on confirming."
        )
        order.internal_notes = f"{order.internal_notes}\n{note}" if order.internal_notes else note
        # The order was saved already, its version moved on: the note goes with that change.
        _db(session).execute(
            _NOTE_OVERRIDE, {"order_id": order.id, "note_text": order.internal_notes}
        )
        order.loaded["internal_notes"] = order.internal_notes

    # --- Holds and processing -----------------------------------------------------------

    def hold(self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int) -> OrderDetail:
        """Put the order ON_HOLD; reservations and the balance stay as they are."""
        require(acting, perms.ORDERS_CONFIRM)

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version)
            rules.check_transition(order.status, ON_HOLD)
            order.status = ON_HOLD
            return _saved(session, order, acting)

        return self._write(work)()

    def resume(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int
    ) -> OrderDetail:
        """Lift a hold: back to PENDING, CONFIRMED or PROCESSING, where it was (an order held
        while partly or fully shipped goes on as PROCESSING)."""
        require(acting, perms.ORDERS_CONFIRM)

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version)
            if order.status != ON_HOLD:
                raise ValidationError(
                    f"Order {order.order_number} is {in_sentence(order.status)}, not on "
                    "hold: there is no hold to lift.",
                    field="status",
                )
            target = rules.resume_target(order.previous_status)
            rules.check_transition(order.status, target)
            order.status = target
            return _saved(session, order, acting)

        return self._write(work)()

    def start_processing(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int
    ) -> OrderDetail:
        """-> PROCESSING (picking and packing): from CONFIRMED, PARTIALLY_SHIPPED (to ship
        another part) or a hold of a confirmed order. Shipping needs it."""
        require(acting, perms.ORDERS_SHIP)

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version)
            rules.check_transition(order.status, PROCESSING)
            if not _is_confirmed(order):
                raise ValidationError(
                    f"Order {order.order_number} was put on hold before it was confirmed: "
                    "confirm it first.",
                    field="status",
                )
            order.status = PROCESSING
            return _saved(session, order, acting)

        return self._write(work)()

    # --- Shipping -----------------------------------------------------------------------

    def ship(
        self,
        acting: CurrentUser,
        order_id: uuid.UUID,
        expected_version: int,
        lines: Mapping[uuid.UUID, int] | None = None,
        *,
        carrier: str | None,
        tracking_number: str | None,
    ) -> OrderDetail:
        """Ship `lines` (line id -> quantity) or, with None, everything reserved (and
        every line that does not track stock) of a PROCESSING or PARTIALLY_SHIPPED order.

        Reserved stock leaves as OUT ledger rows referring to the order. When everything
        has gone the order is SHIPPED; otherwise PARTIALLY_SHIPPED, which the table allows
        only from PROCESSING (start processing again to ship another part). Carrier and
        tracking number are required unless the order is picked up or downloaded.
        """
        require(acting, perms.ORDERS_SHIP)
        requested = None
        if lines is not None:
            requested = {k: rules.check_quantity(q, "lines") for k, q in lines.items()}
            if not requested:
                raise ValidationError("Choose the lines to ship.", field="lines")

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version)
            items = order.lines
            if requested is None:
                shipping = {
                    line.id: line.reserved if line.tracks else line.unshipped
                    for line in items
                    if (line.reserved if line.tracks else line.unshipped) > 0
                }
            else:
                for line_id in requested:
                    _find_line(items, line_id)
                shipping = dict(requested)
            complete = all(line.unshipped == shipping.get(line.id, 0) for line in items)
            target = SHIPPED if complete else PARTIALLY_SHIPPED
            if order.status not in (PROCESSING, PARTIALLY_SHIPPED):
                # Nothing can be shipped now; "everything" is meant to make it SHIPPED.
                rules.check_transition(order.status, SHIPPED if requested is None else target)
            if not shipping and not complete:
                waiting = sum(line.backordered for line in items)
                raise ValidationError(
                    f"Nothing on order {order.order_number} is reserved to ship"
                    + (f": {waiting:,} backordered." if waiting else "."),
                    field="lines",
                )
            if order.status == PARTIALLY_SHIPPED and target == PARTIALLY_SHIPPED:
                raise ValidationError(
                    f"Order {order.order_number} is partially shipped: this shipment would "
                    "leave goods behind, and an order cannot go from Partially shipped to "
                    "Partially shipped. Ship the rest in full, or start processing it "
                    "again to ship another part.",
                    field="status",
                )
            rules.check_transition(order.status, target)
            carrier_name, tracking = rules.check_shipment(
                order.shipping_method, carrier, tracking_number
            )
            for line in items:
                asked = shipping.get(line.id, 0)
                can = line.reserved if line.tracks else line.unshipped
                if asked > can:
                    raise ValidationError(
                        f"Only {can:,} of {line.sku} can be shipped"
                        + (" (reserved)" if line.tracks else "")
                        + f", {asked:,} asked"
                        + (f"; {line.backordered:,} backordered." if line.backordered else "."),
                        field="lines",
                    )
            _ship_stock(session, acting, order, items, shipping)
            for line in items:
                line.item.shipped_quantity += shipping.get(line.id, 0)
                if line.item.shipped_quantity == line.item.quantity:
                    line.item.status = "SHIPPED"
            order.status = target
            order.carrier = carrier_name
            order.tracking_number = tracking
            order.shipped_by = acting.id
            order.shipped_at = order.now
            if target == SHIPPED:
                order.shipping_date = order.now
            return _saved(session, order, acting, items)

        return self._write(work)()

    def deliver(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int
    ) -> OrderDetail:
        """SHIPPED -> DELIVERED, dated now."""
        require(acting, perms.ORDERS_SHIP)

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version)
            rules.check_transition(order.status, DELIVERED)
            lines = order.lines
            for line in lines:
                if line.item.status == "SHIPPED":
                    line.item.status = "DELIVERED"
            order.status = DELIVERED
            order.delivery_date = order.now
            return _saved(session, order, acting, lines)

        return self._write(work)()

    # --- Cancelling and returns ---------------------------------------------------------

    def cancel(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int
    ) -> OrderDetail:
        """-> CANCELLED: releases exactly what is still reserved, and takes a confirmed
        order's unpaid total off the customer's balance. What was shipped stays shipped;
        money paid is given back with `refund`."""
        require(acting, perms.ORDERS_CANCEL)

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version)
            rules.check_transition(order.status, CANCELLED)
            lines = order.lines
            if lines and all(line.unshipped == 0 for line in lines):
                raise ValidationError(
                    f"Everything on order {order.order_number} has been shipped, so it cannot "
                    "be cancelled: record a return once it is delivered.",
                    field="status",
                )
            held = [(line, w, q) for line in lines for w, q in line.reservations.items()]
            if held:
                ledger = StockLedger(session, acting.id)
                ledger.lock([line.key(w) for line, w, _ in held])
                ledger.release_many([(line.key(w), q) for line, w, q in held])
                _db(session).execute(
                    delete(_RESERVATIONS).where(
                        _RESERVATIONS.c.order_item_id.in_([line.id for line in lines])
                    )
                )
                for line in lines:
                    line.reservations.clear()
            if _is_confirmed(order):
                _add_to_balance(
                    session, acting, order.customer_id, order.paid_amount - order.total_amount
                )
            for line in lines:
                if line.unshipped:
                    line.item.status = "CANCELLED"
            order.status = CANCELLED
            order.cancelled_date = order.now
            return _saved(session, order, acting, lines)

        return self._write(work)()

    def return_goods(
        self,
        acting: CurrentUser,
        order_id: uuid.UUID,
        expected_version: int,
        warehouse_id: uuid.UUID,
        lines: Mapping[uuid.UUID, int],
        *,
        reason: str | None = None,
    ) -> OrderDetail:
        """SHIPPED or DELIVERED -> RETURNED: `lines` (line id -> quantity, at most what was
        shipped and not yet returned) come back IN to `warehouse_id`."""
        require(acting, perms.ORDERS_RETURN)
        returning = {k: rules.check_quantity(q, "lines") for k, q in lines.items()}
        if not returning:
            raise ValidationError("Choose the lines that come back.", field="lines")

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version, warehouses={warehouse_id})
            rules.check_transition(order.status, RETURNED)
            items = order.lines
            for line_id, quantity in returning.items():
                line = _find_line(items, line_id)
                left = line.item.shipped_quantity - line.item.returned_quantity
                if quantity > left:
                    raise ValidationError(
                        f"Only {left:,} of {line.sku} were shipped and not returned yet, "
                        f"{quantity:,} asked.",
                        field="lines",
                    )
            restock = [line for line in items if line.id in returning and line.tracks]
            if restock:
                _check_warehouses(session, {warehouse_id}, order.extras.warehouses)
                ledger = StockLedger(session, acting.id)
                ledger.lock([line.key(warehouse_id) for line in restock])
                why = f"Return of order {order.order_number}" + (
                    f": {reason.strip()}" if reason and reason.strip() else ""
                )
                for line in restock:
                    ledger.move(
                        line.key(warehouse_id),
                        returning[line.id],
                        "IN",
                        reference_id=order.id,
                        reason=why,
                    )
            for line in items:
                if line.id in returning:
                    line.item.returned_quantity += returning[line.id]
                    line.item.status = "RETURNED"
            order.status = RETURNED
            return _saved(session, order, acting, items)

        return self._write(work)()

    # --- Money --------------------------------------------------------------------------

    def record_payment(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int, amount: Decimal
    ) -> OrderDetail:
        """Money received: paid may reach the total, no more. On a confirmed order the
        payment comes off the customer's balance too."""
        require(acting, perms.ORDERS_PAYMENT)
        payment = rules.check_amount(amount, "amount", "A payment")

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version)
            if order.status in rules.NO_PAYMENT_STATUSES:
                raise ValidationError(
                    f"Order {order.order_number} is {in_sentence(order.status)}: it takes no "
                    "payments.",
                    field="status",
                )
            unpaid = order.total_amount - order.paid_amount
            if payment > unpaid:
                raise ValidationError(
                    f"A payment of {payment:,} is more than what is left to pay on order "
                    f"{order.order_number} ({unpaid:,} of {order.total_amount:,}).",
                    field="amount",
                )
            order.paid_amount += payment
            order.payment_status = rules.payment_status(
                order.total_amount, order.paid_amount, order.refunded_amount
            )
            if _is_confirmed(order):
                _add_to_balance(session, acting, order.customer_id, -payment)
            return _saved(session, order, acting)

        return self._write(work)()

    def refund(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int, amount: Decimal
    ) -> OrderDetail:
        """Money given back, at most what was paid, for a DELIVERED, CANCELLED or RETURNED
        order; once everything paid is given back the order is REFUNDED."""
        require(acting, perms.ORDERS_PAYMENT)
        refund = rules.check_amount(amount, "amount", "A refund")

        def work(session: Session) -> _Detail:
            order = _lock(session, acting, order_id, expected_version)
            if order.status not in rules.REFUND_STATUSES:
                rules.check_transition(order.status, REFUNDED)
            left = order.paid_amount - order.refunded_amount
            if refund > left:
                raise ValidationError(
                    f"At most {left:,} can be refunded on order {order.order_number} "
                    f"(paid {order.paid_amount:,}, refunded {order.refunded_amount:,}).",
                    field="amount",
                )
            order.refunded_amount += refund
            order.payment_status = rules.payment_status(
                order.total_amount, order.paid_amount, order.refunded_amount
            )
            if order.refunded_amount == order.paid_amount:
                rules.check_transition(order.status, REFUNDED)
                order.status = REFUNDED
            return _saved(session, order, acting)

        return self._write(work)()

    # --- Reading ------------------------------------------------------------------------

    def get_order(self, acting: CurrentUser, order_id: uuid.UUID) -> OrderDetail:
        require(acting, perms.ORDERS_READ)
        return self._read(lambda session: _detail(session, order_id))

    def list_lines(self, acting: CurrentUser, order_id: uuid.UUID) -> tuple[OrderLineRow, ...]:
        require(acting, perms.ORDERS_READ)

        def work(session: Session) -> tuple[OrderLineRow, ...]:
            if _db(session).scalar(select(Order.id).where(Order.id == order_id)) is None:
                raise NotFoundError("That order does not exist.")
            return tuple(_line_row(line) for line in _lines(session, order_id))

        return self._read(work)

    def status_history(
        self, acting: CurrentUser, order_id: uuid.UUID
    ) -> tuple[StatusChangeRow, ...]:
        """Every status the order entered, oldest first, with who changed it and when."""
        require(acting, perms.ORDERS_READ)
        history = OrderStatusHistory

        def work(session: Session) -> tuple[StatusChangeRow, ...]:
            if _db(session).scalar(select(Order.id).where(Order.id == order_id)) is None:
                raise NotFoundError("That order does not exist.")
            records = (
                _db(session)
                .execute(
                    select(
                        history.from_status,
                        history.to_status,
                        history.changed_by,
                        User.username,
                        history.changed_at,
                    )
                    .select_from(history)
                    .outerjoin(User, User.id == history.changed_by)
                    .where(history.order_id == order_id)
                    # One transaction stamps one time: the first status goes before any other.
                    .order_by(history.changed_at, history.from_status.is_not(None), history.id)
                )
                .all()
            )
            return tuple(
                StatusChangeRow(r.from_status, r.to_status, r.changed_by, r.username, r.changed_at)
                for r in records
            )

        return self._read(work)

    def list_orders(
        self,
        acting: CurrentUser,
        after: OrderCursor | None = None,
        limit: int = 100,
        *,
        status: str | None = None,
        customer_id: uuid.UUID | None = None,
    ) -> OrderPage:
        """A keyset page of orders, newest first (order date, then id, descending)."""
        require(acting, perms.ORDERS_READ)
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValidationError(f"A page has 1 to {MAX_PAGE_SIZE} rows, not {limit}.")
        if status is not None and status not in rules.STATUSES:
            raise ValidationError(f"There is no order status {status!r}.", field="status")
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
            .order_by(Order.order_date.desc(), Order.id.desc())
            .limit(limit + 1)
        )
        if status is not None:
            statement = statement.where(Order.status == status)
        if customer_id is not None:
            statement = statement.where(Order.customer_id == customer_id)
        if after is not None:
            statement = statement.where(
                tuple_(Order.order_date, Order.id)
                < tuple_(
                    literal(after.order_date, Order.order_date.type),
                    literal(after.id, Order.id.type),
                )
            )
        records = self._read(lambda session: _db(session).execute(statement).all())
        rows = tuple(_order_summary(record) for record in records[:limit])
        cursor = OrderCursor(rows[-1].order_date, rows[-1].id) if rows else None
        return OrderPage(rows=rows, next_cursor=cursor, has_more=len(records) > limit)

    def list_orders_page(
        self,
        acting: CurrentUser,
        query: OrderQuery,
        after: OrderListCursor | None = None,
        limit: int = 200,
    ) -> OrderListPage:
        """A keyset page of the orders list, searched, filtered and sorted as `query` says
        (see services/order_list.py)."""
        require(acting, perms.ORDERS_READ)
        check_page_size(limit)

        def read(session: Session) -> Sequence[Any]:
            search = find_search(_db(session), query)
            return _db(session).execute(order_page_statement(query, after, limit + 1, search)).all()

        records = self._read(read)
        rows = tuple(_order_summary(record) for record in records[:limit])
        cursor = order_cursor(query, rows[-1]) if rows else None
        return OrderListPage(rows=rows, next_cursor=cursor, has_more=len(records) > limit)

    def count_orders(
        self, acting: CurrentUser, query: OrderQuery, cap: int | None = DEFAULT_COUNT_CAP
    ) -> ListCount:
        """How many orders the list's `query` matches, counting no further than `cap`
        (None: all)."""
        require(acting, perms.ORDERS_READ)

        def count(session: Session) -> int:
            search = find_search(_db(session), query)
            return _db(session).scalar(order_count_statement(query, cap, search)) or 0

        found = self._read(count)
        return capped(found, cap)


def _order_summary(r: Any) -> OrderSummary:
    """A row of the orders list from a record of either list statement."""
    return OrderSummary(
        id=r.id,
        order_number=r.order_number,
        order_date=r.order_date,
        customer_id=r.customer_id,
        customer_name=_customer_name(r.company, r.first_name, r.last_name),
        status=r.status,
        payment_status=r.payment_status,
        total_amount=r.total_amount,
        paid_amount=r.paid_amount,
        currency=r.currency,
        version=r.version,
    )


# --- The order and its lines as a write sees them ----------------------------------------
#
# A write reads the order (locked) and its lines once, as plain rows with what the rules
# and the returned OrderDetail need of the customer, addresses, users, products and
# reservations; changes them in place; and `_saved` writes what changed with Core
# statements that return the rows as stored (triggers included), from which the detail is
# built. No ORM unit of work and no reading back: a write costs a handful of statements.

_ORDERS: Table = Order.__table__  # type: ignore[assignment]
_ITEMS: Table = OrderItem.__table__  # type: ignore[assignment]
_ADDRESSES: Table = OrderAddress.__table__  # type: ignore[assignment]
_ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "address1",
    "address2",
    "city",
    "state",
    "postal_code",
    "country",
    "phone",
    "email",
)


@dataclass
class _Extras:
    """What the detail shows beside the order row, read with it."""

    customer_name: str
    customer_code: str | None
    tax_exempt: bool
    shipping_address: Address
    billing_address: Address
    #: user id -> username, for the users the order names (and the acting user).
    usernames: dict[uuid.UUID, str]
    #: The transaction's now(): what the database's own timestamps of this write say.
    now: datetime | None
    #: What the write asked for beside the order (see `_lock`).
    catalog: _Catalog = ({}, {})
    warehouses: _Warehouses | None = None


@dataclass(eq=False)
class _OrderRow:
    """The orders row, changed in place by a write; `_saved` writes what changed."""

    id: uuid.UUID
    order_number: str
    customer_id: uuid.UUID
    status: str
    previous_status: str | None
    priority: str
    type: str
    payment_status: str
    shipping_method: str
    subtotal: Decimal
    tax_amount: Decimal
    shipping_amount: Decimal
    discount_amount: Decimal
    total_amount: Decimal
    paid_amount: Decimal
    refunded_amount: Decimal
    currency: str
    order_date: datetime
    required_date: datetime | None
    shipping_date: datetime | None
    delivery_date: datetime | None
    cancelled_date: datetime | None
    shipping_address_id: uuid.UUID
    billing_address_id: uuid.UUID
    notes: str | None
    internal_notes: str | None
    customer_notes: str | None
    tracking_number: str | None
    carrier: str | None
    created_by: uuid.UUID
    approved_by: uuid.UUID | None
    shipped_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None
    shipped_at: datetime | None
    version: int
    updated_by: uuid.UUID | None
    extras: _Extras = field(repr=False)
    loaded: dict[str, Any] = field(repr=False, default_factory=dict)
    #: The lines, read with the order.
    lines: list[_Line] = field(repr=False, default_factory=list)

    @property
    def now(self) -> datetime:
        assert self.extras.now is not None, "the order was not locked for a write"
        return self.extras.now

    def changes(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in _ORDER_COLUMNS
            if getattr(self, name) != self.loaded[name]
        }


@dataclass(eq=False)
class _ItemRow:
    """An order_items row, changed in place by a write; `_saved` writes what changed."""

    id: uuid.UUID
    order_id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    quantity: int
    unit_price: Decimal
    total_price: Decimal | None
    tax_amount: Decimal
    discount_amount: Decimal
    final_price: Decimal
    weight: Decimal
    status: str
    shipped_quantity: int
    returned_quantity: int
    notes: str | None
    created_at: datetime
    updated_at: datetime
    #: The row as stored; None for a line not inserted yet.
    loaded: dict[str, Any] | None = field(repr=False, default=None)

    def changes(self) -> dict[str, Any]:
        assert self.loaded is not None
        return {
            name: getattr(self, name)
            for name in _ITEM_WRITABLE
            if getattr(self, name) != self.loaded[name]
        }


_ORDER_COLUMNS = tuple(_ORDERS.c.keys())
_ITEM_COLUMNS = tuple(_ITEMS.c.keys())
_ITEM_COMPUTED = ("total_price", "final_price")
_ITEM_WRITABLE = tuple(c for c in _ITEM_COLUMNS if c not in (*_ITEM_COMPUTED, "id", "order_id"))
# The rows above must hold exactly the tables' columns, or writes would lose some.
assert {f.name for f in fields(_OrderRow)} - {"extras", "loaded", "lines"} == set(_ORDER_COLUMNS)
assert {f.name for f in fields(_ItemRow)} - {"loaded"} == set(_ITEM_COLUMNS)


def _order_row(row: Any, extras: _Extras) -> _OrderRow:
    values = {name: row[name] for name in _ORDER_COLUMNS}
    return _OrderRow(**values, extras=extras, loaded=dict(values))


def _item_row(row: Any) -> _ItemRow:
    values = {name: row[name] for name in _ITEM_COLUMNS}
    return _ItemRow(**values, loaded=values)


@dataclass(eq=False)
class _Line:
    """An order line with what the rules need of its product (or variant)."""

    item: _ItemRow
    sku: str
    name: str
    tracks: bool
    backorder: bool
    active: bool
    #: warehouse id -> quantity still reserved there, in warehouse code order.
    reservations: dict[uuid.UUID, int] = field(default_factory=dict)
    #: warehouse id -> code, for the warehouses in `reservations`.
    warehouse_codes: dict[uuid.UUID, str] = field(default_factory=dict)

    @property
    def id(self) -> uuid.UUID:
        return self.item.id

    @property
    def reserved(self) -> int:
        return sum(self.reservations.values())

    @property
    def unshipped(self) -> int:
        return self.item.quantity - self.item.shipped_quantity

    @property
    def backordered(self) -> int:
        if not self.tracks or self.item.status != "CONFIRMED":
            return 0
        return self.unshipped - self.reserved

    def key(self, warehouse_id: uuid.UUID) -> StockKey:
        return StockKey(self.item.product_id, warehouse_id, self.item.variant_id)


@dataclass(frozen=True)
class _Sold:
    """What a new or changed line needs of its product or variant."""

    price: Decimal
    tax_rate: Decimal
    taxable: bool
    weight: Decimal
    sku: str
    name: str
    tracks: bool
    backorder: bool
    active: bool


def _header_statement(*, lock: bool) -> Select[Any]:
    """The order with what its detail shows, its lines as JSON (see `_lines_json`), in
    one row. Locking (FOR UPDATE OF orders), the lines come from the statement's
    snapshot: current whenever the order's version is the one expected, since every
    change of lines or reservations moves the order's version on."""
    shipping, billing = _ADDRESSES.alias("shipping"), _ADDRESSES.alias("billing")
    users = {
        role: User.__table__.alias(role) for role in ("creator", "approver", "shipper", "updater")
    }
    statement = (
        select(
            _ORDERS,
            Customer.first_name.label("customer_first_name"),
            Customer.last_name.label("customer_last_name"),
            Customer.company.label("customer_company"),
            Customer.customer_code.label("customer_code"),
            Customer.tax_exempt.label("customer_tax_exempt"),
            *(shipping.c[name].label(f"shipping_{name}") for name in _ADDRESS_FIELDS),
            *(billing.c[name].label(f"billing_{name}") for name in _ADDRESS_FIELDS),
            *(users[role].c.username.label(f"{role}_name") for role in users),
            _lines_json().label("lines"),
        )
        .select_from(_ORDERS)
        .join(Customer, Customer.id == _ORDERS.c.customer_id)
        .join(shipping, shipping.c.id == _ORDERS.c.shipping_address_id)
        .join(billing, billing.c.id == _ORDERS.c.billing_address_id)
        .outerjoin(users["creator"], users["creator"].c.id == _ORDERS.c.created_by)
        .outerjoin(users["approver"], users["approver"].c.id == _ORDERS.c.approved_by)
        .outerjoin(users["shipper"], users["shipper"].c.id == _ORDERS.c.shipped_by)
        .outerjoin(users["updater"], users["updater"].c.id == _ORDERS.c.updated_by)
        .where(_ORDERS.c.id == bindparam("order_id"))
    )
    if not lock:
        return statement
    acting = select(User.username).where(User.id == bindparam("acting_id")).scalar_subquery()
    return statement.add_columns(
        func.now().label("now"),
        acting.label("acting_name"),
        _as_json(
            (
                cast(Product.id, Text),
                Product.sku,
                Product.name,
                Product.is_active,
                cast(Product.price, Text),
                cast(Product.tax_rate, Text),
                Product.taxable,
                cast(Product.weight, Text),
                Product.track_inventory,
                Product.allow_backorder,
            ),
            Product.id,
            "product_ids",
        ).label("catalog_products"),
        _as_json(
            (
                cast(ProductVariant.id, Text),
                ProductVariant.sku,
                ProductVariant.name,
                cast(ProductVariant.product_id, Text),
                ProductVariant.is_active,
                cast(ProductVariant.price, Text),
                cast(ProductVariant.weight, Text),
                ProductVariant.track_inventory,
                ProductVariant.allow_backorder,
            ),
            ProductVariant.id,
            "variant_ids",
        ).label("catalog_variants"),
        _as_json(
            (cast(Warehouse.id, Text), Warehouse.code, Warehouse.is_active),
            Warehouse.id,
            "warehouse_ids",
        ).label("warehouses"),
    ).with_for_update(of=_ORDERS)


def _as_json(columns: tuple[Any, ...], key: Any, ids: str) -> Any:
    """The rows whose `key` is in the array parameter `ids`, as a JSON array of arrays of
    `columns` (numbers and ids as text, so nothing is lost on the way); null for none."""
    return (
        select(func.json_agg(func.json_build_array(*columns)))
        .where(key == any_(bindparam(ids, type_=_IDS)))
        .scalar_subquery()
    )


class _ProductRow(NamedTuple):
    id: uuid.UUID
    sku: str
    name: str
    is_active: bool | None
    price: Decimal
    tax_rate: Decimal
    taxable: bool | None
    weight: Decimal
    track_inventory: bool
    allow_backorder: bool


class _VariantRow(NamedTuple):
    id: uuid.UUID
    sku: str
    name: str
    product_id: uuid.UUID
    is_active: bool
    price: Decimal
    weight: Decimal | None
    track_inventory: bool
    allow_backorder: bool


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _catalog_from(products: Any, variants: Any) -> _Catalog:
    return (
        {
            row.id: row
            for row in (
                _ProductRow(
                    uuid.UUID(p[0]), p[1], p[2], p[3], Decimal(p[4]), Decimal(p[5]), p[6],
                    Decimal(p[7]), p[8], p[9],
                )
                for p in products or ()
            )
        },
        {
            row.id: row
            for row in (
                _VariantRow(
                    uuid.UUID(v[0]), v[1], v[2], uuid.UUID(v[3]), v[4], Decimal(v[5]),
                    _decimal(v[6]), v[7], v[8],
                )
                for v in variants or ()
            )
        },
    )  # fmt: skip


def _header(
    session: Session,
    order_id: uuid.UUID,
    acting: CurrentUser | None = None,
    items: Sequence[tuple[uuid.UUID, uuid.UUID | None]] = (),
    warehouses: Collection[uuid.UUID] | None = None,
) -> _OrderRow | None:
    """The order with what its detail shows; locked FOR UPDATE when `acting` writes,
    together with the catalog rows of `items` and the `warehouses`."""
    if acting is None:
        rows = _db(session).execute(_READ_HEADER, {"order_id": order_id}).mappings().all()
    else:
        parameters = {
            "order_id": order_id,
            "acting_id": acting.id,
            "product_ids": list({product for product, _ in items}),
            "variant_ids": list({variant for _, variant in items if variant is not None}),
            "warehouse_ids": list(warehouses or ()),
        }
        rows = _db(session).execute(_LOCK_HEADER, parameters).mappings().all()
    if not rows:
        return None
    (row,) = rows
    usernames = {
        row[column]: row[f"{role}_name"]
        for role, column in (
            ("creator", "created_by"),
            ("approver", "approved_by"),
            ("shipper", "shipped_by"),
            ("updater", "updated_by"),
        )
        if row[column] is not None and row[f"{role}_name"] is not None
    }
    if acting is not None and row["acting_name"] is not None:
        usernames[acting.id] = row["acting_name"]
    extras = _Extras(
        customer_name=_customer_name(
            row["customer_company"], row["customer_first_name"], row["customer_last_name"]
        ),
        customer_code=row["customer_code"],
        tax_exempt=bool(row["customer_tax_exempt"]),
        shipping_address=_address_from(row, "shipping_"),
        billing_address=_address_from(row, "billing_"),
        usernames=usernames,
        now=row["now"] if acting is not None else None,
    )
    if acting is not None:
        extras.catalog = _catalog_from(row["catalog_products"], row["catalog_variants"])
        if warehouses is not None:
            extras.warehouses = _Warehouses(
                set(warehouses),
                {
                    uuid.UUID(w[0]): _WarehouseRow(uuid.UUID(w[0]), w[1], w[2])
                    for w in row["warehouses"] or ()
                },
            )
    order = _order_row(row, extras)
    order.lines = [_line_from_json(order.id, line) for line in row["lines"] or ()]
    return order


def _address_from(row: Any, prefix: str) -> Address:
    return Address(**{name: row[prefix + name] for name in _ADDRESS_FIELDS})


def _reservations_json() -> Any:
    """A line's reservations as JSON [[warehouse id, code, quantity], ...] in warehouse
    code order (null for none), correlated to order_items."""
    warehouse = Warehouse.__table__.alias("reserved_in")
    return (
        select(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_array(
                        _RESERVATIONS.c.warehouse_id, warehouse.c.code, _RESERVATIONS.c.quantity
                    ),
                    warehouse.c.code,
                )
            )
        )
        .select_from(_RESERVATIONS.join(warehouse, warehouse.c.id == _RESERVATIONS.c.warehouse_id))
        .where(_RESERVATIONS.c.order_item_id == _ITEMS.c.id)
        .scalar_subquery()
    )


#: The order_items columns in the JSON of a line, in order; money as text (exact).
_JSON_ITEM_COLUMNS = (
    "id",
    "product_id",
    "variant_id",
    "quantity",
    "unit_price",
    "total_price",
    "tax_amount",
    "discount_amount",
    "final_price",
    "weight",
    "status",
    "shipped_quantity",
    "returned_quantity",
    "notes",
    "created_at",
    "updated_at",
)
_JSON_DECIMALS = frozenset(
    ("unit_price", "total_price", "tax_amount", "discount_amount", "final_price", "weight")
)


def _lines_json() -> Any:
    """The order's lines in order, each a JSON array: `_JSON_ITEM_COLUMNS`, then its
    product's and variant's SKU, name, tracking, backorders and active flag, then its
    reservations; correlated to orders. One row for the order instead of a row per line
    repeating the order: less for the server to join and for the client to read."""
    variant = _VARIANT
    line = func.json_build_array(
        *(
            cast(_ITEMS.c[name], Text) if name in _JSON_DECIMALS else _ITEMS.c[name]
            for name in _JSON_ITEM_COLUMNS
        ),
        Product.sku,
        Product.name,
        Product.track_inventory,
        Product.allow_backorder,
        Product.is_active,
        variant.sku,
        variant.name,
        variant.track_inventory,
        variant.allow_backorder,
        variant.is_active,
        _reservations_json(),
    )
    return (
        select(func.json_agg(aggregate_order_by(line, _ITEMS.c.created_at, _ITEMS.c.id)))
        .select_from(_ITEMS)
        .join(Product, Product.id == _ITEMS.c.product_id)
        .outerjoin(variant, variant.id == _ITEMS.c.variant_id)
        .where(_ITEMS.c.order_id == _ORDERS.c.id)
        .scalar_subquery()
    )


def _line_from_json(order_id: uuid.UUID, value: Sequence[Any]) -> _Line:
    (
        id_, product_id, variant_id, quantity, unit_price, total_price, tax_amount,
        discount_amount, final_price, weight, status, shipped_quantity, returned_quantity,
        notes, created_at, updated_at,
        p_sku, p_name, p_tracks, p_backorder, p_active,
        v_sku, v_name, v_tracks, v_backorder, v_active,
        reservations,
    ) = value  # fmt: skip
    values = {
        "id": uuid.UUID(id_),
        "order_id": order_id,
        "product_id": uuid.UUID(product_id),
        "variant_id": None if variant_id is None else uuid.UUID(variant_id),
        "quantity": quantity,
        "unit_price": Decimal(unit_price),
        "total_price": None if total_price is None else Decimal(total_price),
        "tax_amount": Decimal(tax_amount),
        "discount_amount": Decimal(discount_amount),
        "final_price": Decimal(final_price),
        "weight": Decimal(weight),
        "status": status,
        "shipped_quantity": shipped_quantity,
        "returned_quantity": returned_quantity,
        "notes": notes,
        "created_at": datetime.fromisoformat(created_at),
        "updated_at": datetime.fromisoformat(updated_at),
    }
    item = _ItemRow(**values, loaded=dict(values))
    if variant_id is None:
        line = _Line(item, p_sku, p_name, p_tracks, p_backorder, p_active)
    else:
        line = _Line(item, v_sku, v_name, v_tracks, v_backorder, p_active and v_active)
    for warehouse_id, code, held in reservations or ():
        warehouse = uuid.UUID(warehouse_id)
        line.reservations[warehouse] = held
        line.warehouse_codes[warehouse] = code
    return line


#: The lines alone (for `list_lines`): order_items' columns, then as `_lines_json`.
_READ_LINES = (
    select(
        _ITEMS,
        Product.sku.label("product_sku"),
        Product.name.label("product_name"),
        Product.track_inventory.label("product_tracks"),
        Product.allow_backorder.label("product_backorder"),
        Product.is_active.label("product_active"),
        _VARIANT.sku.label("variant_sku"),
        _VARIANT.name.label("variant_name"),
        _VARIANT.track_inventory.label("variant_tracks"),
        _VARIANT.allow_backorder.label("variant_backorder"),
        _VARIANT.is_active.label("variant_active"),
        _reservations_json().label("reservations"),
    )
    .select_from(_ITEMS)
    .join(Product, Product.id == _ITEMS.c.product_id)
    .outerjoin(_VARIANT, _VARIANT.id == _ITEMS.c.variant_id)
    .where(_ITEMS.c.order_id == bindparam("order_id"))
    .order_by(_ITEMS.c.created_at, _ITEMS.c.id)
)
# Built once: the same statement objects let SQLAlchemy skip building and keying them.
_READ_HEADER = _header_statement(lock=False)
_LOCK_HEADER = _header_statement(lock=True)


def _lines(session: Session, order_id: uuid.UUID) -> list[_Line]:
    """The order's lines in order, each with its reservations (in warehouse code order)."""
    return [
        _line(row) for row in _db(session).execute(_READ_LINES, {"order_id": order_id}).mappings()
    ]


def _line(row: Any) -> _Line:
    item = _item_row(row)
    if item.variant_id is None:
        line = _Line(
            item,
            row["product_sku"],
            row["product_name"],
            row["product_tracks"],
            row["product_backorder"],
            row["product_active"],
        )
    else:
        line = _Line(
            item,
            row["variant_sku"],
            row["variant_name"],
            row["variant_tracks"],
            row["variant_backorder"],
            row["product_active"] and row["variant_active"],
        )
    for warehouse_id, code, quantity in row["reservations"] or ():
        warehouse = uuid.UUID(warehouse_id)
        line.reservations[warehouse] = quantity
        line.warehouse_codes[warehouse] = code
    return line


def _find_item(lines: Sequence[_Line], line_id: uuid.UUID) -> _ItemRow:
    return _find_line(lines, line_id).item


def _find_line(lines: Sequence[_Line], line_id: uuid.UUID) -> _Line:
    for line in lines:
        if line.id == line_id:
            return line
    raise NotFoundError("That line is not on this order (any more).", field="lines")


_SOLD_PRODUCTS = select(
    Product.id,
    Product.sku,
    Product.name,
    Product.is_active,
    Product.price,
    Product.tax_rate,
    Product.taxable,
    Product.weight,
    Product.track_inventory,
    Product.allow_backorder,
).where(Product.id == any_(bindparam("ids", type_=_IDS)))
_SOLD_VARIANTS = select(
    ProductVariant.id,
    ProductVariant.sku,
    ProductVariant.name,
    ProductVariant.product_id,
    ProductVariant.is_active,
    ProductVariant.price,
    ProductVariant.weight,
    ProductVariant.track_inventory,
    ProductVariant.allow_backorder,
).where(ProductVariant.id == any_(bindparam("ids", type_=_IDS)))

#: Products and variants by id, as `_sold` needs them.
_Catalog = tuple[dict[uuid.UUID, Any], dict[uuid.UUID, Any]]


def _catalog(session: Session, items: Sequence[tuple[uuid.UUID, uuid.UUID | None]]) -> _Catalog:
    """What lines of these (product, variant) pairs need to know, in one or two statements."""
    products = {
        row.id: row
        for row in _db(session).execute(_SOLD_PRODUCTS, {"ids": list({p for p, _ in items})})
    }
    variant_ids = list({v for _, v in items if v is not None})
    variants = (
        {row.id: row for row in _db(session).execute(_SOLD_VARIANTS, {"ids": variant_ids})}
        if variant_ids
        else {}
    )
    return products, variants


def _sold_item(
    session: Session, product_id: uuid.UUID, variant_id: uuid.UUID | None, *, changing: bool = False
) -> _Sold:
    catalog = _catalog(session, [(product_id, variant_id)])
    return _sold(catalog, product_id, variant_id, changing=changing)


def _sold(
    catalog: _Catalog,
    product_id: uuid.UUID,
    variant_id: uuid.UUID | None,
    *,
    changing: bool = False,
) -> _Sold:
    products, variants = catalog
    product = products.get(product_id)
    if product is None:
        raise NotFoundError("That product does not exist.", field="product")
    if not product.is_active and not changing:
        raise ValidationError(
            f"{product.sku} is no longer sold (inactive): it cannot be ordered.", field="product"
        )
    if variant_id is None:
        return _Sold(
            price=product.price,
            tax_rate=product.tax_rate,
            taxable=product.taxable,
            weight=product.weight,
            sku=product.sku,
            name=product.name,
            tracks=product.track_inventory,
            backorder=product.allow_backorder,
            active=product.is_active,
        )
    variant = variants.get(variant_id)
    if variant is None or variant.product_id != product_id:
        raise NotFoundError(f"That variant is not one of {product.sku}.", field="variant")
    if not variant.is_active and not changing:
        raise ValidationError(
            f"Variant {variant.sku} of {product.sku} is no longer sold (inactive).",
            field="variant",
        )
    return _Sold(
        price=variant.price,
        tax_rate=product.tax_rate,
        taxable=product.taxable,
        weight=variant.weight or product.weight,
        sku=variant.sku,
        name=variant.name,
        tracks=variant.track_inventory,
        backorder=variant.allow_backorder,
        active=product.is_active and variant.is_active,
    )


def _checked_new_line(line: NewLine) -> NewLine:
    """The line with its quantity, price and discount checked by the rules."""
    return replace(
        line,
        quantity=rules.check_quantity(line.quantity),
        unit_price=None if line.unit_price is None else rules.check_unit_price(line.unit_price),
        discount=rules.check_discount(line.discount),
    )


@contextmanager
def _numbered(number: int | None) -> Iterator[None]:
    """Start the message of a refusal about one of several lines with its number."""
    try:
        yield
    except (ValidationError, NotFoundError) as exc:
        if number is None:
            raise
        raise type(exc)(f"Line {number}: {exc.message}", field=exc.field) from exc


def _new_line(order: _OrderRow, line_id: uuid.UUID, new: NewLine, sold: _Sold) -> _Line:
    """A line to insert, its amounts worked out from the product and the customer now."""
    price = new.unit_price or sold.price
    amounts = _line_amounts(order, sold, new.quantity, price, new.discount)
    item = _ItemRow(
        # Made here rather than by the database, so the inserted rows need no matching up.
        id=line_id,
        order_id=order.id,
        product_id=new.product_id,
        variant_id=new.variant_id,
        quantity=new.quantity,
        unit_price=price,
        total_price=None,
        tax_amount=amounts.tax,
        discount_amount=amounts.discount,
        final_price=amounts.final,
        weight=_weight(sold.weight, new.quantity),
        status="PENDING",
        shipped_quantity=0,
        returned_quantity=0,
        notes=_text(new.notes),
        created_at=order.now,
        updated_at=order.now,
    )
    return _Line(item, sold.sku, sold.name, sold.tracks, sold.backorder, sold.active)


def _line_amounts(
    order: _OrderRow,
    sold: _Sold,
    quantity: int,
    unit_price: Decimal,
    discount: Decimal,
) -> LineAmounts:
    return rules.line_amounts(
        quantity,
        unit_price,
        discount,
        tax_rate=sold.tax_rate,
        taxable=sold.taxable,
        tax_exempt=order.extras.tax_exempt,
    )


def _weight(unit_weight: Decimal, quantity: int) -> Decimal:
    weight = unit_weight * quantity
    if weight > rules.MAX_WEIGHT:
        raise ValidationError(
            f"The line would weigh {weight:,} kg, more than a line can hold.", field="quantity"
        )
    return weight


# --- Totals ------------------------------------------------------------------------------


def _stored_amounts(item: _ItemRow) -> LineAmounts:
    total = item.quantity * item.unit_price
    return LineAmounts(
        total=total,
        discount=item.discount_amount,
        tax=item.tax_amount,
        final=total + item.tax_amount - item.discount_amount,
    )


def _order_discount(order: _OrderRow, lines: Sequence[_Line]) -> Decimal:
    """The order's own discount: its discount beyond the lines' (kept in one column)."""
    return order.discount_amount - sum((line.item.discount_amount for line in lines), ZERO)


def _recompute(order: _OrderRow, lines: Sequence[_Line], order_discount: Decimal) -> None:
    """Totals from the lines; an approval lapses when the total changes."""
    amounts = rules.order_amounts(
        [_stored_amounts(line.item) for line in lines], order.shipping_method, order_discount
    )
    paid = order.paid_amount or ZERO
    if amounts.total < paid:
        raise ValidationError(
            f"The order's total would be {amounts.total:,}, less than the {paid:,} paid already.",
            field="total_amount",
        )
    if order.approved_by is not None and amounts.total != order.total_amount:
        order.approved_by = None
        order.approved_at = None
    order.subtotal = amounts.subtotal
    order.discount_amount = amounts.discount
    order.tax_amount = amounts.tax
    order.shipping_amount = amounts.shipping
    order.total_amount = amounts.total
    order.payment_status = rules.payment_status(amounts.total, paid, order.refunded_amount or ZERO)


# --- Stock -------------------------------------------------------------------------------


def _check_allocations(allocations: Allocations | None) -> dict[uuid.UUID, dict[uuid.UUID, int]]:
    """Allocations as line -> warehouse -> quantity, each quantity a line quantity."""
    wanted: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
    for line_id, pairs in (allocations or {}).items():
        per_warehouse: dict[uuid.UUID, int] = defaultdict(int)
        for warehouse_id, quantity in pairs:
            per_warehouse[warehouse_id] += rules.check_quantity(quantity, "allocations")
        wanted[line_id] = dict(per_warehouse)
    return wanted


def _named_warehouses(
    warehouse_id: uuid.UUID | None, wanted: Mapping[uuid.UUID, Mapping[uuid.UUID, int]]
) -> set[uuid.UUID]:
    """The warehouses a reservation may use: read with the order (see `_lock`)."""
    named = {w for per in wanted.values() for w in per}
    return named | {warehouse_id} if warehouse_id is not None else named


def _plan(
    session: Session,
    lines: Sequence[_Line],
    warehouse_id: uuid.UUID | None,
    wanted: Mapping[uuid.UUID, Mapping[uuid.UUID, int]],
    outstanding: Callable[[_Line], int],
    exact: bool,
    read: _Warehouses | None = None,
) -> dict[uuid.UUID, dict[uuid.UUID, int]]:
    """Per line that tracks stock, warehouse -> quantity to reserve."""
    known = {line.id for line in lines}
    if set(wanted) - known:
        raise NotFoundError(
            "An allocation names a line that is not on this order.", field="allocations"
        )
    plan: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
    for line in lines:
        need = outstanding(line)
        if line.id in wanted:
            if not line.tracks:
                raise ValidationError(
                    f"{line.sku} does not track stock: it needs no warehouse.", field="allocations"
                )
            given = sum(wanted[line.id].values())
            if given > need or (exact and given != need):
                raise ValidationError(
                    f"The warehouses for {line.sku} add up to {given:,}, but "
                    + ("" if exact else "at most ")
                    + f"{need:,} are to be reserved.",
                    field="allocations",
                )
            plan[line.id] = dict(wanted[line.id])
        elif line.tracks and need > 0:
            if warehouse_id is None:
                raise ValidationError(
                    f"Choose the warehouse to reserve {line.sku} from.", field="warehouse_id"
                )
            plan[line.id] = {warehouse_id: need}
    _check_warehouses(session, {w for per in plan.values() for w in per}, read)
    return plan


class _WarehouseRow(NamedTuple):
    id: uuid.UUID
    code: str
    is_active: bool | None


class _Warehouses(NamedTuple):
    """Warehouses read beforehand: those `asked` for, and those of them `found`."""

    asked: set[uuid.UUID]
    found: dict[uuid.UUID, _WarehouseRow]


_WAREHOUSES = select(Warehouse.id, Warehouse.code, Warehouse.is_active).where(
    Warehouse.id == any_(bindparam("ids", type_=_IDS))
)


def _check_warehouses(
    session: Session, warehouse_ids: set[uuid.UUID], known: _Warehouses | None = None
) -> None:
    if not warehouse_ids:
        return
    if known is not None and warehouse_ids <= known.asked:
        found = known.found
    else:
        found = {
            row.id: _WarehouseRow(row.id, row.code, row.is_active)
            for row in _db(session).execute(_WAREHOUSES, {"ids": list(warehouse_ids)})
        }
    for warehouse_id in warehouse_ids:
        row = found.get(warehouse_id)
        if row is None:
            raise NotFoundError("That warehouse does not exist.", field="warehouse_id")
        if not row.is_active:
            raise ValidationError(
                f"Warehouse {row.code} is closed (inactive): choose another.",
                field="warehouse_id",
            )


def _add_reservations_statement() -> Any:
    wanted = (
        func.unnest(
            bindparam("items", type_=ARRAY(PG_UUID(as_uuid=True))),
            bindparam("warehouses", type_=ARRAY(PG_UUID(as_uuid=True))),
            bindparam("quantities", type_=ARRAY(Integer)),
        )
        .table_valued("order_item_id", "warehouse_id", "quantity")
        .render_derived(name="wanted")
    )
    statement = pg_insert(_RESERVATIONS).from_select(
        ["order_item_id", "warehouse_id", "quantity"],
        select(wanted.c.order_item_id, wanted.c.warehouse_id, wanted.c.quantity),
    )
    return statement.on_conflict_do_update(
        index_elements=["order_item_id", "warehouse_id"],
        set_={"quantity": _RESERVATIONS.c.quantity + statement.excluded.quantity},
    )


#: Adds to the reservations of several lines in one statement.
_ADD_RESERVATIONS = _add_reservations_statement()


def _reserve(
    session: Session,
    ledger: StockLedger,
    order: _OrderRow,
    lines: Sequence[_Line],
    plan: Mapping[uuid.UUID, Mapping[uuid.UUID, int]],
    *,
    all_or_nothing: bool,
) -> int:
    """Reserve the plan and record where; returns how much was reserved.

    A stock level short for a product that allows no backorders refuses the whole plan
    (with every shortage named) before anything is reserved.
    """
    planned = [(line, w, q) for line in lines for w, q in plan.get(line.id, {}).items()]
    levels = ledger.lock([line.key(w) for line, w, _ in planned])
    demand: dict[StockKey, int] = defaultdict(int)
    names: dict[StockKey, _Line] = {}
    for line, w, q in planned:
        demand[line.key(w)] += q
        names[line.key(w)] = line
    shortages = [
        f"{level.sku} ({names[key].name}) in {level.warehouse_code}: {level.sellable:,} "
        f"sellable, {demand[key]:,} asked"
        for key, level in levels.items()
        if demand[key] > level.sellable and not names[key].backorder
    ]
    if shortages and all_or_nothing:
        raise StockShortageError(
            f"Not enough stock to confirm order {order.order_number}, so nothing was "
            "reserved: " + "; ".join(sorted(shortages)) + ".",
            field="quantity",
        )
    sellable = {key: level.sellable for key, level in levels.items()}
    taken: list[tuple[_Line, uuid.UUID, int]] = []
    for line, w, q in planned:
        take = min(q, sellable[line.key(w)])
        if take > 0:
            sellable[line.key(w)] -= take
            taken.append((line, w, take))
    if not taken:
        return 0
    ledger.reserve_many([(line.key(w), take) for line, w, take in taken])
    _db(session).execute(
        _ADD_RESERVATIONS,
        {
            "items": [line.id for line, _, _ in taken],
            "warehouses": [w for _, w, _ in taken],
            "quantities": [take for _, _, take in taken],
        },
    )
    for line, w, take in taken:
        line.reservations[w] = line.reservations.get(w, 0) + take
        line.warehouse_codes[w] = levels[line.key(w)].warehouse_code
    return sum(take for _, _, take in taken)


def _reservation_options(session: Session, lines: Sequence[_Line]) -> ReservationOptions:
    """`domain.inventory.reservation_options` over the stock rows of the lines' items in
    every active warehouse (a warehouse without a row has none)."""
    needs = tuple(
        LineNeed(
            line.id,
            (line.item.product_id, line.item.variant_id),
            line.sku,
            line.name,
            line.item.quantity - line.item.shipped_quantity - line.reserved,
            line.backorder,
        )
        for line in lines
        if line.tracks and line.item.quantity - line.item.shipped_quantity - line.reserved > 0
    )
    db = _db(session)
    warehouses = tuple(
        WarehouseRef(row.id, row.code, row.name)
        for row in db.execute(
            select(Warehouse.id, Warehouse.code, Warehouse.name)
            .where(Warehouse.is_active.is_(True))
            .order_by(Warehouse.code)
        )
    )
    sellable: dict[StockItem, dict[uuid.UUID, int]] = defaultdict(dict)
    products = list({n.item[0] for n in needs if n.item[1] is None})
    variants = list({n.item[1] for n in needs if n.item[1] is not None})
    if products:
        pi = ProductInventory
        for row in db.execute(
            select(pi.product_id, pi.warehouse_id, pi.quantity_available - pi.quantity_reserved)
            .where(pi.product_id == any_(bindparam("ids", type_=_IDS)))
            .params(ids=products)
        ):
            sellable[(row[0], None)][row[1]] = int(row[2])
    if variants:
        vi = VariantInventory
        for variant_row in db.execute(
            select(
                ProductVariant.product_id,
                vi.variant_id,
                vi.warehouse_id,
                vi.quantity_available - vi.quantity_reserved,
            )
            .join(ProductVariant, ProductVariant.id == vi.variant_id)
            .where(vi.variant_id == any_(bindparam("ids", type_=_IDS)))
            .params(ids=variants)
        ):
            product_id, variant_id, warehouse_id, left = variant_row
            sellable[(product_id, variant_id)][warehouse_id] = int(left)
    return reservation_options(warehouses, needs, dict(sellable))


def _ship_stock(
    session: Session,
    acting: CurrentUser,
    order: _OrderRow,
    lines: Sequence[_Line],
    shipping: Mapping[uuid.UUID, int],
) -> None:
    """Reserved stock out: release and an OUT ledger row per warehouse, taking from the
    line's reservations in warehouse code order."""
    moves: list[tuple[_Line, uuid.UUID, int]] = []
    for line in lines:
        left = shipping.get(line.id, 0)
        if not line.tracks:
            continue
        for warehouse_id, held in line.reservations.items():
            if left == 0:
                break
            take = min(left, held)
            moves.append((line, warehouse_id, take))
            left -= take
    if not moves:
        return
    ledger = StockLedger(session, acting.id)
    ledger.lock([line.key(w) for line, w, _ in moves])
    reason = f"Shipment of order {order.order_number}"
    for line, warehouse_id, quantity in moves:
        key = line.key(warehouse_id)
        ledger.release(key, quantity)
        ledger.move(key, -quantity, "OUT", reference_id=order.id, reason=reason)
        remaining = line.reservations[warehouse_id] - quantity
        where = (_RESERVATIONS.c.order_item_id == line.id) & (
            _RESERVATIONS.c.warehouse_id == warehouse_id
        )
        if remaining:
            _db(session).execute(update(_RESERVATIONS).where(where).values(quantity=remaining))
            line.reservations[warehouse_id] = remaining
        else:
            _db(session).execute(delete(_RESERVATIONS).where(where))
            del line.reservations[warehouse_id]


def _add_to_balance(
    session: Session, acting: CurrentUser, customer_id: uuid.UUID, amount: Decimal
) -> None:
    """Move the customer's balance (a changed record: its version moves on too)."""
    if amount == ZERO:
        return
    _db(session).execute(
        _ADD_TO_BALANCE, {"customer_id": customer_id, "amount": amount, "acting_id": acting.id}
    )


_CREDIT_COLUMNS = (
    _CUSTOMERS.c.first_name,
    _CUSTOMERS.c.last_name,
    _CUSTOMERS.c.company,
    _CUSTOMERS.c.credit_limit,
    _CUSTOMERS.c.balance,
)
_ADD_TO_BALANCE = (
    update(_CUSTOMERS)
    .where(_CUSTOMERS.c.id == bindparam("customer_id"))
    .values(
        balance=func.coalesce(_CUSTOMERS.c.balance, 0) + bindparam("amount", type_=Numeric(12, 2)),
        version=_CUSTOMERS.c.version + 1,
        updated_by=bindparam("acting_id"),
    )
    .returning(*_CREDIT_COLUMNS)
)
_NOTE_OVERRIDE = (
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("order_id"))
    .values(internal_notes=bindparam("note_text", type_=_ORDERS.c.internal_notes.type))
)
_CUSTOMER_CREDIT = (
    select(*_CREDIT_COLUMNS).where(_CUSTOMERS.c.id == bindparam("customer_id")).with_for_update()
)


# --- The order row -----------------------------------------------------------------------


def _db(session: Session) -> Connection:
    """The session's connection: the statements here are Core, run without the ORM."""
    connection: Connection | None = session.info.get("erpgo_connection")
    if connection is None:
        connection = session.info["erpgo_connection"] = session.connection()
    return connection


def _lock(
    session: Session,
    acting: CurrentUser,
    order_id: uuid.UUID,
    expected_version: int,
    *,
    items: Sequence[tuple[uuid.UUID, uuid.UUID | None]] = (),
    warehouses: Collection[uuid.UUID] | None = None,
) -> _OrderRow:
    """The order, locked for this transaction, if it is still at `expected_version`.

    Read in the same statement: the catalog rows of the (product, variant) `items` in
    `order.extras.catalog`, and the `warehouses` in `order.extras.warehouses`, for a write
    that needs them (one statement fewer)."""
    order = _header(session, order_id, acting, items, warehouses)
    if order is None:
        raise NotFoundError("That order does not exist.")
    if order.version != expected_version:
        # Read again: after waiting for the lock, the lines read with it may be older
        # than the order's row.
        current = _build_detail(order, _lines(session, order_id))
        by = f"by {current.updated_by_name}" if current.updated_by_name else "by someone else"
        raise ConflictError(
            f"Order {current.order_number} was changed {by} on "
            f"{current.updated_at.astimezone():%Y-%m-%d at %H:%M:%S} after you opened it, so "
            "your change was not made. Look at the order as it is now and try again.",
            current=current,
        )
    return order


def _is_confirmed(order: _OrderRow) -> bool:
    return rules.is_confirmed(order.status, order.previous_status)


def _require_editable(order: _OrderRow, what: str) -> None:
    if order.status not in rules.EDITABLE:
        raise ValidationError(
            f"{what} can be changed only while the order is a draft or pending; order "
            f"{order.order_number} is {in_sentence(order.status)}.",
            field="status",
        )


def _saved(
    session: Session,
    order: _OrderRow,
    acting: CurrentUser,
    lines: Sequence[_Line] | None = None,
    *,
    removed: Sequence[_Line] = (),
) -> _Detail:
    """Write what changed of the order (its version always moves on) and of its lines.

    Returns what makes the detail as the database now holds it, to be called once the
    transaction has ended: locks are held no longer than the writes need. `lines` None:
    the lines did not change (they are read for the detail)."""
    changes = order.changes()
    changes.pop("updated_by", None)
    changes.pop("version", None)
    row = (
        _db(session)
        .execute(
            _order_update(tuple(sorted(changes))),
            {
                "order_id": order.id,
                "expected_version": order.loaded["version"],
                "new_updated_by": acting.id,
                **{f"new_{name}": value for name, value in changes.items()},
            },
        )
        .mappings()
        .one_or_none()
    )
    if row is None:  # cannot happen while the row is locked; the version says so all the same
        raise StaleDataError("the order changed although it was locked")
    for name, value in row.items():
        setattr(order, name, value)
    order.loaded = {name: getattr(order, name) for name in _ORDER_COLUMNS}
    if acting.id not in order.extras.usernames:
        order.extras.usernames[acting.id] = acting.username
    if lines is None:
        lines = order.lines
    else:
        _write_lines(session, lines, removed)
    gone = {line.id for line in removed}
    kept = [line for line in lines if line.id not in gone]
    return lambda: _build_detail(order, kept)


@functools.lru_cache(maxsize=64)
def _order_update(columns: tuple[str, ...]) -> Any:
    """UPDATE of the order's changed `columns`, checked against the version it was read at,
    returning them as stored and what triggers set (updated_at, previous_status)."""
    values: dict[str, Any] = {
        name: bindparam(f"new_{name}", type_=_ORDERS.c[name].type) for name in columns
    }
    values |= {
        "updated_by": bindparam("new_updated_by", type_=_ORDERS.c.updated_by.type),
        "updated_at": func.now(),
        "version": _ORDERS.c.version + 1,
    }
    return (
        update(_ORDERS)
        .where(
            _ORDERS.c.id == bindparam("order_id"),
            _ORDERS.c.version == bindparam("expected_version"),
        )
        .values(values)
        .returning(
            *(
                _ORDERS.c[name]
                for name in ("updated_at", "previous_status", "version", "updated_by", *columns)
            )
        )
    )


_INSERTED_COLUMNS = ("id", "order_id", *_ITEM_WRITABLE)


def _insert_items_statement() -> Any:
    """INSERT of several lines given as one array per column (one statement, whatever
    their number), returning the rows as stored."""
    given = (
        func.unnest(
            *(
                bindparam(f"new_{name}", type_=ARRAY(_ITEMS.c[name].type))
                for name in _INSERTED_COLUMNS
            )
        )
        .table_valued(*_INSERTED_COLUMNS)
        .render_derived(name="given")
    )
    return (
        insert(_ITEMS).from_select(list(_INSERTED_COLUMNS), select(*given.c)).returning(*_ITEMS.c)
    )


_INSERT_ITEMS = _insert_items_statement()
_DELETE_ITEMS = delete(_ITEMS).where(
    _ITEMS.c.id == any_(bindparam("ids", type_=ARRAY(PG_UUID(as_uuid=True))))
)


@functools.lru_cache(maxsize=64)
def _items_update(columns: tuple[str, ...]) -> Any:
    """UPDATE of the same new values of `columns` on several lines, returning them as
    stored and what the database works out (updated_at by trigger, the computed prices)."""
    return (
        update(_ITEMS)
        .where(_ITEMS.c.id == any_(bindparam("ids", type_=ARRAY(PG_UUID(as_uuid=True)))))
        .values({name: bindparam(f"new_{name}", type_=_ITEMS.c[name].type) for name in columns})
        .returning(
            *(
                _ITEMS.c[name]
                for name in ("id", "updated_at", "total_price", "final_price", *columns)
            )
        )
    )


def _write_lines(session: Session, lines: Sequence[_Line], removed: Sequence[_Line]) -> None:
    """Insert the new lines, update the changed ones (one statement per set of equal
    changes) and delete the removed ones, refreshing the rows from what is stored."""
    by_id = {line.id: line.item for line in lines}
    returned: list[Any] = []
    new = [line.item for line in lines if line.item.loaded is None]
    if new:
        returned += (
            _db(session)
            .execute(
                _INSERT_ITEMS,
                {
                    f"new_{name}": [getattr(item, name) for item in new]
                    for name in _INSERTED_COLUMNS
                },
            )
            .mappings()
            .all()
        )
    changed: dict[tuple[tuple[str, Any], ...], list[uuid.UUID]] = defaultdict(list)
    for line in lines:
        if line.item.loaded is not None and line not in removed:
            changes = line.item.changes()
            if changes:
                changed[tuple(sorted(changes.items()))].append(line.id)
    for changes_, ids in changed.items():
        returned += (
            _db(session)
            .execute(
                _items_update(tuple(name for name, _ in changes_)),
                {"ids": ids, **{f"new_{name}": value for name, value in changes_}},
            )
            .mappings()
            .all()
        )
    if removed:
        _db(session).execute(_DELETE_ITEMS, {"ids": [line.id for line in removed]})
    for row in returned:
        item = by_id[row["id"]]
        for name, value in row.items():
            setattr(item, name, value)
        item.loaded = {name: getattr(item, name) for name in _ITEM_COLUMNS}


def _billing(header: OrderHeader) -> Address:
    return header.billing_address or header.shipping_address


def _address_values(address: Address) -> dict[str, Any]:
    return {name: getattr(address, name) for name in _ADDRESS_FIELDS}


_DRAFT_CUSTOMER = select(Customer.status, Customer.first_name, Customer.last_name).where(
    Customer.id == bindparam("customer_id")
)


def _refuse_customer(session: Session, customer_id: uuid.UUID) -> NoReturn:
    """Why no order can be taken for the customer."""
    customer = _db(session).execute(_DRAFT_CUSTOMER, {"customer_id": customer_id}).one_or_none()
    if customer is None:
        raise NotFoundError("That customer does not exist.", field="customer")
    raise ValidationError(
        f"{customer.first_name} {customer.last_name} is "
        f"{customer.status.lower()}: no new orders can be taken for them.",
        field="customer",
    )


_DRAFT_COLUMNS = (
    "customer_id",
    "status",
    "priority",
    "shipping_method",
    "currency",
    "required_date",
    "notes",
    "customer_notes",
    "internal_notes",
    "created_by",
    "updated_by",
    "subtotal",
    "discount_amount",
    "tax_amount",
    "shipping_amount",
    "total_amount",
    "payment_status",
)


def _draft_statement() -> Any:
    """The draft in one statement, for an active customer only (else nothing): its two
    addresses and the order inserted, the order returned as stored with what its detail
    shows of the customer and the acting user."""

    def address(kind: str) -> Any:
        return (
            insert(_ADDRESSES)
            .values(
                type=literal_column(f"'{kind}'"),
                **{
                    name: bindparam(f"{kind}_{name}", type_=_ADDRESSES.c[name].type)
                    for name in _ADDRESS_FIELDS
                },
            )
            .returning(_ADDRESSES.c.id)
            .cte(f"{kind}_address")
        )

    shipping, billing = address("shipping"), address("billing")
    customer_id = bindparam("new_customer_id", type_=_ORDERS.c.customer_id.type)
    source = select(
        func.next_order_number(),
        *(bindparam(f"new_{name}", type_=_ORDERS.c[name].type) for name in _DRAFT_COLUMNS),
        shipping.c.id,
        billing.c.id,
    ).select_from(
        shipping.join(billing, true()).join(
            _CUSTOMERS, (_CUSTOMERS.c.id == customer_id) & (_CUSTOMERS.c.status == "ACTIVE")
        )
    )
    order = (
        insert(_ORDERS)
        .from_select(
            ["order_number", *_DRAFT_COLUMNS, "shipping_address_id", "billing_address_id"],
            source,
        )
        .returning(*_ORDERS.c)
        .cte("new_order")
    )
    acting = select(User.username).where(User.id == bindparam("acting_id")).scalar_subquery()
    return select(
        order,
        _CUSTOMERS.c.first_name.label("customer_first_name"),
        _CUSTOMERS.c.last_name.label("customer_last_name"),
        _CUSTOMERS.c.company.label("customer_company"),
        _CUSTOMERS.c.customer_code.label("customer_code"),
        _CUSTOMERS.c.tax_exempt.label("customer_tax_exempt"),
        acting.label("acting_name"),
    ).select_from(order.join(_CUSTOMERS, _CUSTOMERS.c.id == order.c.customer_id))


_INSERT_DRAFT = _draft_statement()
_UPDATE_ADDRESS = (
    update(_ADDRESSES)
    .where(_ADDRESSES.c.id == bindparam("address_id"))
    .values(
        {name: bindparam(f"new_{name}", type_=_ADDRESSES.c[name].type) for name in _ADDRESS_FIELDS}
    )
)


def _update_address(session: Session, address_id: uuid.UUID, address: Address) -> None:
    _db(session).execute(
        _UPDATE_ADDRESS,
        {"address_id": address_id}
        | {f"new_{name}": value for name, value in _address_values(address).items()},
    )


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _customer_name(company: str | None, first: str, last: str) -> str:
    return company or f"{first} {last}".strip()


def _username(session: Session, order: _OrderRow, user_id: uuid.UUID) -> str:
    known = order.extras.usernames.get(user_id)
    if known is not None:
        return known
    return _db(session).scalar(select(User.username).where(User.id == user_id)) or "someone"


# --- Reading -----------------------------------------------------------------------------


def _detail(session: Session, order_id: uuid.UUID) -> OrderDetail:
    order = _header(session, order_id)
    if order is None:
        raise NotFoundError("That order does not exist.")
    return _build_detail(order, order.lines)


def _build_detail(order: _OrderRow, lines: Sequence[_Line]) -> OrderDetail:
    """The detail of the order and its lines as they are now (written or read)."""
    extras = order.extras
    rows = tuple(
        _line_row(line)
        for line in sorted(lines, key=lambda line: (line.item.created_at, line.item.id))
    )
    line_discounts = sum((row.discount_amount for row in rows), ZERO)

    def name(user_id: uuid.UUID | None) -> str | None:
        return None if user_id is None else extras.usernames.get(user_id)

    return OrderDetail(
        id=order.id,
        order_number=order.order_number,
        customer_id=order.customer_id,
        customer_name=extras.customer_name,
        customer_code=extras.customer_code,
        status=order.status,
        previous_status=order.previous_status,
        priority=order.priority,
        payment_status=order.payment_status,
        shipping_method=order.shipping_method,
        currency=order.currency,
        subtotal=order.subtotal,
        tax_amount=order.tax_amount,
        shipping_amount=order.shipping_amount,
        discount_amount=order.discount_amount,
        order_discount=order.discount_amount - line_discounts,
        total_amount=order.total_amount,
        paid_amount=order.paid_amount,
        refunded_amount=order.refunded_amount,
        order_date=order.order_date,
        required_date=order.required_date,
        shipping_date=order.shipping_date,
        delivery_date=order.delivery_date,
        cancelled_date=order.cancelled_date,
        shipping_address=extras.shipping_address,
        billing_address=extras.billing_address,
        notes=order.notes,
        customer_notes=order.customer_notes,
        internal_notes=order.internal_notes,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        created_by=order.created_by,
        created_by_name=name(order.created_by),
        approved_by=order.approved_by,
        approved_by_name=name(order.approved_by),
        approved_at=order.approved_at,
        shipped_by=order.shipped_by,
        shipped_by_name=name(order.shipped_by),
        shipped_at=order.shipped_at,
        updated_at=order.updated_at,
        updated_by=order.updated_by,
        updated_by_name=name(order.updated_by),
        version=order.version,
        lines=rows,
    )


def _line_row(line: _Line) -> OrderLineRow:
    item = line.item
    assert item.total_price is not None
    held = sorted((line.warehouse_codes[w], w, q) for w, q in line.reservations.items() if q > 0)
    return OrderLineRow(
        id=item.id,
        product_id=item.product_id,
        variant_id=item.variant_id,
        sku=line.sku,
        name=line.name,
        quantity=item.quantity,
        unit_price=item.unit_price,
        total_price=item.total_price,
        discount_amount=item.discount_amount,
        tax_amount=item.tax_amount,
        final_price=item.final_price,
        weight=item.weight,
        status=item.status,
        shipped_quantity=item.shipped_quantity,
        returned_quantity=item.returned_quantity,
        tracks_inventory=line.tracks,
        allows_backorder=line.backorder,
        reservations=tuple(ReservationRow(w, code, q) for code, w, q in held),
        notes=item.notes,
    )
