"""The stock rows' kept values and the valuation's kept totals (revision 0019) against a
plain recomputation from quantities, costs and prices, after every kind of write that
changes them: stock moves, reservations, an item's cost or price, a variant taking its
product's cost, a variant moved to another product, rows written or deleted directly by
the schema's owner, a TRUNCATE. The report's pages sorted by value and its totals follow.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.services.inventory import InventoryService
from erpgo_desktop.services.reports import Report, ReportService
from erpgo_desktop.services.stock import StockKey
from tests.services.test_orders_support import World, make_world, receive
from tests.services.test_reports import every_row

#: Every stock row: its kept values and the values recomputed from the item.
RECOMPUTED = """
SELECT 'p', pi.product_id, pi.warehouse_id, pi.quantity_available, pi.quantity_reserved,
       pi.value_at_cost, pi.quantity_available * p.cost,
       pi.value_at_price, pi.quantity_available * p.price
FROM product_inventory pi JOIN products p ON p.id = pi.product_id
UNION ALL
SELECT 'v', vi.variant_id, vi.warehouse_id, vi.quantity_available, vi.quantity_reserved,
       vi.value_at_cost,
       vi.quantity_available * CASE WHEN v.cost > 0 THEN v.cost ELSE p.cost END,
       vi.value_at_price, vi.quantity_available * v.price
