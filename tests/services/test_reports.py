"""The reports against direct SQL on seeded data: stock valuation, movements from the
ledger, sales by product, customer and region, customer balances; sorting, paging,
search and the period's checks.

Reports add up everything in the database, so each test has a fresh database of its own
(the `engine` fixture) with a world of users and warehouses made in it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import astuple
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.inventory import InventoryService
from erpgo_desktop.services.reports import Report, ReportPage, ReportService
from erpgo_desktop.services.stock import StockKey
from tests.services.test_orders_support import World, make_world, receive

# The periods end tomorrow: a run that crosses midnight still counts what it made today.
LAST_DAY = date.today() + timedelta(days=1)
WEEK_AGO = LAST_DAY - timedelta(days=8)
LONG_AGO = datetime.now().astimezone() - timedelta(days=60)


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    yield make_world(engine)


@pytest.fixture
def reports(engine: Engine) -> ReportService:
    return ReportService(make_session_factory(engine))


def sql(engine: Engine, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(statement), params).all()]


def every_row(
    read: Callable[..., ReportPage[Any]], limit: int = 2, after: Any = None, **kwargs: Any
) -> list[Any]:
    """All rows of a report (after `after`), read `limit` at a time by keyset."""
    rows: list[Any] = []
    while True:
        page = read(after=after, limit=limit, **kwargs)
        rows.extend(page.rows)
        if not page.has_more:
            return rows
        after = page.next_cursor


def set_costs(engine: Engine, product: uuid.UUID, cost: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE products SET cost = :c WHERE id = :p"), {"c": Decimal(cost), "p": product}
        )


def test_inventory_valuation_equals_sql(world: World, reports: ReportService) -> None:
    engine = world.engine
    cheap = world.product("10.00", stock={world.main: 5, world.east: 2})
    dear = world.product("99.00", stock={world.main: 3})
    world.product("5.00")  # nothing on hand: not valued
    set_costs(engine, cheap, "4.00")
    set_costs(engine, dear, "60.00")
    with engine.begin() as connection:
        variant = connection.execute(
            text(
                "INSERT INTO product_variants (product_id, sku, name, price, cost) "
                "VALUES (:p, 'DEAR-RED', 'Red', 120, 0) RETURNING id"
            ),
            {"p": dear},
        ).scalar_one()
    receive(engine, dear, {world.east: 4}, variant=variant)

    rows = reports.inventory_valuation(world.manager, sort="value_at_cost", descending=True).rows
    expected = sql(
        engine,
        """
        SELECT s.sku, s.code, s.on_hand, s.cost, s.price, s.on_hand * s.cost,
               s.on_hand * s.price
        FROM (SELECT p.sku, w.code, i.quantity_available AS on_hand, p.cost, p.price
              FROM product_inventory i JOIN products p ON p.id = i.product_id
              JOIN warehouses w ON w.id = i.warehouse_id WHERE i.quantity_available > 0
              UNION ALL
              SELECT v.sku, w.code, i.quantity_available,
                     CASE WHEN v.cost > 0 THEN v.cost ELSE p.cost END, v.price
              FROM variant_inventory i JOIN product_variants v ON v.id = i.variant_id
              JOIN products p ON p.id = v.product_id
              JOIN warehouses w ON w.id = i.warehouse_id WHERE i.quantity_available > 0) s
        ORDER BY s.on_hand * s.cost DESC, s.sku, s.code
        """,
    )
    assert [
        (r.sku, r.warehouse_code, r.on_hand, r.unit_cost, r.unit_price, r.value_at_cost,
         r.value_at_price) for r in rows
    ] == expected  # fmt: skip
    assert len(rows) == 4
    variant_row = next(r for r in rows if r.variant_id == variant)
    # The variant has no cost of its own: its product's counts.
    assert variant_row.value_at_cost == Decimal("240.00")
    assert variant_row.name.endswith("— Red")

    east = reports.inventory_valuation(
        world.manager, warehouse_id=world.east, sort="sku", descending=False
    )
    assert [r.warehouse_code for r in east.rows] == ["EAST", "EAST"]
    assert [r.sku for r in east.rows] == sorted(r.sku for r in east.rows)
    paged = every_row(
        reports.inventory_valuation, acting=world.manager, sort="on_hand", descending=False
    )
    assert paged == sorted(rows, key=lambda r: (r.on_hand, r.sku, r.variant_id or r.product_id,
                                                r.warehouse_id))  # fmt: skip
    search = reports.inventory_valuation(world.manager, search="dear-red")
    assert [r.variant_id for r in search.rows] == [variant]

    # The totals are of the whole report, apart from its pages.
    totals = reports.totals(world.manager, Report.INVENTORY_VALUATION)
    assert totals.count == len(rows) and totals.exact
    assert totals.sums == {
        "on_hand": sum(r.on_hand for r in rows),
        "reserved": sum(r.reserved for r in rows),
        "value_at_cost": sum(r.value_at_cost for r in rows),
        "value_at_price": sum(r.value_at_price for r in rows),
    }
    east_totals = reports.totals(world.manager, Report.INVENTORY_VALUATION, warehouse_id=world.east)
    assert east_totals.count == len(east.rows) == 2


def test_stock_movements_from_the_ledger(world: World, reports: ReportService) -> None:
    engine = world.engine
    inventory = InventoryService(make_session_factory(engine))
    product = world.product(stock={world.main: 10})
    with engine.begin() as connection:  # the first receipt happened before the period
        connection.execute(
            text("UPDATE inventory_transactions SET created_at = :t WHERE product_id = :p"),
            {"t": LONG_AGO, "p": product},
        )
    key = StockKey(product, world.main)
    inventory.receive(world.clerk, key, 5)
    world.shipped([(product, 3)])
    inventory.adjust(world.clerk, key, -1, "damaged")
    inventory.transfer(world.clerk, key, world.east, 2)
    idle = world.product(stock={world.main: 7})
    with engine.begin() as connection:  # nothing of it moved in the period
        connection.execute(
            text("UPDATE inventory_transactions SET created_at = :t WHERE product_id = :p"),
            {"t": LONG_AGO, "p": idle},
        )

    report = reports.stock_movements(world.manager, WEEK_AGO, LAST_DAY, sort="warehouse_code")
    figures = {
        r.warehouse_code: (r.opening, r.received, r.issued, r.adjusted, r.transferred, r.net,
                           r.closing) for r in report.rows if r.product_id == product
    }  # fmt: skip
    assert figures == {"EAST": (0, 0, 0, 0, 2, 2, 2), "MAIN": (10, 5, 3, -1, -2, -1, 9)}
    assert idle not in {r.product_id for r in report.rows}
    # The closing quantity is what is on hand now (nothing moved since).
    assert world.stock(product, world.main)[0] == 9

    expected = sql(
        engine,
        """
        SELECT product_id, warehouse_id,
               coalesce(sum(quantity) FILTER (WHERE created_at < :first), 0),
               coalesce(sum(quantity) FILTER (WHERE created_at >= :first
                                              AND transaction_type = 'IN'), 0),
               coalesce(-sum(quantity) FILTER (WHERE created_at >= :first
                                               AND transaction_type = 'OUT'), 0),
               sum(quantity)
        FROM inventory_transactions WHERE created_at < :after
        GROUP BY product_id, variant_id, warehouse_id
        HAVING count(*) FILTER (WHERE created_at >= :first) > 0
        ORDER BY 1, 2
        """,
        first=datetime.combine(WEEK_AGO, datetime.min.time()).astimezone(),
        after=datetime.combine(LAST_DAY + timedelta(days=1), datetime.min.time()).astimezone(),
    )
    got = sorted((r.product_id, r.warehouse_id, r.opening, r.received, r.issued, r.closing)
                 for r in report.rows)  # fmt: skip
    assert got == sorted(expected)

    before = reports.stock_movements(world.manager, LAST_DAY - timedelta(days=90), WEEK_AGO)
    assert {(r.product_id, r.opening, r.received, r.closing) for r in before.rows} == {
        (product, 0, 10, 10),
        (idle, 0, 7, 7),
    }
    main_only = reports.stock_movements(world.manager, WEEK_AGO, LAST_DAY, warehouse_id=world.main)
    assert {r.warehouse_code for r in main_only.rows} == {"MAIN"}


def seed_sales(world: World) -> dict[str, Any]:
    """Orders of three customers in several statuses, shipped to three regions; one sold
    order dated before the period."""
    engine = world.engine
    tool = world.product("10.00", stock={world.main: 100})
    gadget = world.product("25.00", stock={world.main: 100})
    ada, bob, cy = world.customer(), world.customer(), world.customer()

    def header(country: str, state: str | None) -> OrderHeader:
        return OrderHeader(
            shipping_address=Address("Ship", "To", "1 Road", "Town", "1000", country, state=state)
        )

    def order(customer: uuid.UUID, lines: list[tuple[uuid.UUID, int]], region: OrderHeader,
              status: str) -> Any:  # fmt: skip
        detail = world.draft(lines, customer=customer, header=region)
        if status == "DRAFT":
            return detail
        detail = world.orders.submit(world.sales, detail.id, detail.version)
        if status == "PENDING":
            return detail
        detail = world.orders.confirm(world.manager, detail.id, detail.version, world.main)
        if status == "CANCELLED":
            return world.orders.cancel(world.manager, detail.id, detail.version)
        if status == "SHIPPED":
            detail = world.orders.start_processing(world.clerk, detail.id, detail.version)
            return world.ship(detail)
        return detail

    va, ca, nl = header("USA", "VA"), header("USA", "CA"), header("Netherlands", None)
    orders = {
        "ada-1": order(ada, [(tool, 3), (gadget, 1)], va, "CONFIRMED"),
        "ada-2": order(ada, [(tool, 2)], ca, "SHIPPED"),
        "bob-1": order(bob, [(gadget, 4)], nl, "CONFIRMED"),
        "bob-pending": order(bob, [(tool, 50)], nl, "PENDING"),
        "cy-cancelled": order(cy, [(gadget, 9)], va, "CANCELLED"),
        "cy-old": order(cy, [(tool, 7)], va, "CONFIRMED"),
    }
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE orders SET order_date = :t WHERE id = :o"),
            {"t": LONG_AGO, "o": orders["cy-old"].id},
        )
    return {"tool": tool, "gadget": gadget, "ada": ada, "bob": bob, "cy": cy, "orders": orders}


SOLD_SQL = """
    o.type = 'SALES' AND o.order_date >= :first AND o.order_date < :after
    AND (o.status IN ('CONFIRMED', 'PROCESSING', 'PARTIALLY_SHIPPED', 'SHIPPED', 'DELIVERED')
         OR (o.status = 'ON_HOLD' AND o.previous_status IN
             ('CONFIRMED', 'PROCESSING', 'PARTIALLY_SHIPPED', 'SHIPPED', 'DELIVERED')))
