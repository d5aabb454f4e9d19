"""The order dialog, driven from the keyboard against a real database.

Keys go where the focus is, as a person's would: `press` and `type_text` send them to the
application's focus widget, so a test also proves that the focus moves where the next key
is expected (after picking the customer, into the item field; after a save, back).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from erpgo_desktop.domain.customers import CustomerDraft
from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.customers import CustomerRow
from erpgo_desktop.services.orders import OrderDetail
from erpgo_desktop.ui.order_actions import ConfirmOrderDialog, ShipOrderDialog
from erpgo_desktop.ui.order_dialog import OrderDialog
from erpgo_desktop.ui.order_lines import OrderLinesModel
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.test_orders_support import World, unique, world

__all__ = ["world"]  # the module-scoped fixture

# The completer's popup asks the offscreen platform for things it cannot do.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def services(world: World, runner: TaskRunner) -> Iterator[Services]:
    yield build_services(world.engine)
    assert runner.wait(10_000)


# --- the keyboard ------------------------------------------------------------------------


def focus() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def press(
    qtbot: QtBot, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    qtbot.keyClick(focus(), key, modifier)


def type_text(qtbot: QtBot, typed: str) -> None:
    qtbot.keyClicks(focus(), typed)


def alt(qtbot: QtBot, letter: str) -> None:
    press(qtbot, getattr(Qt.Key, f"Key_{letter.upper()}"), ALT)


def show(qtbot: QtBot, dialog: OrderDialog) -> None:
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    qtbot.waitUntil(lambda: not dialog.loading)


def wait_idle(qtbot: QtBot, dialog: OrderDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.saving and not dialog.lookups_pending, timeout=10_000)


# --- rows --------------------------------------------------------------------------------


def sku_of(world: World, product: uuid.UUID) -> str:
    with world.engine.connect() as connection:
        sku: str = connection.execute(
            text("SELECT sku FROM products WHERE id = :p"), {"p": product}
        ).scalar_one()
    return sku


def give_barcode(world: World, product: uuid.UUID) -> str:
    barcode = f"40{uuid.uuid4().int % 10**11:011d}"
    with world.engine.begin() as connection:
        connection.execute(
            text("UPDATE products SET barcode = :b WHERE id = :p"), {"b": barcode, "p": product}
        )
    return barcode


def new_customer(
    services: Services, acting: CurrentUser, *, credit_limit: str = "0"
) -> CustomerRow:
    last = unique("Byron")
    return services.customers.create_customer(
        acting,
        CustomerDraft(
            first_name="Ada",
            last_name=last,
            email=f"{last.lower()}@example.com",
            phone="+44 20 7946 0000",
            credit_limit=Decimal(credit_limit),
        ),
    )


def label_money(dialog: OrderDialog, key: str) -> Decimal:
    return Decimal(dialog.totals[key].text().replace(",", ""))


def shown_totals(dialog: OrderDialog) -> tuple[Decimal, ...]:
    return tuple(
        label_money(dialog, k) for k in ("subtotal", "discount", "tax", "shipping", "total")
    )


def service_totals(order: OrderDetail) -> tuple[Decimal, ...]:
    return (
        order.subtotal,
        order.discount_amount,
        order.tax_amount,
        order.shipping_amount,
        order.total_amount,
    )


def pick_customer(qtbot: QtBot, dialog: OrderDialog, customer: CustomerRow) -> None:
    assert focus() is dialog.customer_edit
    type_text(qtbot, customer.last_name)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.customer is not None)
    assert dialog.customer is not None and dialog.customer.id == customer.id


def type_street_address(qtbot: QtBot, dialog: OrderDialog) -> None:
    """Addresses tab, first name, then Tab to the street, city, postal code and country."""
    alt(qtbot, "r")
    alt(qtbot, "n")
    fields = dialog.address_fields["shipping"]
    assert focus() is fields["first_name"]
    for name, value in (
        ("address1", "12 St James's Square"),
        ("city", "London"),
        ("postal_code", "SW1Y 4LB"),
        ("country", "United Kingdom"),
    ):
        while focus() is not fields[name]:
            press(qtbot, Qt.Key.Key_Tab)
        type_text(qtbot, value)
    alt(qtbot, "l")
    alt(qtbot, "a")
    assert focus() is dialog.entry


def scan(qtbot: QtBot, dialog: OrderDialog, code: str, lines: int) -> None:
    assert focus() is dialog.entry
    type_text(qtbot, code)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.lines_model.rowCount() == lines and not dialog.lookups_pending)


def action_dialog(qtbot: QtBot, dialog: OrderDialog, kind: type) -> object:
    qtbot.waitUntil(lambda: isinstance(dialog.action_dialog, kind))
    opened = dialog.action_dialog
    assert opened is not None
    qtbot.waitUntil(lambda: QApplication.activeWindow() is opened)
    return opened


# --- the whole order ---------------------------------------------------------------------


def test_a_whole_order_from_a_new_customer_to_shipped_by_keyboard_alone(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    drill = world.product("12.50", stock={world.main: 10}, tax_rate="8")
    bits = world.product("3.00", stock={world.main: 5, world.east: 2})
    drill_sku, bits_barcode = sku_of(world, drill), give_barcode(world, bits)
    customer = new_customer(services, world.manager)

    dialog = OrderDialog(services, runner, world.manager)
    show(qtbot, dialog)
    pick_customer(qtbot, dialog, customer)
    # The customer's name, phone and email went into the shipping address.
    shipping = dialog.address_fields["shipping"]
    assert shipping["last_name"].text() == customer.last_name
    assert shipping["email"].text() == customer.email
    assert focus() is dialog.entry

    scan(qtbot, dialog, drill_sku, 1)
    scan(qtbot, dialog, bits_barcode, 2)
    assert [line.quantity for line in dialog.lines_model.lines] == [1, 1]
    # Down goes to the quantity of the line just added; typing replaces it.
    press(qtbot, Qt.Key.Key_Down)
    assert focus() is dialog.table
    assert dialog.table.currentIndex().column() == OrderLinesModel.QUANTITY
    type_text(qtbot, "4")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.lines_model.lines[1].quantity == 4)
    # Availability per warehouse of the current line, as it is now.
    assert "MAIN: 5 sellable" in dialog.stock_panel.text()
    assert "EAST: 2 sellable" in dialog.stock_panel.text()
    # 12.50 + 8% tax, 4 x 3.00, STANDARD shipping under 100.00.
    assert shown_totals(dialog) == (
        Decimal("24.50"),
        Decimal("0.00"),
        Decimal("1.00"),
        Decimal("5.99"),
        Decimal("31.49"),
    )
    alt(qtbot, "a")
    type_street_address(qtbot, dialog)

    with qtbot.waitSignal(dialog.saved, timeout=10_000) as saved:
        press(qtbot, Qt.Key.Key_S, CTRL)
    wait_idle(qtbot, dialog)
    draft = saved.args[0]
    assert isinstance(draft, OrderDetail) and draft.status == "DRAFT"
    assert dialog.isVisible() and not dialog.dirty
    assert (
        shown_totals(dialog)
        == service_totals(draft)
        == (
            Decimal("24.50"),
            Decimal("0.00"),
            Decimal("1.00"),
            Decimal("5.99"),
            Decimal("31.49"),
        )
    )
    assert focus() is dialog.entry  # back where the typing was

    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        alt(qtbot, "u")
    wait_idle(qtbot, dialog)
    assert dialog.row is not None and dialog.row.status == "PENDING"

    alt(qtbot, "c")
    confirm = action_dialog(qtbot, dialog, ConfirmOrderDialog)
    assert isinstance(confirm, ConfirmOrderDialog)
    assert focus() is confirm.warehouse
    while confirm.warehouse.currentText() != "MAIN — MAIN":
        press(qtbot, Qt.Key.Key_Down)
    assert confirm.fit.text() == "Every line is in stock there."
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.row is not None and dialog.row.status == "CONFIRMED")
    qtbot.waitUntil(lambda: dialog.action_dialog is None)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)

    alt(qtbot, "h")
    ship = action_dialog(qtbot, dialog, ShipOrderDialog)
    assert isinstance(ship, ShipOrderDialog)
    alt(qtbot, "a")
    assert focus() is ship.carrier
    type_text(qtbot, "DHL")
    alt(qtbot, "t")
    type_text(qtbot, "JD0146 0000 1234")
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.row is not None and dialog.row.status == "SHIPPED")

    order = services.orders.get_order(world.admin, draft.id)
    assert order.status == "SHIPPED"
    assert (order.carrier, order.tracking_number) == ("DHL", "JD0146 0000 1234")
    assert [(line.sku, line.shipped_quantity) for line in order.lines] == [
        (drill_sku, 1),
        (sku_of(world, bits), 4),
    ]
    assert world.stock(drill, world.main) == (9, 0)
    assert world.stock(bits, world.main) == (1, 0)
    assert world.stock(bits, world.east) == (2, 0)

    # The status history, as the History tab lists it.
    qtbot.waitUntil(lambda: dialog.history_table.rowCount() == 5)
    history = [
        tuple(dialog.history_table.item(row, column).text() for column in range(3))
        for row in range(5)
    ]
    assert history == [
        ("", "DRAFT", "manager"),
        ("DRAFT", "PENDING", "manager"),
        ("PENDING", "CONFIRMED", "manager"),
        ("CONFIRMED", "PROCESSING", "manager"),
        ("PROCESSING", "SHIPPED", "manager"),
    ]
