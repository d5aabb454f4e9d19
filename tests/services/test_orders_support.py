"""Helpers of the orders tests: a database per test module, users of every default role,
and products, warehouses, customers and stock seeded with plain SQL and StockLedger.

Every helper makes new rows with names of their own (SKU-1, SKU-2, ...), so the tests of a
module share one database without seeing each other's orders, stock or balances.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.domain import orders as rules
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser
from erpgo_desktop.services.orders import OrderDetail, OrderService
from erpgo_desktop.services.stock import StockKey, StockLedger

if TYPE_CHECKING:  # imported at run time, pytest would try to collect it as tests
    from tests.conftest import ThrowawayDatabases

ADDRESS = Address(
    first_name="Grace",
    last_name="Hopper",
    address1="1 Navy Yard",
    city="Arlington",
    postal_code="22202",
    country="USA",
    state="VA",
    phone="+1 703 555 0100",
    email="grace@example.com",
)
HEADER = OrderHeader(shipping_address=ADDRESS)

_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


@dataclass(frozen=True)
class World:
    """One database with users and two warehouses, shared by the tests of a module."""

    engine: Engine
    orders: OrderService
    admin: CurrentUser
    manager: CurrentUser
    sales: CurrentUser
    clerk: CurrentUser
    main: uuid.UUID  # warehouse MAIN
    east: uuid.UUID  # warehouse EAST

    def product(
        self,
        price: str = "10.00",
        *,
        stock: Mapping[uuid.UUID, int] | None = None,
        tax_rate: str = "0",
        taxable: bool = True,
        track: bool = True,
        backorder: bool = False,
        active: bool = True,
        weight: str = "0.500",
    ) -> uuid.UUID:
        return seed_product(
            self.engine,
            price,
            stock=stock,
            tax_rate=tax_rate,
            taxable=taxable and Decimal(tax_rate) > 0,
            track=track,
            backorder=backorder,
            active=active,
            weight=weight,
        )

    def customer(
        self, *, credit_limit: str = "0", balance: str = "0", tax_exempt: bool = False
    ) -> uuid.UUID:
        with self.engine.begin() as connection:
            return uuid.UUID(
                str(
                    connection.execute(
                        text(
                            "INSERT INTO customers (first_name, last_name, email, credit_limit, "
                            "balance, tax_exempt) VALUES ('Ada', :last, :email, :limit, "
                            ":balance, :exempt) RETURNING id"
                        ),
                        {
                            "last": unique("Lovelace"),
                            "email": f"{unique('ada')}@example.com",
                            "limit": Decimal(credit_limit),
                            "balance": Decimal(balance),
                            "exempt": tax_exempt,
                        },
                    ).scalar_one()
                )
            )

    def draft(
        self,
        lines: Sequence[tuple[uuid.UUID, int]] = (),
        *,
        customer: uuid.UUID | None = None,
        header: OrderHeader = HEADER,
    ) -> OrderDetail:
        """A DRAFT order with `lines` (product, quantity), made by the sales user."""
        order = self.orders.create_draft(self.sales, customer or self.customer(), header)
        for product, quantity in lines:
            order = self.orders.add_line(self.sales, order.id, order.version, product, quantity)
        return order

    def pending(self, lines: Sequence[tuple[uuid.UUID, int]], **kwargs: object) -> OrderDetail:
        order = self.draft(lines, **kwargs)  # type: ignore[arg-type]
        return self.orders.submit(self.sales, order.id, order.version)

    def confirmed(
        self, lines: Sequence[tuple[uuid.UUID, int]], warehouse: uuid.UUID | None = None
    ) -> OrderDetail:
        order = self.pending(lines)
        return self.orders.confirm(self.manager, order.id, order.version, warehouse or self.main)

    def processing(self, lines: Sequence[tuple[uuid.UUID, int]]) -> OrderDetail:
        order = self.confirmed(lines)
        return self.orders.start_processing(self.clerk, order.id, order.version)

    def shipped(self, lines: Sequence[tuple[uuid.UUID, int]]) -> OrderDetail:
        order = self.processing(lines)
        return self.ship(order)

    def ship(self, order: OrderDetail, lines: Mapping[uuid.UUID, int] | None = None) -> OrderDetail:
        return self.orders.ship(
            self.clerk, order.id, order.version, lines, carrier="UPS", tracking_number="1Z 999-AA1"
        )

    def stock(self, product: uuid.UUID, warehouse: uuid.UUID) -> tuple[int, int]:
        """(on hand, reserved) of a product in a warehouse; (0, 0) without a stock row."""
        with self.engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT quantity_available, quantity_reserved FROM product_inventory "
                    "WHERE product_id = :p AND warehouse_id = :w"
                ),
                {"p": product, "w": warehouse},
            ).one_or_none()
        return (row[0], row[1]) if row else (0, 0)

    def balance(self, customer: uuid.UUID) -> Decimal:
        with self.engine.connect() as connection:
            value: Decimal = connection.execute(
                text("SELECT balance FROM customers WHERE id = :c"), {"c": customer}
            ).scalar_one()
        return value

    def ledger(self, order_id: uuid.UUID) -> list[tuple[str, uuid.UUID, uuid.UUID, int]]:
        """The order's ledger rows: (type, product, warehouse, quantity), oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT transaction_type, product_id, warehouse_id, quantity "
                    "FROM inventory_transactions WHERE reference_id = :o "
                    "ORDER BY created_at, quantity"
                ),
                {"o": order_id},
            ).all()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def reservations(self, order_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID, int]]:
        """(line, warehouse, quantity) of the order's stock_reservations rows."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT r.order_item_id, r.warehouse_id, r.quantity "
                    "FROM stock_reservations r JOIN order_items i ON i.id = r.order_item_id "
                    "WHERE i.order_id = :o ORDER BY r.quantity"
                ),
                {"o": order_id},
            ).all()
        return [(r[0], r[1], r[2]) for r in rows]


def seed_product(
    engine: Engine,
    price: str,
    *,
    stock: Mapping[uuid.UUID, int] | None = None,
    tax_rate: str = "0",
    taxable: bool = True,
    track: bool = True,
    backorder: bool = False,
    active: bool = True,
    weight: str = "0",
) -> uuid.UUID:
    """A product (in a category of its own) with `stock` received through the ledger."""
    sku = unique("SKU")
    with engine.begin() as connection:
        category = connection.execute(
            text("INSERT INTO product_categories (name) VALUES (:n) RETURNING id"),
            {"n": unique("Category")},
        ).scalar_one()
        product = connection.execute(
            text(
                "INSERT INTO products (sku, name, category_id, price, tax_rate, taxable, "
                "track_inventory, allow_backorder, is_active, weight) "
                "VALUES (:sku, :name, :c, :price, :rate, :taxable, :track, :backorder, true, "
                ":weight) RETURNING id"
            ),
            {
                "sku": sku,
                "name": f"Product {sku}",
                "c": category,
                "price": Decimal(price),
                "rate": Decimal(tax_rate) if taxable else Decimal(0),
                "taxable": taxable,
                "track": track,
                "backorder": backorder,
                "weight": Decimal(weight),
            },
        ).scalar_one()
    product_id = uuid.UUID(str(product))
    if stock:
        receive(engine, product_id, stock)
    if not active:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE products SET is_active = false WHERE id = :p"), {"p": product_id}
            )
    return product_id


def receive(
    engine: Engine,
    product: uuid.UUID,
    stock: Mapping[uuid.UUID, int],
    variant: uuid.UUID | None = None,
) -> None:
    """Goods in: one IN ledger row per warehouse, as the inventory service would write."""
    with make_session_factory(engine).begin() as session:
        ledger = StockLedger(session, None)
        keys = {w: StockKey(product, w, variant) for w in stock}
        ledger.lock(list(keys.values()))
        for warehouse, quantity in stock.items():
            ledger.move(keys[warehouse], quantity, "IN", reason="receipt")


def seed_warehouse(engine: Engine, code: str, *, active: bool = True) -> uuid.UUID:
    with engine.begin() as connection:
        return uuid.UUID(
            str(
                connection.execute(
                    text(
                        "INSERT INTO warehouses (code, name, is_active) "
                        "VALUES (:code, :code, :active) RETURNING id"
                    ),
                    {"code": code, "active": active},
                ).scalar_one()
            )
        )


def make_world(engine: Engine) -> World:
    sessions = make_session_factory(engine)
    auth = AuthService(sessions)
    users = {
        role: auth.create_user(
            NewUser(role.replace("_", "-"), f"{role}@example.com", "password1", role, role),
            acting=None,
        )
        for role in ("admin", "manager", "sales", "warehouse_clerk")
    }
    return World(
        engine=engine,
        orders=OrderService(sessions),
        admin=users["admin"],
        manager=users["manager"],
        sales=users["sales"],
        clerk=users["warehouse_clerk"],
        main=seed_warehouse(engine, "MAIN"),
        east=seed_warehouse(engine, "EAST"),
    )


@pytest.fixture(scope="module")
def world(pg_server: ThrowawayDatabases, template_database: str) -> Iterator[World]:
    """One migrated database for the whole module (each test makes rows of its own)."""
    engine = make_engine(pg_server.create_database(template=template_database))
    yield make_world(engine)
    engine.dispose()


def expected_totals(order: OrderDetail) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
    """(subtotal, discount, tax, shipping, total) recomputed from the order's lines."""
    subtotal = sum((line.total_price for line in order.lines), Decimal("0.00"))
    discount = sum((line.discount_amount for line in order.lines), Decimal("0.00"))
    discount += order.order_discount
    tax = sum((line.tax_amount for line in order.lines), Decimal("0.00"))
    shipping = rules.shipping_amount(order.shipping_method, subtotal) if order.lines else 0
    return subtotal, discount, tax, Decimal(shipping), subtotal + tax + shipping - discount
