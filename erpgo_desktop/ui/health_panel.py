"""Tools › Database health: the health report in a window of its own (not modal), so an
administrator can keep it open beside the work and refresh it (F5).

Tabs: Overview (server, database size, connections, cache hit ratio, the seed's settings),
Tables, Indexes (unused ones highlighted, and a switch to show only them) and Slowest
statements (or why the server cannot tell). Each table sorts by any column and exports
to CSV or XLSX as shown. The report is read on a worker through the TaskRunner; the
previous one stays on screen meanwhile, and after a failure.

    dialog = HealthDialog(services.health, runner, user, parent=window)
    dialog.show()
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.health import (
    HealthReport,
    HealthService,
    IndexUsage,
    RunningQuery,
    SlowStatement,
    TableSize,
    Unavailable,
    human_duration,
    human_size,
)
from erpgo_desktop.ui import icons
from erpgo_desktop.ui.column_fit import ColumnFitter, Fit
from erpgo_desktop.ui.exporting import ExportJob, TypedColumn, export_table
from erpgo_desktop.ui.forms import alive
from erpgo_desktop.ui.tasks import TaskRunner, user_message
from erpgo_desktop.ui.widgets import error_label, heading_label
from erpgo_desktop.ui.window_fit import fit_to_content

#: The role a column's sort value is read from (numbers sort as numbers, not as "8.0 kB").
SORT_ROLE = Qt.ItemDataRole.UserRole + 1

#: Unused indexes: a warm tint that reads on light and dark palettes alike.
UNUSED_BACKGROUND = QColor(255, 170, 0, 70)

UNUSED_NOTE = "Unused"
CONSTRAINT_NOTE = "Enforces a rule"
HIDDEN_STATEMENT = "(another role's statement: hidden)"

_Index = QModelIndex | QPersistentModelIndex


class RecordTableModel(QAbstractTableModel):
    """Read-only rows of frozen dataclasses, one column per TypedColumn; each column's
    `value` is its sort value (and its typed value in an XLSX export)."""

    def __init__(
        self,
        columns: Sequence[TypedColumn[Any]],
        parent: QWidget | None = None,
        *,
        highlight: Callable[[Any], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self._rows: tuple[Any, ...] = ()
        self._highlight = highlight

    @property
    def rows(self) -> tuple[Any, ...]:
        return self._rows

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = tuple(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.display(row)
        if role == SORT_ROLE:
            return column.value(row) if column.value is not None else column.display(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip:
            return column.display(row)
        if self._highlight is not None and self._highlight(row):
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(UNUSED_BACKGROUND)
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        # Headings keep the style's alignment: right-aligned, they run into the sort arrow.
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        return None


class IndexFilter(QSortFilterProxyModel):
    """Sorts the indexes; hides the used ones while `unused_only`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._unused_only = False

    def set_unused_only(self, unused_only: bool) -> None:
        if unused_only == self._unused_only:
            return
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+, where invalidate* are deprecated
            self.beginFilterChange()
            self._unused_only = unused_only
            self.endFilterChange()
        else:
            self._unused_only = unused_only
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        if not self._unused_only:
            return True
        source = self.sourceModel()
        assert isinstance(source, RecordTableModel)
        index: IndexUsage = source.row_at(source_row)
        return index.unused


def _qualified(schema: str, name: str) -> str:
    return name if schema == "public" else f"{schema}.{name}"


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


TABLE_COLUMNS: tuple[TypedColumn[TableSize], ...] = (
    TypedColumn("Table", lambda t: _qualified(t.schema, t.name)),
    TypedColumn("Total", lambda t: human_size(t.total_bytes), align_right=True,
                value=lambda t: t.total_bytes),
    TypedColumn("Table data", lambda t: human_size(t.table_bytes), align_right=True,
                value=lambda t: t.table_bytes),
    TypedColumn("Indexes", lambda t: human_size(t.index_bytes), align_right=True,
                value=lambda t: t.index_bytes),
    TypedColumn("Rows (estimate)", lambda t: _count(t.estimated_rows), align_right=True,
                value=lambda t: t.estimated_rows),
    TypedColumn("Sequential scans", lambda t: _count(t.sequential_scans), align_right=True,
                value=lambda t: t.sequential_scans),
    TypedColumn("Index scans",
                lambda t: "no index" if t.index_scans is None else _count(t.index_scans),
                align_right=True, value=lambda t: -1 if t.index_scans is None else t.index_scans),
)  # fmt: skip
TABLE_TOTAL = 1


