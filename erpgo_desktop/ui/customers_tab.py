"""The Customers tab: search and status/type filters over the paged customers list.

Sorting, searching and filtering happen in PostgreSQL (services/customers.py): by name
through the (last_name, first_name, id) index, by code through its unique index; the
other columns have no index to page by and do not sort. Counts stop at a cap, so the
status line may say "10,000+ customers".

A row's context menu (right click, or the Menu key) opens the customer or starts a new
order for them, with their addresses filled in.
"""

from __future__ import annotations

import dataclasses
import uuid

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QMenu, QPushButton, QWidget

from erpgo_desktop.domain import customers as customer_rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.wording import CUSTOMER_STATUS_TONES, code_label, tone
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.customers import (
    CustomerListRow,
    CustomerQuery,
    CustomerSort,
)
from erpgo_desktop.services.listing import DEFAULT_COUNT_CAP
from erpgo_desktop.ui import icons
from erpgo_desktop.ui.list_model import PAGE_SIZE, CallSource, Column, PagedTableModel, money
from erpgo_desktop.ui.list_tab import ListTab, add_code_choices
from erpgo_desktop.ui.tasks import TaskRunner

COLUMNS: tuple[Column[CustomerListRow], ...] = (
    Column("Code", lambda c: c.customer_code or "", sort=CustomerSort.CODE),
    Column(
        "Name",
        lambda c: f"{c.last_name}, {c.first_name}",
        sort=CustomerSort.NAME,
        tooltip=True,
    ),
    Column("Company", lambda c: c.company or "", tooltip=True, stretch=True),
    Column("Email", lambda c: c.email, tooltip=True),
    Column("Phone", lambda c: c.phone or ""),
    Column("Type", lambda c: code_label(c.type)),
    Column(
        "Status",
        lambda c: code_label(c.status),
        badge=lambda c: tone(CUSTOMER_STATUS_TONES, c.status),
    ),
    Column("Credit limit", lambda c: money(c.credit_limit), align_right=True),
    Column("Balance", lambda c: money(c.balance), align_right=True),
)
CODE, NAME, COMPANY, EMAIL, PHONE, TYPE, STATUS, CREDIT_LIMIT, BALANCE = range(len(COLUMNS))

SEARCH_PLACEHOLDER = "Search code, name, company or email (Ctrl+F)"


class CustomersTab(ListTab):
    tables = ("customers",)
    singular = "customer"
    plural = "customers"

    #: "New order" for a customer of the list (their id).
    order_requested = Signal(uuid.UUID)

    def __init__(
        self,
        services: Services,
        runner: TaskRunner,
        acting: CurrentUser,
        *,
        page_size: int = PAGE_SIZE,
        count_cap: int = DEFAULT_COUNT_CAP,
        parent: QWidget | None = None,
    ) -> None:
        model = PagedTableModel(
            CallSource(
                lambda query, after, limit: services.customers.list_customers(
                    acting, query, after, limit
                ),
                lambda query: services.customers.count_customers(acting, query, count_cap),
            ),
            runner,
            COLUMNS,
            CustomerQuery(),
            page_size=page_size,
        )
        super().__init__(
            model,
            name="customer",
            search_placeholder=SEARCH_PLACEHOLDER,
            sort_column=NAME,
            sort_order=Qt.SortOrder.AscendingOrder,
            parent=parent,
        )
        # Mnemonics clear of the menus (File, Edit, View, Sales, Help) and the tabs.
        self.status_filter = QComboBox()
        self.status_filter.setObjectName("customer_status_filter")
        add_code_choices(self.status_filter, "All statuses", customer_rules.CUSTOMER_STATUSES)
        status_label = QLabel("Stat&us:")
        status_label.setBuddy(self.status_filter)

        self.type_filter = QComboBox()
        self.type_filter.setObjectName("customer_type_filter")
        add_code_choices(self.type_filter, "All types", customer_rules.CUSTOMER_TYPES)
        type_label = QLabel("T&ype:")
        type_label.setBuddy(self.type_filter)

        self.new_button = QPushButton(icons.icon("new-customer"), "&New customer…")
        self.new_button.setEnabled(acting.can(perms.CUSTOMERS_WRITE))
        self.new_button.clicked.connect(lambda _checked=False: self.new_requested.emit())

        self.add_filters(
            [status_label, self.status_filter, type_label, self.type_filter, self.new_button]
        )
        self.status_filter.currentIndexChanged.connect(self._filters_changed)
        self.type_filter.currentIndexChanged.connect(self._filters_changed)

        self.may_order = acting.can(perms.ORDERS_CREATE)
        #: The row's context menu while it is open (tests choose from it).
        self.context_menu: QMenu | None = None
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._show_context_menu)

    def _show_context_menu(self, position: QPoint) -> None:
        index = self.table.indexAt(position)
        if index.isValid():
            self.table.setCurrentIndex(index)
        customer_id = self.selected_id()
        if customer_id is None:
            return
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        opening = menu.addAction("&Open")
        opening.triggered.connect(lambda: self.open_requested.emit(customer_id))
        ordering = menu.addAction("New &order for this customer…")
        ordering.setVisible(self.may_order)
        ordering.triggered.connect(lambda: self.order_requested.emit(customer_id))
        self.context_menu = menu
        # popup(), not exec(): no event loop of its own, the list goes on loading.
        menu.popup(self.table.viewport().mapToGlobal(position))

    @property
    def query(self) -> CustomerQuery:
        query = self.model.query
        assert isinstance(query, CustomerQuery)
        return query

    def is_filtered(self) -> bool:
        return self.query.status is not None or self.query.type is not None

    def _filters_changed(self) -> None:
        self.model.set_query(
            dataclasses.replace(
                self.query,
                status=self.status_filter.currentData(),
                type=self.type_filter.currentData(),
            )
        )
