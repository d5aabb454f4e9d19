"""Helpers of the backup tests: a database with demo data and a few service actions on
top, and the figures a round trip must keep (row counts and column sums per table)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.engine import URL, Engine

from erpgo_desktop.db.demo_data import DemoDataSize, generate_demo_data
from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.db.models import Base
from erpgo_desktop.domain.orders import OrderHeader
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser
from erpgo_desktop.services.inventory import InventoryService
from erpgo_desktop.services.orders import OrderService
from erpgo_desktop.services.stock import StockKey
from tests.services.test_orders_support import ADDRESS

SMALL = DemoDataSize(products=60, customers=15, orders=80, warehouses=2)


class Recorder:
    """A progress callback that remembers every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.calls.append((stage, done, total))

    def stages(self) -> list[str]:
        return list(dict.fromkeys(stage for stage, _, _ in self.calls))

    def last(self, stage: str) -> tuple[int, int]:
        done, total = next((d, t) for s, d, t in reversed(self.calls) if s == stage)
        return done, total


@dataclass(frozen=True)
class Filled:
    admin: CurrentUser
    sales: CurrentUser


def fill(url: URL) -> Filled:
    """Demo data, then a few changes through the services: users, stock received,
    adjusted and moved, a draft order with a line."""
    generate_demo_data(url, SMALL, seed=11)
    engine = make_engine(url)
    try:
        sessions = make_session_factory(engine)
        auth = AuthService(sessions)
        admin = auth.create_user(
            NewUser("boss", "boss@example.com", "password1", "admin", "Boss"), acting=None
        )
        sales = auth.create_user(
            NewUser("seller", "seller@example.com", "password1", "sales", "Seller"), acting=None
        )
        with engine.connect() as connection:
            product, price = connection.execute(
                sa.text("SELECT id, price FROM products WHERE is_active ORDER BY sku LIMIT 1")
            ).one()
            main, east = connection.execute(
                sa.text("SELECT id FROM warehouses ORDER BY code LIMIT 2")
            ).scalars()
            customer = connection.execute(
                sa.text("SELECT id FROM customers WHERE status = 'ACTIVE' ORDER BY email LIMIT 1")
            ).scalar_one()
        inventory = InventoryService(sessions)
        inventory.receive(admin, StockKey(product, main), 40, note="backup test")
        inventory.adjust(admin, StockKey(product, main), -3, "broken in the backup test")
        inventory.transfer(admin, StockKey(product, main), east, 5)
        orders = OrderService(sessions)
        draft = orders.create_draft(admin, uuid.UUID(str(customer)), OrderHeader(ADDRESS))
        orders.add_line(admin, draft.id, draft.version, product, 2, unit_price=price)
    finally:
        engine.dispose()
    return Filled(admin=admin, sales=sales)


def figures(url: URL) -> dict[str, tuple[object, ...]]:
    """Per table of the models: its row count and the sum of every number column (money,
    quantities, stock levels), found from the metadata rather than listed by hand."""
    engine = make_engine(url)
    try:
        return _figures(engine)
    finally:
        engine.dispose()


def number_columns(table: sa.Table) -> list[sa.Column[object]]:
    return [column for column in table.columns if isinstance(column.type, (sa.Numeric, sa.Integer))]


#: Grows by a restore's own work (setting the roles up is a change of users), so compared
#: by `history_kept` instead: every change of the source is in the copy.
_GROWING = ("change_log",)


def history_kept(source: URL, copy: URL) -> bool:
    def ids(url: URL) -> set[int]:
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                return set(connection.execute(sa.text("SELECT id FROM change_log")).scalars())
        finally:
            engine.dispose()

    kept = ids(source)
    return bool(kept) and kept <= ids(copy)


def _figures(engine: Engine) -> dict[str, tuple[object, ...]]:
    result: dict[str, tuple[object, ...]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in _GROWING:
                continue
            columns = [sa.func.count()] + [sa.func.sum(c) for c in number_columns(table)]
            result[table.name] = tuple(connection.execute(sa.select(*columns)).one())
    return result


def drop_database(admin_url: URL, name: str) -> None:
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def database_exists(admin_url: URL, name: str) -> bool:
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            is not None
        )
