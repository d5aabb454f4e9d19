"""Each Dashboard panel and key figure through DashboardService, beside the same SQL alone and
beside the best plain SQL over the base tables, all in the same run.

    python benchmarks/dashboard.py "postgresql://postgres@/erpgo_dashboard?host=/path/to/pgdata"

Run on a database filled with `erpgo-desktop demo-data --products 1000000 --warehouses 5
--orders 1000000 --customers 100000` (migrated). For every panel and figure: *service*, the
service call (permission check, fold of pending summary changes, query, rows built);
*SQL*, the very statements it sent, recorded from one call and replayed over raw psycopg in
the same process; *plain*, the same answer as plain SQL over the base tables (no summary,
no flag), the best such query we know. Each is run `--repeat` times (plain `--plain-repeat`
times) in turn, and printed as the median and the spread (lowest-highest): the machine is
shared and noisy. Ranges end at the newest order; "365 days" is the dashboard's "This year"
sort of range, the longest a manager picks often. Asserts nothing; writes nothing but the
fold.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from erpgo_desktop.config import normalize_url
from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.dashboard import OPEN_STATUSES, SALE_STATUSES, DashboardService

MANAGER = CurrentUser(uuid.uuid4(), "bench", "Bench", ("manager",), frozenset({perms.REPORTS_VIEW}))
SALE = "status IN (" + ", ".join(f"'{s}'" for s in SALE_STATUSES) + ")"
DAY = "(order_date AT TIME ZONE 'UTC')::date"
STOCK = """
    SELECT pi.warehouse_id, p.category_id, pi.quantity_available AS units,
           pi.quantity_available * p.cost AS at_cost, pi.quantity_available * p.price AS at_price
    FROM product_inventory pi JOIN products p ON p.id = pi.product_id
    UNION ALL
    SELECT vi.warehouse_id, p.category_id, vi.quantity_available,
           vi.quantity_available * v.cost, vi.quantity_available * v.price
    FROM variant_inventory vi JOIN product_variants v ON v.id = vi.variant_id
    JOIN products p ON p.id = v.product_id
"""


OPEN = "status IN (" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + ")"
LOW_PRODUCTS = """
    FROM product_inventory pi JOIN products p ON p.id = pi.product_id
    JOIN warehouses w ON w.id = pi.warehouse_id
    WHERE w.is_active AND p.is_active AND p.track_inventory
      AND pi.quantity_available - pi.quantity_reserved <= CASE WHEN pi.reorder_level > 0
          THEN pi.reorder_level ELSE greatest(p.min_stock_level, 0) END
