"""Database refusals become messages for people, never a driver's text.

Each entry of the constraint tables in services/base.py is provoked for real, by raw SQL
inside a Service's transaction, and the ErpError's type, field and message are checked,
together with the constraint that actually refused (so no case passes for another reason).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.orm import Session

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import ConflictError, ErpError, ValidationError
from erpgo_desktop.services.auth import AuthService, NewUser
from erpgo_desktop.services.base import CONSTRAINT_MESSAGES, REFERENCE_MESSAGES, Service
from erpgo_desktop.services.users import UserAdminService, UserRow

MISSING = "00000000-0000-0000-0000-00000000dead"


class RawSql(Service):
    """A service whose one action runs the statements it is given."""

    def run(self, *statements: str) -> None:
        def work(session: Session) -> None:
            for statement in statements:
                session.execute(text(statement))

        self._write(work)


USER = "'00000000-0000-0000-0000-000000000001'"
ROLE = "'00000000-0000-0000-0000-000000000002'"
PARENT_CATEGORY = "'00000000-0000-0000-0000-000000000010'"
CATEGORY = "'00000000-0000-0000-0000-000000000011'"
PRODUCT = "'00000000-0000-0000-0000-000000000020'"
OTHER_PRODUCT = "'00000000-0000-0000-0000-000000000021'"
VARIANT = "'00000000-0000-0000-0000-000000000030'"
WAREHOUSE = "'00000000-0000-0000-0000-000000000040'"
CUSTOMER = "'00000000-0000-0000-0000-000000000050'"
ADDRESS = "'00000000-0000-0000-0000-000000000060'"
ORDER = "'00000000-0000-0000-0000-000000000070'"
ITEM = "'00000000-0000-0000-0000-000000000080'"
OTHER_ITEM = "'00000000-0000-0000-0000-000000000081'"
GONE = f"'{MISSING}'"

SEED = f"""
INSERT INTO users (id, email, username, password_hash, first_name, last_name)
    VALUES ({USER}, 'u@example.com', 'user', 'x', 'U', 'Ser');
INSERT INTO roles (id, name) VALUES ({ROLE}, 'tester');
INSERT INTO user_roles (user_id, role_id) VALUES ({USER}, {ROLE});
INSERT INTO product_categories (id, name) VALUES ({PARENT_CATEGORY}, 'Tools');
INSERT INTO product_categories (id, name, parent_id)
    VALUES ({CATEGORY}, 'Drills', {PARENT_CATEGORY});
INSERT INTO products (id, sku, name, category_id, price, cost) VALUES
    ({PRODUCT}, 'SKU-1', 'Drill', {CATEGORY}, 100, 40),
    ({OTHER_PRODUCT}, 'SKU-2', 'Bit', {CATEGORY}, 5, 1);
INSERT INTO product_variants (id, product_id, sku, name, price)
    VALUES ({VARIANT}, {PRODUCT}, 'V-1', 'Red', 100);
INSERT INTO warehouses (id, code, name, manager_id) VALUES ({WAREHOUSE}, 'MAIN', 'Main', {USER});
INSERT INTO product_inventory (product_id, warehouse_id, quantity_available, quantity_reserved)
    VALUES ({PRODUCT}, {WAREHOUSE}, 5, 1);
INSERT INTO variant_inventory (variant_id, warehouse_id, quantity_available)
    VALUES ({VARIANT}, {WAREHOUSE}, 5);
INSERT INTO customers (id, customer_code, first_name, last_name, email)
    VALUES ({CUSTOMER}, 'CUST-000001', 'Cy', 'Customer', 'c@example.com');
INSERT INTO order_addresses (id, type, first_name, last_name, address1, city, postal_code, country)
    VALUES ({ADDRESS}, 'shipping', 'Cy', 'C', '1 Road', 'Town', '1000', 'NL');
INSERT INTO orders (id, order_number, customer_id, shipping_address_id, billing_address_id,
                    created_by, subtotal, total_amount)
    VALUES ({ORDER}, '2026-000001', {CUSTOMER}, {ADDRESS}, {ADDRESS}, {USER}, 105, 105);
INSERT INTO order_items (id, order_id, product_id, variant_id, quantity, unit_price) VALUES
    ({ITEM}, {ORDER}, {PRODUCT}, {VARIANT}, 1, 100),
    ({OTHER_ITEM}, {ORDER}, {OTHER_PRODUCT}, NULL, 1, 5);
INSERT INTO stock_reservations (order_item_id, warehouse_id, quantity)
    VALUES ({ITEM}, {WAREHOUSE}, 1);
