"""The demo-data generator: counts, every business rule, stock ledger, reproducibility,
refusal of non-empty databases, all-or-nothing, and a schema left exactly as it was."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import URL

from erpgo_desktop.db.demo_data import (
    DemoDataSize,
    DemoDataSummary,
    demo_now,
    generate_demo_data,
)
from erpgo_desktop.errors import ValidationError

SMALL = DemoDataSize(products=400, customers=120, orders=600, warehouses=3)
SEED = 7
#: The day the shared database is generated for; the tests that generate again use it too.
ANCHOR = date.today()
DEMO_NOW = demo_now(ANCHOR)
LOADED = (
    "product_categories",
    "warehouses",
    "products",
    "customers",
    "customer_addresses",
    "order_addresses",
    "orders",
    "order_items",
    "product_inventory",
    "inventory_transactions",
)
CENT = Decimal("0.01")


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _rows(url: URL, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(_libpq(url)) as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


def _value(url: URL, query: str, params: tuple[Any, ...] = ()) -> Any:
    return _rows(url, query, params)[0][0]


def _schema(url: URL) -> dict[str, set[tuple[str, ...]]]:
    """Indexes, constraints and triggers of the public schema, by definition."""
    return {
        "indexes": set(
            _rows(url, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        ),
        "constraints": set(
            _rows(
                url,
                "SELECT conrelid::regclass::text, conname, contype::text, "
                "pg_get_constraintdef(oid), convalidated::text FROM pg_constraint "
                "WHERE connamespace = 'public'::regnamespace",
            )
        ),
        "triggers": set(
            _rows(
                url,
                "SELECT tgrelid::regclass::text, tgname, tgenabled::text FROM pg_trigger "
                "WHERE NOT tgisinternal",
            )
        ),
    }


def _fingerprints(url: URL) -> dict[str, str]:
    """An md5 over every loaded table's rows, in id order."""
    return {
        table: _value(url, f"SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {table} t")
        for table in LOADED
    }


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.calls.append((stage, done, total))


@pytest.fixture(scope="module")
def demo(
    pg_server: Any, template_database: str
) -> Iterator[tuple[URL, DemoDataSummary, _Recorder]]:
    """One database filled once with SMALL, shared by the read-only checks."""
    url = pg_server.create_database(template=template_database)
    recorder = _Recorder()
    summary = generate_demo_data(url, SMALL, seed=SEED, progress=recorder, today=ANCHOR)
    yield url, summary, recorder


@pytest.fixture
def demo_url(demo: tuple[URL, DemoDataSummary, _Recorder]) -> URL:
    return demo[0]


# -- counts and progress ----------------------------------------------------------------


def test_counts_match_the_size_and_the_summary(
    demo: tuple[URL, DemoDataSummary, _Recorder],
) -> None:
    url, summary, _ = demo
    for table, count in summary.rows.items():
        assert _value(url, f"SELECT count(*) FROM {table}") == count, table
    rows = summary.rows
    assert rows["products"] == SMALL.products
    assert rows["customers"] == SMALL.customers
    assert rows["orders"] == SMALL.orders
    assert rows["warehouses"] == SMALL.warehouses
    assert rows["order_addresses"] == 2 * SMALL.orders
    # Every customer is billed somewhere; some ship elsewhere.
    assert SMALL.customers < rows["customer_addresses"] < 2 * SMALL.customers
    assert SMALL.orders <= rows["order_items"] <= 5 * SMALL.orders
    assert rows["product_categories"] > 20
    assert rows["product_inventory"] > 0 and rows["inventory_transactions"] > 0
    assert rows["users"] == 1  # the template has roles but no users: a system user was added
    assert summary.seconds > 0


def test_a_system_user_records_the_work_and_cannot_log_in(demo_url: URL) -> None:
    [(user_id, active, password_hash)] = _rows(
        demo_url, "SELECT id, is_active, password_hash FROM users WHERE username = 'system'"
    )
    assert active is False and password_hash == "!"
    assert _rows(demo_url, "SELECT DISTINCT created_by FROM orders") == [(user_id,)]
    assert _rows(demo_url, "SELECT DISTINCT created_by FROM inventory_transactions") == [(user_id,)]


