"""The Dashboard tab: key figures (stock value, sales, open orders, low stock) above charts of
stock value, sales, top products and customers, the order pipeline, and tables of low stock
and overdue orders, for users with `reports.view`.

    tab = DashboardTab(services, runner, acting)
    tab.open_list_requested.connect(main_window.open_filtered)  # (what, filters)

Every panel is read by its own task on the runner (the two stock value charts share one
answer; the key figures are one task too), all started by `reload()`; a panel says
"Loading…" while its task runs and shows its own error if it fails, so one slow or failing
figure never holds up the others. Each panel counts its requests:
an answer to an older request (filters changed since) is dropped.

Change notifications (`apply_change`) mark the panels reading the changed table; one
refresh of those panels follows a second after the last notification, so a burst of
changes (a confirmed order touches orders, lines and stock) costs one refresh.

Clicking a bar or a row (or Enter on it) emits `open_list_requested(what, filters)`:

- ("orders", {"status": "PENDING", "date_from": d1, "date_to": d2}) — a pipeline bar
- ("orders", {"date_from": d1, "date_to": d2}) — a sales period (within the range)
- ("warehouses", {"warehouse_id": id}) — a stock value by warehouse bar
- ("products", {"category_id": id}) — a stock value by category bar
- ("warehouses", {"warehouse_id": id, "product_id": id, "variant_id": id | None,
  "search": SKU}) — a low-stock row: that warehouse's stock of the item
- ("product", product_id), ("customer", customer_id) — a top product or customer bar
- ("order", order_id) — an overdue row
"""

from __future__ import annotations

import calendar
import itertools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedLayout,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.orders import DEFAULT_CURRENCY
from erpgo_desktop.domain.wording import code_label
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.ui import icons
from erpgo_desktop.ui.charts import BarChart, ChartSeries, format_figure
from erpgo_desktop.ui.column_fit import ColumnFitter, Fit
from erpgo_desktop.ui.first_show import load_when_first_shown
from erpgo_desktop.ui.tasks import TaskRunner, user_message

#: Pause after the last change notification before the panels are read again.
CHANGE_DELAY_MS = 1000
#: Pause after a filter edit (a date typed digit by digit) before asking again.
FILTER_DELAY_MS = 300

LOW_STOCK_LIMIT = 50
# Qt elides a horizontal bar's label to "..." when its bar is under about 20 pixels tall:
# a panel has room for about eight.
TOP_LIMIT = 8
#: Categories beyond the first ones (by value at cost) are summed into one "Other" bar.
CATEGORY_BARS = 6
OVERDUE_LIMIT = 100
LOW_STOCK_COLUMNS = ("WH", "SKU", "Name", "Sellable", "Level")
LOW_STOCK_HEADER_TIPS = (
    "Warehouse",
    "",
    "",
    "Units that can still be sold: on hand less reserved",
    "Reorder level: reorder at or below it",
)
OVERDUE_COLUMNS = ("Order", "Customer", "Days late", "Unpaid")
OVERDUE_HEADER_TIPS = ("", "", "Days since the required date", "Total less paid")


class DashboardSource(Protocol):
    """What the tab asks of `services.dashboard` (services/dashboard.py)."""

    def key_figures(
        self,
        acting: CurrentUser,
        start: date,
        end: date,
        warehouse_id: uuid.UUID | None = None,
    ) -> Any: ...

    def stock_value(self, acting: CurrentUser, warehouse_id: uuid.UUID | None = None) -> Any: ...

    def low_stock(
        self, acting: CurrentUser, warehouse_id: uuid.UUID | None = None, limit: int = 50
    ) -> Sequence[Any]: ...

    def sales(
        self,
        acting: CurrentUser,
        start: date,
        end: date,
        grain: str,
        warehouse_id: uuid.UUID | None = None,
    ) -> Sequence[Any]: ...

    def top_products(
        self,
        acting: CurrentUser,
        start: date,
        end: date,
        limit: int = 10,
        warehouse_id: uuid.UUID | None = None,
    ) -> Sequence[Any]: ...

    def top_customers(
        self, acting: CurrentUser, start: date, end: date, limit: int = 10
    ) -> Sequence[Any]: ...

    def pipeline(
        self, acting: CurrentUser, start: date | None = None, end: date | None = None
    ) -> Sequence[Any]: ...

    def overdue_unpaid(
        self, acting: CurrentUser, today: date | None = None, limit: int = 100
    ) -> Sequence[Any]: ...


# -- what the filters ask ------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardFilters:
    start: date
    end: date
    warehouse_id: uuid.UUID | None
    grain: str


#: The Range choices: a label and the (start, end) it means on a given day.
def _quick_ranges(today: date) -> list[tuple[str, tuple[date, date] | None]]:
    first_of_month = today.replace(day=1)
    return [
        ("Last 7 days", (today - timedelta(days=6), today)),
        ("Last 30 days", (today - timedelta(days=29), today)),
        ("Last 90 days", (today - timedelta(days=89), today)),
        ("This month", (first_of_month, today)),
        ("This year", (today.replace(month=1, day=1), today)),
        ("Last year", (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))),
        ("Custom", None),
    ]