"""


def new_product(sku: str = "SKU-9", category: str = CATEGORY, price: str = "10") -> str:
    return (
        "INSERT INTO products (sku, name, category_id, price) "
        f"VALUES ('{sku}', 'New', {category}, {price})"
    )


def new_order(number: str = "2026-000002", customer: str = CUSTOMER) -> str:
    return (
        "INSERT INTO orders (order_number, customer_id, shipping_address_id, "
        f"billing_address_id, created_by) VALUES ('{number}', {customer}, {ADDRESS}, "
        f"{ADDRESS}, {USER})"
    )


def new_item(
    product: str = OTHER_PRODUCT,
    variant: str = "NULL",
    order: str = ORDER,
    quantity: str = "1",
    price: str = "5",
) -> str:
    return (
        "INSERT INTO order_items (order_id, product_id, variant_id, quantity, unit_price) "
        f"VALUES ({order}, {product}, {variant}, {quantity}, {price})"
    )


def drop(table: str, constraint: str) -> str:
    """The partial unique indexes stand behind a plain unique constraint on the same
    column, which refuses first; to reach the index, drop the constraint in the refused
    transaction (which rolls back with it)."""
    return f"ALTER TABLE {table} DROP CONSTRAINT {constraint}"


@dataclass(frozen=True)
class Case:
    constraint: str
    statements: tuple[str, ...]
    #: "missing" or "in_use" for foreign keys; None for unique and check constraints.
    direction: str | None = None


CASES = [
    # unique
    Case("products_sku_key", (new_product("SKU-1"),)),
    Case("idx_unique_skus", (drop("products", "products_sku_key"), new_product("SKU-1"))),
    Case("product_variants_product_id_sku_key", (
        f"INSERT INTO product_variants (product_id, sku, name, price) "
        f"VALUES ({PRODUCT}, 'V-1', 'Blue', 100)",)),
    Case("idx_unique_variant_skus", (
        drop("product_variants", "product_variants_product_id_sku_key"),
        f"INSERT INTO product_variants (product_id, sku, name, price) "
        f"VALUES ({PRODUCT}, 'V-1', 'Blue', 100)")),
    Case("customers_email_key", (
        "INSERT INTO customers (first_name, last_name, email) "
        "VALUES ('A', 'B', 'c@example.com')",)),
    Case("idx_unique_customer_emails", (
        drop("customers", "customers_email_key"),
        "INSERT INTO customers (first_name, last_name, email) VALUES ('A', 'B', 'c@example.com')")),
    Case("customers_customer_code_key", (
        "INSERT INTO customers (customer_code, first_name, last_name, email) "
        "VALUES ('CUST-000001', 'A', 'B', 'd@example.com')",)),
    Case("users_email_key", (
        "INSERT INTO users (email, username, password_hash, first_name, last_name) "
        "VALUES ('u@example.com', 'other', 'x', 'O', 'T')",)),
    Case("idx_unique_emails", (
        drop("users", "users_email_key"),
        "INSERT INTO users (email, username, password_hash, first_name, last_name) "
        "VALUES ('u@example.com', 'other', 'x', 'O', 'T')")),
    Case("users_username_key", (
        "INSERT INTO users (email, username, password_hash, first_name, last_name) "
        "VALUES ('o@example.com', 'user', 'x', 'O', 'T')",)),
    Case("roles_name_key", ("INSERT INTO roles (name) VALUES ('tester')",)),
    Case("user_roles_user_id_role_id_key", (
        f"INSERT INTO user_roles (user_id, role_id) VALUES ({USER}, {ROLE})",)),
    Case("warehouses_code_key", ("INSERT INTO warehouses (code, name) VALUES ('MAIN', 'M')",)),
    Case("orders_order_number_key", (new_order("2026-000001"),)),
    Case("product_inventory_product_id_warehouse_id_key", (
        "INSERT INTO product_inventory (product_id, warehouse_id) "
        f"VALUES ({PRODUCT}, {WAREHOUSE})",)),
    Case("variant_inventory_variant_id_warehouse_id_key", (
        "INSERT INTO variant_inventory (variant_id, warehouse_id) "
        f"VALUES ({VARIANT}, {WAREHOUSE})",)),
    # checks
    Case("products_price_check", (f"UPDATE products SET price = 0, cost = 0 WHERE id = {PRODUCT}",
                                  )),
    Case("product_variants_price_check", ("UPDATE product_variants SET price = -1",)),
    Case("products_cost_check", (f"UPDATE products SET cost = -1 WHERE id = {PRODUCT}",)),
    Case("check_cost_not_higher_than_price", (
        f"UPDATE products SET cost = 101 WHERE id = {PRODUCT}",)),
    Case("order_items_quantity_check", (new_item(quantity="0"),)),
    Case("order_items_unit_price_check", (new_item(price="0"),)),
    Case("check_inventory_quantities", (
        "UPDATE product_inventory SET quantity_reserved = quantity_available + 1",)),
    Case("check_variant_inventory_quantities", (
        "UPDATE variant_inventory SET quantity_available = -1",)),
    Case("check_inventory_upper_bound", (
        "UPDATE product_inventory SET quantity_available = 1000000000",)),
    Case("check_variant_inventory_upper_bound", (
        "UPDATE variant_inventory SET quantity_available = 1000000000",)),
    Case("check_total_calculation", ("UPDATE orders SET total_amount = 1",)),
    # foreign keys: a row referring to one that is gone ...
    Case("products_category_id_fkey", (new_product(category=GONE),), "missing"),
    Case("product_categories_parent_id_fkey", (
        f"INSERT INTO product_categories (name, parent_id) VALUES ('Saws', {GONE})",), "missing"),
    Case("product_variants_product_id_fkey", (
        "INSERT INTO product_variants (product_id, sku, name, price) "
        f"VALUES ({GONE}, 'V-2', 'Blue', 1)",), "missing"),
    Case("order_items_product_id_fkey", (new_item(product=GONE),), "missing"),
    Case("order_items_variant_id_fkey", (new_item(variant=GONE),), "missing"),
    Case("order_items_order_id_fkey", (new_item(order=GONE),), "missing"),
    Case("orders_customer_id_fkey", (new_order(customer=GONE),), "missing"),
    Case("product_inventory_product_id_fkey", (
        f"INSERT INTO product_inventory (product_id, warehouse_id) VALUES ({GONE}, {WAREHOUSE})",),
        "missing"),
    Case("product_inventory_warehouse_id_fkey", (
        f"INSERT INTO product_inventory (product_id, warehouse_id) "
        f"VALUES ({OTHER_PRODUCT}, {GONE})",), "missing"),
    Case("variant_inventory_variant_id_fkey", (
        f"INSERT INTO variant_inventory (variant_id, warehouse_id) VALUES ({GONE}, {WAREHOUSE})",),
        "missing"),
    Case("variant_inventory_warehouse_id_fkey", (
        f"UPDATE variant_inventory SET warehouse_id = {GONE}",), "missing"),
    Case("inventory_transactions_product_id_fkey", (
        "INSERT INTO inventory_transactions (product_id, warehouse_id, transaction_type, quantity) "
        f"VALUES ({GONE}, {WAREHOUSE}, 'IN', 1)",), "missing"),
    Case("inventory_transactions_warehouse_id_fkey", (
        "INSERT INTO inventory_transactions (product_id, warehouse_id, transaction_type, quantity) "
        f"VALUES ({PRODUCT}, {GONE}, 'IN', 1)",), "missing"),
    Case("inventory_transactions_variant_id_fkey", (
        "INSERT INTO inventory_transactions "
        "(product_id, warehouse_id, variant_id, transaction_type, quantity) "
        f"VALUES ({PRODUCT}, {WAREHOUSE}, {GONE}, 'IN', 1)",), "missing"),
    Case("stock_reservations_warehouse_id_fkey", (
        f"UPDATE stock_reservations SET warehouse_id = {GONE}",), "missing"),
    Case("warehouses_manager_id_fkey", (f"UPDATE warehouses SET manager_id = {GONE}",), "missing"),
    Case("user_roles_role_id_fkey", (f"UPDATE user_roles SET role_id = {GONE}",), "missing"),
    # ... and deleting a row others still refer to.
    Case("products_category_id_fkey", (
        f"DELETE FROM product_categories WHERE id = {CATEGORY}",), "in_use"),
    Case("product_categories_parent_id_fkey", (
        f"DELETE FROM product_categories WHERE id = {PARENT_CATEGORY}",), "in_use"),
    Case("order_items_product_id_fkey", (
        f"DELETE FROM products WHERE id = {OTHER_PRODUCT}",), "in_use"),
    Case("order_items_variant_id_fkey", (
        f"DELETE FROM product_variants WHERE id = {VARIANT}",), "in_use"),
    Case("orders_customer_id_fkey", (f"DELETE FROM customers WHERE id = {CUSTOMER}",), "in_use"),
    Case("stock_reservations_warehouse_id_fkey", (
        f"DELETE FROM warehouses WHERE id = {WAREHOUSE}",), "in_use"),
    Case("warehouses_manager_id_fkey", (f"DELETE FROM users WHERE id = {USER}",), "in_use"),
]  # fmt: skip


@pytest.fixture
def raw(engine: Engine) -> Iterator[RawSql]:
    with engine.begin() as connection:
        connection.exec_driver_sql(SEED)
    yield RawSql(make_session_factory(engine))


def refusal(raw: RawSql, *statements: str) -> tuple[ErpError, str | None]:
    """The ErpError the statements end in, and the constraint that refused them."""
    with pytest.raises(ErpError) as caught:
        raw.run(*statements)
    cause = caught.value.__cause__
    assert isinstance(cause, DBAPIError)
    assert str(cause.orig) not in caught.value.message and "violates" not in caught.value.message
    return caught.value, getattr(getattr(cause.orig, "diag", None), "constraint_name", None)


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.constraint}-{c.direction}" if c.direction else c.constraint
                        for c in CASES]
)  # fmt: skip
def test_each_constraint_has_a_message(raw: RawSql, case: Case) -> None:
    error, constraint = refusal(raw, *case.statements)
    assert constraint == case.constraint
    if case.direction is None:
        field, message = CONSTRAINT_MESSAGES[case.constraint]
        unique = case.constraint.endswith("_key") or case.constraint.startswith("idx_unique")
        assert type(error) is (ConflictError if unique else ValidationError)
    else:
        field, missing, in_use = REFERENCE_MESSAGES[case.constraint]
        message = missing if case.direction == "missing" else in_use
        assert type(error) is ConflictError
    assert (error.field, error.message) == (field, message)


def test_every_entry_is_provoked() -> None:
    provoked = {(c.constraint, c.direction) for c in CASES}
    assert {(name, None) for name in CONSTRAINT_MESSAGES} <= provoked
    for name, (_, _, in_use) in REFERENCE_MESSAGES.items():
        assert (name, "missing") in provoked
        assert (in_use is None) is ((name, "in_use") not in provoked), name


def test_an_unknown_constraint_is_still_a_validation_error(raw: RawSql) -> None:
    error, constraint = refusal(raw, "UPDATE orders SET priority = 'WHENEVER'")
    assert constraint == "orders_priority_check"
    assert type(error) is ValidationError
    assert error.message == "The database refused the change (orders_priority_check)."


def test_a_missing_value_names_the_column(raw: RawSql) -> None:
    error, _ = refusal(raw, "UPDATE customers SET first_name = NULL")
    assert type(error) is ValidationError
    assert (error.field, error.message) == ("first_name", "A value is required (first_name).")


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE products SET sku = repeat('X', 101)",
         "A text is longer than the database can hold."),
        ("UPDATE products SET price = 10000000000",
         "A number is larger than the database can hold."),
    ],
)  # fmt: skip
def test_values_too_big_for_their_column(raw: RawSql, statement: str, message: str) -> None:
    error, _ = refusal(raw, statement)
    assert type(error) is ValidationError and error.message == message


def test_other_database_errors_are_not_disguised(raw: RawSql) -> None:
    with pytest.raises(ProgrammingError):
        raw.run("SELECT no_such_column FROM products")


def test_the_refused_transaction_leaves_nothing(raw: RawSql, engine: Engine) -> None:
    with pytest.raises(ConflictError):
        raw.run(new_product("SKU-7"), new_product("SKU-1"))
    with engine.connect() as connection:
        skus = connection.execute(text("SELECT sku FROM products ORDER BY sku")).scalars().all()
    assert skus == ["SKU-1", "SKU-2"]


def test_two_workstations_taking_one_username_at_once(engine: Engine) -> None:
    """Both pass the service's own check before either inserts; the unique constraint
    refuses the second, and it gets a ConflictError naming the field."""
    auth = AuthService(make_session_factory(engine))
    admin = auth.create_first_admin(
        username="boss", email="boss@example.com", password="long enough", first_name="Ada"
    )
    users = UserAdminService(make_session_factory(engine), auth)

    def create(n: int) -> UserRow | ErpError:
        try:
            return users.create_user(
                admin, NewUser("twin", f"twin{n}@example.com", "long enough", "sales", "Twin")
            )
        except ErpError as exc:
            return exc

    with engine.connect() as blocker:
        # Reads go on, inserts wait: both creations get past their check, then queue.
        blocker.execute(text("LOCK TABLE users IN SHARE MODE"))
        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = [pool.submit(create, n) for n in range(2)]
            wait_for_waiting_inserts(engine, 2)
            blocker.commit()
            results = [outcome.result() for outcome in outcomes]
    created = [r for r in results if isinstance(r, UserRow)]
    refused = [r for r in results if isinstance(r, ErpError)]
    assert len(created) == 1 and len(refused) == 1
    assert type(refused[0]) is ConflictError
    assert (refused[0].field, refused[0].message) == ("username", "This username is taken.")
    assert [u.username for u in users.list_users(admin)] == ["boss", "twin"]


def wait_for_waiting_inserts(engine: Engine, count: int) -> None:
    deadline = time.monotonic() + 10
    with engine.connect() as connection:
        while True:
            waiting = connection.execute(
                text("SELECT count(*) FROM pg_locks WHERE NOT granted "
                     "AND relation = 'users'::regclass AND mode = 'RowExclusiveLock'")
            ).scalar_one()  # fmt: skip
            connection.rollback()
            if waiting >= count:
                return
            assert time.monotonic() < deadline, "the inserts never queued"
            time.sleep(0.01)
