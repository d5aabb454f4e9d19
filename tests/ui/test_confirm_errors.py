"""Confirming an order when stock is short (issue 12, point 2): the dialog stays whole
(title, Confirm button, no "Saving failed"), names each short line with what every
warehouse has, starts at a warehouse that has everything, offers it (or a split) in one
click, and its error goes once another warehouse is chosen."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.ui.badges import alert_colour
from erpgo_desktop.ui.order_actions import SPLIT, ConfirmOrderDialog
from erpgo_desktop.ui.order_dialog import OrderDialog
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.test_orders_support import World, world
from tests.ui.test_order_dialog import (
    action_dialog,
    alt,
    focus,
    open_order,
    press,
    services,
    sku_of,
)

__all__ = ["services", "world"]  # fixtures

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


def open_confirm(
    qtbot: QtBot,
    services: Services,
    runner: TaskRunner,
    acting: CurrentUser,
    order_id: uuid.UUID,
) -> tuple[OrderDialog, ConfirmOrderDialog]:
    dialog = open_order(qtbot, services, runner, acting, order_id)
    alt(qtbot, "c")
    confirm = action_dialog(qtbot, dialog, ConfirmOrderDialog)
    assert isinstance(confirm, ConfirmOrderDialog)
    # The figures read again from the service on opening.
    qtbot.waitUntil(lambda: runner.pending_count == 0)
    return dialog, confirm


def choose_warehouse(qtbot: QtBot, confirm: ConfirmOrderDialog, code: str) -> None:
    """From the keyboard: Home, then Down until the choice is `code`'s."""
    assert focus() is confirm.warehouse
    press(qtbot, Qt.Key.Key_Home)
    for _ in range(confirm.warehouse.count()):
        if confirm.warehouse.currentText().startswith(code):
            return
        press(qtbot, Qt.Key.Key_Down)
    raise AssertionError(f"no choice {code}")


def cell(confirm: ConfirmOrderDialog, row: int, code: str) -> str:
    table = confirm.table
    for column in range(table.columnCount()):
        header = table.horizontalHeaderItem(column)
        if header is not None and header.text().lstrip("▸ ") == code:
            item = table.item(row, column)
            assert item is not None
            return item.text()
    raise AssertionError(f"no column {code}")


def test_a_refused_confirm_keeps_its_dialog_and_offers_the_warehouse_that_has_it(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    product = world.product(stock={world.main: 2, world.east: 5})
    sku = sku_of(world, product)
    order = world.pending([(product, 5)])
    dialog, confirm = open_confirm(qtbot, services, runner, world.manager, order.id)

    # It starts at the warehouse that has everything, and says so.
    assert confirm.warehouse.currentData() == world.east
    assert confirm.warehouse.currentText().endswith("· has every line")
    assert confirm.fit.text() == "Every line is in stock there."
    assert not confirm.suggest_button.isVisibleTo(confirm)

    # Choosing the short one: the table marks it, in words as well as red.
    choose_warehouse(qtbot, confirm, "MAIN")
    assert confirm.warehouse.currentText().endswith("· short of 1 line")
    assert cell(confirm, 0, "MAIN") == "2 ✗" and cell(confirm, 0, "EAST") == "5"
    short = confirm.table.item(0, 2 + [w.code for w in confirm.options.warehouses].index("MAIN"))
    assert short is not None
    assert short.foreground().color() == alert_colour(confirm.table.palette())
    assert confirm.fit.text() == f"{sku}: 5 wanted, 2 sellable"
    assert confirm.suggestion.text() == "EAST has every line."
    assert confirm.suggest_button.text() == "Co&nfirm from EAST"

    title = confirm.windowTitle()
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not confirm.saving and confirm.visible_errors() != {})

    # Refused: the dialog is what it was, the message is at the warehouse choice.
    assert confirm.isVisible() and confirm.windowTitle() == title
    assert confirm.save_button.text() == "&Confirm"
    assert not confirm.banner.isVisibleTo(confirm)
    assert set(confirm.visible_errors()) == {"warehouse_id"}
    assert confirm.visible_errors()["warehouse_id"].startswith(
        f"Nothing was reserved: MAIN has too little of {sku} now"
    )
    assert confirm.field_error("warehouse_id").isVisibleTo(confirm)
    assert services.orders.get_order(world.admin, order.id).status == "PENDING"

    # Another warehouse: the error goes at once.
    choose_warehouse(qtbot, confirm, "EAST")
    assert confirm.visible_errors() == {}

    choose_warehouse(qtbot, confirm, "MAIN")
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        confirm.suggest_button.click()  # one click: EAST, confirmed
    qtbot.waitUntil(lambda: dialog.row is not None and dialog.row.status == "CONFIRMED")
    assert world.stock(product, world.east) == (5, 5)
    assert world.stock(product, world.main) == (2, 0)


def test_a_refusal_shows_the_stock_as_it_is_then_and_offers_what_still_has_it(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    product = world.product(stock={world.main: 5, world.east: 6})
    sku = sku_of(world, product)
    order = world.pending([(product, 5)])
    dialog, confirm = open_confirm(qtbot, services, runner, world.manager, order.id)
    assert confirm.warehouse.currentData() == world.east  # first of those with everything

    world.confirmed([(product, 3)], world.east)  # someone else, meanwhile
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not confirm.saving and confirm.visible_errors() != {})

    assert confirm.visible_errors()["warehouse_id"].startswith(
        f"Nothing was reserved: EAST has too little of {sku} now"
    )
    assert cell(confirm, 0, "EAST") == "3 ✗"
    assert confirm.fit.text() == f"{sku}: 5 wanted, 3 sellable"
    assert confirm.warehouse.currentData() == world.east  # the choice stays as it was
    assert confirm.suggestion.text() == "MAIN has every line."
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        confirm.suggest_button.click()
    assert world.stock(product, world.main) == (5, 5)


def test_when_no_single_warehouse_has_everything_the_split_is_the_choice(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    first = world.product(stock={world.main: 3})
    second = world.product(stock={world.main: 1, world.east: 4})
    order = world.pending([(first, 3), (second, 4)])
    first_sku, second_sku = (line.sku for line in order.lines)
    dialog, confirm = open_confirm(qtbot, services, runner, world.manager, order.id)

    assert confirm.warehouse.currentData() == SPLIT
    assert confirm.warehouse.currentText() == "Split across EAST and MAIN · has every line"
    assert confirm.fit.text() == (
        f"Reserved from several warehouses:\n{first_sku}: MAIN 3\n{second_sku}: EAST 4"
    )
    choose_warehouse(qtbot, confirm, "MAIN")
    assert confirm.suggestion.text() == "No single warehouse has every line; together they do."

    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        confirm.suggest_button.click()
    assert sorted(q for _line, _w, q in world.reservations(order.id)) == [3, 4]
    assert world.stock(second, world.east) == (4, 4)


def test_lines_no_warehouse_has_enough_of_are_named_with_the_total(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    product = world.product(stock={world.main: 2, world.east: 1})
    sku = sku_of(world, product)
    order = world.pending([(product, 5)])
    _dialog, confirm = open_confirm(qtbot, services, runner, world.sales, order.id)

    assert confirm.warehouse.currentData() == world.main  # the one that has the most
    assert confirm.suggestion.text() == (
        f"No warehouse, nor all together, has enough of: {sku} (5 wanted, 3 in all "
        "warehouses). Receive or move stock first, or change the order."
    )
    assert not confirm.suggest_button.isVisibleTo(confirm)
