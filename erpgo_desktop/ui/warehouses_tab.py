"""The Warehouses tab: the warehouses, the stock of the one selected, and the ledger of the
stock row selected; receive, adjust, transfer and count from here.

Three lists, each a `PagedTableModel` over a small source that binds the acting user:

- the warehouses (code, name, active), all of them in one page (a few hundred at most);
- the selected warehouse's stock rows, products' and variants', by SKU, searched by SKU,
  name or barcode (`InventoryService.warehouse_stock`), in keyset pages;
- the ledger of the selected stock row, newest first (`InventoryService.ledger` narrowed to
  the row's warehouse and variant), in keyset pages.

The buttons open the stock dialogs (stock_dialogs.py) preset with the selected warehouse
and item; each is there only when the user's roles grant its permission. Our own saves
show at once (the lists refresh); changes from other workstations arrive through
`apply_change` (also called `refresh_rows`), which the main window feeds with the change
notifications.

    tab = WarehousesTab(services, runner, acting, show_dialog=window.show_dialog)
    tab.open_requested.connect(open_warehouse_dialog)   # Enter on a warehouse

Keys: Tab walks warehouse list, search, stock, ledger and the buttons; Ctrl+F (through
the window's `focus_search`) goes to the search; Enter in the search searches at once,
Escape clears it; Alt+letter presses a button.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.domain.wording import code_label, sentence
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.inventory import (
    LedgerCursor,
    LedgerPage,
    LedgerRow,
    RowCount,
    StockKey,
    WarehouseStockCursor,
    WarehouseStockPage,
    WarehouseStockRow,
)
from erpgo_desktop.services.lookup import SellableItem
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.services.warehouses import WarehouseRow
from erpgo_desktop.ui import icons
from erpgo_desktop.ui.first_show import load_when_first_shown
from erpgo_desktop.ui.list_model import Column, PagedTableModel, number, yes_no
from erpgo_desktop.ui.list_view import ListTableView
from erpgo_desktop.ui.stock_dialogs import (
    AdjustDialog,
    CountDialog,
    ReceiveDialog,
    StockDialog,
    TransferDialog,
)
from erpgo_desktop.ui.tasks import TaskRunner

__all__ = [
    "LedgerQuery",
    "LedgerSource",
    "StockQuery",
    "WarehouseListSource",
    "WarehouseStockSource",
    "WarehousesTab",
]

SEARCH_DELAY_MS = 250
STOCK_TABLES = ("product_inventory", "variant_inventory")
#: Changes of these can rename or deactivate the items listed.
ITEM_TABLES = ("products", "product_variants")


# -- sources (called on workers) ---------------------------------------------------------


@dataclass(frozen=True)
class _Page:
    rows: tuple[Any, ...]
    next_cursor: object | None = None
    has_more: bool = False


@dataclass(frozen=True)
class WarehouseListQuery:
    """Every warehouse; nothing to choose."""


class WarehouseListSource:
    def __init__(self, services: Services, acting: CurrentUser) -> None:
        self._warehouses = services.warehouses
        self._acting = acting

    def fetch_page(self, query: WarehouseListQuery, after: object, limit: int) -> _Page:
        return _Page(self._warehouses.list_warehouses(self._acting))

    def count(self, query: WarehouseListQuery) -> RowCount:
        return RowCount(len(self._warehouses.list_warehouses(self._acting)), exact=True)


@dataclass(frozen=True)
class StockQuery:
    warehouse_id: uuid.UUID | None = None
    search: str = ""


class WarehouseStockSource:
    def __init__(self, services: Services, acting: CurrentUser) -> None:
        self._inventory = services.inventory
        self._acting = acting

    def fetch_page(
        self, query: StockQuery, after: WarehouseStockCursor | None, limit: int
    ) -> WarehouseStockPage | _Page:
        if query.warehouse_id is None:
            return _Page(())
        return self._inventory.warehouse_stock(
            self._acting, query.warehouse_id, search=query.search, after=after, limit=limit
        )

    def count(self, query: StockQuery) -> RowCount:
        if query.warehouse_id is None:
            return RowCount(0, exact=True)
        return self._inventory.count_warehouse_stock(
            self._acting, query.warehouse_id, search=query.search
        )


@dataclass(frozen=True)
class LedgerQuery:
    key: StockKey | None = None


class LedgerSource:
    def __init__(self, services: Services, acting: CurrentUser) -> None:
        self._inventory = services.inventory
        self._acting = acting

    def fetch_page(
        self, query: LedgerQuery, after: LedgerCursor | None, limit: int
    ) -> LedgerPage | _Page:
        key = query.key
        if key is None:
            return _Page(())
        return self._inventory.ledger(
            self._acting,
            key.product_id,
            warehouse_id=key.warehouse_id,
            variant_id=key.variant_id,
            after=after,
            limit=limit,
        )

    def count(self, query: LedgerQuery) -> RowCount:
        key = query.key
        if key is None:
            return RowCount(0, exact=True)
        return self._inventory.count_ledger(
            self._acting, key.product_id, warehouse_id=key.warehouse_id, variant_id=key.variant_id
        )


# -- columns -----------------------------------------------------------------------------

WAREHOUSE_COLUMNS: tuple[Column[WarehouseRow], ...] = (
    Column("Code", lambda row: row.code),
    Column("Name", lambda row: row.name, tooltip=True, stretch=True),
    Column("Active", lambda row: yes_no(row.is_active)),
)

STOCK_COLUMNS: tuple[Column[WarehouseStockRow], ...] = (
    Column("SKU", lambda row: row.sku),
    Column("Name", lambda row: row.name, tooltip=True, stretch=True),
    Column("On hand", lambda row: number(row.on_hand), align_right=True),
    Column("Reserved", lambda row: number(row.reserved), align_right=True),
    Column("Sellable", lambda row: number(row.sellable), align_right=True),
    Column("Reorder at", lambda row: number(row.reorder_level), align_right=True),
    Column("Max", lambda row: number(row.maximum), align_right=True),
    Column("Low", lambda row: "Low" if row.is_low else ""),
    Column("Active", lambda row: yes_no(row.is_active)),
)

LEDGER_COLUMNS: tuple[Column[LedgerRow], ...] = (
    Column("When", lambda row: f"{row.created_at.astimezone():%Y-%m-%d %H:%M:%S}"),
    Column("Type", lambda row: code_label(row.transaction_type)),
    Column("Quantity", lambda row: f"{row.quantity:+,}", align_right=True),
    Column("Reason", lambda row: sentence(row.reason or ""), tooltip=True, stretch=True),
    Column("By", lambda row: row.created_by or ""),
)


def _table(name: str, model: PagedTableModel) -> ListTableView:
    """A list (ui/list_view.py) of which one row is chosen at a time."""
    table = ListTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return table


def _caption(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


@dataclass(frozen=True)
class _StockAction:
    name: str
    text: str
    dialog: type[StockDialog]


STOCK_ACTIONS = (
    _StockAction("receive", "&Receive…", ReceiveDialog),
    _StockAction("adjust", "Ad&just…", AdjustDialog),
    _StockAction("transfer", "&Transfer…", TransferDialog),
    _StockAction("count", "Cou&nt…", CountDialog),
)


class WarehousesTab(QWidget):
    """See the module docstring."""

    #: The status bar's summary changed (see `status_text`).
    status_changed = Signal()
    #: Enter or a double click on a warehouse (to edit it).
    open_requested = Signal(uuid.UUID)
    #: A stock dialog opened from here saved something (the service's result).
    stock_saved = Signal(object)

    def __init__(
        self,
        services: Services,
        runner: TaskRunner,
        acting: CurrentUser,
        parent: QWidget | None = None,
        *,
        show_dialog: Callable[[QDialog], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.acting = acting
        self._show_dialog = show_dialog
        self._failure: str | None = None
        #: The stock dialog opened last (tests drive it).
        self.last_dialog: StockDialog | None = None

        self.warehouse_model = PagedTableModel(
            WarehouseListSource(services, acting),
            runner,
            WAREHOUSE_COLUMNS,
            WarehouseListQuery(),
            parent=self,
        )
        self.stock_model = PagedTableModel(
            WarehouseStockSource(services, acting),
            runner,
            STOCK_COLUMNS,
            StockQuery(),
            row_key=lambda row: row.item_id,
            parent=self,
        )
        self.ledger_model = PagedTableModel(
            LedgerSource(services, acting), runner, LEDGER_COLUMNS, LedgerQuery(), parent=self
        )
        for model in (self.warehouse_model, self.stock_model, self.ledger_model):
            model.status_changed.connect(lambda *_status: self.status_changed.emit())
            model.load_failed.connect(self._load_failed)

        self.warehouse_table = _table("warehouse_table", self.warehouse_model)
        self.search = QLineEdit()
        self.search.setObjectName("stock_search")
        self.search.setPlaceholderText("Search SKU, name or barcode (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.installEventFilter(self)
        self.table = _table("stock_table", self.stock_model)
        self.ledger_table = _table("ledger_table", self.ledger_model)
        self.ledger_title = QLabel("&Ledger")
        self.ledger_title.setBuddy(self.ledger_table)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.search.textEdited.connect(lambda _text: self._search_timer.start())
        self.search.textChanged.connect(lambda text: None if text else self.apply_search())
        self.search.returnPressed.connect(self.apply_search)

        self.buttons: dict[str, QPushButton] = {}
        button_row = QHBoxLayout()
        for action in STOCK_ACTIONS:
            if not acting.can(action.dialog.permission):
                continue  # not offered rather than refused after a click
            button = QPushButton(icons.icon(action.name), action.text)
            button.setObjectName(f"{action.name}_button")
            button.setAutoDefault(False)
            button.clicked.connect(
                lambda _checked=False, kind=action.dialog: self.open_stock_dialog(kind)
            )
            self.buttons[action.name] = button
            button_row.addWidget(button)
        button_row.addStretch(1)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(_caption("W&arehouses", self.warehouse_table))
        left_layout.addWidget(self.warehouse_table)

        stock_part = QWidget()
        stock_layout = QVBoxLayout(stock_part)
        stock_layout.setContentsMargins(0, 0, 0, 0)
        self.stock_title = _caption("Stoc&k", self.search)
        stock_layout.addWidget(self.stock_title)
        stock_layout.addWidget(self.search)
        stock_layout.addWidget(self.table)
        stock_layout.addLayout(button_row)
        ledger_part = QWidget()
        ledger_layout = QVBoxLayout(ledger_part)
        ledger_layout.setContentsMargins(0, 0, 0, 0)
        ledger_layout.addWidget(self.ledger_title)
        ledger_layout.addWidget(self.ledger_table)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(stock_part)
        right.addWidget(ledger_part)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 800])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        QWidget.setTabOrder(self.warehouse_table, self.search)
        QWidget.setTabOrder(self.search, self.table)
        QWidget.setTabOrder(self.table, self.ledger_table)
        previous: QWidget = self.ledger_table
        for button in self.buttons.values():
            QWidget.setTabOrder(previous, button)
            previous = button
        self.setFocusProxy(self.table)

        self.warehouse_table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self._warehouse_selected(current)
        )
        self._wanted_warehouse: uuid.UUID | None = None
        self.warehouse_model.rowsInserted.connect(self._select_first_warehouse)
        self.warehouse_table.activated.connect(self._warehouse_activated)
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self._stock_row_selected(current)
        )
        self.stock_model.modelReset.connect(lambda: self._stock_row_selected(QModelIndex()))
        self.stock_model.modelReset.connect(self._forget_failure)
        self._update_buttons()
        # The stock and the ledger follow the selected warehouse: read nothing before the
        # tab is first shown (ui/first_show.py).
        self.warehouse_model.hold()
        self.first_show = load_when_first_shown(self, self.warehouse_model.start)

    # -- what the main window asks of every tab ------------------------------------------

    def reload(self) -> None:
        """F5: everything read again (the selection stays where it can)."""
        self._failure = None
        self.warehouse_model.refresh()
        self.stock_model.reload()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def apply_change(self, change: Change) -> None:
        """A change committed elsewhere (or here): reload what it can have touched."""
        if change.concerns("warehouses"):
            self.warehouse_model.refresh()
        stock_change = any(change.concerns(table) for table in STOCK_TABLES)
        item_change = any(change.concerns(table) for table in ITEM_TABLES)
        if not stock_change and not item_change:
            return
        ids = None if change.ids is None else set(change.ids)
        # Stock ids are items, not warehouses: any stock change may add a row here.
        if stock_change or ids is None or ids & self._loaded_item_ids():
            self.stock_model.refresh()
        key = self.ledger_model.query.key
        if (
            stock_change
            and key is not None
            and (ids is None or key.product_id in ids or key.variant_id in ids)
        ):
            self.ledger_model.refresh()

    #: The name the brief for live refresh uses.
    refresh_rows = apply_change

    def status_text(self) -> str:
        if self._failure is not None:
            return f"The stock could not be loaded: {self._failure} (F5 tries again)"
        warehouse = self.selected_warehouse()
        if warehouse is None:
            return "Loading…" if self.warehouse_model.is_loading else "No warehouse selected"
        count = self.stock_model.count
        if count is None:
            return "Loading…"
        search = self.stock_model.query.search.strip()
        figure = f"{count.count:,}" + ("" if count.exact else "+")
        if search:
            if count.count == 0:
                return f"Nothing in {warehouse.code} matches “{search}”"
            return f"{figure} stock rows in {warehouse.code} match “{search}”"
        if count.count == 0:
            return f"No stock in {warehouse.code} yet"
        noun = "stock row" if count.count == 1 and count.exact else "stock rows"
        return f"{figure} {noun} in {warehouse.code}"

    def selected_id(self) -> uuid.UUID | None:
        """The selected warehouse (what the window's Open acts on)."""
        warehouse = self.selected_warehouse()
        return None if warehouse is None else warehouse.id

    # -- selection -----------------------------------------------------------------------

    def selected_warehouse(self) -> WarehouseRow | None:
        index = self.warehouse_table.currentIndex()
        if not index.isValid():
            return None
        row: WarehouseRow | None = self.warehouse_model.row_at(index.row())
        return row

    def selected_stock_row(self) -> WarehouseStockRow | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        row: WarehouseStockRow | None = self.stock_model.row_at(index.row())
        return row

    def select_warehouse(self, warehouse_id: uuid.UUID) -> bool:
        row = self.warehouse_model.row_of_key(warehouse_id)
        if row is None:
            return False
        self.warehouse_table.selectRow(row)
        return True

    def show_stock(self, warehouse_id: uuid.UUID, search: str = "") -> bool:
        """Select a warehouse and list its stock matching `search` (a dashboard's low-stock
        row: the item's SKU), whatever was searched before; False if it is not listed."""
        self._search_timer.stop()
        self.search.blockSignals(True)
        self.search.setText(search)
        self.search.blockSignals(False)
        if not self.select_warehouse(warehouse_id):
            # Not listed yet (the list still loading): chosen once it arrives.
            self._wanted_warehouse = warehouse_id
            return False
        self.stock_model.set_query(StockQuery(warehouse_id, search))
        return True

    def _select_first_warehouse(self) -> None:
        wanted, self._wanted_warehouse = self._wanted_warehouse, None
        if wanted is not None and self.select_warehouse(wanted):
            return
        if not self.warehouse_table.currentIndex().isValid() and self.warehouse_model.rowCount():
            self.warehouse_table.selectRow(0)

    def _warehouse_selected(self, current: QModelIndex) -> None:
        warehouse = self.warehouse_model.row_at(current.row()) if current.isValid() else None
        warehouse_id = None if warehouse is None else warehouse.id
        self.stock_title.setText(
            "Stoc&k" if warehouse is None else f"Stoc&k in {warehouse.code} — {warehouse.name}"
        )
        self.stock_model.set_query(StockQuery(warehouse_id, self.search.text()))
        self._update_buttons()
        self.status_changed.emit()

    def _stock_row_selected(self, current: QModelIndex) -> None:
        row = self.stock_model.row_at(current.row()) if current.isValid() else None
        key = None if row is None else row.key
        if key != self.ledger_model.query.key:
            self.ledger_model.set_query(LedgerQuery(key))
        warehouse = self.selected_warehouse()
        if row is None or warehouse is None:
            self.ledger_title.setText("&Ledger (select a stock row)")
        else:
            self.ledger_title.setText(
                f"&Ledger of {row.sku} — {row.name} in {warehouse.code}, newest first"
            )

    def _warehouse_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_requested.emit(self.warehouse_model.row_at(index.row()).id)

    def _loaded_item_ids(self) -> set[uuid.UUID]:
        ids: set[uuid.UUID] = set()
        for number_ in range(self.stock_model.rowCount()):
            row = self.stock_model.row_at(number_)
            if row is not None:
                ids.add(row.product_id)
                if row.variant_id is not None:
                    ids.add(row.variant_id)
        return ids

    def _update_buttons(self) -> None:
        has_warehouse = self.selected_warehouse() is not None
        for button in self.buttons.values():
            button.setEnabled(has_warehouse)

    # -- search --------------------------------------------------------------------------

    def apply_search(self) -> None:
        self._search_timer.stop()
        self.stock_model.set_search(self.search.text())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() == Qt.Key.Key_Escape and self.search.text():
                self.search.clear()
                return True
            if event.key() == Qt.Key.Key_Down:
                self.apply_search()
                self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
                if not self.table.currentIndex().isValid() and self.stock_model.rowCount():
                    self.table.selectRow(0)
                return True
        return super().eventFilter(watched, event)

    # -- the stock dialogs ---------------------------------------------------------------

    def open_stock_dialog(self, kind: type[StockDialog]) -> None:
        """Open `kind` preset with the selected warehouse and stock row's item.

        The item is looked up by its SKU first (a SellableItem carries what the dialog
        shows); an item no longer active opens the dialog without one."""
        if not self.acting.can(kind.permission):
            return
        warehouse = self.selected_warehouse()
        warehouse_id = None if warehouse is None else warehouse.id
        row = self.selected_stock_row()
        if row is None:
            self._open(kind, warehouse_id, None)
            return
        lookup, acting, sku = self.services.lookup, self.acting, row.sku

        def matching(items: tuple[SellableItem, ...]) -> SellableItem | None:
            return next(
                (
                    item
                    for item in items
                    if item.product_id == row.product_id and item.variant_id == row.variant_id
                ),
                None,
            )

        self.runner.run(
            lambda: lookup.find_by_code(acting, sku),
            lambda items: self._open(kind, warehouse_id, matching(items)),
            lambda _error: self._open(kind, warehouse_id, None),
            owner=self,
        )

    def _open(
        self, kind: type[StockDialog], warehouse_id: uuid.UUID | None, item: SellableItem | None
    ) -> None:
        dialog = kind(
            self.services,
            self.runner,
            self.acting,
            warehouse_id=warehouse_id,
            item=item,
            parent=self,
        )
        dialog.saved.connect(self._stock_dialog_saved)
        self.last_dialog = dialog
        if self._show_dialog is not None:
            self._show_dialog(dialog)
        else:
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.open()

    def _stock_dialog_saved(self, result: object) -> None:
        # Our own booking shows at once, without waiting for the notification.
        self.stock_model.refresh()
        if self.ledger_model.query.key is not None:
            self.ledger_model.refresh()
        self.stock_saved.emit(result)

    # -- failures ------------------------------------------------------------------------

    def _load_failed(self, message: str) -> None:
        self._failure = message
        self.status_changed.emit()

    def _forget_failure(self) -> None:
        self._failure = None
