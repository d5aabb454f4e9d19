"""Customers on real PostgreSQL: generated codes, unique email, type and status, credit
limit (the balance is the orders service's), tax exemption, versions, soft and hard delete,
permissions."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.customers import CustomerDraft, CustomerService
from tests.services.test_products import NOBODY, Staff, make_staff


@pytest.fixture
def staff(engine: Engine) -> Staff:
    return make_staff(engine)


@pytest.fixture
def customers(engine: Engine) -> CustomerService:
    return CustomerService(make_session_factory(engine))


def ann(**changes: object) -> CustomerDraft:
    draft = CustomerDraft(
        first_name="Ann",
        last_name="Archer",
        email="ann@example.com",
        phone="+1 (555) 010-0199",
        credit_limit=Decimal("500.00"),
    )
    return replace(draft, **changes)  # type: ignore[arg-type]


def customer_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM customers")).scalar_one())


def add_order(engine: Engine, customer_id: uuid.UUID, user_id: uuid.UUID) -> None:
    with engine.begin() as conn:
        address = conn.execute(
            text("INSERT INTO order_addresses (type, first_name, last_name, address1, city, "
                 "postal_code, country) VALUES ('billing', 'Ann', 'Archer', '1 Road', 'Town', "
                 "'12345', 'US') RETURNING id")
        ).scalar_one()  # fmt: skip
        conn.execute(
            text("INSERT INTO orders (order_number, customer_id, shipping_address_id, "
                 "billing_address_id, created_by) VALUES (next_order_number(), :c, :a, :a, :u)"),
            {"c": customer_id, "a": address, "u": user_id},
        )  # fmt: skip


def test_create_issues_codes_and_stores_every_field(
    customers: CustomerService, staff: Staff
) -> None:
    first = customers.create_customer(
        staff.sales, ann(email=" ann@example.com ", notes="  ", tax_exempt=True)
    )
    second = customers.create_customer(
        staff.sales,
        CustomerDraft("Bo", "Baker", "bo@example.com", company="Baker Ltd", type="business"),
    )

    assert (first.customer_code, second.customer_code) == ("CUST-000001", "CUST-000002")
    assert first.to_draft() == ann(tax_exempt=True)  # email trimmed, blank notes None
    assert (first.balance, first.version, first.updated_by_name) == (Decimal("0.00"), 1, "sam")
    assert first.available_credit == Decimal("500.00")
    assert (second.type, second.status, second.credit_limit) == ("BUSINESS", "ACTIVE", 0)
    assert second.available_credit is None  # no limit
    assert second.display_name == "Baker Ltd (Bo Baker)"
    assert customers.get_customer(staff.sales, first.id) == first
    with pytest.raises(NotFoundError):
        customers.get_customer(staff.sales, uuid.uuid4())


def test_codes_never_collide_between_workstations(customers: CustomerService, staff: Staff) -> None:
    codes: list[str | None] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def create(n: int) -> None:
        try:
            start.wait()
            for i in range(5):
                row = customers.create_customer(
                    staff.sales, ann(email=f"c{n}-{i}@example.com", phone=None)
                )
                codes.append(row.customer_code)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    assert sorted(c or "" for c in codes) == [f"CUST-{n:06d}" for n in range(1, 21)]


def test_an_email_belongs_to_one_customer(
    engine: Engine, customers: CustomerService, staff: Staff
) -> None:
    first = customers.create_customer(staff.sales, ann())
    with pytest.raises(ConflictError, match=r"Ann Archer \(CUST-000001\) already has") as c:
        customers.create_customer(staff.sales, ann(first_name="Other", email="ANN@Example.com"))
    assert c.value.field == "email"
    # Inactive customers keep theirs (customers.email is unique over all rows).
    customers.deactivate_customer(staff.sales, first.id, expected_version=1)
    with pytest.raises(ConflictError) as c:
        customers.create_customer(staff.sales, ann())
    assert c.value.field == "email"
    other = customers.create_customer(staff.sales, ann(email="other@example.com"))
    with pytest.raises(ConflictError) as c:
        customers.update_customer(staff.sales, other.id, ann(), expected_version=1)
    assert c.value.field == "email"
    assert customer_count(engine) == 2
    # A change of case of one's own address is no conflict.
    recased = customers.update_customer(
        staff.sales, other.id, ann(email="Other@example.com"), expected_version=1
    )
    assert recased.email == "Other@example.com"


def test_rules_are_checked(engine: Engine, customers: CustomerService, staff: Staff) -> None:
    existing = customers.create_customer(staff.sales, ann(email="keep@example.com"))
    for changes, field, message in [
        ({"first_name": " "}, "first_name", "1 to 100"),
        ({"last_name": "x" * 101}, "last_name", "1 to 100"),
        ({"email": "ann@example"}, "email", "valid email"),
        ({"phone": "555-12"}, "phone", "7 to 20 digits"),
        ({"phone": "+555 0100 0100 0100 0"}, "phone", "at most 20 characters"),
        ({"type": "PARTNER"}, "type", "individual or a business"),
        ({"type": "BUSINESS"}, "company", "needs a company name"),
        ({"status": "GONE"}, "status", "active, inactive or suspended"),
        ({"credit_limit": Decimal("-1")}, "credit_limit", "cannot be negative"),
        ({"credit_limit": Decimal("0.001")}, "credit_limit", "two decimals"),
    ]:
        with pytest.raises(ValidationError, match=message) as refused:
            customers.create_customer(staff.sales, ann(**changes))
        assert refused.value.field == field
        with pytest.raises(ValidationError, match=message) as refused:
            customers.update_customer(staff.sales, existing.id, ann(**changes), expected_version=1)
        assert refused.value.field == field
    assert customer_count(engine) == 1
    assert customers.get_customer(staff.sales, existing.id) == existing


def test_credit_limit_and_status_are_edited_the_balance_is_not(
    engine: Engine, customers: CustomerService, staff: Staff
) -> None:
    created = customers.create_customer(staff.sales, ann())
    with engine.begin() as conn:  # as the orders service would, on confirming an order
        conn.execute(
            text("UPDATE customers SET balance = 120.50 WHERE id = :id"), {"id": created.id}
        )

    # A credit limit is changed only with credit override (docs/rights.md): not by sales.
    with pytest.raises(PermissionDeniedError, match=r"customers\.credit_override"):
        customers.update_customer(
            staff.sales, created.id, ann(credit_limit=Decimal("100.00")), expected_version=1
        )
    changed = customers.update_customer(
        staff.manager,
        created.id,
        ann(credit_limit=Decimal("100.00"), status="suspended", tax_exempt=True),
        expected_version=1,
    )

    # A limit below the balance is allowed: it only stops further orders on credit.
    assert (changed.credit_limit, changed.balance) == (Decimal("100.00"), Decimal("120.50"))
    assert changed.available_credit == Decimal("-20.50")
    assert (changed.status, changed.tax_exempt, changed.version) == ("SUSPENDED", True, 2)


def test_stale_customer_edit_is_a_conflict(customers: CustomerService, staff: Staff) -> None:
    created = customers.create_customer(staff.sales, ann())
    saved = customers.update_customer(
        staff.manager, created.id, ann(last_name="Smith"), expected_version=1
    )
    with pytest.raises(ConflictError, match="changed by alice") as conflict:
        customers.update_customer(staff.sales, created.id, ann(phone=None), expected_version=1)
    assert conflict.value.current == saved
    assert customers.get_customer(staff.sales, created.id) == saved


def test_a_customer_with_orders_is_deactivated_not_deleted(
    engine: Engine, customers: CustomerService, staff: Staff
) -> None:
    ordered = customers.create_customer(staff.sales, ann())
    add_order(engine, ordered.id, staff.sales.id)
    with pytest.raises(ConflictError, match="CUST-000001 has 1 order, so") as refused:
        customers.delete_customer(staff.sales, ordered.id, expected_version=1)
    assert "deactivate the customer instead" in refused.value.message
    inactive = customers.deactivate_customer(staff.sales, ordered.id, expected_version=1)
    assert (inactive.status, inactive.version) == ("INACTIVE", 2)

    unused = customers.create_customer(staff.sales, ann(email="new@example.com"))
    with pytest.raises(ConflictError, match="changed by sam"):
        customers.delete_customer(staff.sales, unused.id, expected_version=3)
    customers.delete_customer(staff.sales, unused.id, expected_version=1)
    assert customer_count(engine) == 1
    with pytest.raises(NotFoundError):
        customers.delete_customer(staff.sales, unused.id, expected_version=1)


def test_search(customers: CustomerService, staff: Staff) -> None:
    customers.create_customer(staff.sales, ann())
    bo = customers.create_customer(
        staff.sales,
        CustomerDraft("Bo", "Baker", "bo@example.com", company="100% Bakery", type="BUSINESS"),
    )
    cy = customers.create_customer(staff.sales, CustomerDraft("Cy", "Cole", "cy@example.com"))
    customers.deactivate_customer(staff.sales, cy.id, expected_version=1)

    def names(search: str, **options: bool) -> list[str]:
        return [row.last_name for row in customers.search_customers(staff.sales, search, **options)]

    assert names("") == ["Archer", "Baker"]
    assert names("", include_inactive=True) == ["Archer", "Baker", "Cole"]
    assert names("BAKER") == ["Baker"]
    assert names("100%") == ["Baker"]  # wildcards are literal
    assert names("1%") == []
    assert names("cust-000003", include_inactive=True) == ["Cole"]
    assert names("example.com") == ["Archer", "Baker"]
    assert customers.search_customers(staff.sales, "bo", limit=1) == (bo,)
    with pytest.raises(ValidationError):
        customers.search_customers(staff.sales, limit=0)


def test_reading_needs_customers_read_and_writing_customers_write(
    engine: Engine, customers: CustomerService, staff: Staff
) -> None:
    created = customers.create_customer(staff.manager, ann())
    for read in (
        lambda: customers.get_customer(staff.clerk, created.id),
        lambda: customers.search_customers(NOBODY),
    ):
        with pytest.raises(PermissionDeniedError, match=r"customers\.read"):
            read()
    reader = CurrentUser(uuid.uuid4(), "reader", "Reader", ("x",), frozenset({"customers.read"}))
    assert customers.get_customer(reader, created.id) == created
    attempts: list[Callable[[CurrentUser], object]] = [
        lambda user: customers.create_customer(user, ann(email="x@example.com")),
        lambda user: customers.update_customer(user, created.id, ann(), expected_version=1),
        lambda user: customers.deactivate_customer(user, created.id, expected_version=1),
        lambda user: customers.delete_customer(user, created.id, expected_version=1),
    ]
    for user in (staff.clerk, reader):
        for attempt in attempts:
            with pytest.raises(PermissionDeniedError, match=r"customers\.write"):
                attempt(user)
    assert customer_count(engine) == 1
    assert customers.get_customer(staff.sales, created.id) == created