DEFAULT_RANGE = "Last 30 days"
GRAINS = (("Day", "day"), ("Week", "week"), ("Month", "month"))


def period_end(period: date, grain: str) -> date:
    """The last day of the period starting on `period`."""
    if grain == "week":
        return period + timedelta(days=6)
    if grain == "month":
        return period.replace(day=calendar.monthrange(period.year, period.month)[1])
    return period


def period_label(period: date, grain: str, several_years: bool) -> str:
    if grain == "month":
        return period.strftime("%b %Y")
    text = period.strftime("%d %b %Y" if several_years else "%d %b")
    return f"w/c {text}" if grain == "week" else text


def _to_qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _from_qdate(day: QDate) -> date:
    return date(day.year(), day.month(), day.day())


@dataclass(frozen=True)
class _Summed:
    """The "Other" bar of the categories: what the bars shown leave out."""

    key: object
    label: str
    at_cost: Decimal
    at_price: Decimal
    units: int

    @property
    def short_label(self) -> str:
        return self.label


#: The key of the "Other" bar; clicking it opens nothing.
OTHER = object()


def _with_other(rows: Sequence[Any], bars: int) -> Sequence[Any]:
    if len(rows) <= bars:
        return rows
    shown, rest = rows[: bars - 1], rows[bars - 1 :]
    other = _Summed(
        OTHER,
        f"Other ({len(rest)} categories)",
        sum((row.at_cost for row in rest), Decimal(0)),
        sum((row.at_price for row in rest), Decimal(0)),
        sum(row.units for row in rest),
    )
    return [*shown, other]


def money_figure(value: Decimal) -> str:
    """A sum of money as a manager reads it: 61234567.89 → "USD 61,234,568" (whole units,
    rounded half-up; the figure's tooltip has the cents)."""
    whole = value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{DEFAULT_CURRENCY} {whole:,}"


def exact_money(value: Decimal) -> str:
    return f"{DEFAULT_CURRENCY} {value:,.2f}"


def count_figure(value: int, singular: str, plural: str) -> str:
    return f"{value:,} {singular if value == 1 else plural}"


# -- panels --------------------------------------------------------------------------------


class Panel(QGroupBox):
    """A titled box with a state line ("Loading…", an error) above its content."""

    def __init__(self, title: str, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.content = content
        self.state = QLabel()
        self.state.setWordWrap(True)
        # Hiding the line must not give its room to the content: every refresh shows and
        # hides it, and each change of the content's height relaid out and repainted every
        # chart, which held the GUI thread ~0.1 s per refresh on the whole tab.
        policy = self.state.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.state.setSizePolicy(policy)
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self._stack = QStackedLayout()
        self._stack.addWidget(content)
        self._stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.state)
        layout.addLayout(self._stack, 1)
        self.error: str | None = None
        self.loading = False
        self.set_loading()

    def set_loading(self) -> None:
        self.loading = True
        self.error = None
        self.state.setStyleSheet("")
        self.state.setText("Loading…")
        self.state.show()

    def set_loaded(self, empty_text: str | None = None) -> None:
        """Show the content, or `empty_text` instead when there is nothing to show."""
        self.loading = False
        self.error = None
        self.state.hide()
        if empty_text:
            self.empty.setText(empty_text)
            self._stack.setCurrentWidget(self.empty)
        else:
            self._stack.setCurrentWidget(self.content)

    def set_failed(self, message: str) -> None:
        self.loading = False
        self.error = message
        self.state.setStyleSheet("QLabel { color: #c0392b; }")
        self.state.setText(message)
        self.state.show()

    @property
    def state_text(self) -> str:
        return self.state.text() if self.state.isVisibleTo(self) else ""


class FigureTile(QFrame):
    """One key figure: a caption, the figure in large type, a line of detail under it."""

    def __init__(self, caption: str, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.caption = QLabel(caption)
        self.figure = QLabel("…")
        self.figure.setObjectName(f"{name}_figure")
        font = QFont(self.figure.font())
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 1.5)
        else:
            font.setPixelSize(round(font.pixelSize() * 1.5))
        font.setBold(True)
        self.figure.setFont(font)
        self.figure.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail = QLabel(" ")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(0)
        layout.addWidget(self.caption)
        layout.addWidget(self.figure)
        layout.addWidget(self.detail)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def show_figure(self, figure: str, detail: str = " ", tooltip: str = "") -> None:
        self.figure.setText(figure)
        self.detail.setText(detail)
        self.setToolTip(tooltip)
        self.setAccessibleName(f"{self.caption.text()}: {figure} {detail}".strip())

    @property
    def text(self) -> str:
        return self.figure.text()


