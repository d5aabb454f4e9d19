"""Many workstations at once on one server: nobody gets the last unit twice, no update
is lost, the ledger adds up, and every refusal is a clear message.

Sixteen sales workstations race for the last units of the same products while two clerks
move stock back and forth between two warehouses, each call in its own transaction on
its own connection, all released at once by a barrier.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.errors import ErpError, ValidationError
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser
from erpgo_desktop.services.inventory import InventoryService
from erpgo_desktop.services.orders import OrderService
from erpgo_desktop.services.stock import StockKey

SALES_WORKSTATIONS = 16
CLERK_WORKSTATIONS = 2
TRANSFERS_PER_CLERK = 10
STOCK_PER_PRODUCT = 5
PRODUCTS = 3
ADDRESS = Address("Ann", "Buyer", "1 Main St", "Springfield", "12345", "USA")


@dataclass(frozen=True)
class World:
    products: list[uuid.UUID]
    main: uuid.UUID
    overflow: uuid.UUID
    customer: uuid.UUID
    sales: CurrentUser
    clerk: CurrentUser


@dataclass(frozen=True)
class Workstation:
    """A person signed in at a workstation: their own login role, their own connections."""

    user: CurrentUser
    engine: Engine
    orders: OrderService
    inventory: InventoryService


def sign_in(engine: Engine, username: str) -> Workstation:
    signed_in = AuthService(make_session_factory(engine)).sign_in(username, "long enough")
    sessions = make_session_factory(signed_in.engine)
    return Workstation(
        signed_in.user, signed_in.engine, OrderService(sessions), InventoryService(sessions)
    )


def seed(engine: Engine) -> World:
    auth = AuthService(make_session_factory(engine))
    sales = auth.create_user(NewUser("sam", "sam@example.com", "long enough", "sales", "Sam"),
                             acting=None)  # fmt: skip
    clerk = auth.create_user(
        NewUser("cleo", "cleo@example.com", "long enough", "warehouse_clerk", "Cleo"), acting=None
    )
    for n in range(SALES_WORKSTATIONS):
        auth.create_user(
            NewUser(f"sales-{n}", f"sales-{n}@example.com", "long enough", "sales", "S"),
            acting=None,
        )
    for n in range(CLERK_WORKSTATIONS):
        auth.create_user(
            NewUser(f"clerk-{n}", f"clerk-{n}@example.com", "long enough", "warehouse_clerk", "C"),
            acting=None,
        )
    with engine.begin() as connection:
        category = connection.execute(
            text("INSERT INTO product_categories (name) VALUES ('Tools') RETURNING id")
        ).scalar_one()
        products = [
            connection.execute(
                text("INSERT INTO products (sku, name, category_id, price, taxable) "
                     "VALUES (:sku, :name, :c, 10, false) RETURNING id"),
                {"sku": f"LAST-{n}", "name": f"Last unit {n}", "c": category},
            ).scalar_one()
            for n in range(PRODUCTS)
        ]  # fmt: skip
        main, overflow = (
            connection.execute(
                text("INSERT INTO warehouses (code, name) VALUES (:code, :code) RETURNING id"),
                {"code": code},
            ).scalar_one()
            for code in ("MAIN", "OVERFLOW")
        )
        customer = connection.execute(
            text("INSERT INTO customers (first_name, last_name, email, customer_code) "
                 "VALUES ('Ann', 'Buyer', 'ann@example.com', 'CUST-000001') RETURNING id")
        ).scalar_one()  # fmt: skip
    inventory = InventoryService(make_session_factory(engine))
    for product in products:
        inventory.receive(clerk, StockKey(product, main), STOCK_PER_PRODUCT)
    return World(products, main, overflow, customer, sales, clerk)


def test_workstations_never_oversell_or_lose_updates(engine: Engine) -> None:
    """Each workstation is a person of their own, connected as their own login role."""
    world = seed(engine)
    sellers = [sign_in(engine, f"sales-{n}") for n in range(SALES_WORKSTATIONS)]
    clerks_at = [sign_in(engine, f"clerk-{n}") for n in range(CLERK_WORKSTATIONS)]
    start = threading.Barrier(SALES_WORKSTATIONS + CLERK_WORKSTATIONS)
    # Each sales workstation asks for 2 units of every product: the stock covers only some.
    wanted = 2

    def sell(n: int) -> str:
        orders, seller = sellers[n].orders, sellers[n].user
        draft = orders.create_draft(seller, world.customer, OrderHeader(ADDRESS))
        for product in world.products:
            draft = orders.add_line(seller, draft.id, draft.version, product, wanted)
        pending = orders.submit(seller, draft.id, draft.version)
        start.wait()
        try:
            orders.confirm(seller, pending.id, pending.version, world.main)
        except ValidationError as refusal:
            assert "Not enough stock" in refusal.message and "LAST-" in refusal.message, refusal
            return "refused"
        return "confirmed"

    def shuffle(clerk_number: int) -> Counter[str]:
        outcomes: Counter[str] = Counter()
        start.wait()
        for turn in range(TRANSFERS_PER_CLERK):
            product = world.products[(clerk_number + turn) % PRODUCTS]
            there, back = (world.main, world.overflow) if turn % 2 == 0 else (
                world.overflow, world.main)  # fmt: skip
            try:
                clerks_at[clerk_number].inventory.transfer(
                    clerks_at[clerk_number].user, StockKey(product, there), back, 1
                )
                outcomes["moved"] += 1
            except ValidationError as refusal:
                assert "Not enough stock" in refusal.message, refusal.message
                outcomes["refused"] += 1
        return outcomes

    try:
        with ThreadPoolExecutor(SALES_WORKSTATIONS + CLERK_WORKSTATIONS) as pool:
            sales = [pool.submit(sell, n) for n in range(SALES_WORKSTATIONS)]
            clerks = [pool.submit(shuffle, n) for n in range(CLERK_WORKSTATIONS)]
            results = Counter(future.result() for future in sales)
            transfers = sum((future.result() for future in clerks), Counter())
    finally:
        for workstation in (*sellers, *clerks_at):
            workstation.engine.dispose()
    with engine.connect() as connection:
        people = connection.execute(
            text("SELECT count(DISTINCT created_by) FROM orders")
        ).scalar_one()
    assert people == SALES_WORKSTATIONS  # every order was made by its own person

    assert results["confirmed"] + results["refused"] == SALES_WORKSTATIONS
    assert results["confirmed"] >= 1
    assert transfers["moved"] + transfers["refused"] == CLERK_WORKSTATIONS * TRANSFERS_PER_CLERK

    with engine.connect() as connection:
        stock = connection.execute(
            text("SELECT product_id, warehouse_id, quantity_available, quantity_reserved "
                 "FROM product_inventory")
        ).all()  # fmt: skip
        ledger = dict(
            connection.execute(
                text("SELECT product_id::text || warehouse_id::text, sum(quantity) "
                     "FROM inventory_transactions GROUP BY 1")
            ).all()
        )  # fmt: skip
        reservations = connection.execute(
            text("SELECT oi.product_id, r.warehouse_id, sum(r.quantity) FROM stock_reservations r "
                 "JOIN order_items oi ON oi.id = r.order_item_id GROUP BY 1, 2")
        ).all()  # fmt: skip
        confirmed = connection.execute(
            text("SELECT count(*) FROM orders WHERE status = 'CONFIRMED'")
        ).scalar_one()
        product_stock = dict(
            connection.execute(text("SELECT id, stock_quantity FROM products")).all()
        )

    assert confirmed == results["confirmed"]
    reserved_by_orders = {(p, w): q for p, w, q in reservations}
    for product, warehouse, on_hand, reserved in stock:
        # Never oversold, and reserved is exactly what confirmed orders hold.
        assert 0 <= reserved <= on_hand
        assert reserved == reserved_by_orders.get((product, warehouse), 0)
        # No lost update: the ledger adds up to the stock on hand.
        assert ledger[f"{product}{warehouse}"] == on_hand
    for product in world.products:
        # Transfers move stock, they never make or lose any.
        assert sum(row[2] for row in stock if row[0] == product) == STOCK_PER_PRODUCT
        assert product_stock[product] == STOCK_PER_PRODUCT
    # Every confirmed order holds all it asked for; nobody got a unit twice.
    assert sum(reserved_by_orders.values()) == results["confirmed"] * wanted * PRODUCTS


def test_a_refusal_is_never_a_raw_driver_error(engine: Engine) -> None:
    world = seed(engine)
    orders = OrderService(make_session_factory(engine))
    draft = orders.create_draft(world.sales, world.customer, OrderHeader(ADDRESS))
    draft = orders.add_line(world.sales, draft.id, draft.version, world.products[0], 9)
    pending = orders.submit(world.sales, draft.id, draft.version)
    with pytest.raises(ErpError) as refused:
        orders.confirm(world.sales, pending.id, pending.version, world.main)
    assert refused.value.message.endswith("LAST-0 (Last unit 0) in MAIN: 5 sellable, 9 asked.")
