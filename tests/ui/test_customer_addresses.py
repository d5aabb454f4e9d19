"""Customers keep addresses and new orders start from them (issue 12, point 5): the
customer dialog's Addresses page, "New order" from the customer dialog and from the
Customers tab's context menu, the order filled in (its first save no longer fails on the
street), and an address changed on the order staying the order's."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from erpgo_desktop.domain.customers import CustomerAddresses, CustomerDraft
from erpgo_desktop.domain.orders import Address
from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.customers import CustomerRow
from erpgo_desktop.services.orders import OrderDetail
from erpgo_desktop.ui.customer_dialog import CustomerDialog
from erpgo_desktop.ui.customers_tab import CustomersTab
from erpgo_desktop.ui.order_dialog import OrderDialog
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.test_orders_support import World, unique, world

__all__ = ["world"]  # the module-scoped fixture

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier
OFFICE = Address("Ada", "Byron", "1 Office Road", "Springfield", "12345", "US", company="AB Ltd")
DOCK = Address("Dock", "Manager", "9 Harbour Way", "Shelbyville", "54321", "US")


@pytest.fixture
def services(world: World, runner: TaskRunner) -> Iterator[Services]:
    yield build_services(world.engine)
    assert runner.wait(10_000)


def focus() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def customer(
    services: Services, world: World, addresses: CustomerAddresses | None = None
) -> CustomerRow:
    last = unique("Byron")
    return services.customers.create_customer(
        world.manager, CustomerDraft("Ada", last, f"{last.lower()}@example.com"), addresses
    )


def open_customer(
    qtbot: QtBot, services: Services, runner: TaskRunner, world: World, row: CustomerRow | None
) -> CustomerDialog:
    dialog = CustomerDialog(
        services.customers,
        runner,
        world.manager,
        None if row is None else row.id,
        history=services.history,
    )
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    qtbot.waitUntil(lambda: not dialog.loading)
    return dialog


def open_new_order(
    qtbot: QtBot, services: Services, runner: TaskRunner, world: World, customer_id: uuid.UUID
) -> OrderDialog:
    dialog = OrderDialog(services, runner, world.manager, customer_id=customer_id)
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    qtbot.waitUntil(lambda: dialog.customer is not None and dialog.customer.id == customer_id)
    return dialog


def test_the_customer_dialog_keeps_a_billing_and_a_shipping_address(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    row = customer(services, world)
    dialog = open_customer(qtbot, services, runner, world, row)
    assert dialog.same_shipping.isChecked()
    assert not dialog.address_fields["shipping"]["address1"].isEnabled()

    # From the keyboard: the Addresses page, the billing street, city, postal code, country.
    qtbot.keyClick(focus(), Qt.Key.Key_D, ALT)
    billing = dialog.address_fields["billing"]
    billing["address1"].setFocus()
    for name, value in (
        ("address1", "1 Office Road"),
        ("city", "Springfield"),
        ("postal_code", "12345"),
    ):
        while focus() is not billing[name]:
            qtbot.keyClick(focus(), Qt.Key.Key_Tab)
        qtbot.keyClicks(focus(), value)
    # No country: refused at its field, on the Addresses page, nothing saved.
    qtbot.keyClick(focus(), Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: bool(dialog.field_error("billing_address.country").text()))
    assert "country" in dialog.field_error("billing_address.country").text()
    assert focus() is billing["country"]
    qtbot.keyClicks(focus(), "US")

    # A shipping address of its own.
    qtbot.keyClick(focus(), Qt.Key.Key_B, ALT)
    assert focus() is dialog.same_shipping
    qtbot.keyClick(focus(), Qt.Key.Key_Space)
    assert not dialog.same_shipping.isChecked()
    shipping = dialog.address_fields["shipping"]
    for name, value in (
        ("first_name", "Dock"),
        ("last_name", "Manager"),
        ("address1", "9 Harbour Way"),
        ("city", "Shelbyville"),
        ("postal_code", "54321"),
        ("country", "US"),
    ):
        shipping[name].setFocus()
        qtbot.keyClicks(shipping[name], value)
    assert not dialog.order_button.isEnabled()  # the order starts from what is saved
    with qtbot.waitSignal(dialog.saved, timeout=10_000) as saved:
        qtbot.keyClick(focus(), Qt.Key.Key_S, CTRL)

    kept = services.customers.get_customer(world.manager, row.id).addresses
    assert saved.args[0].addresses == kept
    # The billing address names the customer, whose name was left empty there.
    assert kept.billing == Address(
        "Ada", row.last_name, "1 Office Road", "Springfield", "12345", "US"
    )
    assert kept.shipping == DOCK

    again = open_customer(qtbot, services, runner, world, row)
    assert again.address_fields["shipping"]["address1"].text() == "9 Harbour Way"
    assert again.address_fields["billing"]["city"].text() == "Springfield"
    assert not again.same_shipping.isChecked()
    assert again.order_button.isEnabled()


def test_new_order_from_the_customer_dialog_gets_their_addresses_and_saves_at_once(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    row = customer(services, world, CustomerAddresses(billing=OFFICE, shipping=DOCK))
    dialog = open_customer(qtbot, services, runner, world, row)
    with qtbot.waitSignal(dialog.order_requested) as requested:
        qtbot.keyClick(focus(), Qt.Key.Key_W, ALT)
    assert requested.args == [row.id]

    order = open_new_order(qtbot, services, runner, world, row.id)
    qtbot.waitUntil(lambda: order.address_fields["shipping"]["address1"].text() != "")
    ship, bill = order.address_fields["shipping"], order.address_fields["billing"]
    assert ship["address1"].text() == "9 Harbour Way"
    assert ship["first_name"].text() == "Dock"
    assert not order.same_billing.isChecked()
    assert bill["address1"].text() == "1 Office Road"
    assert bill["company"].text() == "AB Ltd"
    assert not order.dirty  # nothing typed: closing asks nothing

    # The first save goes through (it used to fail on the street).
    with qtbot.waitSignal(order.saved, timeout=10_000) as saved:
        qtbot.keyClick(order, Qt.Key.Key_S, CTRL)
    draft = saved.args[0]
    assert isinstance(draft, OrderDetail)
    assert draft.customer_id == row.id
    assert (draft.shipping_address, draft.billing_address) == (DOCK, OFFICE)


def test_an_address_changed_on_the_order_is_the_orders_alone(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    row = customer(services, world, CustomerAddresses(billing=OFFICE))
    order = open_new_order(qtbot, services, runner, world, row.id)
    ship = order.address_fields["shipping"]
    assert ship["address1"].text() == "1 Office Road"
    assert order.same_billing.isChecked()  # one address: billed where shipped

    ship["address1"].setFocus()
    ship["address1"].selectAll()
    qtbot.keyClicks(ship["address1"], "2 Side Street")
    with qtbot.waitSignal(order.saved, timeout=10_000) as saved:
        qtbot.keyClick(order, Qt.Key.Key_S, CTRL)
    draft = saved.args[0]
    assert draft.shipping_address == replace(OFFICE, address1="2 Side Street")
    assert draft.billing_address == replace(OFFICE, address1="2 Side Street")
    assert services.customers.get_customer(world.manager, row.id).addresses == (
        CustomerAddresses(billing=OFFICE)
    )


def test_another_customer_refills_what_was_filled_in_not_what_was_typed(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    first = customer(services, world, CustomerAddresses(billing=OFFICE, shipping=DOCK))
    second = customer(services, world)  # no addresses and no orders
    third = customer(services, world, CustomerAddresses(billing=OFFICE))
    order = open_new_order(qtbot, services, runner, world, first.id)
    ship, bill = order.address_fields["shipping"], order.address_fields["billing"]
    ship["phone"].setText("+1 555 0100")  # typed by the person

    order._customer_picked(second)
    # The first customer's street is not the second's; the name is theirs; typed stays.
    assert ship["address1"].text() == ""
    assert ship["last_name"].text() == second.last_name
    assert ship["phone"].text() == "+1 555 0100"
    assert bill["address1"].text() == ""
    assert order.same_billing.isChecked()  # billed where shipped again, as for anyone

    order._customer_picked(third)
    assert ship["address1"].text() == "1 Office Road"
    assert order.same_billing.isChecked()
    assert ship["phone"].text() == "+1 555 0100"


def test_the_customers_tab_starts_an_order_from_a_rows_context_menu(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    row = customer(services, world, CustomerAddresses(billing=OFFICE))
    tab = CustomersTab(services, runner, world.sales)
    qtbot.addWidget(tab)
    tab.resize(1000, 500)
    tab.show()
    qtbot.waitExposed(tab)
    tab.search.setText(row.last_name)
    tab.apply_search()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1 and not tab.model.is_loading)

    position = tab.table.visualRect(tab.model.index(0, 1)).center()
    tab.table.customContextMenuRequested.emit(position)
    menu = tab.context_menu
    assert menu is not None
    (ordering,) = [a for a in menu.actions() if a.text().startswith("New &order")]
    assert ordering.isVisible()
    with qtbot.waitSignal(tab.order_requested) as requested:
        ordering.trigger()
    assert requested.args == [row.id]
    menu.close()
