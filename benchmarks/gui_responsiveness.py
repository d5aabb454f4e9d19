"""Does the window stay responsive while a big Products list loads, searches and sorts?

    python benchmarks/gui_responsiveness.py postgresql://user@host/erpgo --username admin

(the password is read from standard input). Opens the real main window over the
given database and, while it shows its first page, answers a search and re-sorts, a
timer ticks every 5 ms on the GUI thread: the longest gap between ticks is how long the
window was frozen. The baseline does the same work the way a plain Qt program would,
QSqlQueryModel running the query on the GUI thread. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys

from gui_support import StallMeter, measure, open_qpsql
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from erpgo_desktop.config import normalize_url, safe_url
from erpgo_desktop.db.engine import make_engine
from erpgo_desktop.services import build_services
from erpgo_desktop.ui.main_window import MainWindow
from erpgo_desktop.ui.tasks import TaskRunner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--username", required=True)
    parser.add_argument("--search", default="boot pro")
    args = parser.parse_args()
    password = sys.stdin.readline().rstrip("\n")
    url = normalize_url(args.url)
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    engine = make_engine(url)
    services = build_services(engine)
    user = services.auth.login(args.username, password)
    runner = TaskRunner()
    meter = StallMeter()
    print(f"database: {safe_url(url)}; Qt platform: {app.platformName()}")
    print(f"{'step':<36}{'ready ms':>16}{'longest freeze ms':>19}")
    print("ours: ERPGo's Products tab (keyset pages through services, off the GUI thread)")

    window = MainWindow(
        services=services, runner=runner, user=user, location_description="benchmark"
    )
    model = window.products.model
    figures = measure(
        app, meter, window.show, lambda: model.rowCount() > 0 and not model.is_loading
    )
    print(f"{'open window, first page':<36}{figures[0]:>16.0f}{figures[1]:>19}")

    def search() -> None:
        window.products.search.setText(args.search)
        window.products.apply_search()

    figures = measure(app, meter, search, lambda: not model.is_loading and model.count is not None)
    print(f"{f'search {args.search!r}':<36}{figures[0]:>16.0f}{figures[1]:>19}")

    def sort_by_price() -> None:
        window.products.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)

    figures = measure(app, meter, sort_by_price, lambda: not model.is_loading)
    print(f"{'sort the matches by price, desc':<36}{figures[0]:>16.0f}{figures[1]:>19}")
    window.close()
    runner.wait()

    baseline(app, meter, url, args.search)
    engine.dispose()


def baseline(app: QApplication, meter: StallMeter, url: object, search: str) -> None:
    from PySide6.QtSql import QSqlQueryModel
    from PySide6.QtWidgets import QTableView
    from sqlalchemy.engine import URL

    assert isinstance(url, URL)
    db = open_qpsql(url, "baseline")
    if db is None:
        return
    model = QSqlQueryModel()
    view = QTableView()
    view.setModel(model)
    view.show()
    columns = "p.sku, p.name, c.name, p.price, p.stock_quantity, p.is_active"
    source = "products p JOIN product_categories c ON c.id = p.category_id"
    like = search.replace("'", "''")
    steps = (
        ("open window, first page", f"SELECT {columns} FROM {source} ORDER BY p.sku"),
        (f"search {search!r}",
         f"SELECT {columns} FROM {source} WHERE p.sku ILIKE '%{like}%' "
         f"OR p.name ILIKE '%{like}%' ORDER BY p.sku"),
        ("sort the matches by price, desc",
         f"SELECT {columns} FROM {source} WHERE p.sku ILIKE '%{like}%' "
         f"OR p.name ILIKE '%{like}%' ORDER BY p.price DESC"),
    )  # fmt: skip
    print("baseline: QSqlQueryModel.setQuery on the GUI thread (what a plain Qt program does)")
    for label, sql in steps:
        figures = measure(app, meter, lambda sql=sql: model.setQuery(sql, db), lambda: True)
        print(f"{label:<36}{figures[0]:>16.0f}{figures[1]:>19}")
    view.close()
    db.close()


if __name__ == "__main__":
    main()
