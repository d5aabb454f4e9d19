"""The History page of every record dialog: who changed what and when, in words.

People sign in with their own login roles (the database records session_user), so the
person on the page is the one who made the change, as the application would show it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.catalog import CategoryDraft, VariantDraft
from erpgo_desktop.domain.customers import CustomerDraft
from erpgo_desktop.domain.inventory import WarehouseDraft
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser, SignedIn
from erpgo_desktop.services.stock import StockKey
from erpgo_desktop.ui.category_dialog import CategoryDialog
from erpgo_desktop.ui.customer_dialog import CustomerDialog
from erpgo_desktop.ui.forms import RecordDialog
from erpgo_desktop.ui.history_view import NOT_SAVED, HistoryView
from erpgo_desktop.ui.order_dialog import OrderDialog
from erpgo_desktop.ui.order_lines import OrderLinesModel
from erpgo_desktop.ui.product_dialog import ProductDialog, VariantDialog
from erpgo_desktop.ui.role_dialog import RoleDialog
from erpgo_desktop.ui.tasks import TaskRunner
from erpgo_desktop.ui.user_dialog import UserDialog
from erpgo_desktop.ui.warehouse_dialog import WarehouseDialog
from tests.services.history_support import seed_shop
from tests.ui.dialog_support import focused, show, type_into

# The order dialog's completers ask the offscreen platform for things it cannot do.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

PASSWORD = "a long password"
ALT = Qt.KeyboardModifier.AltModifier
ADDRESS = Address("Ann", "Buyer", "1 Main St", "Springfield", "12345", "US")


@dataclass(frozen=True)
class Person:
    """Someone signed in: their services connect as their own login role."""

    services: Services
    user: CurrentUser


@dataclass(frozen=True)
class Shop:
    ada: Person  # admin
    mona: Person  # manager
    sam: Person  # sales
    cleo: Person  # warehouse clerk
    product: uuid.UUID  # HX-1, price 10.00, 50 on hand in MAIN
    warehouse: uuid.UUID
    customer: uuid.UUID


def seed(engine: Engine) -> dict[str, uuid.UUID]:
    return seed_shop(engine)


@pytest.fixture
def shop(engine: Engine, runner: TaskRunner) -> Iterator[Shop]:
    auth = AuthService(make_session_factory(engine))
    sessions: list[SignedIn] = []
    people: dict[str, Person] = {}
    for username, role in (
        ("ada", "admin"),
        ("mona", "manager"),
        ("sam", "sales"),
        ("cleo", "warehouse_clerk"),
    ):
        auth.create_user(
            NewUser(username, f"{username}@example.com", PASSWORD, role, username.title()),
            acting=None,
        )
        session = auth.sign_in(username, PASSWORD)
        sessions.append(session)
        people[username] = Person(build_services(session.engine), session.user)
    ids = seed(engine)
    yield Shop(
        **people, product=ids["product"], warehouse=ids["warehouse"], customer=ids["customer"]
    )
    # The dialogs' reads run on the runner's workers: done before the engines go.
    assert runner.wait(10_000)
    for session in sessions:
        session.engine.dispose()


def focus_widget() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def open_history(qtbot: QtBot, dialog: RecordDialog) -> HistoryView:
    """Alt+Y, as a person would; returns the page once its history has been read."""
    view = dialog.history_view
    assert view is not None
    with qtbot.waitSignal(view.settled, timeout=10_000):
        qtbot.keyClick(dialog, Qt.Key.Key_Y, ALT)
    assert not view.loading
    return view


def shown(view: HistoryView) -> list[tuple[str, ...]]:
    """The table as it reads: (when, who, record, what changed) per row."""
    table = view.table
    return [
        tuple(table.item(row, column).text() for column in range(table.columnCount()))
        for row in range(table.rowCount())
    ]


def by(view: HistoryView, who: str, what: str) -> tuple[str, ...]:
    """The row of `who` whose "What changed" has `what` (exactly one)."""
    (row,) = [row for row in shown(view) if row[1] == who and what in row[3]]
    return row


# --- the three changes a person looks for -------------------------------------------------


def test_a_price_changed_in_the_product_dialog_shows_by_whom_from_and_to(
    qtbot: QtBot, shop: Shop, runner: TaskRunner
) -> None:
    mona = shop.mona
    dialog = ProductDialog(mona.services, runner, mona.user, shop.product)
    show(qtbot, dialog)
    type_into(qtbot, dialog.price, "12.50")
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        qtbot.keyClick(dialog.price, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)

    again = ProductDialog(mona.services, runner, mona.user, shop.product)
    show(qtbot, again)
    view = open_history(qtbot, again)
    assert view.state_text == f"{len(view.rows)} changes, newest first."
    when, who, record, what = shown(view)[0]  # the newest first
    assert (who, record, what) == ("Mona", "Product HX-1", "Price: 10.00 → 12.50")
    # The keyboard is in the table; the details spell the change out line by line.
    assert focused(again) is view.table
    assert view.table.currentRow() == 0
    details = view.details.toPlainText().splitlines()
    assert details[0] == f"Changed {when} by Mona: Product HX-1"
    assert details[1:] == ["Price: 10.00 → 12.50"]
    assert view.table.item(0, 3).toolTip() == view.details.toPlainText()


def test_an_order_line_changed_in_the_order_dialog_shows_after_the_save(
    qtbot: QtBot, shop: Shop, runner: TaskRunner
) -> None:
    sam = shop.sam
    orders, user = sam.services.orders, sam.user
    order = orders.create_draft(user, shop.customer, OrderHeader(ADDRESS))
    order = orders.add_line(user, order.id, order.version, shop.product, 2)
    dialog = OrderDialog(sam.services, runner, user, order.id)
    show(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.row is not None)

    # Read once before the change: the page must read again after the save.
    view = open_history(qtbot, dialog)
    assert [row[3] for row in shown(view) if row[1] == "Sam"].count("Created") >= 3
    assert not any("Quantity: 2 → 3" in row[3] for row in shown(view))
    # The status list stays beside the changes.
    assert dialog.history_table.rowCount() == 1

    qtbot.keyClick(dialog, Qt.Key.Key_L, ALT)
    dialog.table.setFocus()
    dialog.table.setCurrentIndex(dialog.lines_model.index(0, OrderLinesModel.QUANTITY))
    qtbot.keyClicks(focus_widget(), "3")
    qtbot.keyClick(focus_widget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.lines_model.lines[0].quantity == 3)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        qtbot.keyClick(focus_widget(), Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not dialog.saving)

    view = open_history(qtbot, dialog)
    _when, _who, record, what = by(view, "Sam", "Quantity: 2 → 3")
    assert record == f"Order line {order.order_number} · HX-1"
    assert what.startswith("Quantity: 2 → 3")
    kinds = {row.kind for row in view.rows}
    assert {"Order", "Order line", "Order address"} <= kinds


def test_a_stock_adjustment_shows_on_the_products_page_by_the_clerk(
    qtbot: QtBot, shop: Shop, runner: TaskRunner
) -> None:
    cleo = shop.cleo
    key = StockKey(shop.product, shop.warehouse)
    cleo.services.inventory.adjust(cleo.user, key, -4, "broken in the aisle")

    mona = shop.mona
    dialog = ProductDialog(mona.services, runner, mona.user, shop.product)
    show(qtbot, dialog)
    view = open_history(qtbot, dialog)
    assert by(view, "Cleo", "On hand: 50 → 46")[2] == "Stock HX-1 @ MAIN"


# --- every record dialog has the page -----------------------------------------------------

OpenDialog = Callable[[Shop, TaskRunner], tuple[RecordDialog, str, str]]


def _category(shop: Shop, runner: TaskRunner) -> tuple[RecordDialog, str, str]:
    mona = shop.mona
    row = mona.services.categories.create_category(mona.user, CategoryDraft("Saws"))
    dialog = CategoryDialog(
        mona.services.categories, runner, mona.user, row.id, history=mona.services.history
    )
    return dialog, "Mona", "Category Saws"


def _customer(shop: Shop, runner: TaskRunner) -> tuple[RecordDialog, str, str]:
    sam = shop.sam
    row = sam.services.customers.create_customer(
        sam.user, CustomerDraft(first_name="Dora", last_name="Doe", email="dora@example.com")
    )
    dialog = CustomerDialog(
        sam.services.customers, runner, sam.user, row.id, history=sam.services.history
    )
    return dialog, "Sam", "Customer Dora Doe"


def _warehouse(shop: Shop, runner: TaskRunner) -> tuple[RecordDialog, str, str]:
    mona = shop.mona
    row = mona.services.warehouses.create(mona.user, WarehouseDraft("EAST", "East"))
    return WarehouseDialog(mona.services, runner, mona.user, row.id), "Mona", "Warehouse EAST"


def _variant(shop: Shop, runner: TaskRunner) -> tuple[RecordDialog, str, str]:
    mona = shop.mona
    variants = mona.services.variants
    row = variants.create_variant(
        mona.user, shop.product, VariantDraft("HX-1-L", "Large", Decimal("11.00"))
    )
    dialog = VariantDialog(
        variants, runner, mona.user, shop.product, row.id, history=mona.services.history
    )
    return dialog, "Mona", "Variant HX-1-L"


def _user(shop: Shop, runner: TaskRunner) -> tuple[RecordDialog, str, str]:
    ada = shop.ada
    users = ada.services.users
    row = users.create_user(ada.user, NewUser("tom", "tom@example.com", PASSWORD, "sales", "Tom"))
    dialog = UserDialog(users, runner, ada.user, row, history=ada.services.history)
    return dialog, "Ada", "User tom"


def _role(shop: Shop, runner: TaskRunner) -> tuple[RecordDialog, str, str]:
    ada = shop.ada
    users = ada.services.users
    row = users.create_role(ada.user, "buyer", "Buys", [perms.PRODUCTS_READ])
    dialog = RoleDialog(users, runner, ada.user, row, history=ada.services.history)
    return dialog, "Ada", "Role buyer"


@pytest.mark.parametrize(
    "open_dialog",
    [_category, _customer, _warehouse, _variant, _user, _role],
    ids=lambda f: f.__name__[1:],
)
def test_each_record_dialog_has_a_history_page_that_reads_its_record(
    qtbot: QtBot, shop: Shop, runner: TaskRunner, open_dialog: OpenDialog
) -> None:
    dialog, creator, record = open_dialog(shop, runner)
    show(qtbot, dialog)
    view = open_history(qtbot, dialog)
    assert not view.error.isVisibleTo(view), view.state_text
    assert focused(dialog) is view.table
    # Created by the person who made it; the oldest row, last.
    when, who, shown_record, what = shown(view)[-1]
    assert (who, shown_record, what) == (creator, record, "Created")
    # Down to it by the keyboard: the details follow the current row.
    qtbot.keyClick(view.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert view.table.currentRow() == view.table.rowCount() - 1
    assert view.details.toPlainText().startswith(f"Created {when} by {creator}: {record}")


def test_a_new_record_says_its_history_starts_when_it_is_saved(
    qtbot: QtBot, shop: Shop, runner: TaskRunner
) -> None:
    sam = shop.sam
    dialog = OrderDialog(sam.services, runner, sam.user)
    show(qtbot, dialog)
    view = open_history(qtbot, dialog)
    assert view.state_text == NOT_SAVED
    assert not view.table.isVisibleTo(view)

    # Saved, the dialog stays open on the order: its page follows it.
    type_into(qtbot, dialog.customer_edit, "Carl")
    qtbot.keyClick(dialog.customer_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.customer is not None)
    for name, value in (
        ("address1", ADDRESS.address1),
        ("city", ADDRESS.city),
        ("postal_code", ADDRESS.postal_code),
        ("country", ADDRESS.country),
    ):
        dialog.address_fields["shipping"][name].setText(value)
    with (
        qtbot.waitSignal(view.settled, timeout=10_000),
        qtbot.waitSignal(dialog.saved, timeout=10_000),
    ):
        qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert dialog.row is not None and view.record_id == dialog.row.id
    assert ("Sam", f"Order {dialog.row.order_number}", "Created") in [
        row[1:] for row in shown(view)
    ]


def test_a_history_that_cannot_be_read_says_why_and_offers_to_try_again(
    qtbot: QtBot, shop: Shop, runner: TaskRunner
) -> None:
    sam = shop.sam  # no users.admin: the history of an account is not theirs to read
    view = HistoryView(sam.services.history, runner, sam.user, "users", shop.ada.user.id)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.settled, timeout=10_000):
        view.show()
    assert view.state_text.startswith("The history could not be read: ")
    assert view.error.isVisible() and view.retry_button.isVisible()
    assert view.rows == ()
