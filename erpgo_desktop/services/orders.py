"""Sales orders, from draft to delivery, return and refund.

Each public method is one user action in its own transaction (`Service._write`): it checks
the permission first, validates its input with the pure rules of `domain.orders`, locks
the order row (SELECT ... FOR UPDATE) and compares the version the person opened, so a
change made meanwhile on another workstation is reported with who made it and when
instead of being overwritten. It returns the order as it is after the change.

Locks are always taken in one order: the order, then its customer, then stock rows (all
in one `StockLedger.lock` call), so two workstations queue up instead of deadlocking.

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

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Table, delete, func, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, aliased

from erpgo_desktop.db.models import (
    Customer,
    Order,
    OrderAddress,
    OrderItem,
    OrderStatusHistory,
    Product,
    ProductVariant,
    StockReservation,
    User,
    Warehouse,
)
from erpgo_desktop.domain import orders as rules
from erpgo_desktop.domain import permissions as perms
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
from erpgo_desktop.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.base import Service, require
from erpgo_desktop.services.listing import DEFAULT_COUNT_CAP, ListCount, capped, check_page_size
from erpgo_desktop.services.order_list import (
    OrderListCursor,
    OrderListPage,
    OrderQuery,
    order_count_statement,
    order_cursor,
    order_page_statement,
)
from erpgo_desktop.services.stock import StockKey, StockLedger

__all__ = [
    "Address",
    "Allocations",
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
MAX_PAGE_SIZE = 1_000
#: Per line id, the warehouses to reserve it from and how many in each.
Allocations = Mapping[uuid.UUID, Sequence[tuple[uuid.UUID, int]]]

_CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
_RESERVATIONS: Table = StockReservation.__table__  # type: ignore[assignment]
# Made once: building aliases is costly, and the same ones let SQLAlchemy cache the SQL.
_VARIANT = aliased(ProductVariant, name="variant")
_SHIPPING_ADDRESS = aliased(OrderAddress, name="shipping_address")
_BILLING_ADDRESS = aliased(OrderAddress, name="billing_address")
_CREATOR = aliased(User, name="creator")
_APPROVER = aliased(User, name="approver")
_SHIPPER = aliased(User, name="shipper")
_UPDATER = aliased(User, name="updater")


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

        def work(session: Session) -> OrderDetail:
            customer = session.execute(
                select(Customer.status, Customer.first_name, Customer.last_name).where(
                    Customer.id == customer_id
                )
            ).one_or_none()
            if customer is None:
                raise NotFoundError("That customer does not exist.", field="customer")
            if customer.status != "ACTIVE":
                raise ValidationError(
                    f"{customer.first_name} {customer.last_name} is "
                    f"{customer.status.lower()}: no new orders can be taken for them.",
                    field="customer",
                )
            shipping_id = _insert_address(session, "shipping", clean.shipping_address)
            billing_id = _insert_address(session, "billing", _billing(clean))
            # The counter row stays locked until this transaction ends, so numbers are
            # issued one after the other and never twice.
            number = session.scalar(select(func.next_order_number()))
            assert number is not None
            order = Order(
                order_number=number,
                customer_id=customer_id,
                status=DRAFT,
                priority=clean.priority,
                shipping_method=clean.shipping_method,
                currency=currency,
                required_date=clean.required_date,
                shipping_address_id=shipping_id,
                billing_address_id=billing_id,
                notes=clean.notes,
                customer_notes=clean.customer_notes,
                internal_notes=clean.internal_notes,
                created_by=acting.id,
                updated_by=acting.id,
            )
            session.add(order)
            _recompute(order, [], ZERO)
            session.flush()
            return _detail(session, order.id)

        return self._write(work)

    def update_order(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int, header: OrderHeader
    ) -> OrderDetail:
        """Save the header (addresses, shipping method, the order's own discount, notes)
        of a DRAFT or PENDING order; totals follow."""
        require(acting, perms.ORDERS_CREATE)
        clean = rules.check_header(header)

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            _require_editable(order, "Its details")
            _update_address(session, order.shipping_address_id, clean.shipping_address)
            _update_address(session, order.billing_address_id, _billing(clean))
            order.shipping_method = clean.shipping_method
            order.priority = clean.priority
            order.required_date = clean.required_date
            order.notes = clean.notes
            order.customer_notes = clean.customer_notes
            order.internal_notes = clean.internal_notes
            _recompute(order, _items(session, order.id), clean.order_discount)
            return _saved(session, order, acting)

        return self._write(work)

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
        quantity = rules.check_quantity(quantity)
        price = None if unit_price is None else rules.check_unit_price(unit_price)
        line_discount = rules.check_discount(discount)

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            _require_editable(order, "Lines")
            items = _items(session, order.id)
            order_discount = _order_discount(order, items)
            sold = _sold_item(session, product_id, variant_id)
            amounts = _line_amounts(
                session, order, sold, quantity, price or sold.price, line_discount
            )
            item = OrderItem(
                order_id=order.id,
                product_id=product_id,
                variant_id=variant_id,
                quantity=quantity,
                unit_price=price or sold.price,
                tax_amount=amounts.tax,
                discount_amount=amounts.discount,
                weight=_weight(sold.weight, quantity),
                status="PENDING",
                notes=_text(notes),
            )
            session.add(item)
            _recompute(order, [*items, item], order_discount)
            return _saved(session, order, acting)

        return self._write(work)

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

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            _require_editable(order, "Lines")
            items = _items(session, order.id)
            order_discount = _order_discount(order, items)
            item = _find_item(items, line_id)
            sold = _sold_item(session, item.product_id, item.variant_id, changing=True)
            item.quantity = new_quantity or item.quantity
            item.unit_price = new_price or item.unit_price
            if new_discount is not None:
                item.discount_amount = new_discount
            amounts = _line_amounts(
                session, order, sold, item.quantity, item.unit_price, item.discount_amount
            )
            item.tax_amount = amounts.tax
            item.weight = _weight(sold.weight, item.quantity)
            if notes is not None:
                item.notes = _text(notes)
            item.updated_at = func.now()
            _recompute(order, items, order_discount)
            return _saved(session, order, acting)

        return self._write(work)

    def remove_line(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int, line_id: uuid.UUID
    ) -> OrderDetail:
        require(acting, perms.ORDERS_CREATE)

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            _require_editable(order, "Lines")
            items = _items(session, order.id)
            order_discount = _order_discount(order, items)
            item = _find_item(items, line_id)
            session.delete(item)
            _recompute(order, [i for i in items if i is not item], order_discount)
            return _saved(session, order, acting)

        return self._write(work)

    def submit(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int
    ) -> OrderDetail:
        """DRAFT -> PENDING: the order is complete and waits for confirmation."""
        require(acting, perms.ORDERS_CREATE)

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            if order.status == ON_HOLD:
                raise ValidationError(
                    f"Order {order.order_number} is ON_HOLD: resume it to go back to "
                    f"{rules.resume_target(order.previous_status)}.",
                    field="status",
                )
            rules.check_transition(order.status, PENDING)
            if not _items(session, order.id):
                raise ValidationError(
                    "Add at least one line before submitting the order.", field="lines"
                )
            order.status = PENDING
            return _saved(session, order, acting)

        return self._write(work)

    # --- Approval and confirmation ------------------------------------------------------

    def approve(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int
    ) -> OrderDetail:
        """A manager's approval of an order over 10,000.00, needed before confirming it.
        Changing the total afterwards withdraws the approval."""
        require(acting, perms.ORDERS_APPROVE)

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            if order.status not in (PENDING, ON_HOLD) or _is_confirmed(order):
                raise ValidationError(
                    f"Order {order.order_number} is {order.status}: only a submitted order "
                    "that is not confirmed yet can be approved.",
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
                    f"{_username(session, order.approved_by)}.",
                    field="approved_by",
                )
            order.approved_by = acting.id
            order.approved_at = func.now()
            return _saved(session, order, acting)

        return self._write(work)

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

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            rules.check_transition(order.status, CONFIRMED)
            if _is_confirmed(order):
                raise ValidationError(
                    f"Order {order.order_number} was confirmed before it was put on hold: "
                    "resume it instead.",
                    field="status",
                )
            lines = _lines(session, order.id)
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
                session, lines, warehouse_id, wanted, lambda line: line.item.quantity, True
            )
            self._check_credit(session, acting, order, override_credit)
            ledger = StockLedger(session, acting.id)
            _reserve(session, ledger, order, lines, plan, all_or_nothing=True)
            _add_to_balance(
                session, acting, order.customer_id, order.total_amount - order.paid_amount
            )
            for line in lines:
                line.item.status = "CONFIRMED"
            order.status = CONFIRMED
            return _saved(session, order, acting)

        return self._write(work)

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

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            if not _is_confirmed(order) or order.status not in (
                CONFIRMED,
                PROCESSING,
                PARTIALLY_SHIPPED,
                ON_HOLD,
            ):
                raise ValidationError(
                    f"Order {order.order_number} is {order.status}: backorders are reserved "
                    "for confirmed orders that are not shipped yet.",
                    field="status",
                )
            lines = _lines(session, order.id, reservations=True)
            if not any(line.backordered for line in lines):
                raise ValidationError(
                    f"Nothing on order {order.order_number} is backordered.", field="lines"
                )
            plan = _plan(session, lines, warehouse_id, wanted, lambda line: line.backordered, False)
            ledger = StockLedger(session, acting.id)
            if _reserve(session, ledger, order, lines, plan, all_or_nothing=False) == 0:
                raise ValidationError(
                    "None of the backordered goods is in stock there yet: nothing was reserved.",
                    field="quantity",
                )
            return _saved(session, order, acting)

        return self._write(work)

    def _check_credit(
        self, session: Session, acting: CurrentUser, order: Order, override: bool
    ) -> None:
        customer = session.execute(
            select(
                Customer.first_name,
                Customer.last_name,
                Customer.company,
                Customer.credit_limit,
                Customer.balance,
            )
            .where(Customer.id == order.customer_id)
            .with_for_update()
        ).one()
        limit = customer.credit_limit or ZERO
        balance = customer.balance or ZERO
        unpaid = order.total_amount - order.paid_amount
        if limit <= ZERO or balance + unpaid <= limit:
            return
        name = customer.company or f"{customer.first_name} {customer.last_name}"
        over = (
            f"Confirming order {order.order_number} would take {name}'s balance to "
            f"{balance + unpaid:,} (now {balance:,}, plus {unpaid:,} unpaid on this order), "
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
            f"{balance + unpaid:,} on confirming."
        )
        order.internal_notes = f"{order.internal_notes}\n{note}" if order.internal_notes else note

    # --- Holds and processing -----------------------------------------------------------

    def hold(self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int) -> OrderDetail:
        """Put the order ON_HOLD; reservations and the balance stay as they are."""
        require(acting, perms.ORDERS_CONFIRM)

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            rules.check_transition(order.status, ON_HOLD)
            order.status = ON_HOLD
            return _saved(session, order, acting)

        return self._write(work)

    def resume(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int
    ) -> OrderDetail:
        """Lift a hold: back to PENDING, CONFIRMED or PROCESSING, where it was (an order held
        while partly or fully shipped goes on as PROCESSING)."""
        require(acting, perms.ORDERS_CONFIRM)

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            if order.status != ON_HOLD:
                raise ValidationError(
                    f"Order {order.order_number} is {order.status}, not ON_HOLD: there is no "
                    "hold to lift.",
                    field="status",
                )
            target = rules.resume_target(order.previous_status)
            rules.check_transition(order.status, target)
            order.status = target
            return _saved(session, order, acting)

        return self._write(work)

    def start_processing(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int
    ) -> OrderDetail:
        """-> PROCESSING (picking and packing): from CONFIRMED, PARTIALLY_SHIPPED (to ship
        another part) or a hold of a confirmed order. Shipping needs it."""
        require(acting, perms.ORDERS_SHIP)

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            rules.check_transition(order.status, PROCESSING)
            if not _is_confirmed(order):
                raise ValidationError(
                    f"Order {order.order_number} was put on hold before it was confirmed: "
                    "confirm it first.",
                    field="status",
                )
            order.status = PROCESSING
            return _saved(session, order, acting)

        return self._write(work)

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

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            items = _lines(session, order.id, reservations=True)
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
                    f"Order {order.order_number} is PARTIALLY_SHIPPED: this shipment would "
                    "leave goods behind, and an order cannot go from PARTIALLY_SHIPPED to "
                    "PARTIALLY_SHIPPED. Ship the rest in full, or start processing it "
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
            order.shipped_at = func.now()
            if target == SHIPPED:
                order.shipping_date = func.now()
            return _saved(session, order, acting)

        return self._write(work)

    def deliver(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int
    ) -> OrderDetail:
        """SHIPPED -> DELIVERED, dated now."""
        require(acting, perms.ORDERS_SHIP)

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            rules.check_transition(order.status, DELIVERED)
            for item in _items(session, order.id):
                if item.status == "SHIPPED":
                    item.status = "DELIVERED"
            order.status = DELIVERED
            order.delivery_date = func.now()
            return _saved(session, order, acting)

        return self._write(work)

    # --- Cancelling and returns ---------------------------------------------------------

    def cancel(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int
    ) -> OrderDetail:
        """-> CANCELLED: releases exactly what is still reserved, and takes a confirmed
        order's unpaid total off the customer's balance. What was shipped stays shipped;
        money paid is given back with `refund`."""
        require(acting, perms.ORDERS_CANCEL)

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            rules.check_transition(order.status, CANCELLED)
            lines = _lines(session, order.id, reservations=True)
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
                for line, w, q in held:
                    ledger.release(line.key(w), q)
                session.execute(
                    delete(_RESERVATIONS).where(
                        _RESERVATIONS.c.order_item_id.in_([line.id for line in lines])
                    )
                )
            if _is_confirmed(order):
                _add_to_balance(
                    session, acting, order.customer_id, order.paid_amount - order.total_amount
                )
            for line in lines:
                if line.unshipped:
                    line.item.status = "CANCELLED"
            order.status = CANCELLED
            order.cancelled_date = func.now()
            return _saved(session, order, acting)

        return self._write(work)

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

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            rules.check_transition(order.status, RETURNED)
            items = _lines(session, order.id)
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
                _check_warehouses(session, {warehouse_id})
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
            return _saved(session, order, acting)

        return self._write(work)

    # --- Money --------------------------------------------------------------------------

    def record_payment(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int, amount: Decimal
    ) -> OrderDetail:
        """Money received: paid may reach the total, no more. On a confirmed order the
        payment comes off the customer's balance too."""
        require(acting, perms.ORDERS_PAYMENT)
        payment = rules.check_amount(amount, "amount", "A payment")

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
            if order.status in rules.NO_PAYMENT_STATUSES:
                raise ValidationError(
                    f"Order {order.order_number} is {order.status}: it takes no payments.",
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

        return self._write(work)

    def refund(
        self, acting: CurrentUser, order_id: uuid.UUID, expected_version: int, amount: Decimal
    ) -> OrderDetail:
        """Money given back, at most what was paid, for a DELIVERED, CANCELLED or RETURNED
        order; once everything paid is given back the order is REFUNDED."""
        require(acting, perms.ORDERS_PAYMENT)
        refund = rules.check_amount(amount, "amount", "A refund")

        def work(session: Session) -> OrderDetail:
            order = _lock(session, order_id, expected_version)
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

        return self._write(work)

    # --- Reading ------------------------------------------------------------------------

    def get_order(self, acting: CurrentUser, order_id: uuid.UUID) -> OrderDetail:
        require(acting, perms.ORDERS_READ)
        return self._read(lambda session: _detail(session, order_id))

    def list_lines(self, acting: CurrentUser, order_id: uuid.UUID) -> tuple[OrderLineRow, ...]:
        require(acting, perms.ORDERS_READ)

        def work(session: Session) -> tuple[OrderLineRow, ...]:
            if session.scalar(select(Order.id).where(Order.id == order_id)) is None:
                raise NotFoundError("That order does not exist.")
            return _line_rows(session, order_id)

        return self._read(work)

    def status_history(
        self, acting: CurrentUser, order_id: uuid.UUID
    ) -> tuple[StatusChangeRow, ...]:
        """Every status the order entered, oldest first, with who changed it and when."""
        require(acting, perms.ORDERS_READ)
        history = OrderStatusHistory

        def work(session: Session) -> tuple[StatusChangeRow, ...]:
            if session.scalar(select(Order.id).where(Order.id == order_id)) is None:
                raise NotFoundError("That order does not exist.")
            records = session.execute(
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
            ).all()
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
        records = self._read(lambda session: session.execute(statement).all())
        rows = tuple(
            OrderSummary(
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
            for r in records[:limit]
        )
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
        statement = order_page_statement(query, after, limit + 1)
        records = self._read(lambda session: session.execute(statement).all())
        rows = tuple(
            OrderSummary(
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
            for r in records[:limit]
        )
        cursor = order_cursor(query, rows[-1]) if rows else None
        return OrderListPage(rows=rows, next_cursor=cursor, has_more=len(records) > limit)

    def count_orders(
        self, acting: CurrentUser, query: OrderQuery, cap: int | None = DEFAULT_COUNT_CAP
    ) -> ListCount:
        """How many orders the list's `query` matches, counting no further than `cap`
        (None: all)."""
        require(acting, perms.ORDERS_READ)
        statement = order_count_statement(query, cap)
        found = self._read(lambda session: session.scalar(statement)) or 0
        return capped(found, cap)


# --- Lines as the writes see them --------------------------------------------------------


@dataclass
class _Line:
    """An order line with what the rules need of its product (or variant)."""

    item: OrderItem
    sku: str
    name: str
    tracks: bool
    backorder: bool
    active: bool
    #: warehouse id -> quantity still reserved there, in warehouse code order.
    reservations: dict[uuid.UUID, int] = field(default_factory=dict)

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


def _items(session: Session, order_id: uuid.UUID) -> list[OrderItem]:
    return list(
        session.scalars(
            select(OrderItem)
            .where(OrderItem.order_id == order_id)
            .order_by(OrderItem.created_at, OrderItem.id)
        )
    )


def _lines(session: Session, order_id: uuid.UUID, *, reservations: bool = False) -> list[_Line]:
    variant = _VARIANT
    rows = session.execute(
        select(
            OrderItem,
            Product.sku,
            Product.name,
            Product.track_inventory,
            Product.allow_backorder,
            Product.is_active,
            variant.sku.label("variant_sku"),
            variant.name.label("variant_name"),
            variant.track_inventory.label("variant_tracks"),
            variant.allow_backorder.label("variant_backorder"),
            variant.is_active.label("variant_active"),
        )
        .join(Product, Product.id == OrderItem.product_id)
        .outerjoin(variant, variant.id == OrderItem.variant_id)
        .where(OrderItem.order_id == order_id)
        .order_by(OrderItem.created_at, OrderItem.id)
    ).all()
    lines = []
    for row in rows:
        item: OrderItem = row[0]
        if item.variant_id is None:
            line = _Line(
                item, row.sku, row.name, row.track_inventory, row.allow_backorder, row.is_active
            )
        else:
            line = _Line(
                item,
                row.variant_sku,
                row.variant_name,
                row.variant_tracks,
                row.variant_backorder,
                row.is_active and row.variant_active,
            )
        lines.append(line)
    if reservations and lines:
        by_id = {line.id: line for line in lines}
        for item_id, warehouse_id, quantity in session.execute(
            select(
                StockReservation.order_item_id,
                StockReservation.warehouse_id,
                StockReservation.quantity,
            )
            .join(Warehouse, Warehouse.id == StockReservation.warehouse_id)
            .where(StockReservation.order_item_id.in_(by_id))
            .order_by(Warehouse.code)
        ):
            by_id[item_id].reservations[warehouse_id] = quantity
    return lines


def _find_item(items: Sequence[OrderItem], line_id: uuid.UUID) -> OrderItem:
    for item in items:
        if item.id == line_id:
            return item
    raise NotFoundError("That line is not on this order (any more).", field="lines")


def _find_line(lines: Sequence[_Line], line_id: uuid.UUID) -> _Line:
    for line in lines:
        if line.id == line_id:
            return line
    raise NotFoundError("That line is not on this order (any more).", field="lines")


def _sold_item(
    session: Session, product_id: uuid.UUID, variant_id: uuid.UUID | None, *, changing: bool = False
) -> _Sold:
    product = session.execute(
        select(
            Product.sku,
            Product.is_active,
            Product.price,
            Product.tax_rate,
            Product.taxable,
            Product.weight,
        ).where(Product.id == product_id)
    ).one_or_none()
    if product is None:
        raise NotFoundError("That product does not exist.", field="product")
    if not product.is_active and not changing:
        raise ValidationError(
            f"{product.sku} is no longer sold (inactive): it cannot be ordered.", field="product"
        )
    price, weight = product.price, product.weight
    if variant_id is not None:
        variant = session.execute(
            select(
                ProductVariant.sku,
                ProductVariant.product_id,
                ProductVariant.is_active,
                ProductVariant.price,
                ProductVariant.weight,
            ).where(ProductVariant.id == variant_id)
        ).one_or_none()
        if variant is None or variant.product_id != product_id:
            raise NotFoundError(f"That variant is not one of {product.sku}.", field="variant")
        if not variant.is_active and not changing:
            raise ValidationError(
                f"Variant {variant.sku} of {product.sku} is no longer sold (inactive).",
                field="variant",
            )
        price = variant.price
        if variant.weight:
            weight = variant.weight
    return _Sold(price=price, tax_rate=product.tax_rate, taxable=product.taxable, weight=weight)


def _line_amounts(
    session: Session,
    order: Order,
    sold: _Sold,
    quantity: int,
    unit_price: Decimal,
    discount: Decimal,
) -> LineAmounts:
    exempt = session.scalar(select(Customer.tax_exempt).where(Customer.id == order.customer_id))
    return rules.line_amounts(
        quantity,
        unit_price,
        discount,
        tax_rate=sold.tax_rate,
        taxable=sold.taxable,
        tax_exempt=bool(exempt),
    )


def _weight(unit_weight: Decimal, quantity: int) -> Decimal:
    weight = unit_weight * quantity
    if weight > rules.MAX_WEIGHT:
        raise ValidationError(
            f"The line would weigh {weight:,} kg, more than a line can hold.", field="quantity"
        )
    return weight


# --- Totals ------------------------------------------------------------------------------


def _stored_amounts(item: OrderItem) -> LineAmounts:
    total = item.quantity * item.unit_price
    return LineAmounts(
        total=total,
        discount=item.discount_amount,
        tax=item.tax_amount,
        final=total + item.tax_amount - item.discount_amount,
    )


def _order_discount(order: Order, items: Sequence[OrderItem]) -> Decimal:
    """The order's own discount: its discount beyond the lines' (kept in one column)."""
    return order.discount_amount - sum((i.discount_amount for i in items), ZERO)


def _recompute(order: Order, items: Sequence[OrderItem], order_discount: Decimal) -> None:
    """Totals from the lines; an approval lapses when the total changes."""
    amounts = rules.order_amounts(
        [_stored_amounts(i) for i in items], order.shipping_method, order_discount
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


def _plan(
    session: Session,
    lines: Sequence[_Line],
    warehouse_id: uuid.UUID | None,
    wanted: Mapping[uuid.UUID, Mapping[uuid.UUID, int]],
    outstanding: Callable[[_Line], int],
    exact: bool,
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
    _check_warehouses(session, {w for per in plan.values() for w in per})
    return plan


def _check_warehouses(session: Session, warehouse_ids: set[uuid.UUID]) -> None:
    if not warehouse_ids:
        return
    found = {
        row.id: row
        for row in session.execute(
            select(Warehouse.id, Warehouse.code, Warehouse.is_active).where(
                Warehouse.id.in_(warehouse_ids)
            )
        )
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


def _reserve(
    session: Session,
    ledger: StockLedger,
    order: Order,
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
        raise ValidationError(
            f"Not enough stock to confirm order {order.order_number}, so nothing was "
            "reserved: " + "; ".join(sorted(shortages)) + ".",
            field="quantity",
        )
    reserved = 0
    for line, w, q in planned:
        key = line.key(w)
        take = min(q, ledger.level(key).sellable)
        if take <= 0:
            continue
        ledger.reserve(key, take)
        statement = pg_insert(_RESERVATIONS).values(
            order_item_id=line.id, warehouse_id=w, quantity=take
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["order_item_id", "warehouse_id"],
                set_={"quantity": _RESERVATIONS.c.quantity + statement.excluded.quantity},
            )
        )
        line.reservations[w] = line.reservations.get(w, 0) + take
        reserved += take
    return reserved


def _ship_stock(
    session: Session,
    acting: CurrentUser,
    order: Order,
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
            session.execute(update(_RESERVATIONS).where(where).values(quantity=remaining))
        else:
            session.execute(delete(_RESERVATIONS).where(where))
        line.reservations[warehouse_id] = remaining


def _add_to_balance(
    session: Session, acting: CurrentUser, customer_id: uuid.UUID, amount: Decimal
) -> None:
    """Move the customer's balance (a changed record: its version moves on too)."""
    if amount == ZERO:
        return
    session.execute(
        update(_CUSTOMERS)
        .where(_CUSTOMERS.c.id == customer_id)
        .values(
            balance=func.coalesce(_CUSTOMERS.c.balance, 0) + amount,
            version=_CUSTOMERS.c.version + 1,
            updated_by=acting.id,
        )
    )


# --- The order row -----------------------------------------------------------------------


def _lock(session: Session, order_id: uuid.UUID, expected_version: int) -> Order:
    """The order, locked for this transaction, if it is still at `expected_version`."""
    # Changes reach the database in one flush at the end (`_saved`), so the version
    # moves on exactly once per action, however many statements run in between.
    session.autoflush = False
    order = session.scalar(select(Order).where(Order.id == order_id).with_for_update())
    if order is None:
        raise NotFoundError("That order does not exist.")
    if order.version != expected_version:
        current = _detail(session, order_id)
        by = f"by {current.updated_by_name}" if current.updated_by_name else "by someone else"
        raise ConflictError(
            f"Order {current.order_number} was changed {by} on "
            f"{current.updated_at.astimezone():%Y-%m-%d at %H:%M:%S} after you opened it, so "
            "your change was not made. Look at the order as it is now and try again.",
            current=current,
        )
    return order


def _is_confirmed(order: Order) -> bool:
    return rules.is_confirmed(order.status, order.previous_status)


def _require_editable(order: Order, what: str) -> None:
    if order.status not in rules.EDITABLE:
        raise ValidationError(
            f"{what} can be changed only while the order is DRAFT or PENDING; order "
            f"{order.order_number} is {order.status}.",
            field="status",
        )


def _saved(session: Session, order: Order, acting: CurrentUser) -> OrderDetail:
    """Write the order (its version moves on) and read it back as it now is."""
    order.updated_by = acting.id
    order.updated_at = func.now()  # always an UPDATE, so the version always moves on
    session.flush()
    return _detail(session, order.id)


def _billing(header: OrderHeader) -> Address:
    return header.billing_address or header.shipping_address


def _address_values(address: Address) -> dict[str, Any]:
    return {
        "first_name": address.first_name,
        "last_name": address.last_name,
        "company": address.company,
        "address1": address.address1,
        "address2": address.address2,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
        "phone": address.phone,
        "email": address.email,
    }


def _insert_address(session: Session, kind: str, address: Address) -> uuid.UUID:
    table: Table = OrderAddress.__table__  # type: ignore[assignment]
    new_id: uuid.UUID = session.execute(
        pg_insert(table).values(type=kind, **_address_values(address)).returning(table.c.id)
    ).scalar_one()
    return new_id


def _update_address(session: Session, address_id: uuid.UUID, address: Address) -> None:
    table: Table = OrderAddress.__table__  # type: ignore[assignment]
    session.execute(
        update(table).where(table.c.id == address_id).values(**_address_values(address))
    )


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _customer_name(company: str | None, first: str, last: str) -> str:
    return company or f"{first} {last}".strip()


def _username(session: Session, user_id: uuid.UUID) -> str:
    return session.scalar(select(User.username).where(User.id == user_id)) or "someone"


# --- Reading -----------------------------------------------------------------------------


def _detail(session: Session, order_id: uuid.UUID) -> OrderDetail:
    shipping, billing = _SHIPPING_ADDRESS, _BILLING_ADDRESS
    creator, approver, shipper, updater = _CREATOR, _APPROVER, _SHIPPER, _UPDATER
    row = session.execute(
        select(
            Order,
            Customer.first_name,
            Customer.last_name,
            Customer.company,
            Customer.customer_code,
            shipping,
            billing,
            creator.username.label("created_by_name"),
            approver.username.label("approved_by_name"),
            shipper.username.label("shipped_by_name"),
            updater.username.label("updated_by_name"),
        )
        .join(Customer, Customer.id == Order.customer_id)
        .join(shipping, shipping.id == Order.shipping_address_id)
        .join(billing, billing.id == Order.billing_address_id)
        .outerjoin(creator, creator.id == Order.created_by)
        .outerjoin(approver, approver.id == Order.approved_by)
        .outerjoin(shipper, shipper.id == Order.shipped_by)
        .outerjoin(updater, updater.id == Order.updated_by)
        .where(Order.id == order_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise NotFoundError("That order does not exist.")
    order: Order = row[0]
    lines = _line_rows(session, order_id)
    line_discounts = sum((line.discount_amount for line in lines), ZERO)
    return OrderDetail(
        id=order.id,
        order_number=order.order_number,
        customer_id=order.customer_id,
        customer_name=_customer_name(row.company, row.first_name, row.last_name),
        customer_code=row.customer_code,
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
        shipping_address=_address(row[5]),
        billing_address=_address(row[6]),
        notes=order.notes,
        customer_notes=order.customer_notes,
        internal_notes=order.internal_notes,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        created_by=order.created_by,
        created_by_name=row.created_by_name,
        approved_by=order.approved_by,
        approved_by_name=row.approved_by_name,
        approved_at=order.approved_at,
        shipped_by=order.shipped_by,
        shipped_by_name=row.shipped_by_name,
        shipped_at=order.shipped_at,
        updated_at=order.updated_at,
        updated_by=order.updated_by,
        updated_by_name=row.updated_by_name,
        version=order.version,
        lines=lines,
    )


def _address(row: OrderAddress) -> Address:
    return Address(
        first_name=row.first_name,
        last_name=row.last_name,
        address1=row.address1,
        city=row.city,
        postal_code=row.postal_code,
        country=row.country,
        company=row.company,
        address2=row.address2,
        state=row.state,
        phone=row.phone,
        email=row.email,
    )


def _line_rows(session: Session, order_id: uuid.UUID) -> tuple[OrderLineRow, ...]:
    variant = _VARIANT
    records = session.execute(
        select(
            OrderItem.id,
            OrderItem.product_id,
            OrderItem.variant_id,
            func.coalesce(variant.sku, Product.sku).label("sku"),
            func.coalesce(variant.name, Product.name).label("name"),
            OrderItem.quantity,
            OrderItem.unit_price,
            OrderItem.total_price,
            OrderItem.discount_amount,
            OrderItem.tax_amount,
            OrderItem.final_price,
            OrderItem.weight,
            OrderItem.status,
            OrderItem.shipped_quantity,
            OrderItem.returned_quantity,
            func.coalesce(variant.track_inventory, Product.track_inventory).label("tracks"),
            func.coalesce(variant.allow_backorder, Product.allow_backorder).label("backorder"),
            OrderItem.notes,
        )
        .join(Product, Product.id == OrderItem.product_id)
        .outerjoin(variant, variant.id == OrderItem.variant_id)
        .where(OrderItem.order_id == order_id)
        .order_by(OrderItem.created_at, OrderItem.id)
    ).all()
    held: dict[uuid.UUID, list[ReservationRow]] = defaultdict(list)
    if records:
        for item_id, warehouse_id, code, quantity in session.execute(
            select(
                StockReservation.order_item_id,
                StockReservation.warehouse_id,
                Warehouse.code,
                StockReservation.quantity,
            )
            .join(Warehouse, Warehouse.id == StockReservation.warehouse_id)
            .where(StockReservation.order_item_id.in_([r.id for r in records]))
            .order_by(Warehouse.code)
        ):
            held[item_id].append(ReservationRow(warehouse_id, code, quantity))
    return tuple(
        OrderLineRow(
            id=r.id,
            product_id=r.product_id,
            variant_id=r.variant_id,
            sku=r.sku,
            name=r.name,
            quantity=r.quantity,
            unit_price=r.unit_price,
            total_price=r.total_price,
            discount_amount=r.discount_amount,
            tax_amount=r.tax_amount,
            final_price=r.final_price,
            weight=r.weight,
            status=r.status,
            shipped_quantity=r.shipped_quantity,
            returned_quantity=r.returned_quantity,
            tracks_inventory=r.tracks,
            allows_backorder=r.backorder,
            reservations=tuple(held[r.id]),
            notes=r.notes,
        )
        for r in records
    )
