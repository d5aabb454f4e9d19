"""PostgreSQL itself refuses the rows the seed schema forbids, and accepts the ones it allows.

Every refusal is checked by SQLSTATE and by the name of the constraint (or column)
PostgreSQL reports, so a test cannot pass because some other rule tripped. Each test
runs in a transaction that is rolled back (see conftest.py), each attempt in a savepoint.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.migrations import rows
from tests.migrations import seed_schema as seed

NOT_NULL = "23502"
FOREIGN_KEY = "23503"
RESTRICT = "23001"  # ON DELETE RESTRICT since PostgreSQL 18; 23503 before
UNIQUE = "23505"
CHECK = "23514"
GENERATED_ALWAYS = "428C9"

Action = Callable[[Connection], Any]


def refusal(connection: Connection, action: Action) -> psycopg.Error:
    """Run `action` in a savepoint; it must fail. Returns psycopg's error."""
    with pytest.raises(DBAPIError) as caught, connection.begin_nested():
        action(connection)
    error = caught.value.orig
    assert isinstance(error, psycopg.Error)
    return error


def assert_refused(connection: Connection, action: Action, sqlstate: str, constraint: str) -> None:
    with pytest.raises(IntegrityError) as caught, connection.begin_nested():
        action(connection)
    error = caught.value.orig
    assert isinstance(error, psycopg.Error)
    assert (error.sqlstate, error.diag.constraint_name) == (sqlstate, constraint), error


def accepted(connection: Connection, action: Action) -> Any:
    with connection.begin_nested():
        return action(connection)


def sql(statement: str, **params: Any) -> Action:
    return lambda connection: connection.execute(text(statement), params)


def twice(helper: Callable[..., uuid.UUID], **values: Any) -> Action:
    """Insert the same row twice (values given; the rest fresh)."""

    def action(connection: Connection) -> None:
        helper(connection, **values)
        helper(connection, **values)

    return action


def then(*helpers: Action) -> Action:
    def action(connection: Connection) -> None:
        for helper in helpers:
            helper(connection)

    return action


# --- NOT NULL ----------------------------------------------------------------------------

NOT_NULL_COLUMNS = [
    (table, column)
    for table, columns in seed.SEED_TABLES.items()
    for column, (*_type, nullable, _default) in columns.items()
    if not nullable and (table, column) not in seed.GENERATED_COLUMNS
]


def test_not_null_list_is_complete() -> None:
    # Sanity of the parametrisation below: the seed's NOT NULLs, PRIMARY KEYs included.
    assert len(NOT_NULL_COLUMNS) == 126
    assert ("orders", "created_by") in NOT_NULL_COLUMNS
    assert ("customers", "user_id") not in NOT_NULL_COLUMNS


@pytest.mark.parametrize(
    ("table", "column"), NOT_NULL_COLUMNS, ids=[".".join(c) for c in NOT_NULL_COLUMNS]
)
def test_not_null(conn: Connection, table: str, column: str) -> None:
    """An explicit NULL is refused, even where the column has a default."""
    helper = rows.BY_TABLE[table]
    accepted(conn, helper)  # the helper's row is valid as it stands
    error = refusal(conn, lambda c: helper(c, **{column: None}))
    assert (error.sqlstate, error.diag.table_name, error.diag.column_name) == (
        NOT_NULL,
        table,
        column,
    )


# --- UNIQUE --------------------------------------------------------------------------------


def _same_pair(helper: Callable[..., uuid.UUID], **parents: Action) -> Action:
    def action(connection: Connection) -> None:
        ids = {column: make(connection) for column, make in parents.items()}
        helper(connection, **ids)
        helper(connection, **ids)

    return action


