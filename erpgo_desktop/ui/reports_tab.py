"""The Reports tab: pick a report and its filters; a sortable table; Export.

Each report is a `PagedTableModel` over `ReportService` (services/reports.py): sorting by
a header click and the search are done in PostgreSQL, pages are keyset pages of the sorted
report, and the model's count is the report's totals (`ReportService.totals`: the row
count and the sums shown under the table), read once per report and filters, apart from
the pages. The models are made when their report is first chosen and kept, each with its
own sort. Nothing is read before the tab is first shown (ui/first_show.py). Export writes
what the table shows (ui/exporting.py); XLSX gets numbers as numbers (`TypedColumn`).

Each report names the filters it takes (`ReportSpec`): the period, the warehouse, and for
Changes (the change history, `HistoryService.changes`) the person and the kind of record.
The period is the frame of most reports and stays in the bar, greyed out where it does not
apply; the other filters are shown only with a report that takes them, so that the bar
fits a 1366-pixel screen whatever the report.

Surface for the main window, as the list tabs: `reload`, `focus_search`,
`apply_change(change)`, `status_text` with `status_changed`, and `model`/`table` for
File › Export….
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.domain.history import KINDS
from erpgo_desktop.domain.wording import code_label
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.history import HistoryService, Person
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.services.reports import (
    Report,
    ReportCursor,
    ReportPage,
    ReportService,
    ReportTotals,
)
from erpgo_desktop.services.warehouses import WarehouseRow
from erpgo_desktop.ui import icons
from erpgo_desktop.ui.exporting import ExportJob, TypedColumn, export_table
from erpgo_desktop.ui.first_show import load_when_first_shown
from erpgo_desktop.ui.list_model import PagedTableModel, money, number
from erpgo_desktop.ui.list_tab import SEARCH_DELAY_MS, list_status
from erpgo_desktop.ui.list_view import ListTableView
from erpgo_desktop.ui.tasks import TaskRunner
from erpgo_desktop.ui.widgets import error_label

DATE_FORMAT = "yyyy-MM-dd"
DEFAULT_PERIOD_DAYS = 30
PAGE_SIZE = 500
#: Characters the person and kind filters show without opening ("Role membership").
MIN_FILTER_CHARACTERS = 15


@dataclass(frozen=True)
class ReportQuery:
    search: str = ""
    sort: str = ""
    descending: bool = True
    start: date | None = None
    end: date | None = None
    warehouse_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    #: A table of `domain.history.KINDS`; None: every kind of record.
    kind: str | None = None


def _text(name: str, title: str, **kwargs: Any) -> TypedColumn[Any]:
    return TypedColumn(title, lambda row: getattr(row, name) or "", sort=name, **kwargs)


def _integer(name: str, title: str) -> TypedColumn[Any]:
    return TypedColumn(
        title,
        lambda row: number(getattr(row, name)),
        sort=name,
        align_right=True,
        value=lambda row: getattr(row, name),
    )


def _money(name: str, title: str) -> TypedColumn[Any]:
    return TypedColumn(
        title,
        lambda row: money(getattr(row, name)),
        sort=name,
        align_right=True,
        value=lambda row: getattr(row, name),
    )


@dataclass(frozen=True)
class ReportSpec:
    report: Report
    title: str
    columns: tuple[TypedColumn[Any], ...]
    sort: str
    descending: bool
    period: bool
    warehouse: bool
    search_placeholder: str
    #: Tables whose changes alter the report.
    tables: tuple[str, ...]
    #: The report takes a person (who made the change) and a kind of record (shown only
    #: then, as the warehouse).
    person: bool = False
    kind: bool = False


_ITEM = (_text("sku", "SKU"), _text("name", "Name", stretch=True, tooltip=True))
_SALES_TABLES = ("orders", "order_items", "order_addresses", "customers")

SPECS: tuple[ReportSpec, ...] = (
    ReportSpec(
        Report.INVENTORY_VALUATION, "Inventory valuation",
        (*_ITEM, _text("warehouse_code", "Warehouse"), _integer("on_hand", "On hand"),
         TypedColumn("Reserved", lambda r: number(r.reserved), align_right=True,
                     value=lambda r: r.reserved),
         _money("unit_cost", "Unit cost"),
         TypedColumn("Unit price", lambda r: money(r.unit_price), align_right=True,
                     value=lambda r: r.unit_price),
         _money("value_at_cost", "Value at cost"), _money("value_at_price", "Value at price")),
        # By SKU: an index reads that order, so the first page comes at once over a
        # million stock rows (so do the values and on hand, from the stock rows' indexes).
        "sku", False, False, True, "Search SKU or name (Ctrl+F)",
        ("product_inventory", "variant_inventory", "products", "product_variants"),
    ),
    ReportSpec(
        Report.STOCK_MOVEMENTS, "Stock movements",
        (*_ITEM, _text("warehouse_code", "Warehouse"), _integer("opening", "Opening"),
         _integer("received", "Received"), _integer("issued", "Issued"),
         _integer("adjusted", "Adjusted"), _integer("transferred", "Transferred"),
         _integer("net", "Net"), _integer("closing", "Closing")),
        "sku", False, True, True, "Search SKU or name (Ctrl+F)", ("inventory_transactions",),
    ),
    ReportSpec(
        Report.SALES_BY_PRODUCT, "Sales by product",
        (*_ITEM, _integer("orders", "Orders"), _integer("units", "Units"),
         _integer("returned", "Returned"), _money("net_sales", "Net sales")),
        "net_sales", True, True, False, "Search SKU or name (Ctrl+F)", _SALES_TABLES,
    ),
    ReportSpec(
        Report.SALES_BY_CUSTOMER, "Sales by customer",
        (_text("customer_name", "Customer", stretch=True, tooltip=True),
         _text("customer_code", "Code"), _integer("orders", "Orders"),
         _money("net_sales", "Net sales"), _money("total", "Total"), _money("paid", "Paid")),
        "net_sales", True, True, False, "Search customer (Ctrl+F)", _SALES_TABLES,
    ),
    ReportSpec(
        Report.SALES_BY_REGION, "Sales by region",
        (_text("country", "Country", stretch=True), _text("state", "State"),
         _integer("orders", "Orders"), _integer("customers", "Customers"),
         _money("net_sales", "Net sales"), _money("total", "Total")),
        "net_sales", True, True, False, "Search country or state (Ctrl+F)", _SALES_TABLES,
    ),
    ReportSpec(
        Report.CUSTOMER_BALANCES, "Customer balances",
        (_text("customer_name", "Customer", stretch=True, tooltip=True),
         _text("customer_code", "Code"),
         TypedColumn("Status", lambda r: code_label(r.status)),
         _money("credit_limit", "Credit limit"), _money("balance", "Balance"),
         _money("available_credit", "Available"), _integer("unpaid_orders", "Unpaid orders"),
         _money("unpaid_amount", "Unpaid"), _money("overdue_amount", "Overdue")),
        "balance", True, False, False, "Search customer (Ctrl+F)", ("customers", "orders"),
    ),
    ReportSpec(
        Report.CHANGES, "Changes",
        (TypedColumn("When", lambda r: f"{r.changed_at.astimezone():%Y-%m-%d %H:%M}",
                     sort="changed_at", value=lambda r: r.changed_at),
         TypedColumn("Person", lambda r: r.person, tooltip=True),
         TypedColumn("Kind", lambda r: r.kind),
         TypedColumn("Record", lambda r: r.record, tooltip=True),
         TypedColumn("Action", lambda r: r.action_label),
         TypedColumn("Changes", lambda r: r.summary, tooltip=True, stretch=True)),
        # Only by time: the history is kept in the order it happened, and read by it.
        "changed_at", True, True, False, "Search the changed values (Ctrl+F)",
        tuple(KINDS), person=True, kind=True,
    ),
)  # fmt: skip
SPEC_OF = {spec.report: spec for spec in SPECS}


class ReportSource:
    """One report of the services as a list source for the signed-in user (workers):
    keyset pages, and as the count the report's totals, read once per query."""

    def __init__(
        self,
        reports: ReportService,
        history: HistoryService,
        acting: CurrentUser,
        report: Report,
    ) -> None:
        self._reports = reports
        self._history = history
        self._acting = acting
        self._report = report
        #: The totals last read, with the query they are of (written on a worker: one
        #: assignment of an immutable pair, read on the GUI thread).
        self.totals: tuple[ReportQuery, ReportTotals] | None = None

    def fetch_page(
        self, query: ReportQuery, after: ReportCursor | None, limit: int
    ) -> ReportPage[Any]:
        reports, acting = self._reports, self._acting
        options: dict[str, Any] = {
            "search": query.search,
            "sort": query.sort,
            "descending": query.descending,
            "after": after,
            "limit": limit,
        }
        start, end = _period(query)
        match self._report:
            case Report.INVENTORY_VALUATION:
                return reports.inventory_valuation(
                    acting, warehouse_id=query.warehouse_id, **options
                )
            case Report.STOCK_MOVEMENTS:
                return reports.stock_movements(
                    acting, start, end, warehouse_id=query.warehouse_id, **options
                )
            case Report.SALES_BY_PRODUCT:
                return reports.sales_by_product(acting, start, end, **options)
            case Report.SALES_BY_CUSTOMER:
                return reports.sales_by_customer(acting, start, end, **options)
            case Report.SALES_BY_REGION:
                return reports.sales_by_region(acting, start, end, **options)
            case Report.CUSTOMER_BALANCES:
                return reports.customer_balances(acting, **options)
            case Report.CHANGES:
                return self._history.changes(
                    acting, start, end, person_id=query.person_id, kind=query.kind, **options
                )

    def count(self, query: ReportQuery) -> ReportTotals:
        """The report's row count and sums: the model asks once per query (and refresh)."""
        start, end = _period(query)
        if self._report is Report.CHANGES:
            totals = self._history.count_changes(
                self._acting,
                start,
                end,
                person_id=query.person_id,
                kind=query.kind,
                search=query.search,
            )
        else:
            totals = self._reports.totals(
                self._acting,
                self._report,
                start=start,
                end=end,
                warehouse_id=query.warehouse_id,
                search=query.search,
            )
        self.totals = (query, totals)
        return totals

    def totals_of(self, query: ReportQuery) -> Mapping[str, Any]:
        """The report's sums for `query`, once read; {} before, or without sums."""
        known = self.totals
        return known[1].sums if known is not None and known[0] == query else {}