def _index_note(index: IndexUsage) -> str:
    if index.unused:
        return UNUSED_NOTE
    return CONSTRAINT_NOTE if index.enforces_constraint else ""


INDEX_COLUMNS: tuple[TypedColumn[IndexUsage], ...] = (
    TypedColumn("Index", lambda i: i.name),
    TypedColumn("Table", lambda i: _qualified(i.schema, i.table)),
    TypedColumn("Note", _index_note),
    TypedColumn("Size", lambda i: human_size(i.size_bytes), align_right=True,
                value=lambda i: i.size_bytes),
    TypedColumn("Scans", lambda i: _count(i.scans), align_right=True, value=lambda i: i.scans),
    TypedColumn("Entries read", lambda i: _count(i.tuples_read), align_right=True,
                value=lambda i: i.tuples_read),
    TypedColumn("Rows fetched", lambda i: _count(i.tuples_fetched), align_right=True,
                value=lambda i: i.tuples_fetched),
    TypedColumn("Definition", lambda i: i.definition, tooltip=True),
)  # fmt: skip
INDEX_SIZE = 3
INDEX_NOTE = 2


def _statement_text(statement: SlowStatement) -> str:
    return HIDDEN_STATEMENT if statement.query is None else " ".join(statement.query.split())


STATEMENT_COLUMNS: tuple[TypedColumn[SlowStatement], ...] = (
    TypedColumn("Mean", lambda s: human_duration(s.mean_ms / 1000), align_right=True,
                value=lambda s: s.mean_ms),
    TypedColumn("Total", lambda s: human_duration(s.total_ms / 1000), align_right=True,
                value=lambda s: s.total_ms),
    TypedColumn("Calls", lambda s: _count(s.calls), align_right=True, value=lambda s: s.calls),
    TypedColumn("Rows", lambda s: _count(s.rows), align_right=True, value=lambda s: s.rows),
    TypedColumn("Statement", _statement_text, tooltip=True),
)  # fmt: skip
STATEMENT_MEAN = 0


def _table_view(
    proxy: QSortFilterProxyModel,
    sort_column: int,
    columns: Sequence[TypedColumn[Any]],
    *,
    stretch_column: int | None = None,
) -> QTableView:
    """A sortable, read-only table whose columns fit their contents (ui/column_fit.py);
    `stretch_column` takes the spare width (else the first with a tooltip)."""
    view = QTableView()
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(sort_column, Qt.SortOrder.DescendingOrder)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setTabKeyNavigation(False)  # Tab leaves the table for the next control
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    # As the lists do: one line of text per row, not the style's roomier default.
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    fits = [Fit.STRETCH if n == stretch_column else c.fit for n, c in enumerate(columns)]
    ColumnFitter(view, fits)  # a child of the view, it lives as long
    return view


def _sorted(model: RecordTableModel, proxy: QSortFilterProxyModel | None = None) -> Any:
    proxy = proxy or QSortFilterProxyModel(model)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    return proxy


def _when(moment: datetime) -> str:
    return f"{moment.astimezone():%Y-%m-%d %H:%M:%S}"


