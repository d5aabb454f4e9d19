"""Order entry, keyboard first, and every later step of an order.

The clerk types part of a customer's code, name or email and presses Enter (or starts
from the customer: "New order" in the customer's dialog or the Customers tab); the
addresses fill in from the customer's billing and shipping addresses (a customer without
any: their name and their last order's address). They stay the order's own to change: an
address typed here is this order's, never the customer's. Choosing another customer for a
new order refills whatever was filled in, not what was typed. Items are added by typing or
scanning a SKU or barcode and Enter (a scanner types the code and Enter; "3*CODE" adds
three), by part of a name and Enter (one match is added, several are offered to choose
from), or by choosing one of the suggestions that typing brings up.
Quantity, unit price and discount are edited in the table; the availability of each line
in every warehouse, the totals and the customer's credit follow as you type.

Nothing is written until Save draft (Ctrl+S; on a submitted order that may still change,
Save changes, enabled once something changed), Submit or another action: the dialog then
writes the difference to the order as it was loaded (create the draft, remove, change and
add lines, save the header) on a worker, one service call after the other, and shows the
service's own figures afterwards. When a call is refused, what went through is kept (the
draft exists, the lines written have their ids) and everything typed stays on screen, so
Save simply carries on from there.

Actions appear by the acting user's permissions (hidden without them) and are enabled
only in the statuses the rules' TRANSITIONS table allows, so a click never meets a
refusal the dialog could have known about. Refusals that depend on the data (too little
stock, the credit limit) are shown with the service's explanation.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.domain import orders as rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.money import ZERO
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.domain.wording import code_label
from erpgo_desktop.errors import ErpError, ValidationError
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.customers import CustomerRow
from erpgo_desktop.services.inventory import StockOverview
from erpgo_desktop.services.lookup import SellableItem
from erpgo_desktop.services.orders import OrderDetail, OrderService, StatusChangeRow
from erpgo_desktop.services.warehouses import WarehouseRow
from erpgo_desktop.ui import icons
from erpgo_desktop.ui.badges import BadgeDelegate
from erpgo_desktop.ui.column_fit import ColumnFitter, Fit
from erpgo_desktop.ui.forms import RecordDialog, format_decimal, money_edit, read_decimal
from erpgo_desktop.ui.item_field import no_match_message
from erpgo_desktop.ui.lookup_completer import (
    AsyncCompleter,
    EnterLineEdit,
    give_back_activation,
)
from erpgo_desktop.ui.order_actions import (
    ConfirmOrderDialog,
    MoneyDialog,
    OrderActionDialog,
    ReturnOrderDialog,
    ShipOrderDialog,
)
from erpgo_desktop.ui.order_lines import (
    DraftLine,
    LineEditDelegate,
    OrderLinesModel,
    TaxInfo,
    availability,
    is_short,
    money,
    order_lines_summary,
)
from erpgo_desktop.ui.printing import DocumentActions, DocumentKind
from erpgo_desktop.ui.tasks import TaskRunner, user_message
from erpgo_desktop.ui.widgets import error_label

__all__ = ["OrderDialog", "OrderState", "read_state"]

T = TypeVar("T")

#: "3*SKU-1": three of SKU-1 (a scanner never types '*').
QUANTITY_PREFIX = re.compile(r"^\s*(\d{1,4})\s*\*\s*(\S.*)$")
SUGGESTIONS = 12
#: The address fields, their labels and longest lengths (order_addresses).
ADDRESS_FIELDS: tuple[tuple[str, str, int], ...] = (
    ("first_name", "First name", 100),
    ("last_name", "Last name", 100),
    ("company", "Company", 200),
    ("address1", "Street", 255),
    ("address2", "Street (2)", 255),
    ("city", "City", 100),
    ("state", "State", 100),
    ("postal_code", "Postal code", 20),
    ("country", "Country", 100),
    ("phone", "Phone", 20),
    ("email", "Email", 255),
)
#: Filled in from a customer without addresses when chosen (the rest from their last order).
FROM_CUSTOMER = ("first_name", "last_name", "company", "phone", "email")


def customer_label(row: CustomerRow) -> str:
    code = f"{row.customer_code} · " if row.customer_code else ""
    return f"{code}{row.display_name} · {row.email}"


def item_label(item: SellableItem) -> str:
    stock = f", {item.stock_quantity:,} in stock" if item.track_inventory else ""
    return f"{item.sku} — {item.name} ({money(item.price)}{stock})"


def split_quantity(text: str) -> tuple[int, str]:
    """ "3*SKU-1" -> (3, "SKU-1"); anything else is one of it."""
    match = QUANTITY_PREFIX.match(text)
    if match:
        return int(match.group(1)), match.group(2).strip()
    return 1, text.strip()


@dataclass(frozen=True)
class OrderState:
    """The order and what the dialog shows beside it, read on a worker in one go."""

    detail: OrderDetail
    customer: CustomerRow | None = None
    history: tuple[StatusChangeRow, ...] = ()
    taxes: Mapping[uuid.UUID, TaxInfo] = field(default_factory=dict)
    stock: Mapping[uuid.UUID, StockOverview] = field(default_factory=dict)
    warehouses: tuple[WarehouseRow, ...] | None = None


def read_state(
    services: Services,
    acting: CurrentUser,
    detail: OrderDetail,
    *,
    known_taxes: frozenset[uuid.UUID] = frozenset(),
    warehouses: bool = False,
) -> OrderState:
    """What goes with `detail` on screen, as far as the acting user may read it. Runs on
    a worker; a refusal of one of these reads leaves that part out rather than failing
    the action that was just saved."""

    def optional(read: Callable[..., T], *args: Any) -> T | None:
        try:
            return read(acting, *args)
        except ErpError:
            return None

    products = {line.product_id for line in detail.lines}
    customer = None
    if acting.can(perms.CUSTOMERS_READ):
        customer = optional(services.customers.get_customer, detail.customer_id)
    history = optional(services.orders.status_history, detail.id) or ()
    taxes: dict[uuid.UUID, TaxInfo] = {}
    if acting.can(perms.PRODUCTS_READ):
        for product_id in products - known_taxes:
            product = optional(services.products.get_product, product_id)
            if product is not None:
                taxes[product_id] = TaxInfo(product.tax_rate, product.taxable)
    stock: dict[uuid.UUID, StockOverview] = {}
    houses = None
    if acting.can(perms.INVENTORY_READ):
        for product_id in products:
            overview = optional(services.inventory.stock_overview, product_id)
            if overview is not None:
                stock[product_id] = overview
        if warehouses:
            houses = optional(services.warehouses.list_warehouses)
    return OrderState(detail, customer, tuple(history), taxes, stock, houses)


@dataclass
class _Lookup:
    """A code typed or scanned (or a suggestion chosen) waiting to become a line."""

    quantity: int
    code: str = ""
    item: SellableItem | None = None


@dataclass(frozen=True)
class _Found:
    request: _Lookup
    items: tuple[SellableItem, ...]
    tax: TaxInfo | None
    stock: StockOverview | None


class _LinesField(QWidget):
    """The lines table registered as one form field (dirty tracking, conflicts)."""

    changed = Signal()

    def __init__(self, model: OrderLinesModel, table: QTableView) -> None:
        super().__init__()
        self.model = model
        self.table = table
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(table)
        self.setFocusProxy(table)
        model.edited.connect(self.changed)

    def form_state(self) -> object:
        return self.model.lines

    def set_form_state(self, state: object) -> None:
        assert isinstance(state, tuple)
        self.model.set_lines(state)

    def display_text(self) -> str:
        return order_lines_summary(self.model.lines)


class OrderDialog(RecordDialog):
    """A new order (`order_id` None) or an existing one, from entry to refund."""

    record_table = "orders"
    write_permission = perms.ORDERS_CREATE

    #: The action dialog (confirm, ship, ...) or question box open now (tests drive it).
    action_dialog: QDialog | None

    def __init__(
        self,
        services: Services,
        runner: TaskRunner,
        acting: CurrentUser,
        order_id: uuid.UUID | None = None,
        parent: QWidget | None = None,
        *,
        customer_id: uuid.UUID | None = None,
    ) -> None:
        """`customer_id`: a new order for this customer, with their addresses."""
        super().__init__(runner, acting, order_id, parent)
        self.services = services
        self.customer: CustomerRow | None = None
        self.warehouses: tuple[WarehouseRow, ...] = ()
        self.history: tuple[StatusChangeRow, ...] = ()
        self.action_dialog = None
        self._taxes: dict[uuid.UUID, TaxInfo] = {}
        #: What was filled in automatically, by field ("shipping_address.city"): a field
        #: that still holds it was not typed into, so another customer may refill it.
        self._filled: dict[str, str] = {}
        #: Bill to the shipping address, as last set automatically (not by hand).
        self._same_billing_filled = True
        self._lookups: deque[_Lookup] = deque()
        self._lookup_busy = False
        self._pick_customer_when_answered = False
        self._steps: list[tuple[OrderDetail, dict[uuid.UUID, uuid.UUID]]] = []
        self._outcome: OrderState | None = None
        self._then: Callable[[], None] | None = None
        self._focus_before: QWidget | None = None
        self.setWindowTitle("New order")
        self.setMinimumSize(980, 640)
        self.resize(1180, 700)
        self._build()
        self.finish()
        self._update_all()
        if order_id is None:
            self.mark_clean()
            self._read_warehouses()
            if customer_id is not None:
                self._start_with_customer(customer_id)
        else:
            services_, acting_ = services, acting
            self.load(
                lambda: read_state(
                    services_,
                    acting_,
                    services_.orders.get_order(acting_, order_id),
                    warehouses=True,
                )
            )
            self._update_actions()

    # --- building -----------------------------------------------------------------------

    def _build(self) -> None:
        top = QHBoxLayout()
        self.body_layout.addLayout(top)
        left = QVBoxLayout()
        top.addLayout(left, 3)
        form = self.add_form(left)
        self.customer_edit = self.add_row(
            form,
            "customer",
            "Cu&stomer:",
            EnterLineEdit(),
            aliases=("customer_id", "credit_limit"),
        )
        self.customer_edit.setPlaceholderText("Type part of a code, name or email; Enter")
        self.customer_search = AsyncCompleter(
            self.customer_edit,
            self.runner,
            self._search_customers,
            customer_label,
        )
        self.customer_search.picked.connect(self._customer_picked)
        self.customer_search.entered.connect(self._customer_entered)
        self.customer_search.answered.connect(self._customer_answered)
        self.customer_search.failed.connect(lambda m: self.show_field_error("customer", m))
        self.customer_edit.textEdited.connect(self._customer_typed)
        self.credit_label = QLabel()
        self.credit_label.setObjectName("credit")
        form.addRow("Credit:", self.credit_label)
        self._header_form = form
        self.credit_warning = error_label()
        self.credit_warning.setObjectName("credit_warning")
        form.addRow("", self.credit_warning)
        terms_form = form
        self.shipping_method = self.add_row(
            terms_form, "shipping_method", "Shipping &method:", QComboBox()
        )
        for method in rules.SHIPPING_METHODS:
            self.shipping_method.addItem(code_label(method), method)
        self.priority = self.add_row(terms_form, "priority", "&Priority:", QComboBox())
        for priority in rules.PRIORITIES:
            self.priority.addItem(code_label(priority), priority)
        self.priority.setCurrentIndex(rules.PRIORITIES.index("NORMAL"))
        self.order_discount = self.add_row(
            terms_form, "order_discount", "Order d&iscount:", money_edit()
        )
        right = QVBoxLayout()
        top.addLayout(right, 2)
        self.status_label = QLabel()
        self.status_label.setObjectName("status")
        self.status_label.setWordWrap(True)
        right.addWidget(self.status_label)
        right.addStretch(1)

        self.tabs = QTabWidget()
        self.body_layout.addWidget(self.tabs, 1)
        self.tabs.addTab(self._build_lines(), "&Lines")
        self.tabs.addTab(self._build_addresses(), "Add&resses")
        self.add_history_tab(self.tabs, self._build_history())

        totals = QHBoxLayout()
        self.body_layout.addLayout(totals)
        self.totals: dict[str, QLabel] = {}
        for key, title in (
            ("subtotal", "Subtotal"),
            ("discount", "Discount"),
            ("tax", "Tax"),
            ("shipping", "Shipping"),
            ("total", "Total"),
        ):
            caption = QLabel(f"{title}:")
            value = QLabel()
            value.setObjectName(f"total_{key}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if key == "total":
                font = value.font()
                font.setBold(True)
                value.setFont(font)
            totals.addWidget(caption)
            totals.addWidget(value)
            totals.addSpacing(12)
            self.totals[key] = value
        totals.addStretch(1)
        self.totals_note = QLabel()
        self.totals_note.setObjectName("totals_note")
        totals.addWidget(self.totals_note)

        self._build_actions()
        for widget in (self.shipping_method, self.priority):
            widget.currentIndexChanged.connect(self._update_totals)
        self.order_discount.textChanged.connect(self._update_totals)
        self._set_tab_order()

    def _build_lines(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        entry_row = QFormLayout()
        layout.addLayout(entry_row)
        self.entry = EnterLineEdit()
        self.entry.setObjectName("item_entry")
        self.entry.setPlaceholderText(
            "Scan or type a SKU or barcode and Enter (3*SKU for three), or part of a name"
        )
        self.entry.setMaxLength(110)
        caption = QLabel("&Add item:")
        caption.setBuddy(self.entry)
        entry_row.addRow(caption, self.entry)
        self.entry_error = error_label()
        self.entry_error.setObjectName("item_entry_error")
        entry_row.addRow("", self.entry_error)
        self.item_search = AsyncCompleter(
            self.entry,
            self.runner,
            lambda text: self.services.lookup.suggest(self.acting, text, SUGGESTIONS),
            item_label,
        )
        self.item_search.picked.connect(self._item_picked)
        self.item_search.entered.connect(self._item_entered)
        self.item_search.failed.connect(self._show_entry_error)
        self.entry.textEdited.connect(lambda _text: self._hide_entry_error())
        self.entry.installEventFilter(self)

        middle = QHBoxLayout()
        layout.addLayout(middle, 1)
        self.lines_model = OrderLinesModel(self)
        self.table = QTableView()
        self.table.setModel(self.lines_model)
        self.table.setItemDelegate(LineEditDelegate(self.table))
        self.table.setItemDelegateForColumn(OrderLinesModel.STATUS, BadgeDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table, as everywhere else
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.DoubleClicked
        )
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setWordWrap(False)  # one line per order line: long names get a tooltip
        # SKUs, amounts and a line's status whole; the item's name takes the rest, and the
        # stock per warehouse (as long as there are warehouses) shares it (see its tooltip).
        line_fits = {OrderLinesModel.ITEM: Fit.STRETCH, OrderLinesModel.AVAILABLE: Fit.TEXT}
        self.column_fitter = ColumnFitter(
            self.table, lambda column: line_fits.get(column, Fit.WHOLE)
        )
        self.table.installEventFilter(self)
        self.lines_field = _LinesField(self.lines_model, self.table)
        self.lines_error = error_label()
        self.register_field(
            "lines",
            self.lines_field,
            self.lines_error,
            label="Lines",
            aliases=("quantity", "product", "variant", "unit_price", "discount", "total_amount"),
        )
        middle.addWidget(self.lines_field, 1)
        self.stock_panel = QLabel()
        self.stock_panel.setObjectName("stock_panel")
        self.stock_panel.setWordWrap(True)
        self.stock_panel.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # No fixed minimum: the panel is as wide as its longest word (a SKU), so never cut;
        # no wider than _set_stock_text allows.
        middle.addWidget(self.stock_panel, 0)
        layout.addWidget(self.lines_error)
        hint = QLabel(
            "Down: to the lines · type a number or F2: edit the cell · Delete: remove the line"
        )
        hint.setEnabled(False)
        layout.addWidget(hint)

        self.lines_model.edited.connect(self._lines_edited)
        self.lines_model.dataChanged.connect(lambda *_: self._show_stock_panel())
        self.lines_model.refused.connect(lambda m: self.show_field_error("lines", m))
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_stock_panel())
        self._stock_timer = QTimer(self)
        self._stock_timer.setSingleShot(True)
        self._stock_timer.setInterval(300)
        self._stock_timer.timeout.connect(self._refresh_current_stock)
        return page

    def _build_addresses(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        boxes = QHBoxLayout()
        layout.addLayout(boxes)
        self.address_fields: dict[str, dict[str, QLineEdit]] = {}
        for kind, title in (("shipping", "Ship to"), ("billing", "Bill to")):
            box = QGroupBox(title)
            box_layout = QVBoxLayout(box)
            boxes.addWidget(box)
            if kind == "billing":
                self.same_billing = self.add_row(
                    self.add_form(box_layout),
                    "same_billing",
                    None,
                    QCheckBox("&Bill to the shipping address"),
                )
                self.same_billing.setChecked(True)
                self.same_billing.toggled.connect(self._billing_toggled)
            form = self.add_form(box_layout)
            edits: dict[str, QLineEdit] = {}
            for name, label, longest in ADDRESS_FIELDS:
                caption = "First &name" if (kind, name) == ("shipping", "first_name") else label
                edit = self.add_row(form, f"{kind}_address.{name}", f"{caption}:", QLineEdit())
                edit.setMaxLength(longest)
                edits[name] = edit
            self.address_fields[kind] = edits
            if kind == "billing":
                self.billing_box = box
        notes_form = self.add_form(layout)
        self.notes = self.add_row(notes_form, "notes", "No&tes:", QPlainTextEdit())
        self.notes.setTabChangesFocus(True)
        self.notes.setMaximumHeight(70)
        self._billing_toggled(True)
        return page

    def _build_history(self) -> QWidget:
        """The order's way through its statuses beside every change of its fields, lines
        and addresses (who, when, old and new value)."""
        page = QWidget()
        layout = QHBoxLayout(page)
        statuses = QVBoxLayout()
        layout.addLayout(statuses, 1)
        title = QLabel("Status changes")
        title.setObjectName("status_history_title")
        statuses.addWidget(title)
        self.history_table = QTableWidget(0, 4)
        self.history_table.setObjectName("history")
        self.history_table.setHorizontalHeaderLabels(["From", "To", "By", "When"])
        self.history_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_table.setTabKeyNavigation(False)
        self.history_table.verticalHeader().setVisible(False)
        self.history_table.horizontalHeader().setStretchLastSection(True)
        statuses.addWidget(self.history_table, 1)
        self.changes_view = self.new_history_view(self.services.history)
        # In line with the status list beside it (the page has margins of its own).
        self.changes_view.page_layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.changes_view, 2)
        page.setFocusProxy(self.history_table)
        return page

    def _build_actions(self) -> None:
        self.save_button.setText("Save &draft")
        self.save_button.setToolTip("Save the draft (Ctrl+S)")
        # Enter in an address field saves the draft; the dialog stays open.
        self.cancel_button.setText("Close")

        def button(text: str, slot: Callable[[], None], name: str) -> QPushButton:
            widget = QPushButton(icons.icon("actions" if name == "more" else name), text)
            widget.setObjectName(name)
            widget.setAutoDefault(False)
            widget.clicked.connect(slot)
            self.buttons.addButton(widget, QDialogButtonBox.ButtonRole.ActionRole)
            return widget

        self.submit_button = button("S&ubmit", self._submit, "submit")
        self.confirm_button = button("&Confirm…", self._confirm, "confirm")
        self.approve_button = button("Appro&ve", self._approve, "approve")
        self.ship_button = button("S&hip…", self._ship, "ship")
        self.more_button = button("Acti&ons ▾", self._show_more, "more")
        # Opened with popup(), not QPushButton.setMenu's exec(): no event loop of its own,
        # so the work an action starts carries on while the menu closes.
        menu = self.more_menu = QMenu(self.more_button)
        menu.aboutToHide.connect(lambda: give_back_activation(self, menu))
        entries: tuple[tuple[str, str, Callable[[], None]], ...] = (
            ("process", "&Start processing", self._start_processing),
            ("deliver", "Mark &delivered", self._deliver),
            ("hold", "Put on &hold", self._hold),
            ("resume", "&Resume", self._resume),
            ("cancel", "&Cancel order…", self._cancel),
            ("return", "Re&turn goods…", self._return),
            ("payment", "Record &payment…", self._payment),
            ("refund", "Re&fund…", self._refund),
        )
        self.menu_actions = {}
        for key, text, slot in entries:
            action = menu.addAction(text)
            # Once the menu has closed and finished with the key that chose the action.
            action.triggered.connect(lambda _checked=False, s=slot: QTimer.singleShot(0, s))
            self.menu_actions[key] = action
        # The order's documents: Print… (Ctrl+P, the confirmation), Preview, Save as PDF.
        menu.addSeparator()
        self.documents = DocumentActions(self.services.documents, self.runner, self.acting, self)
        self.document_actions = self.documents.add_document_actions(menu, self._with_saved_order)
        self.addAction(self.document_actions.print[DocumentKind.CONFIRMATION])

    def _show_more(self) -> None:
        # Below the button, or above it where the screen ends (as QPushButton places its
        # own menus): QMenu.popup alone would slide the menu up over the button.
        button, menu = self.more_button, self.more_menu
        below = button.mapToGlobal(button.rect().bottomLeft())
        screen = button.screen().availableGeometry()
        height = menu.sizeHint().height()
        if below.y() + height > screen.bottom():
            below = button.mapToGlobal(button.rect().topLeft()) - QPoint(0, height)
        menu.popup(below)

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = [
            self.customer_edit,
            self.shipping_method,
            self.priority,
            self.order_discount,
            self.tabs,
            self.entry,
            self.table,
            *self.address_fields["shipping"].values(),
            self.same_billing,
            *self.address_fields["billing"].values(),
            self.notes,
            self.history_table,
            self.changes_view.table,
            self.changes_view.details,
            self.changes_view.retry_button,
            self.save_button,
            self.submit_button,
            self.confirm_button,
            self.approve_button,
            self.ship_button,
            self.more_button,
            self.cancel_button,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    # --- customer -----------------------------------------------------------------------

    def _search_customers(self, text: str) -> Sequence[CustomerRow]:
        return self.services.customers.search_customers(self.acting, text, limit=SUGGESTIONS)

    def _customer_typed(self, text: str) -> None:
        self._pick_customer_when_answered = False
        if self.customer is not None and text != customer_label(self.customer):
            self.customer = None
            self._update_customer()

    def _customer_entered(self) -> None:
        """Enter in the customer field: the highlighted suggestion, else the first one for
        what is typed (searching now if the answer is not in yet)."""
        chosen = self.customer_search.current_payload()
        if isinstance(chosen, CustomerRow):
            self._customer_picked(chosen)
            return
        text = self.customer_edit.text().strip()
        if self.row is not None or (
            self.customer is not None and self.customer_edit.text() == customer_label(self.customer)
        ):
            self.entry.setFocus()
            return
        if not text:
            return
        search = self.customer_search
        if not search.pending and search.results_text == text:
            self._pick_first_customer()
        else:
            self._pick_customer_when_answered = True
            search.search_now()

    def _customer_answered(self) -> None:
        if self._pick_customer_when_answered:
            self._pick_customer_when_answered = False
            self._pick_first_customer()

    def _pick_first_customer(self) -> None:
        results = self.customer_search.results
        if results:
            self._customer_picked(results[0])
        else:
            self.show_field_error(
                "customer",
                f"No active customer has “{self.customer_search.results_text}” in their "
                "code, name or email.",
            )

    def _start_with_customer(self, customer_id: uuid.UUID) -> None:
        customers, acting = self.services.customers, self.acting
        self.runner.run(
            lambda: customers.get_customer(acting, customer_id),
            self._customer_given,
            self._customer_not_given,
            owner=self,
        )

    def _customer_not_given(self, error: BaseException) -> None:
        if _alive(self):
            self.show_field_error("customer", user_message(error))

    def _customer_given(self, row: CustomerRow) -> None:
        if not _alive(self) or self.customer is not None or self.row is not None:
            return  # the person chose one meanwhile
        typed = self.dirty
        self._customer_picked(row)
        if not typed:
            self.mark_clean()  # nothing the person typed yet: closing asks nothing

    def _customer_picked(self, row: CustomerRow) -> None:
        self.customer_search.cancel()
        self.customer = row
        self.customer_edit.setText(customer_label(row))
        self._edited("customer")
        self._clear_autofilled()
        addresses = row.addresses.for_order
        if addresses is not None:
            self._fill_addresses(*addresses)
        else:
            for name in FROM_CUSTOMER:
                self._autofill(name, getattr(row, name))
        self._update_customer()
        # After the popup has closed, which gives the focus back to the customer field.
        QTimer.singleShot(0, self._focus_entry)
        if addresses is None and self.acting.can(perms.ORDERS_READ):
            orders, acting, customer_id = self.services.orders, self.acting, row.id

            def last_address() -> Address | None:
                page = orders.list_orders(acting, limit=1, customer_id=customer_id)
                if not page.rows:
                    return None
                return orders.get_order(acting, page.rows[0].id).shipping_address

            self.runner.run(
                last_address, lambda a: self._last_address(customer_id, a), _ignore, owner=self
            )

    def _focus_entry(self) -> None:
        if _alive(self) and self.entry.isEnabled():
            self.entry.setFocus(Qt.FocusReason.OtherFocusReason)

    def _last_address(self, customer_id: uuid.UUID, address: Address | None) -> None:
        if address is None or not _alive(self) or self.customer is None:
            return
        if self.customer.id != customer_id:
            return
        for name, _label, _longest in ADDRESS_FIELDS:
            if name not in FROM_CUSTOMER:
                self._autofill(name, getattr(address, name))

    def _fill_addresses(self, shipping: Address, billing: Address) -> None:
        """The customer's addresses into the order's, but for what the person typed."""
        for name, _label, _longest in ADDRESS_FIELDS:
            self._autofill(name, getattr(shipping, name))
        same = billing == shipping
        if self.same_billing.isChecked() == self._same_billing_filled:
            self.same_billing.setChecked(same)
            self._same_billing_filled = same
        if not same:
            for name, _label, _longest in ADDRESS_FIELDS:
                self._autofill(name, getattr(billing, name), "billing")

    def _clear_autofilled(self) -> None:
        """Empty what the last customer filled in (and nobody changed since)."""
        for key, value in self._filled.items():
            kind, name = key.split("_address.")
            edit = self.address_fields[kind][name]
            if edit.text() == value:
                edit.clear()
        self._filled.clear()
        if self.same_billing.isChecked() == self._same_billing_filled:
            self.same_billing.setChecked(True)
            self._same_billing_filled = True

    def _autofill(self, name: str, value: str | None, kind: str = "shipping") -> None:
        """Fill an address field from the customer unless the person typed into it."""
        edit = self.address_fields[kind][name]
        key = f"{kind}_address.{name}"
        if edit.text() in ("", self._filled.get(key)):
            edit.setText(value or "")
            self._filled[key] = value or ""

    def _update_customer(self) -> None:
        row = self.customer
        self.lines_model.set_tax_exempt(bool(row and row.tax_exempt))
        if row is None:
            name = self.row.customer_name if self.row is not None else None
            self.credit_label.setText(
                "Choose a customer to see their credit." if name is None else ""
            )
        else:
            available = row.available_credit
            if available is None:
                text = f"No credit limit · balance {money(row.balance)}"
            else:
                text = (
                    f"Limit {money(row.credit_limit)} · balance {money(row.balance)} · "
                    f"available {money(available)}"
                )
            if row.tax_exempt:
                text += " · tax exempt"
            self.credit_label.setText(text)
        # Someone who may not read customers (a warehouse clerk shipping) sees no credit:
        # no row then, rather than a caption over nothing.
        self._header_form.setRowVisible(self.credit_label, bool(self.credit_label.text()))
        self._update_credit_warning()

    def _update_credit_warning(self, total: Decimal | None = None) -> None:
        row, order = self.customer, self.row
        warning = ""
        confirmed = order is not None and rules.is_confirmed(order.status, order.previous_status)
        if row is not None and row.available_credit is not None and not confirmed:
            if total is None:
                total = self._shown_total()
            paid = order.paid_amount if order is not None else ZERO
            unpaid = (total or ZERO) - paid
            if unpaid > row.available_credit:
                warning = (
                    f"Over the credit limit: this order ({money(unpaid)} unpaid) is "
                    f"{money(unpaid - row.available_credit)} more than the "
                    f"{money(row.available_credit)} available. Confirming it needs a user "
                    f"who may override credit ({perms.CUSTOMERS_CREDIT_OVERRIDE})."
                )
        self.credit_warning.setText(warning)
        self.credit_warning.setVisible(bool(warning))

    # --- adding lines -------------------------------------------------------------------

    def _item_entered(self) -> None:
        """Enter in the item field: the highlighted suggestion, else an exact SKU or
        barcode (what a scanner sends)."""
        chosen = self.item_search.current_payload()
        if isinstance(chosen, SellableItem):
            self._item_picked(chosen)
            return
        text = self.entry.text().strip()
        if not text:
            return
        quantity, code = split_quantity(text)
        self.item_search.cancel()
        self.entry.clear()
        self._hide_entry_error()
        self._lookups.append(_Lookup(quantity, code=code))
        self._next_lookup()

    def _item_picked(self, item: SellableItem) -> None:
        quantity, _text = split_quantity(self.entry.text())
        self.item_search.cancel()
        self.entry.clear()
        self._hide_entry_error()
        self._lookups.append(_Lookup(quantity, item=item))
        self._next_lookup()

    def _next_lookup(self) -> None:
        """One lookup at a time, so that lines appear in the order they were scanned."""
        if self._lookup_busy or not self._lookups:
            return
        self._lookup_busy = True
        request = self._lookups.popleft()
        services, acting = self.services, self.acting
        known = frozenset(self._taxes)

        def work() -> _Found:
            if request.item is not None:
                items: tuple[SellableItem, ...] = (request.item,)
            else:
                items = services.lookup.resolve(acting, request.code, SUGGESTIONS)
            if len(items) != 1:
                return _Found(request, items, None, None)
            item = items[0]
            tax = None
            if item.product_id not in known and acting.can(perms.PRODUCTS_READ):
                product = services.products.get_product(acting, item.product_id)
                tax = TaxInfo(product.tax_rate, product.taxable)
            stock = None
            if acting.can(perms.INVENTORY_READ):
                stock = services.inventory.stock_overview(acting, item.product_id)
            return _Found(request, items, tax, stock)

        self.runner.run(work, self._found, self._lookup_failed)

    def _found(self, found: _Found) -> None:
        if not _alive(self):
            return
        self._lookup_busy = False
        request = found.request
        if not found.items:
            self._show_entry_error(no_match_message(f"“{request.code}”"), restore=request.code)
        elif len(found.items) > 1:
            if not self.entry.text():
                self.entry.setText(request.code)
            self._show_entry_error(
                f"Several items match “{request.code}”: choose one and press Enter."
            )
            self.item_search.show(found.items, request.code, highlight_first=True)
        else:
            self._add_line(found.items[0], request.quantity, found.tax, found.stock)
        self._next_lookup()

    def _lookup_failed(self, error: BaseException) -> None:
        if not _alive(self):
            return
        self._lookup_busy = False
        self._show_entry_error(user_message(error))
        self._next_lookup()

    def _add_line(
        self,
        item: SellableItem,
        quantity: int,
        tax: TaxInfo | None,
        stock: StockOverview | None,
    ) -> None:
        if tax is not None:
            self._taxes[item.product_id] = tax
        if not self.lines_model.editable:
            self._show_entry_error("Lines can be changed only while the order is a draft.")
            return
        try:
            row = self.lines_model.add(item, quantity, self._taxes.get(item.product_id))
        except ValidationError as error:
            self._show_entry_error(f"{item.sku}: {error.message}")
            return
        if stock is not None:
            self.lines_model.set_stock(stock)
        self.table.setCurrentIndex(self.lines_model.index(row, OrderLinesModel.QUANTITY))
        self._show_stock_panel()

    def _show_entry_error(self, message: str, restore: str | None = None) -> None:
        if restore and not self.entry.text():
            self.entry.setText(restore)
            self.entry.selectAll()
        self.entry_error.setText(message)
        self.entry_error.show()

    def _hide_entry_error(self) -> None:
        self.entry_error.clear()
        self.entry_error.hide()

    @property
    def lookups_pending(self) -> bool:
        return self._lookup_busy or bool(self._lookups)

    # --- the lines ----------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if (
                watched is self.entry
                and key == Qt.Key.Key_Down
                and not self.item_search.popup_visible
                and self.lines_model.rowCount()
            ):
                row = self.table.currentIndex().row()
                if row < 0:
                    row = self.lines_model.rowCount() - 1
                self.table.setFocus(Qt.FocusReason.TabFocusReason)
                self.table.setCurrentIndex(self.lines_model.index(row, OrderLinesModel.QUANTITY))
                return True
            if (
                watched is self.table
                and key == Qt.Key.Key_Delete
                and self.table.state() != QAbstractItemView.State.EditingState
            ):
                self._remove_current_line()
                return True
        return super().eventFilter(watched, event)

    def _remove_current_line(self) -> None:
        row = self.table.currentIndex().row()
        if row < 0 or not self.lines_model.editable:
            return
        self.lines_model.remove(row)
        if self.lines_model.rowCount():
            row = min(row, self.lines_model.rowCount() - 1)
            self.table.setCurrentIndex(self.lines_model.index(row, OrderLinesModel.QUANTITY))
        else:
            self.entry.setFocus()

    def _edited(self, name: str) -> None:
        super()._edited(name)
        if self.row is not None and self.row.status != rules.DRAFT:
            self._update_actions()  # Save changes: enabled once something changed

    def mark_clean(self) -> None:
        super().mark_clean()
        self._update_actions()

    def _lines_edited(self) -> None:
        self._update_totals()
        self._stock_timer.start()

    def _current_line(self) -> DraftLine | None:
        row = self.table.currentIndex().row()
        if 0 <= row < self.lines_model.rowCount():
            return self.lines_model.line(row)
        return None

    def _refresh_current_stock(self) -> None:
        """The stock of the line being changed, read again: others sell too."""
        line = self._current_line()
        if line is None or not self.acting.can(perms.INVENTORY_READ):
            return
        inventory, acting, product_id = self.services.inventory, self.acting, line.product_id
        self.runner.run(
            lambda: inventory.stock_overview(acting, product_id), self._stock_arrived, _ignore
        )

    def _stock_arrived(self, overview: StockOverview) -> None:
        if _alive(self):
            self.lines_model.set_stock(overview)

    def _show_stock_panel(self) -> None:
        """Per warehouse, what the current line's item has on hand, reserved and sellable."""
        line = self._current_line()
        if line is None:
            self._set_stock_text("Stock of the current line shows here.")
            return
        title = f"{line.sku} — {line.name}"
        if not line.tracks_inventory:
            self._set_stock_text(f"{title}\nNot kept in stock.")
            return
        overview = self.lines_model.stock(line.product_id)
        if overview is None:
            self._set_stock_text(f"{title}\nStock: …")
            return
        rows = [
            f"{level.warehouse_code}: {level.sellable:,} sellable "
            f"({level.on_hand:,} on hand, {level.reserved:,} reserved)"
            for level in availability(overview, line.variant_id)
        ] or ["No stock in any warehouse."]
        if is_short(line, overview):
            rows.append(f"All warehouses together cannot sell {line.quantity:,}.")
        elif line.allows_backorder:
            rows.append("Backorders allowed.")
        self._set_stock_text("\n".join([title, *rows]))

    def _set_stock_text(self, text: str) -> None:
        panel = self.stock_panel
        panel.setText(text)
        # Some 26 characters wide, its lines wrapping, so that the lines' table keeps the
        # room (item names and stock per warehouse were cut at 1366x768); wider only for a
        # word that needs it (a long SKU), which wrapping cannot break.
        metrics = panel.fontMetrics()
        longest = max((metrics.horizontalAdvance(word) for word in text.split()), default=0)
        panel.setMaximumWidth(max(metrics.averageCharWidth() * 26, longest + 2))

    # --- totals -------------------------------------------------------------------------

    def _update_totals(self) -> None:
        """The service's figures while nothing has changed since the last save; otherwise
        worked out here with the same rules."""
        order = self.row
        note = ""
        if order is not None and not self.dirty:
            figures = (
                order.subtotal,
                order.discount_amount,
                order.tax_amount,
                order.shipping_amount,
                order.total_amount,
            )
        else:
            try:
                amounts = [line.amounts(self.lines_model.tax_exempt) for line in self._lines()]
                known = [a for a in amounts if a is not None]
                if len(known) != len(amounts):
                    note = "Tax: waiting for rates…"
                discount = read_decimal(
                    self.order_discount, "order_discount", "The order discount", default=ZERO
                )
                method = self.shipping_method.currentData() or "STANDARD"
                total = rules.order_amounts(known, method, discount)
                figures = (total.subtotal, total.discount, total.tax, total.shipping, total.total)
            except ValidationError as error:
                note = error.message
                figures = None
        if figures is not None:
            for key, value in zip(self.totals, figures, strict=True):
                self.totals[key].setText(money(value))
            self._update_credit_warning(figures[-1])
        self.totals_note.setText(note)

    def _shown_total(self) -> Decimal | None:
        text = self.totals["total"].text().replace(",", "")
        try:
            return Decimal(text) if text else None
        except ArithmeticError:
            return None

    def _lines(self) -> tuple[DraftLine, ...]:
        return self.lines_model.lines

    # --- filling the form ---------------------------------------------------------------

    def use_services(self, services: Services) -> None:
        self.services = services
        self.documents.use(services.documents, self.acting)
        # The actions and the editable fields follow the permissions of whoever it is now.
        self._update_all()

    def fill(self, row: OrderDetail) -> None:
        self.customer_edit.setText(
            f"{row.customer_code} · {row.customer_name}" if row.customer_code else row.customer_name
        )
        _select(self.shipping_method, row.shipping_method)
        _select(self.priority, row.priority)
        self.order_discount.setText(
            "" if row.order_discount == ZERO else format_decimal(row.order_discount, 2)
        )
        for kind, address in (("shipping", row.shipping_address), ("billing", row.billing_address)):
            for name, edit in self.address_fields[kind].items():
                edit.setText(getattr(address, name) or "")
        self.same_billing.setChecked(row.billing_address == row.shipping_address)
        self.notes.setPlainText(row.notes or "")
        self.lines_model.set_lines(
            DraftLine.from_row(line, self._taxes.get(line.product_id)) for line in row.lines
        )

    def apply_row(self, row: Any) -> None:
        super().apply_row(row)
        self._filled.clear()
        self.setWindowTitle(f"Order {row.order_number}")
        self._update_all()

    def apply_loaded(self, result: Any) -> None:
        self._apply_state(result)

    def _apply_state(self, state: OrderState) -> None:
        self._taxes.update(state.taxes)
        for overview in state.stock.values():
            self.lines_model.set_stock(overview)
        if state.warehouses is not None:
            self.warehouses = state.warehouses
        if state.customer is not None:
            self.customer = state.customer
        self.history = state.history
        self._show_history()
        self.apply_row(state.detail)

    def _update_all(self) -> None:
        editable = self._editable()
        self._set_editable(editable)
        self._update_status()
        self._update_customer()
        self._update_totals()
        self._update_actions()
        self._show_stock_panel()

    def _editable(self) -> bool:
        status = self.row.status if self.row is not None else rules.DRAFT
        return status in rules.EDITABLE and self.acting.can(perms.ORDERS_CREATE)

    def _set_editable(self, editable: bool) -> None:
        for name in self.field_names:
            widget = self.field(name)
            if isinstance(widget, QLineEdit | QPlainTextEdit):
                widget.setReadOnly(not editable)
            elif isinstance(widget, QComboBox | QCheckBox):
                widget.setEnabled(editable)
        # The customer of an order is fixed once the order exists.
        self.customer_edit.setReadOnly(not editable or self.row is not None)
        self.lines_model.set_editable(editable)
        self.entry.setEnabled(editable)
        self._billing_toggled(self.same_billing.isChecked())

    def _billing_toggled(self, same: bool) -> None:
        editable = self._editable()
        for edit in self.address_fields["billing"].values():
            edit.setEnabled(not same)
            edit.setReadOnly(not editable)

    def _update_status(self) -> None:
        order = self.row
        if order is None:
            self.status_label.setText("New order: nothing saved yet.")
            return
        parts = [
            f"Order {order.order_number}",
            code_label(order.status),
            f"payment {code_label(order.payment_status).lower()}",
        ]
        text = " · ".join(parts)
        if order.needs_approval:
            text += (
                f"\nApproved by {order.approved_by_name or 'a manager'}."
                if order.approved_by is not None
                else f"\nOver {money(rules.APPROVAL_ABOVE)}: needs a manager's approval."
            )
        if order.tracking_number:
            text += f"\n{order.carrier or 'Carrier'}: {order.tracking_number}"
        if order.paid_amount or order.refunded_amount:
            text += f"\nPaid {money(order.paid_amount)}, refunded {money(order.refunded_amount)}"
        self.status_label.setText(text)

    def _show_history(self) -> None:
        table = self.history_table
        table.setRowCount(len(self.history))
        for row, change in enumerate(self.history):
            values = (
                code_label(change.from_status) if change.from_status else "",
                code_label(change.to_status),
                change.changed_by_name or "(unknown user)",
                f"{change.changed_at.astimezone():%Y-%m-%d %H:%M:%S}",
            )
            for column, value in enumerate(values):
                table.setItem(row, column, QTableWidgetItem(value))
        table.resizeColumnsToContents()

    # --- actions: which may be used now -------------------------------------------------

    def _update_actions(self) -> None:
        can = self.acting.can
        order = self.row
        status = order.status if order is not None else rules.DRAFT
        busy = self.saving or self.loading
        confirmed = order is not None and rules.is_confirmed(status, order.previous_status)
        exists = order is not None

        def show(widget: QPushButton, permission: str, enabled: bool) -> None:
            widget.setVisible(can(permission))
            widget.setEnabled(enabled and not busy)

        # A draft is saved as a draft; a submitted order that may still change is saved
        # only when something was changed ("Save draft" on it would say what it is not).
        draft = order is None or status == rules.DRAFT
        show(self.save_button, perms.ORDERS_CREATE, self._editable() and (draft or self.dirty))
        if not self.saving:
            self.save_button.setText("Save &draft" if draft else "&Save changes")
            self.save_button.setToolTip(
                "Save the draft (Ctrl+S)" if draft else "Save the changes to the order (Ctrl+S)"
            )
        show(self.submit_button, perms.ORDERS_CREATE, status == rules.DRAFT)
        show(
            self.confirm_button,
            perms.ORDERS_CONFIRM,
            exists and rules.can_transition(status, rules.CONFIRMED) and not confirmed,
        )
        show(
            self.approve_button,
            perms.ORDERS_APPROVE,
            order is not None
            and status in (rules.PENDING, rules.ON_HOLD)
            and not confirmed
            and order.needs_approval
            and order.approved_by is None,
        )
        show(
            self.ship_button,
            perms.ORDERS_SHIP,
            status in (rules.CONFIRMED, rules.PROCESSING, rules.PARTIALLY_SHIPPED),
        )
        paid_back = order.paid_amount - order.refunded_amount if order is not None else ZERO
        menu = {
            "process": (
                perms.ORDERS_SHIP,
                status in (rules.CONFIRMED, rules.PARTIALLY_SHIPPED),
            ),
            "deliver": (perms.ORDERS_SHIP, rules.can_transition(status, rules.DELIVERED)),
            "hold": (perms.ORDERS_CONFIRM, exists and rules.can_transition(status, rules.ON_HOLD)),
            "resume": (perms.ORDERS_CONFIRM, status == rules.ON_HOLD),
            "cancel": (
                perms.ORDERS_CANCEL,
                exists and rules.can_transition(status, rules.CANCELLED),
            ),
            "return": (perms.ORDERS_RETURN, rules.can_transition(status, rules.RETURNED)),
            "payment": (
                perms.ORDERS_PAYMENT,
                order is not None
                and status not in rules.NO_PAYMENT_STATUSES
                and order.unpaid > ZERO,
            ),
            "refund": (
                perms.ORDERS_PAYMENT,
                status in rules.REFUND_STATUSES and paid_back > ZERO,
            ),
        }
        for key, (permission, enabled) in menu.items():
            action = self.menu_actions[key]
            action.setVisible(can(permission))
            action.setEnabled(enabled and not busy)
        documents = self.document_actions
        documents.set_visible(can(perms.ORDERS_READ))
        documents.set_enabled(exists and not busy)
        self.more_button.setVisible(
            can(perms.ORDERS_READ) or any(a.isVisible() for a in self.menu_actions.values())
        )
        self.more_button.setEnabled(not busy)

    # --- saving -------------------------------------------------------------------------

    def _header(self) -> OrderHeader:
        """The header as typed, checked by the rules (ValidationError names the field)."""

        def address(kind: str) -> Address:
            edits = self.address_fields[kind]
            return Address(**{name: edits[name].text() for name, _l, _m in ADDRESS_FIELDS})

        discount = read_decimal(
            self.order_discount, "order_discount", "The order discount", default=ZERO
        )
        return rules.check_header(
            OrderHeader(
                shipping_address=address("shipping"),
                billing_address=None if self.same_billing.isChecked() else address("billing"),
                shipping_method=self.shipping_method.currentData(),
                priority=self.priority.currentData(),
                order_discount=discount,
                required_date=self.row.required_date if self.row is not None else None,
                notes=self.notes.toPlainText(),
                customer_notes=self.row.customer_notes if self.row is not None else None,
                internal_notes=self.row.internal_notes if self.row is not None else None,
            )
        )

    def prepare_save(self) -> Callable[[], OrderState]:
        return self._prepare(None)

    def _prepare(
        self, action: Callable[[OrderDetail], OrderDetail] | None, *, save: bool = True
    ) -> Callable[[], OrderState]:
        """Check what was typed, then the work for a worker: write the difference to the
        order (if `save`), then `action`, then read what the dialog shows beside it."""
        if self.lookups_pending:
            raise ValidationError(
                "Items are still being looked up; try again in a moment.", field="lines"
            )
        order = self.row
        write = save and (order is None or self.dirty)
        header = customer_id = None
        lines = self._lines()
        if write:
            if order is None and self.customer is None:
                raise ValidationError(
                    "Choose the customer: type part of their code, name or email and press Enter.",
                    field="customer",
                )
            header = self._header()
            # The order's own discount against the goods, at once rather than after the
            # lines were written.
            rules.check_order_discount(
                header.order_discount,
                sum((line.quantity * line.unit_price - line.discount for line in lines), ZERO),
            )
            customer_id = self.customer.id if self.customer is not None else None
        services, acting = self.services, self.acting
        orders = services.orders
        steps = self._steps = []
        known = frozenset(self._taxes)
        first_read = not self.warehouses

        def work() -> OrderState:
            current = order
            if write:
                assert header is not None
                current = _write_order(orders, acting, current, customer_id, header, lines, steps)
            assert current is not None
            if action is not None:
                current = action(current)
                steps.append((current, {}))
            return read_state(services, acting, current, known_taxes=known, warehouses=first_read)

        return work

    def _run(
        self, action: Callable[[OrderDetail], OrderDetail] | None, *, save: bool = True
    ) -> None:
        """Save what was typed (if anything) and do `action` in one go on a worker."""
        if self.saving or self.loading:
            return
        self.clear_errors()
        try:
            work = self._prepare(action, save=save)
        except ValidationError as error:
            self.show_error(error, checked=True)
            return
        self._set_saving(True)
        self.runner.run(work, self._save_succeeded, self._save_failed)

    def _save_succeeded(self, row: object) -> None:
        assert isinstance(row, OrderState)
        self._outcome = row
        self._steps = []
        super()._save_succeeded(row.detail)

    def after_save(self, row: object) -> None:
        """Stay open on the order as the service left it."""
        outcome, self._outcome = self._outcome, None
        if outcome is not None:
            self._apply_state(outcome)
        self.mark_clean()
        self._update_totals()
        then, self._then = self._then, None
        if then is not None:
            then()

    def _save_failed(self, error: BaseException) -> None:
        if _alive(self) and self._steps:
            self._adopt(*self._steps[-1])
        self._steps = []
        self._then = None
        super()._save_failed(error)

    def _adopt(self, detail: OrderDetail, added: Mapping[uuid.UUID, uuid.UUID]) -> None:
        """What a refused save did write: the order exists, some lines have ids. What was
        typed stays; the next save goes on from here."""
        self._record_id = detail.id
        self.row = detail
        self.version = detail.version
        on_server = {line.id: line for line in detail.lines}
        kept = []
        for line in self._lines():
            line_id = added.get(line.key, line.line_id)
            kept.append(replace(line, saved=on_server.get(line_id) if line_id else None))
        self.lines_model.set_lines(kept)
        self.setWindowTitle(f"Order {detail.order_number}")
        self._update_all()

    def _set_saving(self, saving: bool) -> None:
        if saving:
            # Saving disables the fields, which takes the focus away; it comes back after.
            self._focus_before = QApplication.focusWidget()
        super()._set_saving(saving)
        self._update_actions()
        if not saving:
            before, self._focus_before = self._focus_before, None
            if (
                before is not None
                and _alive(before)
                and before.window() is self
                and before.isVisible()
                and before.isEnabled()
            ):
                before.setFocus()

    def finish(self) -> None:
        if self.row is not None and self._editable():
            self.entry.setFocus()
        elif self.row is not None:
            self.table.setFocus()
        else:
            super().finish()

    def _read_warehouses(self) -> None:
        if not self.acting.can(perms.INVENTORY_READ):
            return
        warehouses, acting = self.services.warehouses, self.acting
        self.runner.run(
            lambda: warehouses.list_warehouses(acting, include_inactive=False),
            self._warehouses_arrived,
            _ignore,
        )

    def _warehouses_arrived(self, rows: tuple[WarehouseRow, ...]) -> None:
        if _alive(self):
            self.warehouses = rows

    # --- actions ------------------------------------------------------------------------

    def _submit(self) -> None:
        orders, acting = self.services.orders, self.acting
        self._run(lambda o: orders.submit(acting, o.id, o.version))

    def _approve(self) -> None:
        orders, acting = self.services.orders, self.acting
        self._run(lambda o: orders.approve(acting, o.id, o.version))

    def _start_processing(self) -> None:
        orders, acting = self.services.orders, self.acting
        self._run(lambda o: orders.start_processing(acting, o.id, o.version), save=False)

    def _deliver(self) -> None:
        orders, acting = self.services.orders, self.acting
        self._run(lambda o: orders.deliver(acting, o.id, o.version), save=False)

    def _hold(self) -> None:
        orders, acting = self.services.orders, self.acting
        self._run(lambda o: orders.hold(acting, o.id, o.version))

    def _resume(self) -> None:
        orders, acting = self.services.orders, self.acting
        self._run(lambda o: orders.resume(acting, o.id, o.version), save=False)

    def _cancel(self) -> None:
        order = self.row
        if order is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            f"Cancel order {order.order_number}",
            f"Cancel order {order.order_number}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setInformativeText(
            "Stock it holds is released; a confirmed order's unpaid total comes off the "
            "customer's balance. Changes not saved yet are dropped."
        )
        box.button(QMessageBox.StandardButton.Yes).setText("&Cancel the order")
        box.button(QMessageBox.StandardButton.No).setText("&Keep it")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setEscapeButton(QMessageBox.StandardButton.No)

        def answered(_result: int) -> None:
            self.action_dialog = None
            if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
                orders, acting = self.services.orders, self.acting
                self._run(lambda o: orders.cancel(acting, o.id, o.version), save=False)
            box.deleteLater()

        box.finished.connect(answered)
        self.action_dialog = box
        box.open()

    def _confirm(self) -> None:
        self._saved_then(
            lambda: ConfirmOrderDialog(
                self.services.orders,
                self.runner,
                self.acting,
                self._current_order(),
                self.warehouses,
                {line.product_id: s for line in self._lines() if (s := self._stock(line))},
                parent=self,
            )
        )

    def _ship(self) -> None:
        self._saved_then(
            lambda: ShipOrderDialog(
                self.services.orders, self.runner, self.acting, self._current_order(), self
            )
        )

    def _return(self) -> None:
        self._saved_then(
            lambda: ReturnOrderDialog(
                self.services.orders,
                self.runner,
                self.acting,
                self._current_order(),
                self.warehouses,
                self,
            )
        )

    def _payment(self) -> None:
        self._saved_then(
            lambda: MoneyDialog(
                self.services.orders,
                self.runner,
                self.acting,
                self._current_order(),
                refund=False,
                parent=self,
            )
        )

    def _refund(self) -> None:
        self._saved_then(
            lambda: MoneyDialog(
                self.services.orders,
                self.runner,
                self.acting,
                self._current_order(),
                refund=True,
                parent=self,
            )
        )

    def _stock(self, line: DraftLine) -> StockOverview | None:
        return self.lines_model.stock(line.product_id)

    def _current_order(self) -> OrderDetail:
        order = self.row
        assert isinstance(order, OrderDetail)
        return order

    def _with_saved_order(self, act: Callable[[uuid.UUID, str], None]) -> None:
        """`act` on the order as saved, saving first what was typed: a printout shows
        what is on screen."""

        def with_row() -> None:
            if self.row is not None:
                act(self.row.id, self.row.order_number)

        if self.row is not None and not self.dirty:
            with_row()
        elif self.row is not None and self.save_button.isEnabled():
            self._then = with_row
            self._run(None)

    def _saved_then(self, make: Callable[[], OrderActionDialog]) -> None:
        """Open an action's dialog on the order as saved: save first what was typed."""
        if self.row is not None and not self.dirty:
            self._open_action(make())
            return
        if not self.save_button.isEnabled():
            return
        self._then = lambda: self._open_action(make())
        self._run(None)

    def _open_action(self, dialog: OrderActionDialog) -> None:
        dialog.saved.connect(self._action_saved)
        dialog.progressed.connect(self._action_progressed)
        dialog.finished.connect(lambda _result: self._action_closed(dialog))
        self.action_dialog = dialog
        dialog.open()

    def _action_closed(self, dialog: QDialog) -> None:
        if self.action_dialog is dialog:
            self.action_dialog = None
        dialog.deleteLater()
        if _alive(self) and self.isVisible():
            # Not every platform hands the keyboard back to the dialog underneath.
            self.activateWindow()

    def _action_progressed(self, detail: OrderDetail) -> None:
        if _alive(self):
            self.apply_row(detail)
            self.mark_clean()
            self._update_totals()
            self.refresh_history()

    def _action_saved(self, detail: object) -> None:
        """An action dialog wrote the order: show it, then what goes with it."""
        if not _alive(self):
            return
        assert isinstance(detail, OrderDetail)
        self.apply_row(detail)
        self.mark_clean()
        self._update_totals()
        self.refresh_history()
        self.saved.emit(detail)
        services, acting, known = self.services, self.acting, frozenset(self._taxes)
        self.runner.run(
            lambda: read_state(services, acting, detail, known_taxes=known),
            self._extras_arrived,
            _ignore,
        )

    def _extras_arrived(self, state: OrderState) -> None:
        if not _alive(self) or self.row is None or state.detail.version != self.row.version:
            return
        self._apply_state(state)
        self.mark_clean()
        self._update_totals()


