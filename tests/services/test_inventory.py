"""Stock operations on real PostgreSQL: receive, adjust, transfer, count, reorder levels,
low stock, the overview and the ledger; every rule allowed and refused, and the ledger
summing to on hand after each change."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import NotFoundError, PermissionDeniedError, ValidationError
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser
from erpgo_desktop.services.inventory import InventoryService, LowStockRow
from erpgo_desktop.services.stock import StockKey, StockLedger

#: Someone with no permissions at all (require() reads only the permissions).
NOBODY = CurrentUser(uuid.uuid4(), "nobody", "Nobody", (), frozenset())


@dataclass(frozen=True)
class World:
    """Users, products and warehouses to move stock between."""

    engine: Engine
    inventory: InventoryService
    clerk: CurrentUser
    sales: CurrentUser
    manager: CurrentUser
    drill: uuid.UUID  # DRILL-1, tracks inventory
    shirt: uuid.UUID  # SHIRT, with variants
    red: uuid.UUID  # variant SHIRT-RED, tracks inventory
    blue: uuid.UUID  # variant SHIRT-BLUE, does not track inventory
    service: uuid.UUID  # SVC-1, does not track inventory
    retired: uuid.UUID  # OLD-1, inactive
    main: uuid.UUID  # warehouse MAIN
    east: uuid.UUID  # warehouse EAST
    closed: uuid.UUID  # warehouse SHUT, inactive

    def key(self, product: uuid.UUID, warehouse: uuid.UUID) -> StockKey:
        return StockKey(product, warehouse)

    def variant_key(self, warehouse: uuid.UUID, variant: uuid.UUID | None = None) -> StockKey:
        return StockKey(self.shirt, warehouse, variant or self.red)


def make_users(engine: Engine) -> tuple[CurrentUser, CurrentUser, CurrentUser]:
    auth = AuthService(make_session_factory(engine))

    def user(name: str, role: str) -> CurrentUser:
        new = NewUser(name, f"{name}@example.com", "password-1", role, name.title())
        return auth.create_user(new, acting=None)

    return user("carl", "warehouse_clerk"), user("sam", "sales"), user("alice", "manager")


def insert_product(
    connection: Connection,
    category: uuid.UUID,
    sku: str,
    *,
    track: bool = True,
    active: bool = True,
    min_level: int = 0,
    max_level: int = 0,
) -> uuid.UUID:
    product: uuid.UUID = connection.execute(
        text(
            "INSERT INTO products (sku, name, category_id, price, track_inventory, is_active, "
            "min_stock_level, max_stock_level) VALUES (:sku, :name, :c, 10, :t, :a, :mn, :mx) "
            "RETURNING id"
        ),
        {
            "sku": sku,
            "name": sku.title(),
            "c": category,
            "t": track,
            "a": active,
            "mn": min_level,
            "mx": max_level,
        },
    ).scalar_one()
    return product


def insert_variant(
    connection: Connection, product: uuid.UUID, sku: str, *, track: bool = True
) -> uuid.UUID:
    variant: uuid.UUID = connection.execute(
        text(
            "INSERT INTO product_variants (product_id, sku, name, price, track_inventory) "
            "VALUES (:p, :sku, :name, 10, :t) RETURNING id"
        ),
        {"p": product, "sku": sku, "name": sku.split("-")[-1].title(), "t": track},
    ).scalar_one()
    return variant


def insert_warehouse(connection: Connection, code: str, *, active: bool = True) -> uuid.UUID:
    warehouse: uuid.UUID = connection.execute(
        text("INSERT INTO warehouses (code, name, is_active) VALUES (:c, :n, :a) RETURNING id"),
        {"c": code, "n": code.title(), "a": active},
    ).scalar_one()
    return warehouse


def make_world(engine: Engine) -> World:
    clerk, sales, manager = make_users(engine)
    with engine.begin() as connection:
        category = connection.execute(
            text("INSERT INTO product_categories (name) VALUES ('Tools') RETURNING id")
        ).scalar_one()
        drill = insert_product(connection, category, "DRILL-1")
        shirt = insert_product(connection, category, "SHIRT")
        red = insert_variant(connection, shirt, "SHIRT-RED")
        blue = insert_variant(connection, shirt, "SHIRT-BLUE", track=False)
        service = insert_product(connection, category, "SVC-1", track=False)
        retired = insert_product(connection, category, "OLD-1", active=False)
        main = insert_warehouse(connection, "MAIN")
        east = insert_warehouse(connection, "EAST")
        closed = insert_warehouse(connection, "SHUT", active=False)
    return World(
        engine=engine,
        inventory=InventoryService(make_session_factory(engine)),
        clerk=clerk,
        sales=sales,
        manager=manager,
        drill=drill,
        shirt=shirt,
        red=red,
        blue=blue,
        service=service,
        retired=retired,
        main=main,
        east=east,
        closed=closed,
    )


@pytest.fixture
def world(engine: Engine) -> World:
    return make_world(engine)


def reserve(engine: Engine, key: StockKey, quantity: int) -> None:
    """What confirming an order does to stock, straight through the StockLedger."""
    with make_session_factory(engine).begin() as session:
        ledger = StockLedger(session, None)
        ledger.lock([key])
        ledger.reserve(key, quantity)


def assert_ledger_balances(engine: Engine) -> None:
    """For every stock row the ledger sums to on hand; 0 <= reserved <= on hand; the
    products' and variants' stock_quantity is the sum of their on hand; no ledger row
    lacks its stock row; the two rows of every transfer sum to zero."""
    with engine.connect() as connection:
        wrong_products = connection.execute(
            text(
                "SELECT pi.product_id, pi.warehouse_id, pi.quantity_available, "
                "COALESCE(SUM(t.quantity), 0) AS ledger "
                "FROM product_inventory pi LEFT JOIN inventory_transactions t "
                "ON t.product_id = pi.product_id AND t.warehouse_id = pi.warehouse_id "
                "AND t.variant_id IS NULL "
                "GROUP BY pi.id HAVING pi.quantity_available <> COALESCE(SUM(t.quantity), 0) "
                "OR pi.quantity_reserved < 0 OR pi.quantity_reserved > pi.quantity_available"
            )
        ).all()
        wrong_variants = connection.execute(
            text(
                "SELECT vi.variant_id, vi.warehouse_id, vi.quantity_available, "
                "COALESCE(SUM(t.quantity), 0) AS ledger "
                "FROM variant_inventory vi LEFT JOIN inventory_transactions t "
                "ON t.variant_id = vi.variant_id AND t.warehouse_id = vi.warehouse_id "
                "GROUP BY vi.id HAVING vi.quantity_available <> COALESCE(SUM(t.quantity), 0) "
                "OR vi.quantity_reserved < 0 OR vi.quantity_reserved > vi.quantity_available"
            )
        ).all()
        orphans = connection.execute(
            text(
                "SELECT t.id FROM inventory_transactions t WHERE NOT EXISTS ("
                "  SELECT 1 FROM product_inventory pi WHERE t.variant_id IS NULL"
                "  AND pi.product_id = t.product_id AND pi.warehouse_id = t.warehouse_id"
                ") AND NOT EXISTS ("
                "  SELECT 1 FROM variant_inventory vi WHERE vi.variant_id = t.variant_id"
                "  AND vi.warehouse_id = t.warehouse_id)"
            )
        ).all()
        wrong_totals = connection.execute(
            text(
                "SELECT p.sku FROM products p WHERE p.stock_quantity <> ("
                "  SELECT COALESCE(SUM(quantity_available), 0) FROM product_inventory"
                "  WHERE product_id = p.id) "
                "UNION ALL SELECT v.sku FROM product_variants v WHERE v.stock_quantity <> ("
                "  SELECT COALESCE(SUM(quantity_available), 0) FROM variant_inventory"
                "  WHERE variant_id = v.id)"
            )
        ).all()
        unpaired = connection.execute(
            text(
                "SELECT reference_id FROM inventory_transactions WHERE transaction_type = "
                "'TRANSFER' GROUP BY reference_id "
                "HAVING reference_id IS NULL OR COUNT(*) <> 2 OR SUM(quantity) <> 0 "
                "OR COUNT(DISTINCT warehouse_id) <> 2 OR MIN(quantity) >= 0"
            )
        ).all()
    assert wrong_products == []
    assert wrong_variants == []
    assert orphans == []
    assert wrong_totals == []
    assert unpaired == []


def ledger_rows(engine: Engine) -> list[tuple[str, str, int, str | None]]:
    """(type, warehouse code, quantity, reason) of every ledger row, oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT t.transaction_type, w.code, t.quantity, t.reason "
                "FROM inventory_transactions t JOIN warehouses w ON w.id = t.warehouse_id "
                "ORDER BY t.created_at, t.quantity"
            )
        ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def on_hand(engine: Engine, key: StockKey) -> tuple[int, int]:
    """(on hand, reserved) of a stock row; (0, 0) when there is none."""
    with engine.connect() as connection:
        if key.variant_id is None:
            row = connection.execute(
                text(
                    "SELECT quantity_available, quantity_reserved FROM product_inventory "
                    "WHERE product_id = :o AND warehouse_id = :w"
                ),
                {"o": key.product_id, "w": key.warehouse_id},
            ).one_or_none()
        else:
            row = connection.execute(
                text(
                    "SELECT quantity_available, quantity_reserved FROM variant_inventory "
                    "WHERE variant_id = :o AND warehouse_id = :w"
                ),
                {"o": key.variant_id, "w": key.warehouse_id},
            ).one_or_none()
    return (row[0], row[1]) if row else (0, 0)


