"""The application role: it runs every service but cannot change the schema."""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import ProgrammingError

from erpgo_desktop.config import AppPaths, DatabaseLocation, UrlSource
from erpgo_desktop.db import migrate
from erpgo_desktop.db.engine import make_engine
from erpgo_desktop.domain.catalog import CategoryDraft, ProductDraft
from erpgo_desktop.domain.customers import CustomerDraft
from erpgo_desktop.domain.inventory import WarehouseDraft
from erpgo_desktop.errors import ConfigurationError, ValidationError
from erpgo_desktop.services import build_services
from erpgo_desktop.services.auth import NewUser
from erpgo_desktop.services.notifications import Change, ChangeListener
from erpgo_desktop.services.privileges import (
    OWNER_ONLY_FUNCTIONS,
    application_url,
    can_change_schema,
    setup_application_role,
)
from erpgo_desktop.services.setup import prepare_database
from erpgo_desktop.services.stock import StockKey
from tests.services.privileges_support import Roles, libpq, roles
from tests.services.test_orders_support import HEADER

DEADLINE = 10.0  # seconds; only ever reached when something is broken
BEFORE_TOP_PRODUCTS = "0007"  # revision 0008 adds dashboard_product_month

__all__ = ["roles"]  # the fixture


def app_url(owner_url: URL, role: str) -> URL:
    # The test servers trust local connections: any password logs in.
    return application_url(owner_url, role).set(password="not-checked")


@pytest.fixture
def app_engine(database_url: URL, roles: Roles) -> Iterator[Engine]:
    role = roles.new(database_url)
    setup_application_role(database_url, role, "a long secret")
    engine = make_engine(app_url(database_url, role))
    yield engine
    engine.dispose()


def owner_run(url: URL, *statements: str) -> None:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[call-overload]


def test_the_app_role_runs_a_whole_order_flow(app_engine: Engine) -> None:
    services = build_services(app_engine)
    with app_engine.connect() as connection:
        assert connection.execute(text("SELECT current_user")).scalar_one().startswith("erpgo_app_")

    services.auth.create_first_admin(
        username="boss", email="boss@example.com", password="a long secret", first_name="Bo"
    )
    admin = services.auth.login("boss", "a long secret")
    services.users.create_user(
        admin, NewUser("clerk", "clerk@example.com", "another secret", "warehouse_clerk", "Cy")
    )
    warehouse = services.warehouses.create(admin, WarehouseDraft(code="MAIN", name="Main"))
    category = services.categories.create_category(admin, CategoryDraft("Tools"))
    product = services.products.create_product(
        admin,
        ProductDraft(sku="HAM-1", name="Hammer", category_id=category.id, price=Decimal("12.50")),
    )
    services.inventory.receive(admin, StockKey(product.id, warehouse.id), 10)
    customer = services.customers.create_customer(
        admin, CustomerDraft("Ada", "Lovelace", "ada@example.com", credit_limit=Decimal("1000"))
    )
    assert customer.customer_code  # next_customer_code()

    orders = services.orders
    order = orders.create_draft(admin, customer.id, HEADER)
    assert order.order_number  # next_order_number()
    order = orders.add_line(admin, order.id, order.version, product.id, 3)
    order = orders.submit(admin, order.id, order.version)
    order = orders.confirm(admin, order.id, order.version, warehouse.id)
    order = orders.start_processing(admin, order.id, order.version)
    order = orders.ship(admin, order.id, order.version, carrier="UPS", tracking_number="1Z 1")
    order = orders.deliver(admin, order.id, order.version)
    order = orders.record_payment(admin, order.id, order.version, order.total_amount)
    assert order.status == "DELIVERED"
    assert [o.id for o in orders.list_orders(admin).rows] == [order.id]
    assert services.documents.packing_slip(admin, order.id).tracking_number == "1Z 1"

    today = datetime.now(UTC).date()
    month_ago, year_ago = today - timedelta(days=30), today - timedelta(days=365)
    dashboard = services.dashboard  # each panel folds the pending summary rows first
    assert dashboard.stock_value(admin).units == 7
    assert dashboard.low_stock(admin) == ()
    assert sum(point.orders for point in dashboard.sales(admin, month_ago, today)) == 1
    assert [row.key for row in dashboard.top_products(admin, year_ago, today)] == [product.id]
    assert [row.key for row in dashboard.top_customers(admin, month_ago, today)] == [customer.id]
    assert dashboard.pipeline(admin)
    assert dashboard.overdue_unpaid(admin) == ()

    reports = services.reports
    assert len(reports.inventory_valuation(admin).rows) == 1
    assert len(reports.stock_movements(admin, month_ago, today).rows) == 1
    assert len(reports.sales_by_product(admin, month_ago, today).rows) == 1
    assert len(reports.sales_by_customer(admin, month_ago, today).rows) == 1
    assert len(reports.sales_by_region(admin, month_ago, today).rows) == 1
    reports.customer_balances(admin)

    # Deletes run the BEFORE DELETE summary triggers as the app role too.
    spare = services.products.create_product(
        admin, ProductDraft(sku="SPARE", name="Spare", category_id=category.id, price=Decimal(1))
    )
    services.products.delete_product(admin, spare.id, expected_version=spare.version)


