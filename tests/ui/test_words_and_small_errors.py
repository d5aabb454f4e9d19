"""Issue 12, point 7 and the small defects: statuses in words with a colour badge in the
lists (readable on light and dark palettes, the words still there), the order window's
Save button on a submitted order, the address label, and a unit price with more decimals
than the column keeps."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from erpgo_desktop.services import Services
from erpgo_desktop.ui.badges import BADGE_ROLE, DARK, LIGHT, BadgeDelegate
from erpgo_desktop.ui.order_dialog import OrderDialog
from erpgo_desktop.ui.order_lines import OrderLinesModel
from erpgo_desktop.ui.orders_tab import PAYMENT, STATUS, OrdersTab
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.test_orders_support import World, world
from tests.ui.test_order_dialog import focus, open_order, press, services, type_text

__all__ = ["services", "world"]  # fixtures

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


def badge_pixel(tab: OrdersTab, row: int, column: int) -> QColor:
    """The colour just inside the left end of the cell's badge, as drawn."""
    table = tab.table
    rect = table.visualRect(tab.model.index(row, column))
    image = table.viewport().grab().toImage()
    return image.pixelColor(rect.left() + 5, rect.center().y() + 1)


def test_order_statuses_read_as_words_on_a_badge_in_light_and_dark(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    order = world.pending([(world.product(stock={world.main: 1}), 1)])
    tab = OrdersTab(services, runner, world.manager)
    qtbot.addWidget(tab)
    tab.resize(1200, 400)
    tab.show()
    qtbot.waitExposed(tab)
    qtbot.waitUntil(lambda: not tab.model.is_loading and tab.model.count is not None)
    row = next(
        i
        for i in range(tab.model.rowCount())
        if tab.model.row_at(i).order_number == order.order_number
    )
    status, payment = tab.model.index(row, STATUS), tab.model.index(row, PAYMENT)
    # Words, one wording everywhere; the tone only adds to them.
    assert (status.data(), payment.data()) == ("Pending", "Pending")
    assert (status.data(BADGE_ROLE), payment.data(BADGE_ROLE)) == ("info", "warning")
    assert isinstance(tab.table.itemDelegateForColumn(STATUS), BadgeDelegate)
    assert isinstance(tab.table.itemDelegateForColumn(PAYMENT), BadgeDelegate)
    assert tab.table.itemDelegateForColumn(0) is not tab.table.itemDelegateForColumn(STATUS)

    tab.table.clearSelection()
    light = tab.table.palette()
    light.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    light.setColor(QPalette.ColorRole.AlternateBase, QColor("#f4f4f4"))
    tab.table.setPalette(light)
    assert badge_pixel(tab, row, STATUS) == QColor(LIGHT["info"][0])
    assert badge_pixel(tab, row, PAYMENT) == QColor(LIGHT["warning"][0])

    dark = tab.table.palette()
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.AlternateBase, QColor("#262626"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#eeeeee"))
    tab.table.setPalette(dark)
    assert badge_pixel(tab, row, STATUS) == QColor(DARK["info"][0])


def test_an_order_line_s_status_is_in_words_with_its_badge(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    order = world.confirmed([(world.product(stock={world.main: 4}), 2)])
    dialog = open_order(qtbot, services, runner, world.manager, order.id)
    index = dialog.lines_model.index(0, OrderLinesModel.STATUS)
    assert index.data() == "Confirmed; reserved MAIN 2"
    assert index.data(BADGE_ROLE) == "info"
    assert isinstance(dialog.table.itemDelegateForColumn(OrderLinesModel.STATUS), BadgeDelegate)
    assert dialog.status_label.text().startswith(f"Order {order.order_number} · Confirmed")


def test_save_draft_is_for_drafts_and_a_submitted_order_saves_only_changes(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    product = world.product(stock={world.main: 5})
    draft = world.draft([(product, 1)])
    dialog = open_order(qtbot, services, runner, world.sales, draft.id)
    assert dialog.save_button.text() == "Save &draft" and dialog.save_button.isEnabled()
    dialog.close()

    pending = world.pending([(product, 1)])
    dialog = open_order(qtbot, services, runner, world.sales, pending.id)
    assert dialog.save_button.text() == "&Save changes"
    assert not dialog.save_button.isEnabled()  # nothing to save on a pending order
    dialog.notes.setFocus()
    type_text(qtbot, "Leave at the door")
    assert dialog.save_button.isEnabled()
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        press(qtbot, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not dialog.saving)
    assert dialog.row is not None and dialog.row.notes == "Leave at the door"
    assert dialog.row.status == "PENDING"
    assert dialog.save_button.text() == "&Save changes" and not dialog.save_button.isEnabled()


def test_the_first_name_label_has_one_colon(
    qtbot: QtBot, services: Services, runner: TaskRunner, world: World
) -> None:
    dialog = OrderDialog(services, runner, world.sales)
    qtbot.addWidget(dialog)
    captions = {
        label.text()
        for label in dialog.findChildren(QLabel)
        if label.buddy() is dialog.address_fields["shipping"]["first_name"]
    }
    assert captions == {"First &name:"}
    assert not [label.text() for label in dialog.findChildren(QLabel) if "::" in label.text()]


def test_a_unit_price_with_five_decimals_is_refused_with_the_rounded_figure(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    draft = world.draft([(world.product("10.00", stock={world.main: 5}), 1)])
    dialog = open_order(qtbot, services, runner, world.sales, draft.id)
    sku = draft.lines[0].sku
    dialog.table.setFocus()
    dialog.table.setCurrentIndex(dialog.lines_model.index(0, OrderLinesModel.PRICE))
    press(qtbot, Qt.Key.Key_F2)
    editor = focus()
    editor.selectAll()  # type: ignore[attr-defined]
    type_text(qtbot, "12.34567")
    assert editor.text() == "12.34567"  # type: ignore[attr-defined]  # not cut to 12.34
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.visible_errors() != {})  # the editor commits queued

    assert dialog.visible_errors() == {
        "lines": f"{sku}: A unit price has at most two decimals (cents): type 12.35 "
        "(12.34567 rounded) or the amount you mean."
    }
    assert dialog.lines_model.line(0).unit_price == draft.lines[0].unit_price