# -- receive ---------------------------------------------------------------------------


def test_receive_adds_stock_with_an_in_row(world: World) -> None:
    key = world.key(world.drill, world.main)
    level = world.inventory.receive(world.clerk, key, 12)
    assert (level.sku, level.warehouse_code, level.on_hand, level.reserved) == (
        "DRILL-1",
        "MAIN",
        12,
        0,
    )
    level = world.inventory.receive(world.clerk, key, "8", note="  PO 4711 ")
    assert level.on_hand == 20 and level.sellable == 20
    assert ledger_rows(world.engine) == [
        ("IN", "MAIN", 12, "receipt"),
        ("IN", "MAIN", 8, "PO 4711"),
    ]
    with world.engine.connect() as connection:
        creators = connection.execute(
            text("SELECT DISTINCT created_by FROM inventory_transactions")
        ).all()
        stock = connection.execute(
            text("SELECT stock_quantity FROM products WHERE sku = 'DRILL-1'")
        ).scalar_one()
    assert creators == [(world.clerk.id,)]
    assert stock == 20
    assert_ledger_balances(world.engine)


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (0, "The quantity received must be from 1 to 999,999,999."),
        (-4, "The quantity received must be from 1 to 999,999,999."),
        (1_000_000_000, "The quantity received must be from 1 to 999,999,999."),
        ("2.5", "The quantity received must be a whole number."),
        ("ten", "The quantity received must be a whole number."),
        (True, "The quantity received must be a whole number."),
    ],
)
def test_receive_refuses_quantities(world: World, quantity: object, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        world.inventory.receive(world.clerk, world.key(world.drill, world.main), quantity)  # type: ignore[arg-type]
    assert (refused.value.message, refused.value.field) == (message, "quantity")
    assert ledger_rows(world.engine) == []


def test_receive_refuses_going_over_the_maximum(world: World) -> None:
    key = world.key(world.drill, world.main)
    world.inventory.receive(world.clerk, key, 999_999_999)
    with pytest.raises(ValidationError, match=r"DRILL-1 in MAIN would exceed 999,999,999\."):
        world.inventory.receive(world.clerk, key, 1)
    assert on_hand(world.engine, key) == (999_999_999, 0)
    assert_ledger_balances(world.engine)


def test_receive_needs_an_active_warehouse(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        world.inventory.receive(world.clerk, world.key(world.drill, world.closed), 1)
    assert refused.value.message == "Warehouse SHUT is inactive; reactivate it first."
    assert refused.value.field == "warehouse"
    with pytest.raises(NotFoundError) as missing:
        world.inventory.receive(world.clerk, world.key(world.drill, uuid.uuid4()), 1)
    assert (missing.value.message, missing.value.field) == (
        "That warehouse does not exist (any more).",
        "warehouse",
    )
    assert ledger_rows(world.engine) == []


def test_stock_changes_need_an_active_product_that_tracks_inventory(world: World) -> None:
    cases = [
        (
            world.key(world.retired, world.main),
            "Product OLD-1 is inactive; its stock cannot change.",
        ),
        (
            world.key(world.service, world.main),
            "Product SVC-1 does not track inventory, so it has no stock to change.",
        ),
        (
            world.variant_key(world.main, world.blue),
            "Variant SHIRT-BLUE does not track inventory, so it has no stock to change.",
        ),
    ]
    for key, message in cases:
        for attempt in (
            lambda k=key: world.inventory.receive(world.clerk, k, 1),
            lambda k=key: world.inventory.adjust(world.clerk, k, 1, "found"),
            lambda k=key: world.inventory.count(world.clerk, k, 1),
            lambda k=key: world.inventory.transfer(world.clerk, k, world.east, 1),
            lambda k=key: world.inventory.set_reorder_levels(world.clerk, k, 1, None),
        ):
            with pytest.raises(ValidationError) as refused:
                attempt()
            assert refused.value.message == message
    with pytest.raises(NotFoundError) as missing:
        world.inventory.receive(world.clerk, world.key(uuid.uuid4(), world.main), 1)
    assert (missing.value.message, missing.value.field) == (
        "That product does not exist (any more).",
        "product",
    )
    with pytest.raises(NotFoundError) as missing:
        # A variant of another product is no variant of this one.
        world.inventory.receive(world.clerk, StockKey(world.drill, world.main, world.red), 1)
    assert (missing.value.message, missing.value.field) == (
        "Product DRILL-1 has no such variant (any more).",
        "variant",
    )
    assert ledger_rows(world.engine) == []


def test_an_inactive_variant_keeps_its_stock(world: World) -> None:
    with world.engine.begin() as connection:
        connection.execute(
            text("UPDATE product_variants SET is_active = false WHERE sku = 'SHIRT-RED'")
        )
    with pytest.raises(ValidationError, match=r"^Variant SHIRT-RED is inactive; its stock"):
        world.inventory.receive(world.clerk, world.variant_key(world.main), 1)


def test_variant_stock_is_its_own(world: World) -> None:
    key = world.variant_key(world.main)
    level = world.inventory.receive(world.clerk, key, 7)
    assert (level.sku, level.variant_id, level.on_hand) == ("SHIRT-RED", world.red, 7)
    world.inventory.adjust(world.clerk, key, -2, "torn")
    world.inventory.transfer(world.clerk, key, world.east, 1)
    world.inventory.count(world.clerk, world.variant_key(world.east), 3)
    assert on_hand(world.engine, key) == (4, 0)
    assert on_hand(world.engine, world.variant_key(world.east)) == (3, 0)
    with world.engine.connect() as connection:
        variant_stock, product_stock, untagged = connection.execute(
            text(
                "SELECT v.stock_quantity, p.stock_quantity, (SELECT count(*) FROM "
                "inventory_transactions WHERE variant_id IS NULL) FROM product_variants v "
                "JOIN products p ON p.id = v.product_id WHERE v.sku = 'SHIRT-RED'"
            )
        ).one()
    assert (variant_stock, product_stock, untagged) == (7, 0, 0)
    assert_ledger_balances(world.engine)


# -- permissions -----------------------------------------------------------------------


def test_every_change_checks_its_permission_first(world: World) -> None:
    key = world.key(world.drill, world.main)
    inv = world.inventory
    attempts = [
        (perms.INVENTORY_RECEIVE, lambda: inv.receive(world.sales, key, 1)),
        (perms.INVENTORY_ADJUST, lambda: inv.adjust(world.sales, key, 1, "found")),
        (perms.INVENTORY_TRANSFER, lambda: inv.transfer(world.sales, key, world.east, 1)),
        (perms.INVENTORY_COUNT, lambda: inv.count(world.sales, key, 1)),
        (perms.INVENTORY_ADJUST, lambda: inv.set_reorder_levels(world.sales, key, 1, None)),
        (perms.INVENTORY_READ, lambda: inv.stock_overview(NOBODY, world.drill)),
        (perms.INVENTORY_READ, lambda: inv.low_stock(NOBODY)),
        (perms.INVENTORY_READ, lambda: inv.ledger(NOBODY, world.drill)),
        # The check comes before validation: bad input does not reveal anything.
        (perms.INVENTORY_RECEIVE, lambda: inv.receive(world.sales, key, -1)),
    ]
    for permission, attempt in attempts:
        with pytest.raises(PermissionDeniedError, match=f"needs the permission '{permission}'"):
            attempt()
    assert ledger_rows(world.engine) == []
    # Sales may read stock.
    assert inv.stock_overview(world.sales, world.drill).sku == "DRILL-1"


# -- adjust ----------------------------------------------------------------------------


def test_adjust_changes_stock_with_its_reason(world: World) -> None:
    key = world.key(world.drill, world.main)
    world.inventory.receive(world.clerk, key, 10)
    assert world.inventory.adjust(world.clerk, key, -3, " dropped a box ").on_hand == 7
    assert world.inventory.adjust(world.clerk, key, "+2", "found behind the shelf").on_hand == 9
    assert ledger_rows(world.engine)[1:] == [
        ("ADJUST", "MAIN", -3, "dropped a box"),
        ("ADJUST", "MAIN", 2, "found behind the shelf"),
    ]
    assert_ledger_balances(world.engine)


@pytest.mark.parametrize(
    ("delta", "reason", "field", "message"),
    [
        (
            0,
            "x",
            "quantity",
            "An adjustment adds or takes away at least one unit; 0 changes nothing.",
        ),
        (
            1_000_000_000,
            "x",
            "quantity",
            "An adjustment changes stock by at most 999,999,999 units.",
        ),
        (
            -1_000_000_000,
            "x",
            "quantity",
            "An adjustment changes stock by at most 999,999,999 units.",
        ),
        ("1.5", "x", "quantity", "The adjustment must be a whole number."),
        (1, "", "reason", "Say why the stock is adjusted (damage, loss, found, ...)."),
        (1, "   ", "reason", "Say why the stock is adjusted (damage, loss, found, ...)."),
        (1, "x" * 1001, "reason", "A reason has at most 1,000 characters."),
    ],
)
def test_adjust_refuses(world: World, delta: object, reason: str, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        world.inventory.adjust(world.clerk, world.key(world.drill, world.main), delta, reason)  # type: ignore[arg-type]
    assert (refused.value.field, refused.value.message) == (field, message)
    assert ledger_rows(world.engine) == []


def test_adjust_cannot_take_out_more_than_is_sellable(world: World) -> None:
    key = world.key(world.drill, world.main)
    world.inventory.receive(world.clerk, key, 2)
    with pytest.raises(ValidationError) as refused:
        world.inventory.adjust(world.clerk, key, -3, "lost")
    assert (
        refused.value.message == "Not enough stock of DRILL-1 in MAIN: 2 can be taken out, 3 asked."
    )
    world.inventory.receive(world.clerk, key, 8)
    reserve(world.engine, key, 6)
    with pytest.raises(ValidationError) as refused:
        world.inventory.adjust(world.clerk, key, -5, "lost")
    assert refused.value.message == (
        "Not enough stock of DRILL-1 in MAIN: 4 can be taken out (6 of 10 reserved), 5 asked."
    )
    assert world.inventory.adjust(world.clerk, key, -4, "lost").on_hand == 6
    assert on_hand(world.engine, key) == (6, 6)
    assert_ledger_balances(world.engine)


def test_adjust_and_count_work_in_an_inactive_warehouse(world: World) -> None:
    """What is left in a closed warehouse can still be corrected and written off."""
    key = world.key(world.drill, world.closed)
    assert world.inventory.adjust(world.clerk, key, 5, "found after closing").on_hand == 5
    assert world.inventory.count(world.clerk, key, 0).level.on_hand == 0
    assert_ledger_balances(world.engine)


# -- transfer --------------------------------------------------------------------------


def test_transfer_writes_a_pair_of_rows_sharing_a_reference(world: World) -> None:
    source = world.key(world.drill, world.main)
    world.inventory.receive(world.clerk, source, 10)
    moved = world.inventory.transfer(world.clerk, source, world.east, "4", note="rebalancing")
    assert (moved.quantity, moved.source.on_hand, moved.destination.on_hand) == (4, 6, 4)
    assert (moved.source.warehouse_code, moved.destination.warehouse_code) == ("MAIN", "EAST")
    with world.engine.connect() as connection:
        pair = connection.execute(
            text(
                "SELECT w.code, t.quantity, t.reason, t.reference_id FROM inventory_transactions t"
                " JOIN warehouses w ON w.id = t.warehouse_id WHERE t.transaction_type = "
                "'TRANSFER' ORDER BY t.quantity"
            )
        ).all()
    assert [(code, qty, reason) for code, qty, reason, _ in pair] == [
        ("MAIN", -4, "transfer to EAST: rebalancing"),
        ("EAST", 4, "transfer from MAIN: rebalancing"),
    ]
    assert {ref for *_, ref in pair} == {moved.reference_id}
    world.inventory.transfer(world.clerk, world.key(world.drill, world.east), world.main, 1)
    assert on_hand(world.engine, source) == (7, 0)
    with world.engine.connect() as connection:
        total = connection.execute(
            text("SELECT stock_quantity FROM products WHERE sku = 'DRILL-1'")
        ).scalar_one()
    assert total == 10
    assert_ledger_balances(world.engine)


def test_transfer_refuses_reserved_stock(world: World) -> None:
    source = world.key(world.drill, world.main)
    world.inventory.receive(world.clerk, source, 10)
    reserve(world.engine, source, 7)
    with pytest.raises(ValidationError) as refused:
        world.inventory.transfer(world.clerk, source, world.east, 4)
    assert refused.value.message == (
        "Not enough stock of DRILL-1 in MAIN: 3 can be taken out (7 of 10 reserved), 4 asked."
    )
    assert refused.value.field == "quantity"
    # Nothing moved, not even the half into the destination.
    assert on_hand(world.engine, world.key(world.drill, world.east)) == (0, 0)
    assert [row[0] for row in ledger_rows(world.engine)] == ["IN"]
    moved = world.inventory.transfer(world.clerk, source, world.east, 3)
    assert (moved.source.on_hand, moved.source.reserved, moved.source.sellable) == (7, 7, 0)
    assert_ledger_balances(world.engine)


def test_transfer_refuses_more_than_there_is(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        world.inventory.transfer(world.clerk, world.key(world.drill, world.main), world.east, 1)
    assert (
        refused.value.message == "Not enough stock of DRILL-1 in MAIN: 0 can be taken out, 1 asked."
    )


def test_transfer_refuses_going_over_the_maximum_at_the_destination(world: World) -> None:
    world.inventory.receive(world.clerk, world.key(world.drill, world.main), 5)
    world.inventory.receive(world.clerk, world.key(world.drill, world.east), 999_999_998)
    with pytest.raises(
        ValidationError, match=r"^Stock of DRILL-1 in EAST would exceed 999,999,999"
    ):
        world.inventory.transfer(world.clerk, world.key(world.drill, world.main), world.east, 2)
    assert on_hand(world.engine, world.key(world.drill, world.main)) == (5, 0)
    assert_ledger_balances(world.engine)


def test_transfer_needs_two_different_active_warehouses(world: World) -> None:
    source = world.key(world.drill, world.main)
    world.inventory.receive(world.clerk, source, 10)
    world.inventory.adjust(world.clerk, world.key(world.drill, world.closed), 5, "left over")
    cases = [
        (source, world.main, "destination_warehouse", "A transfer needs two different warehouses."),
        (
            source,
            world.closed,
            "destination_warehouse",
            "Warehouse SHUT is inactive; reactivate it first.",
        ),
        (
            world.key(world.drill, world.closed),
            world.main,
            "source_warehouse",
            "Warehouse SHUT is inactive; reactivate it first.",
        ),
    ]
    for key, destination, field, message in cases:
        with pytest.raises(ValidationError) as refused:
            world.inventory.transfer(world.clerk, key, destination, 1)
        assert (refused.value.field, refused.value.message) == (field, message)
    with pytest.raises(NotFoundError) as missing:
        world.inventory.transfer(world.clerk, source, uuid.uuid4(), 1)
    assert missing.value.field == "destination_warehouse"
    for quantity in (0, -1, 1_000_000_000):
        with pytest.raises(ValidationError) as refused:
            world.inventory.transfer(world.clerk, source, world.east, quantity)
        assert refused.value.message == "The quantity to transfer must be from 1 to 999,999,999."
    assert [row[0] for row in ledger_rows(world.engine)] == ["IN", "ADJUST"]


# -- count -----------------------------------------------------------------------------


def test_count_sets_on_hand_with_an_adjust_row_for_the_difference(world: World) -> None:
    key = world.key(world.drill, world.main)
    world.inventory.receive(world.clerk, key, 10)
    fewer = world.inventory.count(world.clerk, key, 8)
    assert (fewer.previous_on_hand, fewer.difference, fewer.level.on_hand) == (10, -2, 8)
    more = world.inventory.count(world.clerk, key, "11", note="aisle 4")
    assert (more.previous_on_hand, more.difference, more.level.on_hand) == (8, 3, 11)
    assert ledger_rows(world.engine)[1:] == [
        ("ADJUST", "MAIN", -2, "count"),
        ("ADJUST", "MAIN", 3, "count: aisle 4"),
    ]
    assert_ledger_balances(world.engine)


def test_count_without_difference_writes_nothing(world: World) -> None:
    key = world.key(world.drill, world.main)
    world.inventory.receive(world.clerk, key, 10)
    same = world.inventory.count(world.clerk, key, 10)
    assert (same.previous_on_hand, same.difference, same.level.on_hand) == (10, 0, 10)
    assert len(ledger_rows(world.engine)) == 1
    # A first count of a row that never held stock finds 0 and says so.
    empty = world.inventory.count(world.clerk, world.key(world.drill, world.east), 0)
    assert (empty.difference, empty.level.on_hand) == (0, 0)
    assert len(ledger_rows(world.engine)) == 1
    assert_ledger_balances(world.engine)


def test_count_cannot_go_below_reserved(world: World) -> None:
    key = world.key(world.drill, world.main)
    world.inventory.receive(world.clerk, key, 10)
    reserve(world.engine, key, 6)
    with pytest.raises(ValidationError) as refused:
        world.inventory.count(world.clerk, key, 5)
    assert refused.value.message == (
        "5 counted of DRILL-1 in MAIN is less than the 6 reserved for confirmed orders; "
        "cancel or reassign those orders first."
    )
    assert world.inventory.count(world.clerk, key, 6).level.sellable == 0
    for counted in (-1, 1_000_000_000):
        with pytest.raises(ValidationError) as refused:
            world.inventory.count(world.clerk, key, counted)
        assert refused.value.message == "The counted quantity must be from 0 to 999,999,999."
    assert_ledger_balances(world.engine)


# -- reorder levels and low stock ------------------------------------------------------


def test_set_reorder_levels(world: World) -> None:
    key = world.key(world.drill, world.main)
    row = world.inventory.set_reorder_levels(world.manager, key, 5, 50)
    assert (row.warehouse_code, row.reorder_level, row.max_stock, row.on_hand) == ("MAIN", 5, 50, 0)
    row = world.inventory.set_reorder_levels(world.clerk, key, "7", "")
    assert (row.reorder_level, row.max_stock) == (7, None)
    row = world.inventory.set_reorder_levels(world.clerk, world.variant_key(world.east), 2, 0)
    assert (row.variant_sku, row.reorder_level, row.max_stock) == ("SHIRT-RED", 2, None)
    refusals = [
        (5, 5, "max_stock", "The maximum stock (5) must be above the reorder level (5)."),
        (-1, None, "reorder_level", "The reorder level must be from 0 to 999,999,999."),
        (1, -2, "max_stock", "The maximum stock must be from 0 (none) to 999,999,999."),
        ("x", None, "reorder_level", "The reorder level must be a whole number."),
    ]
    for level, maximum, field, message in refusals:
        with pytest.raises(ValidationError) as refused:
            world.inventory.set_reorder_levels(world.clerk, key, level, maximum)
        assert (refused.value.field, refused.value.message) == (field, message)
    assert ledger_rows(world.engine) == []


def low(
    rows: tuple[LowStockRow, ...],
) -> list[tuple[str, str, str | None, int, int, int | None, int]]:
    return [
        (
            r.warehouse_code,
            r.sku,
            r.variant_sku,
            r.sellable,
            r.reorder_level,
            r.maximum,
            r.reorder_quantity,
        )
        for r in rows
    ]


def test_low_stock_lists_rows_at_or_below_their_reorder_level(world: World) -> None:
    inv, clerk = world.inventory, world.clerk
    with world.engine.begin() as connection:
        category = connection.execute(text("SELECT id FROM product_categories")).scalar_one()
        # The product's own levels apply where a stock row has none.
        glue = insert_product(connection, category, "GLUE", min_level=20, max_level=100)
        nails = insert_product(connection, category, "NAILS", min_level=5)
    # DRILL-1 in MAIN: own level 10 and maximum 40; 12 on hand, 3 reserved -> 9 sellable.
    inv.set_reorder_levels(clerk, world.key(world.drill, world.main), 10, 40)
    inv.receive(clerk, world.key(world.drill, world.main), 12)
    reserve(world.engine, world.key(world.drill, world.main), 3)
    # DRILL-1 in EAST: own level 10, no maximum, exactly 10 -> at the level counts.
    inv.set_reorder_levels(clerk, world.key(world.drill, world.east), 10, None)
    inv.receive(clerk, world.key(world.drill, world.east), 10)
    # GLUE in MAIN: product levels 20 / 100; 20 on hand -> low, reorder 80.
    inv.receive(clerk, world.key(glue, world.main), 20)
    # GLUE in EAST: 21 on hand -> not low.
    inv.receive(clerk, world.key(glue, world.east), 21)
    # NAILS in EAST: product minimum 5, no maximum; 2 on hand -> reorder up to 6.
    inv.receive(clerk, world.key(nails, world.east), 2)
    # SHIRT-RED in EAST: own level 4, own maximum 12; 1 on hand.
    inv.set_reorder_levels(clerk, world.variant_key(world.east), 4, 12)
    inv.receive(clerk, world.variant_key(world.east), 1)
    # Out of stock with no levels at all: sellable 0 <= 0 is low, reorder 1.
    inv.receive(clerk, world.key(world.shirt, world.main), 3)
    inv.adjust(clerk, world.key(world.shirt, world.main), -3, "sold at the door")
    # Not listed: inactive warehouses (when listing all), inactive or untracked products.
    inv.adjust(clerk, world.key(world.drill, world.closed), 1, "left over")
    inv.set_reorder_levels(clerk, world.key(world.drill, world.closed), 5, None)
    with world.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO product_inventory (product_id, warehouse_id) VALUES (:p, :w), (:q, :w)"
            ),
            {"p": world.retired, "q": world.service, "w": world.main},
        )

    page = inv.low_stock(world.sales)
    assert low(page.rows) == [
        ("EAST", "DRILL-1", None, 10, 10, None, 1),
        ("EAST", "NAILS", None, 2, 5, None, 4),
        ("EAST", "SHIRT", "SHIRT-RED", 1, 4, 12, 11),
        ("MAIN", "DRILL-1", None, 9, 10, 40, 31),
        ("MAIN", "GLUE", None, 20, 20, 100, 80),
        ("MAIN", "SHIRT", None, 0, 0, None, 1),
    ]
    assert not page.has_more
    assert page.rows[3].on_hand == 12 and page.rows[3].reserved == 3
    assert page.rows[2].name == "Shirt – Red" and page.rows[2].variant_id == world.red

    # One warehouse, even an inactive one.
    assert [r.sku for r in inv.low_stock(world.sales, world.main).rows] == [
        "DRILL-1",
        "GLUE",
        "SHIRT",
    ]
    assert low(inv.low_stock(world.sales, world.closed).rows) == [
        ("SHUT", "DRILL-1", None, 1, 5, None, 5)
    ]

    # Pages follow each other without gaps or repeats, across warehouses and between a
    # product's own row and its variants' rows (one statement per warehouse).
    for size in (1, 2, 4):
        seen: list[LowStockRow] = []
        cursor = None
        while True:
            chunk = inv.low_stock(world.sales, after=cursor, limit=size)
            seen.extend(chunk.rows)
            if not chunk.has_more:
                break
            cursor = chunk.next_cursor
        assert seen == list(page.rows), size
    with pytest.raises(ValidationError, match=r"A page has 1 to 1,000 rows, not 0\."):
        inv.low_stock(world.sales, limit=0)
    with pytest.raises(NotFoundError):
        inv.low_stock(world.sales, uuid.uuid4())


# -- reading ---------------------------------------------------------------------------


def test_stock_overview_per_warehouse(world: World) -> None:
    inv, clerk = world.inventory, world.clerk
    inv.receive(clerk, world.key(world.shirt, world.east), 5)
    reserve(world.engine, world.key(world.shirt, world.east), 2)
    inv.receive(clerk, world.variant_key(world.main), 3)
    inv.adjust(clerk, world.variant_key(world.closed), 1, "left over")
    overview = inv.stock_overview(world.sales, world.shirt)
    assert (overview.sku, overview.stock_quantity, overview.track_inventory) == ("SHIRT", 5, True)
    rows = [
        (s.variant_sku, s.warehouse_code, s.warehouse_active, s.on_hand, s.reserved, s.sellable)
        for s in overview.levels
    ]
    # Every active warehouse (zeros where nothing is stocked), the inactive one only where
    # it holds a row; the untracked variant SHIRT-BLUE has no rows.
    assert rows == [
        (None, "EAST", True, 5, 2, 3),
        (None, "MAIN", True, 0, 0, 0),
        ("SHIRT-RED", "EAST", True, 0, 0, 0),
        ("SHIRT-RED", "MAIN", True, 3, 0, 3),
        ("SHIRT-RED", "SHUT", False, 1, 0, 1),
    ]
    untracked = inv.stock_overview(world.sales, world.service)
    assert untracked.levels == ()
    with pytest.raises(NotFoundError, match="That product does not exist"):
        inv.stock_overview(world.sales, uuid.uuid4())


def test_ledger_pages_newest_first(world: World) -> None:
    inv, clerk = world.inventory, world.clerk
    key = world.key(world.shirt, world.main)
    inv.receive(clerk, key, 10)
    inv.adjust(clerk, key, -1, "scratched")
    inv.transfer(clerk, key, world.east, 2)
    inv.receive(clerk, world.variant_key(world.east), 4)
    inv.count(clerk, key, 6)
    inv.receive(clerk, world.key(world.drill, world.main), 1)  # another product's
    page = inv.ledger(world.sales, world.shirt)
    got = [(r.transaction_type, r.warehouse_code, r.variant_sku, r.quantity) for r in page.rows]
    # The transfer's two rows share one timestamp; their order between them is by id.
    assert got[0] == ("ADJUST", "MAIN", None, -1)
    assert got[1] == ("IN", "EAST", "SHIRT-RED", 4)
    assert sorted(got[2:4]) == [("TRANSFER", "EAST", None, 2), ("TRANSFER", "MAIN", None, -2)]
    assert got[4:] == [("ADJUST", "MAIN", None, -1), ("IN", "MAIN", None, 10)]
    assert page.rows[0].reason == "count" and page.rows[0].created_by == "carl"
    assert page.rows[2].reference_id == page.rows[3].reference_id is not None
    assert not page.has_more

    seen = []
    cursor = None
    while True:
        chunk = inv.ledger(world.sales, world.shirt, after=cursor, limit=2)
        seen.extend(chunk.rows)
        if not chunk.has_more:
            break
        cursor = chunk.next_cursor
    assert seen == list(page.rows)
    east = inv.ledger(world.sales, world.shirt, warehouse_id=world.east)
    assert [r.quantity for r in east.rows] == [4, 2]
    with pytest.raises(NotFoundError, match="That product does not exist"):
        inv.ledger(world.sales, uuid.uuid4())


def test_a_transfer_into_a_new_stock_row_waits_for_a_reservation_instead_of_deadlocking(
    world: World,
) -> None:
    """The transfer makes EAST's row of the drill, which the product's stock total (a seed
    trigger) follows. It must wait for MAIN's row, held by a confirmation, before making
    it: made first, it took the product's row that the confirmation then needs."""
    main, east = StockKey(world.drill, world.main), StockKey(world.drill, world.east)
    world.inventory.receive(world.clerk, main, 10)
    deadlocks_before = _deadlocks(world.engine)
    outcome: list[object] = []
    confirmation = world.engine.connect()
    try:
        confirmation.execute(
            text("SELECT 1 FROM product_inventory WHERE product_id = :p AND warehouse_id = :w "
                 "FOR UPDATE"),
            {"p": world.drill, "w": world.main},
        )  # fmt: skip
        transfer = threading.Thread(
            target=lambda: outcome.append(
                world.inventory.transfer(world.clerk, main, east.warehouse_id, 4)
            )
        )
        transfer.start()
        deadline = time.monotonic() + 10
        while not _waiting_for_a_lock(world.engine):  # the transfer waits for MAIN's row
            assert time.monotonic() < deadline, "the transfer never waited"
            time.sleep(0.05)
        # What reserving does: change the row, whose trigger updates the product's total.
        confirmation.execute(
            text("UPDATE product_inventory SET quantity_reserved = 1 "
                 "WHERE product_id = :p AND warehouse_id = :w"),
            {"p": world.drill, "w": world.main},
        )  # fmt: skip
        confirmation.commit()
    finally:
        confirmation.close()
    transfer.join(timeout=30)
    assert len(outcome) == 1, outcome
    # A retry after a deadlock would succeed too: the server counts them.
    assert _deadlocks(world.engine) == deadlocks_before


def _deadlocks(engine: Engine) -> int:
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_stat_clear_snapshot()"))
        return int(
            connection.execute(
                text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            ).scalar_one()
        )


def _waiting_for_a_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                     "AND datname = current_database()")
            ).scalar_one()
        )  # fmt: skip
