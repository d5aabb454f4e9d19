"""How fast the Products list opens, sorts and searches on a big catalog.

    python benchmarks/product_list.py postgresql://user@host/erpgo [--repeat 5]

Against a database holding (say) a million demo products, prints for every sort order the
time to the first page, to a page deep in the list, and to a search's first page and
capped count, each through ProductCatalogService (the application's path: SQLAlchemy,
a session per call, rows turned into dataclasses) and through a baseline that runs the
very same SQL text without our layers: Qt's QSqlQueryModel over the QPSQL driver when
PySide6 has it, else raw psycopg. It also shows what OFFSET would cost at that depth,
which is why the list pages by keyset. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.sql import ClauseElement

from erpgo_desktop.config import normalize_url, safe_url
from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.services.catalog import (
    DEFAULT_COUNT_CAP,
    ProductCatalogService,
    ProductCursor,
    ProductQuery,
    ProductSort,
    count_statement,
    page_statement,
)

PAGE = 200
DEEP = 500_000


def median_ms(action: Callable[[], object], repeat: int) -> float:
    action()  # warm-up: connection, plan cache, buffers
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def sql_text(engine: Engine, statement: ClauseElement) -> str:
    # Literal binds double every % for the driver's paramstyle; '%%' matches what '%' does.
    return str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


class Baseline:
    name = "baseline"

    def run(self, sql: str) -> int:
        raise NotImplementedError


class QtBaseline(Baseline):
    """QSqlQueryModel.setQuery(sql): Qt's own model over its C++ PostgreSQL driver."""

    name = "QSqlQueryModel"

    def __init__(self, url: URL) -> None:
        from PySide6.QtSql import QSqlDatabase, QSqlQueryModel

        self._model_class = QSqlQueryModel
        self.db = QSqlDatabase.addDatabase("QPSQL", "benchmark")
        self.db.setHostName(url.host or "")
        if url.port:
            self.db.setPort(url.port)
        self.db.setDatabaseName(url.database or "")
        self.db.setUserName(url.username or "")
        self.db.setPassword(url.password or "")
        if not self.db.open():
            raise RuntimeError(self.db.lastError().text())

    def run(self, sql: str) -> int:
        model = self._model_class()
        model.setQuery(sql, self.db)
        if model.lastError().isValid():
            raise RuntimeError(model.lastError().text())
        # The whole result is in libpq's buffer now; data() would only read from it, for
        # the cells a view shows. (Reading every cell from Python here would time Python.)
        return model.rowCount()


class PsycopgBaseline(Baseline):
    """The same SQL text through one open psycopg connection, fetching tuples."""

    name = "raw psycopg"

    def __init__(self, url: URL) -> None:
        libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = psycopg.connect(libpq, autocommit=True)

    def run(self, sql: str) -> int:
        return len(self.conn.execute(sql).fetchall())


def make_baseline(url: URL) -> Baseline:
    try:
        from PySide6.QtCore import QCoreApplication
        from PySide6.QtSql import QSqlDatabase
    except ImportError:
        return PsycopgBaseline(url)
    _app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    if QSqlDatabase.isDriverAvailable("QPSQL"):
        try:
            return QtBaseline(url)
        except RuntimeError as exc:
            print(f"QPSQL is there but did not connect ({exc}); using raw psycopg")
    else:
        print("PySide6 has no QPSQL driver here; the baseline is raw psycopg")
    return PsycopgBaseline(url)


@dataclass
class Row:
    label: str
    ours_ms: float | None  # None: a baseline-only figure
    base_ms: float

    def show(self) -> str:
        if self.ours_ms is None:
            return f"{self.label:<52} {'-':>9} {self.base_ms:9.1f} {'-':>7}"
        ratio = self.ours_ms / self.base_ms if self.base_ms else float("nan")
        return f"{self.label:<52} {self.ours_ms:9.1f} {self.base_ms:9.1f} {ratio:7.2f}"


