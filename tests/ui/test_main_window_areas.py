"""The main window around its tabs: permissions, remembered layout, the shortcut list,
and changes made elsewhere reaching open dialogs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.domain.catalog import CategoryDraft
from erpgo_desktop.domain.customers import CustomerDraft
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.catalog import ProductSort
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.ui.customer_dialog import CustomerDialog
from erpgo_desktop.ui.import_dialog import ImportDialog
from erpgo_desktop.ui.main_window import MainWindow
from erpgo_desktop.ui.product_dialog import ProductDialog
from erpgo_desktop.ui.product_table import ACTIVE, PRICE
from erpgo_desktop.ui.shortcuts import ShortcutsDialog, menu_shortcuts
from erpgo_desktop.ui.tasks import TaskRunner
from tests.ui.dialog_support import Staff, make_staff
from tests.ui.seed import seed_many

WindowFactory = Callable[[CurrentUser], MainWindow]


def _settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def _user(permissions: set[str], name: str = "limited") -> CurrentUser:
    return CurrentUser(uuid.uuid4(), name, name.title(), ("custom",), frozenset(permissions))


def make_window_factory(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, tmp_path: Path
) -> WindowFactory:
    def make(user: CurrentUser) -> MainWindow:
        window = MainWindow(
            services=staff.services,
            runner=runner,
            user=user,
            location_description="test database",
            settings=_settings(tmp_path),
        )
        qtbot.addWidget(window)
        with qtbot.waitActive(window):
            window.show()
            window.activateWindow()
        return window

    return make


def back_to(qtbot: QtBot, window: MainWindow) -> None:
    """After a dialog closes; the offscreen platform has no window manager to give the
    focus back to the window underneath."""
    qtbot.waitUntil(lambda: not window.open_dialogs)
    with qtbot.waitActive(window):
        window.activateWindow()


def test_tabs_and_actions_follow_the_permissions(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    staff = make_staff(engine)
    make = make_window_factory(qtbot, staff, runner, tmp_path)

    nothing = make(_user(set()))
    assert nothing.tabs.count() == 0
    assert not nothing.new_action.isEnabled()
    assert not nothing.new_customer_action.isVisible()
    assert "Sales" not in [
        a.text().replace("&", "") for a in nothing.menuBar().actions() if a.isVisible()
    ]

    readers = make(_user({"products.read", "customers.write"}, "reader"))
    assert [readers.tabs.tabText(i).replace("&", "") for i in range(readers.tabs.count())] == [
        "Products"
    ]
    assert readers.new_customer_action.isVisible()
    assert not readers.delete_action.isEnabled()


def test_the_layout_is_remembered_per_user(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    seed_many(engine, 30)
    staff = make_staff(engine)
    make = make_window_factory(qtbot, staff, runner, tmp_path)
    first = make(staff.manager)
    products = first.products
    assert products is not None
    products.table.sortByColumn(PRICE, Qt.SortOrder.DescendingOrder)
    products.table.column_fitter.keep_width(0, 222)  # as when the person drags the divider
    first.resize(first.width(), 500)  # within the offscreen screen (800 x 600)
    first.tabs.setCurrentWidget(first.customers)
    first.close()

    again = make(staff.manager)
    assert again.products is not None
    assert again.products.table.columnWidth(0) == 222
    assert again.products.model.query.sort is ProductSort.PRICE
    assert again.products.model.query.descending
    assert again.height() == 500  # (restoring fits the width to the small offscreen screen)
    assert again.tabs.currentWidget() is again.customers

    other = make(staff.admin)  # another user starts from the defaults
    assert other.products is not None
    assert other.products.table.columnWidth(0) != 222


def test_the_shortcut_list_comes_from_the_menus(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    staff = make_staff(engine)
    window = make_window_factory(qtbot, staff, runner, tmp_path)(staff.admin)

    listed = {(keys, what) for _menu, keys, what in menu_shortcuts(window.menuBar())}
    assert {
        ("Ctrl+F", "Find"),
        ("F5", "Refresh"),
        ("Ctrl+N", "New"),
        ("Ctrl+W", "Close window"),
        ("Ctrl+Tab", "Next tab"),
    } <= listed

    window.shortcuts_action.trigger()
    (dialog,) = [d for d in window.open_dialogs if isinstance(d, ShortcutsDialog)]
    cells = {dialog.table.item(row, 1).text() for row in range(dialog.table.rowCount())}
    assert {"Ctrl+F", "F5", "Ctrl+S", "Enter"} <= cells
    dialog.reject()


def test_a_change_elsewhere_reaches_the_open_dialog_of_that_record(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    staff = make_staff(engine)
    customer = staff.services.customers.create_customer(
        staff.admin, CustomerDraft(first_name="Ada", last_name="Lovelace", email="ada@ex.com")
    )
    window = make_window_factory(qtbot, staff, runner, tmp_path)(staff.admin)

    dialog = window.open_customer(customer.id)
    assert isinstance(dialog, CustomerDialog)
    qtbot.waitUntil(lambda: dialog.first_name.text() == "Ada")
    window.apply_change(Change("customers", "UPDATE", (uuid.uuid4(),)))  # someone else
    assert not dialog.changed_banner.isVisible()

    window.apply_change(Change("customers", "UPDATE", (customer.id,)))

    assert dialog.changed_banner.isVisible()
    assert "Someone else changed this record" in dialog.changed_banner.text()
    dialog.reject()
    qtbot.waitUntil(lambda: not window.open_dialogs)


def test_products_open_create_and_deactivate_from_the_keyboard(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    seed_many(engine, 5)
    staff = make_staff(engine)
    window = make_window_factory(qtbot, staff, runner, tmp_path)(staff.manager)
    products = window.products
    assert products is not None
    qtbot.waitUntil(lambda: products.model.rowCount() == 5)
    table = products.table
    table.setFocus()
    table.setCurrentIndex(products.model.index(1, 0))  # SKU-00002, active

    qtbot.keyClick(table, Qt.Key.Key_Return)
    (editing,) = window.open_dialogs
    assert isinstance(editing, ProductDialog)
    qtbot.waitUntil(lambda: editing.sku.text() == "SKU-00002")
    editing.reject()
    back_to(qtbot, window)

    qtbot.keyClick(table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    (creating,) = window.open_dialogs
    assert isinstance(creating, ProductDialog) and creating.record_id is None
    creating.reject()
    back_to(qtbot, window)

    qtbot.keyClick(table, Qt.Key.Key_Delete)
    box = window.question_box
    qtbot.waitUntil(box.isVisible)
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: products.model.index(1, ACTIVE).data() == "No")
    current = products.table.currentIndex()
    assert products.model.index(current.row(), 0).data() == "SKU-00002"  # still selected


def test_a_clerk_cannot_create_or_deactivate_products(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    seed_many(engine, 3)
    staff = make_staff(engine)
    window = make_window_factory(qtbot, staff, runner, tmp_path)(staff.clerk)
    products = window.products
    assert products is not None
    qtbot.waitUntil(lambda: products.model.rowCount() == 3)
    products.table.setCurrentIndex(products.model.index(0, 0))

    assert not window.new_action.isEnabled()
    assert not window.delete_action.isEnabled()
    assert window.open_action.isEnabled()
    assert not window.new_category_action.isVisible()


def test_the_products_tab_filters_by_category_and_status(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    seed_many(engine, 20, category="Tools")  # every tenth is inactive
    seed_many_more = [f"GL-{n}" for n in range(3)]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO product_categories (name) VALUES ('Gloves')"))
        for sku in seed_many_more:
            conn.execute(
                text(
                    "INSERT INTO products (sku, name, category_id, price) SELECT :sku, 'Glove', "
                    "id, 3 FROM product_categories WHERE name = 'Gloves'"
                ),
                {"sku": sku},
            )
    staff = make_staff(engine)
    window = make_window_factory(qtbot, staff, runner, tmp_path)(staff.sales)
    products = window.products
    assert products is not None
    qtbot.waitUntil(lambda: products.category_filter.count() == 3)  # All, Gloves, Tools
    qtbot.waitUntil(lambda: window.status_label.text() == "23 products")

    products.category_filter.setCurrentIndex(products.category_filter.findText("Gloves"))
    qtbot.waitUntil(lambda: window.status_label.text() == "3 products")
    assert {products.model.index(r, 0).data() for r in range(3)} == set(seed_many_more)

    products.category_filter.setCurrentIndex(0)
    products.active_filter.setCurrentIndex(products.active_filter.findText("Inactive only"))
    qtbot.waitUntil(lambda: window.status_label.text() == "2 products")
    assert [products.model.index(r, 0).data() for r in range(2)] == ["SKU-00010", "SKU-00020"]


def test_tabs_search_and_reload_from_the_keyboard(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    seed_many(engine, 5)
    staff = make_staff(engine)
    window = make_window_factory(qtbot, staff, runner, tmp_path)(staff.admin)
    assert window.products is not None and window.orders is not None
    assert window.customers is not None and window.warehouses is not None
    qtbot.waitUntil(lambda: window.status_label.text() == "5 products")
    focus = QApplication.focusWidget
    assert focus() is window.products.table

    qtbot.keyClick(focus(), Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.orders
    qtbot.keyClick(focus() or window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert focus() is window.orders.search
    qtbot.keyClick(
        focus(),
        Qt.Key.Key_Backtab,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert window.tabs.currentWidget() is window.products

    with qtbot.waitSignal(window.products.model.modelReset):
        qtbot.keyClick(focus() or window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.status_label.text() == "5 products")

    qtbot.keyClick(focus() or window, Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)
    assert window.tabs.currentWidget() is window.warehouses
    qtbot.keyClick(focus() or window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()


def test_imports_are_offered_by_permission_and_open_their_dialog(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    staff = make_staff(engine)
    clerk = make_window_factory(qtbot, staff, runner, tmp_path)(staff.clerk)
    visible = [a.text().replace("&", "") for a in clerk.import_actions if a.isVisible()]
    assert visible == ["Import stock counts…"]

    manager = make_window_factory(qtbot, staff, runner, tmp_path)(staff.manager)
    assert all(action.isVisible() for action in manager.import_actions)
    manager.import_actions[1].trigger()
    (dialog,) = manager.open_dialogs
    assert isinstance(dialog, ImportDialog)
    dialog.reject()
    qtbot.waitUntil(lambda: not manager.open_dialogs)


def test_dashboard_panels_open_the_matching_list_filtered(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    staff = make_staff(engine)
    window = make_window_factory(qtbot, staff, runner, tmp_path)(staff.manager)
    assert window.dashboard is not None and window.orders is not None
    assert window.products is not None

    window.open_list(
        "orders", {"status": "PENDING", "date_from": date(2026, 1, 1), "date_to": date(2026, 1, 31)}
    )
    assert window.tabs.currentWidget() is window.orders
    query = window.orders.query
    assert (query.status, query.date_from, query.date_to) == (
        "PENDING", date(2026, 1, 1), date(2026, 1, 31)
    )  # fmt: skip

    category = staff.services.categories.create_category(staff.manager, CategoryDraft("Rope"))
    window.open_list("products", {"category_id": category.id})
    assert window.tabs.currentWidget() is window.products
    assert window.products.query.category_id == category.id

    customer = staff.services.customers.create_customer(
        staff.manager, CustomerDraft(first_name="Bo", last_name="Bell", email="bo@ex.com")
    )
    window.open_list("customer", customer.id)
    (dialog,) = window.open_dialogs
    assert isinstance(dialog, CustomerDialog) and dialog.record_id == customer.id
    dialog.reject()
    qtbot.waitUntil(lambda: not window.open_dialogs)


def test_lists_export_and_orders_print_from_the_menus(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    staff = make_staff(engine)
    window = make_window_factory(qtbot, staff, runner, tmp_path)(staff.sales)
    assert window.export_action.isEnabled()  # on the Products tab
    assert window.reports is None and window.dashboard is None  # no reports.view
    assert window.print_menu is not None
    titles = [a.text().replace("&", "") for a in window.print_menu.actions()]
    assert titles[:3] == ["Print order confirmation…", "Print packing slip…", "Print pick list…"]