FROM variant_inventory vi JOIN product_variants v ON v.id = vi.variant_id
JOIN products p ON p.id = v.product_id
"""


def recomputed(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(RECOMPUTED)).all()]


def assert_kept(engine: Engine, reports: ReportService, world: World) -> None:
    """Every kept value equals its recomputation; the report by value and its totals
    (whole and per warehouse) equal the plain figures."""
    rows = recomputed(engine)
    for kind, item, warehouse, _on, _res, cost, plain_cost, price, plain_price in rows:
        assert (cost, price) == (plain_cost, plain_price), (kind, item, warehouse)
    on_hand = [row for row in rows if row[3] > 0]
    for warehouse in (None, world.main, world.east):
        mine = [row for row in on_hand if warehouse in (None, row[2])]
        totals = reports.totals(world.manager, Report.INVENTORY_VALUATION, warehouse_id=warehouse)
        assert totals.count == len(mine)
        assert totals.sums == {
            "on_hand": sum(row[3] for row in mine),
            "reserved": sum(row[4] for row in mine),
            "value_at_cost": sum((row[6] for row in mine), Decimal(0)),
            "value_at_price": sum((row[8] for row in mine), Decimal(0)),
        }
        # The same figures as the report's aggregate over its rows (a search that
        # matches every SKU takes that path).
        searched = reports.totals(
            world.manager, Report.INVENTORY_VALUATION, warehouse_id=warehouse, search="SKU"
        )
        assert (searched.count, searched.sums) == (totals.count, totals.sums)
    for sort, column in (("value_at_cost", 6), ("value_at_price", 8), ("on_hand", 3)):
        page = every_row(
            reports.inventory_valuation, acting=world.manager, sort=sort, descending=True, limit=2
        )
        expected = sorted(
            ((row[column], row[1], row[2]) for row in on_hand), key=lambda key: key, reverse=True
        )
        assert [(getattr(r, sort), r.variant_id or r.product_id, r.warehouse_id) for r in page] == (
            expected
        )


@pytest.fixture
def world(engine: Engine) -> World:
    return make_world(engine)


@pytest.fixture
def reports(engine: Engine) -> ReportService:
    return ReportService(make_session_factory(engine))


def execute(engine: Engine, statement: str, **params: Any) -> Any:
    with engine.begin() as connection:
        return connection.execute(text(statement), params)


def variant_of(engine: Engine, product: uuid.UUID, sku: str, price: str, cost: str) -> uuid.UUID:
    with engine.begin() as connection:
        return uuid.UUID(
            str(
                connection.execute(
                    text(
                        "INSERT INTO product_variants (product_id, sku, name, price, cost) "
                        "VALUES (:p, :sku, :sku, :price, :cost) RETURNING id"
                    ),
                    {"p": product, "sku": sku, "price": Decimal(price), "cost": Decimal(cost)},
                ).scalar_one()
            )
        )


def test_kept_values_follow_every_write(
    engine: Engine, world: World, reports: ReportService
) -> None:
    cheap = world.product("10.00", stock={world.main: 5, world.east: 2})
    dear = world.product("99.00", stock={world.main: 3})
    world.product("5.00")  # no stock row at all
    own_cost = variant_of(engine, cheap, "SKU-V-OWN", "12.00", "7.50")
    takes_cost = variant_of(engine, cheap, "SKU-V-TAKES", "11.00", "0")
    receive(engine, cheap, {world.main: 4, world.east: 1}, variant=own_cost)
    receive(engine, cheap, {world.main: 6}, variant=takes_cost)
    assert_kept(engine, reports, world)

    # The items' costs and prices.
    execute(engine, "UPDATE products SET cost = 4.00 WHERE id = :p", p=cheap)
    execute(engine, "UPDATE products SET cost = 60.00, price = 120.00 WHERE id = :p", p=dear)
    assert_kept(engine, reports, world)
    execute(engine, "UPDATE product_variants SET cost = 0, price = 13 WHERE id = :v", v=own_cost)
    assert_kept(engine, reports, world)  # now at its product's cost
    execute(engine, "UPDATE product_variants SET cost = 2.25 WHERE id = :v", v=takes_cost)
    execute(engine, "UPDATE products SET cost = 5.00 WHERE id = :p", p=cheap)
    assert_kept(engine, reports, world)
    execute(engine, "UPDATE product_variants SET product_id = :p WHERE id = :v", p=dear, v=own_cost)
    assert_kept(engine, reports, world)  # at its new product's cost

    # Stock moves, reservations, a row emptied (it leaves the report and its count).
    inventory = InventoryService(make_session_factory(engine))
    inventory.adjust(world.clerk, StockKey(cheap, world.main), -5, "counted")
    inventory.transfer(world.clerk, StockKey(dear, world.main), world.east, 1)
    execute(
        engine,
        "UPDATE product_inventory SET quantity_reserved = 1 WHERE product_id = :p",
        p=dear,
    )
    assert_kept(engine, reports, world)

    # The owner writing the kept columns, or rows, directly: the database values them.
    execute(engine, "UPDATE product_inventory SET value_at_cost = 999999, value_at_price = 1")
    execute(
        engine,
        "INSERT INTO variant_inventory (variant_id, warehouse_id, quantity_available, "
        "value_at_cost) VALUES (:v, :w, 3, 123456)",
        v=takes_cost,
        w=world.east,
    )
    assert_kept(engine, reports, world)
    execute(engine, "DELETE FROM product_inventory WHERE product_id = :p", p=dear)
    assert_kept(engine, reports, world)
    execute(engine, "TRUNCATE variant_inventory")
    assert_kept(engine, reports, world)


def test_a_deleted_product_takes_its_stock_out_of_the_totals(
    engine: Engine, world: World, reports: ReportService
) -> None:
    kept = world.product("10.00", stock={world.main: 2})
    gone = world.product("20.00", stock={world.main: 3, world.east: 4})
    variant_of(engine, gone, "SKU-GONE-V", "21.00", "0")
    execute(engine, "UPDATE products SET cost = 8 WHERE id IN (:a, :b)", a=kept, b=gone)
    execute(engine, "DELETE FROM products WHERE id = :p", p=gone)  # cascades to its stock
    assert_kept(engine, reports, world)
    totals = reports.totals(world.manager, Report.INVENTORY_VALUATION)
    assert (totals.count, totals.sums["value_at_cost"]) == (1, Decimal("16.00"))
