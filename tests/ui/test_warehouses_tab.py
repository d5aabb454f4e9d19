"""The Warehouses tab: a warehouse's stock, the ledger of the selected row, search, the
stock actions by permission (preset with the selection), live refresh, and its models
under qtmodeltester."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.services.stock import StockKey
from erpgo_desktop.ui.stock_dialogs import AdjustDialog, ReceiveDialog
from erpgo_desktop.ui.tasks import TaskRunner
from erpgo_desktop.ui.warehouses_tab import WarehousesTab
from tests.ui.stock_support import StockWorld, make_stock_world


@pytest.fixture
def stock(engine: Engine, runner: TaskRunner) -> StockWorld:
    # Asks for the runner first, so the runner (which waits for its workers) outlives it.
    return make_stock_world(engine)


_tabs: list[WarehousesTab] = []


@pytest.fixture(autouse=True)
def _forget_tabs() -> Iterator[None]:
    yield
    _tabs.clear()


def make_tab(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner, user: CurrentUser | None = None
) -> WarehousesTab:
    tab = WarehousesTab(stock.services, runner, user or stock.clerk)
    qtbot.addWidget(tab)
    _tabs.append(tab)
    tab.resize(1200, 700)
    tab.show()
    # Warehouses come by code: EAST, MAIN, SHUT; the first is selected.
    qtbot.waitUntil(lambda: tab.warehouse_model.rowCount() == 3)
    qtbot.waitUntil(lambda: tab.selected_warehouse() is not None)
    return tab


def show_main(qtbot: QtBot, tab: WarehousesTab, stock: StockWorld) -> None:
    assert tab.select_warehouse(stock.main)
    qtbot.waitUntil(lambda: tab.stock_model.count is not None and not tab.stock_model.is_loading)


def skus(tab: WarehousesTab) -> list[str]:
    return [tab.stock_model.row_at(i).sku for i in range(tab.stock_model.rowCount())]


def select_sku(qtbot: QtBot, tab: WarehousesTab, sku: str) -> None:
    tab.table.selectRow(skus(tab).index(sku))
    qtbot.waitUntil(
        lambda: tab.ledger_model.query.key is not None and not tab.ledger_model.is_loading
    )


def ledger(tab: WarehousesTab) -> list[tuple[str, int]]:
    model = tab.ledger_model
    return [
        (model.row_at(i).transaction_type, model.row_at(i).quantity)
        for i in range(model.rowCount())
    ]


def test_lists_a_warehouses_stock_and_the_ledger_of_the_selected_row(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner
) -> None:
    tab = make_tab(qtbot, stock, runner)
    assert [tab.warehouse_model.row_at(i).code for i in range(3)] == ["EAST", "MAIN", "SHUT"]
    assert tab.warehouse_model.data(tab.warehouse_model.index(2, 2)) == "No"  # SHUT inactive
    qtbot.waitUntil(lambda: skus(tab) == [stock.sku(stock.drill)])  # EAST: the drill's 2
    show_main(qtbot, tab, stock)
    drill = stock.sku(stock.drill)
    assert skus(tab) == sorted([drill, "SHIRT-RED"])
    assert tab.status_text() == "2 stock rows in MAIN"
    row = skus(tab).index(drill)
    shown = [tab.stock_model.data(tab.stock_model.index(row, c)) for c in range(5)]
    assert shown == [drill, "Cordless drill", "10", "3", "7"]
    right = tab.stock_model.data(tab.stock_model.index(row, 2), Qt.ItemDataRole.TextAlignmentRole)
    assert right & Qt.AlignmentFlag.AlignRight

    assert tab.ledger_model.rowCount() == 0  # nothing selected, no ledger
    stock.services.inventory.adjust(stock.clerk, StockKey(stock.drill, stock.main), -1, "lost")
    tab.stock_model.refresh()
    qtbot.waitUntil(lambda: not tab.stock_model.is_loading)
    select_sku(qtbot, tab, drill)
    assert ledger(tab) == [("ADJUST", -1), ("IN", 10)]
    # Stored as typed; shown as the start of a sentence, the type in words.
    assert tab.ledger_model.data(tab.ledger_model.index(0, 3)) == "Lost"
    assert tab.ledger_model.data(tab.ledger_model.index(0, 1)) == "Adjust"
    assert "Cordless drill in MAIN" in tab.ledger_title.text()
    # The variant's own ledger, not its product's.
    select_sku(qtbot, tab, "SHIRT-RED")
    assert ledger(tab) == [("IN", 5)]


def test_search_filters_the_stock(qtbot: QtBot, stock: StockWorld, runner: TaskRunner) -> None:
    tab = make_tab(qtbot, stock, runner)
    show_main(qtbot, tab, stock)
    tab.focus_search()
    qtbot.keyClicks(tab.search, "red")
    qtbot.keyClick(tab.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: skus(tab) == ["SHIRT-RED"])
    qtbot.waitUntil(lambda: tab.status_text() == "1 stock rows in MAIN match “red”")
    tab.search.setText("no such thing")
    tab.apply_search()
    qtbot.waitUntil(lambda: tab.stock_model.count is not None and tab.stock_model.count.count == 0)
    assert skus(tab) == []
    assert tab.status_text() == "Nothing in MAIN matches “no such thing”"
    # Escape clears the search and lists everything again.
    qtbot.keyClick(tab.search, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: len(skus(tab)) == 2)


def test_actions_follow_the_permissions(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner
) -> None:
    clerk = make_tab(qtbot, stock, runner)
    assert sorted(clerk.buttons) == ["adjust", "count", "receive", "transfer"]
    sales = make_tab(qtbot, stock, runner, stock.sales)
    assert sales.buttons == {}
    assert sales.findChild(type(clerk.buttons["receive"]), "receive_button") is None
    sales.open_stock_dialog(ReceiveDialog)  # not granted: nothing opens
    assert sales.last_dialog is None


def test_an_action_opens_its_dialog_preset_and_the_lists_follow_the_save(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner
) -> None:
    tab = make_tab(qtbot, stock, runner)
    show_main(qtbot, tab, stock)
    select_sku(qtbot, tab, "SHIRT-RED")
    tab.buttons["adjust"].click()
    qtbot.waitUntil(lambda: tab.last_dialog is not None and tab.last_dialog.ready)
    dialog = tab.last_dialog
    assert isinstance(dialog, AdjustDialog)
    assert dialog.warehouse.currentData() == str(stock.main)
    item = dialog.item_field.item
    assert item is not None and item.variant_id == stock.red
    qtbot.waitUntil(dialog.stock_known)
    dialog.quantity.setValue(-2)
    dialog.reason.setEditText("torn")
    with qtbot.waitSignal(tab.stock_saved, timeout=10_000):
        dialog.submit()
    red = skus(tab).index("SHIRT-RED")
    qtbot.waitUntil(lambda: tab.stock_model.data(tab.stock_model.index(red, 2)) == "3")
    qtbot.waitUntil(lambda: ledger(tab) == [("ADJUST", -2), ("IN", 5)])
    # The selection stayed on the same row through the refresh.
    assert tab.selected_stock_row() is not None
    assert tab.selected_stock_row().variant_id == stock.red  # type: ignore[union-attr]
    dialog.close()


def test_changes_from_elsewhere_reload_the_affected_views(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner
) -> None:
    tab = make_tab(qtbot, stock, runner)
    show_main(qtbot, tab, stock)
    drill = stock.sku(stock.drill)
    select_sku(qtbot, tab, drill)
    # Another workstation receives the saw into MAIN and counts the drill.
    inventory = stock.services.inventory
    inventory.receive(stock.clerk, StockKey(stock.saw, stock.main), 4)
    inventory.count(stock.clerk, StockKey(stock.drill, stock.main), 9)
    tab.refresh_rows(Change("product_inventory", "UPDATE", (stock.saw, stock.drill)))
    qtbot.waitUntil(lambda: stock.sku(stock.saw) in skus(tab))
    qtbot.waitUntil(lambda: ledger(tab) == [("ADJUST", -1), ("IN", 10)])
    row = skus(tab).index(drill)
    assert tab.stock_model.data(tab.stock_model.index(row, 2)) == "9"
    assert tab.selected_stock_row() is not None and tab.selected_stock_row().sku == drill  # type: ignore[union-attr]

    # A change of another product's stock leaves the ledger alone, and an unrelated table
    # changes nothing.
    loads: list[object] = []
    tab.ledger_model.refreshed.connect(lambda: loads.append(1))
    tab.apply_change(Change("customers", "UPDATE", None))
    tab.apply_change(Change("product_inventory", "UPDATE", (stock.glue,)))
    qtbot.waitUntil(lambda: not tab.stock_model.is_loading)
    assert runner.wait(5000)
    qtbot.waitUntil(lambda: runner.pending_count == 0)
    assert loads == []


def test_the_models_pass_the_model_tester(
    qtbot: QtBot, qtmodeltester: ModelTester, stock: StockWorld, runner: TaskRunner
) -> None:
    tab = make_tab(qtbot, stock, runner)
    show_main(qtbot, tab, stock)
    select_sku(qtbot, tab, stock.sku(stock.drill))
    qtmodeltester.check(tab.warehouse_model)
    qtmodeltester.check(tab.stock_model)
    qtmodeltester.check(tab.ledger_model)
    assert tab.stock_model.rowCount(tab.stock_model.index(0, 0)) == 0
    assert tab.ledger_model.index(0, 0).parent() == QModelIndex()
