"""Every list's search box, first page, beside the best plain SQL for the same page.

    python benchmarks/search.py postgresql://postgres@/erpgo_1m?host=/path [--repeat 7]

Run on the demo data at 1,000,000 products and orders, 100,000 customers (migrated to
0020). The terms are picked from the data: a rare and a common customer last name (the
demo's names repeat, so "rare" is a full name), an email, order-number prefixes of the
newest and the oldest orders, a rare and a common product word, a SKU, and the SKU
prefixes of the first product and of the last SKUs; products are also sorted by price,
name and SKU descending (a click on a column), where the matches lie anywhere along the
order.
For each: the service call as the screen makes it (first page, and the capped count the
status line shows) and the best SQL written by hand for the same rows, with the indexes
of revisions 0014 and 0018, run alternately so that both see the same load; when several
statements could be best (walking an index, or collecting the matches and sorting
them), each is timed and the faster one counts. Median and spread (min-max) over
`--repeat` runs after a warm-up. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

from erpgo_desktop.config import normalize_url, safe_url
from erpgo_desktop.db.engine import libpq_conninfo, make_engine, make_session_factory
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.catalog import ProductCatalogService, ProductQuery, ProductSort
from erpgo_desktop.services.customers import CustomerQuery, CustomerService
from erpgo_desktop.services.history import HistoryService
from erpgo_desktop.services.inventory import InventoryService
from erpgo_desktop.services.lookup import ItemLookupService
from erpgo_desktop.services.order_list import OrderQuery
from erpgo_desktop.services.orders import OrderService
from erpgo_desktop.services.reports import ReportService

PAGE = 200  # ui/list_model.py PAGE_SIZE: the lists ask for 201 rows
REPORT_PAGE = 500  # ui/reports_tab.py PAGE_SIZE
EVERYONE = CurrentUser(
    uuid.uuid4(), "bench", "Bench", ("admin",), frozenset(perms.DEFAULT_ROLES["admin"])
)

# What a customer search matches, as db/models.py CUSTOMER_SEARCH_TEXT_SQL (revision 0014).
CUSTOMER_TEXT = (
    "(coalesce(c.customer_code, '') || ' ' || c.first_name || ' ' || c.last_name || ' ' "
    "|| coalesce(c.company, '') || ' ' || c.email)"
)


def like(term: str) -> str:
    """A quoted ILIKE pattern (the benchmark's terms hold no quote, % or _)."""
    return "'%" + term + "%'"


def customer_match(term: str, columns: Sequence[str]) -> str:
    """The best hand-written customer match: the indexed text, then the columns."""
    p = like(term)
    return f"{CUSTOMER_TEXT} ILIKE {p} AND (" + " OR ".join(f"{c} ILIKE {p}" for c in columns) + ")"


ORDER_COLUMNS = (
    "o.id, o.order_number, o.order_date, o.customer_id, c.first_name, c.last_name, "
    "c.company, o.status, o.payment_status, o.total_amount, o.paid_amount, o.currency, "
    "o.version"
)
ORDER_CUSTOMER = ("c.first_name", "c.last_name", "c.first_name || ' ' || c.last_name",
                  "c.company", "c.email")  # fmt: skip


def order_sqls(term: str, begins_numbers: bool) -> list[str]:
    """Orders newest first: walking the date index, or collecting and sorting. A term
    that begins order numbers matches them from their start (revision 0018's range)."""
    p, n = like(term), PAGE + 1
    customers = customer_match(term, ORDER_CUSTOMER)
    number = (
        f"lower(o.order_number) LIKE lower('{term}%')"
        if begins_numbers
        else f"o.order_number ILIKE {p}"
    )
    walk = (
        f"SELECT {ORDER_COLUMNS} FROM orders o JOIN customers c ON c.id = o.customer_id "
        f"WHERE {number} OR o.customer_id IN "
        f"(SELECT c.id FROM customers c WHERE {customers}) "
        f"ORDER BY o.order_date DESC, o.id DESC LIMIT {n}"
    )
    gather = (
        f"SELECT {ORDER_COLUMNS} FROM orders o JOIN customers c ON c.id = o.customer_id "
        f"WHERE o.id IN (SELECT id FROM ("
        f"SELECT o.id, o.order_date FROM customers c JOIN orders o ON o.customer_id = c.id "
        f"WHERE {customers} UNION "
        f"SELECT o.id, o.order_date FROM orders o WHERE {number}"
        f") f ORDER BY order_date DESC, id DESC LIMIT {n}) "
        f"ORDER BY o.order_date DESC, o.id DESC"
    )
    return [walk, gather]


CUSTOMER_LIST = (
    "c.id, c.customer_code, c.first_name, c.last_name, c.company, c.email, c.phone, "
    "c.type, c.status, c.credit_limit, c.balance, c.version"
)
CUSTOMER_LIST_MATCH = ("c.customer_code", "c.first_name", "c.last_name",
                       "c.first_name || ' ' || c.last_name", "c.company", "c.email")  # fmt: skip


def customer_sqls(term: str) -> list[str]:
    """Customers by last name, first name: walking the name index, or sorting matches."""
    where = customer_match(term, CUSTOMER_LIST_MATCH)
    order = "ORDER BY c.last_name, c.first_name, c.id"
    return [
        f"SELECT {CUSTOMER_LIST} FROM customers c WHERE {where} {order} LIMIT {PAGE + 1}",
        f"WITH m AS MATERIALIZED (SELECT * FROM customers c WHERE {where}) "
        f"SELECT {CUSTOMER_LIST} FROM m c {order} LIMIT {PAGE + 1}",
    ]


PRODUCT_LIST = "p.id, p.sku, p.name, pc.name AS category, p.price, p.stock_quantity, p.is_active"


def product_sqls(term: str, walk: bool = True, order: str = "p.sku, p.id") -> list[str]:
    """Products by SKU: walking the (sku, id) index (unless `walk` is false: for a term
    whose matches all lie at the far end it reads the whole table, 6-17 s), collecting
    through the trigram indexes and sorting, or the SKU matches read from the (sku, id)
    index alone beside the name and barcode matches, up to the latter's last row when
    they fill a page. In another `order`: walking its (column, id) index or collecting."""
    p, n = like(term), PAGE + 1
    where = f"(p.sku ILIKE {p} OR p.name ILIKE {p} OR p.barcode ILIKE {p})"
    join = "JOIN product_categories pc ON pc.id = p.category_id"
    walked = (
        f"SELECT {PRODUCT_LIST} FROM products p {join} WHERE {where} ORDER BY {order} LIMIT {n}"
    )
    collected = (
        f"WITH m AS MATERIALIZED (SELECT * FROM products p WHERE {where}) "
        f"SELECT {PRODUCT_LIST} FROM m p {join} ORDER BY {order} LIMIT {n}"
    )
    if order != "p.sku, p.id":
        return [walked, collected] if walk else [collected]
    apart = (
        f"WITH named AS (SELECT sku, id FROM products WHERE name ILIKE {p} "
        f"OR barcode ILIKE {p} ORDER BY sku, id LIMIT {n}) "
        f"SELECT {PRODUCT_LIST} FROM (SELECT id, sku FROM named UNION "
        f"(SELECT id, sku FROM products WHERE sku ILIKE {p} AND sku <= coalesce("
        f"(SELECT sku FROM named ORDER BY sku OFFSET {n - 1} LIMIT 1), "
        f"(SELECT max(sku) FROM products)) ORDER BY sku, id LIMIT {n}) "
        f"ORDER BY sku, id LIMIT {n}) f JOIN products p ON p.id = f.id {join} "
        f"ORDER BY p.sku, p.id"
    )
    return [walked, collected, apart] if walk else [collected, apart]


def stock_sqls(warehouse: uuid.UUID, term: str, walk: bool = True) -> list[str]:
    """A warehouse's stock rows by SKU (the demo has no variants: the products' side);
    not walked when the matches lie at the far end (`walk` false: seconds)."""
    p = like(term)
    where = (
        f"pi.warehouse_id = '{warehouse}' "
        f"AND (p.sku ILIKE {p} OR p.name ILIKE {p} OR p.barcode ILIKE {p})"
    )
    select = (
        "SELECT p.id, p.sku, p.name, p.is_active, p.track_inventory, pi.quantity_available, "
        "pi.quantity_reserved, pi.reorder_level, p.max_stock_level FROM product_inventory pi "
        "JOIN products p ON p.id = pi.product_id"
    )
    walked = f"{select} WHERE {where} ORDER BY p.sku, p.id LIMIT {PAGE + 1}"
    collected = (
        f"WITH m AS MATERIALIZED ({select} WHERE {where}) SELECT * FROM m "
        f"ORDER BY sku, id LIMIT {PAGE + 1}"
    )
    return [walked, collected] if walk else [collected]


def suggest_sqls(term: str) -> list[str]:
    """Twelve active products for the item field (the demo has no variants)."""
    p = like(term)
    return [
        f"SELECT * FROM (SELECT id, sku, name, barcode, price, stock_quantity FROM products "
        f"WHERE is_active AND (sku ILIKE {p} OR name ILIKE {p} OR barcode ILIKE {p}) LIMIT 12) s "
        f"ORDER BY sku ILIKE '{term}%' DESC, sku LIMIT 12"
    ]


def customer_suggest_sqls(term: str) -> list[str]:
    where = customer_match(term, ("c.customer_code", "c.first_name", "c.last_name",
                                  "c.company", "c.email"))  # fmt: skip
    return [
        f"SELECT * FROM customers c WHERE {where} AND c.status = 'ACTIVE' "
        f"ORDER BY c.last_name, c.first_name, c.id LIMIT 12"
    ]


SOLD = "o.status IN ('CONFIRMED', 'PROCESSING', 'PARTIALLY_SHIPPED', 'SHIPPED', 'DELIVERED')"


def customer_sales_sqls(term: str, first: date, end: date) -> list[str]:
    """Sales by customer in a period, the matching customers only: customers first."""
    where = customer_match(term, ("c.first_name || ' ' || c.last_name", "c.company", "c.email",
                                  "c.customer_code"))  # fmt: skip
    return [
        f"SELECT c.id, c.customer_code, c.first_name || ' ' || c.last_name AS name, count(*), "
        f"sum(o.subtotal - o.discount_amount) AS net, sum(o.total_amount), sum(o.paid_amount) "
        f"FROM customers c JOIN orders o ON o.customer_id = c.id WHERE {where} "
        f"AND o.order_date >= '{first}' AND o.order_date < '{end + timedelta(days=1)}' "
        f"AND o.type = 'SALES' AND {SOLD} GROUP BY c.id ORDER BY net DESC, c.id "
        f"LIMIT {REPORT_PAGE}"
    ]


def balance_sqls(term: str) -> list[str]:
    where = customer_match(term, ("c.first_name || ' ' || c.last_name", "c.company", "c.email",
                                  "c.customer_code"))  # fmt: skip
    return [
        f"SELECT c.id, c.balance, u.unpaid FROM customers c LEFT JOIN LATERAL ("
        f"SELECT sum(o.total_amount - o.paid_amount) AS unpaid FROM orders o "
        f"WHERE o.customer_id = c.id AND o.type = 'SALES' AND o.total_amount > o.paid_amount "
        f"AND {SOLD}) u ON true WHERE {where} AND (coalesce(c.balance, 0) <> 0 OR u.unpaid > 0) "
        f"ORDER BY c.balance DESC NULLS LAST, c.id LIMIT {REPORT_PAGE}"
    ]


def changes_sqls(term: str, first: date, end: date) -> list[str]:
    return [
        f"SELECT id, changed_at, table_name, record_id, action, db_role, changes::text "
        f"FROM change_log WHERE changed_at >= '{first}' AND changed_at < "
        f"'{end + timedelta(days=1)}' AND strpos(lower(changes::text), lower('{term}')) > 0 "
        f"ORDER BY id DESC LIMIT {REPORT_PAGE}"
    ]


def connection_scalar(engine: Any, sql: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar_one()


@dataclass
class Case:
    screen: str
    term: str
    ours: Callable[[], object]
    best: list[str]


@dataclass
class Timing:
    median: float
    low: float
    high: float

    def show(self) -> str:
        return f"{self.median:.1f} ({self.low:.1f}-{self.high:.1f})"


def timing(samples: list[float]) -> Timing:
    return Timing(statistics.median(samples), min(samples), max(samples))


def measure(
    sessions: sessionmaker[Session], raw: psycopg.Connection[Any], case: Case, repeat: int
) -> tuple[Timing, Timing, Timing]:
    """Ours, and each best statement both alone (psycopg, autocommit: one round trip) and
    as the application sends any statement (a session of its own: the pool's ping, BEGIN,
    the statement, ROLLBACK), alternately; the best statement is the one with the lowest
    median through the session."""
    ours: list[float] = []
    alone: list[list[float]] = [[] for _ in case.best]
    through: list[list[float]] = [[] for _ in case.best]
    for run in range(repeat + 1):
        start = time.perf_counter()
        case.ours()
        spent = (time.perf_counter() - start) * 1000
        if run:
            ours.append(spent)
        for index, sql in enumerate(case.best):
            start = time.perf_counter()
            raw.execute(sql.encode()).fetchall()
            spent = (time.perf_counter() - start) * 1000
            if run:
                alone[index].append(spent)
            start = time.perf_counter()
            with sessions() as session:
                session.execute(text(sql)).all()
            spent = (time.perf_counter() - start) * 1000
            if run:
                through[index].append(spent)
    chosen = min(range(len(case.best)), key=lambda i: statistics.median(through[i]))
    return timing(ours), timing(alone[chosen]), timing(through[chosen])


def pick_terms(connection: Connection) -> dict[str, Any]:
    """Terms from the data itself."""
    one = connection.execute

    def scalar(sql: str) -> Any:
        return one(text(sql)).scalar_one()

    return {
        "common_last": scalar(
            "SELECT lower(last_name) FROM customers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ),
        "rare_full": scalar(
            "SELECT first_name || ' ' || last_name FROM customers GROUP BY 1 "
            "ORDER BY count(*), 1 LIMIT 1"
        ),
        "email": scalar("SELECT split_part(email, '@', 1) FROM customers ORDER BY id LIMIT 1"),
        "newest_number": scalar(
            "SELECT left(order_number, length(order_number) - 3) FROM orders "
            "ORDER BY order_date DESC LIMIT 1"
        ),
        "oldest_number": scalar(
            "SELECT left(order_number, length(order_number) - 2) FROM orders "
            "ORDER BY order_date LIMIT 1"
        ),
        # A counter's digits without the year: begins no number, matched anywhere.
        "number_digits": scalar(
            "SELECT right(order_number, 6) FROM orders ORDER BY order_date DESC LIMIT 1"
        ),
        "sku": scalar("SELECT sku FROM products ORDER BY id LIMIT 1"),
        "sku_prefix": scalar("SELECT left(sku, 7) FROM products ORDER BY id LIMIT 1"),
        # The prefix of the last SKUs: its matches bunch at the far end of the SKU order.
        "last_sku_prefix": scalar("SELECT left(max(sku), 7) FROM products"),
        # A name's last word (a model code such as "L922"): a handful of products.
        "rare_word": scalar(
            "SELECT split_part(name, ' ', -1) FROM products ORDER BY id DESC LIMIT 1"
        ),
        "warehouse": scalar("SELECT id FROM warehouses ORDER BY code LIMIT 1"),
        "last_day": scalar("SELECT max(order_date)::date FROM orders"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", help="run the cases whose screen contains this")
    args = parser.parse_args(argv)
    url = make_url(normalize_url(args.url))
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with engine.connect() as connection:
        terms = pick_terms(connection)
    print(f"database {safe_url(url)}; {args.repeat} runs after a warm-up; times in ms")
    print("terms: " + ", ".join(f"{k}={v}" for k, v in terms.items()))

    orders = OrderService(sessions)
    customers = CustomerService(sessions)
    catalog = ProductCatalogService(sessions)
    inventory = InventoryService(sessions)
    lookup = ItemLookupService(sessions)
    reports = ReportService(sessions)
    history = HistoryService(sessions)

    def order_page(term: str) -> Callable[[], object]:
        return lambda: orders.list_orders_page(EVERYONE, OrderQuery(search=term), None, PAGE)

    def customer_page(term: str) -> Callable[[], object]:
        return lambda: customers.list_customers(EVERYONE, CustomerQuery(search=term), None, PAGE)

    def product_page(term: str) -> Callable[[], object]:
        query = ProductQuery(search=term, sort=ProductSort.SKU)
        return lambda: catalog.list_products(query, None, PAGE)

    cases: list[Case] = []
    for name in (
        "rare_full",
        "email",
        "common_last",
        "newest_number",
        "oldest_number",
        "number_digits",
    ):
        term = terms[name]
        begins = connection_scalar(
            engine,
            f"SELECT EXISTS (SELECT FROM orders WHERE lower(order_number) LIKE lower('{term}%'))",
        )
        cases.append(Case(f"orders ({name})", term, order_page(term), order_sqls(term, begins)))
    for name in ("rare_full", "email", "common_last"):
        term = terms[name]
        cases.append(Case(f"customers ({name})", term, customer_page(term), customer_sqls(term)))
    for name, term in (
        ("rare word", terms["rare_word"]),
        ("common 'pro'", "pro"),
        ("sku", terms["sku"]),
        ("sku prefix", terms["sku_prefix"]),
        ("last sku prefix", terms["last_sku_prefix"]),
    ):
        best = product_sqls(term, walk=name != "last sku prefix")
        cases.append(Case(f"products ({name})", term, product_page(term), best))
    # A click on another column: the matches lie anywhere along that column's order.
    for name, term, sort, descending, order in (
        ("by price, last sku prefix", terms["last_sku_prefix"], ProductSort.PRICE, False,
         "p.price, p.id"),
        ("by name, last sku prefix", terms["last_sku_prefix"], ProductSort.NAME, False,
         "p.name, p.id"),
        ("by SKU desc, 'blender'", "blender", ProductSort.SKU, True, "p.sku DESC, p.id DESC"),
        ("by price, common 'pro'", "pro", ProductSort.PRICE, False, "p.price, p.id"),
    ):  # fmt: skip
        query = ProductQuery(search=term, sort=sort, descending=descending)
        cases.append(
            Case(
                f"products ({name})",
                term,
                lambda q=query: catalog.list_products(q, None, PAGE),
                product_sqls(term, walk="last sku" not in name, order=order),
            )
        )

    warehouse, last_day = terms["warehouse"], terms["last_day"]
    month = last_day - timedelta(days=29)
    for name, term in (
        ("rare word", terms["rare_word"]),
        ("common 'pro'", "pro"),
        ("last sku prefix", terms["last_sku_prefix"]),
        ("'blender'", "blender"),
    ):
        cases.append(
            Case(
                f"warehouse stock ({name})",
                term,
                lambda t=term: inventory.warehouse_stock(EVERYONE, warehouse, search=t, limit=PAGE),
                stock_sqls(warehouse, term, walk=name != "last sku prefix"),
            )
        )
    for name, term in (("sku prefix", terms["sku"][:-2]), ("common 'pro'", "pro")):
        cases.append(
            Case(
                f"item lookup ({name})",
                term,
                lambda t=term: lookup.suggest(EVERYONE, t, 12),
                suggest_sqls(term),
            )
        )
    for name in ("rare_full", "common_last"):
        term = terms[name]
        cases.append(
            Case(
                f"customer lookup ({name})",
                term,
                lambda t=term: customers.search_customers(EVERYONE, t, limit=12),
                customer_suggest_sqls(term),
            )
        )
    for name in ("rare_full", "common_last"):
        term = terms[name]
        cases.append(
            Case(
                f"sales by customer ({name})",
                term,
                lambda t=term: reports.sales_by_customer(
                    EVERYONE, month, last_day, search=t, limit=REPORT_PAGE
                ),
                customer_sales_sqls(term, month, last_day),
            )
        )
        cases.append(
            Case(
                f"customer balances ({name})",
                term,
                lambda t=term: reports.customer_balances(EVERYONE, search=t, limit=REPORT_PAGE),
                balance_sqls(term),
            )
        )
    cases.append(
        Case(
            "changes (a SKU)",
            terms["sku"],
            lambda: history.changes(
                EVERYONE, month, last_day, search=terms["sku"], limit=REPORT_PAGE
            ),
            changes_sqls(terms["sku"], month, last_day),
        )
    )

    print(
        f"{'list (term)':30} {'term':18} {'ours':>20} {'best SQL alone':>20} "
        f"{'best SQL, session':>20}  ratio"
    )
    raw = psycopg.connect(libpq_conninfo(url), autocommit=True)
    for case in cases:
        if args.only and args.only not in case.screen:
            continue
        ours, alone, through = measure(sessions, raw, case, args.repeat)
        ratio = ours.median / through.median if through.median else float("inf")
        flag = "" if ours.median <= 100 and ratio <= 3 else "  <-- over"
        print(
            f"{case.screen:30} {str(case.term)[:18]:18} {ours.show():>20} {alone.show():>20} "
            f"{through.show():>20}  {ratio:4.1f}x{flag}"
        )
    raw.close()
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
