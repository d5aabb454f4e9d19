"""The one table model every list screen uses: keyset pages loaded off the GUI thread.

A list is described by three things:

- a *source*, which answers `fetch_page(query, after, limit)` with a page (`rows`,
  `next_cursor`, `has_more`) and `count(query)` with a count (`count`, `exact`); it runs on
  a worker thread and usually wraps one service method, binding the acting user;
- a *query*, a frozen dataclass the source understands (search text, filters, sort);
- the *columns*: a title, how to show a row's value, and which sort of the query the
  column stands for (None: the column cannot be sorted, for want of an index).

`data()` only looks rows up in what is loaded. When the view scrolls near the end it asks
`canFetchMore`/`fetchMore` and the next page is requested, one request at a time.
Changing the query empties the model and starts again; each load carries the generation
it was started in, so a page that arrives after the user moved on is dropped.

`refresh()` re-reads what is loaded (after a change on another workstation, say) and
swaps the rows in with a layout change, moving persistent indexes along by row key: the
selection and the current row stay on the same records, wherever they moved.

    model = PagedTableModel(source, runner, COLUMNS, OrderQuery(status="PENDING"))
    view.setModel(model); model.reload()

Queries with `search`, `sort` and `descending` fields get `set_search` and header-click
sorting for free.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from erpgo_desktop.ui.tasks import TaskRunner, user_message

log = logging.getLogger(__name__)

ModelIndex = QModelIndex | QPersistentModelIndex

PAGE_SIZE = 200
# A refresh reads again at most this many rows (the deepest a person scrolls in practice);
# what was loaded beyond is dropped and loads again on scrolling.
REFRESH_LIMIT = 5_000
# The largest page a source is asked for; sources cap their pages at 1,000.
MAX_FETCH = 1_000

Row = TypeVar("Row")

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class Page(Protocol):
    @property
    def rows(self) -> Sequence[Any]: ...
    @property
    def next_cursor(self) -> object | None: ...
    @property
    def has_more(self) -> bool: ...


class Count(Protocol):
    """How many rows match; when `exact` is false, more than `count`."""

    @property
    def count(self) -> int: ...
    @property
    def exact(self) -> bool: ...


class ListSource(Protocol):
    """What a list reads through; called on worker threads only."""

    def fetch_page(self, query: Any, after: Any, limit: int) -> Page: ...

    def count(self, query: Any) -> Count: ...


@dataclass(frozen=True)
class Column(Generic[Row]):
    title: str
    display: Callable[[Row], str]
    #: The value of the query's `sort` field this column orders by; None: not sortable.
    sort: Any = None
    align_right: bool = False
    #: Show the whole text as a tooltip (for columns that are often cut off).
    tooltip: bool = False
    width: int | None = None
    stretch: bool = False


def money(value: Any) -> str:
    return "" if value is None else f"{value:,.2f}"


def number(value: Any) -> str:
    return "" if value is None else f"{value:,}"


def yes_no(value: bool) -> str:
    return "Yes" if value else "No"


class PagedTableModel(QAbstractTableModel):
    # (loading, count): count is None until the count has answered.
    status_changed = Signal(bool, object)
    # A message for the user; loading stops until the next reload.
    load_failed = Signal(str)
    # After a refresh has swapped the rows in.
    refreshed = Signal()

    def __init__(
        self,
        source: ListSource,
        runner: TaskRunner,
        columns: Sequence[Column[Any]],
        query: Any,
        *,
        row_key: Callable[[Any], Hashable] = lambda row: row.id,
        page_size: int = PAGE_SIZE,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._source = source
        self._runner = runner
        self._columns = tuple(columns)
        self._row_key = row_key
        self._page_size = page_size
        self._query = query
        self._rows: list[Any] = []
        self._cursor: object | None = None
        self._has_more = False  # nothing is known before the first reload()
        self._loading = False
        self._failed = False
        self._count: Count | None = None
        self._generation = 0
        self._started = False
        self._refreshing = False
        self._refresh_again = False

    # -- state for the view --------------------------------------------------------------

    @property
    def query(self) -> Any:
        return self._query

    @property
    def columns(self) -> tuple[Column[Any], ...]:
        return self._columns

    @property
    def is_loading(self) -> bool:
        return self._loading

    @property
    def count(self) -> Count | None:
        return self._count

    @property
    def has_more(self) -> bool:
        return self._has_more

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    def row_of_key(self, key: Hashable) -> int | None:
        for number_, row in enumerate(self._rows):
            if self._row_key(row) == key:
                return number_
        return None

    def column_of_sort(self, sort: Any) -> int | None:
        for number_, column in enumerate(self._columns):
            if column.sort is not None and column.sort == sort:
                return number_
        return None

    # -- changing what is listed ---------------------------------------------------------

    def set_query(self, query: Any) -> None:
        if query != self._query or not self._started:
            self._query = query
            self.reload()

    def set_search(self, text: str) -> None:
        query = dataclasses.replace(self._query, search=text)
        # Searches ignore case and surrounding blanks: "DRILL " lists what "drill" does.
        if _search_key(query) != _search_key(self._query) or not self._started:
            self._query = query
            self.reload()

    def set_sort(self, sort: Any, descending: bool) -> None:
        self.set_query(dataclasses.replace(self._query, sort=sort, descending=descending))

    def reload(self) -> None:
        """Forget the loaded rows and start again from the first page."""
        self._started = True
        self._generation += 1
        self.beginResetModel()
        self._rows = []
        self._cursor = None
        self._has_more = True
        self._loading = False  # the old generation's request, if any, will be dropped
        self._failed = False
        self._refreshing = False
        self._refresh_again = False
        self._count = None
        self.endResetModel()
        self._request_count()
        self._request_page()

    def refresh(self) -> None:
        """Read again what is loaded and swap it in, keeping the selection on its rows.

        Meant for changes made elsewhere: nothing is emptied while the new rows load,
        and a refresh asked for while one runs is done once more after it.
        """
        if not self._started or self._failed:
            self.reload()
            return
        if self._refreshing or self._loading:
            self._refresh_again = True
            return
        self._refreshing = True
        generation, query = self._generation, self._query
        wanted = min(max(len(self._rows), self._page_size), REFRESH_LIMIT)
        source = self._source

        def read() -> tuple[list[Any], object | None, bool]:
            rows: list[Any] = []
            cursor: object | None = None
            has_more = True
            while has_more and len(rows) < wanted:
                page = source.fetch_page(query, cursor, min(wanted - len(rows), MAX_FETCH))
                rows.extend(page.rows)
                has_more = page.has_more
                if page.next_cursor is not None:
                    cursor = page.next_cursor
                if not page.rows:
                    break
            return rows, cursor, has_more

        self._runner.run(
            read,
            lambda result: self._refreshed(generation, *result),
            lambda error: self._refresh_failed(generation, error),
        )
        self._request_count()

    # -- QAbstractTableModel -------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        row, column_number = index.row(), index.column()
        if not (0 <= row < len(self._rows) and 0 <= column_number < len(self._columns)):
            return None
        column = self._columns[column_number]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.display(self._rows[row])
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if column.align_right else LEFT
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip:
            return column.display(self._rows[row])
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        column = self._columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if column.align_right else LEFT
        if role == Qt.ItemDataRole.ToolTipRole:
            if column.sort is not None:
                return f"Click to sort by {column.title.lower()}"
            return "This column cannot be sorted"
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self._columns) or self._columns[column].sort is None:
            return
        self.set_sort(self._columns[column].sort, order == Qt.SortOrder.DescendingOrder)

    def canFetchMore(self, parent: ModelIndex) -> bool:
        if parent.isValid():
            return False
        return self._has_more and not self._loading and not self._failed

    def fetchMore(self, parent: ModelIndex) -> None:
        if parent.isValid():
            return
        self._request_page()

    # -- loading -------------------------------------------------------------------------

    def _request_page(self) -> None:
        if self._loading or not self._has_more or self._failed or self._refreshing:
            return  # never more than one request in flight
        self._loading = True
        generation, query, cursor, limit = (
            self._generation,
            self._query,
            self._cursor,
            self._page_size,
        )
        source = self._source
        self._runner.run(
            lambda: source.fetch_page(query, cursor, limit),
            lambda page: self._page_loaded(generation, page),
            lambda error: self._load_failed(generation, error),
        )
        self._emit_status()

    def _page_loaded(self, generation: int, page: Page) -> None:
        if generation != self._generation:
            return  # the list was re-sorted or re-searched meanwhile
        # The cursor moves on before the rows go in: views (and the model tester) may ask
        # for the next page from inside endInsertRows(), and must not get this one again.
        self._loading = False
        self._has_more = page.has_more
        if page.next_cursor is not None:
            self._cursor = page.next_cursor
        rows = list(page.rows)
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
        self._emit_status()
        self._refresh_if_asked()

    def _refreshed(
        self, generation: int, rows: list[Any], cursor: object | None, has_more: bool
    ) -> None:
        if generation != self._generation:
            return
        self._refreshing = False
        new_position = {self._row_key(row): number_ for number_, row in enumerate(rows)}
        self.layoutAboutToBeChanged.emit()
        old_rows = self._rows
        moved_from: list[QModelIndex] = []
        moved_to: list[QModelIndex] = []
        for index in self.persistentIndexList():
            old_row = index.row()
            new_row = None
            if 0 <= old_row < len(old_rows):
                new_row = new_position.get(self._row_key(old_rows[old_row]))
            moved_from.append(QModelIndex(index))
            moved_to.append(
                QModelIndex() if new_row is None else self.createIndex(new_row, index.column())
            )
        self._rows = rows
        self._cursor = cursor
        self._has_more = has_more
        self.changePersistentIndexList(moved_from, moved_to)
        self.layoutChanged.emit()
        self._emit_status()
        self.refreshed.emit()
        self._refresh_if_asked()

    def _refresh_failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self._refreshing = False
        # The rows shown stay; the next change (or F5) tries again.
        log.info("refresh failed: %s", user_message(error))
        self._emit_status()

    def _refresh_if_asked(self) -> None:
        if self._refresh_again and not self._loading and not self._refreshing:
            self._refresh_again = False
            self.refresh()

    def _request_count(self) -> None:
        generation, query = self._generation, self._query
        source = self._source
        self._runner.run(
            lambda: source.count(query),
            lambda count: self._count_loaded(generation, count),
            lambda error: self._load_failed(generation, error),
        )

    def _count_loaded(self, generation: int, count: Count) -> None:
        if generation != self._generation:
            return
        self._count = count
        self._emit_status()

    def _load_failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        # Stop asking: a view scrolled to the bottom would otherwise retry at once, forever.
        self._loading = False
        self._failed = True
        self._emit_status()
        self.load_failed.emit(user_message(error))

    def _emit_status(self) -> None:
        self.status_changed.emit(self._loading or self._refreshing, self._count)


def _search_key(query: Any) -> str:
    return str(getattr(query, "search", "")).strip().lower()