def test_progress_is_reported_per_stage(demo: tuple[URL, DemoDataSummary, _Recorder]) -> None:
    calls = demo[2].calls
    stages = [stage for stage, _, _ in calls]
    for stage in ("Orders", "Products and stock", "Customers", "Rebuilding indexes"):
        assert stage in stages
    assert all(0 <= done <= total for _, done, total in calls if total)
    assert ("Orders", SMALL.orders, SMALL.orders) in calls


# -- business rules ---------------------------------------------------------------------


def test_category_tree_paths_and_levels(demo_url: URL) -> None:
    categories = {
        row[0]: row
        for row in _rows(
            demo_url, "SELECT id, name, parent_id, path, level FROM product_categories"
        )
    }
    for _, name, parent, path, level in categories.values():
        if parent is None:
            assert (path, level) == (f"/{name}", 1)
        else:
            parent_path, parent_level = categories[parent][3], categories[parent][4]
            assert (path, level) == (f"{parent_path}/{name}", parent_level + 1)
    assert max(row[4] for row in categories.values()) == 3
    # Products hang off leaves only.
    assert not _rows(
        demo_url,
        "SELECT 1 FROM products p JOIN product_categories c ON c.parent_id = p.category_id",
    )


def test_products_follow_the_rules(demo_url: URL) -> None:
    violations = {
        "sku": "sku !~ '^[A-Za-z0-9_-]{1,100}$'",
        "price": "price <= 0",
        "cost": "cost < 0 OR cost > price",
        "tax": "tax_rate < 0 OR tax_rate > 100 OR (NOT taxable AND tax_rate <> 0)",
        "digital": "is_digital AND (requires_shipping OR download_url IS NULL OR track_inventory"
        " OR max_downloads NOT BETWEEN 0 AND 9999 OR expiry_days NOT BETWEEN 0 AND 3650)",
        "levels": "max_stock_level > 0 AND min_stock_level > max_stock_level",
        "stock range": "stock_quantity NOT BETWEEN 0 AND 999999999",
    }
    for rule, condition in violations.items():
        assert _value(demo_url, f"SELECT count(*) FROM products WHERE {condition}") == 0, rule
    mix = _rows(
        demo_url,
        "SELECT count(*) FILTER (WHERE is_digital), count(*) FILTER (WHERE NOT taxable), "
        "count(*) FILTER (WHERE NOT is_active), count(DISTINCT sku) FROM products",
    )[0]
    assert mix[0] > 0 and mix[1] > 0 and mix[3] == SMALL.products


def test_every_customer_has_a_billing_address_new_orders_can_start_from(demo_url: URL) -> None:
    assert (
        _value(
            demo_url,
            "SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM customer_addresses a "
            "WHERE a.customer_id = c.id AND a.type = 'billing')",
        )
        == 0
    )
    # Billed at home, as their orders were: the billing address matches the orders'.
    assert (
        _value(
            demo_url,
            "SELECT count(*) FROM orders o JOIN order_addresses b ON b.id = o.billing_address_id "
            "JOIN customer_addresses a ON a.customer_id = o.customer_id AND a.type = 'billing' "
            "WHERE (a.address1, a.city, a.postal_code) IS DISTINCT FROM "
            "(b.address1, b.city, b.postal_code)",
        )
        == 0
    )