UNIQUE_CASES = [
    pytest.param(twice(rows.user, email="same@example.com"), "users_email_key", id="users.email"),
    pytest.param(
        then(
            lambda c: rows.user(c, email="old@example.com", is_active=False),
            lambda c: rows.user(c, email="old@example.com", is_active=False),
        ),
        "users_email_key",
        id="users.email-inactive-too",
    ),
    pytest.param(twice(rows.user, username="same"), "users_username_key", id="users.username"),
    pytest.param(twice(rows.role, name="same-role"), "roles_name_key", id="roles.name"),
    pytest.param(
        _same_pair(rows.user_role, user_id=rows.user, role_id=rows.role),
        "user_roles_user_id_role_id_key",
        id="user_roles.user_id+role_id",
    ),
    pytest.param(
        then(
            lambda c: rows.product(c, sku="SAME-SKU"),
            lambda c: rows.product(c, sku="SAME-SKU", is_active=False),
        ),
        "products_sku_key",
        id="products.sku-even-inactive",
    ),
    pytest.param(
        _same_pair(
            lambda c, product_id: rows.variant(c, product_id=product_id, sku="V"),
            product_id=rows.product,
        ),
        "product_variants_product_id_sku_key",
        id="product_variants.product_id+sku",
    ),
    pytest.param(
        twice(rows.customer, customer_code="C-1"),
        "customers_customer_code_key",
        id="customers.customer_code",
    ),
    pytest.param(
        then(
            lambda c: rows.customer(c, email="same@example.com"),
            lambda c: rows.customer(c, email="same@example.com", status="INACTIVE"),
        ),
        "customers_email_key",
        id="customers.email-even-inactive",
    ),
    pytest.param(
        twice(rows.order, order_number="SO-SAME"), "orders_order_number_key", id="orders.number"
    ),
    pytest.param(
        twice(rows.warehouse, code="WH-SAME"), "warehouses_code_key", id="warehouses.code"
    ),
    pytest.param(
        _same_pair(rows.inventory, product_id=rows.product, warehouse_id=rows.warehouse),
        "product_inventory_product_id_warehouse_id_key",
        id="product_inventory.product_id+warehouse_id",
    ),
]


@pytest.mark.parametrize(("action", "constraint"), UNIQUE_CASES)
def test_unique(conn: Connection, action: Action, constraint: str) -> None:
    assert_refused(conn, action, UNIQUE, constraint)


def test_unique_allows_what_it_should(conn: Connection) -> None:
    # A variant SKU is unique within its product only.
    accepted(conn, lambda c: rows.variant(c, sku="SHARED"))
    accepted(conn, lambda c: rows.variant(c, sku="SHARED"))
    # customer_code may be left out by any number of customers (NULLs are distinct).
    accepted(conn, twice(rows.customer, customer_code=None))
    # A product may be stocked in several warehouses.
    product = rows.product(conn)
    accepted(conn, twice(rows.inventory, product_id=product))


# --- the seed's partial unique indexes ---------------------------------------------------

# (index, the UNIQUE constraint that overlaps it, row helper, duplicate values,
#  values that take the row out of the index's WHERE)
PARTIAL_UNIQUE_CASES = [
    pytest.param(
        "idx_unique_emails",
        "users_email_key",
        rows.user,
        {"email": "dup@example.com"},
        {"is_active": False},
        id="idx_unique_emails",
    ),
    pytest.param(
        "idx_unique_customer_emails",
        "customers_email_key",
        rows.customer,
        {"email": "dup@example.com"},
        {"status": "INACTIVE"},
        id="idx_unique_customer_emails",
    ),
    pytest.param(
        "idx_unique_skus",
        "products_sku_key",
        rows.product,
        {"sku": "DUP"},
        {"is_active": False},
        id="idx_unique_skus",
    ),
    pytest.param(
        "idx_unique_variant_skus",
        "product_variants_product_id_sku_key",
        rows.variant,
        {"sku": "DUP"},
        {"is_active": False},
        id="idx_unique_variant_skus",
    ),
]


