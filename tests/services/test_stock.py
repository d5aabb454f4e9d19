"""The stock primitives every stock-changing service uses."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.stock import StockKey, StockLedger


def make_product(engine: Engine) -> tuple[uuid.UUID, uuid.UUID]:
    with engine.begin() as connection:
        category = connection.execute(
            text("INSERT INTO product_categories (name) VALUES ('Tools') RETURNING id")
        ).scalar_one()
        product = connection.execute(
            text("INSERT INTO products (sku, name, category_id, price) "
                 "VALUES ('DRILL-1', 'Drill', :c, 99) RETURNING id"),
            {"c": category},
        ).scalar_one()  # fmt: skip
        warehouse = connection.execute(
            text("INSERT INTO warehouses (code, name) VALUES ('MAIN', 'Main') RETURNING id")
        ).scalar_one()
    return product, warehouse


def test_moves_write_the_ledger_and_keep_stock(engine: Engine) -> None:
    product, warehouse = make_product(engine)
    key = StockKey(product, warehouse)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        ledger = StockLedger(session, None)
        ledger.lock([key])
        ledger.move(key, 10, "IN", reason="receipt")
        ledger.reserve(key, 4)
        with pytest.raises(ValidationError, match=r"DRILL-1 in MAIN: 6 can be taken out"):
            ledger.move(key, -7, "OUT")
        level = ledger.move(key, -6, "OUT")
        assert (level.on_hand, level.reserved, level.sellable) == (4, 4, 0)
        with pytest.raises(ValidationError, match="0 sellable, 1 asked"):
            ledger.reserve(key, 1)
    with engine.connect() as connection:
        on_hand, reserved, stock, ledger_sum = connection.execute(
            text("SELECT pi.quantity_available, pi.quantity_reserved, p.stock_quantity, "
                 "(SELECT sum(quantity) FROM inventory_transactions) "
                 "FROM product_inventory pi JOIN products p ON p.id = pi.product_id")
        ).one()  # fmt: skip
    assert (on_hand, reserved, stock, ledger_sum) == (4, 4, 4, 4)


def test_using_stock_that_was_not_locked_is_a_bug(engine: Engine) -> None:
    product, warehouse = make_product(engine)
    with (
        make_session_factory(engine).begin() as session,
        pytest.raises(AssertionError, match="not locked"),
    ):
        StockLedger(session, None).move(StockKey(product, warehouse), 1, "IN")
