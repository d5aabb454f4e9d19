"""What keeping the change history costs: the order flow and a 10,000-line import, with the
history triggers on and off, in one scratch database.

    python benchmarks/history_overhead.py postgresql://postgres@127.0.0.1:5432/test \
        [--orders 300] [--import-rows 10000] [--repeats 5]

The order flow is benchmarks/order_throughput.py's (draft, 5 lines, submit, confirm with
reservations, each its own transaction, as a signed-in manager) with 1 and 8 workers. The
import is ImportService.import_products of new products, then the same rows again with
new prices (`update_existing`), as a signed-in manager. "Off" disables the history
triggers (ALTER TABLE ... DISABLE TRIGGER, as the superuser) between runs; runs alternate
on and off so that the machine's noise falls on both. Prints each run, then the median
and the range of "on / off - 1" (the slowdown). On a shared, noisy machine that range is
wide, so each run with the history on also reports the history triggers' own time
(pg_stat_user_functions, track_functions = 'pl') as a share of the run's time: what the
history costs, whatever else the machine does. Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import psycopg
from order_throughput import PASSWORD, Seeded, libpq, scratch_database, through_services
from psycopg import sql
from sqlalchemy.engine import URL

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.imports import SheetRow
from erpgo_desktop.services.importing import ImportService


def set_history(url: URL, on: bool) -> None:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        tables = [row[0] for row in conn.execute("SELECT table_name FROM erpgo_tracked_tables")]
        action = sql.SQL("ENABLE" if on else "DISABLE")
        for table in tables:
            for event in ("insert", "update", "delete"):
                conn.execute(
                    sql.SQL("ALTER TABLE {} {} TRIGGER {}").format(
                        sql.Identifier(table), action, sql.Identifier(f"{table}_history_{event}")
                    )
                )


def history_seconds(url: URL) -> float:
    """The history trigger functions' own time since the last call (then reset)."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("SELECT pg_sleep(0.6)")  # statistics reach the collector within 0.5 s
        spent = conn.execute(
            "SELECT coalesce(sum(self_time), 0) FROM pg_stat_user_functions "
            "WHERE funcname LIKE 'erpgo_history_%'"
        ).fetchone()
        conn.execute("SELECT pg_stat_reset()")
    return float(spent[0]) / 1000 if spent else 0.0


def import_seconds(url: URL, seeded: Seeded, rows: int, run: int) -> tuple[float, float]:
    """Seconds to import `rows` new products, then to update them all (new prices)."""
    signed_in = seeded.auth.sign_in("bench", PASSWORD)
    service = ImportService(make_session_factory(signed_in.engine))
    mapping = {"sku": 0, "name": 1, "category": 2, "price": 3}

    def sheet(price: str) -> list[SheetRow]:
        return [
            SheetRow(n + 2, (f"IMP-{run}-{n}", f"Imported {n}", "/Bench", price))
            for n in range(rows)
        ]

    timings = []
    for price, update in (("9.50", False), ("10.25", True)):
        start = time.perf_counter()
        result = service.import_products(
            signed_in.user, sheet(price), mapping, update_existing=update, dry_run=False
        )
        timings.append(time.perf_counter() - start)
        assert not result.errors, result.errors[:3]
    signed_in.engine.dispose()
    return timings[0], timings[1]


def slowdown(on: list[float], off: list[float], higher_is_faster: bool) -> str:
    ratios = [(b / a if higher_is_faster else a / b) - 1 for a, b in zip(on, off, strict=True)]
    return (
        f"median {statistics.median(ratios):+.1%}, range {min(ratios):+.1%} to {max(ratios):+.1%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="any database on the server; a scratch one is created")
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with scratch_database(args.url, "erpgo_history_bench") as url:
        name = url.database
        seeded = Seeded(url)
        with psycopg.connect(libpq(url), autocommit=True) as conn:
            conn.execute("UPDATE product_categories SET path = '/Bench' WHERE name = 'Bench'")
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET track_functions = 'pl'").format(sql.Identifier(name))
            )
        figures: dict[str, dict[bool, list[float]]] = {}
        shares: dict[str, list[float]] = {}

        def measure(label: str, on: bool, value: Callable[[], float], sessions: int) -> None:
            history_seconds(url)
            started = time.perf_counter()
            figure = value()
            elapsed = time.perf_counter() - started
            figures.setdefault(label, {True: [], False: []})[on].append(figure)
            share = ""
            if on:
                # Of each session's time: with 8 workers, 8 sessions spend it side by side.
                shares.setdefault(label, []).append(history_seconds(url) / elapsed / sessions)
                share = f"  (history triggers {shares[label][-1]:.1%} of the time)"
            print(
                f"  {label:<28} history {'on ' if on else 'off'} {figure:10.2f}{share}", flush=True
            )

        run = 0
        for repeat in range(args.repeats):
            print(f"run {repeat + 1} of {args.repeats}")
            for on in (True, False) if repeat % 2 == 0 else (False, True):
                set_history(url, on)
                for workers in (1, 8):
                    measure(
                        f"orders/s, {workers} worker(s)",
                        on,
                        lambda w=workers: through_services(url, seeded, w, args.orders),  # type: ignore[misc]
                        workers,
                    )
                run += 1
                history_seconds(url)
                started = time.perf_counter()
                created, updated = import_seconds(url, seeded, args.import_rows, run)
                if on:
                    shares.setdefault("import new + update", []).append(
                        history_seconds(url) / (time.perf_counter() - started)
                    )
                figures.setdefault("import new, s", {True: [], False: []})[on].append(created)
                figures.setdefault("import update, s", {True: [], False: []})[on].append(updated)
                print(f"  {'import new / update, s':<28} history {'on ' if on else 'off'} "
                      f"{created:10.2f} {updated:8.2f}", flush=True)  # fmt: skip
        print(f"\n{args.orders} orders of 5 lines; imports of {args.import_rows} rows")
        print(f"{'figure':<28}{'on (median)':>14}{'off (median)':>14}  slowdown")
        for label, runs in figures.items():
            faster_is_higher = label.startswith("orders")
            print(
                f"{label:<28}{statistics.median(runs[True]):>14.2f}"
                f"{statistics.median(runs[False]):>14.2f}  "
                f"{slowdown(runs[True], runs[False], faster_is_higher)}"
            )
        print("\nthe history triggers' own time, as a share of the time with the history on:")
        for label, measured in shares.items():
            print(
                f"{label:<28} median {statistics.median(measured):.1%}, "
                f"range {min(measured):.1%} to {max(measured):.1%}"
            )


if __name__ == "__main__":
    main()
