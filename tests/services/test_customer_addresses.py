"""Customers keep a billing and a shipping address (issue 12, point 5): saved with the
customer in one transaction under its version, read with it, and refused by PostgreSQL
itself to those who may not change customers. Each person works through their own login
role, so the database's grants are what is tested, not only the services' checks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import libpq_conninfo, make_session_factory
from erpgo_desktop.domain.orders import Address
from erpgo_desktop.errors import ConflictError, ValidationError
from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser, SignedIn
from erpgo_desktop.services.customers import CustomerAddresses, CustomerDraft

PASSWORD = "a long password"
OFFICE = Address("", "", "1 Office Road", "Springfield", "12345", "US", company="Archer Ltd")
DOCK = Address("Dock", "Manager", "9 Harbour Way", "Shelbyville", "54321", "US")


@pytest.fixture
def people(engine: Engine) -> Iterator[dict[str, tuple[Services, CurrentUser]]]:
    auth = AuthService(make_session_factory(engine))
    sessions: list[SignedIn] = []
    found: dict[str, tuple[Services, CurrentUser]] = {}
    for username, role in (("sam", "sales"), ("tess", "sales"), ("cleo", "warehouse_clerk")):
        auth.create_user(
            NewUser(username, f"{username}@example.com", PASSWORD, role, username.title()),
            acting=None,
        )
        session = auth.sign_in(username, PASSWORD)
        sessions.append(session)
        found[username] = (build_services(session.engine), session.user)
    yield found
    for session in sessions:
        session.engine.dispose()


def ann() -> CustomerDraft:
    return CustomerDraft("Ann", "Archer", "ann@example.com")


def address_rows(engine: Engine, customer_id: uuid.UUID) -> dict[str, tuple[str, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT type, first_name, last_name, address1 FROM customer_addresses "
                "WHERE customer_id = :c"
            ),
            {"c": customer_id},
        ).all()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def test_addresses_are_saved_and_read_with_the_customer(
    engine: Engine, people: dict[str, tuple[Services, CurrentUser]]
) -> None:
    services, sam = people["sam"]
    created = services.customers.create_customer(sam, ann(), CustomerAddresses(billing=OFFICE))

    # An address's empty name is the customer's; no shipping address ships to the billing.
    billing = replace(OFFICE, first_name="Ann", last_name="Archer")
    assert created.addresses == CustomerAddresses(billing=billing, shipping=None)
    assert created.addresses.for_order == (billing, billing)
    assert address_rows(engine, created.id) == {"billing": ("Ann", "Archer", "1 Office Road")}

    updated = services.customers.update_customer(
        sam,
        created.id,
        created.to_draft(),
        expected_version=created.version,
        addresses=CustomerAddresses(billing=billing, shipping=DOCK),
    )
    assert updated.addresses.for_order == (DOCK, billing)
    # Only the addresses changed, and still the customer's version moved: a save from
    # the version before is a conflict.
    assert updated.version == created.version + 1
    assert services.customers.get_customer(sam, created.id).addresses == updated.addresses
    (found,) = services.customers.search_customers(sam, "Archer")
    assert found.addresses == updated.addresses

    # Saving without addresses (an import, say) leaves them as they are.
    kept = services.customers.update_customer(
        sam, created.id, replace(updated.to_draft(), notes="vip"), expected_version=updated.version
    )
    assert kept.addresses == updated.addresses

    # Shipping ticked "same as billing" again: the shipping row goes.
    same = services.customers.update_customer(
        sam,
        created.id,
        kept.to_draft(),
        expected_version=kept.version,
        addresses=CustomerAddresses(billing=billing),
    )
    assert same.addresses.shipping is None
    assert set(address_rows(engine, created.id)) == {"billing"}


def test_an_address_without_a_street_is_refused_and_nothing_is_written(
    engine: Engine, people: dict[str, tuple[Services, CurrentUser]]
) -> None:
    services, sam = people["sam"]
    with pytest.raises(ValidationError) as refused:
        services.customers.create_customer(
            sam, ann(), CustomerAddresses(billing=OFFICE, shipping=replace(DOCK, address1=" "))
        )
    assert refused.value.field == "shipping_address.address1"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM customers")).scalar_one() == 0


def test_two_people_changing_one_customers_addresses_meet_as_a_conflict(
    engine: Engine, people: dict[str, tuple[Services, CurrentUser]]
) -> None:
    (sams, sam), (tesss, tess) = people["sam"], people["tess"]
    opened = sams.customers.create_customer(sam, ann(), CustomerAddresses(billing=OFFICE))
    sams.customers.update_customer(
        sam,
        opened.id,
        opened.to_draft(),
        expected_version=opened.version,
        addresses=CustomerAddresses(billing=DOCK),
    )
    with pytest.raises(ConflictError) as conflict:
        tesss.customers.update_customer(
            tess,
            opened.id,
            opened.to_draft(),
            expected_version=opened.version,
            addresses=CustomerAddresses(billing=replace(OFFICE, city="Ogdenville")),
        )
    assert "Sam" in conflict.value.message or "sam" in conflict.value.message
    assert address_rows(engine, opened.id)["billing"] == ("Dock", "Manager", "9 Harbour Way")


def test_addresses_go_with_their_customer(
    engine: Engine, people: dict[str, tuple[Services, CurrentUser]]
) -> None:
    services, sam = people["sam"]
    created = services.customers.create_customer(
        sam, ann(), CustomerAddresses(billing=OFFICE, shipping=DOCK)
    )
    services.customers.delete_customer(sam, created.id, expected_version=created.version)
    assert address_rows(engine, created.id) == {}


def _connect(engine: Engine, username: str) -> psycopg.Connection:
    url = engine.url.set(username=None, password=None)
    with engine.connect() as connection:
        role = connection.execute(
            text("SELECT login_role FROM users WHERE username = :u"), {"u": username}
        ).scalar_one()
    return psycopg.connect(libpq_conninfo(url.set(username=role, password=PASSWORD)))


def test_the_database_lets_only_those_who_change_customers_change_their_addresses(
    engine: Engine, people: dict[str, tuple[Services, CurrentUser]]
) -> None:
    services, sam = people["sam"]
    created = services.customers.create_customer(sam, ann(), CustomerAddresses(billing=OFFICE))
    with _connect(engine, "cleo") as clerk:
        clerk.autocommit = True
        # A clerk reads customers through orders (to ship them), and their addresses too.
        assert clerk.execute("SELECT count(*) FROM customer_addresses").fetchone() == (1,)
        for statement in (
            "UPDATE customer_addresses SET city = 'Elsewhere'",
            "DELETE FROM customer_addresses",
            "INSERT INTO customer_addresses (customer_id, type, first_name, last_name, "
            f"address1, city, postal_code, country) VALUES ('{created.id}', 'shipping', "
            "'A', 'B', 'C', 'D', 'E', 'F')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                clerk.execute(statement)
    assert address_rows(engine, created.id) == {"billing": ("Ann", "Archer", "1 Office Road")}