def cursor_at(engine: Engine, query: ProductQuery, depth: int) -> ProductCursor | None:
    """The keyset cursor of the row at `depth`: found once, untimed, to start a deep page."""
    column = query.sort.value
    direction = "DESC" if query.descending else "ASC"
    with engine.connect() as conn:
        found = conn.execute(
            text(
                f"SELECT {column}, id FROM products ORDER BY {column} {direction}, "
                f"id {direction} OFFSET :depth LIMIT 1"
            ),
            {"depth": depth},
        ).first()
    return None if found is None else ProductCursor(found[0], found[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--search",
        action="append",
        help="search texts to time (default: a rare SKU part, a common word, one letter)",
    )
    args = parser.parse_args(argv)

    url = normalize_url(args.database_url)
    engine = make_engine(url)
    catalog = ProductCatalogService(make_session_factory(engine))
    start = time.perf_counter()
    catalog.list_products(ProductQuery(), None, PAGE)
    cold_ms = (time.perf_counter() - start) * 1000
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM products")).scalar_one()
    baseline = make_baseline(url)
    depth = min(DEEP, max(total - PAGE, 0))
    print(f"database {safe_url(url)}: {total:,} products; pages of {PAGE}; median of {args.repeat}")
    print(f"first page with a new connection (cold): {cold_ms:.1f} ms")
    print(f"{'':<52} {'ours ms':>9} {base_name(baseline):>9} {'ratio':>7}")

    repeat = args.repeat
    for sort in ProductSort:
        for descending in (False, True):
            query = ProductQuery(sort=sort, descending=descending)
            order = f"{sort.value} {'desc' if descending else 'asc'}"
            first_sql = sql_text(engine, page_statement(query, None, PAGE + 1))
            print(
                Row(
                    f"first page, {order}",
                    median_ms(partial(catalog.list_products, query, None, PAGE), repeat),
                    median_ms(partial(baseline.run, first_sql), repeat),
                ).show()
            )
            deep = cursor_at(engine, query, depth)
            if deep is not None:
                deep_sql = sql_text(engine, page_statement(query, deep, PAGE + 1))
                offset_sql = sql_text(engine, page_statement(query, None, PAGE + 1).offset(depth))
                print(
                    Row(
                        f"page at row {depth:,}, {order}",
                        median_ms(partial(catalog.list_products, query, deep, PAGE), repeat),
                        median_ms(partial(baseline.run, deep_sql), repeat),
                    ).show()
                )
                # OFFSET reads and throws away every row before the page; one run is plenty.
                print(
                    Row(
                        "  the same page by OFFSET instead",
                        None,
                        median_ms(partial(baseline.run, offset_sql), 1),
                    ).show()
                )

    searches = args.search or ["00042", "drill", "drill pro", "work gloves", "a"]
    for search in searches:
        for sort in (ProductSort.SKU, ProductSort.NAME, ProductSort.PRICE):
            query = ProductQuery(search=search, sort=sort)
            # The baseline runs what the service runs: the page (whose plan PostgreSQL
            # chooses) and the capped count of the status bar.
            statements = [
                sql_text(engine, page_statement(query, None, PAGE + 1)),
                sql_text(engine, count_statement(query, DEFAULT_COUNT_CAP)),
            ]

            def ours(q: ProductQuery = query) -> object:
                return catalog.list_products(q, None, PAGE), catalog.count_products(q)

            def base(sqls: list[str] = statements) -> object:
                return [baseline.run(sql) for sql in sqls]

            found = catalog.count_products(query)
            matches = f"{found.count:,}{'' if found.exact else '+'}"
            print(
                Row(
                    f"search {search!r} ({matches}) by {sort.value}",
                    median_ms(ours, repeat),
                    median_ms(base, repeat),
                ).show()
            )

    exact = ProductQuery()
    print(
        Row(
            "exact count of all products (cap=None)",
            median_ms(lambda: catalog.count_products(exact, cap=None), repeat),
            median_ms(lambda: baseline.run(sql_text(engine, count_statement(exact, None))), repeat),
        ).show()
    )
    engine.dispose()
    return 0


def base_name(baseline: Baseline) -> str:
    return "Qt ms" if isinstance(baseline, QtBaseline) else "psycopg"


if __name__ == "__main__":
    raise SystemExit(main())