def test_the_app_role_hears_and_sends_change_notifications(app_engine: Engine) -> None:
    heard: queue.Queue[Change] = queue.Queue()
    listening = threading.Event()

    def on_listening(now_listening: bool) -> None:
        if now_listening:
            listening.set()

    listener = ChangeListener(app_engine.url, wait=0.05, backoff=(0.05,), on_listening=on_listening)
    thread = threading.Thread(target=listener.run, args=(heard.put,), daemon=True)
    thread.start()
    try:
        assert listening.wait(DEADLINE)
        with app_engine.begin() as connection:
            customer = connection.execute(
                text(
                    "INSERT INTO customers (first_name, last_name, email) "
                    "VALUES ('Cy', 'Customer', 'cy@example.com') RETURNING id"
                )
            ).scalar_one()
        while (change := heard.get(timeout=DEADLINE)).table != "customers":
            pass
        assert change == Change("customers", "INSERT", (customer,))
    finally:
        listener.stop()
        thread.join(timeout=DEADLINE)
    assert not thread.is_alive()


SCHEMA_CHANGES = {
    "create a table": "CREATE TABLE mine (id INTEGER)",
    "create a table, qualified": "CREATE TABLE public.mine (id INTEGER)",
    "create a temporary table": "CREATE TEMPORARY TABLE mine (id INTEGER)",
    "create a view": "CREATE VIEW mine AS SELECT 1",
    "create a function": "CREATE FUNCTION mine() RETURNS INTEGER LANGUAGE sql AS 'SELECT 1'",
    "create an index": "CREATE INDEX mine ON products (name)",
    "alter a table": "ALTER TABLE products ADD COLUMN mine INTEGER",
    "drop a column": "ALTER TABLE products DROP COLUMN name",
    "drop a table": "DROP TABLE order_items",
    "drop a trigger": "DROP TRIGGER notify_orders_insert ON orders",
    "truncate": "TRUNCATE order_items",
    "rebuild the summaries": "SELECT dashboard_rebuild()",
    "rebuild the stock flags": "SELECT stock_flags_rebuild()",
    "write the schema revision": "UPDATE alembic_version SET version_num = 'x'",
    "create a schema": "CREATE SCHEMA mine",
    "create in another schema": "CREATE TABLE other.mine (id INTEGER)",
    "read another schema": "SELECT * FROM other.secrets",
    "create a role": "CREATE ROLE mine",
    "create a database": "CREATE DATABASE mine",
    "grant itself more": "ALTER ROLE current_user CREATEDB",
}


def test_the_app_role_cannot_change_the_schema_or_reach_beyond_it(
    database_url: URL, app_engine: Engine
) -> None:
    owner_run(
        database_url,
        "CREATE SCHEMA other",
        "CREATE TABLE other.secrets (id INTEGER)",
        "INSERT INTO other.secrets VALUES (1)",
    )
    allowed = []
    for what, statement in SCHEMA_CHANGES.items():
        try:
            # CREATE DATABASE refuses to run inside a transaction block: autocommit.
            with app_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(statement)
        except ProgrammingError as exc:
            assert isinstance(exc.orig, psycopg.errors.InsufficientPrivilege), (what, exc)
        else:
            allowed.append(what)
    assert allowed == []
    with psycopg.connect(libpq(database_url)) as conn:
        assert conn.execute("SELECT count(*) FROM other.secrets").fetchone() == (1,)
        assert conn.execute("SELECT to_regclass('public.mine')").fetchone() == (None,)
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


