"""The seed's triggers do their work: updated_at, product stock, previous order status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from tests.migrations import rows
from tests.migrations import seed_schema as seed

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)

# A column of each table to change, other than updated_at.
OTHER_COLUMN = {
    "users": "phone",
    "roles": "description",
    "product_categories": "description",
    "products": "description",
    "product_variants": "barcode",
    "customers": "notes",
    "order_addresses": "company",
    "orders": "notes",
    "order_items": "notes",
    "warehouses": "city",
}


def _updated_at(connection: Connection, table: str, row: uuid.UUID) -> datetime:
    return connection.execute(
        text(f"SELECT updated_at FROM {table} WHERE id = :id"), {"id": row}
    ).scalar_one()


@pytest.mark.parametrize("table", seed.TABLES_WITH_UPDATED_AT)
def test_update_sets_updated_at(head_engine: Engine, table: str) -> None:
    # Committed transactions, so the update runs in a transaction of its own whose
    # CURRENT_TIMESTAMP is known; each test works on rows of its own.
    with head_engine.begin() as connection:
        row = rows.BY_TABLE[table](connection, updated_at=LONG_AGO)
    with head_engine.connect() as connection:
        assert _updated_at(connection, table, row) == LONG_AGO  # INSERT leaves it alone

    with head_engine.begin() as connection:
        now = connection.execute(text("SELECT now()")).scalar_one()
        returned = connection.execute(
            text(
                f"UPDATE {table} SET {OTHER_COLUMN[table]} = 'changed' WHERE id = :id "
                "RETURNING updated_at"
            ),
            {"id": row},
        ).scalar_one()
    assert returned == now

    with head_engine.connect() as connection:
        assert _updated_at(connection, table, row) == now


def test_update_overrides_an_explicit_updated_at(conn: Connection) -> None:
    user = rows.user(conn)
    now = conn.execute(text("SELECT now()")).scalar_one()
    returned = conn.execute(
        text("UPDATE users SET updated_at = :then WHERE id = :id RETURNING updated_at"),
        {"then": LONG_AGO, "id": user},
    ).scalar_one()
    assert returned == now


def _stock(connection: Connection, product: uuid.UUID) -> tuple[int, int]:
    """(products.stock_quantity, the sum of quantity_available over its warehouses)."""
    return tuple(  # type: ignore[return-value]
        connection.execute(
            text(
                "SELECT p.stock_quantity,"
                " (SELECT COALESCE(SUM(quantity_available), 0) FROM product_inventory"
                "  WHERE product_id = p.id)"
                " FROM products p WHERE p.id = :id"
            ),
            {"id": product},
        ).one()
    )


def test_stock_quantity_follows_inventory_across_warehouses(conn: Connection) -> None:
    product, other = rows.product(conn), rows.product(conn)
    north, south = rows.warehouse(conn), rows.warehouse(conn)
    assert _stock(conn, product) == (0, 0)

    north_row = rows.inventory(conn, product_id=product, warehouse_id=north, quantity_available=10)
    assert _stock(conn, product) == (10, 10)

    south_row = rows.inventory(
        conn, product_id=product, warehouse_id=south, quantity_available=5, quantity_reserved=2
    )
    assert _stock(conn, product) == (15, 15)

    rows.inventory(conn, product_id=other, warehouse_id=north, quantity_available=7)
    assert _stock(conn, other) == (7, 7)
    assert _stock(conn, product) == (15, 15)

    update = text("UPDATE product_inventory SET quantity_available = :q WHERE id = :id")
    conn.execute(update, {"q": 3, "id": north_row})
    assert _stock(conn, product) == (8, 8)

    conn.execute(
        text("UPDATE product_inventory SET quantity_reserved = 0 WHERE id = :id"),
        {"id": south_row},
    )
    assert _stock(conn, product) == (8, 8)

    conn.execute(update, {"q": 0, "id": south_row})
    assert _stock(conn, product) == (3, 3)
    assert _stock(conn, other) == (7, 7)


def _statuses(connection: Connection, order: uuid.UUID) -> tuple[str, str | None]:
    return tuple(  # type: ignore[return-value]
        connection.execute(
            text("SELECT status, previous_status FROM orders WHERE id = :id"), {"id": order}
        ).one()
    )


def test_status_change_records_the_previous_status(conn: Connection) -> None:
    order = rows.order(conn)
    # check_status_progression: a new DRAFT order has no previous status.
    assert _statuses(conn, order) == ("DRAFT", None)

    set_status = text("UPDATE orders SET status = :status WHERE id = :id")
    conn.execute(set_status, {"status": "PENDING", "id": order})
    assert _statuses(conn, order) == ("PENDING", "DRAFT")

    conn.execute(set_status, {"status": "CONFIRMED", "id": order})
    assert _statuses(conn, order) == ("CONFIRMED", "PENDING")

    # Only UPDATE OF status fires it: other changes keep the previous status.
    conn.execute(text("UPDATE orders SET notes = 'rush' WHERE id = :id"), {"id": order})
    assert _statuses(conn, order) == ("CONFIRMED", "PENDING")

    # The trigger has the last word over a previous_status written alongside the status.
    conn.execute(
        text("UPDATE orders SET status = 'PROCESSING', previous_status = 'DRAFT' WHERE id = :id"),
        {"id": order},
    )
    assert _statuses(conn, order) == ("PROCESSING", "CONFIRMED")


def test_an_order_goes_only_where_the_state_machine_allows(conn: Connection) -> None:
    order = rows.order(conn)
    with pytest.raises(IntegrityError) as caught, conn.begin_nested():
        conn.execute(text("UPDATE orders SET status = 'SHIPPED' WHERE id = :id"), {"id": order})
    assert caught.value.orig.diag.constraint_name == "order_status_transition"  # type: ignore[union-attr]
    assert "cannot go from DRAFT to SHIPPED" in str(caught.value.orig)


def test_draft_to_pending_needs_the_trigger(conn: Connection) -> None:
    """Without the trigger, leaving DRAFT would break check_status_progression."""
    order = rows.order(conn)
    conn.execute(text("ALTER TABLE orders DISABLE TRIGGER trigger_order_status_change"))
    with pytest.raises(IntegrityError) as caught, conn.begin_nested():
        conn.execute(text("UPDATE orders SET status = 'PENDING' WHERE id = :id"), {"id": order})
    assert caught.value.orig.diag.constraint_name == "check_status_progression"  # type: ignore[union-attr]
