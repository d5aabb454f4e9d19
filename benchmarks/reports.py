"""Each report's first page and its totals through ReportService, beside the same SQL alone.

    python benchmarks/reports.py "postgresql://postgres@/erpgo_x?host=/path/to/pgdata"

Run on the 1M data set (docs/benchmarks.md). For every report, in the Reports tab's
default sort and page size (500 rows): the service call (permission check, statement,
rows built) and the very statement it sent, recorded from one call and replayed over raw
psycopg in the same process: the best plain SQL for that page, since it is the same SQL.
Then the report's totals (`ReportService.totals`: count and sums, one aggregate over the
whole report) the same way, and the valuation sorted by value (a click on that column),
by on hand and by name, and the stock movements by closing (other clicks on a column).
Then the reports of items searched: a rare word, the last SKUs' prefix, a name word and a
common word (their totals included).
Median and spread (min-max) of `--repeat` runs; periods are the 30 days up to the newest
order. Asserts nothing; writes nothing but the valuation totals' fold of pending changes
(whose replay is the read after it).
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from erpgo_desktop.config import normalize_url
from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.reports import Report, ReportService

MANAGER = CurrentUser(uuid.uuid4(), "bench", "Bench", ("manager",), frozenset({perms.REPORTS_VIEW}))
PAGE = 500  # the Reports tab's page
#: Another sort of a report above: the same totals.
OTHER_SORTS = {"inventory valuation by value", "inventory valuation by on hand",
               "inventory valuation by name", "stock movements by closing"}  # fmt: skip


def timings(work: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return times


def shown(times: list[float]) -> str:
    return f"{statistics.median(times):8.0f} ms ({min(times):.0f}-{max(times):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-totals", action="store_true", help="first pages only")
    args = parser.parse_args()
    url = make_url(normalize_url(args.url))
    engine = make_engine(url)
    reports = ReportService(make_session_factory(engine))
    sent: list[tuple[str, Any]] = []
    event.listen(
        engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, parameters, *_a: sent.append((statement, parameters)),
    )
    with engine.connect() as connection:
        end = connection.execute(text("SELECT max(order_date)::date FROM orders")).scalar_one()
        counts = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM orders), "
                "(SELECT count(*) FROM product_inventory), "
                "(SELECT count(*) FROM inventory_transactions)"
            )
        ).one()
        # A rare product word (a model code), and the SKU prefix of the last SKUs: their
        # items lie far along the SKU order. "pro": a common word, 116k products.
        rare_word = connection.execute(
            text("SELECT split_part(name, ' ', -1) FROM products ORDER BY id DESC LIMIT 1")
        ).scalar_one()
        last_prefix = connection.execute(
            text("SELECT left(max(sku), 7) FROM products")
        ).scalar_one()
    start = end - timedelta(days=29)
    print(
        f"products {counts[0]:,}, orders {counts[1]:,}, stock rows {counts[2]:,}, "
        f"ledger rows {counts[3]:,}; period {start} to {end}; median (min-max) of {args.repeat}"
    )
    period: dict[str, Any] = {"start": start, "end": end}
    cases: list[tuple[str, Report, Callable[[], object], dict[str, Any]]] = [
        ("inventory valuation (by SKU)", Report.INVENTORY_VALUATION,
         lambda: reports.inventory_valuation(MANAGER, limit=PAGE), {}),
        ("inventory valuation by value", Report.INVENTORY_VALUATION,
         lambda: reports.inventory_valuation(MANAGER, sort="value_at_cost", descending=True,
                                             limit=PAGE), {}),
        ("inventory valuation by on hand", Report.INVENTORY_VALUATION,
         lambda: reports.inventory_valuation(MANAGER, sort="on_hand", descending=True,
                                             limit=PAGE), {}),
        ("inventory valuation by name", Report.INVENTORY_VALUATION,
         lambda: reports.inventory_valuation(MANAGER, sort="name", limit=PAGE), {}),
        ("stock movements", Report.STOCK_MOVEMENTS,
         lambda: reports.stock_movements(MANAGER, start, end, limit=PAGE), period),
        ("stock movements by closing", Report.STOCK_MOVEMENTS,
         lambda: reports.stock_movements(MANAGER, start, end, sort="closing", descending=True,
                                         limit=PAGE), period),
        ("sales by product", Report.SALES_BY_PRODUCT,
         lambda: reports.sales_by_product(MANAGER, start, end, limit=PAGE), period),
        ("sales by customer", Report.SALES_BY_CUSTOMER,
         lambda: reports.sales_by_customer(MANAGER, start, end, limit=PAGE), period),
        ("sales by region", Report.SALES_BY_REGION,
         lambda: reports.sales_by_region(MANAGER, start, end, limit=PAGE), period),
        ("customer balances", Report.CUSTOMER_BALANCES,
         lambda: reports.customer_balances(MANAGER, limit=PAGE), {}),
    ]  # fmt: skip
    for term in (rare_word, last_prefix, "blender", "pro"):
        cases += [
            (f"inventory valuation, search {term!r}", Report.INVENTORY_VALUATION,
             lambda t=term: reports.inventory_valuation(MANAGER, search=t, limit=PAGE),
             {"search": term}),
            (f"stock movements, search {term!r}", Report.STOCK_MOVEMENTS,
             lambda t=term: reports.stock_movements(MANAGER, start, end, search=t, limit=PAGE),
             {**period, "search": term}),
            (f"sales by product, search {term!r}", Report.SALES_BY_PRODUCT,
             lambda t=term: reports.sales_by_product(MANAGER, start, end, search=t, limit=PAGE),
             {**period, "search": term}),
        ]  # fmt: skip
    raw_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(raw_url) as raw:

        def replay(statement: str, parameters: Any) -> Callable[[], object]:
            def run() -> object:
                with raw.cursor() as cursor:
                    cursor.execute(statement, parameters)
                    return cursor.fetchall()

            return run

        def compare(name: str, call: Callable[[], object]) -> None:
            sent.clear()
            call()  # warms the caches, and records the statement
            statement, parameters = sent[-1]
            service = timings(call, args.repeat)
            plain = timings(replay(statement, parameters), args.repeat)
            print(f"{name:52} service {shown(service)}   SQL alone {shown(plain)}", flush=True)

        for name, report, first_page, filters in cases:
            compare(f"{name}: first page", first_page)
            if args.skip_totals or name in OTHER_SORTS:
                continue
            compare(
                f"{name}: totals",
                lambda report=report, filters=filters: reports.totals(MANAGER, report, **filters),
            )
    engine.dispose()


if __name__ == "__main__":
    main()
