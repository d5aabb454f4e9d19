"""The change history (issue 11, point 6): every change of a business table is kept by the
database with the person signed in, the time, and each column's old and new value, and
read back through the services as the person reading."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import libpq_conninfo, make_session_factory
from erpgo_desktop.domain.catalog import VariantDraft
from erpgo_desktop.domain.customers import CustomerAddresses
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.errors import PermissionDeniedError
from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.auth import AuthService, NewUser, SignedIn
from erpgo_desktop.services.history import ChangeRow
from erpgo_desktop.services.stock import StockKey
from tests.services.history_support import seed_shop

PASSWORD = "a long password"
ADDRESS = Address("Ann", "Buyer", "1 Main St", "Springfield", "12345", "US")
TODAY = date.today()


@pytest.fixture
def seeded(engine: Engine) -> dict[str, uuid.UUID]:
    return seed_shop(engine)


@pytest.fixture
def people(engine: Engine) -> Iterator[dict[str, Services]]:
    auth = AuthService(make_session_factory(engine))
    sessions: list[SignedIn] = []
    services: dict[str, Services] = {}
    for username, role in (("mona", "manager"), ("sam", "sales"), ("cleo", "warehouse_clerk")):
        auth.create_user(
            NewUser(username, f"{username}@example.com", PASSWORD, role, username.title()),
            acting=None,
        )
        session = auth.sign_in(username, PASSWORD)
        sessions.append(session)
        services[username] = build_services(session.engine)
        services[username].__dict__["acting"] = session.user
    yield services
    for session in sessions:
        session.engine.dispose()


def acting(services: Services):  # type: ignore[no-untyped-def]
    return services.__dict__["acting"]


def field(row: ChangeRow, column: str) -> tuple[str, str]:
    (found,) = [change for change in row.fields if change.column == column]
    return found.old, found.new


def test_a_price_change_is_kept_with_its_person_and_values(
    people: dict[str, Services], seeded: dict[str, uuid.UUID]
) -> None:
    mona = people["mona"]
    product = mona.products.get_product(acting(mona), seeded["product"])
    mona.products.update_product(
        acting(mona),
        product.id,
        replace(product.to_draft(), price=Decimal("12.50")),
        expected_version=product.version,
    )

    (latest, *_) = mona.history.record_history(acting(mona), "products", product.id)
    assert (latest.person, latest.kind, latest.action_label) == ("Mona", "Product", "Changed")
    assert latest.record == "HX-1"
    assert field(latest, "price") == ("10.00", "12.50")
    assert latest.summary == "Price: 10.00 → 12.50"


def test_an_order_line_change_shows_in_the_orders_history(
    people: dict[str, Services], seeded: dict[str, uuid.UUID]
) -> None:
    sam = people["sam"]
    orders, user = sam.orders, acting(sam)
    order = orders.create_draft(user, seeded["customer"], OrderHeader(ADDRESS))
    order = orders.add_line(user, order.id, order.version, seeded["product"], 2)
    (line,) = orders.list_lines(user, order.id)
    orders.change_line(user, order.id, order.version, line.id, quantity=3)

    history = sam.history.record_history(user, "orders", order.id)
    line_changes = [row for row in history if row.kind == "Order line" and row.action == "U"]
    assert line_changes, [row.summary for row in history]
    assert line_changes[0].person == "Sam"
    assert field(line_changes[0], "quantity") == ("2", "3")
    assert line_changes[0].record == f"{order.order_number} · HX-1"
    # The order's own creation and its address are in the same history.
    kinds = {row.kind for row in history}
    assert {"Order", "Order line", "Order address"} <= kinds


def test_a_customers_address_changes_show_in_the_customers_history(
    people: dict[str, Services], seeded: dict[str, uuid.UUID]
) -> None:
    sam = people["sam"]
    customers, user = sam.customers, acting(sam)
    customer = customers.get_customer(user, seeded["customer"])
    customer = customers.update_customer(
        user,
        customer.id,
        customer.to_draft(),
        expected_version=customer.version,
        addresses=CustomerAddresses(billing=ADDRESS),
    )
    customers.update_customer(
        user,
        customer.id,
        customer.to_draft(),
        expected_version=customer.version,
        addresses=CustomerAddresses(billing=replace(ADDRESS, city="Shelbyville")),
    )

    history = sam.history.record_history(user, "customers", customer.id)
    address_changes = [row for row in history if row.kind == "Customer address"]
    assert [row.action for row in address_changes] == ["U", "I"]
    assert address_changes[0].person == "Sam"
    assert address_changes[0].record == "Billing address, Shelbyville"
    assert field(address_changes[0], "city") == ("Springfield", "Shelbyville")


def test_a_stock_adjustment_shows_on_the_products_history_by_the_clerk(
    people: dict[str, Services], seeded: dict[str, uuid.UUID]
) -> None:
    cleo = people["cleo"]
    key = StockKey(seeded["product"], seeded["warehouse"])
    cleo.inventory.adjust(acting(cleo), key, -4, "broken in the aisle")

    history = people["mona"].history.record_history(
        acting(people["mona"]), "products", seeded["product"]
    )
    (stock,) = [row for row in history if row.kind == "Stock" and row.action == "U"]
    assert stock.person == "Cleo"
    assert stock.record == "HX-1 @ MAIN"
    assert field(stock, "quantity_available") == ("50", "46")
    assert "On hand: 50 → 46" in stock.summary


def test_a_variants_history_is_its_own_changes_and_stock_not_its_siblings(
    people: dict[str, Services], seeded: dict[str, uuid.UUID]
) -> None:
    mona, cleo = people["mona"], people["cleo"]
    variants, user = mona.variants, acting(mona)
    small = variants.create_variant(
        user, seeded["product"], VariantDraft("HX-1-S", "Small", Decimal("9.00"))
    )
    large = variants.create_variant(
        user, seeded["product"], VariantDraft("HX-1-L", "Large", Decimal("11.00"))
    )
    variants.update_variant(
        user,
        small.id,
        replace(small.to_draft(), price=Decimal("9.50")),
        expected_version=small.version,
    )
    key = StockKey(seeded["product"], seeded["warehouse"], small.id)
    cleo.inventory.receive(acting(cleo), key, 7)

    history = mona.history.record_history(user, "product_variants", small.id)
    assert {(row.kind, row.record) for row in history} == {
        ("Variant", "HX-1-S"),
        ("Variant stock", "HX-1-S @ MAIN"),
    }
    (price,) = [row for row in history if row.kind == "Variant" and row.action == "U"]
    assert (price.person, price.summary) == ("Mona", "Price: 9.00 → 9.50")
    assert any(row.person == "Cleo" for row in history if row.kind == "Variant stock")
    # The product's History has both variants, as it has its own changes.
    product = mona.history.record_history(user, "products", seeded["product"])
    assert {"HX-1-S", "HX-1-L"} <= {row.record for row in product if row.kind == "Variant"}
    assert [
        row.record for row in mona.history.record_history(user, "product_variants", large.id)
    ] == ["HX-1-L"]


def test_the_changes_report_filters_by_period_person_and_kind(
    people: dict[str, Services], seeded: dict[str, uuid.UUID]
) -> None:
    cleo, mona = people["cleo"], people["mona"]
    cleo.inventory.adjust(
        acting(cleo), StockKey(seeded["product"], seeded["warehouse"]), 5, "found"
    )
    product = mona.products.get_product(acting(mona), seeded["product"])
    mona.products.update_product(
        acting(mona), product.id, replace(product.to_draft(), name="Claw hammer"),
        expected_version=product.version,
    )  # fmt: skip
    history, user = mona.history, acting(mona)
    cleo_id = acting(cleo).id

    by_cleo = history.changes(user, TODAY, TODAY, person_id=cleo_id)
    assert history.count_changes(user, TODAY, TODAY, person_id=cleo_id).count == len(by_cleo.rows)
    assert len(by_cleo.rows) >= 1
    assert {row.person for row in by_cleo.rows} == {"Cleo"}
    products = history.changes(user, TODAY, TODAY, kind="products")
    assert {row.kind for row in products.rows} == {"Product"}
    assert any(row.summary == "Name: Hammer → Claw hammer" for row in products.rows)
    searched = history.changes(user, TODAY, TODAY, search="claw")
    assert [row.record for row in searched.rows] == ["Claw hammer"] or all(
        "Claw" in row.summary for row in searched.rows
    )
    yesterday = TODAY - timedelta(days=1)
    assert history.count_changes(user, yesterday, yesterday).count == 0
    # Newest first, and pages do not overlap.
    everything = history.changes(user, TODAY, TODAY, limit=2)
    following = history.changes(user, TODAY, TODAY, after=everything.next_cursor, limit=2)
    assert everything.rows[0].id > everything.rows[1].id > following.rows[0].id


def test_the_report_needs_reports_view_and_a_history_needs_the_records_read_right(
    people: dict[str, Services], seeded: dict[str, uuid.UUID]
) -> None:
    cleo = people["cleo"]
    with pytest.raises(PermissionDeniedError):
        cleo.history.changes(acting(cleo), TODAY, TODAY)
    with pytest.raises(PermissionDeniedError):
        cleo.history.record_history(acting(cleo), "customers", seeded["customer"])


def _connect(engine: Engine, username: str) -> psycopg.Connection:
    url = engine.url.set(username=None, password=None)
    with engine.connect() as connection:
        role = connection.execute(
            text("SELECT login_role FROM users WHERE username = :u"), {"u": username}
        ).scalar_one()
    return psycopg.connect(libpq_conninfo(url.set(username=role, password=PASSWORD)))


def test_the_history_cannot_be_written_forged_or_read_beyond_ones_rights(
    engine: Engine, people: dict[str, Services], seeded: dict[str, uuid.UUID]
) -> None:
    with engine.begin() as connection:  # something for everyone to try to change
        connection.execute(
            text("UPDATE customers SET notes = 'vip' WHERE id = :c"), {"c": seeded["customer"]}
        )
    with _connect(engine, "cleo") as clerk:
        clerk.autocommit = True
        for statement in (
            "INSERT INTO change_log (table_name, record_id, subject_id, action, changes) "
            "VALUES ('products', gen_random_uuid(), gen_random_uuid(), 'U', '{}')",
            "UPDATE change_log SET db_role = current_user",
            "DELETE FROM change_log",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                clerk.execute(statement)
        # Only an administrator reads the changes of users, roles and memberships.
        tables = {row[0] for row in clerk.execute("SELECT DISTINCT table_name FROM change_log")}
        assert "products" in tables
        assert not tables & {"users", "roles", "user_roles"}
        # Changing a record under a group role still names the person who connected.
        clerk.execute("SET ROLE NONE")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            clerk.execute("SET SESSION AUTHORIZATION postgres")
    with engine.connect() as connection:
        kept = connection.execute(
            text("SELECT count(*) FROM change_log WHERE table_name = 'customers'")
        ).scalar_one()
    assert kept >= 2  # created by the seed, changed above: nothing was deleted
