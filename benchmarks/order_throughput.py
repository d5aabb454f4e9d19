"""Orders per second through the services, against the same work as hand-written SQL.

    python benchmarks/order_throughput.py postgresql://postgres@127.0.0.1:5432/test [--orders 400]

Creates a scratch database on the given server (dropped afterwards), migrates it, seeds a
catalog with ample stock, then creates and confirms N orders of 5 lines each: through
OrderService (each step its own transaction, as a workstation does it: draft, the five
lines saved together from the order entry form with `add_lines`, submit, confirm with
reservations) with 1 and with 8 concurrent workers, and the same database work as
hand-written SQL over raw psycopg, in the same transactions. Prints orders per second and
the ratio services / raw. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import QueuePool

from erpgo_desktop.config import normalize_url
from erpgo_desktop.db import migrate
from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser
from erpgo_desktop.services.inventory import InventoryService
from erpgo_desktop.services.orders import NewLine, OrderService
from erpgo_desktop.services.security import setup_security
from erpgo_desktop.services.stock import StockKey

LINES = 5
PRODUCTS = 200
PASSWORD = "long enough"
ADDRESS = Address("Ann", "Buyer", "1 Main St", "Springfield", "12345", "USA")


def libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def timed(workers: int, orders: int, place: Callable[[int], None]) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(place, range(orders)))
    return orders / (time.perf_counter() - start)


class Seeded:
    def __init__(self, url: URL) -> None:
        engine = make_engine(url)
        migrate.upgrade(engine)
        setup_security(engine)
        sessions = make_session_factory(engine)
        self.auth = AuthService(sessions)
        self.user: CurrentUser = self.auth.create_user(
            NewUser("bench", "bench@example.com", PASSWORD, "manager", "Bench"), acting=None
        )
        with psycopg.connect(libpq(url), autocommit=True) as conn:
            category = conn.execute(
                "INSERT INTO product_categories (name) VALUES ('Bench') RETURNING id"
            ).fetchone()[0]  # type: ignore[index]
            self.warehouse = conn.execute(
                "INSERT INTO warehouses (code, name) VALUES ('MAIN', 'Main') RETURNING id"
            ).fetchone()[0]  # type: ignore[index]
            self.customer = conn.execute(
                "INSERT INTO customers (first_name, last_name, email, customer_code) "
                "VALUES ('Ann', 'Buyer', 'ann@example.com', 'CUST-000001') RETURNING id"
            ).fetchone()[0]  # type: ignore[index]
            self.products = [
                conn.execute(
                    "INSERT INTO products (sku, name, category_id, price, tax_rate) "
                    "VALUES (%s, %s, %s, 12.34, 8.25) RETURNING id",
                    (f"B-{n}", f"Bench {n}", category),
                ).fetchone()[0]  # type: ignore[index]
                for n in range(PRODUCTS)
            ]
        inventory = InventoryService(sessions)
        for product in self.products:
            inventory.receive(self.user, StockKey(product, self.warehouse), 10_000_000)
        engine.dispose()

    def lines(self, n: int) -> list[uuid.UUID]:
        return [self.products[(n * LINES + i) % PRODUCTS] for i in range(LINES)]


def through_services(url: URL, seeded: Seeded, workers: int, orders: int) -> float:
    signed_in = seeded.auth.sign_in("bench", PASSWORD)
    signed_in.engine.dispose()
    engine = make_engine(
        signed_in.engine.url, poolclass=QueuePool, pool_size=workers, max_overflow=0
    )
    service = OrderService(make_session_factory(engine))
    user = signed_in.user

    def place(n: int) -> None:
        order = service.create_draft(user, seeded.customer, OrderHeader(ADDRESS))
        lines = [NewLine(product, 1 + n % 3) for product in seeded.lines(n)]
        order = service.add_lines(user, order.id, order.version, lines)
        order = service.submit(user, order.id, order.version)
        service.confirm(user, order.id, order.version, seeded.warehouse)

    rate = timed(workers, orders, place)
    engine.dispose()
    return rate


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def raw_sql(url: URL, seeded: Seeded, workers: int, orders: int) -> float:
    # One connection per worker thread, opened once: what a connection pool gives.
    local = threading.local()
    opened: list[psycopg.Connection[tuple[object, ...]]] = []
    user = seeded.user.id

    def connection() -> psycopg.Connection[tuple[object, ...]]:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(libpq(url), autocommit=True)
            opened.append(local.conn)
        return local.conn  # type: ignore[no-any-return]

    def place(n: int) -> None:
        conn = connection()
        with conn.transaction():
            addresses = [
                conn.execute(
                    "INSERT INTO order_addresses (type, first_name, last_name, address1, "
                    "city, postal_code, country) VALUES (%s, 'Ann', 'Buyer', '1 Main St', "
                    "'Springfield', '12345', 'USA') RETURNING id",
                    (kind,),
                ).fetchone()[0]  # type: ignore[index]
                for kind in ("shipping", "billing")
            ]
            order_id, version = conn.execute(
                "INSERT INTO orders (order_number, customer_id, shipping_address_id, "
                "billing_address_id, created_by, updated_by, shipping_amount, total_amount) "
                "VALUES (next_order_number(), %s, %s, %s, %s, %s, 5.99, 5.99) "
                "RETURNING id, version",
                (seeded.customer, *addresses, user, user),
            ).fetchone()  # type: ignore[misc]
        with conn.transaction():
            conn.execute(
                "SELECT o.status, c.tax_exempt FROM orders o JOIN customers c "
                "ON c.id = o.customer_id WHERE o.id = %s AND o.version = %s FOR UPDATE OF o",
                (order_id, version),
            ).fetchone()
            products = seeded.lines(n)
            prices = {
                product: (price, rate)
                for product, price, rate in conn.execute(
                    "SELECT id, price, tax_rate FROM products WHERE id = ANY(%s) AND is_active",
                    (products,),
                )
            }
            quantity = 1 + n % 3
            rows = [
                (order_id, product, quantity, prices[product][0],
                 cents(prices[product][0] * quantity * prices[product][1] / 100))
                for product in products
            ]  # fmt: skip
            conn.execute(
                "INSERT INTO order_items (order_id, product_id, quantity, unit_price, "
                "tax_amount) VALUES " + ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows)),
                [value for row in rows for value in row],
            )
            subtotal, taxes = conn.execute(
                "SELECT sum(total_price), sum(tax_amount) FROM order_items WHERE order_id = %s",
                (order_id,),
            ).fetchone()  # type: ignore[misc]
            shipping = Decimal(0) if subtotal >= 100 else Decimal("5.99")
            version = conn.execute(
                "UPDATE orders SET subtotal = %s, tax_amount = %s, shipping_amount = %s, "
                "total_amount = %s, updated_by = %s, version = version + 1 "
                "WHERE id = %s RETURNING version",
                (subtotal, taxes, shipping, subtotal + taxes + shipping, user, order_id),
            ).fetchone()[0]  # type: ignore[index]
        with conn.transaction():
            version = conn.execute(
                "UPDATE orders SET status = 'PENDING', version = version + 1, updated_by = %s "
                "WHERE id = %s AND version = %s RETURNING version",
                (user, order_id, version),
            ).fetchone()[0]  # type: ignore[index]
        with conn.transaction():
            _, customer, unpaid = conn.execute(
                "SELECT status, customer_id, total_amount - paid_amount FROM orders "
                "WHERE id = %s AND version = %s FOR UPDATE",
                (order_id, version),
            ).fetchone()  # type: ignore[misc]
            items = conn.execute(
                "SELECT id, product_id, quantity FROM order_items WHERE order_id = %s "
                "ORDER BY product_id",
                (order_id,),
            ).fetchall()
            stock = dict(
                conn.execute(
                    "SELECT product_id, quantity_available - quantity_reserved "
                    "FROM product_inventory WHERE warehouse_id = %s AND product_id = ANY(%s) "
                    "ORDER BY product_id FOR UPDATE",
                    (seeded.warehouse, [i[1] for i in items]),
                ).fetchall()
            )
            for _, product, quantity in items:
                assert stock[product] >= quantity
            conn.execute(
                "UPDATE product_inventory SET quantity_reserved = quantity_reserved + "
                "wanted.quantity, last_updated_at = now(), updated_by = %s "
                "FROM unnest(%s::uuid[], %s::int[]) AS wanted(product_id, quantity) "
                "WHERE product_inventory.product_id = wanted.product_id "
                "AND warehouse_id = %s",
                (user, [i[1] for i in items], [i[2] for i in items], seeded.warehouse),
            )
            conn.execute(
                "INSERT INTO stock_reservations (order_item_id, warehouse_id, quantity) "
                "SELECT item, %s, quantity FROM unnest(%s::uuid[], %s::int[]) "
                "AS wanted(item, quantity)",
                (seeded.warehouse, [i[0] for i in items], [i[2] for i in items]),
            )
            # The customer's balance takes the unpaid total, within the credit limit.
            balance, limit = conn.execute(
                "UPDATE customers SET balance = coalesce(balance, 0) + %s, "
                "version = version + 1, updated_by = %s WHERE id = %s "
                "RETURNING balance, credit_limit",
                (unpaid, user, customer),
            ).fetchone()  # type: ignore[misc]
            assert not limit or balance <= limit
            conn.execute(
                "UPDATE orders SET status = 'CONFIRMED', version = version + 1, "
                "updated_by = %s WHERE id = %s",
                (user, order_id),
            )
            conn.execute(
                "UPDATE order_items SET status = 'CONFIRMED' WHERE order_id = %s", (order_id,)
            )

    rate = timed(workers, orders, place)
    for conn in opened:
        conn.close()
    return rate


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[URL]:
    """A new database on the server of `server_url`, dropped at the end whatever happens."""
    admin = normalize_url(server_url)
    name = f"{prefix}_{os.getpid()}"
    with psycopg.connect(libpq(admin), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(admin).set(database=name)
    finally:
        with psycopg.connect(libpq(admin), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="any database on the server; a scratch one is created")
    parser.add_argument("--orders", type=int, default=400)
    args = parser.parse_args()
    with scratch_database(args.url, "erpgo_bench") as url:
        seeded = Seeded(url)
        print(f"{args.orders} orders of {LINES} lines: draft, lines, submit, confirm")
        print(f"{'workers':>8}{'services/s':>12}{'raw SQL/s':>12}{'ratio':>8}")
        for workers in (1, 8):
            ours = through_services(url, seeded, workers, args.orders)
            raw = raw_sql(url, seeded, workers, args.orders)
            print(f"{workers:>8}{ours:>12.1f}{raw:>12.1f}{ours / raw:>8.2f}")


if __name__ == "__main__":
    main()
