"""Change notifications: revision 0004's triggers, heard through ChangeListener."""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

from erpgo_desktop import APP_NAME
from erpgo_desktop.services.notifications import CHANNEL, Change, ChangeListener, parse

DEADLINE = 10.0  # seconds; only ever reached when something is broken


def uid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


CATEGORY, PRODUCT, OTHER_PRODUCT, VARIANT, WAREHOUSE = uid(1), uid(2), uid(3), uid(4), uid(5)
CUSTOMER, ADDRESS, ORDER, USER = uid(6), uid(7), uid(8), uid(9)
NEW = uid(99)

SEED = f"""
INSERT INTO product_categories (id, name) VALUES ('{CATEGORY}', 'Tools');
INSERT INTO products (id, sku, name, category_id, price) VALUES
    ('{PRODUCT}', 'SKU-1', 'Drill', '{CATEGORY}', 100),
    ('{OTHER_PRODUCT}', 'SKU-2', 'Bit', '{CATEGORY}', 5);
INSERT INTO product_variants (id, product_id, sku, name, price)
    VALUES ('{VARIANT}', '{PRODUCT}', 'V-1', 'Red', 100);
INSERT INTO warehouses (id, code, name) VALUES ('{WAREHOUSE}', 'MAIN', 'Main');
INSERT INTO customers (id, first_name, last_name, email)
    VALUES ('{CUSTOMER}', 'Cy', 'Customer', 'c@example.com');
INSERT INTO order_addresses (id, type, first_name, last_name, address1, city, postal_code, country)
    VALUES ('{ADDRESS}', 'shipping', 'Cy', 'C', '1 Road', 'Town', '1000', 'NL');
INSERT INTO orders (id, order_number, customer_id, shipping_address_id, billing_address_id,
                    created_by)
    VALUES ('{ORDER}', '2026-000001', '{CUSTOMER}', '{ADDRESS}', '{ADDRESS}', '{USER}');
"""

# table: (insert, update, delete, the id notified)
CASES: dict[str, tuple[str, str, str, uuid.UUID]] = {
    "products": (
        "INSERT INTO products (id, sku, name, category_id, price) "
        f"VALUES ('{NEW}', 'SKU-9', 'Saw', '{CATEGORY}', 10)",
        f"UPDATE products SET name = 'Big saw' WHERE id = '{NEW}'",
        f"DELETE FROM products WHERE id = '{NEW}'",
        NEW,
    ),
    "product_variants": (
        "INSERT INTO product_variants (id, product_id, sku, name, price) "
        f"VALUES ('{NEW}', '{PRODUCT}', 'V-9', 'Blue', 100)",
        f"UPDATE product_variants SET name = 'Navy' WHERE id = '{NEW}'",
        f"DELETE FROM product_variants WHERE id = '{NEW}'",
        PRODUCT,
    ),
    "product_inventory": (
        "INSERT INTO product_inventory (product_id, warehouse_id) "
        f"VALUES ('{OTHER_PRODUCT}', '{WAREHOUSE}')",
        f"UPDATE product_inventory SET quantity_available = 3 WHERE product_id = '{OTHER_PRODUCT}'",
        f"DELETE FROM product_inventory WHERE product_id = '{OTHER_PRODUCT}'",
        OTHER_PRODUCT,
    ),
    "variant_inventory": (
        "INSERT INTO variant_inventory (variant_id, warehouse_id) "
        f"VALUES ('{VARIANT}', '{WAREHOUSE}')",
        "UPDATE variant_inventory SET quantity_available = 3",
        "DELETE FROM variant_inventory",
        VARIANT,
    ),
    "orders": (
        "INSERT INTO orders (id, order_number, customer_id, shipping_address_id, "
        f"billing_address_id, created_by) VALUES ('{NEW}', '2026-000002', '{CUSTOMER}', "
        f"'{ADDRESS}', '{ADDRESS}', '{USER}')",
        f"UPDATE orders SET notes = 'rush' WHERE id = '{NEW}'",
        f"DELETE FROM orders WHERE id = '{NEW}'",
        NEW,
    ),
    "order_items": (
        "INSERT INTO order_items (id, order_id, product_id, quantity, unit_price) "
        f"VALUES ('{NEW}', '{ORDER}', '{PRODUCT}', 1, 100)",
        f"UPDATE order_items SET notes = 'gift' WHERE id = '{NEW}'",
        f"DELETE FROM order_items WHERE id = '{NEW}'",
        ORDER,
    ),
    "customers": (
        "INSERT INTO customers (id, first_name, last_name, email) "
        f"VALUES ('{NEW}', 'Di', 'D', 'd@example.com')",
        f"UPDATE customers SET notes = 'pays late' WHERE id = '{NEW}'",
        f"DELETE FROM customers WHERE id = '{NEW}'",
        NEW,
    ),
    "warehouses": (
        f"INSERT INTO warehouses (id, code, name) VALUES ('{NEW}', 'EAST', 'East')",
        f"UPDATE warehouses SET name = 'East side' WHERE id = '{NEW}'",
        f"DELETE FROM warehouses WHERE id = '{NEW}'",
        NEW,
    ),
}  # fmt: skip


