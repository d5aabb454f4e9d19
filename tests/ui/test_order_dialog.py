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
from erpgo_desktop.ui.customer_dialog import CustomerDialog
from erpgo_desktop.ui.order_actions import (
    ConfirmOrderDialog,
    MoneyDialog,
    ReturnOrderDialog,
    ShipOrderDialog,
)
from erpgo_desktop.ui.order_dialog import OrderDialog
from erpgo_desktop.ui.order_lines import DraftLine, OrderLinesModel
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
    # On to the items, once the suggestions popup has closed.
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.entry)


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

    # A new customer, typed into the customer dialog.
    last_name = unique("Byron")
    customer_dialog = CustomerDialog(
        services.customers, runner, world.manager, history=services.history
    )
    qtbot.addWidget(customer_dialog)
    with qtbot.waitActive(customer_dialog):
        customer_dialog.show()
        customer_dialog.activateWindow()
    alt(qtbot, "f")
    type_text(qtbot, "Ada")
    alt(qtbot, "l")
    type_text(qtbot, last_name)
    alt(qtbot, "e")
    type_text(qtbot, f"{last_name.lower()}@example.com")
    with qtbot.waitSignal(customer_dialog.saved, timeout=10_000) as created:
        press(qtbot, Qt.Key.Key_S, CTRL)
    customer = created.args[0]
    assert isinstance(customer, CustomerRow) and customer.last_name == last_name

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
    assert confirm.warehouse.currentText() == "MAIN — MAIN · has every line"
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
        ("", "Draft", "manager"),
        ("Draft", "Pending", "manager"),
        ("Pending", "Confirmed", "manager"),
        ("Confirmed", "Processing", "manager"),
        ("Processing", "Shipped", "manager"),
    ]


# --- refusals ----------------------------------------------------------------------------


def open_order(
    qtbot: QtBot, services: Services, runner: TaskRunner, acting: CurrentUser, order_id: uuid.UUID
) -> OrderDialog:
    dialog = OrderDialog(services, runner, acting, order_id)
    show(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.row is not None)
    return dialog


def choose_warehouse(qtbot: QtBot, confirm: ConfirmOrderDialog, code: str) -> None:
    assert focus() is confirm.warehouse
    while not confirm.warehouse.currentText().startswith(code):
        press(qtbot, Qt.Key.Key_Down)


def test_confirming_with_too_little_stock_names_the_product_and_quantities(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    product = world.product(stock={world.main: 2})
    sku = sku_of(world, product)
    order = world.pending([(product, 5)])
    dialog = open_order(qtbot, services, runner, world.manager, order.id)
    assert "MAIN 2" in dialog.lines_model.index(0, OrderLinesModel.AVAILABLE).data()

    alt(qtbot, "c")
    confirm = action_dialog(qtbot, dialog, ConfirmOrderDialog)
    assert isinstance(confirm, ConfirmOrderDialog)
    choose_warehouse(qtbot, confirm, "MAIN")
    assert confirm.fit.text() == f"{sku}: 5 wanted, 2 sellable"
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not confirm.saving and confirm.visible_errors() != {})

    assert confirm.isVisible()  # still open, to choose another warehouse
    assert confirm.visible_errors() == {
        "warehouse_id": f"Nothing was reserved: MAIN has too little of {sku} now (the figures "
        "below are as they are now)."
    }
    assert services.orders.get_order(world.admin, order.id).status == "PENDING"
    assert world.stock(product, world.main) == (2, 0)


