"""The orders list: keyset pages in every order, search, filters, date ranges, capped counts."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import PermissionDeniedError, ValidationError
from erpgo_desktop.services import order_list
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.listing import ListCount
from erpgo_desktop.services.order_list import OrderQuery, OrderSort
from erpgo_desktop.services.orders import OrderService
from tests.services.list_support import insert_customer, insert_order, role_user, seed_orders

SALES = role_user("sales")

REFERENCE = {
    (OrderSort.DATE, True): "order_date DESC, id DESC",
    (OrderSort.DATE, False): "order_date, id",
    (OrderSort.NUMBER, False): "order_number, id",
    (OrderSort.NUMBER, True): "order_number DESC, id DESC",
    (OrderSort.TOTAL, True): "total_amount DESC, id DESC",
    (OrderSort.TOTAL, False): "total_amount, id",
}


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of `day` on the workstation's clock (the date filter's calendar)."""
    return datetime.combine(day, time(hour, minute)).astimezone()


@pytest.fixture
def orders(engine: Engine) -> OrderService:
    return OrderService(make_session_factory(engine))


def every_page(orders: OrderService, query: OrderQuery, limit: int) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    after = None
    while True:
        page = orders.list_orders_page(SALES, query, after, limit)
        ids.extend(row.id for row in page.rows)
        if not page.has_more:
            return ids
        after = page.next_cursor


@pytest.mark.parametrize(("sort", "descending"), list(REFERENCE))
def test_pages_walk_every_order_once_in_order(
    engine: Engine, orders: OrderService, sort: OrderSort, descending: bool
) -> None:
    customer = insert_customer(engine, "Ada", "Lovelace")
    seed_orders(engine, 50, customer)  # dates repeat in threes, totals every seven
    with engine.connect() as conn:
        expected = list(
            conn.scalars(text(f"SELECT id FROM orders ORDER BY {REFERENCE[sort, descending]}"))
        )

    ids = every_page(orders, OrderQuery(sort=sort, descending=descending), 6)

    assert ids == expected
    assert len(set(ids)) == 50