@pytest.mark.parametrize(
    ("index", "overlap", "helper", "duplicate", "outside"), PARTIAL_UNIQUE_CASES
)
def test_partial_unique_index(
    conn: Connection,
    index: str,
    overlap: str,
    helper: Callable[..., uuid.UUID],
    duplicate: dict[str, Any],
    outside: dict[str, Any],
) -> None:
    """Each partial index refuses duplicates among the rows its WHERE covers, only those.

    Every one of them is overlapped by a plain UNIQUE constraint of the seed, which
    refuses first (test_unique above); to see what the index does by itself, the
    constraint is dropped inside this test's rolled-back transaction.
    """
    table = seed.SEED_CONSTRAINTS[overlap].table
    conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {overlap}"))
    if table == "product_variants":
        duplicate = {**duplicate, "product_id": rows.product(conn)}  # same product
    accepted(conn, lambda c: helper(c, **duplicate))
    assert_refused(conn, lambda c: helper(c, **duplicate), UNIQUE, index)
    accepted(conn, lambda c: helper(c, **duplicate, **outside))
    accepted(conn, lambda c: helper(c, **duplicate, **outside))


# --- CHECK ---------------------------------------------------------------------------------

CHECK_CASES = [
    pytest.param(lambda c: rows.product(c, price=0), "products_price_check", id="products.price=0"),
    pytest.param(
        lambda c: rows.product(c, price=Decimal("-5")),
        "products_price_check",
        id="products.price<0",
    ),
    pytest.param(
        lambda c: rows.product(c, price=Decimal("10"), cost=Decimal("-0.01")),
        "products_cost_check",
        id="products.cost<0",
    ),
    pytest.param(
        lambda c: rows.product(c, price=Decimal("10"), cost=Decimal("10.01")),
        "check_cost_not_higher_than_price",
        id="products.cost>price",
    ),
    pytest.param(
        lambda c: c.execute(
            text("UPDATE products SET cost = price + 1 WHERE id = :id"), {"id": rows.product(c)}
        ),
        "check_cost_not_higher_than_price",
        id="products.cost>price-on-update",
    ),
    pytest.param(
        lambda c: rows.variant(c, price=0), "product_variants_price_check", id="variants.price=0"
    ),
    pytest.param(
        lambda c: rows.order(c, subtotal=100, tax_amount=10, total_amount=100),
        "check_total_calculation",
        id="orders.total-not-the-sum",
    ),
    pytest.param(
        lambda c: rows.order(c, status="PENDING", previous_status=None),
        "check_status_progression",
        id="orders.non-draft-without-previous-status",
    ),
    pytest.param(
        lambda c: c.execute(
            text("UPDATE orders SET previous_status = NULL WHERE id = :id"),
            {"id": rows.order(c, status="CONFIRMED", previous_status="PENDING")},
        ),
        "check_status_progression",
        id="orders.previous-status-cleared-on-update",
    ),
    pytest.param(
        lambda c: rows.order_item(c, quantity=0),
        "order_items_quantity_check",
        id="order_items.quantity=0",
    ),
    pytest.param(
        lambda c: rows.order_item(c, unit_price=0),
        "order_items_unit_price_check",
        id="order_items.unit_price=0",
    ),
    # check_inventory_quantities, part by part; the first part is implied by the other
    # two (available >= reserved >= 0), so it cannot fail on its own.
    pytest.param(
        lambda c: rows.inventory(c, quantity_available=-1, quantity_reserved=0),
        "check_inventory_quantities",
        id="inventory.available<0",
    ),
    pytest.param(
        lambda c: rows.inventory(c, quantity_available=0, quantity_reserved=-1),
        "check_inventory_quantities",
        id="inventory.reserved<0",
    ),
    pytest.param(
        lambda c: rows.inventory(c, quantity_available=5, quantity_reserved=6),
        "check_inventory_quantities",
        id="inventory.reserved>available",
    ),
]


@pytest.mark.parametrize(("action", "constraint"), CHECK_CASES)
def test_check(conn: Connection, action: Action, constraint: str) -> None:
    assert_refused(conn, action, CHECK, constraint)


