"""The stock dialogs: every kind of bad input refused at its field, good input saved (stock
and ledger checked through the service), a scanner picking the item, and save-and-next."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.services.inventory import CountResult, StockLevelRow, TransferResult
from erpgo_desktop.services.stock import StockKey
from erpgo_desktop.ui.item_field import no_match_message
from erpgo_desktop.ui.stock_dialogs import (
    AdjustDialog,
    CountDialog,
    ReceiveDialog,
    StockDialog,
    TransferDialog,
)
from erpgo_desktop.ui.tasks import TaskRunner
from tests.ui.stock_support import DRILL_BARCODE, StockWorld, make_stock_world


@pytest.fixture
def stock(engine: Engine, runner: TaskRunner) -> StockWorld:
    # Asks for the runner first, so the runner (which waits for its workers) outlives it.
    return make_stock_world(engine)


D = TypeVar("D", bound=StockDialog)

_open: list[QWidget] = []


@pytest.fixture(autouse=True)
def _forget_dialogs() -> Iterator[None]:
    yield
    _open.clear()


def open_dialog(qtbot: QtBot, dialog: D) -> D:
    qtbot.addWidget(dialog)
    _open.append(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: dialog.ready)
    qtbot.waitUntil(lambda: dialog.isActiveWindow())
    return dialog


def scan(qtbot: QtBot, dialog: StockDialog, code: str) -> None:
    """A barcode scanner: the code's keys and Enter into the item field; the item is chosen
    and the focus moves on to the quantity."""
    field = dialog.item_field
    field.setFocus()
    with qtbot.waitSignal(field.item_chosen, timeout=5000):
        qtbot.keyClicks(field, code)
        qtbot.keyClick(field, Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.quantity.hasFocus)
    item = field.item
    if item is not None and item.track_inventory:
        qtbot.waitUntil(dialog.stock_known)


def type_quantity(qtbot: QtBot, dialog: StockDialog, value: int) -> None:
    dialog.quantity.setFocus()
    dialog.quantity.selectAll()
    qtbot.keyClicks(dialog.quantity, str(value))
    assert dialog.quantity.value() == value


def refused(qtbot: QtBot, dialog: StockDialog, field: str, message: str) -> None:
    """Save; the message shows under `field`, which has the focus; nothing was saved."""
    saves: list[object] = []
    dialog.saved.connect(saves.append)
    dialog.submit()
    qtbot.waitUntil(lambda: not dialog.saving)
    qtbot.waitUntil(lambda: bool(dialog.field_error(field).text()))
    assert dialog.field_error(field).text() == message
    assert dialog.field_error(field).isVisibleTo(dialog)
    qtbot.waitUntil(lambda: dialog.field(field).hasFocus())
    assert saves == []
    dialog.saved.disconnect(saves.append)


def save(qtbot: QtBot, dialog: StockDialog) -> object:
    """Press Enter in the quantity; wait for the saved row."""
    with qtbot.waitSignal(dialog.saved, timeout=10_000) as saved:
        qtbot.keyClick(dialog.quantity, Qt.Key.Key_Return)
    assert dialog.visible_errors() == {}
    return saved.args[0]


def main_key(stock: StockWorld, product: object = None) -> StockKey:
    return StockKey(product or stock.drill, stock.main)  # type: ignore[arg-type]


# -- receive -----------------------------------------------------------------------------


def test_receive_refuses_bad_input_at_the_field(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner
) -> None:
    dialog = open_dialog(
        qtbot, ReceiveDialog(stock.services, runner, stock.clerk, warehouse_id=stock.main)
    )
    assert dialog.warehouse.currentData() == str(stock.main)
    refused(qtbot, dialog, "item", "Scan or type the item.")

    field = dialog.item_field
    field.setFocus()
    with qtbot.waitSignal(field.lookup_failed):
        qtbot.keyClicks(field, "NOPE-1")
        qtbot.keyClick(field, Qt.Key.Key_Return)
    assert dialog.field_error("item").text() == no_match_message("NOPE-1")
    assert field.hasFocus()
    refused(
        qtbot,
        dialog,
        "item",
        "Press Enter to look the code up, or choose one of the suggestions.",
    )

    scan(qtbot, dialog, stock.sku(stock.service))
    refused(
        qtbot,
        dialog,
        "item",
        f"Product {stock.sku(stock.service)} does not track inventory, so it has no stock "
        "to change.",
    )

    field.clear_item()
    scan(qtbot, dialog, DRILL_BARCODE)
    type_quantity(qtbot, dialog, 0)
    refused(qtbot, dialog, "quantity", "The quantity received must be from 1 to 999,999,999.")

    dialog.warehouse.setCurrentIndex(-1)
    type_quantity(qtbot, dialog, 5)
    refused(qtbot, dialog, "warehouse", "Choose a warehouse.")
    assert stock.level(main_key(stock)) == (10, 3)  # nothing was booked


def test_receive_by_scanner_then_save_and_next(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner
) -> None:
    dialog = open_dialog(
        qtbot, ReceiveDialog(stock.services, runner, stock.clerk, warehouse_id=stock.main)
    )
    assert dialog.item_field.hasFocus()
    scan(qtbot, dialog, DRILL_BARCODE)
    assert dialog.stock_label.text().startswith("MAIN: on hand 10 · reserved 3 · sellable 7")
    # The quantity's text is selected: typing replaces the 1.
    qtbot.keyClicks(dialog.quantity, "5")
    dialog.note.setText("PO 4711")
    row = save(qtbot, dialog)
    assert isinstance(row, StockLevelRow) and row.on_hand == 15
    assert stock.level(main_key(stock)) == (15, 3)
    assert stock.ledger(main_key(stock))[0] == ("IN", 5, "PO 4711")
    assert dialog.isVisible()
    assert "Received 5 of" in dialog.last_saved.text()
    # Save and next: the item and quantity are cleared, the focus is back in the item field.
    assert dialog.item_field.item is None and dialog.item_field.text() == ""
    assert dialog.quantity.value() == 1 and dialog.note.text() == ""
    qtbot.waitUntil(dialog.item_field.hasFocus)
    assert not dialog.dirty

    # The next scan: a variant, saved with Ctrl+Enter.
    scan(qtbot, dialog, "SHIRT-RED")
    qtbot.keyClicks(dialog.quantity, "2")
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        qtbot.keyClick(dialog.quantity, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    red = StockKey(stock.shirt, stock.main, stock.red)
    assert stock.level(red) == (7, 0)
    assert stock.ledger(red)[0] == ("IN", 2, "receipt")
    qtbot.waitUntil(dialog.item_field.hasFocus)

    # Escape on a clean dialog closes it.
    qtbot.keyClick(dialog.item_field, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_a_refused_save_keeps_everything_and_can_be_retried(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner
) -> None:
    dialog = open_dialog(
        qtbot, ReceiveDialog(stock.services, runner, stock.clerk, warehouse_id=stock.east)
    )
    scan(qtbot, dialog, DRILL_BARCODE)
    qtbot.keyClicks(dialog.quantity, "4")
    dialog.note.setText("late delivery")
    # Someone closes the warehouse after the dialog listed it.
    with stock.engine.begin() as connection:
        connection.execute(
            text("UPDATE warehouses SET is_active = false WHERE id = :w"), {"w": stock.east}
        )
    refused(qtbot, dialog, "warehouse", "Warehouse EAST is inactive; reactivate it first.")
    assert dialog.isVisible()
    assert dialog.item_field.item is not None and dialog.item_field.item.product_id == stock.drill
    assert (dialog.quantity.value(), dialog.note.text()) == (4, "late delivery")
    assert dialog.warehouse.currentData() == str(stock.east)

    with stock.engine.begin() as connection:
        connection.execute(
            text("UPDATE warehouses SET is_active = true WHERE id = :w"), {"w": stock.east}
        )
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.save_button.click()
    assert stock.level(StockKey(stock.drill, stock.east)) == (6, 0)


def test_enter_in_the_item_field_never_saves(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner
) -> None:
    item = stock.item(DRILL_BARCODE)
    dialog = open_dialog(
        qtbot,
        ReceiveDialog(stock.services, runner, stock.clerk, warehouse_id=stock.main, item=item),
    )
    # Given an item, the dialog starts in the quantity.
    qtbot.waitUntil(dialog.quantity.hasFocus)
    saves: list[object] = []
    dialog.saved.connect(saves.append)
    dialog.item_field.setFocus()
    qtbot.keyClick(dialog.item_field, Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.quantity.hasFocus)
    assert saves == [] and not dialog.saving


# -- adjust ------------------------------------------------------------------------------


def test_adjust_needs_a_reason_and_a_change_and_takes_no_more_than_sellable(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner
) -> None:
    dialog = open_dialog(
        qtbot, AdjustDialog(stock.services, runner, stock.clerk, warehouse_id=stock.main)
    )
    scan(qtbot, dialog, DRILL_BARCODE)
    refused(
        qtbot,
        dialog,
        "quantity",
        "An adjustment adds or takes away at least one unit; 0 changes nothing.",
    )
    type_quantity(qtbot, dialog, -8)
    refused(
        qtbot,
        dialog,
        "quantity",
        f"At most 7 of {stock.sku(stock.drill)} can be taken away in MAIN: on hand 10, "
        "reserved for orders 3.",
    )
    type_quantity(qtbot, dialog, -2)
    refused(qtbot, dialog, "reason", "Say why the stock is adjusted (damage, loss, found, ...).")
    dialog.reason.setFocus()
    qtbot.keyClicks(dialog.reason, "damaged in transit")
    with qtbot.waitSignal(dialog.saved, timeout=10_000) as saved:
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert isinstance(saved.args[0], StockLevelRow)
    assert stock.level(main_key(stock)) == (8, 3)
    assert stock.ledger(main_key(stock))[0] == ("ADJUST", -2, "damaged in transit")
    # The reason stays for the next write-off; the item and the change are cleared.
    assert dialog.reason.currentText() == "damaged in transit"
    assert dialog.quantity.value() == 0 and dialog.item_field.item is None
    qtbot.waitUntil(dialog.item_field.hasFocus)


def test_adjust_offers_inactive_warehouses(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, AdjustDialog(stock.services, runner, stock.clerk))
    assert dialog.warehouse.findData(str(stock.shut)) >= 0
    receive = open_dialog(qtbot, ReceiveDialog(stock.services, runner, stock.clerk))
    assert receive.warehouse.findData(str(stock.shut)) < 0
    assert receive.warehouse.currentIndex() == -1  # two to choose from: none is assumed


# -- transfer ----------------------------------------------------------------------------


def test_transfer_between_two_warehouses_up_to_what_is_sellable(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner
) -> None:
    dialog = open_dialog(
        qtbot, TransferDialog(stock.services, runner, stock.clerk, warehouse_id=stock.main)
    )
    assert dialog.warehouse.currentData() == str(stock.main)
    assert dialog.destination.currentData() == str(stock.east)  # the other of the two
    scan(qtbot, dialog, DRILL_BARCODE)
    assert dialog.stock_label.text() == (
        "From MAIN: on hand 10 · reserved 3 · sellable 7\n"
        "To EAST: on hand 2 · reserved 0 · sellable 2"
    )
    type_quantity(qtbot, dialog, 0)
    refused(qtbot, dialog, "quantity", "The quantity to transfer must be from 1 to 999,999,999.")
    type_quantity(qtbot, dialog, 8)
    refused(
        qtbot,
        dialog,
        "quantity",
        f"Only 7 of {stock.sku(stock.drill)} can be moved from MAIN: that is what is "
        "sellable there.",
    )
    dialog.destination.setCurrentIndex(dialog.destination.findData(str(stock.main)))
    type_quantity(qtbot, dialog, 4)
    refused(qtbot, dialog, "destination_warehouse", "A transfer needs two different warehouses.")
    dialog.destination.setCurrentIndex(dialog.destination.findData(str(stock.east)))

    result = save(qtbot, dialog)
    assert isinstance(result, TransferResult) and result.quantity == 4
    assert stock.level(main_key(stock)) == (6, 3)
    assert stock.level(StockKey(stock.drill, stock.east)) == (6, 0)
    out = stock.ledger(main_key(stock))[0]
    into = stock.ledger(StockKey(stock.drill, stock.east))[0]
    assert out == ("TRANSFER", -4, "transfer to EAST")
    assert into == ("TRANSFER", 4, "transfer from MAIN")
    qtbot.waitUntil(dialog.item_field.hasFocus)
    assert dialog.item_field.item is None and dialog.quantity.value() == 1


# -- count -------------------------------------------------------------------------------


def test_count_shows_the_difference_and_books_it(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner
) -> None:
    dialog = open_dialog(
        qtbot, CountDialog(stock.services, runner, stock.clerk, warehouse_id=stock.main)
    )
    scan(qtbot, dialog, DRILL_BARCODE)
    assert dialog.quantity.text().strip() == ""  # nothing counted yet, not 0
    refused(qtbot, dialog, "quantity", "Type the quantity counted (0 when none).")
    type_quantity(qtbot, dialog, 2)
    assert dialog.difference.text() == "-8 will be booked (on hand 10)."
    refused(
        qtbot,
        dialog,
        "quantity",
        f"2 counted of {stock.sku(stock.drill)} in MAIN is less than the 3 reserved for "
        "confirmed orders; cancel or reassign those orders first.",
    )
    type_quantity(qtbot, dialog, 12)
    assert dialog.difference.text() == "+2 will be booked (on hand 10)."
    result = save(qtbot, dialog)
    assert isinstance(result, CountResult) and result.difference == 2
    assert stock.level(main_key(stock)) == (12, 3)
    assert stock.ledger(main_key(stock))[0] == ("ADJUST", 2, "count")
    assert "+2 booked" in dialog.last_saved.text()
    qtbot.waitUntil(dialog.item_field.hasFocus)
    assert dialog.quantity.value() == -1


def test_preset_item_and_warehouse_show_the_stock_at_once(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner
) -> None:
    item = stock.item("SHIRT-RED")
    dialog = open_dialog(
        qtbot,
        CountDialog(stock.services, runner, stock.clerk, warehouse_id=stock.main, item=item),
    )
    qtbot.waitUntil(dialog.stock_known)
    assert dialog.stock_label.text() == "MAIN: on hand 5 · reserved 0 · sellable 5"
    assert dialog.item_field.text() == "SHIRT-RED — " + item.name
    qtbot.waitUntil(dialog.quantity.hasFocus)
    # Every field is reachable by Tab, in order.
    order = [dialog.warehouse, dialog.item_field, dialog.quantity, dialog.note]
    dialog.warehouse.setFocus()
    qtbot.waitUntil(dialog.warehouse.hasFocus)
    for expected in order[1:]:
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
        qtbot.waitUntil(expected.hasFocus)


@pytest.mark.parametrize("kind", [ReceiveDialog, AdjustDialog, TransferDialog, CountDialog])
def test_each_field_has_its_own_mnemonic(
    qtbot: QtBot, stock: StockWorld, runner: TaskRunner, kind: type[StockDialog]
) -> None:
    dialog = open_dialog(qtbot, kind(stock.services, runner, stock.clerk))
    fields = [dialog.field(name) for name in dialog.field_names]
    labels = [label for label in dialog.findChildren(QLabel) if label.buddy() in fields]
    # Every field has a label that jumps to it ...
    assert {label.buddy() for label in labels} == set(fields)
    # ... with a letter of its own, not taken by another label or a button.
    texts = [label.text() for label in labels]
    texts += [dialog.save_button.text(), dialog.cancel_button.text()]
    letters = [text[text.index("&") + 1].lower() for text in texts if "&" in text]
    assert len(letters) == len(texts) and len(set(letters)) == len(letters), texts