def test_customers_follow_the_rules(demo_url: URL) -> None:
    rows = _rows(
        demo_url,
        "SELECT customer_code, email, phone, type, status, credit_limit, balance FROM customers",
    )
    assert sorted(r[0] for r in rows) == [f"CUST-{n:06d}" for n in range(1, SMALL.customers + 1)]
    assert len({r[1] for r in rows}) == len(rows)
    for _, email, phone, kind, status, credit, balance in rows:
        assert re.fullmatch(r"[a-z.]+\.\d+@example\.com", email)
        assert re.fullmatch(r"\+?[0-9 ()-]{7,20}", phone) and len(phone) <= 20
        assert kind in ("INDIVIDUAL", "BUSINESS") and status in ("ACTIVE", "INACTIVE", "SUSPENDED")
        assert balance >= 0 and (credit == 0 or balance <= credit)
    # The balance is what confirmed (here: shipped or delivered) orders still owe.
    owed = dict(
        _rows(
            demo_url,
            "SELECT c.id, coalesce(sum(o.total_amount - o.paid_amount) FILTER "
            "(WHERE o.status IN ('SHIPPED', 'DELIVERED')), 0) FROM customers c "
            "LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id",
        )
    )
    balances = dict(_rows(demo_url, "SELECT id, balance FROM customers"))
    assert balances == owed


def test_the_newest_orders_are_from_today(database_url: URL) -> None:
    """Without a day given, the data ends on the day it is generated: the dashboard's
    default range ("last 30 days") shows a month of sales."""
    before = datetime.now(UTC).astimezone().date()
    generate_demo_data(database_url, DemoDataSize(60, 20, 90, 2), seed=SEED)
    after = datetime.now(UTC).astimezone().date()
    newest = _value(database_url, "SELECT max(order_date) FROM orders")
    assert newest.astimezone().date() in (before, after)
    assert newest <= demo_now(after)


def test_recent_days_are_well_filled(demo_url: URL) -> None:
    """Orders grow over time: the last 30 days hold more than an even spread would give,
    and every week of them has orders."""
    rows = _rows(demo_url, "SELECT order_date FROM orders")
    first = min(r[0] for r in rows)
    span_days = (DEMO_NOW - first).days
    recent = [r[0] for r in rows if r[0] > DEMO_NOW - timedelta(days=30)]
    assert len(recent) > len(rows) * 30 / span_days
    for week in range(4):
        until = DEMO_NOW - timedelta(days=7 * week)
        since = until - timedelta(days=7)
        assert any(since < moment <= until for moment in recent), week
    assert max(r[0] for r in rows).astimezone(UTC).date() == ANCHOR


def test_order_numbers_restart_each_year(demo_url: URL) -> None:
    rows = _rows(demo_url, "SELECT order_number, order_date FROM orders ORDER BY order_date")
    per_year: dict[int, list[int]] = defaultdict(list)
    for number, ordered in rows:
        assert re.fullmatch(r"\d{4}-\d{6}", number)
        year, counter = number.split("-")
        assert int(year) == ordered.year
        per_year[int(year)].append(int(counter))
    assert len(per_year) >= 3
    for counters in per_year.values():
        assert counters == list(range(1, len(counters) + 1))


def test_order_statuses_dates_and_payments_are_consistent(demo_url: URL) -> None:
    previous_of = {
        "DRAFT": {None},
        "PENDING": {"DRAFT"},
        "SHIPPED": {"PROCESSING"},
        "DELIVERED": {"SHIPPED"},
        "CANCELLED": {"DRAFT", "PENDING"},
        "RETURNED": {"DELIVERED"},
        "REFUNDED": {"RETURNED"},
    }
    rows = _rows(
        demo_url,
        "SELECT status, previous_status, payment_status, order_date, shipping_date, "
        "delivery_date, cancelled_date, total_amount, paid_amount, refunded_amount, "
        "approved_by, shipped_by, shipped_at, updated_at FROM orders",
    )
    seen = set()
    for (
        status, previous, payment, ordered, shipped, delivered, cancelled,
        total, paid, refunded, approved_by, shipped_by, shipped_at, updated,
    ) in rows:  # fmt: skip
        seen.add(status)
        assert previous in previous_of[status]
        is_shipped = status in ("SHIPPED", "DELIVERED", "RETURNED", "REFUNDED")
        assert (shipped is not None) == is_shipped == (shipped_by is not None)
        assert shipped_at == shipped
        assert (delivered is not None) == (status in ("DELIVERED", "RETURNED", "REFUNDED"))
        assert (cancelled is not None) == (status == "CANCELLED")
        for moment in (shipped, delivered, cancelled):
            assert moment is None or ordered <= moment <= updated <= DEMO_NOW
        assert shipped is None or delivered is None or shipped <= delivered
        assert 0 <= refunded <= paid <= total
        expected_payment = {
            (True, False, False): "PAID",
            (False, True, False): "PARTIALLY_PAID",
            (False, False, True): "REFUNDED",
        }.get((paid == total and not refunded, 0 < paid < total, refunded > 0))
        if expected_payment:
            assert payment == expected_payment
        else:
            assert paid == 0 and payment in ("PENDING", "OVERDUE")
        if is_shipped and total > 10_000:
            assert approved_by is not None
    assert seen == set(previous_of)
    # No state that would hold an open stock reservation.
    assert not seen & {"CONFIRMED", "PROCESSING", "ON_HOLD", "PARTIALLY_SHIPPED"}


