"""Each Dashboard panel through DashboardService, beside its own SQL run alone.

    python benchmarks/dashboard.py postgresql://postgres@127.0.0.1:5432/erpgo_dash_1m

Run on a database filled with `erpgo-desktop demo-data --products 1000000 --warehouses 5
--orders 1000000 --customers 100000` (migrated to 0006). For every panel: the service call
(permission check, fold of pending summary changes, query, rows built) and the very
statements it sent, recorded from one call and replayed over raw psycopg in the same
process; median of `--repeat` runs each, and the ratio service / SQL (our overhead). Then,
once each, the same figures as plain aggregates over the base tables: what the summaries
save. Dates end at the newest order. Asserts nothing; writes nothing but the fold.
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
from erpgo_desktop.services.dashboard import SALE_STATUSES, DashboardService

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


def median_ms(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--repeat", type=int, default=7)
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
    panels: list[tuple[str, Callable[[], object], str | None]] = [
        ("stock value", lambda: dashboard.stock_value(MANAGER),
         f"SELECT warehouse_id, category_id, sum(units), sum(at_cost), sum(at_price) "
         f"FROM ({STOCK}) s GROUP BY 1, 2"),
        ("stock value, one warehouse", lambda: dashboard.stock_value(MANAGER, warehouse), None),
        ("low stock (50)", lambda: dashboard.low_stock(MANAGER), None),
        ("low stock, one warehouse", lambda: dashboard.low_stock(MANAGER, warehouse), None),
        ("sales by day, 30 days", lambda: dashboard.sales(MANAGER, month, end, "day"),
         f"SELECT {DAY}, count(*), sum(total_amount) FROM orders WHERE {SALE} "
         f"AND {DAY} BETWEEN '{month}' AND '{end}' GROUP BY 1"),
        ("sales by week, 365 days", lambda: dashboard.sales(MANAGER, year, end, "week"),
         f"SELECT date_trunc('week', {DAY}), count(*), sum(total_amount) FROM orders "
         f"WHERE {SALE} AND {DAY} BETWEEN '{year}' AND '{end}' GROUP BY 1"),
        ("sales by month, all", lambda: dashboard.sales(MANAGER, first, end, "month"),
         f"SELECT date_trunc('month', {DAY}), count(*), sum(total_amount) FROM orders "
         f"WHERE {SALE} GROUP BY 1"),
        ("top products, 30 days", lambda: dashboard.top_products(MANAGER, month, end), None),
        ("top products, 365 days", lambda: dashboard.top_products(MANAGER, year, end),
         f"SELECT i.product_id, sum(i.quantity), sum(i.final_price) FROM order_items i "
         f"JOIN orders o ON o.id = i.order_id WHERE o.{SALE} AND {DAY.replace('(', '(o.', 1)} "
         f"BETWEEN '{year}' AND '{end}' GROUP BY 1 ORDER BY 3 DESC LIMIT 10"),
        ("top customers, 30 days", lambda: dashboard.top_customers(MANAGER, month, end), None),
        ("top customers, 365 days", lambda: dashboard.top_customers(MANAGER, year, end),
         f"SELECT customer_id, count(*), sum(total_amount) FROM orders WHERE {SALE} "
         f"AND {DAY} BETWEEN '{year}' AND '{end}' GROUP BY 1 ORDER BY 3 DESC LIMIT 10"),
        ("pipeline, all orders", lambda: dashboard.pipeline(MANAGER),
         "SELECT status, count(*), sum(total_amount) FROM orders GROUP BY 1"),
        ("pipeline, 30 days", lambda: dashboard.pipeline(MANAGER, month, end), None),
        ("overdue unpaid (100)", lambda: dashboard.overdue_unpaid(MANAGER, end), None),
    ]  # fmt: skip

    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        statements.append((statement, parameters))

    raw = engine.raw_connection()
    print(f"\n{'panel':28} {'service ms':>10} {'SQL ms':>8} {'ratio':>6} {'plain ms':>9}")
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

        service_ms = median_ms(call, args.repeat)
        sql_ms = median_ms(run_sql, args.repeat)
        plain_text = ""
        if plain is not None:
            plain_text = f"{median_ms(lambda q=plain: run_sql([(q, None)]), 1):9.0f}"
        print(f"{name:28} {service_ms:10.1f} {sql_ms:8.1f} {service_ms / sql_ms:6.2f} {plain_text}")
    raw.close()
    engine.dispose()


if __name__ == "__main__":
    main()
