"""Reports read by keyset pages: every row exactly once across pages, in the order of one
whole read, whatever the sort and its direction, with ties on the sort column (equal
stock, equal values) and NULLs in it (no credit limit); the totals agree with the rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.services.reports import (
    BALANCE_SORTS,
    CUSTOMER_SALES_SORTS,
    MOVEMENT_SORTS,
    PRODUCT_SALES_SORTS,
    VALUATION_SORTS,
    Report,
    ReportPage,
    ReportService,
    _FoundItems,
)
from tests.services.test_orders_support import World, make_world, receive
from tests.services.test_reports import LAST_DAY, WEEK_AGO, every_row, seed_sales


@pytest.fixture
def reports(engine: Engine) -> ReportService:
    return ReportService(make_session_factory(engine))


def paged_equals_whole(read: Callable[..., ReportPage[Any]], **kwargs: Any) -> list[Any]:
    whole = read(limit=1000, **kwargs)
    assert not whole.has_more
    for size in (1, 2, 3):
        rows = every_row(read, limit=size, **kwargs)
        assert rows == list(whole.rows), (kwargs, size)
    keys = [row.key for row in whole.rows]
    assert len(keys) == len(set(keys))  # each row once
    return list(whole.rows)


def test_valuation_pages_hold_every_row_once_with_ties(
    engine: Engine, reports: ReportService
) -> None:
    world: World = make_world(engine)
    # Equal stock and equal values: the sort column ties, the SKU and ids break the tie.
    same = [world.product("10.00", stock={world.main: 4, world.east: 4}) for _ in range(3)]
    world.product("30.00", stock={world.main: 1})
    with engine.begin() as connection:
        variant = connection.execute(
            text(
                "INSERT INTO product_variants (product_id, sku, name, price, cost) "
                "VALUES (:p, 'AAA-VARIANT', 'Blue', 10, 0) RETURNING id"
            ),
            {"p": same[0]},
        ).scalar_one()
    receive(engine, same[0], {world.main: 4}, variant=variant)

    for sort in VALUATION_SORTS:
        for descending in (False, True):
            rows = paged_equals_whole(
                reports.inventory_valuation,
                acting=world.manager,
                sort=sort,
                descending=descending,
            )
            assert len(rows) == 8
            values = [getattr(row, sort) for row in rows]
            assert values == sorted(values, reverse=descending)
    by_sku = reports.inventory_valuation(world.manager).rows
    assert by_sku[0].variant_id == variant  # "AAA-VARIANT": the variants' branch merges in

    totals = reports.totals(world.manager, Report.INVENTORY_VALUATION)
    assert totals.count == 8
    assert totals.sums["on_hand"] == sum(row.on_hand for row in by_sku) == 29


def test_balance_pages_put_no_limit_last_ascending(engine: Engine, reports: ReportService) -> None:
    world: World = make_world(engine)
    for limit, balance in (("0", "50.00"), ("0", "50.00"), ("500.00", "50.00"), ("900", "100")):
        world.customer(credit_limit=limit, balance=balance)
    for sort in BALANCE_SORTS:
        for descending in (False, True):
            rows = paged_equals_whole(
                reports.customer_balances, acting=world.manager, sort=sort, descending=descending
            )
            assert len(rows) == 4
    ascending = reports.customer_balances(world.manager, sort="available_credit", descending=False)
    credits = [row.available_credit for row in ascending.rows]
    assert credits == [Decimal("450.00"), Decimal("800.00"), None, None]
    descending = reports.customer_balances(world.manager, sort="available_credit")
    assert [row.available_credit for row in descending.rows] == list(reversed(credits))
    assert reports.totals(world.manager, Report.CUSTOMER_BALANCES).sums["balance"] == Decimal(
        "250.00"
    )


def test_a_row_added_between_pages_does_not_repeat_one(
    engine: Engine, reports: ReportService
) -> None:
    world: World = make_world(engine)
    for _ in range(4):
        world.product("10.00", stock={world.main: 2})
    first = reports.inventory_valuation(world.manager, limit=2)
    # A new item sorting before the cursor: an offset would now read a row again.
    early = world.product("10.00", stock={world.main: 2})
    with engine.begin() as connection:
        connection.execute(text("UPDATE products SET sku = '0-FIRST' WHERE id = :p"), {"p": early})
    rest = every_row(
        reports.inventory_valuation, acting=world.manager, limit=2, after=first.next_cursor
    ) if first.has_more else []  # fmt: skip
    keys = [row.key for row in (*first.rows, *rest)]
    assert len(keys) == len(set(keys)) == 4
    assert uuid.UUID(str(early)) not in {row.product_id for row in (*first.rows, *rest)}


def test_movement_and_product_sales_pages_in_every_sort(
    engine: Engine, reports: ReportService
) -> None:
    """Sorted by a figure, these reports look up the items (the stock on hand, the
    customers) for a page's rows only; sorted by what a look-up gives, for every row
    first. Both give the same rows with the same figures, each once, in the order asked
    for (NULLs, no customer code, last ascending)."""
    world: World = make_world(engine)
    sold = seed_sales(world)
    receive(engine, sold["tool"], {world.east: 3})
    world.product("10.00", stock={world.main: 4, world.east: 4})
    period = {"start": WEEK_AGO, "end": LAST_DAY}
    for read, sorts in (
        (reports.stock_movements, MOVEMENT_SORTS),
        (reports.sales_by_product, PRODUCT_SALES_SORTS),
        (reports.sales_by_customer, CUSTOMER_SALES_SORTS),
    ):
        by_sku = set(read(world.manager, **period, sort=sorts[0], limit=1000).rows)
        assert len(by_sku) >= 2
        for sort in sorts:
            for descending in (False, True):
                rows = paged_equals_whole(
                    read, acting=world.manager, sort=sort, descending=descending, **period
                )
                assert set(rows) == by_sku, (sort, descending)
                values = [getattr(row, sort) for row in rows]
                nulls_last = sorted(values, key=lambda v: (v is None, v or 0), reverse=descending)
                assert values == nulls_last, (sort, descending)
        if read == reports.sales_by_customer:
            continue
        # A search filters on the items before the page is cut, whatever the sort.
        sku = min(row.sku for row in by_sku)
        found = {row for row in by_sku if sku.lower() in (row.sku + row.name).lower()}
        for sort in ("sku", sorts[-1]):
            assert set(read(world.manager, **period, sort=sort, search=sku).rows) == found
    totals = reports.totals(world.manager, Report.STOCK_MOVEMENTS, **period)
    rows = reports.stock_movements(world.manager, **period, sort="closing", limit=1000).rows
    assert totals.count == len(rows)
    assert totals.sums["closing"] == sum(row.closing for row in rows)


def test_item_searches_find_the_same_rows_collected_first_or_tested_on_each(
    engine: Engine, reports: ReportService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search that matches few items collects them first and reads their rows only
    (`_FoundItems`); one that matches many tests each row of the report. Both ways give
    the same rows, pages and totals: by a product's SKU or name (its variants' rows too)
    and by a variant's own SKU or name (that variant's rows only)."""
    world: World = make_world(engine)
    sold = seed_sales(world)
    receive(engine, sold["tool"], {world.east: 3})
    plain = world.product("10.00", stock={world.main: 4})
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE products SET name = 'Widget press' WHERE id = :p"), {"p": sold["tool"]}
        )
        variant = connection.execute(
            text(
                "INSERT INTO product_variants (product_id, sku, name, price, cost) "
                "VALUES (:p, 'BLUE-WIDGET-1', 'Blue', 10, 0) RETURNING id"
            ),
            {"p": plain},
        ).scalar_one()
    receive(engine, plain, {world.main: 2}, variant=variant)
    period = {"start": WEEK_AGO, "end": LAST_DAY}
    reads: list[tuple[Callable[..., ReportPage[Any]], Report, dict[str, Any], tuple[str, ...]]] = [
        (reports.inventory_valuation, Report.INVENTORY_VALUATION, {}, VALUATION_SORTS),
        (reports.stock_movements, Report.STOCK_MOVEMENTS, period, MOVEMENT_SORTS),
        (reports.sales_by_product, Report.SALES_BY_PRODUCT, period, PRODUCT_SALES_SORTS),
    ]

    def everything(search: str) -> list[Any]:
        seen: list[Any] = []
        for read, report, kwargs, sorts in reads:
            for sort in sorts:
                seen.append(paged_equals_whole(read, acting=world.manager, search=search,
                                               sort=sort, **kwargs))  # fmt: skip
            seen.append(reports.totals(world.manager, report, search=search, **kwargs))
        return seen

    tool_sku = sql_one(engine, "SELECT sku FROM products WHERE id = :p", p=sold["tool"])
    plain_sku = sql_one(engine, "SELECT sku FROM products WHERE id = :p", p=plain)
    for search in ("widget", "blue", tool_sku, plain_sku.lower(), "nowhere"):
        monkeypatch.setattr(ReportService, "_found_items", lambda self, term: None)
        tested = everything(search)
        monkeypatch.setattr(ReportService, "_found_items", lambda self, term: _FoundItems.of(term))
        collected = everything(search)
        assert collected == tested, search
    monkeypatch.undo()
    # "widget": the press (product rows, sales) and the blue variant (its row only).
    found = reports.inventory_valuation(world.manager, search="widget").rows
    assert {(row.product_id, row.variant_id) for row in found} == {
        (sold["tool"], None),
        (plain, variant),
    }
    assert reports.totals(world.manager, Report.SALES_BY_PRODUCT, search="widget", **period
                          ).count == 1  # fmt: skip


def sql_one(engine: Engine, statement: str, **params: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(statement), params).scalar_one()