def test_lines_and_addresses_match_their_order(demo_url: URL) -> None:
    line_status = {
        "DRAFT": "PENDING",
        "PENDING": "PENDING",
        "SHIPPED": "SHIPPED",
        "DELIVERED": "DELIVERED",
        "CANCELLED": "CANCELLED",
        "RETURNED": "RETURNED",
        "REFUNDED": "RETURNED",
    }
    rows = _rows(
        demo_url,
        "SELECT o.status, i.status, i.quantity, i.shipped_quantity, i.returned_quantity "
        "FROM order_items i JOIN orders o ON o.id = i.order_id",
    )
    for order_status, status, quantity, shipped, returned in rows:
        assert status == line_status[order_status]
        assert 1 <= quantity <= 9999
        assert shipped == (quantity if status in ("SHIPPED", "DELIVERED", "RETURNED") else 0)
        assert returned == (quantity if status == "RETURNED" else 0)
    counts = _rows(
        demo_url,
        "SELECT count(*), count(DISTINCT order_id), min(n), max(n) FROM "
        "(SELECT order_id, count(*) n FROM order_items GROUP BY order_id) per_order",
    )[0]
    assert counts[1] == SMALL.orders and counts[2] >= 1 and counts[3] <= 5
    assert (
        _value(
            demo_url,
            "SELECT count(*) FROM orders o JOIN order_addresses s ON s.id = o.shipping_address_id "
            "JOIN order_addresses b ON b.id = o.billing_address_id "
            "WHERE s.type = 'shipping' AND b.type = 'billing'",
        )
        == SMALL.orders
    )


