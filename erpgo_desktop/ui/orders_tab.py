"""The Orders tab: search, status, payment and date-range filters over the paged orders list.

Newest first by default. Sorting, searching and filtering happen in PostgreSQL
(services/order_list.py); the date range takes whole days of the workstation's calendar,
both ends included. Counts stop at a cap, so the status line may say "10,000+ orders".
"""

from __future__ import annotations

import dataclasses
from datetime import date

from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QLabel,
    QPushButton,
    QWidget,
)

from erpgo_desktop.domain import orders as order_rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.wording import (
    ORDER_STATUS_TONES,
    PAYMENT_STATUS_TONES,
    code_label,
    tone,
)
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.listing import DEFAULT_COUNT_CAP
from erpgo_desktop.services.order_list import (
    PAYMENT_STATUSES,
    OrderQuery,
    OrderSort,
)
from erpgo_desktop.services.orders import OrderSummary
from erpgo_desktop.ui import icons
from erpgo_desktop.ui.list_model import PAGE_SIZE, CallSource, Column, PagedTableModel, money
from erpgo_desktop.ui.list_tab import SEARCH_DELAY_MS, ListTab, add_code_choices
from erpgo_desktop.ui.tasks import TaskRunner
from erpgo_desktop.ui.widgets import error_label

COLUMNS: tuple[Column[OrderSummary], ...] = (
    Column("Number", lambda o: o.order_number, sort=OrderSort.NUMBER),
    Column(
        "Date",
        lambda o: f"{o.order_date.astimezone():%Y-%m-%d %H:%M}",
        sort=OrderSort.DATE,
    ),
    Column("Customer", lambda o: o.customer_name, tooltip=True, stretch=True),
    Column(
        "Status",
        lambda o: code_label(o.status),
        badge=lambda o: tone(ORDER_STATUS_TONES, o.status),
    ),
    Column(
        "Payment",
        lambda o: code_label(o.payment_status),
        badge=lambda o: tone(PAYMENT_STATUS_TONES, o.payment_status),
    ),
    Column("Total", lambda o: money(o.total_amount), sort=OrderSort.TOTAL, align_right=True),
    Column("Paid", lambda o: money(o.paid_amount), align_right=True),
)
NUMBER, DATE, CUSTOMER, STATUS, PAYMENT, TOTAL, PAID = range(len(COLUMNS))

SEARCH_PLACEHOLDER = "Search order number or customer (Ctrl+F)"
DATE_FORMAT = "yyyy-MM-dd"
#: The range the date filter starts at when switched on: the last 30 days.
DEFAULT_RANGE_DAYS = 30


def _date_edit(name: str, day: QDate) -> QDateEdit:
    edit = QDateEdit(day)
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat(DATE_FORMAT)
    edit.setEnabled(False)  # until its check box switches the bound on
    return edit


