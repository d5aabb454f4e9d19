"""A warehouse's stock list (products' and variants' rows by SKU, searched, paged, counted)
and the ledger narrowed to one stock row, on real PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.errors import NotFoundError, PermissionDeniedError, ValidationError
from erpgo_desktop.services.inventory import InventoryService, RowCount, WarehouseStockRow
from erpgo_desktop.services.stock import StockKey
from tests.services.test_inventory import (
    NOBODY,
    World,
    insert_product,
    insert_variant,
    make_world,
    reserve,
)


@pytest.fixture
def world(engine: Engine) -> World:
    return make_world(engine)


def listed(rows: tuple[WarehouseStockRow, ...]) -> list[tuple[str, int, int, int]]:
    return [(r.sku, r.on_hand, r.reserved, r.sellable) for r in rows]


def stock_main(world: World) -> None:
    """DRILL-1: 10 (3 reserved), SHIRT: 4, SHIRT-RED: 7 in MAIN; DRILL-1: 2 in EAST."""
    inv, clerk = world.inventory, world.clerk
    inv.receive(clerk, world.key(world.drill, world.main), 10)
    inv.receive(clerk, world.key(world.shirt, world.main), 4)
    inv.receive(clerk, world.variant_key(world.main), 7)
    inv.receive(clerk, world.key(world.drill, world.east), 2)
    reserve(world.engine, world.key(world.drill, world.main), 3)


def test_lists_the_products_and_variants_of_one_warehouse_by_sku(world: World) -> None:
    stock_main(world)
    page = world.inventory.warehouse_stock(world.sales, world.main)
    assert listed(page.rows) == [
        ("DRILL-1", 10, 3, 7),
        ("SHIRT", 4, 0, 4),
        ("SHIRT-RED", 7, 0, 7),
    ]
    assert not page.has_more
    red = page.rows[2]
    assert red.variant_id == world.red and red.product_id == world.shirt
    assert red.name == "Shirt — Red"
    assert red.key.variant_id == world.red and red.key.warehouse_id == world.main
    assert page.rows[0].variant_id is None and page.rows[0].is_active
    east = world.inventory.warehouse_stock(world.sales, world.east)
    assert listed(east.rows) == [("DRILL-1", 2, 0, 2)]
    assert world.inventory.warehouse_stock(world.sales, world.closed).rows == ()


def test_reorder_level_and_maximum_are_the_ones_that_apply(world: World) -> None:
    with world.engine.begin() as connection:
        category = connection.execute(
            text("INSERT INTO product_categories (name) VALUES ('Levels') RETURNING id")
        ).scalar_one()
        nail = insert_product(connection, category, "NAIL-1", min_level=20, max_level=200)
    inv, clerk = world.inventory, world.clerk
    inv.receive(clerk, world.key(nail, world.main), 15)
    inv.receive(clerk, world.key(world.drill, world.main), 15)
    inv.set_reorder_levels(world.manager, world.key(world.drill, world.main), 5, 40)
    rows = {r.sku: r for r in inv.warehouse_stock(world.sales, world.main).rows}
    assert (rows["NAIL-1"].reorder_level, rows["NAIL-1"].maximum, rows["NAIL-1"].is_low) == (
        20,
        200,
        True,
    )
    assert (rows["DRILL-1"].reorder_level, rows["DRILL-1"].maximum) == (5, 40)
    assert not rows["DRILL-1"].is_low


@pytest.fixture(params=["left to PostgreSQL", "products collected"])
def searching(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A search read either way: as the statistics (absent here) leave it, or collecting
    the matching products first, as it does when they are few (services/search_costs.py)."""
    if request.param == "products collected":
        monkeypatch.setattr(InventoryService, "_few_matches", lambda self, session, term: True)


@pytest.mark.usefixtures("searching")
def test_search_matches_sku_name_and_barcode_and_a_variants_product(world: World) -> None:
    stock_main(world)
    inv = world.inventory
    with world.engine.begin() as connection:
        connection.execute(
            text("UPDATE products SET barcode = '4006381333931' WHERE id = :p"), {"p": world.drill}
        )

    def skus(search: str) -> list[str]:
        return [r.sku for r in inv.warehouse_stock(world.sales, world.main, search=search).rows]

    assert skus("drill") == ["DRILL-1"]
    assert skus("  red ") == ["SHIRT-RED"]
    assert skus("shirt") == ["SHIRT", "SHIRT-RED"]  # the variant through its product too
    assert skus("4006381333931") == ["DRILL-1"]
    assert skus("%") == []  # a wildcard matches itself only
    assert inv.count_warehouse_stock(world.sales, world.main, search="shirt") == RowCount(2, True)
    assert inv.count_warehouse_stock(world.sales, world.east, search="drill") == RowCount(1, True)
    assert skus("svc") == []  # a product without stock in the warehouse
    pages = []
    cursor = None
    while True:
        page = inv.warehouse_stock(world.sales, world.main, search="i", after=cursor, limit=1)
        pages.extend(r.sku for r in page.rows)
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert pages == ["DRILL-1", "SHIRT", "SHIRT-RED"]
    with pytest.raises(ValidationError, match="at most 100") as refused:
        inv.warehouse_stock(world.sales, world.main, search="x" * 101)
    assert refused.value.field == "search"