class Heard:
    """What a running listener hears, read up to a marker notification that the test sends
    itself: everything committed before the marker has then arrived, with no waiting."""

    def __init__(self, engine: Engine, listener: ChangeListener) -> None:
        self.engine = engine
        self.listener = listener
        self.queue: queue.Queue[Change] = queue.Queue()
        self._markers = itertools.count()
        self.thread = threading.Thread(target=listener.run, args=(self.queue.put,), daemon=True)
        self.thread.start()

    def send_marker(self) -> str:
        op = f"marker-{next(self._markers)}"
        with self.engine.begin() as connection:
            connection.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": CHANNEL, "payload": json.dumps({"table": "test", "op": op, "ids": []})},
            )
        return op

    def until_marker(self) -> list[Change]:
        """The changes heard before a marker sent now."""
        op = self.send_marker()
        heard: list[Change] = []
        while (change := self.queue.get(timeout=DEADLINE)) != Change("test", op, ()):
            heard.append(change)
        return heard

    def wait_until_listening(self) -> None:
        """Markers sent before the LISTEN are lost; send them until one is heard."""
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            op = self.send_marker()
            try:
                while self.queue.get(timeout=0.2) != Change("test", op, ()):
                    pass
            except queue.Empty:
                continue
            return
        raise AssertionError("the listener never started listening")


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.exec_driver_sql(SEED)
    return engine


@pytest.fixture
def heard(seeded: Engine, database_url: URL) -> Iterator[Heard]:
    listener = ChangeListener(database_url, wait=0.05, backoff=(0.05,))
    heard = Heard(seeded, listener)
    heard.wait_until_listening()
    yield heard
    listener.stop()
    heard.thread.join(timeout=DEADLINE)
    assert not heard.thread.is_alive()


def commit(engine: Engine, statement: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement))


@pytest.mark.parametrize("table", sorted(CASES))
def test_each_change_is_heard_with_its_ids(heard: Heard, table: str) -> None:
    *statements, notified = CASES[table]
    for op, statement in zip(("INSERT", "UPDATE", "DELETE"), statements, strict=True):
        commit(heard.engine, statement)
        changes = heard.until_marker()
        # Triggers may add other tables' changes (stock updates products' totals).
        assert Change(table, op, (notified,)) in changes, (op, changes)
        assert [c for c in changes if c.table == table] == [Change(table, op, (notified,))]


def test_nothing_is_heard_before_commit_or_after_rollback(heard: Heard) -> None:
    insert = CASES["customers"][0]
    with heard.engine.connect() as connection:
        connection.execute(text(insert))
        assert heard.until_marker() == []  # not committed yet
        connection.rollback()
    assert heard.until_marker() == []  # rolled back: nothing at all
    with heard.engine.connect() as connection:
        connection.execute(text(insert))
        assert heard.until_marker() == []
        connection.commit()
    assert heard.until_marker() == [Change("customers", "INSERT", (NEW,))]


