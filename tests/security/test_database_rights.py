"""What a person can do with `psql` and their own password, whatever the program.

Each test connects with plain psycopg as a person of a default role (their own login role,
their own password) and tries what the issue lists as escalations with the old shared
application role: making oneself an administrator, reading password hashes, rewriting
the stock ledger or stock on hand, lifting a credit limit, jumping an order's status.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import psycopg
import pytest
from psycopg import errors as pg_errors
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError

from erpgo_desktop.cli import _ledger_problems
from erpgo_desktop.db.engine import libpq_conninfo, make_session_factory
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.errors import AuthenticationError, PermissionDeniedError
from erpgo_desktop.services.auth import AuthService, NewUser
from erpgo_desktop.services.customers import CustomerService
from erpgo_desktop.services.orders import OrderService
from erpgo_desktop.services.security import NO_PASSWORD_HASH

PASSWORD = "a long password"
ADDRESS = Address("Cy", "Credit", "1 Road", "Town", "1000", "NL")
ROLES = sorted(perms.DEFAULT_ROLES)
NON_ADMIN = [r for r in ROLES if r != "admin"]


@dataclass
class World:
    engine: Engine
    url: URL
    auth: AuthService
    ids: dict[str, str]

    def connect(self, role: str) -> psycopg.Connection[tuple[object, ...]]:
        """A psql-like session as the person holding `role`, with their own password."""
        username = role.replace("_", "-")
        with self.engine.connect() as connection:
            login_role = connection.execute(
                text("SELECT login_role FROM users WHERE username = :u"), {"u": username}
            ).scalar_one()
        return psycopg.connect(libpq_conninfo(self.url.set(username=login_role, password=PASSWORD)))


@pytest.fixture
def world(engine: Engine, database_url: URL) -> Iterator[World]:
    auth = AuthService(make_session_factory(engine))
    for role in ROLES:
        username = role.replace("_", "-")
        auth.create_user(
            NewUser(username, f"{username}@example.com", PASSWORD, role, "P"), acting=None
        )
    with engine.begin() as connection:
        ids = dict(
            connection.execute(
                text(
                    """
                    WITH c AS (INSERT INTO product_categories (name, path, level)
                               VALUES ('Cat', '/Cat', 1) RETURNING id),
                         p AS (INSERT INTO products (sku, name, category_id, price)
                               SELECT 'SEC-1', 'Secured', id, 10 FROM c RETURNING id),
                         w AS (INSERT INTO warehouses (code, name) VALUES ('SEC', 'Secure')
                               RETURNING id),
                         cu AS (INSERT INTO customers (first_name, last_name, email,
                                                       credit_limit)
                                VALUES ('Cy', 'Credit', 'cy@example.com', 100) RETURNING id)
                    SELECT 'product', (SELECT id FROM p)::text
                    UNION ALL SELECT 'warehouse', (SELECT id FROM w)::text
                    UNION ALL SELECT 'customer', (SELECT id FROM cu)::text
                    """
                )
            ).all()
        )
        connection.execute(
            text(
                "INSERT INTO inventory_transactions (product_id, warehouse_id, "
                "transaction_type, quantity, reason) VALUES (:p, :w, 'IN', 40, 'seed')"
            ),
            {"p": ids["product"], "w": ids["warehouse"]},
        )
    yield World(engine, database_url, auth, ids)


def refused(world: World, role: str, statement: str, *args: object) -> None:
    with world.connect(role) as conn, pytest.raises(psycopg.Error) as caught:
        conn.execute(statement, args or None)
    assert isinstance(caught.value, pg_errors.InsufficientPrivilege | pg_errors.CheckViolation), (
        caught.value
    )


@pytest.mark.parametrize("role", NON_ADMIN)
def test_nobody_but_the_administration_functions_changes_memberships(
    world: World, role: str
) -> None:
    refused(
        world, role, "UPDATE user_roles SET role_id = (SELECT id FROM roles WHERE name = 'admin')"
    )
    refused(
        world,
        role,
        "INSERT INTO user_roles (user_id, role_id) "
        "SELECT u.id, r.id FROM users u, roles r WHERE r.name = 'admin'",
    )
    refused(world, role, "UPDATE roles SET permissions = '[\"*\"]'")
    refused(world, role, "UPDATE users SET is_active = true")
    refused(
        world,
        role,
        "SELECT erpgo_admin_set_roles(id, ARRAY(SELECT id FROM roles), id) "
        "FROM users WHERE login_role = session_user",
    )
    with world.connect(role) as conn, pytest.raises(psycopg.Error):
        conn.execute(
            'GRANT "{}" TO session_user'.format(
                conn.execute("SELECT db_role FROM roles WHERE name = 'admin'").fetchone()[0]  # type: ignore[index]
            )
        )


@pytest.mark.parametrize("role", ROLES)
def test_no_role_reads_a_password_hash_or_verifier(world: World, role: str) -> None:
    if role == "admin":
        # An administrator reads every table, to back it up; the column holds no hash.
        with world.connect(role) as conn:
            kept = {row[0] for row in conn.execute("SELECT password_hash FROM users")}
        assert kept == {NO_PASSWORD_HASH}
    else:
        refused(world, role, "SELECT password_hash FROM users")
    refused(world, role, "SELECT rolpassword FROM pg_authid")
    with world.connect(role) as conn:
        shown = conn.execute("SELECT DISTINCT rolpassword FROM pg_roles").fetchall()
    assert {row[0] for row in shown} <= {"********", None}


@pytest.mark.parametrize("role", ROLES)
def test_the_ledger_is_kept_as_written_and_stock_follows_it(world: World, role: str) -> None:
    refused(world, role, "DELETE FROM inventory_transactions")
    refused(world, role, "UPDATE inventory_transactions SET quantity = 1000")
    refused(world, role, "UPDATE product_inventory SET quantity_available = 1000")
    refused(
        world, role,
        "INSERT INTO product_inventory (product_id, warehouse_id, quantity_available) "
        "SELECT p.id, w.id, 5 FROM products p, warehouses w",
    )  # fmt: skip
    refused(world, role, "DELETE FROM product_inventory")
    assert _ledger_problems(world.engine) == []


@pytest.mark.parametrize("role", ROLES)
def test_stock_moves_only_with_its_ledger_row(world: World, role: str) -> None:
    """Who may move stock does it by writing the ledger; the stock follows."""
    may = perms.allows(frozenset(perms.DEFAULT_ROLES[role]), perms.INVENTORY_RECEIVE)
    insert = (
        "INSERT INTO inventory_transactions (product_id, warehouse_id, transaction_type, "
        "quantity, reason) VALUES (%s, %s, 'IN', 5, 'psql')"
    )
    if may:
        with world.connect(role) as conn:
            conn.execute(insert, (world.ids["product"], world.ids["warehouse"]))
        with world.engine.connect() as connection:
            on_hand = connection.execute(
                text("SELECT quantity_available FROM product_inventory WHERE product_id = :p"),
                {"p": world.ids["product"]},
            ).scalar_one()
        assert on_hand == 45
    else:
        refused(world, role, insert, world.ids["product"], world.ids["warehouse"])
    assert _ledger_problems(world.engine) == []


@pytest.mark.parametrize("role", ROLES)
def test_a_credit_limit_changes_only_with_credit_override(world: World, role: str) -> None:
    statement = "UPDATE customers SET credit_limit = 0 WHERE id = %s"
    if perms.allows(frozenset(perms.DEFAULT_ROLES[role]), perms.CUSTOMERS_CREDIT_OVERRIDE):
        with world.connect(role) as conn:
            assert conn.execute(statement, (world.ids["customer"],)).rowcount == 1
    else:
        refused(world, role, statement, world.ids["customer"])


@pytest.mark.parametrize("role", ROLES)
def test_an_order_follows_its_state_machine(world: World, role: str) -> None:
    admin = world.auth.login("admin", PASSWORD)
    order = OrderService(make_session_factory(world.engine)).create_draft(
        admin, uuid.UUID(world.ids["customer"]), OrderHeader(ADDRESS)
    )
    refused(world, role, "UPDATE orders SET status = 'SHIPPED' WHERE id = %s", str(order.id))
    with world.engine.connect() as connection, pytest.raises(DBAPIError) as caught:
        connection.execute(
            text("UPDATE orders SET status = 'DELIVERED' WHERE id = :o"), {"o": order.id}
        )
    assert isinstance(caught.value.orig, pg_errors.CheckViolation)


def test_a_wrong_password_is_refused_by_the_server(world: World) -> None:
    with world.engine.connect() as connection:
        login_role = connection.execute(
            text("SELECT login_role FROM users WHERE username = 'sales'")
        ).scalar_one()
    wrong = libpq_conninfo(world.url.set(username=login_role, password="wrong"))
    try:
        psycopg.connect(wrong).close()
    except psycopg.OperationalError as exc:
        assert "password authentication failed" in str(exc)
    else:
        pytest.skip("this server trusts every role (pg_hba.conf): it checks no password")
    with pytest.raises(AuthenticationError, match="Wrong username or password"):
        world.auth.login("sales", "wrong")
    assert world.auth.login("sales", PASSWORD).roles == ("sales",)


def test_the_credit_limit_detour_is_refused_for_sales(world: World) -> None:
    """Lifting a customer's limit (0 means none), confirming, and putting it back: the
    first step is refused by the services, and by the database for a forged user."""
    signed_in = world.auth.sign_in("sales", PASSWORD)
    try:
        customers = CustomerService(make_session_factory(signed_in.engine))
        sales = signed_in.user
        customer = customers.get_customer(sales, uuid.UUID(world.ids["customer"]))
        lifted = dataclasses.replace(customer.to_draft(), credit_limit=Decimal("0.00"))
        with pytest.raises(PermissionDeniedError, match=r"customers\.credit_override"):
            customers.update_customer(sales, customer.id, lifted, expected_version=customer.version)
        forged = dataclasses.replace(sales, permissions=frozenset({perms.ALL}))
        with pytest.raises(PermissionDeniedError, match="database refused"):
            customers.update_customer(
                forged, customer.id, lifted, expected_version=customer.version
            )
        assert customers.get_customer(sales, customer.id).credit_limit == Decimal("100.00")
    finally:
        signed_in.engine.dispose()


@pytest.mark.parametrize("role", ROLES)
def test_kept_stock_values_hold_whoever_writes(world: World, role: str) -> None:
    """A cost changed by whoever may change it revalues the stock rows (which that person
    may not write); nobody sets a stock row's kept value to anything else; who reads
    reports folds and reads the valuation's kept totals (revision 0019)."""
    held = frozenset(perms.DEFAULT_ROLES[role])
    product = world.ids["product"]
    cost = "UPDATE products SET cost = 4 WHERE id = %s"
    if perms.allows(held, perms.PRODUCTS_WRITE):
        with world.connect(role) as conn:
            assert conn.execute(cost, (product,)).rowcount == 1
    else:
        refused(world, role, cost, product)
    expected = Decimal(40 * 4) if perms.allows(held, perms.PRODUCTS_WRITE) else Decimal(0)
    with world.connect(role) as conn:
        try:
            conn.execute("UPDATE product_inventory SET value_at_cost = 1, value_at_price = 1")
        except psycopg.Error as exc:
            assert isinstance(exc, pg_errors.InsufficientPrivilege), exc
    with world.engine.connect() as connection:
        kept = connection.execute(
            text(
                "SELECT value_at_cost, value_at_price FROM product_inventory WHERE product_id = :p"
            ),
            {"p": product},
        ).one()
    assert tuple(kept) == (expected, Decimal(400))
    if perms.allows(held, perms.REPORTS_VIEW):
        with world.connect(role) as conn:
            conn.execute("SELECT report_stock_fold()")
            totals = conn.execute(
                "SELECT sum(stock_rows), sum(value_at_cost) FROM (SELECT stock_rows, "
                "value_at_cost FROM report_stock_totals UNION ALL SELECT stock_rows, "
                "value_at_cost FROM report_stock_totals_pending) kept"
            ).fetchone()
        assert totals == (1, expected)