def test_pages_follow_each_other_across_products_and_variants(world: World) -> None:
    with world.engine.begin() as connection:
        category = connection.execute(
            text("INSERT INTO product_categories (name) VALUES ('Many') RETURNING id")
        ).scalar_one()
        products = [insert_product(connection, category, f"P-{i:02}") for i in range(7)]
        parent = insert_product(connection, category, "P-03-X")
        # A variant SKU equal to a product's: the item id keeps them apart in the order.
        twins = [
            insert_variant(connection, parent, "P-05"),
            insert_variant(connection, parent, "P-0"),
        ]
    inv, clerk = world.inventory, world.clerk
    for number, product in enumerate(products, start=1):
        inv.receive(clerk, world.key(product, world.east), number)
    for twin in twins:
        inv.receive(clerk, StockKey(parent, world.east, twin), 1)
    whole = inv.warehouse_stock(world.sales, world.east, limit=100)
    expected = ["P-0", "P-00", "P-01", "P-02", "P-03", "P-04", "P-05", "P-05", "P-06"]
    assert [r.sku for r in whole.rows] == expected
    fives = [r for r in whole.rows if r.sku == "P-05"]
    assert sorted(str(r.item_id) for r in fives) == [str(r.item_id) for r in fives]
    seen: list[WarehouseStockRow] = []
    cursor = None
    while True:
        page = inv.warehouse_stock(world.sales, world.east, after=cursor, limit=2)
        assert len(page.rows) <= 2
        seen.extend(page.rows)
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert seen == list(whole.rows)
    assert inv.count_warehouse_stock(world.sales, world.east) == RowCount(9, True)
    assert inv.count_warehouse_stock(world.sales, world.east, cap=5) == RowCount(5, False)


def test_unknown_warehouse_and_permission(world: World) -> None:
    inv = world.inventory
    with pytest.raises(NotFoundError, match="That warehouse does not exist"):
        inv.warehouse_stock(world.sales, uuid.uuid4())
    with pytest.raises(NotFoundError, match="That warehouse does not exist"):
        inv.count_warehouse_stock(world.sales, uuid.uuid4())
    for call in (
        lambda: inv.warehouse_stock(NOBODY, world.main),
        lambda: inv.count_warehouse_stock(NOBODY, world.main),
        lambda: inv.count_ledger(NOBODY, world.drill),
    ):
        with pytest.raises(PermissionDeniedError, match=r"inventory\.read"):
            call()


def test_count_caps_at_the_ends_of_their_range(world: World) -> None:
    """A negative cap (a negative LIMIT) is refused in words; the largest (whose next
    number, the LIMIT counted to, would leave bigint) counts everything."""
    stock_main(world)
    inv = world.inventory
    for count in (
        lambda cap: inv.count_warehouse_stock(world.sales, world.main, cap=cap),
        lambda cap: inv.count_ledger(world.sales, world.drill, cap=cap),
    ):
        with pytest.raises(ValidationError, match="count cap"):
            count(-1)
        assert count(2**63 - 1) == count(None)
        assert count(2**63 - 1).exact


def test_ledger_of_one_stock_row_and_its_count(world: World) -> None:
    inv, clerk = world.inventory, world.clerk
    inv.receive(clerk, world.key(world.shirt, world.main), 5)
    inv.receive(clerk, world.variant_key(world.main), 3)
    inv.adjust(clerk, world.variant_key(world.main), -1, "torn")
    inv.receive(clerk, world.variant_key(world.east), 2)

    def quantities(**filters: object) -> list[int]:
        page = inv.ledger(world.sales, world.shirt, **filters)  # type: ignore[arg-type]
        return [r.quantity for r in page.rows]

    assert quantities(warehouse_id=world.main) == [-1, 3, 5]
    assert quantities(warehouse_id=world.main, variant_id=None) == [5]
    assert quantities(warehouse_id=world.main, variant_id=world.red) == [-1, 3]
    assert quantities(variant_id=world.red) == [2, -1, 3]
    assert inv.count_ledger(world.sales, world.shirt) == RowCount(4, True)
    assert inv.count_ledger(
        world.sales, world.shirt, warehouse_id=world.main, variant_id=world.red
    ) == RowCount(2, True)
    assert inv.count_ledger(world.sales, world.shirt, variant_id=None) == RowCount(1, True)
    assert inv.count_ledger(world.sales, world.shirt, cap=3) == RowCount(3, False)
