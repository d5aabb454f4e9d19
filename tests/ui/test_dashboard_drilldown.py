"""The Dashboard in the main window at 1366x768: its tables show codes whole, and a
drill-down opens the target list with the drill-down's filter only (the list's earlier
search and other filters reset)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QHeaderView
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.services.dashboard import OverdueRow
from erpgo_desktop.services.inventory import LowStockRow
from erpgo_desktop.ui.column_fit import Fit
from erpgo_desktop.ui.dashboard_tab import DashboardFilters, DashboardTab, RowTable
from erpgo_desktop.ui.main_window import MainWindow
from erpgo_desktop.ui.tasks import TaskRunner
from tests.ui.stock_support import StockWorld, make_stock_world


@pytest.fixture
def stock(engine: Engine, runner: TaskRunner) -> Iterator[StockWorld]:
    world = make_stock_world(engine)
    yield world
    assert runner.wait(10_000)


def make_window(qtbot: QtBot, stock: StockWorld, runner: TaskRunner, tmp_path: Path) -> MainWindow:
    window = MainWindow(
        services=stock.services,
        runner=runner,
        user=stock.world.manager,
        location_description="test database",
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    window.resize(1366, 768)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    return window


def dashboard_of(qtbot: QtBot, window: MainWindow) -> DashboardTab:
    tab = window.dashboard
    assert tab is not None
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: not tab.is_loading(), timeout=10_000)
    return tab


def assert_fits(qtbot: QtBot, table: RowTable, codes: tuple[int, ...]) -> None:
    """Every shown column as wide as its contents and its header, codes included; the
    stretched column at least as wide as its header; nothing scrolls sideways."""
    header = table.horizontalHeader()
    qtbot.waitUntil(lambda: table.viewport().width() > 0)
    # The columns are fitted on the event loop's next turn (ui/column_fit.py).
    qtbot.waitUntil(
        lambda: (
            table.horizontalScrollBar().maximum() == 0
            and all(
                table.isColumnHidden(c) or header.sectionSize(c) >= table.sizeHintForColumn(c)
                for c in range(table.columnCount())
                if header.sectionResizeMode(c) != QHeaderView.ResizeMode.Stretch
                and table.column_fitter.fit_of(c) is not Fit.STRETCH
            )
        ),
        timeout=5_000,
    )
    for column in range(table.columnCount()):
        if table.isColumnHidden(column):
            continue
        width = header.sectionSize(column)
        title = table.horizontalHeaderItem(column).text()  # type: ignore[union-attr]
        assert width >= header.sectionSizeHint(column), f"header {title!r} cut"
        stretched = (
            header.sectionResizeMode(column) == QHeaderView.ResizeMode.Stretch
            or table.column_fitter.fit_of(column) is Fit.STRETCH
        )
        if not stretched:
            assert width >= table.sizeHintForColumn(column), f"column {title!r} elided"
    for column in codes:
        assert header.sectionResizeMode(column) != QHeaderView.ResizeMode.Stretch
        assert table.column_fitter.fit_of(column) is Fit.WHOLE
    assert table.horizontalScrollBar().maximum() == 0


def test_tables_show_codes_whole_at_1366x768(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner, tmp_path: Path
) -> None:
    window = make_window(qtbot, stock, runner, tmp_path)
    tab = dashboard_of(qtbot, window)
    # Codes as long as the demo data's, through the tab's own showing of answers.
    low = [
        LowStockRow(
            uuid.uuid4(), f"WH-00{n}", uuid.uuid4(), None, f"CLO-BAS-{n:07d}", None,
            "Northwind Running Shoe Ultra Z812 with a long name", 120_000, 3, 119_997,
            120_000, None, 50_000,
        )
        for n in range(1, 40)
    ]  # fmt: skip
    overdue = [
        OverdueRow(
            uuid.uuid4(), f"2026-{n:06d}", uuid.uuid4(), "Lakeside Granite Outfitters Group",
            date(2026, 1, 1), Decimal("123456.78"), Decimal("0.00"), 1_234,
        )
        for n in range(1, 40)
    ]  # fmt: skip
    filters = DashboardFilters(date(2026, 1, 1), date(2026, 1, 30), None, "day")
    tab._show_low_stock(low, filters)
    tab._show_overdue(overdue, filters)
    assert tab.low_stock_table.cell_text(0, 1) == "CLO-BAS-0000001"
    assert_fits(qtbot, tab.low_stock_table, codes=(0, 1))
    assert_fits(qtbot, tab.overdue_table, codes=(0,))
    # The long text column is cut, and its row's tooltip says it whole.
    assert "long name" in tab.low_stock_table.item(0, 2).toolTip()  # type: ignore[union-attr]

    # One warehouse: no warehouse column.
    one = DashboardFilters(date(2026, 1, 1), date(2026, 1, 30), low[0].warehouse_id, "day")
    tab._show_low_stock(low, one)
    assert tab.low_stock_table.isColumnHidden(0)
    assert_fits(qtbot, tab.low_stock_table, codes=(1,))


def test_a_drill_down_shows_its_filter_only(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner, tmp_path: Path
) -> None:
    window = make_window(qtbot, stock, runner, tmp_path)
    tab = dashboard_of(qtbot, window)
    orders, products, warehouses = window.orders, window.products, window.warehouses
    assert orders is not None and products is not None and warehouses is not None

    # Earlier searches and filters in the target tabs.
    orders.search.setText("zzz")
    orders.apply_search()
    orders.payment_filter.setCurrentIndex(1)
    products.search.setText("zzz")
    products.apply_search()
    products.active_filter.setCurrentIndex(2)
    warehouses.search.setText("zzz")
    warehouses.apply_search()
    assert orders.query.search == "zzz" and orders.query.payment_status is not None

    tab.open_list_requested.emit(
        "orders", {"status": "PENDING", "date_from": date(2026, 1, 1), "date_to": date(2026, 1, 31)}
    )
    assert window.tabs.currentWidget() is orders
    query = orders.query
    assert (query.status, query.date_from, query.date_to) == (
        "PENDING", date(2026, 1, 1), date(2026, 1, 31)
    )  # fmt: skip
    assert query.search == "" and orders.search.text() == ""
    assert query.payment_status is None and orders.payment_filter.currentIndex() == 0

    # A sales bar: a period, any status.
    orders.status_filter.setCurrentIndex(orders.status_filter.findData("CANCELLED"))
    day = date(2026, 2, 1)
    tab.open_list_requested.emit("orders", {"date_from": day, "date_to": day})
    assert orders.query.status is None and orders.status_filter.currentIndex() == 0

    with stock.engine.connect() as connection:
        category = connection.execute(
            text("SELECT category_id FROM products WHERE id = :p"), {"p": stock.drill}
        ).scalar_one()
    tab.open_list_requested.emit("products", {"category_id": category})
    assert window.tabs.currentWidget() is products
    assert products.query.category_id == category
    assert products.query.search == "" and products.search.text() == ""
    assert products.query.active is None and products.active_filter.currentIndex() == 0

    # A low-stock row: that warehouse, searched for that item only.
    main = stock.main
    tab.open_list_requested.emit(
        "warehouses",
        {"warehouse_id": main, "product_id": stock.drill, "variant_id": None, "search": "DRILL"},
    )
    assert window.tabs.currentWidget() is warehouses
    qtbot.waitUntil(lambda: warehouses.selected_warehouse() is not None)
    assert warehouses.selected_warehouse().id == main  # type: ignore[union-attr]
    assert warehouses.search.text() == "DRILL"
    assert warehouses.stock_model.query.search == "DRILL"
    # A stock value bar: the warehouse, nothing searched.
    tab.open_list_requested.emit("warehouses", {"warehouse_id": stock.east})
    assert warehouses.selected_warehouse().id == stock.east  # type: ignore[union-attr]
    assert warehouses.search.text() == "" and warehouses.stock_model.query.search == ""
