"""Time the demo-data generator against a bare COPY of the same number of product rows.

Usage (the database must exist; it is migrated here if it is empty, and must hold no
business data):

    python benchmarks/demo_data.py --database-url postgresql://postgres@127.0.0.1/demo_bench \\
        --products 1000000 --orders 1000000 --customers 100000 --warehouses 5

Prints figures only; it asserts nothing. The baseline COPYs minimal product rows (id,
sku, name, category, price) into a scratch copy of the products table without indexes,
inside a transaction that is rolled back, so the reader can see how far the generator
is from the cost of just moving bytes into PostgreSQL.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from erpgo_desktop.db import migrate
from erpgo_desktop.db.demo_data import DemoDataSize, generate_demo_data
from erpgo_desktop.db.engine import make_engine

_BASELINE_CHUNK = 20_000


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def baseline_copy(url: URL, rows: int) -> float:
    """Seconds to build and COPY `rows` minimal product rows; nothing is kept."""
    category = uuid.UUID(int=1)
    began = time.perf_counter()
    with psycopg.connect(_libpq(url)) as conn:
        conn.execute("CREATE TABLE demo_bench_baseline (LIKE products INCLUDING DEFAULTS)")
        with conn.cursor() as cursor:
            for start in range(0, rows, _BASELINE_CHUNK):
                end = min(rows, start + _BASELINE_CHUNK)
                data = "".join(
                    f"00000000-0000-4000-8000-{i:012x}\tSKU-{i:08d}\tProduct {i}\t{category}\t"
                    f"{1 + i % 1000}.99\n"
                    for i in range(start, end)
                )
                with cursor.copy(
                    "COPY demo_bench_baseline (id, sku, name, category_id, price) FROM STDIN"
                ) as copy:
                    copy.write(data)
        elapsed = time.perf_counter() - began
        conn.rollback()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="an empty database")
    parser.add_argument("--products", type=int, default=DemoDataSize.products)
    parser.add_argument("--orders", type=int, default=DemoDataSize.orders)
    parser.add_argument("--customers", type=int, default=DemoDataSize.customers)
    parser.add_argument("--warehouses", type=int, default=DemoDataSize.warehouses)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    url = make_url(args.database_url).set(drivername="postgresql+psycopg")
    engine = make_engine(url, poolclass=NullPool)
    migrate.upgrade(engine)
    engine.dispose()
    with psycopg.connect(_libpq(url)) as conn:
        server = conn.execute("SHOW server_version").fetchone()
    size = DemoDataSize(
        products=args.products,
        customers=args.customers,
        orders=args.orders,
        warehouses=args.warehouses,
    )
    print(f"PostgreSQL {server[0] if server else '?'}; {size}; seed {args.seed}")

    stages: list[tuple[str, float]] = []

    def progress(stage: str, done: int, total: int) -> None:
        if not stages or stages[-1][0] != stage:
            stages.append((stage, time.perf_counter()))

    summary = generate_demo_data(url, size, seed=args.seed, progress=progress)
    finished = time.perf_counter()

    print(f"\ngenerate_demo_data: {summary.seconds:.1f} s")
    print("\nstage                          seconds")
    for (stage, began), following in zip(stages, [*stages[1:], ("", finished)], strict=True):
        print(f"  {stage:<28}{following[1] - began:>9.1f}")
    total_rows = sum(summary.rows.values())
    print(f"\n{'table':<26}{'rows':>12}{'rows/s overall':>18}")
    for table, count in summary.rows.items():
        print(f"  {table:<24}{count:>12,}{count / summary.seconds:>18,.0f}")
    print(f"  {'all tables':<24}{total_rows:>12,}{total_rows / summary.seconds:>18,.0f}")
    print("  (rows/s overall: the table's rows over the whole run's time, indexes included)")

    if args.products:
        seconds = baseline_copy(url, args.products)
        print(
            f"\nbaseline: bare COPY of {args.products:,} minimal product rows into an "
            f"unindexed table: {seconds:.1f} s ({args.products / seconds:,.0f} rows/s)"
        )
        print(
            f"generator / baseline: {summary.seconds / seconds:.1f}x the time, for "
            f"{total_rows / args.products:.1f}x the rows, all columns, indexes and checks"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
