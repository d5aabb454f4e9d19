"""The customers list: keyset pages in every order, search, filters and capped counts."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import PermissionDeniedError, ValidationError
from erpgo_desktop.services.customers import (
    CustomerQuery,
    CustomerService,
    CustomerSort,
    ListCount,
)
from tests.services.list_support import insert_customer, role_user, seed_customers

SALES = role_user("sales")

# The order PostgreSQL gives, the reference the pages are held to (its collation decides
# how names compare, not Python's).
REFERENCE = {
    (CustomerSort.NAME, False): "last_name, first_name, id",
    (CustomerSort.NAME, True): "last_name DESC, first_name DESC, id DESC",
    (CustomerSort.CODE, False): "customer_code ASC NULLS LAST, id",
    (CustomerSort.CODE, True): "customer_code DESC NULLS FIRST, id DESC",
}


@pytest.fixture
def customers(engine: Engine) -> CustomerService:
    return CustomerService(make_session_factory(engine))


def every_page(
    customers: CustomerService, query: CustomerQuery, limit: int
) -> tuple[list[uuid.UUID], int]:
    ids: list[uuid.UUID] = []
    after, pages = None, 0
    while True:
        page = customers.list_customers(SALES, query, after, limit)
        pages += 1
        ids.extend(row.id for row in page.rows)
        if not page.has_more:
            return ids, pages
        after = page.next_cursor


@pytest.mark.parametrize(("sort", "descending"), list(REFERENCE))
def test_pages_walk_every_customer_once_in_order(
    engine: Engine, customers: CustomerService, sort: CustomerSort, descending: bool
) -> None:
    seed_customers(engine, 60)  # names repeat every 15, and 3 have no code
    with engine.connect() as conn:
        expected = list(
            conn.scalars(text(f"SELECT id FROM customers ORDER BY {REFERENCE[sort, descending]}"))
        )

    ids, pages = every_page(customers, CustomerQuery(sort=sort, descending=descending), 7)

    assert ids == expected
    assert len(set(ids)) == 60
    assert pages == 9


def test_a_page_shows_the_listed_columns(engine: Engine, customers: CustomerService) -> None:
    insert_customer(
        engine,
        "Ada",
        "Lovelace",
        code="CUST-000007",
        company="Analytical Engines",
        phone="+44 20 5555 0100",
        type="BUSINESS",
        credit_limit="5000",
        balance="120.50",
    )

    page = customers.list_customers(SALES, CustomerQuery())

    (row,) = page.rows
    assert (row.customer_code, row.first_name, row.last_name, row.company) == (
        "CUST-000007",
        "Ada",
        "Lovelace",
        "Analytical Engines",
    )
    assert (row.email, row.phone, row.type, row.status) == (
        "ada.lovelace@example.com",
        "+44 20 5555 0100",
        "BUSINESS",
        "ACTIVE",
    )
    assert (str(row.credit_limit), str(row.balance)) == ("5000.00", "120.50")
    assert page.has_more is False
    assert page.next_cursor is not None and page.next_cursor.id == row.id


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("lovelace", {"Lovelace"}),
        ("ADA LOVE", {"Lovelace"}),  # first and last name together
        ("cust-00000", {"Lovelace", "Hopper"}),  # code
        ("navy", {"Hopper"}),  # company
        ("@turing.example", {"Turing"}),  # email
        ("  Turing  ", {"Turing"}),  # surrounding blanks do not count
        ("100%", {"Percent"}),  # % is a character, not a wildcard
        ("zzz", set()),
    ],
)
def test_search_matches_code_names_company_and_email(
    engine: Engine, customers: CustomerService, search: str, expected: set[str]
) -> None:
    insert_customer(engine, "Ada", "Lovelace", code="CUST-000001")
    insert_customer(engine, "Grace", "Hopper", code="CUST-000002", company="US Navy")
    insert_customer(engine, "Alan", "Turing", email="alan@turing.example")
    insert_customer(engine, "Cent", "Percent", company="100% Cotton")

    page = customers.list_customers(SALES, CustomerQuery(search=search))

    assert {row.last_name for row in page.rows} == expected
    assert customers.count_customers(SALES, CustomerQuery(search=search)) == ListCount(
        len(expected), exact=True
    )


def test_status_and_type_filters(engine: Engine, customers: CustomerService) -> None:
    seed_customers(engine, 30)  # statuses cycle over three, types over two
    query = CustomerQuery(status="SUSPENDED", type="BUSINESS")

    ids, _pages = every_page(customers, query, 4)

    with engine.connect() as conn:
        expected = set(
            conn.scalars(
                text("SELECT id FROM customers WHERE status = 'SUSPENDED' AND type = 'BUSINESS'")
            )
        )
    assert set(ids) == expected and len(expected) == 5
    assert customers.count_customers(SALES, query) == ListCount(5, exact=True)
    assert customers.count_customers(SALES, CustomerQuery(status="INACTIVE")).count == 10


def test_counts_stop_at_the_cap(engine: Engine, customers: CustomerService) -> None:
    seed_customers(engine, 30)

    assert customers.count_customers(SALES, CustomerQuery(), cap=10) == ListCount(10, exact=False)
    assert customers.count_customers(SALES, CustomerQuery(), cap=30) == ListCount(30, exact=True)
    assert customers.count_customers(SALES, CustomerQuery(), cap=None) == ListCount(30, exact=True)
    assert customers.count_customers(SALES, CustomerQuery(search="company"), cap=10) == ListCount(
        10, exact=False
    )


def test_bad_queries_are_refused_at_their_field(customers: CustomerService) -> None:
    with pytest.raises(ValidationError) as status:
        customers.list_customers(SALES, CustomerQuery(status="GONE"))
    assert status.value.field == "status"
    with pytest.raises(ValidationError) as kind:
        customers.count_customers(SALES, CustomerQuery(type="ROBOT"))
    assert kind.value.field == "type"
    with pytest.raises(ValidationError) as search:
        customers.list_customers(SALES, CustomerQuery(search="x" * 256))
    assert search.value.field == "search"
    with pytest.raises(ValidationError):
        customers.list_customers(SALES, CustomerQuery(), limit=0)


def test_reading_the_list_needs_customers_read(customers: CustomerService) -> None:
    clerk = role_user("warehouse_clerk")
    with pytest.raises(PermissionDeniedError):
        customers.list_customers(clerk, CustomerQuery())
    with pytest.raises(PermissionDeniedError):
        customers.count_customers(clerk, CustomerQuery())