class OrdersTab(ListTab):
    # A line's change moves its order's total.
    tables = ("orders", "order_items")
    singular = "order"
    plural = "orders"

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
                lambda query, after, limit: services.orders.list_orders_page(
                    acting, query, after, limit
                ),
                lambda query: services.orders.count_orders(acting, query, count_cap),
            ),
            runner,
            COLUMNS,
            OrderQuery(),
            page_size=page_size,
        )
        super().__init__(
            model,
            name="order",
            search_placeholder=SEARCH_PLACEHOLDER,
            sort_column=DATE,
            sort_order=Qt.SortOrder.DescendingOrder,
            parent=parent,
        )
        # Mnemonics clear of the menus (File, Edit, View, Sales, Help) and the tabs.
        self.status_filter = QComboBox()
        self.status_filter.setObjectName("order_status_filter")
        add_code_choices(self.status_filter, "All statuses", order_rules.STATUSES)
        status_label = QLabel("Stat&us:")
        status_label.setBuddy(self.status_filter)

        self.payment_filter = QComboBox()
        self.payment_filter.setObjectName("order_payment_filter")
        add_code_choices(self.payment_filter, "All payments", PAYMENT_STATUSES)
        payment_label = QLabel("Pa&yment:")
        payment_label.setBuddy(self.payment_filter)

        today = QDate.currentDate()
        self.from_enabled = QCheckBox("Fro&m")
        self.from_enabled.setToolTip("List orders from this day on")
        self.date_from = _date_edit("order_date_from", today.addDays(-DEFAULT_RANGE_DAYS))
        self.to_enabled = QCheckBox("&To")
        self.to_enabled.setToolTip("List orders up to this day, included")
        self.date_to = _date_edit("order_date_to", today)
        self.date_error = error_label()
        self.date_error.setObjectName("order_date_error")

        self.new_button = QPushButton(icons.icon("new-order"), "&New order…")
        self.new_button.setEnabled(acting.can(perms.ORDERS_CREATE))
        self.new_button.clicked.connect(lambda _checked=False: self.new_requested.emit())

        self.add_filters(
            [
                status_label,
                self.status_filter,
                payment_label,
                self.payment_filter,
                self.from_enabled,
                self.date_from,
                self.to_enabled,
                self.date_to,
                self.date_error,
                self.new_button,
            ]
        )

        # Typing a date changes it digit by digit; the list reloads once, after a pause.
        self._date_timer = QTimer(self)
        self._date_timer.setSingleShot(True)
        self._date_timer.setInterval(SEARCH_DELAY_MS)
        self._date_timer.timeout.connect(self.apply_filters)
        for edit in (self.date_from, self.date_to):
            edit.dateChanged.connect(lambda _day: self._date_timer.start())
            edit.editingFinished.connect(self.apply_filters)
        for box, edit in ((self.from_enabled, self.date_from), (self.to_enabled, self.date_to)):
            box.toggled.connect(edit.setEnabled)
            box.toggled.connect(lambda _on: self.apply_filters())
        self.status_filter.currentIndexChanged.connect(self.apply_filters)
        self.payment_filter.currentIndexChanged.connect(self.apply_filters)

    @property
    def query(self) -> OrderQuery:
        query = self.model.query
        assert isinstance(query, OrderQuery)
        return query

    def is_filtered(self) -> bool:
        return self.query.is_filtered

    def show_filtered(
        self, *, status: object = None, date_from: object = None, date_to: object = None
    ) -> None:
        """List the orders of one status and period (what a dashboard panel stands for),
        and nothing else narrowing them: the search and the other filters are reset."""
        self.reset_filters()
        self.status_filter.blockSignals(True)
        self.status_filter.setCurrentIndex(max(self.status_filter.findData(status), 0))
        self.status_filter.blockSignals(False)
        first = date_from if isinstance(date_from, date) else None
        last = date_to if isinstance(date_to, date) else None
        self.set_date_range(first, last)  # applies every filter

    def reset_filters(self) -> None:
        super().reset_filters()
        self._date_timer.stop()
        for combo in (self.status_filter, self.payment_filter):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        for box in (self.from_enabled, self.to_enabled):
            box.blockSignals(True)
            box.setChecked(False)
            box.blockSignals(False)

    def set_date_range(self, first: date | None, last: date | None) -> None:
        """Switch the date bounds on (a day) or off (None) and list what they take in."""
        for box, edit, day in (
            (self.from_enabled, self.date_from, first),
            (self.to_enabled, self.date_to, last),
        ):
            box.blockSignals(True)
            edit.blockSignals(True)
            box.setChecked(day is not None)
            edit.setEnabled(day is not None)
            if day is not None:
                edit.setDate(QDate(day.year, day.month, day.day))
            box.blockSignals(False)
            edit.blockSignals(False)
        self.apply_filters()

    def apply_filters(self) -> None:
        """List what the filter widgets say, unless the date range is backwards (said at
        the dates; the list stays as it was)."""
        self._date_timer.stop()
        first = self._bound(self.from_enabled, self.date_from)
        last = self._bound(self.to_enabled, self.date_to)
        if first is not None and last is not None and first > last:
            self.date_error.setText("The range ends before it starts.")
            self.date_error.show()
            return
        self.date_error.hide()
        self.model.set_query(
            dataclasses.replace(
                self.query,
                search=self.search.text(),
                status=self.status_filter.currentData(),
                payment_status=self.payment_filter.currentData(),
                date_from=first,
                date_to=last,
            )
        )

    @staticmethod
    def _bound(box: QCheckBox, edit: QDateEdit) -> date | None:
        if not box.isChecked():
            return None
        day = edit.date()
        return date(day.year(), day.month(), day.day())