class KeyFiguresRow(QWidget):
    """The row of key figures above the charts (services' DashboardService.key_figures)."""

    def __init__(self) -> None:
        super().__init__()
        self.stock_at_cost = FigureTile("Stock value at cost", "figure_stock_cost")
        self.stock_at_price = FigureTile("Stock value at price", "figure_stock_price")
        self.sales = FigureTile("Sales in the period", "figure_sales")
        self.orders = FigureTile("Orders in the period", "figure_orders")
        self.open_orders = FigureTile("Open orders", "figure_open_orders")
        self.low_stock = FigureTile("Low stock", "figure_low_stock")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for tile in self.tiles():
            layout.addWidget(tile, 1)

    def tiles(self) -> list[FigureTile]:
        return [
            self.stock_at_cost,
            self.stock_at_price,
            self.sales,
            self.orders,
            self.open_orders,
            self.low_stock,
        ]

    def show_answer(self, figures: Any, start: date, end: date) -> None:
        period = f"{start:%d %b %Y} to {end:%d %b %Y}"
        self.stock_at_cost.show_figure(
            money_figure(figures.stock_at_cost),
            "on hand now",
            f"Stock on hand valued at cost: {exact_money(figures.stock_at_cost)}",
        )
        self.stock_at_price.show_figure(
            money_figure(figures.stock_at_price),
            "on hand now",
            f"Stock on hand valued at price: {exact_money(figures.stock_at_price)}",
        )
        self.sales.show_figure(
            money_figure(figures.sales_revenue),
            "revenue",
            f"Revenue of the sales dated {period}: {exact_money(figures.sales_revenue)}",
        )
        self.orders.show_figure(
            f"{figures.sales_orders:,}",
            "placed and not given up",
            f"Orders dated {period}, neither drafts nor cancelled, returned or refunded",
        )
        self.open_orders.show_figure(
            f"{figures.open_orders:,}",
            f"worth {money_figure(figures.open_value)}",
            "Orders placed and not yet shipped in full (pending, confirmed, processing, "
            f"on hold, partially shipped), of any date: worth {exact_money(figures.open_value)}",
        )
        self.low_stock.show_figure(
            f"{figures.low_stock:,}",
            "stock rows to reorder",
            "Stock rows at or below their reorder level (the Low stock table lists them)",
        )

    def show_failed(self) -> None:
        for tile in self.tiles():
            tile.show_figure("—")


class RowTable(QTableWidget):
    """A read-only table of a few rows; a click or Enter on a row emits `row_chosen`."""

    row_chosen = Signal(int)

    def __init__(
        self,
        headers: Sequence[str],
        numeric: Sequence[int] = (),
        header_tips: Sequence[str] = (),
    ) -> None:
        super().__init__(0, len(headers))
        self.setHorizontalHeaderLabels(list(headers))
        for column, tip in enumerate(header_tips):
            header_item = self.horizontalHeaderItem(column)
            if tip and header_item is not None:
                header_item.setToolTip(tip)
        self._numeric = set(numeric)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setTabKeyNavigation(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.horizontalHeader().setHighlightSections(False)
        # Codes, figures and dates whole; `stretch` names the text columns (ui/column_fit.py).
        self._fits = [Fit.WHOLE] * len(headers)
        self.column_fitter = ColumnFitter(self, self._fits)
        self.clicked.connect(lambda index: self.row_chosen.emit(index.row()))

    def stretch(self, column: int, *others: int) -> None:
        """`column` takes the width the others leave; `others` are text that may be cut
        when room is short. Every other column shows its values whole."""
        self._fits[column] = Fit.STRETCH
        for other in others:
            self._fits[other] = Fit.TEXT
        self.column_fitter.set_fits(self._fits)

    def set_tooltips(self, tips: Sequence[str]) -> None:
        """A tooltip per row, on every cell (what the columns leave out)."""
        for number, tip in enumerate(tips):
            for column in range(self.columnCount()):
                item = self.item(number, column)
                if item is not None:
                    item.setToolTip(tip)

    def set_rows(self, rows: Sequence[Sequence[str]]) -> None:
        """Show `rows`; the keyboard's current row stays (on the last one if fewer)."""
        current = self.currentRow()
        # Into an emptied table the items go in at once, without replacing shown ones.
        self.setRowCount(0)
        self.setRowCount(len(rows))
        for number, row in enumerate(rows):
            for column, text in enumerate(row):
                item = QTableWidgetItem(text)
                if column in self._numeric:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.setItem(number, column, item)
        if current >= 0 and rows:
            self.selectRow(min(current, len(rows) - 1))

    def cell_text(self, row: int, column: int) -> str:
        item = self.item(row, column)
        return "" if item is None else item.text()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentRow() >= 0:
            self.row_chosen.emit(self.currentRow())
            event.accept()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: Any) -> None:
        super().focusInEvent(event)
        if self.currentRow() < 0 and self.rowCount() > 0:
            self.selectRow(0)


# -- the tab -------------------------------------------------------------------------------


#: The tables each task reads; a change to any of them refreshes the task's panels. Tasks
#: start in this order, quick ones first: the runner's pool has a thread per core, and a
#: 10 ms panel queued behind a 1 s one (low stock on 1M products) would wait that second.
TASK_TABLES: dict[str, frozenset[str]] = {
    "stock": frozenset(
        {"products", "product_variants", "product_inventory", "variant_inventory", "warehouses"}
    ),
    "figures": frozenset(
        {
            "products",
            "product_variants",
            "product_inventory",
            "variant_inventory",
            "warehouses",
            "orders",
        }
    ),
    "sales": frozenset({"orders", "order_items"}),
    "pipeline": frozenset({"orders"}),
    "overdue": frozenset({"orders", "customers"}),
    "top_customers": frozenset({"orders", "order_items", "customers"}),
    "top_products": frozenset({"orders", "order_items", "products"}),
    "low_stock": frozenset(
        {"products", "product_variants", "product_inventory", "variant_inventory", "warehouses"}
    ),
}
TASKS = tuple(TASK_TABLES)


