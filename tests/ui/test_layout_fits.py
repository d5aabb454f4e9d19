"""Nothing is cut: every dialog and tab, on a 1366x768 laptop and a 1920x1080 monitor
(tests/screens/: the laptop in this process, the monitor in a process of its own started
by `test_everything_fits_on_a_1920x1080_monitor_too`), with long names, SKUs of the
schema's full length and long error messages, shows every label, message, field, header
and code whole (tests/ui/fit_check.py says how that is judged).

Names are long but not endless: 90-110 characters, what a long product or company name
is; a text longer than a screen is wide cannot show on one line, and a line edit then
scrolls, as it should. SKUs are the schema's 100 characters; warehouse codes its 20.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QSettings, Qt
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop import __version__
from erpgo_desktop.config import CONFIG_DIR_ENV, DATA_DIR_ENV, DATABASE_URL_ENV, AppPaths
from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.auth import AuthService
from erpgo_desktop.services.backup import BackupService
from erpgo_desktop.ui.about_dialog import AboutDialog, AboutInfo
from erpgo_desktop.ui.backup_dialog import BackupDialog, RestoreDialog
from erpgo_desktop.ui.category_dialog import CategoryDialog
from erpgo_desktop.ui.conflict_dialog import ConflictDialog
from erpgo_desktop.ui.connection_settings import ConnectionSettingsDialog
from erpgo_desktop.ui.customer_dialog import CustomerDialog
from erpgo_desktop.ui.first_admin import FirstAdminDialog
from erpgo_desktop.ui.forms import FormDialog, RecordDialog
from erpgo_desktop.ui.import_dialog import ImportDialog
from erpgo_desktop.ui.login import LoginDialog
from erpgo_desktop.ui.main_window import MainWindow
from erpgo_desktop.ui.order_actions import ConfirmOrderDialog, MoneyDialog, ShipOrderDialog
from erpgo_desktop.ui.order_dialog import OrderDialog
from erpgo_desktop.ui.product_dialog import ProductDialog, VariantDialog
from erpgo_desktop.ui.shortcuts import ShortcutsDialog
from erpgo_desktop.ui.stock_dialogs import (
    AdjustDialog,
    CountDialog,
    ReceiveDialog,
    StockDialog,
    TransferDialog,
)
from erpgo_desktop.ui.tasks import TaskRunner
from erpgo_desktop.ui.user_dialog import ResetPasswordDialog
from erpgo_desktop.ui.users_admin import UsersAdminDialog
from erpgo_desktop.ui.warehouse_dialog import WarehouseDialog
from erpgo_desktop.ui.window_fit import place_main_window, screen_room
from tests.conftest import SCREEN_ENV, TEST_SCREEN
from tests.services.test_orders_support import World, make_world, receive
from tests.ui.fit_check import assert_fits, misfits

#: The one screen of this process (tests/conftest.py).
SCREENS = (TEST_SCREEN,)
SKU = ("LONG-SKU-" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" * 3)[:100]
PRODUCT_NAME = (
    "Umbrella Boot Tray with Raised Edges for Wet Shoes and Boots, "
    "Extra Large Heavy Duty Rubber, Graphite Grey"
)
CATEGORY_NAME = "Household Storage, Shoe Racks and Entryway Organisation Accessories"
WAREHOUSE_CODE = "NORTH-DISTRIBUTION-1"  # 20 characters, the schema's limit
WAREHOUSE_NAME = "Northern Regional Distribution Centre, Building C, Loading Docks 14 to 22"
COMPANY = (
    "Consolidated International Hospitality Supplies and Facility Management "
    "Services Limited Partnership"
)
MESSAGE = (
    "The stock cannot be booked: the warehouse Northern Regional Distribution Centre, "
    "Building C, holds 3 of this item, of which 3 are reserved for confirmed orders, so "
    "none can be taken away. Receive more first, or lower the quantity; what you typed is "
    "kept."
)


def screen(name: str) -> QScreen:
    return next(s for s in QGuiApplication.screens() if s.name() == name)


def put_on(window: QWidget, name: str) -> None:
    """Where a window opened on that screen would be, before it is shown."""
    room = screen(name).availableGeometry()
    window.move(room.topLeft() + QPoint(20, 20))


@dataclass(frozen=True)
class LongShop:
    world: World
    services: Services
    product: uuid.UUID
    customer: uuid.UUID
    order: uuid.UUID
    category: uuid.UUID


def make_long_shop(engine: Engine) -> LongShop:
    world = make_world(engine)
    product = world.product(stock={world.main: 40, world.east: 5})
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE warehouses SET code = :code, name = :name WHERE id = :w"),
            {"code": WAREHOUSE_CODE, "name": WAREHOUSE_NAME, "w": world.main},
        )
        category = connection.execute(
            text(
                "UPDATE product_categories SET name = :n WHERE id = "
                "(SELECT category_id FROM products WHERE id = :p) RETURNING id"
            ),
            {"n": CATEGORY_NAME, "p": product},
        ).scalar_one()
        connection.execute(
            text("UPDATE products SET sku = :sku, name = :name, barcode = :b WHERE id = :p"),
            {"sku": SKU, "name": PRODUCT_NAME, "b": "4006381333931", "p": product},
        )
    customer = world.customer(credit_limit="100000")
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE customers SET first_name = :f, last_name = :l, company = :c, "
                "email = :e, customer_code = :code, type = 'BUSINESS' WHERE id = :id"
            ),
            {
                "f": "Maximiliane Alexandra",
                "l": "Vandenberghe-Oppenheimer",
                "c": COMPANY,
                "e": "maximiliane.vandenberghe-oppenheimer@consolidated-hospitality.example",
                "code": "CUST-2026-000123-NORTHWEST",
                "id": customer,
            },
        )
    order = world.draft([(product, 3)], customer=customer)
    order = world.orders.submit(world.sales, order.id, order.version)
    order = world.orders.confirm(world.manager, order.id, order.version, world.main)
    receive(engine, product, {world.east: 1})
    return LongShop(
        world, build_services(engine), product, customer, order.id, uuid.UUID(str(category))
    )


@pytest.fixture
def shop(engine: Engine, runner: TaskRunner) -> LongShop:
    return make_long_shop(engine)


@pytest.fixture(params=SCREENS)
def screen_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def show_on(qtbot: QtBot, window: QWidget, name: str) -> None:
    qtbot.addWidget(window)
    put_on(window, name)
    window.show()
    qtbot.waitExposed(window)
    assert window.screen().name() == name


def settle(qtbot: QtBot, window: QWidget) -> None:
    """Let the layout, the fitter and late answers have their turn (no timers pending)."""
    fitter = getattr(window, "window_fitter", None)
    for _turn in range(3):  # a fit may widen a field, which asks for another layout
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest.value)
        qtbot.wait(0)
        if fitter is not None:
            fitter.fit()
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest.value)


# -- the main window -------------------------------------------------------------------


def test_the_main_window_uses_the_screen_it_opens_on(
    qtbot: QtBot, shop: LongShop, runner: TaskRunner, tmp_path: Path, screen_name: str
) -> None:
    window = MainWindow(
        services=shop.services,
        runner=runner,
        user=shop.world.admin,
        location_description=(
            "embedded PostgreSQL in /home/maximiliane.vandenberghe/.local/share/erpgo-desktop/"
            "pgdata"
        ),
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    put_on(window, screen_name)
    place_main_window(window)
    window.show()
    qtbot.waitExposed(window)
    room = screen_room(window)
    assert room.contains(window.frameGeometry())
    assert window.width() >= 0.85 * room.width()
    assert window.height() >= 0.85 * room.height()
    for number in range(window.tabs.count()):
        window.tabs.setCurrentIndex(number)
        tab = window.tabs.currentWidget()
        status: Callable[[], str] = getattr(tab, "status_text", lambda: "")
        qtbot.waitUntil(lambda status=status: "Loading" not in status(), timeout=10_000)
        settle(qtbot, window)
        assert_fits(window)


# -- dialogs ---------------------------------------------------------------------------


def _long_errors(qtbot: QtBot, dialog: FormDialog) -> None:
    """A long message in the banner and under the first field, as a refused save shows."""
    dialog.show_banner(MESSAGE)
    dialog.show_field_error(dialog.field_names[0], MESSAGE)
    settle(qtbot, dialog)


StockFactory = Callable[..., StockDialog]


@pytest.mark.parametrize(
    "kind", [ReceiveDialog, AdjustDialog, TransferDialog, CountDialog], ids=lambda k: k.__name__
)
def test_stock_dialogs_show_their_stock_names_and_errors_whole(
    qtbot: QtBot, shop: LongShop, runner: TaskRunner, screen_name: str, kind: StockFactory
) -> None:
    item = shop.services.lookup.find_by_code(shop.world.clerk, SKU)[0]
    dialog = kind(
        shop.services, runner, shop.world.manager, warehouse_id=shop.world.main, item=item
    )
    show_on(qtbot, dialog, screen_name)
    qtbot.waitUntil(lambda: dialog.ready)
    qtbot.waitUntil(lambda: "on hand" in dialog.stock_label.text())
    if isinstance(dialog, TransferDialog):
        dialog.destination.setCurrentIndex(
            dialog.destination.findText("EAST", Qt.MatchFlag.MatchContains)
        )
        qtbot.waitUntil(lambda: "To EAST" in dialog.stock_label.text())
    settle(qtbot, dialog)
    assert_fits(dialog)
    _long_errors(qtbot, dialog)
    assert_fits(dialog)


@pytest.mark.parametrize("kind", [ReceiveDialog, TransferDialog], ids=lambda k: k.__name__)
def test_an_empty_stock_dialog_grows_to_its_placeholders_and_the_warehouse_chosen(
    qtbot: QtBot, shop: LongShop, runner: TaskRunner, screen_name: str, kind: StockFactory
) -> None:
    """As from the Inventory menu: nothing preset. The fitter's own signals must do it
    (no settle(), which calls the fitter directly)."""
    dialog = kind(shop.services, runner, shop.world.manager)
    show_on(qtbot, dialog, screen_name)
    qtbot.waitUntil(lambda: dialog.ready)
    qtbot.waitUntil(lambda: not misfits(dialog), timeout=5_000)
    combo = dialog.warehouse_combos()[0]
    combo.setCurrentIndex(combo.findText(WAREHOUSE_CODE, Qt.MatchFlag.MatchContains))
    assert WAREHOUSE_NAME in combo.currentText()
    qtbot.waitUntil(lambda: not misfits(dialog), timeout=5_000)


def _record_dialogs(shop: LongShop, runner: TaskRunner) -> Iterator[RecordDialog]:
    services, world = shop.services, shop.world
    history = services.history
    yield ProductDialog(services, runner, world.manager, shop.product)
    yield CategoryDialog(services.categories, runner, world.manager, shop.category, history=history)
    yield CustomerDialog(services.customers, runner, world.sales, shop.customer, history=history)
    yield WarehouseDialog(services, runner, world.admin, world.main)
    yield OrderDialog(services, runner, world.manager, shop.order)


@pytest.mark.parametrize("which", ["product", "category", "customer", "warehouse", "order"])
def test_record_dialogs_show_long_records_and_errors_whole(
    qtbot: QtBot, shop: LongShop, runner: TaskRunner, screen_name: str, which: str
) -> None:
    names = ["product", "category", "customer", "warehouse", "order"]
    dialog = list(_record_dialogs(shop, runner))[names.index(which)]
    show_on(qtbot, dialog, screen_name)
    qtbot.waitUntil(lambda: not dialog.loading, timeout=10_000)
    settle(qtbot, dialog)
    assert_fits(dialog)
    _long_errors(qtbot, dialog)
    assert_fits(dialog)


def test_sign_in_and_first_administrator_show_their_messages_whole(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, screen_name: str
) -> None:
    auth = AuthService(make_session_factory(engine))
    login = LoginDialog(auth, runner, username="maximiliane.vandenberghe")
    show_on(qtbot, login, screen_name)
    login.error.setText(MESSAGE)
    login.error.show()
    settle(qtbot, login)
    assert_fits(login)

    first = FirstAdminDialog(auth, runner)
    show_on(qtbot, first, screen_name)
    first._show_error(next(iter(first.fields)), MESSAGE)
    first.general_error.setText(MESSAGE)
    first.general_error.show()
    settle(qtbot, first)
    assert_fits(first)


def test_variant_confirmation_and_shortcuts_show_everything_whole(
    qtbot: QtBot, shop: LongShop, runner: TaskRunner, tmp_path: Path, screen_name: str
) -> None:
    services, world = shop.services, shop.world
    with shop.world.engine.begin() as connection:
        variant = connection.execute(
            text(
                "INSERT INTO product_variants (product_id, sku, name, price) "
                "VALUES (:p, :sku, :name, 10) RETURNING id"
            ),
            {"p": shop.product, "sku": SKU[:-2] + "-L", "name": "Large " + PRODUCT_NAME},
        ).scalar_one()
    dialog = VariantDialog(
        services.variants, runner, world.manager, shop.product, variant, history=services.history
    )
    show_on(qtbot, dialog, screen_name)
    qtbot.waitUntil(lambda: not dialog.loading, timeout=10_000)
    settle(qtbot, dialog)
    assert_fits(dialog)
    _long_errors(qtbot, dialog)
    assert_fits(dialog)

    order = world.pending([(shop.product, 2)], customer=shop.customer)
    warehouses = services.warehouses.list_warehouses(world.manager)
    stock = {shop.product: services.inventory.stock_overview(world.manager, shop.product)}
    confirm = ConfirmOrderDialog(services.orders, runner, world.manager, order, warehouses, stock)
    show_on(qtbot, confirm, screen_name)
    settle(qtbot, confirm)
    assert_fits(confirm)
    _long_errors(qtbot, confirm)
    assert_fits(confirm)

    window = MainWindow(
        services=services,
        runner=runner,
        user=world.admin,
        location_description="test database",
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    shortcuts = ShortcutsDialog(window.menuBar())
    show_on(qtbot, shortcuts, screen_name)
    settle(qtbot, shortcuts)
    assert_fits(shortcuts)


def test_about_and_conflict_show_everything_whole(
    qtbot: QtBot, tmp_path: Path, screen_name: str
) -> None:
    about = AboutDialog(
        AboutInfo(
            __version__,
            f"embedded PostgreSQL in {tmp_path / ('a-rather-long-folder-name-' * 3)}",
            tmp_path / "logs" / "erpgo-desktop.log",
            "PostgreSQL 18.1 on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0",
        )
    )
    show_on(qtbot, about, screen_name)
    settle(qtbot, about)
    assert_fits(about)

    conflict = ConflictDialog(
        [("Name", PRODUCT_NAME, PRODUCT_NAME + " (new)"), ("SKU", SKU, SKU)],
        who="maximiliane.vandenberghe",
        when=datetime(2026, 3, 4, 15, 30, tzinfo=UTC),
        message="This record was changed by maximiliane.vandenberghe after you opened it.",
        can_overwrite=True,
    )
    show_on(qtbot, conflict, screen_name)
    settle(qtbot, conflict)
    assert_fits(conflict)


def test_administration_dialogs_show_everything_whole(
    qtbot: QtBot, shop: LongShop, runner: TaskRunner, tmp_path: Path, screen_name: str
) -> None:
    services, admin = shop.services, shop.world.admin
    window = UsersAdminDialog(services, runner, admin)
    show_on(qtbot, window, screen_name)
    qtbot.waitUntil(lambda: window.users_page.model.rowCount() > 0, timeout=10_000)
    settle(qtbot, window)
    assert_fits(window)

    window.users_page.table.selectRow(0)
    window.edit_user()
    user_dialog = window.last_dialog
    assert isinstance(user_dialog, FormDialog)
    qtbot.waitUntil(lambda: not getattr(user_dialog, "loading", False), timeout=10_000)
    settle(qtbot, user_dialog)
    assert_fits(user_dialog)
    _long_errors(qtbot, user_dialog)
    assert_fits(user_dialog)
    user_dialog.close()

    window.new_role()
    role_dialog = window.last_dialog
    assert isinstance(role_dialog, FormDialog)
    settle(qtbot, role_dialog)
    assert_fits(role_dialog)
    role_dialog.close()

    backup = BackupDialog(
        BackupService(shop.world.engine),
        runner,
        admin,
        tmp_path / ("a-rather-long-folder-name-for-backups-" * 2) / "erpgo.backup",
    )
    show_on(qtbot, backup, screen_name)
    backup.message.setText(MESSAGE)
    backup.message.show()
    settle(qtbot, backup)
    assert_fits(backup)


def test_import_and_connection_settings_show_everything_whole(
    qtbot: QtBot,
    shop: LongShop,
    runner: TaskRunner,
    tmp_path: Path,
    screen_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "products.csv"
    path.write_text(
        "SKU;Name;Category;Price\n"
        f"{SKU};{PRODUCT_NAME};{CATEGORY_NAME};0\n"
        f"{SKU[:-1]}X;{PRODUCT_NAME};{CATEGORY_NAME};-3\n"
    )
    dialog = ImportDialog(shop.services, runner, shop.world.manager, "products")
    show_on(qtbot, dialog, screen_name)
    with qtbot.waitSignal(dialog.file_loaded, timeout=10_000):
        dialog.load_file(path)
    with qtbot.waitSignal(dialog.finished_run, timeout=10_000):
        dialog.check_button.click()
    settle(qtbot, dialog)
    assert_fits(dialog)

    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    paths = AppPaths.for_user(
        {CONFIG_DIR_ENV: str(tmp_path / "configuration"), DATA_DIR_ENV: str(tmp_path)}
    )
    settings = ConnectionSettingsDialog(paths, runner)
    show_on(qtbot, settings, screen_name)
    settings.show_banner(MESSAGE)
    settle(qtbot, settings)
    assert_fits(settings)


def test_shipping_payment_restore_and_password_dialogs_show_everything_whole(
    qtbot: QtBot, shop: LongShop, runner: TaskRunner, screen_name: str
) -> None:
    services, world = shop.services, shop.world
    order = world.orders.get_order(world.manager, shop.order)
    for dialog in (
        ShipOrderDialog(services.orders, runner, world.manager, order),
        MoneyDialog(services.orders, runner, world.manager, order, refund=False),
        ResetPasswordDialog(
            services.users, runner, world.admin, services.users.list_users(world.admin)[0]
        ),
    ):
        show_on(qtbot, dialog, screen_name)
        settle(qtbot, dialog)
        assert_fits(dialog)
        _long_errors(qtbot, dialog)
        assert_fits(dialog)

    restore = RestoreDialog(BackupService(world.engine), runner, world.admin)
    show_on(qtbot, restore, screen_name)
    settle(qtbot, restore)
    assert_fits(restore)


@pytest.mark.slow
@pytest.mark.skipif(TEST_SCREEN != "laptop", reason="the monitor's own run")
def test_everything_fits_on_a_1920x1080_monitor_too(tmp_path: Path) -> None:
    """This module again, in a process whose one screen is a 1920x1080 monitor."""
    env = {**os.environ, SCREEN_ENV: "desktop"}
    env.pop("QT_QPA_PLATFORM", None)  # conftest chooses the monitor's configuration
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            __file__,
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'monitor'}",
        ],
        cwd=Path(__file__).parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "skipped" in run.stdout
