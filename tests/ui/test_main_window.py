"""The main window's Products tab: real rows, search and keyboard shortcuts."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import WORKSTATION
from erpgo_desktop.services import build_services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.catalog import ProductCatalogService, ProductCount, ProductSort
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.ui.main_window import MainWindow, products_status
from erpgo_desktop.ui.product_table import CATEGORY, NAME, PRICE, SKU
from erpgo_desktop.ui.tasks import TaskRunner
from tests.ui.seed import seed_many

USER = CurrentUser(
    id=uuid.uuid4(),
    username="boss",
    full_name="Ada Boss",
    roles=("admin",),
    permissions=frozenset({"*"}),
)


@pytest.fixture
def window(
    qtbot: QtBot,
    engine: Engine,
    catalog: ProductCatalogService,
    runner: TaskRunner,
    tmp_path: Path,
) -> MainWindow:
    seed_many(engine, 260)
    main = MainWindow(
        services=build_services(engine),
        runner=runner,
        user=USER,
        location_description="test database",
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    main.activateWindow()
    qtbot.waitUntil(lambda: main.products.model.rowCount() > 0)
    qtbot.waitUntil(lambda: main.status_label.text() != "Loading…")
    return main


def test_the_window_opens_on_the_products_tab(window: MainWindow) -> None:
    assert window.windowTitle() == "ERPGo Desktop"
    titles = [window.tabs.tabText(i).replace("&", "") for i in range(window.tabs.count())]
    assert titles == ["Products", "Orders", "Customers", "Warehouses", "Reports", "Dashboard"]
    assert window.tabs.currentWidget() is window.products
    model = window.products.model
    assert model.rowCount() >= 200
    assert model.index(0, SKU).data() == "SKU-00001"
    assert window.status_label.text() == "260 products"
    assert window.user_label.text() == "Signed in as Ada Boss"
    assert window.database_label.text() == "Database: test database"
    assert window.products.search.placeholderText() == "Search SKU, name or barcode (Ctrl+F)"


def test_ctrl_f_focuses_the_search_and_typing_filters(qtbot: QtBot, window: MainWindow) -> None:
    products = window.products
    qtbot.waitUntil(lambda: QApplication.focusWidget() is products.table)

    qtbot.keyClick(products.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is products.search

    with qtbot.waitSignal(products.model.modelReset, timeout=2000):
        qtbot.keyClicks(products.search, "widget 7")  # reloads once, after a short pause
    qtbot.waitUntil(lambda: window.status_label.text() == "20 matches")
    names = {products.model.index(row, NAME).data() for row in range(products.model.rowCount())}
    assert names == {"Widget 7"}

    qtbot.keyClick(products.search, Qt.Key.Key_Escape)  # Esc clears the search
    assert products.search.text() == ""
    qtbot.waitUntil(lambda: window.status_label.text() == "260 products")

    qtbot.keyClick(products.search, Qt.Key.Key_Down)  # Down goes to the results
    assert QApplication.focusWidget() is products.table
    assert products.table.currentIndex().row() == 0


def test_clicking_headers_sorts_only_indexed_columns(qtbot: QtBot, window: MainWindow) -> None:
    products = window.products
    header = products.table.horizontalHeader()

    products.table.sortByColumn(PRICE, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: products.model.query.sort is ProductSort.PRICE)
    qtbot.waitUntil(lambda: not products.model.is_loading and products.model.rowCount() > 0)
    assert products.model.query.descending
    assert products.model.index(0, PRICE).data() == "7.50"

    products.table.sortByColumn(CATEGORY, Qt.SortOrder.AscendingOrder)
    assert header.sortIndicatorSection() == PRICE  # the arrow stays where the sort is
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert products.model.query.sort is ProductSort.PRICE


@pytest.mark.parametrize(
    ("loading", "count", "search", "loaded", "text"),
    [
        (True, None, "", 0, "Loading…"),
        (False, ProductCount(0, exact=True), "", 0, "No products yet"),
        (False, ProductCount(1, exact=True), "", 1, "1 product"),
        (False, ProductCount(1_234, exact=True), "", 200, "1,234 products"),
        (True, ProductCount(10_000, exact=False), "", 200, "10,000+ products — loading…"),
        (False, ProductCount(10_000, exact=False), "drill", 200, "10,000+ matches"),
        (False, ProductCount(0, exact=True), "drill", 0, "No products match “drill”"),
    ],
)
def test_status_texts(
    loading: bool, count: ProductCount | None, search: str, loaded: int, text: str
) -> None:
    assert products_status(loading, count, search, loaded) == text


class NoticingDialog(QDialog):
    """An open record window: notes each change it is told about."""

    def __init__(self) -> None:
        super().__init__()
        self.noticed: list[str] = []

    def notice_change(self, table: str, ids: object) -> None:
        self.noticed.append(table)


def test_open_records_hear_of_others_changes_not_of_this_programs_own(
    qtbot: QtBot, window: MainWindow
) -> None:
    """After your own partial shipment the order window must not say that someone else
    changed it: only changes made elsewhere reach the open records."""
    dialog = NoticingDialog()
    qtbot.addWidget(dialog)
    window._watch(dialog, None)  # as show_window() does, without raising it offscreen
    ours = Change("orders", "UPDATE", (uuid.uuid4(),), origin=WORKSTATION)
    theirs = Change("orders", "UPDATE", (uuid.uuid4(),), origin="erpgo-desktop 0123456789ab")

    window.apply_change(ours)
    assert dialog.noticed == []
    # What a dialog's save refreshes at once, before the notification comes back.
    window._refresh_areas("orders")
    assert dialog.noticed == []
    window.apply_change(theirs)
    assert dialog.noticed == ["orders"]