class HealthDialog(QDialog):
    #: After a report has been shown (the report).
    report_loaded = Signal(object)
    #: A message for the user; the previous report (if any) stays on screen.
    load_failed = Signal(str)

    def __init__(
        self,
        health: HealthService,
        runner: TaskRunner,
        acting: CurrentUser,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.window_fitter = fit_to_content(self)  # grows to what it shows
        self._health = health
        self._runner = runner
        self._acting = acting
        self._loading = False
        self.report: HealthReport | None = None
        self.export_job: ExportJob | None = None
        self.setWindowTitle("Database health")
        self.setModal(False)
        self.resize(1100, 640)

        self.tabs = QTabWidget()
        self.overview: dict[str, QLabel] = {}
        self.tabs.addTab(self._build_overview(), "&Overview")

        self.tables_model = RecordTableModel(TABLE_COLUMNS, self)
        self.tables_proxy = _sorted(self.tables_model)
        self.tables_view = _table_view(
            self.tables_proxy, TABLE_TOTAL, TABLE_COLUMNS, stretch_column=0
        )
        self.tabs.addTab(self.tables_view, "&Tables")

        self.indexes_model = RecordTableModel(
            INDEX_COLUMNS, self, highlight=lambda index: index.unused
        )
        self.indexes_proxy: IndexFilter = _sorted(self.indexes_model, IndexFilter(self))
        self.indexes_view = _table_view(self.indexes_proxy, INDEX_SIZE, INDEX_COLUMNS)
        self.unused_only = QCheckBox("Show only &unused indexes")
        self.unused_only.toggled.connect(self.indexes_proxy.set_unused_only)
        self.unused_summary = QLabel()
        self.unused_summary.setWordWrap(True)
        indexes_page = QWidget()
        indexes_layout = QVBoxLayout(indexes_page)
        indexes_layout.addWidget(self.unused_summary)
        indexes_layout.addWidget(self.unused_only)
        indexes_layout.addWidget(self.indexes_view)
        self.tabs.addTab(indexes_page, "&Indexes")

        self.statements_model = RecordTableModel(STATEMENT_COLUMNS, self)
        self.statements_proxy = _sorted(self.statements_model)
        self.statements_view = _table_view(self.statements_proxy, STATEMENT_MEAN, STATEMENT_COLUMNS)
        self.statements_reason = QLabel()
        self.statements_reason.setWordWrap(True)
        self.statements_reason.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.statements_reason.setMargin(9)
        self.statements_reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statements_stack = QStackedWidget()
        self.statements_stack.addWidget(self.statements_view)
        self.statements_stack.addWidget(self.statements_reason)
        self.tabs.addTab(self.statements_stack, "&Slowest statements")
        self.tabs.currentChanged.connect(lambda _index: self._update_export())

        self.status = QLabel()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # reading statistics: no idea how long
        self.busy.setTextVisible(False)
        self.busy.setMaximumWidth(120)
        self.busy.hide()
        self.error = error_label()

        self.refresh_button = QPushButton(icons.icon("refresh"), "&Refresh")
        self.refresh_button.setToolTip("Read the statistics again (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button = QPushButton(icons.icon("export"), "E&xport…")
        self.export_button.setToolTip("Export the table shown to CSV or XLSX")
        self.export_button.clicked.connect(self.export_current)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setText("&Close")
        for button in (self.refresh_button, self.export_button, close):
            button.setAutoDefault(False)  # Enter in a table must not close or refresh
        self.refresh_action = QAction("Refresh", self)
        self.refresh_action.setShortcuts([QKeySequence(Qt.Key.Key_F5)])
        self.refresh_action.triggered.connect(self.refresh)
        self.addAction(self.refresh_action)

        status_line = QHBoxLayout()
        status_line.addWidget(self.status, 1)
        status_line.addWidget(self.busy)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        layout.addLayout(status_line)
        layout.addWidget(buttons)
        self._update_export()

    # -- overview --------------------------------------------------------------------------

    _OVERVIEW_FIELDS = (
        ("server", "Server"),
        ("started", "Running since"),
        ("database", "Database"),
        ("role", "Database role"),
        ("statistics", "Statistics since"),
        ("cache", "Cache hit ratio"),
        ("connections", "Connections"),
        ("longest", "Longest running"),
        ("settings", "Settings"),
    )

    def _build_overview(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.heading = heading_label("Database health")
        layout.addWidget(self.heading)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        for key, label in self._OVERVIEW_FIELDS:
            value = QLabel("…")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.overview[key] = value
            caption = QLabel(f"{label}:")  # beside a value's first line, not its middle
            caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            form.addRow(caption, value)
        layout.addLayout(form)
        layout.addStretch(1)
        return page

    def _fill_overview(self, report: HealthReport) -> None:
        self.heading.setText(f"Database {report.database}")
        up_for = human_duration((report.taken_at - report.server_started).total_seconds())
        texts = {
            "server": f"PostgreSQL {report.server_version}",
            "started": f"{_when(report.server_started)} (up {up_for})",
            "database": f"{report.database}, {human_size(report.database_bytes)}",
            "role": report.role
            if report.sees_all_statistics
            else f"{report.role}: other roles' sessions and statements are hidden from this "
            "role (it is neither a superuser nor a member of pg_read_all_stats)",
            "statistics": _when(report.statistics_since)
            if report.statistics_since
            else "never reset",
            "cache": "no reads yet"
            if report.cache_hit_ratio is None
            else f"{report.cache_hit_ratio:.1%} of block reads found in shared buffers",
            "connections": self._connections_text(report),
            "longest": self._longest_text(
                report.connections.longest_running, report.sees_all_statistics
            ),
            "settings": "\n".join(f"{s.name}: {s.value}" for s in report.settings),
        }
        for key, value in texts.items():
            self.overview[key].setText(value)
        tip = report.server_description
        self.overview["server"].setToolTip(tip)

    @staticmethod
    def _connections_text(report: HealthReport) -> str:
        connections = report.connections
        states = ", ".join(f"{count.count} {count.state}" for count in connections.by_state)
        return (
            f"{connections.total} to this database ({states})\n"
            f"{connections.server_total} of {connections.max_connections} allowed on the server"
        )

    @staticmethod
    def _longest_text(query: RunningQuery | None, sees_all: bool) -> str:
        if query is None:
            return "No other query or transaction" + ("" if sees_all else " that this role sees")
        who = ", ".join(
            part
            for part in (f"pid {query.pid}", query.user and f"user {query.user}", query.application)
            if part
        )
        text = query.query if query.query is not None else "(another role's query: hidden)"
        flat = " ".join(text.split())
        if len(flat) > 300:
            flat = flat[:299] + "…"
        return f"{human_duration(query.seconds)}, {query.state} ({who})\n{flat}"

    # -- loading ---------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        return self._loading

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.report is None and not self._loading:
            self.refresh()

    def refresh(self) -> None:
        """Read the report again on a worker; a refresh already under way is not doubled."""
        if self._loading:
            return
        self._loading = True
        self.refresh_button.setEnabled(False)
        self.busy.show()
        self.status.setText("Reading the server's statistics…")
        self.error.hide()
        health, acting = self._health, self._acting
        self._runner.run(lambda: health.report(acting), self._loaded, self._failed)

    def _loaded(self, report: HealthReport) -> None:
        if not alive(self):
            return
        self._finish_loading()
        self.report = report
        self._fill_overview(report)
        self.tables_model.set_rows(report.tables)
        self.indexes_model.set_rows(report.indexes)
        unused, kept = report.unused_indexes, report.unscanned_constraint_indexes
        since = f" ({_when(report.statistics_since)})" if report.statistics_since else ""
        self.unused_summary.setText(
            f"{len(unused)} unused: never scanned since the statistics began{since} and "
            "enforcing no rule, so each only costs space and slows writes. "
            f"{len(kept)} primary key or unique indexes were never scanned either, but they "
            "are needed: they enforce their rule on every write."
        )
        statements = report.slowest_statements
        if isinstance(statements, Unavailable):
            self.statements_model.set_rows(())
            self.statements_reason.setText(f"Not available: {statements.reason}.")
            self.statements_stack.setCurrentWidget(self.statements_reason)
        else:
            self.statements_model.set_rows(statements)
            self.statements_stack.setCurrentWidget(self.statements_view)
        self.status.setText(
            f"Read at {_when(report.taken_at)} · {len(report.tables)} tables, "
            f"{len(report.indexes)} indexes · F5 reads again"
        )
        self._update_export()
        self.report_loaded.emit(report)

    def _failed(self, error: BaseException) -> None:
        if not alive(self):
            return
        self._finish_loading()
        message = user_message(error)
        self.error.setText(message)
        self.error.show()
        self.status.setText("" if self.report is None else "Showing the previous report.")
        self.load_failed.emit(message)

    def _finish_loading(self) -> None:
        self._loading = False
        self.refresh_button.setEnabled(True)
        self.busy.hide()

    # -- export ----------------------------------------------------------------------------

    def current_table(self) -> tuple[QTableView, str] | None:
        """The table the current tab shows and its title; None on the overview or when the
        statements are not available."""
        page = self.tabs.currentWidget()
        if page is self.tables_view:
            return self.tables_view, "Table sizes"
        if page is self.indexes_view.parentWidget():
            return self.indexes_view, "Index usage"
        if page is self.statements_stack and (
            self.statements_stack.currentWidget() is self.statements_view
        ):
            return self.statements_view, "Slowest statements"
        return None

    def _update_export(self) -> None:
        self.export_button.setEnabled(self.report is not None and self.current_table() is not None)

    def export_current(self) -> None:
        shown = self.current_table()
        if shown is None:
            return
        view, title = shown
        self.export_job = export_table(self, self._runner, view.model(), view, title=title)