def test_money_adds_up_to_the_cent(demo_url: URL) -> None:
    lines = _rows(
        demo_url,
        "SELECT i.order_id, i.quantity, i.unit_price, i.total_price, i.discount_amount, "
        "i.tax_amount, i.final_price, p.taxable, p.tax_rate, c.tax_exempt "
        "FROM order_items i JOIN products p ON p.id = i.product_id "
        "JOIN orders o ON o.id = i.order_id JOIN customers c ON c.id = o.customer_id",
    )
    sums: dict[uuid.UUID, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for order, qty, unit, total, discount, tax, final, taxable, rate, exempt in lines:
        assert total == qty * unit
        assert 0 <= discount <= total
        expected = Decimal(0)
        if taxable and not exempt:
            expected = ((total - discount) * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        assert tax == expected
        assert final == total + tax - discount
        running = sums[order]
        sums[order] = [running[0] + total, running[1] + tax, running[2] + discount]
    shipping_fee = {
        "STANDARD": Decimal("5.99"),
        "EXPRESS": Decimal("14.99"),
        "OVERNIGHT": Decimal("29.99"),
        "INTERNATIONAL": Decimal("39.99"),
        "PICKUP": Decimal(0),
        "DIGITAL": Decimal(0),
    }
    orders = _rows(
        demo_url,
        "SELECT id, subtotal, tax_amount, shipping_amount, discount_amount, total_amount, "
        "shipping_method FROM orders",
    )
    for order, subtotal, tax, shipping, discount, total, method in orders:
        line_total, line_tax, line_discount = sums[order]
        assert subtotal == line_total and tax == line_tax
        assert discount >= line_discount
        assert total == subtotal + tax + shipping - discount >= 0
        free = method == "STANDARD" and subtotal >= 100
        assert shipping == (Decimal(0) if free else shipping_fee[method])


# -- stock ------------------------------------------------------------------------------


def test_ledger_adds_up_to_stock_on_hand(demo_url: URL) -> None:
    mismatches = _value(
        demo_url,
        """
        SELECT count(*) FROM product_inventory pi
        FULL JOIN (SELECT product_id, warehouse_id, sum(quantity) AS total
                   FROM inventory_transactions GROUP BY product_id, warehouse_id) ledger
        USING (product_id, warehouse_id)
        WHERE coalesce(pi.quantity_available, 0) <> coalesce(ledger.total, 0)
        """,
    )
    assert mismatches == 0
    assert (
        _value(demo_url, "SELECT count(*) FROM product_inventory WHERE quantity_reserved <> 0") == 0
    )
    # Signs: receipts and returns in, shipments out; the running balance never dips below 0.
    assert (
        _value(
            demo_url,
            "SELECT count(*) FROM inventory_transactions WHERE (transaction_type = 'IN') <> "
            "(quantity > 0) OR transaction_type NOT IN ('IN', 'OUT')",
        )
        == 0
    )
    assert (
        _value(
            demo_url,
            "SELECT min(balance) FROM (SELECT sum(quantity) OVER (PARTITION BY product_id, "
            "warehouse_id ORDER BY created_at, quantity DESC, id) balance "
            "FROM inventory_transactions) running",
        )
        >= 0
    )
    # One OUT per shipped line of a stocked product, referring to its order.
    shipped_lines = _value(
        demo_url,
        "SELECT count(*) FROM order_items i JOIN products p ON p.id = i.product_id "
        "WHERE p.track_inventory AND i.shipped_quantity > 0",
    )
    assert (
        _value(
            demo_url,
            "SELECT count(*) FROM inventory_transactions t JOIN orders o ON o.id = t.reference_id "
            "WHERE t.transaction_type = 'OUT'",
        )
        == shipped_lines
        > 0
    )


def test_product_stock_is_the_sum_over_warehouses(demo_url: URL) -> None:
    assert (
        _value(
            demo_url,
            """
        SELECT count(*) FROM products p
        LEFT JOIN (SELECT product_id, sum(quantity_available) AS total
                   FROM product_inventory GROUP BY product_id) stock ON stock.product_id = p.id
        WHERE p.stock_quantity <> coalesce(stock.total, 0)
        """,
        )
        == 0
    )
    assert (
        _value(
            demo_url,
            "SELECT count(*) FROM products p WHERE p.track_inventory <> EXISTS "
            "(SELECT 1 FROM product_inventory pi WHERE pi.product_id = p.id)",
        )
        == 0
    )


# -- schema, reproducibility, refusal, atomicity ---------------------------------------


def test_schema_is_exactly_as_before(demo_url: URL, database_url: URL) -> None:
    after, fresh = _schema(demo_url), _schema(database_url)
    assert after == fresh
    assert ("product_inventory", "trigger_update_product_stock", "O") in after["triggers"]


def test_stock_trigger_works_again_after_the_load(database_url: URL) -> None:
    generate_demo_data(database_url, DemoDataSize(20, 5, 10, 2), seed=SEED)
    with psycopg.connect(_libpq(database_url)) as conn:
        product, warehouse = conn.execute(
            "SELECT product_id, warehouse_id FROM product_inventory LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        conn.execute(
            "UPDATE product_inventory SET quantity_available = quantity_available + 5 "
            "WHERE product_id = %s AND warehouse_id = %s",
            (product, warehouse),
        )
        stock, total = conn.execute(
            "SELECT p.stock_quantity, (SELECT sum(quantity_available) FROM product_inventory "
            "WHERE product_id = p.id) FROM products p WHERE p.id = %s",
            (product,),
        ).fetchone()  # type: ignore[misc]
    assert stock == total


def test_same_seed_gives_the_same_rows(demo_url: URL, database_url: URL) -> None:
    generate_demo_data(database_url, SMALL, seed=SEED, today=ANCHOR)
    assert _fingerprints(database_url) == _fingerprints(demo_url)


def test_another_seed_gives_other_rows(demo_url: URL, database_url: URL) -> None:
    generate_demo_data(database_url, SMALL, seed=SEED + 1, today=ANCHOR)
    theirs, ours = _fingerprints(database_url), _fingerprints(demo_url)
    for table in ("products", "customers", "orders", "order_items", "inventory_transactions"):
        assert theirs[table] != ours[table], table


def test_refuses_a_database_that_holds_products_and_orders(demo_url: URL) -> None:
    before = _fingerprints(demo_url)
    with pytest.raises(ValidationError, match="empty database") as raised:
        generate_demo_data(demo_url, SMALL, seed=SEED)
    assert "products" in raised.value.message and "orders" in raised.value.message
    assert _fingerprints(demo_url) == before


def test_refuses_a_database_with_other_business_rows(database_url: URL) -> None:
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute("INSERT INTO warehouses (code, name) VALUES ('MAIN', 'Main')")
    with pytest.raises(ValidationError, match="warehouses"):
        generate_demo_data(database_url, SMALL)
    assert _value(database_url, "SELECT count(*) FROM products") == 0


def test_a_failure_leaves_nothing_behind(database_url: URL) -> None:
    schema_before = _schema(database_url)

    def cancel(stage: str, done: int, total: int) -> None:
        if stage == "Products and stock" and done > 0:
            raise KeyboardInterrupt  # what a user's cancel looks like

    size = DemoDataSize(products=50_000, customers=100, orders=500, warehouses=2)
    with pytest.raises(KeyboardInterrupt):
        generate_demo_data(database_url, size, progress=cancel)
    for table in (*LOADED, "users"):
        assert _value(database_url, f"SELECT count(*) FROM {table}") == 0, table
    assert _schema(database_url) == schema_before


def test_an_existing_user_is_recorded_when_none_is_given(database_url: URL) -> None:
    with psycopg.connect(_libpq(database_url)) as conn:
        user = conn.execute(
            "INSERT INTO users (email, username, password_hash, first_name, last_name) "
            "VALUES ('ann@example.com', 'ann', 'x', 'Ann', 'Lee') RETURNING id"
        ).fetchone()[0]  # type: ignore[index]
    summary = generate_demo_data(database_url, DemoDataSize(30, 10, 20, 2))
    assert summary.rows["users"] == 0
    assert _rows(database_url, "SELECT DISTINCT created_by FROM orders") == [(user,)]
    assert _value(database_url, "SELECT count(*) FROM users") == 1


def test_an_unknown_created_by_is_refused(database_url: URL) -> None:
    with pytest.raises(ValidationError, match="No user"):
        generate_demo_data(database_url, SMALL, created_by=uuid.uuid4())
    assert _value(database_url, "SELECT count(*) FROM users") == 0


@pytest.mark.parametrize(
    "size",
    [
        DemoDataSize(products=-1),
        DemoDataSize(customers=1_000_000),
        DemoDataSize(warehouses=0),
        DemoDataSize(products=0, orders=5),
    ],
)
def test_impossible_sizes_are_refused_before_connecting(size: DemoDataSize) -> None:
    nowhere = URL.create("postgresql+psycopg", host="203.0.113.1", database="none")
    with pytest.raises(ValidationError):
        generate_demo_data(nowhere, size)


def test_number_generators_continue_after_the_loaded_numbers(demo_url: URL) -> None:
    highest_code = _value(demo_url, "SELECT max(customer_code) FROM customers")
    assert _value(demo_url, "SELECT next_customer_code()") > highest_code
    this_year = _value(demo_url, "SELECT extract(year FROM now() AT TIME ZONE 'UTC')::int")
    highest_number = _value(
        demo_url,
        "SELECT max(order_number) FROM orders WHERE order_number LIKE %s",
        (f"{this_year}-%",),
    )
    issued = _value(demo_url, "SELECT next_order_number()")
    assert issued.startswith(f"{this_year}-")
    assert highest_number is None or issued > highest_number