"""
CUSTOMER_NAME = "coalesce(nullif(c.company, ''), concat_ws(' ', c.first_name, c.last_name))"


def times_ms(work: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return times


def figure(times: list[float]) -> str:
    """Median and spread: "123 (98-140)"."""
    if not times:
        return ""
    median = statistics.median(times)
    digits = 1 if median < 20 else 0
    return f"{median:,.{digits}f} ({min(times):,.{digits}f}-{max(times):,.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--plain-repeat", type=int, default=3)
    parser.add_argument("--only", help="run the panels whose name contains this text")
    args = parser.parse_args()
    engine = make_engine(make_url(normalize_url(args.url)))
    dashboard = DashboardService(make_session_factory(engine))
    with engine.connect() as connection:
        first, end = connection.execute(text(f"SELECT min({DAY}), max({DAY}) FROM orders")).one()
        counts = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM orders), "
                "(SELECT count(*) FROM product_inventory), (SELECT count(*) FROM warehouses)"
            )
        ).one()
        warehouse = connection.execute(
            text("SELECT id FROM warehouses ORDER BY code LIMIT 1")
        ).scalar_one()
    print(
        f"products {counts[0]:,}, orders {counts[1]:,}, stock rows {counts[2]:,}, "
        f"warehouses {counts[3]}; newest order {end}"
    )
    month, year = end - timedelta(days=29), end - timedelta(days=364)
    in_year = f"{DAY} BETWEEN '{year}' AND '{end}'"
    stock_plain = (
        f"SELECT warehouse_id, category_id, sum(units), sum(at_cost), sum(at_price) "
        f"FROM ({STOCK}) s GROUP BY 1, 2"
    )
    low_plain = f"(SELECT w.code, p.sku, p.name {LOW_PRODUCTS} ORDER BY w.code, p.sku LIMIT 50)"
    top_customers_plain = (
        f"SELECT t.*, {CUSTOMER_NAME} FROM (SELECT customer_id, count(*), "
        f"sum(total_amount) AS revenue FROM orders WHERE {SALE} AND {{range}} GROUP BY 1 "
        f"ORDER BY 3 DESC, 1 LIMIT 8) t JOIN customers c ON c.id = t.customer_id"
    )
    top_products_plain = (
        f"SELECT t.*, p.name, p.sku FROM (SELECT i.product_id, sum(i.quantity), "
        f"sum(i.final_price) FROM order_items i JOIN orders o ON o.id = i.order_id "
        f"WHERE o.{SALE} AND {{range}} GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 8) t "
        f"JOIN products p ON p.id = t.product_id"
    )
    figures_plain = (
        f"SELECT (SELECT row(sum(at_cost), sum(at_price)) FROM ({STOCK}) s), "
        f"(SELECT row(count(*), sum(total_amount)) FROM orders WHERE {SALE} AND {{range}}), "
        f"(SELECT row(count(*), sum(total_amount)) FROM orders WHERE {OPEN}), "
        f"(SELECT count(*) {LOW_PRODUCTS})"
    )
    o_range = f"(o.order_date AT TIME ZONE 'UTC')::date BETWEEN '{{start}}' AND '{end}'"
    range_of = {"30 days": month, "365 days": year}
    panels: list[tuple[str, Callable[[], object], str | None]] = [
        ("key figures, 30 days", lambda: dashboard.key_figures(MANAGER, month, end),
         figures_plain.format(range=f"{DAY} BETWEEN '{month}' AND '{end}'")),
        ("key figures, 365 days", lambda: dashboard.key_figures(MANAGER, year, end),
         figures_plain.format(range=in_year)),
        ("key figures, one warehouse", lambda: dashboard.key_figures(MANAGER, year, end, warehouse),
         None),
        ("stock value", lambda: dashboard.stock_value(MANAGER), stock_plain),
        ("stock value, one warehouse", lambda: dashboard.stock_value(MANAGER, warehouse), None),
        ("low stock (50)", lambda: dashboard.low_stock(MANAGER), low_plain),
        ("low stock, one warehouse", lambda: dashboard.low_stock(MANAGER, warehouse), None),
        ("sales by day, 30 days", lambda: dashboard.sales(MANAGER, month, end, "day"),
         f"SELECT {DAY}, count(*), sum(total_amount) FROM orders WHERE {SALE} "
         f"AND {DAY} BETWEEN '{month}' AND '{end}' GROUP BY 1"),
        ("sales by week, 365 days", lambda: dashboard.sales(MANAGER, year, end, "week"),
         f"SELECT date_trunc('week', {DAY}), count(*), sum(total_amount) FROM orders "
         f"WHERE {SALE} AND {in_year} GROUP BY 1"),
        ("sales by month, all", lambda: dashboard.sales(MANAGER, first, end, "month"),
         f"SELECT date_trunc('month', {DAY}), count(*), sum(total_amount) FROM orders "
         f"WHERE {SALE} GROUP BY 1"),
        *(
            (f"top products, {days}", lambda s=s: dashboard.top_products(MANAGER, s, end, 8),
             top_products_plain.format(range=o_range.format(start=s)))
            for days, s in range_of.items()
        ),
        *(
            (f"top customers, {days}", lambda s=s: dashboard.top_customers(MANAGER, s, end, 8),
             top_customers_plain.format(range=f"{DAY} BETWEEN '{s}' AND '{end}'"))
            for days, s in range_of.items()
        ),
        ("pipeline, all orders", lambda: dashboard.pipeline(MANAGER),
         "SELECT status, count(*), sum(total_amount) FROM orders GROUP BY 1"),
        ("pipeline, 30 days", lambda: dashboard.pipeline(MANAGER, month, end),
         f"SELECT status, count(*), sum(total_amount) FROM orders "
         f"WHERE {DAY} BETWEEN '{month}' AND '{end}' GROUP BY 1"),
        ("pipeline, 365 days", lambda: dashboard.pipeline(MANAGER, year, end),
         f"SELECT status, count(*), sum(total_amount) FROM orders WHERE {in_year} GROUP BY 1"),
        ("overdue unpaid (100)", lambda: dashboard.overdue_unpaid(MANAGER, end), None),
    ]  # fmt: skip
    if args.only:
        panels = [panel for panel in panels if args.only in panel[0]]

    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        statements.append((statement, parameters))

    raw = engine.raw_connection()
    print(f"\n{'panel':28} {'service ms':>20} {'SQL ms':>20} {'ratio':>6} {'plain SQL ms':>24}")
    for name, call, plain in panels:
        call()  # warm: caches, pool, the first fold
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        call()
        event.remove(engine, "before_cursor_execute", record)
        replay = list(statements)

        def run_sql(replay: list[tuple[str, Any]] = replay) -> None:
            cursor = raw.cursor()
            for statement, parameters in replay:
                cursor.execute(statement, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
            raw.commit()

        # In turn, so that a burst of load elsewhere hits each side alike.
        service_times: list[float] = []
        sql_times: list[float] = []
        for _ in range(args.repeat):
            service_times += times_ms(call, 1)
            sql_times += times_ms(run_sql, 1)
        plain_times: list[float] = []
        if plain is not None:
            plain_times = times_ms(lambda q=plain: run_sql([(q, None)]), args.plain_repeat)
        ratio = statistics.median(service_times) / statistics.median(sql_times)
        print(
            f"{name:28} {figure(service_times):>20} {figure(sql_times):>20} {ratio:6.2f} "
            f"{figure(plain_times):>24}",
            flush=True,
        )
    raw.close()
    engine.dispose()


if __name__ == "__main__":
    main()
