"""The low-stock flag revision 0007 keeps on stock rows (since 0016: "listed as low stock")
stays equal to its definition."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.services.test_inventory import World, insert_product, make_world, reserve

# Every stock row whose flag disagrees with its definition: sellable <= the reorder level
# that applies, and the item (a variant's product too) active and tracking stock.
WRONG_FLAGS = """
SELECT p.sku, pi.is_low FROM product_inventory pi JOIN products p ON p.id = pi.product_id
WHERE pi.is_low <> (p.is_active AND p.track_inventory
    AND pi.quantity_available - pi.quantity_reserved <= CASE
    WHEN pi.reorder_level > 0 THEN pi.reorder_level ELSE greatest(p.min_stock_level, 0) END)
UNION ALL
SELECT v.sku, vi.is_low FROM variant_inventory vi JOIN product_variants v ON v.id = vi.variant_id
JOIN products p ON p.id = v.product_id
WHERE vi.is_low <> (p.is_active AND v.is_active AND v.track_inventory
    AND vi.quantity_available - vi.quantity_reserved <= CASE
    WHEN vi.reorder_level > 0 THEN vi.reorder_level ELSE greatest(v.min_stock_level, 0) END)
"""


@pytest.fixture
def world(engine: Engine) -> World:
    return make_world(engine)


def wrong_flags(engine: Engine) -> list[tuple[str, bool]]:
    with engine.connect() as connection:
        return [(row[0], row[1]) for row in connection.execute(text(WRONG_FLAGS))]


def set_min_level(engine: Engine, table: str, item: object, level: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(f"UPDATE {table} SET min_stock_level = :level WHERE id = :id"),
            {"level": level, "id": item},
        )


def low_skus(world: World) -> list[tuple[str, str, str | None]]:
    rows = world.inventory.low_stock(world.sales).rows
    return [(r.warehouse_code, r.sku, r.variant_sku) for r in rows]


def test_the_flag_follows_stock_levels_and_the_items_minimum(world: World) -> None:
    inv, clerk, engine = world.inventory, world.clerk, world.engine
    with engine.begin() as connection:
        category = connection.execute(text("SELECT id FROM product_categories")).scalar_one()
        glue = insert_product(connection, category, "GLUE", min_level=5)
    drill_main = world.key(world.drill, world.main)
    inv.receive(clerk, drill_main, 8)
    inv.receive(clerk, world.key(glue, world.main), 6)
    inv.receive(clerk, world.variant_key(world.main), 3)
    assert wrong_flags(engine) == []
    assert low_skus(world) == []

    # The product's minimum applies to rows without their own level, both ways.
    set_min_level(engine, "products", world.drill, 8)
    assert low_skus(world) == [("MAIN", "DRILL-1", None)]
    set_min_level(engine, "products", glue, 10)
    set_min_level(engine, "products", world.drill, 7)
    assert low_skus(world) == [("MAIN", "GLUE", None)]
    set_min_level(engine, "product_variants", world.red, 3)
    assert low_skus(world) == [("MAIN", "GLUE", None), ("MAIN", "SHIRT", "SHIRT-RED")]
    assert wrong_flags(engine) == []

    # A row's own level overrides the minimum, which then no longer moves it.
    inv.set_reorder_levels(clerk, world.variant_key(world.main), 1, None)
    set_min_level(engine, "product_variants", world.red, 50)
    assert low_skus(world) == [("MAIN", "GLUE", None)]

    # Reservations lower what is sellable; receipts raise it.
    reserve(engine, drill_main, 1)
    assert low_skus(world) == [("MAIN", "DRILL-1", None), ("MAIN", "GLUE", None)]
    inv.receive(clerk, world.key(glue, world.main), 5)
    inv.adjust(clerk, world.variant_key(world.main), -2, "damaged")
    assert low_skus(world) == [("MAIN", "DRILL-1", None), ("MAIN", "SHIRT", "SHIRT-RED")]
    assert wrong_flags(engine) == []


def test_a_rebuild_mends_flags_written_with_triggers_off(world: World) -> None:
    world.inventory.receive(world.clerk, world.key(world.drill, world.main), 2)
    with world.engine.begin() as connection:
        connection.execute(text("ALTER TABLE product_inventory DISABLE TRIGGER USER"))
        connection.execute(text("UPDATE product_inventory SET quantity_available = 0"))
        connection.execute(text("ALTER TABLE product_inventory ENABLE TRIGGER USER"))
    assert wrong_flags(world.engine) == [("DRILL-1", False)]
    with world.engine.begin() as connection:
        connection.execute(text("SELECT stock_flags_rebuild()"))
    assert wrong_flags(world.engine) == []
    assert low_skus(world) == [("MAIN", "DRILL-1", None)]


def test_the_flag_follows_the_items_being_active_and_tracked(world: World) -> None:
    """Revision 0016: only rows the low-stock list shows are flagged, so an inactive or
    untracked item (or a variant of an inactive product) has none, and gets them back."""
    engine = world.engine
    world.inventory.receive(world.clerk, world.key(world.drill, world.main), 8)
    world.inventory.receive(world.clerk, world.variant_key(world.main), 3)
    set_min_level(engine, "products", world.drill, 50)
    set_min_level(engine, "product_variants", world.red, 50)
    listed = low_skus(world)
    assert ("MAIN", "DRILL-1", None) in listed and ("MAIN", "SHIRT", "SHIRT-RED") in listed

    def set_item(table: str, item: object, column: str, value: bool) -> None:
        with engine.begin() as connection:
            connection.execute(
                text(f"UPDATE {table} SET {column} = :v WHERE id = :id"), {"v": value, "id": item}
            )

    for table, item, column in (
        ("products", world.drill, "is_active"),
        ("products", world.drill, "track_inventory"),
        ("product_variants", world.red, "is_active"),
        ("product_variants", world.red, "track_inventory"),
        ("products", world.shirt, "is_active"),  # the variant's product
    ):
        set_item(table, item, column, False)
        assert wrong_flags(engine) == [], (table, column)
        assert low_skus(world) != listed
        set_item(table, item, column, True)
        assert wrong_flags(engine) == [], (table, column)
        assert low_skus(world) == listed
