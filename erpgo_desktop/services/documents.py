"""What the printed documents of an order say: the order confirmation for the customer,
the packing slip that goes in the parcel and the pick list the warehouse walks with.

Each method returns a frozen dataclass holding exactly what its document prints, already
chosen and ordered, so the printing code (ui/printing.py) only lays it out and a test can
check the content without reading a PDF. The company block comes from the `[company]`
table of the settings file (config.read_company), read when a document is made so an
edit to the file shows on the next print.

Reading an order needs orders.read, which warehouse clerks have too.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erpgo_desktop.config import AppPaths, CompanyInfo, read_company
from erpgo_desktop.db.models import Warehouse
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.money import ZERO
from erpgo_desktop.domain.orders import Address
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.base import Service, require
from erpgo_desktop.services.orders import OrderDetail, OrderLineRow, OrderService

__all__ = [
    "CompanyInfo",
    "DocumentHeader",
    "DocumentService",
    "OrderConfirmation",
    "PackingLine",
    "PackingSlip",
    "PickGroup",
    "PickLine",
    "PickList",
    "PricedLine",
    "address_lines",
    "shelf_order",
]


@dataclass(frozen=True)
class DocumentHeader:
    """What every document of an order starts with."""

    company: CompanyInfo
    order_id: uuid.UUID
    order_number: str
    order_date: datetime
    status: str
    customer_name: str
    customer_code: str | None
    shipping_address: tuple[str, ...]
    billing_address: tuple[str, ...]
    shipping_method: str
    required_date: datetime | None
    #: The order's notes and the customer's notes (never the internal ones).
    notes: tuple[str, ...]
    printed_at: datetime


@dataclass(frozen=True)
class PricedLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    tax: Decimal
    #: quantity x unit price - discount + tax, as the order stores it.
    amount: Decimal


@dataclass(frozen=True)
class OrderConfirmation:
    header: DocumentHeader
    currency: str
    payment_status: str
    lines: tuple[PricedLine, ...]
    subtotal: Decimal
    #: The lines' discounts plus the order's own.
    discount: Decimal
    order_discount: Decimal
    tax: Decimal
    shipping: Decimal
    total: Decimal
    paid: Decimal
    balance_due: Decimal


@dataclass(frozen=True)
class PackingLine:
    sku: str
    name: str
    ordered: int
    #: Shipped before now.
    shipped: int
    #: Going in the parcel: reserved (or, for goods not kept in stock, not yet shipped).
    to_ship: int
    #: Confirmed but waiting for stock: follows later.
    backordered: int
    #: Of the whole line, in kg.
    weight: Decimal


@dataclass(frozen=True)
class PackingSlip:
    header: DocumentHeader
    lines: tuple[PackingLine, ...]
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime | None
    total_weight: Decimal

    @property
    def has_backorders(self) -> bool:
        return any(line.backordered for line in self.lines)


@dataclass(frozen=True)
class PickLine:
    sku: str
    name: str
    #: How many to take off the shelf.
    quantity: int


@dataclass(frozen=True)
class PickGroup:
    """What to pick in one warehouse, in shelf order."""

    warehouse_id: uuid.UUID
    warehouse_code: str
    warehouse_name: str
    lines: tuple[PickLine, ...]

    @property
    def total_quantity(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass(frozen=True)
class PickList:
    header: DocumentHeader
    #: One group per warehouse holding a reservation, by warehouse code.
    groups: tuple[PickGroup, ...]
    #: Not shipped yet and not in any warehouse: goods not kept in stock, in shelf order.
    not_stocked: tuple[PickLine, ...]
    #: Confirmed but waiting for stock (backordered), in shelf order.
    waiting: tuple[PickLine, ...]


def shelf_order(sku: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that walks shelves as people number them: case aside, and runs of
    digits by their value (A-9 before A-10)."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in re.findall(r"\d+|\D+", sku.casefold())
    )


def address_lines(address: Address) -> tuple[str, ...]:
    """An address as it is written on an envelope, blank parts left out."""
    place = " ".join(p for p in (address.postal_code, address.city) if p)
    if address.state:
        place = f"{place}, {address.state}"
    lines = (
        address.company,
        f"{address.first_name} {address.last_name}".strip(),
        address.address1,
        address.address2,
        place,
        address.country,
        f"Phone {address.phone}" if address.phone else None,
    )
    return tuple(line for line in lines if line)


CompanySource = Callable[[], CompanyInfo]


def _settings_company() -> CompanyInfo:
    return read_company(AppPaths.for_user())


class DocumentService(Service):
    """The printed documents of an order, as data."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        company: CompanyInfo | CompanySource | None = None,
    ) -> None:
        super().__init__(session_factory)
        self._orders = OrderService(session_factory)
        if company is None:
            self._company: CompanySource = _settings_company
        elif isinstance(company, CompanyInfo):
            self._company = lambda: company
        else:
            self._company = company

    def order_confirmation(self, acting: CurrentUser, order_id: uuid.UUID) -> OrderConfirmation:
        """For the customer: every line with its price, discount and tax, and the totals."""
        require(acting, perms.ORDERS_READ)
        order = self._orders.get_order(acting, order_id)
        return OrderConfirmation(
            header=self._header(order),
            currency=order.currency,
            payment_status=order.payment_status,
            lines=tuple(
                PricedLine(
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    discount=line.discount_amount,
                    tax=line.tax_amount,
                    amount=line.final_price,
                )
                for line in order.lines
            ),
            subtotal=order.subtotal,
            discount=order.discount_amount,
            order_discount=order.order_discount,
            tax=order.tax_amount,
            shipping=order.shipping_amount,
            total=order.total_amount,
            paid=order.paid_amount,
            balance_due=max(order.unpaid, ZERO),
        )

    def packing_slip(self, acting: CurrentUser, order_id: uuid.UUID) -> PackingSlip:
        """For the parcel: what was ordered, shipped before, goes now and follows later;
        no prices."""
        require(acting, perms.ORDERS_READ)
        order = self._orders.get_order(acting, order_id)
        lines = tuple(
            PackingLine(
                sku=line.sku,
                name=line.name,
                ordered=line.quantity,
                shipped=line.shipped_quantity,
                to_ship=_to_ship(line),
                backordered=line.backordered_quantity,
                weight=line.weight,
            )
            for line in order.lines
        )
        return PackingSlip(
            header=self._header(order),
            lines=lines,
            carrier=order.carrier,
            tracking_number=order.tracking_number,
            shipped_at=order.shipping_date or order.shipped_at,
            total_weight=sum((line.weight for line in lines), Decimal("0.000")),
        )

    def pick_list(self, acting: CurrentUser, order_id: uuid.UUID) -> PickList:
        """For the warehouse: what each warehouse holds for the order, by warehouse, in
        shelf order (SKU) within one, lines of the same item added up."""
        require(acting, perms.ORDERS_READ)
        order = self._orders.get_order(acting, order_id)
        held: dict[uuid.UUID, dict[tuple[str, str], int]] = defaultdict(dict)
        for line in order.lines:
            for reservation in line.reservations:
                items = held[reservation.warehouse_id]
                key = (line.sku, line.name)
                items[key] = items.get(key, 0) + reservation.quantity
        warehouses = self._warehouse_names(held.keys()) if held else {}
        groups = sorted(
            (
                PickGroup(
                    warehouse_id=warehouse_id,
                    warehouse_code=warehouses.get(warehouse_id, ("?", "?"))[0],
                    warehouse_name=warehouses.get(warehouse_id, ("?", "?"))[1],
                    lines=_in_shelf_order(
                        PickLine(sku, name, quantity) for (sku, name), quantity in items.items()
                    ),
                )
                for warehouse_id, items in held.items()
            ),
            key=lambda group: shelf_order(group.warehouse_code),
        )
        not_stocked = _in_shelf_order(
            PickLine(line.sku, line.name, _to_ship(line))
            for line in order.lines
            if not line.tracks_inventory and _to_ship(line) > 0
        )
        waiting = _in_shelf_order(
            PickLine(line.sku, line.name, line.backordered_quantity)
            for line in order.lines
            if line.backordered_quantity > 0
        )
        return PickList(self._header(order), tuple(groups), not_stocked, waiting)

    def _warehouse_names(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
        wanted = list(ids)

        def work(session: Session) -> dict[uuid.UUID, tuple[str, str]]:
            rows = session.execute(
                select(Warehouse.id, Warehouse.code, Warehouse.name).where(Warehouse.id.in_(wanted))
            ).all()
            return {row.id: (row.code, row.name) for row in rows}

        return self._read(work)

    def _header(self, order: OrderDetail) -> DocumentHeader:
        return DocumentHeader(
            company=self._company(),
            order_id=order.id,
            order_number=order.order_number,
            order_date=order.order_date,
            status=order.status,
            customer_name=order.customer_name,
            customer_code=order.customer_code,
            shipping_address=address_lines(order.shipping_address),
            billing_address=address_lines(order.billing_address),
            shipping_method=order.shipping_method,
            required_date=order.required_date,
            notes=tuple(n.strip() for n in (order.notes, order.customer_notes) if n and n.strip()),
            printed_at=datetime.now().astimezone(),
        )


def _to_ship(line: OrderLineRow) -> int:
    """What goes out next: the reserved stock of a stocked line; the rest of one that is
    not kept in stock (it ships without a reservation)."""
    if line.tracks_inventory:
        return line.reserved_quantity
    return max(line.quantity - line.shipped_quantity, 0)


def _in_shelf_order(lines: Iterable[PickLine]) -> tuple[PickLine, ...]:
    return tuple(sorted(lines, key=lambda line: (shelf_order(line.sku), line.name)))
