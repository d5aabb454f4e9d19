"""Dashboard figures checked against direct SQL on generated data.

The summaries of revision 0006 are kept by triggers; after a mix of service actions
(receipts, adjustments, transfers, orders through their life, cancels, returns, payments)
and direct changes (prices, category moves, deletes, order dates), every figure the
service gives must equal the same sum written plainly over the base tables.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

from erpgo_desktop.db.demo_data import DemoDataSize, generate_demo_data
from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.errors import PermissionDeniedError, ValidationError
from erpgo_desktop.services import dashboard as dashboard_module
from erpgo_desktop.services.dashboard import SALE_STATUSES, DashboardService, period_start
from erpgo_desktop.services.inventory import InventoryService
from erpgo_desktop.services.stock import StockKey
from tests.services.test_orders_support import World, receive, unique, world

__all__ = ["world"]

SALE_SQL = "status IN (" + ", ".join(f"'{s}'" for s in SALE_STATUSES) + ")"
TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
def dashboard(world: World) -> DashboardService:
    return DashboardService(make_session_factory(world.engine))


@pytest.fixture(scope="module")
def generated(world: World) -> Iterator[World]:
    """Stock and orders made by the services, then prices, categories and dates moved."""
    rng = random.Random(5)
    inventory = InventoryService(make_session_factory(world.engine))
    admin = world.admin
    products = [world.product(f"{rng.randint(2, 90)}.{rng.randint(0, 99):02d}") for _ in range(8)]
    with world.engine.begin() as connection:
        connection.execute(
            text("UPDATE products SET cost = round(price * 0.6, 2) WHERE id = ANY(:ids)"),
            {"ids": products},
        )
        variant = connection.execute(
            text(
                "INSERT INTO product_variants (product_id, sku, name, price, cost) "
                "VALUES (:p, :sku, 'Large', 55.50, 20.25) RETURNING id"
            ),
            {"p": products[0], "sku": unique("VAR")},
        ).scalar_one()
    for product in products:
        inventory.receive(admin, StockKey(product, world.main), rng.randint(50, 90))
        inventory.receive(admin, StockKey(product, world.east), rng.randint(10, 30))
    receive(world.engine, products[0], {world.main: 7, world.east: 3}, variant=variant)
    inventory.adjust(admin, StockKey(products[1], world.main), -4, "damaged")
    inventory.transfer(admin, StockKey(products[2], world.main), world.east, 6)
    inventory.count(admin, StockKey(products[3], world.east), 2)

    def lines() -> list[tuple[uuid.UUID, int]]:
        return [(p, rng.randint(1, 4)) for p in rng.sample(products[:6], rng.randint(1, 3))]

    world.draft(lines())  # a draft is no sale
    pending = [world.pending(lines()) for _ in range(3)]
    world.orders.cancel(world.manager, pending[0].id, pending[0].version)
    confirmed = [world.confirmed(lines()) for _ in range(3)]
    world.orders.record_payment(
        world.manager, confirmed[0].id, confirmed[0].version, Decimal("5.00")
    )
    shipped = [world.shipped(lines()) for _ in range(4)]
    delivered = world.orders.deliver(world.clerk, shipped[0].id, shipped[0].version)
    first_line = delivered.lines[0]
    world.orders.return_goods(
        world.manager, delivered.id, delivered.version, world.main, {first_line.id: 1}
    )
    cancelled = world.orders.cancel(world.manager, confirmed[1].id, confirmed[1].version)
    assert cancelled.status == "CANCELLED"
    changed = world.draft(lines())
    changed = world.orders.change_line(
        world.sales, changed.id, changed.version, changed.lines[0].id, quantity=3
    )
    world.orders.submit(world.sales, changed.id, changed.version)

    with world.engine.begin() as connection:
        # Orders spread over past days, some due and unpaid, one dated away after confirming.
        order_ids = connection.execute(text("SELECT id FROM orders ORDER BY id")).scalars().all()
        for index, order_id in enumerate(order_ids):
            connection.execute(
                text(
                    "UPDATE orders SET order_date = now() - make_interval(days => :back), "
                    "required_date = now() - make_interval(days => :due) WHERE id = :o"
                ),
                {"back": index * 3 % 40, "due": index % 7 - 2, "o": order_id},
            )
        connection.execute(
            text("UPDATE products SET price = price + 1, cost = cost + 0.5 WHERE id = :p"),
            {"p": products[4]},
        )
        other = connection.execute(
            text("SELECT category_id FROM products WHERE id = :p"), {"p": products[5]}
        ).scalar_one()
        connection.execute(
            text("UPDATE products SET category_id = :c WHERE id IN (:a, :b)"),
            {"c": other, "a": products[0], "b": products[6]},
        )
        connection.execute(
            text("UPDATE product_variants SET price = 60, cost = 21 WHERE id = :v"),
            {"v": variant},
        )
        connection.execute(text("DELETE FROM products WHERE id = :p"), {"p": products[7]})
        connection.execute(
            text("DELETE FROM orders WHERE id = :o"), {"o": pending[1].id}
        )  # its lines go with it
        connection.execute(
            text("DELETE FROM order_items WHERE id = :i"), {"i": shipped[3].lines[-1].id}
        )
    yield world


def _rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql), params)]


def direct_stock(engine: Engine, warehouse: uuid.UUID | None) -> dict[str, dict[Any, Any]]:
    stock = """
        SELECT pi.warehouse_id, p.category_id, pi.quantity_available AS units,
               pi.quantity_available * p.cost AS at_cost,
               pi.quantity_available * p.price AS at_price
        FROM product_inventory pi JOIN products p ON p.id = pi.product_id
        UNION ALL
        SELECT vi.warehouse_id, p.category_id, vi.quantity_available,
               vi.quantity_available * v.cost, vi.quantity_available * v.price
        FROM variant_inventory vi JOIN product_variants v ON v.id = vi.variant_id
        JOIN products p ON p.id = v.product_id
    """
    where = "WHERE warehouse_id = :w" if warehouse else ""
    result = {}
    for key in ("warehouse_id", "category_id"):
        result[key] = {
            row[0]: (row[1], row[2], int(row[3]))
            for row in _rows(
                engine,
                f"SELECT {key}, sum(at_cost), sum(at_price), sum(units) FROM ({stock}) s "
                f"{where} GROUP BY {key} HAVING sum(units) <> 0",
                w=warehouse,
            )
        }
    return result


def test_stock_value_equals_direct_sql(generated: World, dashboard: DashboardService) -> None:
    for warehouse in (None, generated.main, generated.east):
        value = dashboard.stock_value(generated.manager, warehouse)
        expected = direct_stock(generated.engine, warehouse)
        by_warehouse = {
            row.key: (row.at_cost, row.at_price, row.units)
            for row in value.by_warehouse
            if row.units
        }
        by_category = {row.key: (row.at_cost, row.at_price, row.units) for row in value.by_category}
        assert by_warehouse == expected["warehouse_id"]
        assert by_category == expected["category_id"]
        assert value.units == sum(units for _, _, units in expected["warehouse_id"].values())
        assert [row.at_cost for row in value.by_category] == sorted(
            (row.at_cost for row in value.by_category), reverse=True
        )
    assert len(dashboard.stock_value(generated.manager, generated.east).by_warehouse) == 1


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_sales_equal_direct_sql(generated: World, dashboard: DashboardService, grain: str) -> None:
    start, end = TODAY - timedelta(days=45), TODAY
    points = dashboard.sales(generated.manager, start, end, grain, generated.main)
    period = "day" if grain == "day" else f"date_trunc('{grain}', day)::date"
    expected = {
        row[0]: (int(row[1]), row[2])
        for row in _rows(
            generated.engine,
            f"SELECT {period}, count(*), sum(total_amount) FROM "
            "(SELECT (order_date AT TIME ZONE 'UTC')::date AS day, total_amount FROM orders "
            f"WHERE {SALE_SQL}) o WHERE day BETWEEN :s AND :e GROUP BY 1",
            s=start,
            e=end,
        )
    }
    assert {p.period: (p.orders, p.revenue) for p in points if p.orders} == expected
    assert sum(p.orders for p in points) > 5
    # Every period present, consecutive, zeros included.
    assert points[0].period == period_start(start, grain)
    assert points[-1].period == period_start(end, grain)
    assert len({p.period for p in points}) == len(points)
    if grain == "day":
        assert len(points) == 46


def test_top_products_and_customers_equal_direct_sql(
    generated: World, dashboard: DashboardService
) -> None:
    start, end = TODAY - timedelta(days=30), TODAY
    products = dashboard.top_products(generated.manager, start, end, limit=1000)
    expected = _rows(
        generated.engine,
        "SELECT i.product_id, sum(i.quantity), sum(i.final_price) FROM order_items i "
        "JOIN orders o ON o.id = i.order_id WHERE o."
        + SALE_SQL
        + " AND (o.order_date AT TIME ZONE 'UTC')::date BETWEEN :s AND :e "
        "GROUP BY 1 ORDER BY 3 DESC, 1",
        s=start,
        e=end,
    )
    assert [(r.key, r.quantity, r.revenue) for r in products] == [
        (r[0], int(r[1]), r[2]) for r in expected
    ]
    assert products and all("(SKU-" in row.label for row in products)
    top_three = dashboard.top_products(generated.manager, start, end, limit=3)
    assert top_three == products[:3]

    customers = dashboard.top_customers(generated.manager, start, end, limit=1000)
    expected = _rows(
        generated.engine,
        "SELECT customer_id, count(*), sum(total_amount) FROM orders WHERE "
        + SALE_SQL
        + " AND (order_date AT TIME ZONE 'UTC')::date BETWEEN :s AND :e "
        "GROUP BY 1 ORDER BY 3 DESC, 1",
        s=start,
        e=end,
    )
    assert [(r.key, r.quantity, r.revenue) for r in customers] == [
        (r[0], int(r[1]), r[2]) for r in expected
    ]
    assert customers[0].label.startswith("Ada Lovelace-")


def test_pipeline_equals_direct_sql(generated: World, dashboard: DashboardService) -> None:
    for start, end in ((None, None), (TODAY - timedelta(days=10), TODAY)):
        counts = dashboard.pipeline(generated.manager, start, end)
        where = "WHERE (order_date AT TIME ZONE 'UTC')::date BETWEEN :s AND :e" if start else ""
        expected = {
            row[0]: (int(row[1]), row[2])
            for row in _rows(
                generated.engine,
                f"SELECT status, count(*), sum(total_amount) FROM orders {where} GROUP BY 1",
                s=start,
                e=end,
            )
        }
        assert [c.status for c in counts][:3] == ["DRAFT", "PENDING", "CONFIRMED"]
        assert len(counts) == 11
        assert {c.status: (c.orders, c.value) for c in counts if c.orders} == expected
        if start is None:
            assert {"DRAFT", "PENDING", "CANCELLED", "SHIPPED", "RETURNED"} <= set(expected)


def test_overdue_unpaid_equals_direct_sql(generated: World, dashboard: DashboardService) -> None:
    rows = dashboard.overdue_unpaid(generated.manager, TODAY)
    expected = _rows(
        generated.engine,
        "SELECT id, total_amount, paid_amount, :t - (required_date AT TIME ZONE 'UTC')::date "
        "FROM orders WHERE " + SALE_SQL + " AND paid_amount < total_amount "
        "AND (required_date AT TIME ZONE 'UTC')::date < :t ORDER BY required_date, id",
        t=TODAY,
    )
    assert [(r.order_id, r.total_amount, r.paid_amount, r.days_overdue) for r in rows] == [
        tuple(r) for r in expected
    ]
    assert rows and all(r.days_overdue >= 1 and r.unpaid > 0 for r in rows)
    assert all(r.customer_name.startswith("Ada ") for r in rows)
    assert dashboard.overdue_unpaid(generated.manager, TODAY, limit=1) == rows[:1]


def test_key_figures_equal_the_panels_and_direct_sql(
    generated: World, dashboard: DashboardService
) -> None:
    start, end = TODAY - timedelta(days=30), TODAY
    manager = generated.manager
    with generated.engine.begin() as connection:
        connection.execute(text("UPDATE product_inventory SET reorder_level = 40"))
    try:
        for warehouse in (None, generated.east):
            figures = dashboard.key_figures(manager, start, end, warehouse)
            stock = dashboard.stock_value(manager, warehouse)
            assert (figures.stock_at_cost, figures.stock_at_price) == (
                stock.at_cost,
                stock.at_price,
            )
            low = dashboard.low_stock(manager, warehouse, limit=1000)
            assert figures.low_stock == len(low) > 0
        sales = dashboard.sales(manager, start, end, "day")
        assert figures.sales_orders == sum(point.orders for point in sales) > 0
        assert figures.sales_revenue == sum(point.revenue for point in sales)
        open_orders = _rows(
            generated.engine,
            "SELECT count(*), coalesce(sum(total_amount), 0) FROM orders WHERE status IN "
            "('PENDING', 'CONFIRMED', 'PROCESSING', 'ON_HOLD', 'PARTIALLY_SHIPPED')",
        )[0]
        assert (figures.open_orders, figures.open_value) == (open_orders[0], open_orders[1])
        assert figures.open_orders > 0
        # An inactive product's rows leave the list and the count together.
        drop = low[0]
        with generated.engine.begin() as connection:
            connection.execute(
                text("UPDATE products SET is_active = false WHERE id = :p"), {"p": drop.product_id}
            )
        after = dashboard.key_figures(manager, start, end, generated.east)
        listed = dashboard.low_stock(manager, generated.east, limit=1000)
        assert after.low_stock == len(listed) < figures.low_stock
        assert all(row.product_id != drop.product_id for row in listed)
        with generated.engine.begin() as connection:
            connection.execute(
                text("UPDATE products SET is_active = true WHERE id = :p"), {"p": drop.product_id}
            )
        assert dashboard.key_figures(manager, start, end, generated.east) == figures
    finally:
        with generated.engine.begin() as connection:
            connection.execute(text("UPDATE product_inventory SET reorder_level = 0"))


def test_low_stock_is_the_inventory_query(generated: World, dashboard: DashboardService) -> None:
    inventory = InventoryService(make_session_factory(generated.engine))
    with generated.engine.begin() as connection:
        connection.execute(text("UPDATE product_inventory SET reorder_level = 40"))
    try:
        rows = dashboard.low_stock(generated.manager, generated.east, limit=5)
        page = inventory.low_stock(generated.admin, generated.east, limit=5)
        assert rows == page.rows
        assert rows and all(row.sellable <= row.reorder_level for row in rows)
        assert all(row.reorder_quantity > 0 for row in rows)
    finally:
        with generated.engine.begin() as connection:
            connection.execute(text("UPDATE product_inventory SET reorder_level = 0"))


def _direct_top_products(engine: Engine, start: date, end: date, limit: int) -> list[Any]:
    rows = _rows(
        engine,
        "SELECT i.product_id, sum(i.quantity), sum(i.final_price) FROM order_items i "
        "JOIN orders o ON o.id = i.order_id WHERE o."
        + SALE_SQL
        + " AND (o.order_date AT TIME ZONE 'UTC')::date BETWEEN :s AND :e "
        "GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT :n",
        s=start,
        e=end,
        n=limit,
    )
    return [(r[0], int(r[1]), r[2]) for r in rows]


def test_top_products_over_partial_months_equal_direct_sql(
    generated: World, dashboard: DashboardService
) -> None:
    # Ranges starting and ending inside a month, so whole months come from the month table
    # and the edges from the days; some with nothing folded yet.
    ranges = [
        (TODAY - timedelta(days=40), TODAY),
        (TODAY - timedelta(days=75), TODAY - timedelta(days=9)),
        (TODAY - timedelta(days=400), TODAY - timedelta(days=2)),
    ]
    extra = generated.pending([(generated.product("12.34"), 2)])
    for start, end in ranges:
        for limit in (1, 2, 5, 1000):
            got = dashboard.top_products(generated.manager, start, end, limit=limit)
            expected = _direct_top_products(generated.engine, start, end, limit)
            assert [(r.key, r.quantity, r.revenue) for r in got] == expected
            customers = dashboard.top_customers(generated.manager, start, end, limit=limit)
            expected = _direct_top_customers(generated.engine, start, end, limit)
            assert [(r.key, r.quantity, r.revenue) for r in customers] == expected
    today = dashboard.top_products(generated.manager, *ranges[0], limit=1000)
    assert any(row.key == extra.lines[0].product_id for row in today)

    # The month table is the day table summed by month, after a fold.
    with generated.engine.begin() as connection:
        connection.execute(text("SELECT dashboard_fold()"))
    by_month = set(
        _rows(
            generated.engine,
            "SELECT product_id, month, quantity, revenue FROM dashboard_product_month",
        )
    )
    from_days = set(
        _rows(
            generated.engine,
            "SELECT product_id, date_trunc('month', day)::date, sum(quantity), sum(revenue) "
            "FROM dashboard_product_day GROUP BY 1, 2",
        )
    )
    assert by_month == from_days and by_month
    customer_months = set(
        _rows(
            generated.engine,
            "SELECT customer_id, month, orders, revenue FROM dashboard_customer_month",
        )
    )
    customer_days = set(
        _rows(
            generated.engine,
            "SELECT customer_id, date_trunc('month', day)::date, sum(orders), sum(revenue) "
            "FROM dashboard_customer_day GROUP BY 1, 2",
        )
    )
    assert customer_months == customer_days and customer_months


def _direct_top_customers(engine: Engine, start: date, end: date, limit: int) -> list[Any]:
    rows = _rows(
        engine,
        "SELECT customer_id, count(*), sum(total_amount) FROM orders WHERE "
        + SALE_SQL
        + " AND (order_date AT TIME ZONE 'UTC')::date BETWEEN :s AND :e "
        "GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT :n",
        s=start,
        e=end,
        n=limit,
    )
    return [(r[0], int(r[1]), r[2]) for r in rows]


def test_top_customers_threshold_proves_or_declines(
    generated: World, dashboard: DashboardService
) -> None:
    start, end = TODAY - timedelta(days=75), TODAY - timedelta(days=3)
    full_from = (period_start(start, "month") + timedelta(days=32)).replace(day=1)
    full_until = period_start(end + timedelta(days=1), "month")
    factory = make_session_factory(generated.engine)
    outcomes = []
    for limit in (1, 2, 3):
        for depth in (1, 2, 50):
            with factory() as session:
                found = dashboard_module._top_by_month_once(
                    session,
                    dashboard_module._TOP_CUSTOMERS_BY_MONTH,
                    dashboard_module._top_customer,
                    start,
                    end,
                    (full_from, full_until),
                    limit,
                    depth,
                )
            outcomes.append(found is not None)
            if found is not None:
                expected = _direct_top_customers(generated.engine, start, end, limit)
                assert [(r.key, r.quantity, r.revenue) for r in found] == expected
    assert any(outcomes)


def test_top_products_threshold_proves_or_declines(
    generated: World, dashboard: DashboardService
) -> None:
    # Walking one product per month: the answer is either proved exact or declined.
    start, end = TODAY - timedelta(days=75), TODAY - timedelta(days=3)
    full_from = period_start(start, "month") + timedelta(days=32)
    full_from = full_from.replace(day=1)
    full_until = period_start(end + timedelta(days=1), "month")
    factory = make_session_factory(generated.engine)

    def by_month(limit: int, depth: int) -> Any:
        with factory() as session:
            return dashboard_module._top_by_month_once(
                session,
                dashboard_module._TOP_PRODUCTS_BY_MONTH,
                dashboard_module._top_product,
                start,
                end,
                (full_from, full_until),
                limit,
                depth,
            )

    outcomes = []
    for limit in (1, 2, 3):
        for depth in (1, 2, 3, 50):
            found = by_month(limit, depth)
            outcomes.append(found is not None)
            if found is not None:
                expected = _direct_top_products(generated.engine, start, end, limit)
                assert [(r.key, r.quantity, r.revenue) for r in found] == expected
    assert any(outcomes)

    # A negative line in a partly covered month voids the month bound: declined, and the
    # service still answers exactly by summing the days.
    with generated.engine.begin() as connection:
        line_id = connection.execute(
            text(
                "SELECT i.id FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o."
                + SALE_SQL
                + " AND (o.order_date AT TIME ZONE 'UTC')::date BETWEEN :s AND :e "
                "ORDER BY (o.order_date AT TIME ZONE 'UTC')::date DESC LIMIT 1"
            ),
            {"s": full_until, "e": end},
        ).scalar_one_or_none()
        if line_id is None:
            pytest.skip("no sale in the range's last partial month")
        connection.execute(
            text("UPDATE order_items SET discount_amount = final_price + 1000 WHERE id = :i"),
            {"i": line_id},
        )
        connection.execute(text("SELECT dashboard_fold()"))
    assert by_month(1, 50) is None
    got = dashboard.top_products(generated.manager, start, end, limit=1000)
    expected = _direct_top_products(generated.engine, start, end, 1000)
    assert [(r.key, r.quantity, r.revenue) for r in got] == expected


SUMMARIES = {
    "dashboard_stock_value": ("warehouse_id, category_id", "units, at_cost, at_price"),
    "dashboard_order_day": ("day, status", "orders, value"),
    "dashboard_product_day": ("day, product_id", "quantity, revenue"),
    "dashboard_customer_day": ("day, customer_id", "orders, revenue"),
}
# Folded from the same pending changes as their day tables: compared once folded, rows
# that add up to nothing (an order placed and cancelled) left out.
MONTH_SUMMARIES = {
    "dashboard_product_month": "SELECT product_id, month, quantity, revenue FROM {} "
    "WHERE quantity <> 0 OR revenue <> 0",
    "dashboard_customer_month": "SELECT customer_id, month, orders, revenue FROM {} "
    "WHERE orders <> 0 OR revenue <> 0",
}


def summaries(engine: Engine) -> dict[str, set[Any]]:
    """Each summary plus its pending changes, rows that add up to nothing left out."""
    result = {}
    for table, (keys, values) in SUMMARIES.items():
        sums = ", ".join(f"sum({v})" for v in values.split(", "))
        first = values.split(", ")[0]
        result[table] = set(
            _rows(
                engine,
                f"SELECT {keys}, {sums} FROM (SELECT {keys}, {values} FROM {table} "
                f"UNION ALL SELECT {keys}, {values} FROM {table}_pending) s "
                f"GROUP BY {keys} HAVING sum({first}) <> 0",
            )
        )
    return result


def test_summaries_equal_a_rebuild_after_folding(generated: World) -> None:
    """Folded or pending, the summaries hold what recomputing them from scratch gives."""
    before = summaries(generated.engine)
    with generated.engine.begin() as connection:
        assert connection.execute(text("SELECT dashboard_fold()")).scalar_one() is True
        pending = connection.execute(text("SELECT count(*) FROM dashboard_order_day_pending"))
        assert pending.scalar_one() == 0
    assert summaries(generated.engine) == before
    months = {t: set(_rows(generated.engine, q.format(t))) for t, q in MONTH_SUMMARIES.items()}
    with generated.engine.begin() as connection:
        connection.execute(text("SELECT dashboard_rebuild()"))
    assert summaries(generated.engine) == before
    assert {t: set(_rows(generated.engine, q.format(t))) for t, q in MONTH_SUMMARIES.items()} == (
        months
    )
    assert all(before.values()) and all(months.values())


def test_demo_data_fills_the_summaries(database_url: URL) -> None:
    """The loader switches triggers off and fills the summaries in one pass at the end."""
    generate_demo_data(database_url, DemoDataSize(60, 20, 80, 2), seed=3)
    engine = make_engine(database_url)
    try:
        loaded = summaries(engine)
        assert all(loaded.values())
        with engine.begin() as connection:
            connection.execute(text("SELECT dashboard_rebuild()"))
        assert summaries(engine) == loaded
    finally:
        engine.dispose()


def test_ranges_and_grains_are_checked(world: World, dashboard: DashboardService) -> None:
    with pytest.raises(ValidationError) as grain:
        dashboard.sales(world.manager, TODAY, TODAY, "year")
    assert grain.value.field == "grain"
    with pytest.raises(ValidationError) as backwards:
        dashboard.top_products(world.manager, TODAY, TODAY - timedelta(days=1))
    assert backwards.value.field == "end"
    with pytest.raises(ValidationError):
        dashboard.top_customers(world.manager, TODAY, TODAY, limit=0)
    month = dashboard.sales(world.manager, date(2024, 1, 31), date(2024, 3, 1), "month")
    assert [p.period for p in month] == [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]


def test_every_figure_needs_reports_view(world: World, dashboard: DashboardService) -> None:
    clerk = world.clerk  # warehouse clerks do not see reports
    calls = [
        lambda: dashboard.stock_value(clerk),
        lambda: dashboard.low_stock(clerk),
        lambda: dashboard.sales(clerk, TODAY, TODAY, "day"),
        lambda: dashboard.top_products(clerk, TODAY, TODAY),
        lambda: dashboard.top_customers(clerk, TODAY, TODAY),
        lambda: dashboard.pipeline(clerk),
        lambda: dashboard.overdue_unpaid(clerk),
    ]
    for call in calls:
        with pytest.raises(PermissionDeniedError):
            call()