def test_a_sales_user_sees_no_ship_or_approve_and_a_clerk_cannot_edit(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    product = world.product("20000.00", stock={world.main: 1})
    order = world.pending([(product, 1)])  # over 10,000.00: needs approval

    sales = open_order(qtbot, services, runner, world.sales, order.id)
    for hidden in (sales.ship_button, sales.approve_button):
        assert not hidden.isVisibleTo(sales)
    assert sales.confirm_button.isVisibleTo(sales) and sales.confirm_button.isEnabled()
    for key in ("process", "deliver", "cancel", "return", "payment", "refund"):
        assert not sales.menu_actions[key].isVisible(), key
    assert sales.menu_actions["hold"].isVisible()
    assert "needs a manager's approval" in sales.status_label.text()

    manager = open_order(qtbot, services, runner, world.manager, order.id)
    assert manager.approve_button.isVisibleTo(manager) and manager.approve_button.isEnabled()
    assert manager.ship_button.isVisibleTo(manager) and not manager.ship_button.isEnabled()

    clerk = open_order(qtbot, services, runner, world.clerk, order.id)
    for hidden in (clerk.save_button, clerk.submit_button, clerk.confirm_button):
        assert not hidden.isVisibleTo(clerk)
    assert clerk.ship_button.isVisibleTo(clerk) and not clerk.ship_button.isEnabled()
    assert clerk.customer_edit.isReadOnly() and not clerk.entry.isEnabled()
    # The clerk may not read the customer's credit: no "Credit:" caption over nothing.
    assert not clerk.credit_label.isVisibleTo(clerk)
    assert not clerk.lines_model.flags(clerk.lines_model.index(0, OrderLinesModel.QUANTITY)) & (
        Qt.ItemFlag.ItemIsEditable
    )


def test_the_credit_limit_is_shown_and_a_confirmation_over_it_explained(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    product = world.product("60.00", stock={world.main: 3})
    customer = services.customers.get_customer(world.admin, world.customer(credit_limit="50"))
    dialog = OrderDialog(services, runner, world.sales)
    show(qtbot, dialog)
    pick_customer(qtbot, dialog, customer)
    assert dialog.credit_label.text() == "Limit 50.00 · balance 0.00 · available 50.00"
    assert not dialog.credit_warning.isVisibleTo(dialog)

    scan(qtbot, dialog, sku_of(world, product), 1)
    assert dialog.credit_warning.isVisibleTo(dialog)
    assert "this order (65.99 unpaid) is 15.99 more than the 50.00 available" in (
        dialog.credit_warning.text()
    )
    type_street_address(qtbot, dialog)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        alt(qtbot, "u")  # saves the draft and submits it in one go
    wait_idle(qtbot, dialog)
    assert dialog.row is not None and dialog.row.status == "PENDING"

    alt(qtbot, "c")
    confirm = action_dialog(qtbot, dialog, ConfirmOrderDialog)
    assert isinstance(confirm, ConfirmOrderDialog)
    assert confirm.override is None  # sales may not override credit
    choose_warehouse(qtbot, confirm, "MAIN")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not confirm.saving and confirm.banner.text() != "")
    assert "over the credit limit of 50.00" in confirm.banner.text()
    assert "customers.credit_override" in confirm.banner.text()
    assert services.orders.get_order(world.admin, dialog.row.id).status == "PENDING"


# --- saving ------------------------------------------------------------------------------


def test_a_refused_save_keeps_everything_typed_and_the_next_save_carries_on(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    kept = world.product("10.00", stock={world.main: 5}, tax_rate="10")
    dropped = world.product("4.00", stock={world.main: 5})
    customer = new_customer(services, world.sales)
    dialog = OrderDialog(services, runner, world.sales)
    show(qtbot, dialog)
    pick_customer(qtbot, dialog, customer)
    scan(qtbot, dialog, sku_of(world, kept), 1)
    scan(qtbot, dialog, sku_of(world, dropped), 2)
    type_street_address(qtbot, dialog)
    # Someone takes the second product off sale before the draft is saved.
    with world.engine.begin() as connection:
        connection.execute(
            text("UPDATE products SET is_active = false WHERE id = :p"), {"p": dropped}
        )

    press(qtbot, Qt.Key.Key_S, CTRL)
    wait_idle(qtbot, dialog)
    assert "is no longer sold" in dialog.field_error("lines").text()
    assert dialog.isVisible() and dialog.dirty
    assert [line.sku for line in dialog.lines_model.lines] == [
        sku_of(world, kept),
        sku_of(world, dropped),
    ]
    assert dialog.address_fields["shipping"]["city"].text() == "London"
    # The draft and its first line were written: the next save goes on from there.
    assert dialog.record_id is not None
    assert dialog.lines_model.lines[0].line_id is not None
    assert dialog.lines_model.lines[1].line_id is None

    assert focus() is dialog.table  # the lines, where the refusal is shown
    press(qtbot, Qt.Key.Key_End, CTRL)
    assert dialog.table.currentIndex().row() == 1
    press(qtbot, Qt.Key.Key_Delete)
    assert dialog.lines_model.rowCount() == 1
    with qtbot.waitSignal(dialog.saved, timeout=10_000) as saved:
        press(qtbot, Qt.Key.Key_S, CTRL)
    wait_idle(qtbot, dialog)
    order = saved.args[0]
    assert isinstance(order, OrderDetail)
    assert order.id == dialog.record_id
    assert [(line.sku, line.quantity) for line in order.lines] == [(sku_of(world, kept), 1)]
    page = services.orders.list_orders(world.sales, customer_id=customer.id)
    assert [row.id for row in page.rows] == [order.id]  # one order, not two
    assert shown_totals(dialog) == service_totals(order)
    assert not dialog.field_error("lines").text()


def test_totals_follow_the_typing_and_equal_the_service_s_after_saving(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    taxed = world.product("19.99", stock={world.main: 50}, tax_rate="7.25")
    plain = world.product("45.00", stock={world.main: 50})
    customer = new_customer(services, world.sales)
    dialog = OrderDialog(services, runner, world.sales)
    show(qtbot, dialog)
    pick_customer(qtbot, dialog, customer)
    scan(qtbot, dialog, f"3*{sku_of(world, taxed)}", 1)
    scan(qtbot, dialog, sku_of(world, plain), 2)
    scan(qtbot, dialog, sku_of(world, taxed), 2)  # the same again: one more on its line
    assert [line.quantity for line in dialog.lines_model.lines] == [4, 1]

    # A discount of 5.00 on the first line: Down, Right twice to Discount, type, Enter.
    press(qtbot, Qt.Key.Key_Down)
    press(qtbot, Qt.Key.Key_Up)
    press(qtbot, Qt.Key.Key_Right)
    press(qtbot, Qt.Key.Key_Right)
    assert dialog.table.currentIndex().column() == OrderLinesModel.DISCOUNT
    type_text(qtbot, "5")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.lines_model.lines[0].discount == Decimal("5.00"))
    # 4 x 19.99 = 79.96, less 5.00, taxed 7.25% = 5.43; 45.00; over 100.00: free STANDARD.
    assert shown_totals(dialog) == (
        Decimal("124.96"),
        Decimal("5.00"),
        Decimal("5.43"),
        Decimal("0.00"),
        Decimal("125.39"),
    )
    alt(qtbot, "m")
    assert focus() is dialog.shipping_method
    while dialog.shipping_method.currentData() != "EXPRESS":
        press(qtbot, Qt.Key.Key_Down)
    assert label_money(dialog, "shipping") == Decimal("14.99")
    alt(qtbot, "i")
    type_text(qtbot, "2.50")
    assert label_money(dialog, "discount") == Decimal("7.50")
    live = shown_totals(dialog)
    type_street_address(qtbot, dialog)

    with qtbot.waitSignal(dialog.saved, timeout=10_000) as saved:
        press(qtbot, Qt.Key.Key_S, CTRL)
    wait_idle(qtbot, dialog)
    order = saved.args[0]
    assert isinstance(order, OrderDetail)
    assert service_totals(order) == live == shown_totals(dialog)
    assert order.order_discount == Decimal("2.50") and order.shipping_method == "EXPRESS"


def test_scanning_an_unknown_code_says_so_and_keeps_it_to_correct(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    customer = new_customer(services, world.sales)
    dialog = OrderDialog(services, runner, world.sales)
    show(qtbot, dialog)
    pick_customer(qtbot, dialog, customer)
    type_text(qtbot, "NO-SUCH-CODE")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.entry_error.isVisibleTo(dialog))
    assert "“NO-SUCH-CODE”" in dialog.entry_error.text()
    assert dialog.entry.text() == "NO-SUCH-CODE" and dialog.lines_model.rowCount() == 0


def test_typing_part_of_a_name_offers_suggestions_to_choose_from(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    product = world.product("7.00", stock={world.east: 3})
    sku = sku_of(world, product)
    customer = new_customer(services, world.sales)
    dialog = OrderDialog(services, runner, world.sales)
    show(qtbot, dialog)
    pick_customer(qtbot, dialog, customer)
    with qtbot.waitSignal(dialog.item_search.answered, timeout=10_000):
        type_text(qtbot, f"product {sku.lower()}")
    assert [item.sku for item in dialog.item_search.results] == [sku]
    # The popup has the keyboard now: Down to the suggestion, Enter to take it.
    popup = dialog.item_search.popup
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.lines_model.rowCount() == 1 and not dialog.lookups_pending)
    assert dialog.lines_model.lines[0].sku == sku
    assert dialog.entry.text() == ""
    assert "EAST: 3 sellable" in dialog.stock_panel.text()


def test_part_of_a_name_and_enter_adds_the_one_match_without_waiting_for_suggestions(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    product = world.product("7.00", stock={world.east: 3})
    sku = sku_of(world, product)
    customer = new_customer(services, world.sales)
    dialog = OrderDialog(services, runner, world.sales)
    show(qtbot, dialog)
    pick_customer(qtbot, dialog, customer)
    type_text(qtbot, f"2*product {sku.lower()}")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.lines_model.rowCount() == 1 and not dialog.lookups_pending)
    assert (dialog.lines_model.lines[0].sku, dialog.lines_model.lines[0].quantity) == (sku, 2)
    assert not dialog.entry_error.isVisibleTo(dialog)


def test_escape_asks_before_dropping_what_was_typed(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    dialog = OrderDialog(services, runner, world.sales)
    show(qtbot, dialog)
    alt(qtbot, "r")
    alt(qtbot, "n")
    type_text(qtbot, "Grace")
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: dialog.discard_prompt is not None)
    prompt = dialog.discard_prompt
    assert prompt is not None
    qtbot.waitUntil(lambda: QApplication.activeWindow() is prompt)
    press(qtbot, Qt.Key.Key_Escape)  # Keep editing
    qtbot.waitUntil(lambda: dialog.discard_prompt is None)
    assert dialog.isVisible()
    assert dialog.address_fields["shipping"]["first_name"].text() == "Grace"

    with qtbot.waitActive(dialog):
        dialog.activateWindow()
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: dialog.discard_prompt is not None)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog.discard_prompt)
    alt(qtbot, "d")
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_the_lines_model_passes_the_model_tester(
    qtmodeltester: object, world: World, services: Services
) -> None:
    model = OrderLinesModel()
    order = world.draft([(world.product(), 2), (world.product("3.50"), 1)])
    model.set_lines(DraftLine.from_row(line, None) for line in order.lines)
    qtmodeltester.check(model)  # type: ignore[attr-defined]


