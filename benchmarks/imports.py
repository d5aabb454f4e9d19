"""Importing 100,000 lines: time and peak memory, against a bare COPY of the same file.

    python benchmarks/imports.py postgresql://postgres@127.0.0.1:5432/test [--lines 100000]

Makes a scratch database on the given server (dropped afterwards), migrated, with one
category and one manager, and writes three files of `--lines` rows: products as CSV and
as XLSX, customers as CSV. Each import runs in a child process of its own, signed in as
the manager, on a fresh copy of the scratch database, so that its peak memory (the
child's maximum resident set) is the import's alone: the file read as the import dialog
reads it, then the import itself, dry run first and then for real, as the dialog does.
The baseline is the least the database can do with the same file: COPY into a temporary
table, then one INSERT ... SELECT resolving the category, in one transaction, over plain
psycopg. Each repeat runs the baseline and the imports back to back, so that a shared
machine's load weighs on them alike; prints the median and the spread of `--repeat` runs,
and of the import's time over the baseline's of the same repeat. Asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from order_throughput import libpq, scratch_database
from psycopg import sql
from sqlalchemy.engine import URL, make_url

PASSWORD = "long enough"
CATEGORY = "Imported goods"
PRODUCT_HEADERS = ["SKU", "Name", "Category", "Price", "Cost", "Barcode", "Weight"]
CUSTOMER_HEADERS = ["First name", "Last name", "Email", "Company", "Phone"]


def product_row(n: int) -> list[str]:
    return [f"IMP-{n:07d}", f"Imported product {n}", CATEGORY, f"{10 + n % 900}.{n % 100:02d}",
            f"{5 + n % 5}.50", f"{4000000000000 + n}", f"{n % 50}.25"]  # fmt: skip


def customer_row(n: int) -> list[str]:
    return [f"First{n}", f"Last{n % 5000}", f"customer{n}@example.com",
            f"Company {n % 3000}", f"+1 555 {n:07d}"]  # fmt: skip


def write_files(folder: Path, lines: int) -> dict[str, Path]:
    from openpyxl import Workbook

    files = {"products.csv": folder / "products.csv", "customers.csv": folder / "customers.csv"}
    for name, headers, row in (
        ("products.csv", PRODUCT_HEADERS, product_row),
        ("customers.csv", CUSTOMER_HEADERS, customer_row),
    ):
        with files[name].open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(headers)
            writer.writerows(row(n) for n in range(lines))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(PRODUCT_HEADERS)
    for n in range(lines):
        sheet.append(product_row(n))
    files["products.xlsx"] = folder / "products.xlsx"
    workbook.save(files["products.xlsx"])
    return files


def prepare_template(url: URL) -> None:
    from erpgo_desktop.db import migrate
    from erpgo_desktop.db.engine import make_engine, make_session_factory
    from erpgo_desktop.services.auth import AuthService, NewUser
    from erpgo_desktop.services.security import setup_security

    engine = make_engine(url)
    migrate.upgrade(engine)
    setup_security(engine)
    AuthService(make_session_factory(engine)).create_user(
        NewUser("bench", "bench@example.com", PASSWORD, "manager", "Bench"), acting=None
    )
    engine.dispose()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("INSERT INTO product_categories (name) VALUES (%s)", (CATEGORY,))


def child(url: str, path: str) -> None:
    """One import in this process: read the file, dry run, import; print the figures."""
    from erpgo_desktop.db.engine import make_session_factory
    from erpgo_desktop.imports import guess_mapping, read_file
    from erpgo_desktop.services.auth import AuthService
    from erpgo_desktop.services.importing import ImportService

    engine_url = make_url(url)
    from erpgo_desktop.db.engine import make_engine

    gate = make_engine(engine_url)
    signed_in = AuthService(make_session_factory(gate)).sign_in("bench", PASSWORD)
    service = ImportService(make_session_factory(signed_in.engine))
    kind = "customers" if "customers" in Path(path).name else "products"
    started = time.perf_counter()
    sheet = read_file(path)
    read = time.perf_counter()
    mapping = guess_mapping(kind, sheet.headers)
    run = service.import_customers if kind == "customers" else service.import_products
    dry = run(signed_in.user, sheet.rows, mapping, update_existing=False, dry_run=True)
    checked = time.perf_counter()
    done = run(signed_in.user, sheet.rows, mapping, update_existing=False, dry_run=False)
    finished = time.perf_counter()
    assert dry.ok and done.ok, (dry.errors[:3], done.errors[:3])
    print(json.dumps({
        "read": read - started,
        "dry_run": checked - read,
        "import": finished - checked,
        "total": finished - started,
        "created": done.created,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))  # fmt: skip


def baseline_copy(url: URL, path: Path) -> float:
    """COPY the products CSV into a temporary table, then one INSERT ... SELECT."""
    started = time.perf_counter()
    with psycopg.connect(libpq(url)) as conn:
        conn.execute(
            "CREATE TEMP TABLE incoming (sku text, name text, category text, price numeric, "
            "cost numeric, barcode text, weight numeric) ON COMMIT DROP"
        )
        with conn.cursor().copy(
            "COPY incoming FROM STDIN WITH (FORMAT csv, HEADER true)"
        ) as copy, path.open("rb") as source:  # fmt: skip
            while block := source.read(1 << 16):
                copy.write(block)
        conn.execute(
            "INSERT INTO products (sku, name, category_id, price, cost, barcode, weight) "
            "SELECT i.sku, i.name, c.id, i.price, i.cost, i.barcode, i.weight "
            "FROM incoming i JOIN product_categories c ON c.name = i.category"
        )
    return time.perf_counter() - started


def fresh_copy(admin: URL, template: str, name: str) -> URL:
    with psycopg.connect(libpq(admin), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    return admin.set(database=name)


def drop(admin: URL, name: str) -> None:
    with psycopg.connect(libpq(admin), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} ({min(values):.2f}–{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="any database on the server (a scratch one is made)")
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", help="one file: products.csv, products.xlsx, customers.csv")
    parser.add_argument("--child", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with (
        scratch_database(args.url, "erpgo_import_bench") as template,
        tempfile.TemporaryDirectory() as folder,
    ):
        prepare_template(template)
        admin = template.set(database=make_url(args.url).database)
        files = write_files(Path(folder), args.lines)
        size = files["products.csv"].stat().st_size / 1e6
        print(f"{args.lines:,} lines (products CSV {size:.1f} MB); seconds and MB, "
              f"median (min–max) of {args.repeat}")  # fmt: skip
        copy_name = f"{template.database}_run"
        names = [name for name in files if not args.only or name == args.only]
        try:
            # Each repeat runs the baseline and then every import, one after the other, so
            # that the load of a shared machine weighs on them alike.
            baseline: list[float] = []
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
            for _ in range(args.repeat):
                baseline.append(baseline_copy(fresh_copy(admin, template.database, copy_name),
                                              files["products.csv"]))  # fmt: skip
                for name in names:
                    url = fresh_copy(admin, template.database, copy_name)
                    output = subprocess.run(
                        [sys.executable, __file__, "--child",
                         url.render_as_string(hide_password=False), str(files[name])],
                        capture_output=True, text=True,
                    )  # fmt: skip
                    if output.returncode:
                        raise SystemExit(f"{name}: {output.stderr[-2000:]}")
                    runs[name].append(json.loads(output.stdout.strip().splitlines()[-1]))
            print(f"{'bare COPY + INSERT, products.csv':<34} total {spread(baseline)}")
            for name in names:
                done = runs[name]
                ratios = [r["import"] / b for r, b in zip(done, baseline, strict=True)]
                print(
                    f"{name:<34} total {spread([r['total'] for r in done])}"
                    f"  read {spread([r['read'] for r in done])}"
                    f"  dry run {spread([r['dry_run'] for r in done])}"
                    f"  import {spread([r['import'] for r in done])}"
                    f"  peak MB {spread([r['peak_mb'] for r in done])}"
                    f"  import/COPY {spread(ratios)}"
                )
        finally:
            drop(admin, copy_name)


if __name__ == "__main__":
    main()