class DashboardTab(QWidget):
    """See the module docstring."""

    #: (what, filters): open a list filtered, or a record; see the module docstring.
    open_list_requested = Signal(str, object)
    status_changed = Signal()
    #: A task's answer was shown (its name, see TASKS); for tests and the benchmark.
    panel_loaded = Signal(str)

    def __init__(
        self,
        services: Any,
        runner: TaskRunner,
        acting: CurrentUser,
        parent: QWidget | None = None,
        *,
        source: DashboardSource | None = None,
        today: date | None = None,
    ) -> None:
        """`source` replaces `services.dashboard` (the benchmark times through it);
        `today` fixes the day the Range choices count from."""
        super().__init__(parent)
        self._services = services
        self._runner = runner
        self._acting = acting
        self._source: DashboardSource | None = (
            source if source is not None else getattr(services, "dashboard", None)
        )
        self._today = today or date.today()
        self._generation = dict.fromkeys(TASKS, 0)
        self._running: set[str] = set()
        self._stale: set[str] = set()
        self._warehouses_generation = 0
        self._loaded_at: datetime | None = None
        self._filters_in_effect: DashboardFilters | None = None
        # What the clickable panels showed, to turn an index back into a record.
        self._warehouse_keys: list[uuid.UUID] = []
        self._category_keys: list[object] = []
        self._sales_periods: list[date] = []
        self._statuses: list[str] = []
        self._top_product_keys: list[uuid.UUID] = []
        self._top_customer_keys: list[uuid.UUID] = []
        self._low_stock_rows: list[Any] = []
        self._overdue_ids: list[uuid.UUID] = []

        self._build_filters()
        self._build_panels()

        self._change_timer = QTimer(self)
        self._change_timer.setSingleShot(True)
        self._change_timer.setInterval(CHANGE_DELAY_MS)
        self._change_timer.timeout.connect(self._refresh_stale)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self.reload_panels)

        self._refusal = self._why_not()
        if self._refusal is not None:
            for panel in self._panels():
                panel.set_failed(self._refusal)
            self._filters_box.setEnabled(False)
        # The panels are aggregates over the whole database: read them only once the
        # dashboard is looked at (ui/first_show.py).
        self.first_show = load_when_first_shown(self, self.reload)

    # -- building ------------------------------------------------------------------------

    def _build_filters(self) -> None:
        self.range_combo = QComboBox()
        self.range_combo.setObjectName("dashboard_range")
        self._ranges = _quick_ranges(self._today)
        for label, _span in self._ranges:
            self.range_combo.addItem(label)
        self.from_edit = self._date_edit("dashboard_from")
        self.to_edit = self._date_edit("dashboard_to")
        self.warehouse_combo = QComboBox()
        self.warehouse_combo.setObjectName("dashboard_warehouse")
        self.warehouse_combo.addItem("All warehouses", None)
        self.warehouse_combo.setMinimumContentsLength(16)
        self.refresh_button = QPushButton(icons.icon("refresh"), "&Refresh")
        self.refresh_button.setToolTip("Read every panel again (F5)")

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for caption, widget in (
            ("Ran&ge:", self.range_combo),
            ("Fro&m:", self.from_edit),
            ("&To:", self.to_edit),
            ("W&arehouse:", self.warehouse_combo),
        ):
            buddy_label = QLabel(caption)
            buddy_label.setBuddy(widget)
            row.addWidget(buddy_label)
            row.addWidget(widget)
            row.addSpacing(8)
        row.addStretch(1)
        row.addWidget(self.refresh_button)
        self._filters_box = QWidget()
        self._filters_box.setLayout(row)

        self.range_combo.setCurrentText(DEFAULT_RANGE)
        self._apply_quick_range(self.range_combo.currentIndex())
        self.range_combo.currentIndexChanged.connect(self._quick_range_chosen)
        self.from_edit.dateChanged.connect(self._date_edited)
        self.to_edit.dateChanged.connect(self._date_edited)
        self.warehouse_combo.currentIndexChanged.connect(lambda _i: self.reload_panels())
        self.refresh_button.clicked.connect(self.reload)

    def _date_edit(self, name: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    def _build_panels(self) -> None:
        self.sales_chart = BarChart(accessible_name="Sales by period")
        self.grain_combo = QComboBox()
        self.grain_combo.setObjectName("dashboard_grain")
        for label, grain in GRAINS:
            self.grain_combo.addItem(label, grain)
        self.grain_combo.setCurrentIndex(0)
        self.line_check = QCheckBox("&Line")
        self.line_check.setToolTip("Draw the sales as a line instead of bars")
        grain_label = QLabel("&By:")
        grain_label.setBuddy(self.grain_combo)
        sales_box = QWidget()
        sales_layout = QVBoxLayout(sales_box)
        sales_layout.setContentsMargins(0, 0, 0, 0)
        sales_bar = QHBoxLayout()
        sales_bar.addWidget(grain_label)
        sales_bar.addWidget(self.grain_combo)
        sales_bar.addWidget(self.line_check)
        sales_bar.addStretch(1)
        sales_layout.addLayout(sales_bar)
        sales_layout.addWidget(self.sales_chart, 1)
        self.grain_combo.currentIndexChanged.connect(lambda _i: self._reload_tasks(("sales",)))
        self.line_check.toggled.connect(self.sales_chart.set_line)

        self.pipeline_chart = BarChart(horizontal=True, accessible_name="Orders by status")
        self.warehouse_chart = BarChart(accessible_name="Stock value by warehouse")
        self.category_chart = BarChart(horizontal=True, accessible_name="Stock value by category")
        self.top_products_chart = BarChart(horizontal=True, accessible_name="Top products")
        self.top_customers_chart = BarChart(horizontal=True, accessible_name="Top customers")
        # A third of a 1366-pixel window: the codes (warehouse, SKU, order number) and the
        # figures keep their whole width, the name takes what is left and is cut there;
        # the rest of a row (the item's name in full, stock on hand, due date) is its tooltip.
        self.low_stock_table = RowTable(
            LOW_STOCK_COLUMNS, numeric=(3, 4), header_tips=LOW_STOCK_HEADER_TIPS
        )
        self.low_stock_table.stretch(2)
        self.low_stock_table.setObjectName("dashboard_low_stock")
        self.overdue_table = RowTable(
            OVERDUE_COLUMNS, numeric=(2, 3), header_tips=OVERDUE_HEADER_TIPS
        )
        self.overdue_table.stretch(1)
        self.overdue_table.setObjectName("dashboard_overdue")
        self.key_figures = KeyFiguresRow()

        self.figures_panel = Panel("Key figures", self.key_figures)
        self.sales_panel = Panel("Sales", sales_box)
        self.pipeline_panel = Panel("Orders by status", self.pipeline_chart)
        self.warehouse_panel = Panel("Stock value by warehouse", self.warehouse_chart)
        self.category_panel = Panel("Stock value by category", self.category_chart)
        self.top_products_panel = Panel("Top products by revenue", self.top_products_chart)
        self.top_customers_panel = Panel("Top customers by revenue", self.top_customers_chart)
        self.low_stock_panel = Panel("Low stock", self.low_stock_table)
        self.overdue_panel = Panel("Overdue and unpaid orders", self.overdue_table)

        grid = QGridLayout()
        grid.setSpacing(8)
        grid.addWidget(self.sales_panel, 0, 0, 1, 2)
        grid.addWidget(self.pipeline_panel, 0, 2)
        grid.addWidget(self.warehouse_panel, 1, 0)
        grid.addWidget(self.category_panel, 1, 1)
        grid.addWidget(self.top_products_panel, 1, 2)
        grid.addWidget(self.low_stock_panel, 2, 0)
        grid.addWidget(self.overdue_panel, 2, 1)
        grid.addWidget(self.top_customers_panel, 2, 2)
        for column in range(3):
            grid.setColumnStretch(column, 1)
        for row, height in enumerate((250, 290, 290)):
            grid.setRowMinimumHeight(row, height)
        body = QWidget()
        body.setLayout(grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        layout = QVBoxLayout(self)
        layout.addWidget(self._filters_box)
        layout.addWidget(self.figures_panel)
        layout.addWidget(scroll, 1)

        self.sales_chart.bar_clicked.connect(self._sales_clicked)
        self.pipeline_chart.bar_clicked.connect(self._pipeline_clicked)
        self.warehouse_chart.bar_clicked.connect(self._warehouse_clicked)
        self.category_chart.bar_clicked.connect(self._category_clicked)
        self.top_products_chart.bar_clicked.connect(
            lambda i: self.open_list_requested.emit("product", self._top_product_keys[i])
        )
        self.top_customers_chart.bar_clicked.connect(
            lambda i: self.open_list_requested.emit("customer", self._top_customer_keys[i])
        )
        self.low_stock_table.row_chosen.connect(self._low_stock_chosen)
        self.overdue_table.row_chosen.connect(
            lambda i: self.open_list_requested.emit("order", self._overdue_ids[i])
        )

        # Reading order: filters, then the panels row by row.
        chain: list[QWidget] = [
            self.range_combo,
            self.from_edit,
            self.to_edit,
            self.warehouse_combo,
            self.refresh_button,
            self.grain_combo,
            self.line_check,
            self.sales_chart,
            self.pipeline_chart,
            self.warehouse_chart,
            self.category_chart,
            self.top_products_chart,
            self.low_stock_table,
            self.overdue_table,
            self.top_customers_chart,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _panels(self) -> list[Panel]:
        return [
            self.figures_panel,
            self.sales_panel,
            self.pipeline_panel,
            self.warehouse_panel,
            self.category_panel,
            self.top_products_panel,
            self.low_stock_panel,
            self.overdue_panel,
            self.top_customers_panel,
        ]

    def _task_panels(self, task: str) -> list[Panel]:
        return {
            "stock": [self.warehouse_panel, self.category_panel],
            "figures": [self.figures_panel],
            "low_stock": [self.low_stock_panel],
            "sales": [self.sales_panel],
            "top_products": [self.top_products_panel],
            "top_customers": [self.top_customers_panel],
            "pipeline": [self.pipeline_panel],
            "overdue": [self.overdue_panel],
        }[task]

    def _why_not(self) -> str | None:
        if not self._acting.can(perms.REPORTS_VIEW):
            return "You may not view reports: the dashboard needs the reports.view permission."
        if self._source is None:
            return "The dashboard is not available in this version."
        return None

    # -- what the main window asks of every tab ------------------------------------------

    def reload(self) -> None:
        """Read the warehouses and every panel again (F5)."""
        if self._refusal is not None:
            return
        self._load_warehouses()
        self.reload_panels()

    def reload_panels(self) -> None:
        self._filter_timer.stop()
        self._reload_tasks(TASKS)

    def focus_search(self) -> None:
        self.range_combo.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def apply_change(self, change: Change) -> None:
        """Mark the panels reading the changed table; they are read again once, a moment
        after the last change of a burst."""
        if self._refusal is not None or not self.first_show.done:
            return  # nothing read yet: the first load reads what is there then
        if change.concerns("warehouses"):
            self._load_warehouses()
        stale = {task for task, tables in TASK_TABLES.items() if any(map(change.concerns, tables))}
        if stale:
            self._stale |= stale
            self._change_timer.start()

    def status_text(self) -> str:
        if self._refusal is not None:
            return self._refusal
        failed = [panel for panel in self._panels() if panel.error is not None]
        if self._running:
            return "Loading the dashboard…"
        if failed:
            noun = "panel" if len(failed) == 1 else "panels"
            return f"{len(failed)} dashboard {noun} could not be loaded (F5 tries again)"
        filters = self._filters_in_effect
        if filters is None or self._loaded_at is None:
            return ""
        where = self.warehouse_combo.currentText()
        return (
            f"Dashboard for {filters.start:%Y-%m-%d} to {filters.end:%Y-%m-%d}, {where.lower()}"
            f"; read at {self._loaded_at:%H:%M:%S}"
        )

    def is_loading(self) -> bool:
        return bool(self._running)

    # -- filters -------------------------------------------------------------------------

    def filters(self) -> DashboardFilters:
        start = _from_qdate(self.from_edit.date())
        end = _from_qdate(self.to_edit.date())
        if end < start:
            start, end = end, start
        return DashboardFilters(
            start=start,
            end=end,
            warehouse_id=self.warehouse_combo.currentData(),
            grain=str(self.grain_combo.currentData()),
        )

    def _apply_quick_range(self, index: int) -> None:
        span = self._ranges[index][1]
        if span is None:
            return
        for edit, day in ((self.from_edit, span[0]), (self.to_edit, span[1])):
            edit.blockSignals(True)
            edit.setDate(_to_qdate(day))
            edit.blockSignals(False)

    def _quick_range_chosen(self, index: int) -> None:
        span = self._ranges[index][1]
        if span is None:
            return  # "Custom": the dates stay as they are, for the user to edit
        self._apply_quick_range(index)
        # A year of days is 365 hairlines: a long range starts out by week or by month.
        days = (span[1] - span[0]).days
        grain = "month" if days > 180 else "week" if days > 45 else "day"
        self.grain_combo.blockSignals(True)
        self.grain_combo.setCurrentIndex(self.grain_combo.findData(grain))
        self.grain_combo.blockSignals(False)
        self.reload_panels()

    def _date_edited(self, _day: QDate) -> None:
        custom = self.range_combo.findText("Custom")
        self.range_combo.blockSignals(True)
        self.range_combo.setCurrentIndex(custom)
        self.range_combo.blockSignals(False)
        self._filter_timer.start()

    def _load_warehouses(self) -> None:
        if not self._acting.can(perms.INVENTORY_READ):
            return  # the stock value answer names the warehouses that hold stock instead
        self._warehouses_generation += 1
        generation = self._warehouses_generation
        warehouses = self._services.warehouses
        acting = self._acting

        def done(rows: Sequence[Any]) -> None:
            if generation == self._warehouses_generation:
                self._fill_warehouses([(row.id, f"{row.code} — {row.name}") for row in rows])

        self._runner.run(
            lambda: warehouses.list_warehouses(acting, include_inactive=False),
            done,
            lambda _error: None,  # the combo keeps "All warehouses"; the panels still work
            owner=self,
        )

    def warehouse_index(self, warehouse_id: uuid.UUID | None) -> int:
        """The Warehouse combo's row of `warehouse_id` (0: all), -1 if not listed."""
        # findData() compares Python objects by identity, not equality: look ourselves.
        combo = self.warehouse_combo
        return next((i for i in range(combo.count()) if combo.itemData(i) == warehouse_id), -1)

    def _fill_warehouses(self, choices: Sequence[tuple[uuid.UUID, str]]) -> None:
        combo = self.warehouse_combo
        chosen = combo.currentData()
        combo.blockSignals(True)
        while combo.count() > 1:
            combo.removeItem(1)
        for key, label in choices:
            combo.addItem(label, key)
        found = self.warehouse_index(chosen) if chosen is not None else 0
        combo.setCurrentIndex(max(found, 0))
        combo.blockSignals(False)
        if chosen is not None and found < 0:
            self.reload_panels()  # the chosen warehouse went away: show all of them

    # -- loading -------------------------------------------------------------------------

    def _refresh_stale(self) -> None:
        stale, self._stale = self._stale, set()
        self._reload_tasks(tuple(task for task in TASKS if task in stale))

    def _reload_tasks(self, tasks: Sequence[str]) -> None:
        if self._refusal is not None or not tasks:
            return
        source = self._source
        assert source is not None
        filters = self.filters()
        self._filters_in_effect = filters
        acting = self._acting
        start, end, warehouse, grain = (
            filters.start,
            filters.end,
            filters.warehouse_id,
            filters.grain,
        )
        work: dict[str, Callable[[], Any]] = {
            "stock": lambda: source.stock_value(acting, warehouse),
            "figures": lambda: source.key_figures(acting, start, end, warehouse),
            "low_stock": lambda: source.low_stock(acting, warehouse, LOW_STOCK_LIMIT),
            "sales": lambda: source.sales(acting, start, end, grain, warehouse),
            "top_products": lambda: source.top_products(acting, start, end, TOP_LIMIT, warehouse),
            "top_customers": lambda: source.top_customers(acting, start, end, TOP_LIMIT),
            "pipeline": lambda: source.pipeline(acting, start, end),
            "overdue": lambda: source.overdue_unpaid(acting, None, OVERDUE_LIMIT),
        }
        show: dict[str, Callable[[Any, DashboardFilters], None]] = {
            "stock": self._show_stock,
            "figures": self._show_figures,
            "low_stock": self._show_low_stock,
            "sales": self._show_sales,
            "top_products": self._show_top_products,
            "top_customers": self._show_top_customers,
            "pipeline": self._show_pipeline,
            "overdue": self._show_overdue,
        }
        for task in tasks:
            self._stale.discard(task)
            self._generation[task] += 1
            generation = self._generation[task]
            self._running.add(task)
            for panel in self._task_panels(task):
                panel.set_loading()
            self._runner.run(
                work[task],
                self._on_answer(task, generation, show[task], filters),
                self._on_failure(task, generation),
                owner=self,
            )
        self.status_changed.emit()

    def _on_answer(
        self,
        task: str,
        generation: int,
        show: Callable[[Any, DashboardFilters], None],
        filters: DashboardFilters,
    ) -> Callable[[Any], None]:
        def done(answer: Any) -> None:
            if generation != self._generation[task]:
                return  # asked again since: a newer answer is on its way
            self._running.discard(task)
            show(answer, filters)
            self._loaded_at = datetime.now()
            self.status_changed.emit()
            self.panel_loaded.emit(task)

        return done

    def _on_failure(self, task: str, generation: int) -> Callable[[BaseException], None]:
        def failed(error: BaseException) -> None:
            if generation != self._generation[task]:
                return
            self._running.discard(task)
            message = f"Could not be loaded: {user_message(error)}"
            for panel in self._task_panels(task):
                panel.set_failed(message)
            if task == "figures":
                self.key_figures.show_failed()
            self.status_changed.emit()
            self.panel_loaded.emit(task)

        return failed

    # -- showing answers -----------------------------------------------------------------

    def _show_stock(self, answer: Any, _filters: DashboardFilters) -> None:
        for chart, panel, rows, keys in (
            (self.warehouse_chart, self.warehouse_panel, answer.by_warehouse, "_warehouse_keys"),
            (
                self.category_chart,
                self.category_panel,
                _with_other(answer.by_category, CATEGORY_BARS),
                "_category_keys",
            ),
        ):
            setattr(self, keys, [row.key for row in rows])
            # The bars carry the short names (Qt elides long ones to "…"); the line under
            # the chart names the one pointed at in full.
            chart.set_data(
                [row.short_label or row.label for row in rows],
                [
                    ChartSeries("At cost", tuple(row.at_cost for row in rows)),
                    ChartSeries("At price", tuple(row.at_price for row in rows)),
                ],
                [f"{row.label}, {row.units:,} units" for row in rows],
            )
            held = any(row.units or row.at_cost or row.at_price for row in rows)
            panel.set_loaded(None if held else "No stock on hand.")
        if not self._acting.can(perms.INVENTORY_READ) and self.warehouse_combo.count() == 1:
            self._fill_warehouses([(row.key, row.label) for row in answer.by_warehouse])

    def _show_figures(self, figures: Any, filters: DashboardFilters) -> None:
        self.key_figures.show_answer(figures, filters.start, filters.end)
        self.figures_panel.set_loaded()

    def _show_low_stock(self, rows: Sequence[Any], filters: DashboardFilters) -> None:
        self._low_stock_rows = list(rows)
        # One warehouse chosen: its code in every row would only take the name's room.
        self.low_stock_table.setColumnHidden(0, filters.warehouse_id is not None)
        self.low_stock_table.set_rows(
            [
                (
                    row.warehouse_code,
                    row.variant_sku or row.sku,
                    row.name,
                    f"{row.sellable:,}",
                    f"{row.reorder_level:,}",
                )
                for row in rows
            ]
        )
        self.low_stock_table.set_tooltips(
            [
                f"{row.variant_sku or row.sku} {row.name} in {row.warehouse_code}: "
                f"{row.on_hand:,} on hand, {row.reserved:,} reserved, reorder at "
                f"{row.reorder_level:,}"
                + (f", up to {row.maximum:,}" if row.maximum else "")
                + f"; order {row.reorder_quantity:,}"
                for row in rows
            ]
        )
        self.low_stock_panel.set_loaded(None if rows else "Nothing is running low.")

    def _show_sales(self, points: Sequence[Any], filters: DashboardFilters) -> None:
        self._sales_periods = [point.period for point in points]
        several_years = filters.start.year != filters.end.year
        self.sales_chart.set_data(
            [period_label(point.period, filters.grain, several_years) for point in points],
            [ChartSeries("Revenue", tuple(point.revenue for point in points))],
            [f"{point.orders:,} {'order' if point.orders == 1 else 'orders'}" for point in points],
        )
        nothing = not points or all(point.orders == 0 for point in points)
        self.sales_panel.set_loaded("No sales in this range." if nothing else None)

    def _show_top(
        self, rows: Sequence[Any], chart: BarChart, panel: Panel, empty: str
    ) -> list[uuid.UUID]:
        chart.set_data(
            [row.label for row in rows],
            [ChartSeries("Revenue", tuple(row.revenue for row in rows))],
            [f"{row.quantity:,} units" for row in rows],
        )
        panel.set_loaded(None if rows else empty)
        return [row.key for row in rows]

    def _show_top_products(self, rows: Sequence[Any], _filters: DashboardFilters) -> None:
        self._top_product_keys = self._show_top(
            rows, self.top_products_chart, self.top_products_panel, "No sales in this range."
        )

    def _show_top_customers(self, rows: Sequence[Any], _filters: DashboardFilters) -> None:
        self._top_customer_keys = self._show_top(
            rows, self.top_customers_chart, self.top_customers_panel, "No sales in this range."
        )

    def _show_pipeline(self, every: Sequence[Any], _filters: DashboardFilters) -> None:
        # Statuses without orders would only crowd the labels (see TOP_LIMIT).
        rows = [row for row in every if row.orders]
        self._statuses = [row.status for row in rows]
        self.pipeline_chart.set_data(
            [code_label(row.status) for row in rows],
            [ChartSeries("Orders", tuple(Decimal(row.orders) for row in rows), money=False)],
            [f"worth {format_figure(row.value)}" for row in rows],
        )
        nothing = not rows or all(row.orders == 0 for row in rows)
        self.pipeline_panel.set_loaded("No orders in this range." if nothing else None)

    def _show_overdue(self, rows: Sequence[Any], _filters: DashboardFilters) -> None:
        self._overdue_ids = [row.order_id for row in rows]
        self.overdue_table.set_rows(
            [
                (
                    row.order_number,
                    row.customer_name,
                    f"{row.days_overdue:,}",
                    format_figure(row.total_amount - row.paid_amount),
                )
                for row in rows
            ]
        )
        self.overdue_table.set_tooltips(
            [
                f"{row.order_number}, {row.customer_name}: due {row.required_date:%Y-%m-%d}, "
                f"total {format_figure(row.total_amount)}, paid {format_figure(row.paid_amount)}"
                for row in rows
            ]
        )
        self.overdue_panel.set_loaded(None if rows else "No overdue unpaid orders.")

    # -- clicks --------------------------------------------------------------------------

    def _range(self) -> tuple[date, date]:
        filters = self._filters_in_effect or self.filters()
        return filters.start, filters.end

    def _sales_clicked(self, index: int) -> None:
        filters = self._filters_in_effect or self.filters()
        period = self._sales_periods[index]
        self.open_list_requested.emit(
            "orders",
            {
                "date_from": max(period, filters.start),
                "date_to": min(period_end(period, filters.grain), filters.end),
            },
        )

    def _pipeline_clicked(self, index: int) -> None:
        start, end = self._range()
        self.open_list_requested.emit(
            "orders", {"status": self._statuses[index], "date_from": start, "date_to": end}
        )

    def _warehouse_clicked(self, index: int) -> None:
        self.open_list_requested.emit("warehouses", {"warehouse_id": self._warehouse_keys[index]})

    def _category_clicked(self, index: int) -> None:
        key = self._category_keys[index]
        if key is not OTHER:
            self.open_list_requested.emit("products", {"category_id": key})

    def _low_stock_chosen(self, index: int) -> None:
        row = self._low_stock_rows[index]
        self.open_list_requested.emit(
            "warehouses",
            {
                "warehouse_id": row.warehouse_id,
                "product_id": row.product_id,
                "variant_id": row.variant_id,
                "search": row.variant_sku or row.sku,
            },
        )