ACCEPTED_CASES = [
    pytest.param(lambda c: rows.product(c, price=Decimal("0.01")), id="products.price=0.01"),
    pytest.param(
        lambda c: rows.product(c, price=Decimal("0.01"), cost=0), id="products.cost=0,price=0.01"
    ),
    pytest.param(
        lambda c: rows.product(c, price=Decimal("9999999999.99"), cost=0),
        id="products.cost=0,price=max",
    ),
    pytest.param(
        lambda c: rows.product(c, price=Decimal("10"), cost=Decimal("10")),
        id="products.cost=price",
    ),
    pytest.param(lambda c: rows.variant(c, price=Decimal("0.01")), id="variants.price=0.01"),
    pytest.param(
        lambda c: rows.variant(c, price=Decimal("1"), cost=Decimal("5")),
        id="variants.cost>price-not-checked",
    ),
    pytest.param(
        lambda c: rows.order(
            c, subtotal=100, tax_amount=10, shipping_amount=5, discount_amount=15, total_amount=100
        ),
        id="orders.total=sum",
    ),
    pytest.param(lambda c: rows.order(c, status="DRAFT", previous_status=None), id="orders.draft"),
    pytest.param(
        lambda c: rows.order(c, status="DRAFT", previous_status="PENDING"),
        id="orders.draft-with-previous",
    ),
    pytest.param(
        lambda c: rows.order_item(c, quantity=1, unit_price=Decimal("0.01")),
        id="order_items.smallest",
    ),
    pytest.param(
        lambda c: rows.inventory(c, quantity_available=5, quantity_reserved=5),
        id="inventory.all-reserved",
    ),
    pytest.param(lambda c: _taken_out(c, 3), id="inventory_transactions.negative-quantity"),
]


def _taken_out(connection: Connection, quantity: int) -> uuid.UUID:
    """An OUT row of the ledger, after an IN that put the stock there (revision 0011: the
    ledger moves the stock, which cannot go below zero)."""
    received = rows.inventory_transaction(connection, quantity=quantity, transaction_type="IN")
    product, warehouse = connection.execute(
        text("SELECT product_id, warehouse_id FROM inventory_transactions WHERE id = :id"),
        {"id": received},
    ).one()
    return rows.inventory_transaction(
        connection,
        quantity=-quantity,
        transaction_type="OUT",
        product_id=product,
        warehouse_id=warehouse,
    )


@pytest.mark.parametrize("action", ACCEPTED_CASES)
def test_check_accepts(conn: Connection, action: Action) -> None:
    accepted(conn, action)


ENUM_IDS = [".".join(key) for key in seed.ENUMERATIONS]


def _enumeration_row(table: str, column: str, value: str) -> Action:
    values: dict[str, Any] = {column: value}
    if table == "orders" and column != "previous_status":
        # Keeps check_status_progression satisfied whatever the status.
        values["previous_status"] = "DRAFT"
    return lambda c: rows.BY_TABLE[table](c, **values)


@pytest.mark.parametrize(("table", "column"), list(seed.ENUMERATIONS), ids=ENUM_IDS)
def test_enumeration_accepts_each_listed_value(conn: Connection, table: str, column: str) -> None:
    for value in seed.ENUMERATIONS[table, column]:
        accepted(conn, _enumeration_row(table, column, value))


@pytest.mark.parametrize(("table", "column"), list(seed.ENUMERATIONS), ids=ENUM_IDS)
def test_enumeration_refuses_other_values(conn: Connection, table: str, column: str) -> None:
    listed = seed.ENUMERATIONS[table, column]
    # An unknown value, and a listed one in the wrong case: the check is case-sensitive.
    for value in ("BOGUS", listed[0].swapcase()):
        assert_refused(
            conn, _enumeration_row(table, column, value), CHECK, f"{table}_{column}_check"
        )


# --- FOREIGN KEY ---------------------------------------------------------------------------

FK_IDS = [f"{table}.{column}" for table, column, _referenced, _action in seed.FOREIGN_KEYS]