def test_setup_again_takes_back_what_was_added_and_changes_the_password(
    database_url: URL, roles: Roles
) -> None:
    role = roles.new(database_url)
    first = setup_application_role(database_url, role, "first secret")
    assert first.created and first.password_changed and first.warnings == ()
    assert first.owner_only_functions == OWNER_ONLY_FUNCTIONS
    assert "dashboard_fold()" in first.functions and "next_order_number()" in first.functions
    assert first.tables > 20

    def state() -> tuple[object, ...]:
        with psycopg.connect(libpq(database_url)) as conn:
            row = conn.execute(
                "SELECT rolpassword, rolinherit, "
                "has_table_privilege(rolname, 'orders', 'TRUNCATE'), "
                "has_table_privilege(rolname, 'orders', 'SELECT,INSERT,UPDATE,DELETE'), "
                "has_schema_privilege(rolname, 'public', 'CREATE') "
                "FROM pg_authid WHERE rolname = %s",
                (role,),
            ).fetchone()
        assert row is not None
        return tuple(row)

    password, *grants = state()
    assert str(password).startswith("SCRAM-SHA-256$")  # never the clear text
    assert grants == [False, False, True, False]

    owner_run(
        database_url,
        f"GRANT TRUNCATE ON orders TO {role}",
        f"GRANT CREATE ON SCHEMA public TO {role}",
        f"ALTER ROLE {role} INHERIT",
    )
    again = setup_application_role(database_url, role, "second secret")
    assert not again.created and again.password_changed
    new_password, *grants = state()
    assert new_password != password
    assert grants == [False, False, True, False]

    kept = setup_application_role(database_url, role)  # no password: the role keeps its own
    assert not kept.password_changed
    assert state()[0] == new_password


def test_the_shared_server_setup_of_the_administration_guide(
    empty_database_url: URL, roles: Roles
) -> None:
    """An owner that is no superuser migrates; a superuser sets up the application role;
    what a later migration creates is granted by default; the owner may re-run setup-roles
    but, without CREATEROLE, not change the role's password."""
    owner_role = roles.new(empty_database_url, "erpgo_owner")
    owner_run(
        empty_database_url,
        f"CREATE ROLE {owner_role} LOGIN",
        f'ALTER DATABASE "{empty_database_url.database}" OWNER TO {owner_role}',
    )
    owner = make_engine(empty_database_url.set(username=owner_role, password="not-checked"))
    migrate.upgrade(owner, BEFORE_TOP_PRODUCTS)
    role = roles.new(empty_database_url)
    done = setup_application_role(empty_database_url, role, "a long secret")
    assert (done.owner, done.warnings) == (owner_role, ())

    migrate.upgrade(owner)  # creates dashboard_product_month
    app = make_engine(app_url(empty_database_url, role))
    try:
        with app.begin() as connection:
            assert not can_change_schema(connection)
            connection.execute(text("SELECT dashboard_fold()"))
            connection.execute(text("DELETE FROM dashboard_product_month"))
        services = build_services(app)
        services.auth.create_first_admin(
            username="boss", email="boss@example.com", password="a long secret", first_name="Bo"
        )
        admin = services.auth.login("boss", "a long secret")
        today = date.today()
        assert services.dashboard.top_products(admin, today - timedelta(days=400), today) == ()
    finally:
        app.dispose()

    with owner.connect() as connection:
        assert can_change_schema(connection)
    again = setup_application_role(owner, role)
    assert (again.created, again.owner, again.warnings) == (False, owner_role, ())
    with pytest.raises(ConfigurationError, match=f"Setting up role {role} failed"):
        setup_application_role(owner, role, "another secret")
    owner.dispose()


def _paths(tmp_path: Path) -> AppPaths:
    return AppPaths(tmp_path / "config", tmp_path / "data", tmp_path / "logs")