# --- after shipping ----------------------------------------------------------------------


def from_actions_menu(qtbot: QtBot, dialog: OrderDialog, letter: str) -> None:
    """Alt+O opens the Actions menu; its letter picks an action."""
    alt(qtbot, "o")
    menu = dialog.more_menu
    qtbot.waitUntil(menu.isVisible)
    qtbot.keyClick(menu, getattr(Qt.Key, f"Key_{letter.upper()}"))
    qtbot.waitUntil(lambda: not menu.isVisible())


def wait_status(qtbot: QtBot, dialog: OrderDialog, status: str) -> None:
    qtbot.waitUntil(lambda: dialog.row is not None and dialog.row.status == status)
    qtbot.waitUntil(lambda: dialog.action_dialog is None and not dialog.saving)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)


def test_deliver_pay_return_and_refund_from_the_keyboard(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    product = world.product("20.00", stock={world.main: 5})
    order = world.shipped([(product, 3)])
    assert world.stock(product, world.main) == (2, 0)
    dialog = open_order(qtbot, services, runner, world.manager, order.id)
    assert not dialog.menu_actions["refund"].isEnabled()

    from_actions_menu(qtbot, dialog, "d")
    wait_status(qtbot, dialog, "DELIVERED")

    from_actions_menu(qtbot, dialog, "p")
    payment = action_dialog(qtbot, dialog, MoneyDialog)
    assert isinstance(payment, MoneyDialog)
    assert payment.amount.text() == "65.99"  # what is left to pay: 3 x 20.00 and shipping
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.row is not None and dialog.row.payment_status == "PAID")
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)

    from_actions_menu(qtbot, dialog, "t")
    returned = action_dialog(qtbot, dialog, ReturnOrderDialog)
    assert isinstance(returned, ReturnOrderDialog)
    choose_warehouse_in(qtbot, returned.warehouse, "MAIN")
    press(qtbot, Qt.Key.Key_Tab)
    press(qtbot, Qt.Key.Key_A, CTRL)
    type_text(qtbot, "2")
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        press(qtbot, Qt.Key.Key_Return)
    wait_status(qtbot, dialog, "RETURNED")
    assert world.stock(product, world.main) == (4, 0)

    from_actions_menu(qtbot, dialog, "f")
    refund = action_dialog(qtbot, dialog, MoneyDialog)
    assert isinstance(refund, MoneyDialog) and refund.amount.text() == "65.99"
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        press(qtbot, Qt.Key.Key_Return)
    wait_status(qtbot, dialog, "REFUNDED")
    final = services.orders.get_order(world.admin, order.id)
    assert (final.paid_amount, final.refunded_amount) == (Decimal("65.99"), Decimal("65.99"))
    qtbot.waitUntil(lambda: dialog.history_table.rowCount() == 8)
    assert [dialog.history_table.item(r, 1).text() for r in range(8)] == [
        "Draft",
        "Pending",
        "Confirmed",
        "Processing",
        "Shipped",
        "Delivered",
        "Returned",
        "Refunded",
    ]
    # Nothing more can happen to a refunded order.
    assert not any(action.isEnabled() for action in dialog.menu_actions.values())
    assert not dialog.ship_button.isEnabled() and not dialog.confirm_button.isEnabled()