def _period(query: ReportQuery) -> tuple[date, date]:
    return query.start or date.today(), query.end or date.today()


def _date_edit(name: str, day: QDate) -> QDateEdit:
    edit = QDateEdit(day)
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat(DATE_FORMAT)
    return edit


def _filter_combo(name: str, everything: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.addItem(everything, None)
    # As wide as a usual name, not the longest one (the list opens as wide as it needs):
    # the filter bar has to fit a 1366-pixel screen.
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(MIN_FILTER_CHARACTERS)
    return combo


def _fit_list(combo: QComboBox) -> None:
    """Open the list as wide as its longest item, which the closed box may cut short."""
    view = combo.view()
    view.setMinimumWidth(view.sizeHintForColumn(0) + view.verticalScrollBar().sizeHint().width())


def _day(edit: QDateEdit) -> date:
    day = edit.date()
    return date(day.year(), day.month(), day.day())


def _row_key(row: Any) -> Any:
    return row.key


class ReportsTab(QWidget):
    status_changed = Signal()
    #: An export finished: the file and its rows (for the status bar).
    exported = Signal(str, int)

    def __init__(
        self,
        services: Services,
        runner: TaskRunner,
        acting: CurrentUser,
        *,
        page_size: int = PAGE_SIZE,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._runner = runner
        self._acting = acting
        self._page_size = page_size
        self._models: dict[Report, PagedTableModel] = {}
        self._failure: str | None = None
        self.export_job: ExportJob | None = None
        #: Shown once: before, nothing is read (the reports add up whole tables).
        self._shown = False

        self.report_combo = QComboBox()
        self.report_combo.setObjectName("report_choice")
        for spec in SPECS:
            self.report_combo.addItem(spec.title, spec.report)
        report_label = QLabel("&Report:")
        report_label.setBuddy(self.report_combo)

        today = QDate.currentDate()
        self.start_edit = _date_edit("report_start", today.addDays(-DEFAULT_PERIOD_DAYS))
        self.end_edit = _date_edit("report_end", today)
        self.start_label = QLabel("Fro&m:")
        self.start_label.setBuddy(self.start_edit)
        self.end_label = QLabel("&To:")
        self.end_label.setBuddy(self.end_edit)
        self.date_error = error_label()
        self.date_error.setObjectName("report_date_error")

        self.warehouse_combo = QComboBox()
        self.warehouse_combo.setObjectName("report_warehouse")
        self.warehouse_combo.addItem("All warehouses", None)
        self.warehouse_label = QLabel("W&arehouse:")
        self.warehouse_label.setBuddy(self.warehouse_combo)

        self.person_combo = _filter_combo("report_person", "Everyone")
        self.person_label = QLabel("Perso&n:")
        self.person_label.setBuddy(self.person_combo)
        self.kind_combo = _filter_combo("report_kind", "All records")
        for table, kind in KINDS.items():
            self.kind_combo.addItem(kind, table)
        _fit_list(self.kind_combo)
        self.kind_label = QLabel("&Kind:")
        self.kind_label.setBuddy(self.kind_combo)
        self._people_asked = False

        self.search = QLineEdit()
        self.search.setObjectName("report_search")
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filters)
        self.search.textEdited.connect(lambda _text: self._search_timer.start())
        self.search.returnPressed.connect(self.apply_filters)

        self.export_button = QPushButton(icons.icon("export"), "E&xport…")
        self.export_button.setObjectName("report_export")
        self.export_button.clicked.connect(lambda _checked=False: self.export())

        self.table = ListTableView()
        self.table.setObjectName("report_table")
        self.table.setSortingEnabled(False)
        self.totals_label = QLabel()
        self.totals_label.setObjectName("report_totals")
        self.totals_label.setWordWrap(True)
        self.totals_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.totals_label.hide()

        top = QHBoxLayout()
        widgets: list[QWidget] = [
            report_label, self.report_combo, self.start_label, self.start_edit,
            self.end_label, self.end_edit, self.warehouse_label, self.warehouse_combo,
            self.person_label, self.person_combo, self.kind_label, self.kind_combo,
        ]  # fmt: skip
        for widget in widgets:
            top.addWidget(widget)
        top.addWidget(self.search, 1)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.date_error)
        layout.addWidget(self.table)
        layout.addWidget(self.totals_label)
        self.setFocusProxy(self.table)
        previous: QWidget = self.report_combo
        for widget in (self.start_edit, self.end_edit, self.warehouse_combo, self.person_combo,
                       self.kind_combo, self.search, self.export_button, self.table):  # fmt: skip
            QWidget.setTabOrder(previous, widget)
            previous = widget

        self._date_timer = QTimer(self)
        self._date_timer.setSingleShot(True)
        self._date_timer.setInterval(SEARCH_DELAY_MS)
        self._date_timer.timeout.connect(self.apply_filters)
        for edit in (self.start_edit, self.end_edit):
            edit.dateChanged.connect(lambda _day: self._date_timer.start())
        for combo in (self.warehouse_combo, self.person_combo, self.kind_combo):
            combo.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.table.horizontalHeader().sortIndicatorChanged.connect(self._sort_indicator_changed)
        self.report_combo.currentIndexChanged.connect(lambda _i: self._show_report())
        self._show_report()
        self.first_show = load_when_first_shown(self, self._first_load)

    # -- the tab surface -----------------------------------------------------------------

    @property
    def spec(self) -> ReportSpec:
        report = self.report_combo.currentData()
        assert isinstance(report, Report)
        return SPEC_OF[report]

    @property
    def model(self) -> PagedTableModel:
        return self._model_for(self.spec)

    def reload(self) -> None:
        if self.spec.person and self.person_combo.count() == 1:
            self._load_people()  # they could not be read before: try again with the report
        self.model.reload()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def apply_change(self, change: Change) -> None:
        """Read the report again when `change` concerns a table it adds up."""
        if any(change.concerns(table) for table in self.spec.tables):
            self.model.refresh()

    def status_text(self) -> str:
        if self._failure is not None:
            return f"The report could not be read: {self._failure} (F5 tries again)"
        model = self.model
        return list_status(
            model.is_loading,
            model.count,
            singular="row",
            plural="rows",
            search=model.query.search.strip(),
            filtered=True,
            loaded=model.rowCount(),
        )

    def select_report(self, report: Report) -> None:
        self.report_combo.setCurrentIndex(self.report_combo.findData(report))

    def set_period(self, start: date, end: date) -> None:
        for edit, day in ((self.start_edit, start), (self.end_edit, end)):
            edit.blockSignals(True)
            edit.setDate(QDate(day.year, day.month, day.day))
            edit.blockSignals(False)
        self.apply_filters()

    def export(self) -> ExportJob | None:
        """Ask for a file and export the report as shown."""
        job = export_table(self, self._runner, self.model, self.table, title=self.spec.title)
        if job is not None:
            self._watch(job)
        return job

    # -- filters -------------------------------------------------------------------------

    def apply_filters(self) -> None:
        """Read the report for what the fields say, unless the period is backwards (said
        under the dates; the table stays as it was). Before the tab is first shown the
        fields are only read then."""
        self._search_timer.stop()
        self._date_timer.stop()
        if not self._shown:
            return
        start, end = _day(self.start_edit), _day(self.end_edit)
        if self.spec.period and start > end:
            self.date_error.setText("The period ends before it starts.")
            self.date_error.show()
            self.end_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.date_error.hide()
        spec, model = self.spec, self.model
        # A filter the report does not take stays out of its query: changing it on another
        # report must not read this one again.
        model.set_query(
            dataclasses.replace(
                model.query,
                search=self.search.text(),
                start=start,
                end=end,
                warehouse_id=self.warehouse_combo.currentData() if spec.warehouse else None,
                person_id=self.person_combo.currentData() if spec.person else None,
                kind=self.kind_combo.currentData() if spec.kind else None,
            )
        )
        model.start()  # a report chosen now for the first time: its first page

    def _first_load(self) -> None:
        self._shown = True
        self._load_warehouses()
        self._show_report()

    def _show_report(self) -> None:
        """Set the filters and the table up for the chosen report, and read it once the
        tab has been shown."""
        spec = self.spec
        for widget in (self.start_label, self.start_edit, self.end_label, self.end_edit):
            widget.setEnabled(spec.period)
        self.warehouse_label.setEnabled(spec.warehouse)
        self.warehouse_combo.setEnabled(spec.warehouse)
        self.warehouse_label.setVisible(spec.warehouse)
        self.warehouse_combo.setVisible(spec.warehouse)
        self.person_label.setVisible(spec.person)
        self.person_combo.setVisible(spec.person)
        self.kind_label.setVisible(spec.kind)
        self.kind_combo.setVisible(spec.kind)
        if spec.person and not self._people_asked and self._shown:
            self._load_people()
        self.search.setPlaceholderText(spec.search_placeholder)
        model = self._model_for(spec)
        self.table.setModel(model)
        header = self.table.horizontalHeader()
        query = model.query
        sorted_column = model.column_of_sort(query.sort)
        order = Qt.SortOrder.DescendingOrder if query.descending else Qt.SortOrder.AscendingOrder
        self.table.setSortingEnabled(False)
        header.setSortIndicator(sorted_column if sorted_column is not None else -1, order)
        # Sorting on "sorts" the model by the indicator: the query it has already (or, for a
        # held model, what its first load reads).
        self.table.setSortingEnabled(True)
        self._failure = None
        self.apply_filters()
        self.status_changed.emit()

    def _model_for(self, spec: ReportSpec) -> PagedTableModel:
        model = self._models.get(spec.report)
        if model is None:
            services = self._services
            source = ReportSource(services.reports, services.history, self._acting, spec.report)
            query = ReportQuery(sort=spec.sort, descending=spec.descending)
            model = PagedTableModel(
                source, self._runner, spec.columns, query, row_key=_row_key,
                page_size=self._page_size, parent=self,
            )  # fmt: skip
            model.hold()  # until apply_filters has given it the period and the filters
            model.status_changed.connect(lambda *_status: self.status_changed.emit())
            model.status_changed.connect(lambda *_status: self._show_totals())
            model.load_failed.connect(self._load_failed)
            model.modelReset.connect(self._forget_failure)
            self._models[spec.report] = model
        return model

    def _show_totals(self) -> None:
        """The sums of the whole report (not only the rows loaded), under the table."""
        spec, model = self.spec, self.model
        source = model.source
        totals = source.totals_of(model.query) if isinstance(source, ReportSource) else {}
        if not totals:
            self.totals_label.hide()
            return
        titles = {column.sort: column.title for column in spec.columns if column.sort}
        parts = []
        for name, value in totals.items():
            title = titles.get(name, name.replace("_", " ").capitalize())
            shown = money(value) if isinstance(value, Decimal) else number(value or 0)
            parts.append(f"{title} <b>{shown}</b>")
        self.totals_label.setText("Totals of all rows: " + " · ".join(parts))
        self.totals_label.show()

    def _load_warehouses(self) -> None:
        warehouses = self._services.warehouses
        acting = self._acting

        def fill(rows: tuple[WarehouseRow, ...]) -> None:
            for row in rows:
                self.warehouse_combo.addItem(f"{row.code} — {row.name}", row.id)

        # Without inventory.read the report still runs over every warehouse.
        ignore: Callable[[BaseException], None] = lambda _error: None  # noqa: E731
        self._runner.run(lambda: warehouses.list_warehouses(acting), fill, ignore, owner=self)

    def _load_people(self) -> None:
        """Fill the person filter, read on a worker when the report first needs it."""
        self._people_asked = True
        history, acting = self._services.history, self._acting

        def fill(people: list[Person]) -> None:
            if self.person_combo.count() > 1:
                return  # an earlier answer (after F5 asked again) filled it already
            for person in people:
                self.person_combo.addItem(person.name, person.id)
            _fit_list(self.person_combo)

        # Unread, the report still runs for everyone; F5 asks again (`reload`).
        ignore: Callable[[BaseException], None] = lambda _error: None  # noqa: E731
        self._runner.run(lambda: history.people(acting), fill, ignore, owner=self)

    def _sort_indicator_changed(self, column: int, _order: Qt.SortOrder) -> None:
        model = self.model
        if not 0 <= column < len(model.columns) or model.columns[column].sort is not None:
            return  # the view sorts the model, which reloads in that order
        # A column the report cannot be sorted by: the model ignores the request; put the
        # arrow back where the rows really are sorted.
        query = model.query
        sorted_column = model.column_of_sort(query.sort)
        if sorted_column is None:
            return
        order = Qt.SortOrder.DescendingOrder if query.descending else Qt.SortOrder.AscendingOrder
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(sorted_column, order)
        header.blockSignals(False)

    def _watch(self, job: ExportJob) -> None:
        self.export_job = job
        job.finished.connect(self.exported.emit)

    def _load_failed(self, message: str) -> None:
        self._failure = message
        self.status_changed.emit()

    def _forget_failure(self) -> None:
        self._failure = None