def _start(url: URL, tmp_path: Path, *, demo: bool = False) -> Engine:
    engine, _ready = prepare_database(
        DatabaseLocation(UrlSource.COMMAND_LINE, url),
        _paths(tmp_path),
        demo=demo,
        progress=lambda _stage, _done, _total: None,
    )
    return engine


def test_starting_as_the_app_role_on_an_old_schema_asks_for_the_owner(
    empty_database_url: URL, roles: Roles, tmp_path: Path
) -> None:
    owner = make_engine(empty_database_url)
    migrate.upgrade(owner, BEFORE_TOP_PRODUCTS)
    role = roles.new(empty_database_url)
    setup_application_role(owner, role, "a long secret")

    with pytest.raises(ConfigurationError) as refused:
        _start(app_url(empty_database_url, role), tmp_path)
    assert refused.value.message == (
        f"The database schema is at revision {BEFORE_TOP_PRODUCTS}; this version needs "
        f"{migrate.head_revision()}. Ask your administrator to run `erpgo-desktop migrate` "
        "as the database owner."
    )
    assert migrate.current_revision(owner) == BEFORE_TOP_PRODUCTS

    # The owner starting the app still migrates as it always did; then the role may start.
    _start(empty_database_url, tmp_path).dispose()
    assert migrate.is_up_to_date(owner)
    owner.dispose()
    _start(app_url(empty_database_url, role), tmp_path).dispose()


def test_starting_as_the_app_role_on_a_newer_schema_asks_for_the_newer_version(
    app_engine: Engine, database_url: URL, tmp_path: Path
) -> None:
    owner_run(database_url, "UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(ConfigurationError, match="at revision 9999, newer than this version"):
        _start(app_engine.url, tmp_path)


def test_the_app_role_does_not_load_demo_data(app_engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Demo data is loaded by the database owner"):
        _start(app_engine.url, tmp_path, demo=True)
    with app_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM users")).scalar_one() == 0


def test_a_database_without_the_schema_is_refused(empty_database_url: URL) -> None:
    with pytest.raises(ConfigurationError, match="run `erpgo-desktop migrate`"):
        setup_application_role(empty_database_url, f"erpgo_app_{uuid.uuid4().hex[:12]}", "pw")


@pytest.mark.parametrize("name", ["Upper", "has-dash", "1st", "pg_app", "x" * 64, ""])
def test_role_names_that_would_need_quoting_are_refused(database_url: URL, name: str) -> None:
    with pytest.raises(ValidationError) as refused:
        setup_application_role(database_url, name, "pw")
    assert refused.value.field == "role"


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        ("LOGIN CREATEDB", "has CREATEDB"),
        ("LOGIN CREATEROLE", "has CREATEROLE"),
        ("LOGIN SUPERUSER", "has SUPERUSER"),
    ],
)
def test_an_existing_role_with_powers_is_refused_not_stripped(
    database_url: URL, roles: Roles, attributes: str, reason: str
) -> None:
    role = roles.new(database_url)
    owner_run(database_url, f"CREATE ROLE {role} {attributes}")
    with pytest.raises(ConfigurationError, match=reason):
        setup_application_role(database_url, role, "pw")


def test_an_existing_role_that_owns_objects_is_refused(database_url: URL, roles: Roles) -> None:
    role = roles.new(database_url)
    owner_run(
        database_url,
        f"CREATE ROLE {role} LOGIN",
        "CREATE TABLE scratch (id INTEGER)",
        f"ALTER TABLE scratch OWNER TO {role}",
    )
    with pytest.raises(ConfigurationError, match="owns 1 object in this database"):
        setup_application_role(database_url, role, "pw")


def test_an_existing_plain_role_is_taken_as_it_is(database_url: URL, roles: Roles) -> None:
    """The seed's own `CREATE USER erpgo_app` (INHERIT by default) becomes NOINHERIT."""
    role = roles.new(database_url)
    owner_run(database_url, f"CREATE USER {role}")
    done = setup_application_role(database_url, role)
    assert not done.created and not done.password_changed
    with psycopg.connect(libpq(database_url)) as conn:
        assert conn.execute(
            "SELECT rolinherit, rolcanlogin FROM pg_roles WHERE rolname = %s", (role,)
        ).fetchone() == (False, True)