def choose_warehouse_in(qtbot: QtBot, combo: QWidget, code: str) -> None:
    assert focus() is combo
    while not combo.currentText().startswith(code):  # type: ignore[attr-defined]
        press(qtbot, Qt.Key.Key_Down)


def test_cancelling_asks_first_and_releases_the_stock(
    qtbot: QtBot, world: World, services: Services, runner: TaskRunner
) -> None:
    product = world.product(stock={world.main: 4})
    order = world.confirmed([(product, 3)])
    assert world.stock(product, world.main) == (4, 3)
    dialog = open_order(qtbot, services, runner, world.manager, order.id)

    from_actions_menu(qtbot, dialog, "c")
    qtbot.waitUntil(lambda: dialog.action_dialog is not None)
    question = dialog.action_dialog
    qtbot.waitUntil(lambda: QApplication.activeWindow() is question)
    press(qtbot, Qt.Key.Key_Escape)  # keep it
    qtbot.waitUntil(lambda: dialog.action_dialog is None)
    assert dialog.row is not None and dialog.row.status == "CONFIRMED"

    with qtbot.waitActive(dialog):
        dialog.activateWindow()
    from_actions_menu(qtbot, dialog, "c")
    qtbot.waitUntil(lambda: dialog.action_dialog is not None)
    question = dialog.action_dialog
    qtbot.waitUntil(lambda: QApplication.activeWindow() is question)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        alt(qtbot, "c")
    qtbot.waitUntil(lambda: dialog.row is not None and dialog.row.status == "CANCELLED")
    assert world.stock(product, world.main) == (4, 0)