@pytest.mark.parametrize(("rows", "listed"), [(100, True), (101, False)])
def test_more_than_100_ids_are_sent_as_reload_all(heard: Heard, rows: int, listed: bool) -> None:
    commit(
        heard.engine,
        "INSERT INTO customers (first_name, last_name, email) "
        f"SELECT 'C', 'N', 'c' || n || '@example.com' FROM generate_series(1, {rows}) n",
    )
    (change,) = heard.until_marker()
    assert (change.table, change.op) == ("customers", "INSERT")
    if listed:
        assert change.ids is not None and len(set(change.ids)) == rows
    else:
        assert change.ids is None


def test_one_id_per_record_refreshed(heard: Heard) -> None:
    """Three new lines of one order: the order is named once."""
    commit(
        heard.engine,
        "INSERT INTO order_items (order_id, product_id, quantity, unit_price) "
        f"SELECT '{ORDER}', '{PRODUCT}', n, 100 FROM generate_series(1, 3) n",
    )
    assert heard.until_marker() == [Change("order_items", "INSERT", (ORDER,))]


def test_a_lost_connection_is_reopened_and_says_reload(heard: Heard) -> None:
    with heard.engine.begin() as connection:
        ended = connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE application_name = :name AND datname = current_database()"),
            {"name": f"{APP_NAME} changes"},
        ).scalars().all()  # fmt: skip
    assert ended == [True]
    assert heard.queue.get(timeout=DEADLINE) == Change.reload_everything()
    commit(heard.engine, CASES["warehouses"][0])
    assert heard.until_marker() == [Change("warehouses", "INSERT", (NEW,))]


def test_stop_ends_the_pause_between_reconnects(seeded: Engine, database_url: URL) -> None:
    listener = ChangeListener(database_url.set(port=1), backoff=(3600,), connect_timeout=1)
    thread = threading.Thread(target=listener.run, args=(print,), daemon=True)
    thread.start()
    listener.stop()
    thread.join(timeout=DEADLINE)  # not the hour's pause
    assert not thread.is_alive()


def test_stop_with_the_default_wait(seeded: Engine, database_url: URL) -> None:
    listener = ChangeListener(database_url)
    heard = Heard(seeded, listener)
    heard.wait_until_listening()
    started = time.monotonic()
    listener.stop()
    heard.thread.join(timeout=DEADLINE)
    assert not heard.thread.is_alive()
    assert time.monotonic() - started < 2  # the default wait is a quarter second


def test_payloads_not_of_ours_are_ignored() -> None:
    assert parse('{"table": "orders", "op": "UPDATE", "ids": null}') == Change(
        "orders", "UPDATE", None
    )
    for payload in ("reload", "[]", '{"table": "orders"}', '{"table": 1, "op": "X", "ids": []}',
                    '{"table": "t", "op": "X", "ids": ["not-a-uuid"]}'):  # fmt: skip
        assert parse(payload) is None
    assert Change.reload_everything().concerns("orders")
    assert not Change("customers", "UPDATE", ()).concerns("orders")


def test_a_change_says_whether_this_program_made_it(heard: Heard, database_url: URL) -> None:
    """Our connections name this running program (application_name); someone else's
    change, from any other program or workstation, is not ours."""
    insert, update, _ = CASES["customers"][:3]
    commit(heard.engine, insert)
    (ours,) = [c for c in heard.until_marker() if c.table == "customers"]
    assert ours.is_own
    conninfo = database_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, application_name="someone else", autocommit=True) as other:
        other.execute(update)
    (theirs,) = [c for c in heard.until_marker() if c.table == "customers"]
    assert theirs.origin == "someone else" and not theirs.is_own