# --- writing the difference ------------------------------------------------------------


def _write_order(
    orders: OrderService,
    acting: CurrentUser,
    order: OrderDetail | None,
    customer_id: uuid.UUID | None,
    header: OrderHeader,
    lines: Sequence[DraftLine],
    steps: list[tuple[OrderDetail, dict[uuid.UUID, uuid.UUID]]],
) -> OrderDetail:
    """Make the order on the server what the dialog shows, one service call at a time
    (runs on a worker). After each call `steps` holds the order as it then was and the ids
    of the lines added so far, for the dialog to carry on from if a later call fails."""
    added: dict[uuid.UUID, uuid.UUID] = {}

    def step(detail: OrderDetail) -> OrderDetail:
        steps.append((detail, dict(added)))
        return detail

    if order is None:
        assert customer_id is not None
        # The order's own discount is checked against its goods: it waits for the lines.
        current = step(
            orders.create_draft(acting, customer_id, replace(header, order_discount=ZERO))
        )
    else:
        current = order
    if order is not None and header.order_discount < current.order_discount:
        # Less discount first, so that fewer goods do not meet the old discount.
        current = step(orders.update_order(acting, current.id, current.version, header))
    wanted = {line.line_id for line in lines if line.line_id is not None}
    for server_line in current.lines:
        if server_line.id not in wanted:
            current = step(orders.remove_line(acting, current.id, current.version, server_line.id))
    for line in lines:
        on_server = {row.id: row for row in current.lines}
        saved = on_server.get(line.line_id) if line.line_id is not None else None
        if saved is not None:
            if (saved.quantity, saved.unit_price, saved.discount_amount) != (
                line.quantity,
                line.unit_price,
                line.discount,
            ):
                current = step(
                    orders.change_line(
                        acting,
                        current.id,
                        current.version,
                        saved.id,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        discount=line.discount,
                    )
                )
            continue
        before = set(on_server)
        result = orders.add_line(
            acting,
            current.id,
            current.version,
            line.product_id,
            line.quantity,
            variant_id=line.variant_id,
            unit_price=line.unit_price,
            discount=line.discount,
        )
        (new_id,) = {row.id for row in result.lines} - before
        added[line.key] = new_id
        current = step(result)
    if _checked(current.header) != header:
        current = step(orders.update_order(acting, current.id, current.version, header))
    return current


def _checked(header: OrderHeader) -> OrderHeader | None:
    try:
        return rules.check_header(header)
    except ValidationError:
        return None  # stored before a rule was tightened: saving what was typed fixes it


def _select(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


def _alive(widget: QObject) -> bool:
    return shiboken6.isValid(widget)


def _ignore(_error: BaseException) -> None:
    """For reads that only add detail: the dialog works on without them."""


# Keep the model index type referenced for readers of the delegate code.
_ = QModelIndex
