"""The main window: a tab per working area (only Products so far) and a status bar.

Tabs appear as their screens are built; the window shows no empty placeholders.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QIcon, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.catalog import ProductCount
from erpgo_desktop.ui.product_table import (
    ACTIVE,
    CATEGORY,
    COLUMN_OF_SORT,
    NAME,
    PRICE,
    SKU,
    SORT_KEYS,
    STOCK,
    ProductSource,
    ProductTableModel,
)
from erpgo_desktop.ui.tasks import TaskRunner

SEARCH_DELAY_MS = 250
SEARCH_PLACEHOLDER = "Search SKU or name (Ctrl+F)"


class ProductsTab(QWidget):
    """Search box over a paged, sortable table of products."""

    def __init__(
        self, catalog: ProductSource, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = ProductTableModel(catalog, runner, parent=self)

        self.search = QLineEdit()
        self.search.setObjectName("product_search")
        self.search.setPlaceholderText(SEARCH_PLACEHOLDER)
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search products")
        self.search.installEventFilter(self)

        # Typing "drill" is five edits; the list reloads once, a moment after the last.
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.search.textEdited.connect(lambda _text: self._search_timer.start())
        self.search.textChanged.connect(self._search_text_changed)
        self.search.returnPressed.connect(self.apply_search)

        self.table = QTableView()
        self.table.setObjectName("product_table")
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(False)
        # Tab leaves the table instead of walking a million cells.
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        # Fixed row heights: the view never measures rows, whatever their number.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        # Compact rows: a list screen is for scanning many lines at once.
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in ((SKU, 150), (CATEGORY, 180), (PRICE, 110), (STOCK, 90), (ACTIVE, 70)):
            self.table.setColumnWidth(column, width)
        # The indicator first, then sorting on: enabling sorting sorts by the indicator,
        # and that first sort is what loads the first page.
        header.setSortIndicator(SKU, Qt.SortOrder.AscendingOrder)
        self._sorted_column = SKU
        header.sortIndicatorChanged.connect(self._sort_indicator_changed)
        self.table.setSortingEnabled(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table)
        self.setFocusProxy(self.table)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def apply_search(self) -> None:
        self._search_timer.stop()
        self.model.set_search(self.search.text())

    def _search_text_changed(self, text: str) -> None:
        # The clear button and Esc change the text without an edit: no reason to wait.
        if not text:
            self.apply_search()

    def _sort_indicator_changed(self, column: int, _order: Qt.SortOrder) -> None:
        header = self.table.horizontalHeader()
        if column in SORT_KEYS:
            self._sorted_column = column
            return
        # Category and Active cannot be sorted (no index): put the arrow back where the
        # rows really are sorted. The model ignores the request itself.
        query = self.model.query
        order = Qt.SortOrder.DescendingOrder if query.descending else Qt.SortOrder.AscendingOrder
        header.blockSignals(True)
        header.setSortIndicator(COLUMN_OF_SORT[query.sort], order)
        header.blockSignals(False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key == Qt.Key.Key_Escape:
                if self.search.text():
                    self.search.clear()
                else:
                    self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return True
            if key == Qt.Key.Key_Down:
                # Down from the search box goes into the results, as in a browser's list.
                self.apply_search()
                self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
                if not self.table.currentIndex().isValid() and self.model.rowCount() > 0:
                    self.table.selectRow(0)
                return True
        return super().eventFilter(watched, event)


def products_status(loading: bool, count: ProductCount | None, search: str, loaded: int) -> str:
    """The status bar's summary of the list: "1,234 products", "10,000+ matches", ..."""
    if count is None:
        return "Loading…"
    number = f"{count.count:,}" + ("" if count.exact else "+")
    if search:
        if count.count == 0:
            return f"No products match “{search}”"
        noun = "match" if count.count == 1 and count.exact else "matches"
        text = f"{number} {noun}"
    elif count.count == 0:
        return "No products yet"
    else:
        noun = "product" if count.count == 1 and count.exact else "products"
        text = f"{number} {noun}"
    if loading and loaded:
        text += " — loading…"
    elif loading:
        text = "Loading…"
    return text


class MainWindow(QMainWindow):
    def __init__(
        self,
        *,
        catalog: ProductSource,
        runner: TaskRunner,
        user: CurrentUser,
        location_description: str,
        icon: QIcon | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("ERPGo Desktop")
        if icon is not None:
            self.setWindowIcon(icon)
        self.resize(1180, 720)

        self.products = ProductsTab(catalog, runner)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.products, "&Products")
        self.setCentralWidget(self.tabs)

        self.status_label = QLabel("Loading…")
        self.status_label.setObjectName("list_status")
        self.user_label = QLabel(f"Signed in as {user.full_name or user.username}")
        self.user_label.setToolTip(f"{user.username} — roles: {', '.join(user.roles) or 'none'}")
        self.database_label = QLabel(f"Database: {location_description}")
        for label in (self.status_label, self.user_label, self.database_label):
            label.setContentsMargins(6, 0, 6, 0)
        status = self.statusBar()
        status.addWidget(self.status_label, 1)
        status.addPermanentWidget(self.user_label)
        status.addPermanentWidget(self.database_label)

        model = self.products.model
        model.status_changed.connect(self._update_status)
        model.load_failed.connect(self._show_load_failure)

        self._build_menus()
        self.products.table.setFocus()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        edit_menu = self.menuBar().addMenu("&Edit")
        self.find_action = QAction("&Find product…", self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.triggered.connect(self._find)
        edit_menu.addAction(self.find_action)

        view_menu = self.menuBar().addMenu("&View")
        refresh = QAction("&Refresh", self)
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(self.products.model.reload)
        view_menu.addAction(refresh)

    def _find(self) -> None:
        self.tabs.setCurrentWidget(self.products)
        self.products.focus_search()

    def _update_status(self, loading: bool, count: ProductCount | None) -> None:
        model = self.products.model
        self.status_label.setText(
            products_status(loading, count, model.query.search_term, model.rowCount())
        )

    def _show_load_failure(self, message: str) -> None:
        self.status_label.setText(f"Products could not be loaded: {message} (F5 tries again)")