def test_the_default_is_newest_first_with_the_customer_named(
    engine: Engine, orders: OrderService
) -> None:
    person = insert_customer(engine, "Ada", "Lovelace")
    firm = insert_customer(engine, "Grace", "Hopper", company="US Navy")
    day = date(2024, 5, 1)
    insert_order(engine, person, "SO-1", local(day, 9), total="12.50", paid="2.50")
    insert_order(engine, firm, "SO-2", local(day, 10), status="CONFIRMED", payment_status="PAID")

    page = orders.list_orders_page(SALES, OrderQuery())

    assert [row.order_number for row in page.rows] == ["SO-2", "SO-1"]
    newest, oldest = page.rows
    assert (newest.customer_name, newest.status, newest.payment_status) == (
        "US Navy",
        "CONFIRMED",
        "PAID",
    )
    assert (oldest.customer_name, str(oldest.total_amount), str(oldest.paid_amount)) == (
        "Ada Lovelace",
        "12.50",
        "2.50",
    )


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("so-100", {"SO-1001", "SO-1002"}),  # order number
        ("lovelace", {"SO-1001"}),  # last name
        ("grace hop", {"SO-1002", "SO-2001"}),  # first and last name together
        ("NAVY", {"SO-1002", "SO-2001"}),  # company
        ("alan@", {"SO-2002"}),  # email
        ("_", set()),  # _ is a character, not a wildcard
    ],
)
@pytest.mark.parametrize("listed", [500, 0], ids=["customers-listed", "customers-subquery"])
def test_search_matches_order_numbers_and_customers(
    engine: Engine,
    orders: OrderService,
    search: str,
    expected: set[str],
    listed: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Both ways of matching the customers (their ids listed, or more than
    # CUSTOMERS_LISTED of them matched in a subquery) find the same orders.
    monkeypatch.setattr(order_list, "CUSTOMERS_LISTED", listed)
    ada = insert_customer(engine, "Ada", "Lovelace")
    grace = insert_customer(engine, "Grace", "Hopper", company="US Navy")
    alan = insert_customer(engine, "Alan", "Turing", email="alan@turing.example")
    day = date(2024, 5, 1)
    insert_order(engine, ada, "SO-1001", local(day, 9))
    insert_order(engine, grace, "SO-1002", local(day, 10))
    insert_order(engine, grace, "SO-2001", local(day, 11))
    insert_order(engine, alan, "SO-2002", local(day, 12))

    page = orders.list_orders_page(SALES, OrderQuery(search=search))

    assert {row.order_number for row in page.rows} == expected
    assert orders.count_orders(SALES, OrderQuery(search=search)) == ListCount(len(expected), True)


def test_status_and_payment_filters(engine: Engine, orders: OrderService) -> None:
    customer = insert_customer(engine, "Ada", "Lovelace")
    seed_orders(engine, 30, customer)
    query = OrderQuery(status="SHIPPED", payment_status="PAID")

    ids = every_page(orders, query, 2)

    with engine.connect() as conn:
        expected = list(
            conn.scalars(
                text(
                    "SELECT id FROM orders WHERE status = 'SHIPPED' AND payment_status = 'PAID' "
                    "ORDER BY order_date DESC, id DESC"
                )
            )
        )
    assert ids == expected and len(expected) == 5
    assert orders.count_orders(SALES, query) == ListCount(5, exact=True)


def test_a_date_range_takes_whole_days_on_the_workstations_clock(
    engine: Engine, orders: OrderService
) -> None:
    customer = insert_customer(engine, "Ada", "Lovelace")
    for number, moment in (
        ("SO-A", local(date(2024, 2, 29), 23, 59)),
        ("SO-B", local(date(2024, 3, 1), 0, 0)),
        ("SO-C", local(date(2024, 3, 15), 12)),
        ("SO-D", local(date(2024, 3, 31), 23, 59)),
        ("SO-E", local(date(2024, 4, 1), 0, 0)),
    ):
        insert_order(engine, customer, number, moment)

    def numbers(query: OrderQuery) -> list[str]:
        return [row.order_number for row in orders.list_orders_page(SALES, query).rows]

    march = OrderQuery(date_from=date(2024, 3, 1), date_to=date(2024, 3, 31))
    assert numbers(march) == ["SO-D", "SO-C", "SO-B"]
    assert orders.count_orders(SALES, march) == ListCount(3, exact=True)
    assert numbers(OrderQuery(date_from=date(2024, 3, 31))) == ["SO-E", "SO-D"]
    assert numbers(OrderQuery(date_to=date(2024, 2, 29))) == ["SO-A"]
    one_day = OrderQuery(date_from=date(2024, 3, 15), date_to=date(2024, 3, 15))
    assert numbers(one_day) == ["SO-C"]


def test_counts_stop_at_the_cap(engine: Engine, orders: OrderService) -> None:
    customer = insert_customer(engine, "Ada", "Lovelace")
    seed_orders(engine, 40, customer)

    assert orders.count_orders(SALES, OrderQuery(), cap=25) == ListCount(25, exact=False)
    assert orders.count_orders(SALES, OrderQuery(), cap=None) == ListCount(40, exact=True)
    assert orders.count_orders(SALES, OrderQuery(search="lovelace"), cap=10) == ListCount(
        10, exact=False
    )
    assert orders.count_orders(SALES, OrderQuery(status="PENDING")) == ListCount(13, exact=True)


def test_bad_queries_are_refused_at_their_field(orders: OrderService) -> None:
    cases = {
        "status": OrderQuery(status="LOST"),
        "payment_status": OrderQuery(payment_status="MAYBE"),
        "date_to": OrderQuery(date_from=date(2024, 3, 2), date_to=date(2024, 3, 1)),
        "search": OrderQuery(search="x" * 256),
    }
    for field, query in cases.items():
        with pytest.raises(ValidationError) as refused:
            orders.list_orders_page(SALES, query)
        assert refused.value.field == field
    with pytest.raises(ValidationError):
        orders.list_orders_page(SALES, OrderQuery(), limit=1001)


def test_reading_the_list_needs_orders_read(orders: OrderService) -> None:
    outsider = CurrentUser(uuid.uuid4(), "guest", "Guest", (), frozenset())
    with pytest.raises(PermissionDeniedError):
        orders.list_orders_page(outsider, OrderQuery())
    with pytest.raises(PermissionDeniedError):
        orders.count_orders(outsider, OrderQuery())


@pytest.mark.parametrize("listed", [500, 0], ids=["customers-listed", "customers-subquery"])
def test_search_pages_follow_the_sort_order(
    engine: Engine, orders: OrderService, listed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(order_list, "CUSTOMERS_LISTED", listed)
    ada = insert_customer(engine, "Ada", "Lovelace")
    alan = insert_customer(engine, "Alan", "Turing")
    seed_orders(engine, 20, ada)
    for number in range(5):
        insert_order(engine, alan, f"TU-{number}", local(date(2024, 1, 1), 12 + number))
    for sort, descending in REFERENCE:
        query = OrderQuery(search="lovelace", sort=sort, descending=descending)
        with engine.connect() as conn:
            expected = list(
                conn.scalars(
                    text(
                        "SELECT id FROM orders WHERE customer_id = :ada "
                        f"ORDER BY {REFERENCE[(sort, descending)]}"
                    ),
                    {"ada": ada},
                )
            )
        assert every_page(orders, query, 3) == expected, (sort, descending)


def test_a_customer_search_reads_the_customers_search_index(engine: Engine) -> None:
    from sqlalchemy import select

    from erpgo_desktop.db.models import Customer
    from erpgo_desktop.services.listing import customer_matches

    for number in range(200):
        insert_customer(engine, f"First{number}", f"Last{number}")
    statement = select(Customer.id).where(
        customer_matches((Customer.first_name, Customer.email), "last17")
    )
    compiled = statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    with engine.begin() as conn:
        conn.execute(text("ANALYZE customers"))
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table would be scanned
        plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {compiled}")).all())
        found = conn.execute(statement).scalars().all()
    assert "idx_customers_search_trgm" in plan, plan
    assert len(found) == 11  # last17 and last170..last179, by their email addresses


NUMBERED = ("2026-000123", "2026-000124", "2025-000123", "so-9001", "2025-020261")


def numbered_orders(engine: Engine) -> dict[str, uuid.UUID]:
    ada = insert_customer(engine, "Ada", "Lovelace")
    studio = insert_customer(engine, "Grace", "Hopper", company="Studio 2026-0001")
    day = date(2026, 1, 5)
    numbers = {n: insert_order(engine, ada, n, local(day, 9 + i)) for i, n in enumerate(NUMBERED)}
    numbers["SO-1"] = insert_order(engine, studio, "SO-1", local(day, 20))
    return numbers


def anywhere(engine: Engine, term: str) -> set[str]:
    """What a search found before revision 0018: the term anywhere, in any case."""
    with engine.connect() as conn:
        return set(
            conn.scalars(
                text(
                    "SELECT o.order_number FROM orders o JOIN customers c ON c.id = o.customer_id "
                    "WHERE strpos(lower(o.order_number || ' ' || c.first_name || ' ' "
                    "|| c.last_name || ' ' || coalesce(c.company, '') || ' ' || c.email), "
                    "lower(:term)) > 0"
                ),
                {"term": term},
            )
        )


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        # Begins some numbers: those it begins (the prefix index), and the customers'.
        ("2026-0001", {"2026-000123", "2026-000124", "SO-1"}),
        ("2026-000123", {"2026-000123"}),
        ("SO-9", {"so-9001"}),  # case ignored from the start as anywhere
        # Begins none: anywhere in the number (the trigram index).
        ("000123", {"2026-000123", "2025-000123"}),
        ("6-0001", {"2026-000123", "2026-000124", "SO-1"}),
        ("9001", {"so-9001"}),
        ("2026-0001%", set()),  # % is a character from the start too
        ("2026-00012_", set()),
    ],
)
def test_numbers_typed_from_their_start_or_any_part_find_what_they_did(
    engine: Engine, orders: OrderService, search: str, expected: set[str]
) -> None:
    numbered_orders(engine)
    query = OrderQuery(search=search)

    found = {row.order_number for row in orders.list_orders_page(SALES, query).rows}

    assert found == expected
    assert found == anywhere(engine, search)  # as before the prefix index
    assert orders.count_orders(SALES, query) == ListCount(len(expected), True)


def test_a_term_that_begins_numbers_does_not_find_it_further_in(
    engine: Engine, orders: OrderService
) -> None:
    # "2026" begins the 2026 numbers: 2025-020261, which holds it further in, is left
    # out (docs/services.md, "How a search reads").
    numbered_orders(engine)

    page = orders.list_orders_page(SALES, OrderQuery(search="2026"))

    assert {row.order_number for row in page.rows} == {"2026-000123", "2026-000124", "SO-1"}
    assert "2025-020261" in {
        row.order_number for row in orders.list_orders_page(SALES, OrderQuery(search="20261")).rows
    }


def test_a_number_typed_from_its_start_reads_the_prefix_index(engine: Engine) -> None:
    from erpgo_desktop.services.order_list import find_search, order_page_statement

    seed_orders(engine, 500, insert_customer(engine, "Ada", "Lovelace"))  # SO-000001...
    with engine.begin() as conn:
        conn.execute(text("ANALYZE orders"))
    query = OrderQuery(search="so-0004")
    with engine.begin() as conn:
        search = find_search(conn, query)
        assert search is not None and search.begins_numbers
        compiled = order_page_statement(query, None, 201, search).compile(dialect=engine.dialect)
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table would be scanned
        plan = "\n".join(
            row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        )
    assert "idx_orders_number_prefix" in plan, plan
    assert "idx_orders_number_trgm" not in plan, plan