@pytest.mark.parametrize(
    ("table", "column", "referenced", "on_delete"), seed.FOREIGN_KEYS, ids=FK_IDS
)
def test_foreign_key_refuses_a_dangling_reference(
    conn: Connection, table: str, column: str, referenced: str, on_delete: str | None
) -> None:
    nowhere = uuid.uuid4()
    assert_refused(
        conn,
        lambda c: rows.BY_TABLE[table](c, **{column: nowhere}),
        FOREIGN_KEY,
        f"{table}_{column}_fkey",
    )
    # ... and so does an UPDATE that points an existing row nowhere (ledger rows cannot be
    # updated at all: tests/security).
    if table == "inventory_transactions":
        return
    child = rows.BY_TABLE[table](conn)
    assert_refused(
        conn,
        sql(f"UPDATE {table} SET {column} = :nowhere WHERE id = :id", nowhere=nowhere, id=child),
        FOREIGN_KEY,
        f"{table}_{column}_fkey",
    )


def _server_version(connection: Connection) -> int:
    return int(connection.execute(text("SHOW server_version_num")).scalar_one())


@pytest.mark.parametrize(
    ("table", "column", "referenced", "on_delete"), seed.FOREIGN_KEYS, ids=FK_IDS
)
def test_on_delete(
    conn: Connection, table: str, column: str, referenced: str, on_delete: str | None
) -> None:
    """CASCADE deletes the child, SET NULL clears the reference, RESTRICT / NO ACTION refuse."""
    parent = rows.BY_TABLE[referenced](conn)
    child = rows.BY_TABLE[table](conn, **{column: parent})
    delete = sql(f"DELETE FROM {referenced} WHERE id = :id", id=parent)
    if on_delete in ("RESTRICT", None):
        restrict = RESTRICT if _server_version(conn) >= 180000 else FOREIGN_KEY
        sqlstate = restrict if on_delete == "RESTRICT" else FOREIGN_KEY
        assert_refused(conn, delete, sqlstate, f"{table}_{column}_fkey")
    else:
        accepted(conn, delete)
    remaining = conn.execute(
        text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": child}
    ).one_or_none()
    expected = {"CASCADE": None, "SET NULL": (None,), "RESTRICT": (parent,), None: (parent,)}
    assert (tuple(remaining) if remaining else None) == expected[on_delete]


# --- generated columns ---------------------------------------------------------------------


def _prices(connection: Connection, item: uuid.UUID) -> tuple[Decimal, Decimal]:
    return tuple(
        connection.execute(
            text("SELECT total_price, final_price FROM order_items WHERE id = :id"), {"id": item}
        ).one()
    )  # type: ignore[return-value]


def test_generated_prices_follow_their_inputs(conn: Connection) -> None:
    item = rows.order_item(
        conn,
        quantity=3,
        unit_price=Decimal("2.50"),
        tax_amount=Decimal("1.20"),
        discount_amount=Decimal("0.70"),
    )
    # total = quantity * unit_price; final = total + tax - discount
    assert _prices(conn, item) == (Decimal("7.50"), Decimal("8.00"))
    conn.execute(text("UPDATE order_items SET quantity = 4 WHERE id = :id"), {"id": item})
    assert _prices(conn, item) == (Decimal("10.00"), Decimal("10.50"))
    conn.execute(text("UPDATE order_items SET discount_amount = 0 WHERE id = :id"), {"id": item})
    assert _prices(conn, item) == (Decimal("10.00"), Decimal("11.20"))


@pytest.mark.parametrize("column", ["total_price", "final_price"])
def test_generated_columns_cannot_be_written(conn: Connection, column: str) -> None:
    error = refusal(conn, lambda c: rows.order_item(c, **{column: Decimal("1.00")}))
    assert error.sqlstate == GENERATED_ALWAYS
    assert f'column "{column}"' in (error.diag.message_primary or "")

    item = rows.order_item(conn)
    error = refusal(conn, sql(f"UPDATE order_items SET {column} = 1 WHERE id = :id", id=item))
    assert error.sqlstate == GENERATED_ALWAYS
    assert f'column "{column}"' in (error.diag.message_primary or "")