"""


def period() -> dict[str, datetime]:
    return {
        "first": datetime.combine(WEEK_AGO, datetime.min.time()).astimezone(),
        "after": datetime.combine(LAST_DAY + timedelta(days=1), datetime.min.time()).astimezone(),
    }


def test_sales_by_product_customer_and_region(world: World, reports: ReportService) -> None:
    seeded = seed_sales(world)
    engine = world.engine
    by_product = reports.sales_by_product(world.manager, WEEK_AGO, LAST_DAY)
    assert {(r.product_id, r.orders, r.units) for r in by_product.rows} == {
        (seeded["tool"], 2, 5),  # ada-1 and ada-2; not the pending, not the old one
        (seeded["gadget"], 2, 5),  # ada-1 and bob-1; not the cancelled
    }
    assert [r.net_sales for r in by_product.rows] == [Decimal("125.00"), Decimal("50.00")]
    expected = sql(
        engine,
        f"""
        SELECT i.product_id, count(DISTINCT i.order_id), sum(i.quantity),
               sum(i.quantity * i.unit_price - i.discount_amount)
        FROM order_items i JOIN orders o ON o.id = i.order_id
        WHERE {SOLD_SQL} AND i.status <> 'CANCELLED'
        GROUP BY i.product_id, i.variant_id ORDER BY 4 DESC
        """,
        **period(),
    )
    assert [(r.product_id, r.orders, r.units, r.net_sales) for r in by_product.rows] == expected

    by_customer = reports.sales_by_customer(world.manager, WEEK_AGO, LAST_DAY, sort="orders")
    expected = sql(
        engine,
        f"""
        SELECT o.customer_id, count(*), sum(o.subtotal - o.discount_amount),
               sum(o.total_amount), sum(o.paid_amount)
        FROM orders o WHERE {SOLD_SQL} GROUP BY o.customer_id
        """,
        **period(),
    )
    assert sorted(
        (r.customer_id, r.orders, r.net_sales, r.total, r.paid) for r in by_customer.rows
    ) == sorted(expected)
    assert by_customer.rows[0].customer_id == seeded["ada"]  # two orders
    assert seeded["cy"] not in {r.customer_id for r in by_customer.rows}

    by_region = reports.sales_by_region(
        world.manager, WEEK_AGO, LAST_DAY, sort="country", descending=False
    )
    expected = sql(
        engine,
        f"""
        SELECT a.country, coalesce(a.state, ''), count(*), count(DISTINCT o.customer_id),
               sum(o.subtotal - o.discount_amount), sum(o.total_amount)
        FROM orders o JOIN order_addresses a ON a.id = o.shipping_address_id
        WHERE {SOLD_SQL} GROUP BY 1, 2 ORDER BY 1, 2
        """,
        **period(),
    )
    assert [astuple(r) for r in by_region.rows] == expected
    assert [(r.country, r.state) for r in by_region.rows] == [
        ("Netherlands", ""),
        ("USA", "CA"),
        ("USA", "VA"),
    ]
    wider = reports.sales_by_region(world.manager, LAST_DAY - timedelta(days=90), LAST_DAY)
    assert sum(r.orders for r in wider.rows) == 4  # the old order too
    nether = reports.totals(
        world.manager, Report.SALES_BY_REGION, start=WEEK_AGO, end=LAST_DAY, search="nether"
    )
    assert nether.count == 1 and nether.sums["orders"] == 1


def test_customer_balances_equal_sql(world: World, reports: ReportService) -> None:
    seeded = seed_sales(world)
    engine = world.engine
    paid = seeded["orders"]["bob-1"]
    world.orders.record_payment(world.manager, paid.id, paid.version, paid.total_amount)
    overdue = seeded["orders"]["ada-2"]
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE orders SET required_date = :t WHERE id = :o"),
            {"t": LONG_AGO, "o": overdue.id},
        )
    owes_nothing = world.customer()
    on_account = world.customer(credit_limit="1000.00", balance="300.00")

    report = reports.customer_balances(world.manager)
    ids = [r.customer_id for r in report.rows]
    assert owes_nothing not in ids and seeded["bob"] not in ids
    assert ids[0] == on_account  # the largest balance first
    expected = sql(
        engine,
        """
        SELECT c.id, c.balance, count(o.id),
               coalesce(sum(o.total_amount - o.paid_amount), 0),
               coalesce(sum(o.total_amount - o.paid_amount)
                        FILTER (WHERE o.required_date < now()), 0)
        FROM customers c LEFT JOIN orders o ON o.customer_id = c.id
             AND o.total_amount > o.paid_amount
             AND o.status IN ('CONFIRMED', 'PROCESSING', 'PARTIALLY_SHIPPED', 'SHIPPED',
                              'DELIVERED')
        GROUP BY c.id, c.balance HAVING c.balance <> 0 OR count(o.id) > 0
        """,
    )
    assert sorted(
        (r.customer_id, r.balance, r.unpaid_orders, r.unpaid_amount, r.overdue_amount)
        for r in report.rows
    ) == sorted(expected)
    ada = next(r for r in report.rows if r.customer_id == seeded["ada"])
    assert ada.unpaid_orders == 2 and ada.overdue_amount == overdue.total_amount
    assert ada.balance == ada.unpaid_amount  # confirmed orders' unpaid totals
    account = next(r for r in report.rows if r.customer_id == on_account)
    assert account.available_credit == Decimal("700.00")
    assert ada.available_credit is None  # no limit
    by_overdue = reports.customer_balances(world.manager, sort="overdue_amount")
    assert by_overdue.rows[0].customer_id == seeded["ada"]


def test_customer_balances_searched_are_the_matching_rows_of_all(
    world: World, reports: ReportService
) -> None:
    # A search sums each found customer's orders (a lateral join), where the whole
    # report sums every customer's at once: the same rows, sums and order either way.
    seed_sales(world)
    world.customer(balance="-12.50")  # owes nothing but has a credit balance
    world.customer()  # neither a balance nor open orders: never listed
    whole = reports.customer_balances(world.manager, sort="customer_name", descending=False)
    assert len(whole.rows) >= 3
    for row in whole.rows:
        last_name = row.customer_name.split()[-1]
        found = reports.customer_balances(world.manager, search=last_name.upper())
        assert found.rows == (row,), last_name
    everyone = reports.customer_balances(
        world.manager, search="ada", sort="customer_name", descending=False
    )
    assert everyone.rows == whole.rows
    assert reports.customer_balances(world.manager, search="nobody at all").rows == ()
    totals = reports.totals(world.manager, Report.CUSTOMER_BALANCES, search="ada")
    assert totals == reports.totals(world.manager, Report.CUSTOMER_BALANCES)
    assert totals.count == len(whole.rows)


def test_refusals(world: World, reports: ReportService) -> None:
    with pytest.raises(ValidationError) as bad_sort:
        reports.sales_by_product(world.manager, WEEK_AGO, LAST_DAY, sort="colour")
    assert bad_sort.value.field == "sort"
    with pytest.raises(ValidationError) as backwards:
        reports.sales_by_region(world.manager, LAST_DAY, WEEK_AGO)
    assert backwards.value.field == "end"
    with pytest.raises(ValidationError):
        reports.customer_balances(world.manager, limit=0)
    with pytest.raises(ValidationError) as no_period:
        reports.totals(world.manager, Report.SALES_BY_PRODUCT)
    assert no_period.value.field == "start"
    with pytest.raises(ValidationError) as wrong_cursor:
        reports.customer_balances(world.manager, after=(1, 2))
    assert wrong_cursor.value.field == "after"
    empty = reports.customer_balances(world.manager)
    assert empty.rows == () and empty.next_cursor is None and not empty.has_more
    assert reports.totals(world.manager, Report.CUSTOMER_BALANCES).count == 0
