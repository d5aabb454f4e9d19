"""The main window: a tab per working area, menus and a toolbar that follow the user's
permissions, a status bar, live refresh from other workstations, and remembered layout.

Every tab offers the same small surface (`reload`, `focus_search`, `apply_change`,
`status_text` with a `status_changed` signal, and optionally `new_requested` and
`open_requested(uuid)` signals with `selected_id()`), so the window's actions work the same
way wherever the user is. What the user may not do is not offered: tabs and actions whose
permission the user's roles lack are left out or disabled, never refused after a click.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtCore import (
    QByteArray,
    QMetaObject,
    QObject,
    QSettings,
    Qt,
    SignalInstance,
)
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTableView,
    QTabWidget,
    QToolBar,
    QToolButton,
    QWidget,
)

from erpgo_desktop import __version__, config
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.wording import code_label
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.ui import icons, look
from erpgo_desktop.ui.about_dialog import AboutDialog, AboutInfo
from erpgo_desktop.ui.backup_dialog import RestoreDialog, start_backup
from erpgo_desktop.ui.category_dialog import CategoryDialog
from erpgo_desktop.ui.column_fit import ColumnFitter
from erpgo_desktop.ui.connection_settings import open_connection_settings
from erpgo_desktop.ui.customer_dialog import CustomerDialog
from erpgo_desktop.ui.customers_tab import CustomersTab
from erpgo_desktop.ui.dashboard_tab import DashboardTab
from erpgo_desktop.ui.exporting import export_table
from erpgo_desktop.ui.forms import FormDialog, alive
from erpgo_desktop.ui.health_panel import HealthDialog
from erpgo_desktop.ui.import_dialog import ImportDialog
from erpgo_desktop.ui.order_dialog import OrderDialog
from erpgo_desktop.ui.orders_tab import OrdersTab
from erpgo_desktop.ui.printing import DocumentActions
from erpgo_desktop.ui.product_dialog import ProductDialog
from erpgo_desktop.ui.products_tab import ProductsTab, products_status
from erpgo_desktop.ui.reports_tab import ReportsTab
from erpgo_desktop.ui.shortcuts import ShortcutsDialog
from erpgo_desktop.ui.stock_dialogs import (
    AdjustDialog,
    CountDialog,
    ReceiveDialog,
    StockDialog,
    TransferDialog,
)
from erpgo_desktop.ui.tasks import TaskRunner, show_failure
from erpgo_desktop.ui.users_admin import open_users_admin
from erpgo_desktop.ui.warehouse_dialog import WarehouseDialog
from erpgo_desktop.ui.warehouses_tab import WarehousesTab
from erpgo_desktop.ui.widgets import ElidedLabel
from erpgo_desktop.ui.window_fit import place_main_window

__all__ = ["MainWindow", "products_status"]

log = logging.getLogger(__name__)

SETTINGS_ORGANIZATION = "ERPGo"


class WorkTab(Protocol):
    status_changed: SignalInstance

    def reload(self) -> None: ...
    def focus_search(self) -> None: ...
    def apply_change(self, change: Change) -> None: ...
    def status_text(self) -> str: ...


class ChangeSource(Protocol):
    """Where changes committed elsewhere come from (ui/live.py's ChangeFeed)."""

    changed: SignalInstance


@dataclass
class _Area:
    """A tab and what the window's generic actions do on it."""

    key: str  # for the settings
    title: str
    widget: QWidget
    table: QTableView | None
    new_permission: str | None = None
    new_record: Callable[[], object] | None = None
    open_record: Callable[[uuid.UUID], object] | None = None
    delete_permission: str | None = None
    delete_record: Callable[[uuid.UUID], object] | None = None


@dataclass
class _Watched:
    """What the window connected to one of its open dialogs."""

    #: The table whose tabs a save of the dialog refreshes.
    refreshes: str | None
    connections: list[QMetaObject.Connection]


@dataclass(frozen=True)
class KeptDialog:
    """A dialog waiting, hidden, for the next sign-in (`MainWindow.release_dialogs`)."""

    dialog: FormDialog
    refreshes: str | None


class MainWindow(QMainWindow):
    def __init__(
        self,
        *,
        services: Services,
        runner: TaskRunner,
        user: CurrentUser,
        location_description: str,
        changes: ChangeSource | None = None,
        connection_indicator: QWidget | None = None,
        settings: QSettings | None = None,
        icon: QIcon | None = None,
        paths: config.AppPaths | None = None,
        location: config.DatabaseLocation | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.user = user
        # This computer's folders and database choice: for the connection settings.
        self.paths = paths
        self.location = location
        self.location_description = location_description
        self.setWindowTitle("ERPGo Desktop")
        if icon is not None:
            self.setWindowIcon(icon)
        # Most of the screen it opens on (a saved geometry replaces it, _restore_layout).
        place_main_window(self)
        self._settings = settings if settings is not None else QSettings()
        self._settings_group = f"users/{user.username}"
        self._open_dialogs: list[QDialog] = []
        self._watched: dict[QDialog, _Watched] = {}

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self._areas: list[_Area] = []
        self._build_areas()

        self.status_label = QLabel("Loading…")
        self.status_label.setObjectName("list_status")
        self.user_label = QLabel(f"Signed in as {user.full_name or user.username}")
        roles = ", ".join(code_label(role) for role in user.roles) or "none"
        self.user_label.setToolTip(f"{user.username} — roles: {roles}")
        # A long location (a path) gives way to the rest; its tooltip has it whole.
        self.database_label = ElidedLabel(f"Database: {location_description}")
        status = self.statusBar()
        status.addWidget(self.status_label, 1)
        permanent: list[QWidget] = [self.user_label, self.database_label]
        if connection_indicator is not None:
            permanent.insert(0, connection_indicator)
        for label in (self.status_label, *permanent):
            label.setContentsMargins(6, 0, 6, 0)
        for widget in permanent:
            status.addPermanentWidget(widget)

        self._build_actions()
        self.tabs.currentChanged.connect(self._tab_changed)
        if changes is not None:
            changes.changed.connect(self.apply_change)
        self._restore_layout()
        self._tab_changed()
        current = self.tabs.currentWidget()
        if current is not None:
            current.setFocus()

    # -- areas ---------------------------------------------------------------------------

    def _build_areas(self) -> None:
        services, runner, user = self.services, self.runner, self.user
        self.products: ProductsTab | None = None
        if perms.allows(user.permissions, perms.PRODUCTS_READ):
            self.products = ProductsTab(
                services.catalog,
                runner,
                categories=lambda: services.categories.list_categories(user),
            )
            self._add_area(
                _Area(
                    "products",
                    "&Products",
                    self.products,
                    self.products.table,
                    new_permission=perms.PRODUCTS_WRITE,
                    new_record=lambda: self.open_product(None),
                    open_record=self.open_product,
                    delete_permission=perms.PRODUCTS_WRITE,
                    delete_record=self.deactivate_product,
                ),
                self.products,
            )
        self.orders: OrdersTab | None = None
        if perms.allows(user.permissions, perms.ORDERS_READ):
            self.orders = OrdersTab(services, runner, user)
            self._add_area(
                _Area(
                    "orders",
                    "&Orders",
                    self.orders,
                    self.orders.table,
                    new_permission=perms.ORDERS_CREATE,
                    new_record=lambda: self.open_order(None),
                    open_record=self.open_order,
                ),
                self.orders,
            )
        self.customers: CustomersTab | None = None
        if perms.allows(user.permissions, perms.CUSTOMERS_READ):
            self.customers = CustomersTab(services, runner, user)
            self.customers.order_requested.connect(self.open_order_for_customer)
            self._add_area(
                _Area(
                    "customers",
                    "&Customers",
                    self.customers,
                    self.customers.table,
                    new_permission=perms.CUSTOMERS_WRITE,
                    new_record=lambda: self.open_customer(None),
                    open_record=self.open_customer,
                    delete_permission=perms.CUSTOMERS_WRITE,
                    delete_record=self.deactivate_customer,
                ),
                self.customers,
            )
        self.warehouses: WarehousesTab | None = None
        if perms.allows(user.permissions, perms.INVENTORY_READ):
            self.warehouses = WarehousesTab(services, runner, user, show_dialog=self.show_dialog)
            self._add_area(
                _Area(
                    "warehouses",
                    "&Warehouses",
                    self.warehouses,
                    self.warehouses.table,
                    new_permission=perms.WAREHOUSES_WRITE,
                    new_record=lambda: self.open_warehouse(None),
                    open_record=self.open_warehouse,
                ),
                self.warehouses,
            )
        self.reports: ReportsTab | None = None
        if perms.allows(user.permissions, perms.REPORTS_VIEW):
            self.reports = ReportsTab(services, runner, user)
            self._add_area(
                _Area("reports", "Reports", self.reports, self.reports.table), self.reports
            )
        self.dashboard: DashboardTab | None = None
        if perms.allows(user.permissions, perms.REPORTS_VIEW):
            self.dashboard = DashboardTab(services, runner, user)
            self.dashboard.open_list_requested.connect(self.open_list)
            self._add_area(_Area("dashboard", "&Dashboard", self.dashboard, None), self.dashboard)

    def _add_area(self, area: _Area, tab: Any) -> None:
        self._areas.append(area)
        self.tabs.addTab(area.widget, area.title)
        tab.status_changed.connect(lambda: self._tab_status_changed(area.widget))
        if hasattr(tab, "open_requested") and area.open_record is not None:
            tab.open_requested.connect(area.open_record)
        if hasattr(tab, "new_requested") and area.new_record is not None:
            tab.new_requested.connect(area.new_record)

    def current_area(self) -> _Area | None:
        widget = self.tabs.currentWidget()
        return next((area for area in self._areas if area.widget is widget), None)

    def _current_tab(self) -> WorkTab | None:
        area = self.current_area()
        return None if area is None else area.widget  # type: ignore[return-value]

    # -- actions -------------------------------------------------------------------------

    def _allowed(self, permission: str | None) -> bool:
        return permission is None or perms.allows(self.user.permissions, permission)

    def _action(
        self,
        text: str,
        slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        *,
        tip: str | None = None,
        icon: str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if icon is not None:
            action.setIcon(icons.icon(icon))
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)  # shortcuts work even with the menu bar hidden
        return action

    def _build_actions(self) -> None:
        self.new_action = self._action(
            "&New…",
            self.new_record,
            QKeySequence.StandardKey.New,
            tip="Create a record here",
            icon="new",
        )
        self.open_action = self._action(
            "&Open",
            self.open_selected,
            "Ctrl+O",
            tip="Open the selected record (or Enter)",
            icon="open",
        )
        self.delete_action = self._action(
            "&Deactivate", self.delete_selected, QKeySequence.StandardKey.Delete, icon="deactivate"
        )
        # Delete belongs to the lists; in a text field it deletes text.
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.removeAction(self.delete_action)
        self.tabs.addAction(self.delete_action)
        self.export_action = self._action(
            "&Export list…",
            self.export_current,
            "Ctrl+E",
            tip="Save the list as CSV or XLSX",
            icon="export",
        )
        self.close_action = self._action("&Close window", self.close, "Ctrl+W", icon="close")
        self.quit_action = self._action(
            "&Quit", self.close, QKeySequence.StandardKey.Quit, icon="quit"
        )
        self.find_action = self._action(
            "&Find…", self.find_in_tab, QKeySequence.StandardKey.Find, icon="find"
        )
        self.refresh_action = self._action(
            "&Refresh", self.reload_current, QKeySequence.StandardKey.Refresh, icon="refresh"
        )
        self.next_tab_action = self._action(
            "&Next tab", lambda: self._step_tab(1), "Ctrl+Tab", icon="next-tab"
        )
        self.previous_tab_action = self._action(
            "&Previous tab", lambda: self._step_tab(-1), "Ctrl+Shift+Tab", icon="previous-tab"
        )
        self.shortcuts_action = self._action(
            "&Keyboard shortcuts",
            self.show_shortcuts,
            QKeySequence.StandardKey.HelpContents,
            icon="shortcuts",
        )
        self.about_action = self._action("&About ERPGo Desktop", self.show_about, icon="about")
        self.users_action = self._action("&Users and roles…", self.open_users_admin, icon="users")
        self.users_action.setVisible(self._allowed(perms.USERS_ADMIN))
        self.health_action = self._action(
            "Database &health…", self.open_database_health, icon="health"
        )
        self.health_action.setVisible(self._allowed(perms.USERS_ADMIN))
        self.backup_action = self._action(
            "&Back up…",
            lambda: start_backup(self, self.services.backup, self.runner, self.user),
            icon="backup",
        )
        self.backup_action.setVisible(self._allowed(perms.USERS_ADMIN))
        self.restore_action = self._action("&Restore…", self.open_restore, icon="restore")
        self.restore_action.setVisible(self._allowed(perms.USERS_ADMIN))
        # This computer's own settings file, which anyone at it may edit: no permission.
        self.connection_action = self._action(
            "&Connection settings…", self.open_connection_settings, icon="connection"
        )
        self.connection_action.setVisible(self.paths is not None)

        self.new_customer_action = self._action(
            "New &customer…", lambda: self.open_customer(None), icon="new-customer"
        )
        self.new_customer_action.setVisible(self._allowed(perms.CUSTOMERS_WRITE))
        self.new_order_action = self._action(
            "New &order…", lambda: self.open_order(None), icon="new-order"
        )
        self.new_order_action.setVisible(self._allowed(perms.ORDERS_CREATE))
        self.customer_order_action = self._action(
            "New order for the selected c&ustomer…",
            self.order_for_selected_customer,
            tip="A new order for the customer selected in the Customers tab, with their addresses",
            icon="new-order",
        )
        self.customer_order_action.setVisible(
            self._allowed(perms.ORDERS_CREATE) and self.customers is not None
        )
        self.new_category_action = self._action(
            "New product &category…", lambda: self.open_category(None), icon="new-category"
        )
        self.new_category_action.setVisible(self._allowed(perms.PRODUCTS_WRITE))
        self.stock_actions: list[QAction] = []
        for dialog_class, text, icon in (
            (ReceiveDialog, "&Receive stock…", "receive"),
            (AdjustDialog, "&Adjust stock…", "adjust"),
            (TransferDialog, "&Transfer stock…", "transfer"),
            (CountDialog, "&Count stock…", "count"),
        ):
            action = self._stock_action(text, dialog_class)
            action.setIcon(icons.icon(icon))
            action.setVisible(self._allowed(dialog_class.permission))
            self.stock_actions.append(action)

        self.import_actions: list[QAction] = []
        for kind, text, permission, table in (
            ("products", "Import &products…", perms.PRODUCTS_WRITE, "products"),
            ("customers", "Import c&ustomers…", perms.CUSTOMERS_WRITE, "customers"),
            ("stock_counts", "Import &stock counts…", perms.INVENTORY_COUNT, "product_inventory"),
        ):
            action = self._import_action(text, kind, table)
            action.setIcon(icons.icon("import"))
            action.setVisible(self._allowed(permission))
            self.import_actions.append(action)

        menu_bar = self.menuBar()
        file_menu = menu_bar.addMenu("&File")
        file_menu.addAction(self.new_action)
        file_menu.addAction(self.open_action)
        file_menu.addSeparator()
        for action in self.import_actions:
            file_menu.addAction(action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.close_action)
        file_menu.addAction(self.quit_action)
        edit_menu = menu_bar.addMenu("&Edit")
        edit_menu.addAction(self.find_action)
        edit_menu.addAction(self.delete_action)
        view_menu = menu_bar.addMenu("&View")
        view_menu.addAction(self.refresh_action)
        view_menu.addAction(self.next_tab_action)
        view_menu.addAction(self.previous_tab_action)
        sales_menu = menu_bar.addMenu("&Sales")
        sales_menu.addAction(self.new_order_action)
        sales_menu.addAction(self.customer_order_action)
        sales_menu.addAction(self.new_customer_action)
        self.print_menu: QMenu | None = None
        if self._allowed(perms.ORDERS_READ):
            sales_menu.addSeparator()
            self.documents = DocumentActions(self.services.documents, self.runner, self.user, self)
            self.print_menu = self.documents.add_print_menu(sales_menu, self._selected_order)
        inventory_menu = menu_bar.addMenu("&Inventory")
        for action in self.stock_actions:
            inventory_menu.addAction(action)
        inventory_menu.addSeparator()
        inventory_menu.addAction(self.new_category_action)
        for menu in (sales_menu, inventory_menu):
            menu.menuAction().setVisible(
                any(action.isVisible() for action in menu.actions() if not action.isSeparator())
            )
        admin_menu = menu_bar.addMenu("&Administration")
        admin_menu.addAction(self.users_action)
        admin_menu.addAction(self.health_action)
        admin_menu.addSeparator()
        admin_menu.addAction(self.backup_action)
        admin_menu.addAction(self.restore_action)
        admin_menu.addSeparator()
        admin_menu.addAction(self.connection_action)
        admin_menu.menuAction().setVisible(
            any(action.isVisible() for action in admin_menu.actions() if not action.isSeparator())
        )
        help_menu = menu_bar.addMenu("&Help")
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)

        toolbar = self.toolbar = QToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setToolButtonStyle(look.toolbar_style())
        toolbar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for action in (self.new_action, self.open_action, self.refresh_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.export_action)
        if self.print_menu is not None:
            # The toolbar's Print opens the Sales › Print menu (documents of the order
            # selected in the Orders tab).
            toolbar.addAction(self.print_menu.menuAction())
            button = toolbar.widgetForAction(self.print_menu.menuAction())
            if isinstance(button, QToolButton):
                button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.addToolBar(toolbar)

    def _update_actions(self) -> None:
        area = self.current_area()
        can_new = area is not None and area.new_record is not None
        self.new_action.setEnabled(can_new and self._allowed(area.new_permission if area else None))
        has_row = area is not None and self._selected_id(area) is not None
        self.open_action.setEnabled(area is not None and area.open_record is not None and has_row)
        can_delete = area is not None and area.delete_record is not None
        self.delete_action.setEnabled(
            can_delete and has_row and self._allowed(area.delete_permission if area else None)
        )
        self.find_action.setEnabled(area is not None)
        self.customer_order_action.setEnabled(self._selected_customer() is not None)
        self.export_action.setEnabled(area is not None and area.table is not None)
        self.refresh_action.setEnabled(area is not None)
        if self.print_menu is not None and self.documents.print_section is not None:
            self.documents.print_section.set_enabled(self._selected_order() is not None)

    # -- what the actions do -------------------------------------------------------------

    def new_record(self) -> None:
        area = self.current_area()
        if area is not None and area.new_record is not None and self.new_action.isEnabled():
            area.new_record()

    def open_selected(self) -> None:
        area = self.current_area()
        if area is None or area.open_record is None:
            return
        record_id = self._selected_id(area)
        if record_id is not None:
            area.open_record(record_id)

    def delete_selected(self) -> None:
        area = self.current_area()
        if area is None or area.delete_record is None or not self.delete_action.isEnabled():
            return
        record_id = self._selected_id(area)
        if record_id is not None:
            area.delete_record(record_id)

    def export_current(self) -> None:
        """The current tab's list as the user sees it (filters, sort, columns)."""
        area = self.current_area()
        table = None if area is None else area.table
        model = None if table is None else table.model()
        if area is None or table is None or model is None:
            return
        export_table(self, self.runner, model, table, title=area.title.replace("&", ""))

    def find_in_tab(self) -> None:
        tab = self._current_tab()
        if tab is not None:
            tab.focus_search()

    def reload_current(self) -> None:
        tab = self._current_tab()
        if tab is not None:
            tab.reload()

    def _step_tab(self, step: int) -> None:
        count = self.tabs.count()
        if count:
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % count)

    def show_shortcuts(self) -> None:
        dialog = ShortcutsDialog(self.menuBar(), self)
        self.show_dialog(dialog)

    def show_about(self) -> None:
        paths = self.paths or config.AppPaths.for_user()
        info = AboutInfo(__version__, self.location_description, paths.log_file)
        dialog = AboutDialog(
            info, self, runner=self.runner, server_version=self.services.health.server_version
        )
        self.show_dialog(dialog)

    def _selected_id(self, area: _Area) -> uuid.UUID | None:
        selected = getattr(area.widget, "selected_id", None)
        return selected() if callable(selected) else None

    # -- dialogs -------------------------------------------------------------------------

    def show_dialog(self, dialog: QDialog, *, refreshes: str | None = None) -> QDialog:
        """Open a dialog window-modally without blocking, and pass it changes made
        elsewhere while it is open; `refreshes`: the table whose tabs its saves refresh
        at once (a FormDialog's `saved`)."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._watch(dialog, refreshes)
        dialog.open()
        return dialog

    def show_window(self, dialog: QDialog) -> None:
        """Show a window of its own (users, health) beside the main window, not modal;
        closing the main window closes it."""
        if dialog not in self._open_dialogs:
            self._watch(dialog, None)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def open_users_admin(self) -> None:
        dialog = open_users_admin(self, self.services, self.runner, self.user)
        if dialog is not None:
            self.show_window(dialog)

    def open_database_health(self) -> None:
        for dialog in self._open_dialogs:
            if isinstance(dialog, HealthDialog):
                self.show_window(dialog)
                return
        dialog = HealthDialog(self.services.health, self.runner, self.user, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.show_window(dialog)

    def open_restore(self) -> None:
        self.show_window(RestoreDialog(self.services.backup, self.runner, self.user, self))

    def open_connection_settings(self) -> None:
        if self.paths is not None:
            open_connection_settings(self.paths, self.runner, self, location=self.location)

    def _watch(self, dialog: QDialog, refreshes: str | None) -> None:
        # The connections are kept: a dialog that outlives this window (a sign-out) must
        # not call into it once it is gone.
        self._open_dialogs.append(dialog)
        connections = [dialog.finished.connect(lambda _result: self._forget_dialog(dialog))]
        if refreshes is not None and isinstance(dialog, FormDialog):
            table = refreshes
            connections.append(dialog.saved.connect(lambda _row: self._refresh_areas(table)))
        self._watched[dialog] = _Watched(refreshes, connections)

    def _forget_dialog(self, dialog: QDialog) -> None:
        if dialog in self._open_dialogs:
            self._open_dialogs.remove(dialog)
        self._watched.pop(dialog, None)

    def release_dialogs(self) -> list[KeptDialog]:
        """Signed out: the open dialogs that can wait for the next sign-in, hidden with what
        was typed and no longer this window's; the others are closed without asking."""
        kept: list[KeptDialog] = []
        for dialog in list(self._open_dialogs):
            watched = self._watched.pop(dialog)
            self._open_dialogs.remove(dialog)
            for connection in watched.connections:
                QObject.disconnect(connection)
            if isinstance(dialog, FormDialog) and dialog.keeps_over_sign_out:
                dialog.suspend()
                # Its own window now: it must not go when this window does.
                dialog.setParent(None, dialog.windowFlags())
                kept.append(KeptDialog(dialog, watched.refreshes))
            else:
                dialog.done(QDialog.DialogCode.Rejected)
        return kept

    def adopt_dialogs(self, kept: list[KeptDialog]) -> None:
        """Show again the dialogs a sign-out left waiting, now this window's and working
        for its person through its services."""
        for entry in kept:
            dialog = entry.dialog
            if not alive(dialog):  # closed meanwhile (a save that went through after all)
                continue
            dialog.setParent(self, dialog.windowFlags())
            self._watch(dialog, entry.refreshes)
            dialog.open()
            dialog.resume(self.services, self.user)

    def close_signed_out(self) -> None:
        """Close at once, asking nothing: the person's session has ended. Call
        `release_dialogs` first for what should wait for the next sign-in."""
        for dialog in list(self._open_dialogs):
            dialog.done(QDialog.DialogCode.Rejected)
        self.close()

    @property
    def open_dialogs(self) -> tuple[QDialog, ...]:
        return tuple(self._open_dialogs)

    def open_product(self, product_id: uuid.UUID | None) -> QDialog:
        dialog = ProductDialog(self.services, self.runner, self.user, product_id, parent=self)
        return self.show_dialog(dialog, refreshes="products")

    def open_category(self, category_id: uuid.UUID | None) -> QDialog:
        dialog = CategoryDialog(
            self.services.categories,
            self.runner,
            self.user,
            category_id,
            parent=self,
            history=self.services.history,
        )
        return self.show_dialog(dialog, refreshes="products")

    def deactivate_product(self, product_id: uuid.UUID) -> None:
        products, user = self.services.products, self.user

        def work() -> object:
            current = products.get_product(user, product_id)
            return products.deactivate_product(user, product_id, expected_version=current.version)

        self.confirm(
            "Deactivate product",
            "Deactivate the selected product? It stays in orders and stock, but can no "
            "longer be sold or received.",
            lambda: self.run(work, lambda _row: self._refresh_areas("products")),
        )

    def confirm(self, title: str, question: str, on_yes: Callable[[], None]) -> QMessageBox:
        """Ask without blocking the event loop (list refreshes go on meanwhile)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            title,
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_result: int) -> None:
            if box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Yes:
                on_yes()

        box.finished.connect(answered)
        box.open()
        self.question_box = box
        return box

    def deactivate_customer(self, customer_id: uuid.UUID) -> None:
        customers, user = self.services.customers, self.user

        def work() -> object:
            current = customers.get_customer(user, customer_id)
            return customers.deactivate_customer(
                user, customer_id, expected_version=current.version
            )

        self.confirm(
            "Deactivate customer",
            "Deactivate the selected customer? Their orders stay; no new orders can be "
            "entered for them.",
            lambda: self.run(work, lambda _row: self._refresh_areas("customers")),
        )

    def open_order(self, order_id: uuid.UUID | None) -> QDialog:
        dialog = OrderDialog(self.services, self.runner, self.user, order_id, parent=self)
        return self.show_dialog(dialog, refreshes="orders")

    def open_order_for_customer(self, customer_id: uuid.UUID) -> QDialog:
        """A new order with this customer chosen and their addresses filled in."""
        dialog = OrderDialog(
            self.services, self.runner, self.user, parent=self, customer_id=customer_id
        )
        return self.show_dialog(dialog, refreshes="orders")

    def _selected_customer(self) -> uuid.UUID | None:
        area = self.current_area()
        if self.customers is None or area is None or area.widget is not self.customers:
            return None
        return self.customers.selected_id()

    def order_for_selected_customer(self) -> None:
        customer_id = self._selected_customer()
        if customer_id is not None and self._allowed(perms.ORDERS_CREATE):
            self.open_order_for_customer(customer_id)

    def open_warehouse(self, warehouse_id: uuid.UUID | None) -> QDialog:
        dialog = WarehouseDialog(self.services, self.runner, self.user, warehouse_id, parent=self)
        return self.show_dialog(dialog, refreshes="warehouses")

    def open_list(self, what: str, detail: object) -> None:
        """Show what a dashboard panel stands for: a list filtered, or one record. The list
        shows that filter only: its search and other filters are reset."""
        if isinstance(detail, uuid.UUID):
            openers: dict[str, Callable[[uuid.UUID], object]] = {
                "order": self.open_order,
                "product": self.open_product,
                "customer": self.open_customer,
            }
            if what in openers:
                openers[what](detail)
            return
        filters = detail if isinstance(detail, dict) else {}
        if what == "orders" and self.orders is not None:
            self.tabs.setCurrentWidget(self.orders)
            self.orders.show_filtered(
                status=filters.get("status"),
                date_from=filters.get("date_from"),
                date_to=filters.get("date_to"),
            )
        elif what == "products" and self.products is not None:
            self.tabs.setCurrentWidget(self.products)
            category_id = filters.get("category_id")
            if isinstance(category_id, uuid.UUID):
                self.products.show_category(category_id)
        elif what == "warehouses" and self.warehouses is not None:
            self.tabs.setCurrentWidget(self.warehouses)
            warehouse_id = filters.get("warehouse_id")
            search = filters.get("search")
            if isinstance(warehouse_id, uuid.UUID):
                self.warehouses.show_stock(warehouse_id, search if isinstance(search, str) else "")

    def _selected_order(self) -> tuple[uuid.UUID, str] | None:
        if self.orders is None or self.current_area() is None:
            return None
        if self.current_area().widget is not self.orders:  # type: ignore[union-attr]
            return None
        index = self.orders.table.currentIndex()
        row = self.orders.model.row_at(index.row()) if index.isValid() else None
        return None if row is None else (row.id, row.order_number)

    def _import_action(self, text: str, kind: str, table: str) -> QAction:
        return self._action(text, lambda: self.open_import(kind, table))

    def open_import(self, kind: str, table: str) -> QDialog:
        dialog = ImportDialog(self.services, self.runner, self.user, kind, parent=self)
        dialog.imported.connect(lambda _result: self._refresh_areas(table))
        return self.show_dialog(dialog)

    def _stock_action(self, text: str, dialog_class: type[StockDialog]) -> QAction:
        return self._action(text, lambda: self.open_stock_dialog(dialog_class))

    def open_stock_dialog(self, dialog_class: type[StockDialog]) -> QDialog:
        """A stock dialog from the Inventory menu, preset from the Warehouses tab when the
        user is there."""
        warehouse_id = None
        area = self.current_area()
        if self.warehouses is not None and area is not None and area.widget is self.warehouses:
            warehouse_id = self.warehouses.selected_id()
        dialog = dialog_class(
            self.services, self.runner, self.user, warehouse_id=warehouse_id, parent=self
        )
        return self.show_dialog(dialog, refreshes="product_inventory")

    def open_customer(self, customer_id: uuid.UUID | None) -> QDialog:
        dialog = CustomerDialog(
            self.services.customers,
            self.runner,
            self.user,
            customer_id,
            parent=self,
            history=self.services.history,
        )
        dialog.order_requested.connect(self.open_order_for_customer)
        return self.show_dialog(dialog, refreshes="customers")

    def _refresh_areas(self, table: str) -> None:
        """Our own save shows at once, without waiting for the notification's round trip."""
        # Our own: the record windows that saved it must not hear "someone else changed
        # this" (an order window said so right after its own partial shipment).
        self.apply_change(Change.made_here(table))

    def run(
        self,
        work: Callable[[], Any],
        on_success: Callable[[Any], None],
    ) -> None:
        self.runner.run(work, on_success, lambda error: show_failure(self, error), owner=self)

    # -- changes made elsewhere ----------------------------------------------------------

    def apply_change(self, change: Change) -> None:
        for area in self._areas:
            apply = getattr(area.widget, "apply_change", None)
            if callable(apply):
                apply(change)
        if change.is_own:
            return  # the open records saved it themselves: nobody else changed them
        for dialog in self._open_dialogs:
            notice = getattr(dialog, "notice_change", None)
            if callable(notice):
                notice(change.table, change.ids)

    # -- status bar ----------------------------------------------------------------------

    def _tab_changed(self, _index: int = -1) -> None:
        self._update_status()
        self._update_actions()
        area = self.current_area()
        if area is not None and area.table is not None:
            selection = area.table.selectionModel()
            if selection is not None and not getattr(area.table, "_watched", False):
                selection.currentChanged.connect(lambda *_: self._update_actions())
                area.table._watched = True  # type: ignore[attr-defined]

    def _tab_status_changed(self, widget: QWidget) -> None:
        if widget is self.tabs.currentWidget():
            self._update_status()
            self._update_actions()

    def _update_status(self) -> None:
        tab = self._current_tab()
        self.status_label.setText("" if tab is None else tab.status_text())

    # -- remembered layout ---------------------------------------------------------------

    def _restore_layout(self) -> None:
        settings = self._settings
        settings.beginGroup(self._settings_group)
        try:
            geometry = settings.value("geometry")
            if isinstance(geometry, QByteArray):
                self.restoreGeometry(geometry)
            state = settings.value("window_state")
            if isinstance(state, QByteArray):
                self.restoreState(state)
            for area in self._areas:
                header_state = settings.value(f"tabs/{area.key}/header")
                if area.table is not None and isinstance(header_state, QByteArray):
                    header: QHeaderView = area.table.horizontalHeader()
                    header.restoreState(header_state)
                fitter = _fitter(area.table)
                widths = settings.value(f"tabs/{area.key}/widths")
                if fitter is not None and isinstance(widths, str):
                    fitter.set_user_widths(_parse_widths(widths))
            last = settings.value("last_tab")
            for number, area in enumerate(self._areas):
                if area.key == last:
                    self.tabs.setCurrentIndex(number)
        finally:
            settings.endGroup()
        # The header's sort indicator may have changed the first query: a tab starts
        # loading only once that is known (see each tab's sort handling).

    def save_layout(self) -> None:
        settings = self._settings
        settings.beginGroup(self._settings_group)
        try:
            settings.setValue("geometry", self.saveGeometry())
            settings.setValue("window_state", self.saveState())
            for area in self._areas:
                if area.table is not None:
                    settings.setValue(
                        f"tabs/{area.key}/header", area.table.horizontalHeader().saveState()
                    )
                fitter = _fitter(area.table)
                if fitter is not None:
                    # Only the widths the person chose: the others follow the contents.
                    widths = fitter.user_widths()
                    settings.setValue(
                        f"tabs/{area.key}/widths", ",".join(f"{s}:{w}" for s, w in widths.items())
                    )
            current = self.current_area()
            if current is not None:
                settings.setValue("last_tab", current.key)
        finally:
            settings.endGroup()
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        for dialog in list(self._open_dialogs):
            if not dialog.close():  # a dialog with unsaved changes asked, and was kept
                event.ignore()
                return
        self.save_layout()
        super().closeEvent(event)


def _fitter(table: QTableView | None) -> ColumnFitter | None:
    fitter = getattr(table, "column_fitter", None)
    return fitter if isinstance(fitter, ColumnFitter) else None


def _parse_widths(text: str) -> dict[int, int]:
    """ "0:222,3:90" (as saved) as {section: width}; what does not parse is dropped."""
    widths = {}
    for part in text.split(","):
        section, _, width = part.partition(":")
        if section.strip().isdigit() and width.strip().isdigit():
            widths[int(section)] = int(width)
    return widths
