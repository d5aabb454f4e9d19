"""From launch to the first rows of Products, through the program's real path.

    echo PASSWORD | python benchmarks/startup.py URL --username bench [--repeat 5]

Each run is a fresh Python process (imports included, as a double click would be) that
does what `erpgo-desktop` does after the sign-in dialog: QApplication, prepare the
database (`app._prepare`: server check, migrations check, the sign-in role), sign in
(`SignIn.login`), `Workstation.start` (services, the change feed, the connection monitor,
the main window shown), and stops when the Products tab shows its first rows. The server
is already running (a second start); only typing the password is left out. The child
reports its own clock; the parent adds the process start. Beside it, the plain query of
that first page (`ProductCatalogService.page_statement`, by SKU, 200 rows) over psycopg.
Then, in the same child, Ctrl+End on Products right after the first rows, and which
statements reached the server before the first rows (report or dashboard ones would be
reading a tab nobody opened). Median and spread (min-max); asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHILD = "--child"


def child(url: str, username: str, password: str, started: float) -> None:
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication
    from sqlalchemy import event

    from erpgo_desktop import config
    from erpgo_desktop.app import _prepare
    from erpgo_desktop.services import build_services
    from erpgo_desktop.ui.session import SignIn, Workstation
    from erpgo_desktop.ui.tasks import TaskRunner

    imported = time.time()
    app = QApplication(sys.argv)
    location = config.resolve_database(url, config.AppPaths.for_user())
    paths = config.AppPaths.for_user()
    prepared = _prepare(location, paths, False, lambda *_progress: None)
    sign_in = SignIn(prepared.auth)
    sign_in.login(username, password)
    assert sign_in.signed_in is not None
    sent: list[str] = []
    event.listen(
        sign_in.signed_in.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: sent.append(statement),
    )
    signed_in = time.time()
    runner = TaskRunner()
    settings = QSettings(str(Path("/tmp") / "erpgo-startup-bench.ini"), QSettings.Format.IniFormat)
    workstation = Workstation(
        runner,
        prepared.auth,
        lambda person: build_services(person.engine),
        location_description="benchmark",
        settings=settings,
    )
    window = workstation.start(sign_in.signed_in)
    products = window.products
    assert products is not None
    deadline = time.time() + 120
    while products.model.rowCount() == 0 and time.time() < deadline:
        app.processEvents()
    first_rows = time.time()
    before_first_rows = list(sent)

    # Ctrl+End as soon as the count is in (the first moment the end is known): the last
    # product on screen.
    while products.model.count is None and time.time() < deadline:
        app.processEvents()
    table = products.table
    table.setFocus()
    table.setCurrentIndex(products.model.index(0, 0))
    pressed = time.time()
    from PySide6.QtTest import QTest

    QTest.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    model = products.model
    while time.time() < deadline:
        app.processEvents()
        last = model.rowCount() - 1
        if (
            model.is_sparse
            and table.currentIndex().row() == last
            and model.row_at(last) is not None
        ):
            break
    at_end = time.time()
    heavy = [s for s in before_first_rows if "product_inventory" in s or "dashboard_" in s]
    print(
        json.dumps(
            {
                "imports_s": imported - started,
                "sign_in_s": signed_in - started,
                "first_rows_s": first_rows - started,
                "ctrl_end_ms": (at_end - pressed) * 1000,
                "statements_before_first_rows": len(before_first_rows),
                "report_or_dashboard_statements": len(heavy),
            }
        ),
        flush=True,
    )
    workstation.stop()
    runner.wait()


def plain_first_page(url: str, repeat: int) -> list[float]:
    import psycopg
    from sqlalchemy.dialects import postgresql

    from erpgo_desktop.config import normalize_url
    from erpgo_desktop.services.catalog import ProductQuery, page_statement

    statement = page_statement(ProductQuery(), None, 200)
    compiled = statement.compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    raw = normalize_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    times = []
    with psycopg.connect(raw) as connection:
        for _ in range(repeat):
            start = time.perf_counter()
            connection.execute(str(compiled)).fetchall()
            times.append((time.perf_counter() - start) * 1000)
    return times


def spread(values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    shown = [value * scale for value in values]
    return f"{statistics.median(shown):.2f} {unit} ({min(shown):.2f}-{max(shown):.2f})"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == CHILD:
        _, _, url, username, started = sys.argv
        child(url, username, sys.stdin.readline().rstrip("\n"), float(started))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--username", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--plain-url", help="for the plain query (default: the URL)")
    args = parser.parse_args()
    password = sys.stdin.readline().rstrip("\n")
    runs = []
    for _ in range(args.repeat):
        started = time.time()
        done = subprocess.run(
            [sys.executable, __file__, CHILD, args.url, args.username, str(started)],
            input=password + "\n",
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"{args.repeat} launches; median (min-max)")
    for key, label in (
        ("imports_s", "imports done"),
        ("sign_in_s", "signed in"),
        ("first_rows_s", "first rows of Products"),
    ):
        print(f"  {label:34} {spread([run[key] for run in runs])}")
    print(f"  {'Ctrl+End after the first rows':34} "
          f"{spread([run['ctrl_end_ms'] for run in runs], 'ms')}")  # fmt: skip
    sent = [run["statements_before_first_rows"] for run in runs]
    heavy = [run["report_or_dashboard_statements"] for run in runs]
    print(f"  statements before the first rows: {sent}, of them report/dashboard: {heavy}")
    plain = plain_first_page(args.plain_url or args.url, args.repeat)
    print(f"  plain SQL, first page of Products:  {spread(plain, 'ms')}")


if __name__ == "__main__":
    main()
