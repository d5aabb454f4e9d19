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

Jumping. Appending pages cannot take the user to the last of a million rows (Ctrl+End,
or the scrollbar dragged to the bottom) without loading them all. A source that can also
read by position (`fetch_at(query, offset, limit, total)`, cheap at both ends) makes the
model *sparse* once an exact count of at least `sparse_from` rows has arrived:
`rowCount()` is then the count, and rows are held in blocks of `page_size` rows. A row
whose block is not loaded shows "…" and `row_at()` gives None for it; `data()` only notes
which blocks were asked for, and a zero-delay timer requests the most recent of them off
the GUI thread, at most `MAX_IN_FLIGHT` at once (a block right after a loaded one goes on
from that block's cursor, by keyset; others by position). A bounded LRU cache
(`cache_rows`) evicts the blocks least recently shown, so memory stays flat wherever the
user goes. Answers for an older query or an older refresh are dropped. Sources without
`fetch_at`, counts that are capped (broad searches) and short lists stay append-only.

    model = PagedTableModel(source, runner, COLUMNS, OrderQuery(status="PENDING"))
    view.setModel(model); model.reload()

Queries with `search`, `sort` and `descending` fields get `set_search` and header-click
sorting for free.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from erpgo_desktop.ui.badges import BADGE_ROLE
from erpgo_desktop.ui.column_fit import Fit
from erpgo_desktop.ui.tasks import TaskRunner, user_message

log = logging.getLogger(__name__)

ModelIndex = QModelIndex | QPersistentModelIndex

PAGE_SIZE = 200
# A refresh reads again at most this many rows (the deepest a person scrolls in practice);
# what was loaded beyond is dropped and loads again on scrolling.
REFRESH_LIMIT = 5_000
# The largest page a source is asked for; sources cap their pages at 1,000.
MAX_FETCH = 1_000
# From this many rows (with an exact count and a positional source) the model is sparse;
# shorter lists are appended page by page, as quick to load whole as to jump through.
SPARSE_FROM = 1_000
# Rows kept in a sparse model's block cache: some 10 MB of row objects, whatever the count.
CACHE_ROWS = 10_000
# Block requests in flight at once in a sparse model; more would only queue up answers
# for places the user has scrolled past.
MAX_IN_FLIGHT = 2
# Blocks asked for by data() and remembered while requests are in flight: the viewport's.
MAX_WANTED = 4
# Blocks a sparse refresh reads again: the ones shown last (a screen and its neighbours).
REFRESH_BLOCKS = 5
PLACEHOLDER = "…"

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


class PositionalSource(ListSource, Protocol):
    """A source that can also read by position: what lets the model jump (sparse mode).

    `total` is the count the model works with; a source may use it to read positions in
    the far half from the other end, so that the last page costs what the first does.
    """

    def fetch_at(self, query: Any, offset: int, limit: int, total: int) -> Page: ...


@dataclass
class _Block:
    rows: list[Any]
    # The cursor after the block's last row, for reading the next block by keyset.
    next_cursor: object | None = None
    expected: int = 0  # rows asked for; fewer came when rows went meanwhile


@dataclass
class _Sparse:
    total: int
    blocks: OrderedDict[int, _Block] = field(default_factory=OrderedDict)  # LRU order
    in_flight: set[int] = field(default_factory=set)
    wanted: OrderedDict[int, None] = field(default_factory=OrderedDict)  # newest last


class CallSource:
    """A list source made of two functions, usually a service's page and count methods
    with the acting user bound (they run on worker threads)."""

    def __init__(
        self, fetch_page: Callable[[Any, Any, int], Page], count: Callable[[Any], Count]
    ) -> None:
        self._fetch_page = fetch_page
        self._count = count

    def fetch_page(self, query: Any, after: Any, limit: int) -> Page:
        return self._fetch_page(query, after, limit)

    def count(self, query: Any) -> Count:
        return self._count(query)


@dataclass(frozen=True)
class Column(Generic[Row]):
    title: str
    display: Callable[[Row], str]
    #: The value of the query's `sort` field this column orders by; None: not sortable.
    sort: Any = None
    align_right: bool = False
    #: Show the whole text as a tooltip: a name that may be cut when room is short.
    tooltip: bool = False
    #: The long text column that takes the spare width (a name, a company).
    stretch: bool = False
    #: The row's tone (`domain.wording.Tone`): the cell is drawn as a badge (ui/badges.py).
    badge: Callable[[Row], str] | None = None

    @property
    def fit(self) -> Fit:
        """How the view sizes the column (ui/column_fit.py): the stretch column takes the
        spare width, a column with a tooltip may be cut, any other is shown whole."""
        if self.stretch:
            return Fit.STRETCH
        return Fit.TEXT if self.tooltip else Fit.WHOLE


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
        sparse_from: int = SPARSE_FROM,
        cache_rows: int = CACHE_ROWS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._source = source
        self._runner = runner
        self._columns = tuple(columns)
        self._row_key = row_key
        self._page_size = page_size
        self._query = query
        self._rows: list[Any] = []  # append mode: the rows loaded so far
        self._cursor: object | None = None
        self._has_more = False  # nothing is known before the first reload()
        self._loading = False
        self._failed = False
        self._count: Count | None = None
        self._generation = 0
        self._started = False
        # Held: nothing loads before start() or reload(), whatever the query becomes.
        self._held = False
        self._refreshing = False
        self._refresh_again = False
        # Sparse mode (None: append mode); see the module's docstring.
        self._sparse_from = max(1, sparse_from)
        self._max_blocks = max(MAX_IN_FLIGHT + 1, -(-cache_rows // page_size))
        self._sparse: _Sparse | None = None
        # The block the append-mode page in flight became when the model went sparse.
        self._page_block: int | None = None
        # Bumped when a sparse refresh swaps its rows in: blocks asked for before are stale.
        self._epoch = 0
        self._dispatch_timer = QTimer(self)
        self._dispatch_timer.setSingleShot(True)
        self._dispatch_timer.setInterval(0)
        self._dispatch_timer.timeout.connect(self._request_wanted_blocks)

    # -- state for the view --------------------------------------------------------------

    @property
    def query(self) -> Any:
        return self._query

    @property
    def columns(self) -> tuple[Column[Any], ...]:
        return self._columns

    @property
    def source(self) -> ListSource:
        """What the rows are read through (for exports, which read every row again)."""
        return self._source

    @property
    def is_loading(self) -> bool:
        """A page, block or refresh is on its way (the count is not included)."""
        sparse_loading = self._sparse is not None and bool(self._sparse.in_flight)
        return self._loading or self._refreshing or sparse_loading

    @property
    def count(self) -> Count | None:
        return self._count

    @property
    def has_more(self) -> bool:
        """More rows can be appended (never in sparse mode: every row is already there)."""
        return self._has_more and self._sparse is None

    @property
    def is_sparse(self) -> bool:
        return self._sparse is not None

    def row_at(self, row: int) -> Any:
        """The row at `row`; in sparse mode None while its block is not loaded."""
        if self._sparse is None:
            return self._rows[row]
        if not 0 <= row < self._sparse.total:
            raise IndexError(row)
        return self._cached_row(row, touch=False)

    def row_of_key(self, key: Hashable) -> int | None:
        """Where the row with `key` is, among the loaded rows."""
        for number_, row in self._loaded_rows():
            if self._row_key(row) == key:
                return number_
        return None

    def column_of_sort(self, sort: Any) -> int | None:
        for number_, column in enumerate(self._columns):
            if column.sort is not None and column.sort == sort:
                return number_
        return None

    def fetch_to_end(self) -> bool:
        """Make the last row reachable: True when it is (or soon will be) rowCount() - 1.

        Sparse models have it already. A short append-only list with an exact count loads
        its remaining rows in one request (views then move to the end as they arrive);
        a list of unknown length answers False and goes on page by page.
        """
        if self._sparse is not None:
            return True
        if not self._has_more:
            return self._started
        count = self._count
        if count is None or not count.exact or count.count > self._sparse_from:
            return False
        if not (self._loading or self._refreshing or self._failed):
            self._request_page(limit=min(count.count - len(self._rows), REFRESH_LIMIT))
        return True

    # -- changing what is listed ---------------------------------------------------------

    @property
    def is_started(self) -> bool:
        """Loading has begun (reload() or start() was called, or a query set unheld)."""
        return self._started

    def hold(self) -> None:
        """Load nothing until `start()` or `reload()`: queries set meanwhile (a sort
        restored from the settings, a filter) only choose what the first load reads.
        For screens not shown yet (ui/first_show.py)."""
        if not self._started:
            self._held = True

    def start(self) -> None:
        """Load the first page for the current query, unless loading has begun already."""
        self._held = False
        if not self._started:
            self.reload()

    def set_query(self, query: Any) -> None:
        if self._held and not self._started:
            self._query = query
            return
        if query != self._query or not self._started:
            self._query = query
            self.reload()

    def set_search(self, text: str) -> None:
        query = dataclasses.replace(self._query, search=text)
        if self._held and not self._started:
            self._query = query
            return
        # Searches ignore case and surrounding blanks: "DRILL " lists what "drill" does.
        if _search_key(query) != _search_key(self._query) or not self._started:
            self._query = query
            self.reload()

    def set_sort(self, sort: Any, descending: bool) -> None:
        self.set_query(dataclasses.replace(self._query, sort=sort, descending=descending))

    def reload(self) -> None:
        """Forget the loaded rows and start again from the first page."""
        self._started = True
        self._held = False
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
        self._sparse = None
        self._page_block = None
        self._dispatch_timer.stop()
        self.endResetModel()
        self._request_count()
        self._request_page()

    def refresh(self) -> None:
        """Read again what is loaded and swap it in, keeping the selection on its rows.

        Meant for changes made elsewhere: nothing is emptied while the new rows load,
        and a refresh asked for while one runs is done once more after it. A held model
        has nothing to read again: its first load will read what is there then.
        """
        if self._held and not self._started:
            return
        if not self._started or self._failed:
            self.reload()
            return
        if self._sparse is not None:
            self._refresh_sparse()
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
            owner=self,
        )
        self._request_count()

    # -- QAbstractTableModel -------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        return len(self._rows) if self._sparse is None else self._sparse.total

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        row, column_number = index.row(), index.column()
        if not (0 <= row < self.rowCount() and 0 <= column_number < len(self._columns)):
            return None
        column = self._columns[column_number]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if column.align_right else LEFT
        if role == BADGE_ROLE:
            if column.badge is None:
                return None
        elif role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        if self._sparse is None:
            record = self._rows[row]
        else:
            record = self._cached_row(row, touch=True)
            if record is None:
                self._want(row // self._page_size)
                return PLACEHOLDER if role == Qt.ItemDataRole.DisplayRole else None
        if role == Qt.ItemDataRole.DisplayRole:
            return column.display(record)
        if role == BADGE_ROLE:
            assert column.badge is not None
            return column.badge(record)
        if column.fit is not Fit.WHOLE:  # a text that may be cut shows whole as a tooltip
            return column.display(record)
        return None

    def loaded_text(self, row: int, column: int) -> str | None:
        """What `data()` shows at (row, column) when the row is loaded, else None; unlike
        `data()` it asks for nothing to be loaded (for measuring columns)."""
        if not (0 <= row < self.rowCount() and 0 <= column < len(self._columns)):
            return None
        record = self._rows[row] if self._sparse is None else self._cached_row(row, touch=False)
        return None if record is None else self._columns[column].display(record)

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
        if parent.isValid() or self._sparse is not None:
            return False
        return self._has_more and not self._loading and not self._failed

    def fetchMore(self, parent: ModelIndex) -> None:
        if parent.isValid() or self._sparse is not None:
            return
        self._request_page()

    # -- loading (append mode) -----------------------------------------------------------

    def _request_page(self, limit: int | None = None) -> None:
        if self._loading or not self._has_more or self._failed or self._refreshing:
            return  # never more than one request in flight
        if self._sparse is not None:
            return
        self._loading = True
        generation, query, cursor = self._generation, self._query, self._cursor
        source = self._source
        wanted = limit or self._page_size

        def read() -> Page | tuple[list[Any], object | None, bool]:
            if wanted <= MAX_FETCH:
                return source.fetch_page(query, cursor, wanted)
            # fetch_to_end: several pages in one request, so the view moves only once.
            rows: list[Any] = []
            after, has_more = cursor, True
            while has_more and len(rows) < wanted:
                page = source.fetch_page(query, after, min(wanted - len(rows), MAX_FETCH))
                rows.extend(page.rows)
                has_more = page.has_more
                after = page.next_cursor if page.next_cursor is not None else after
                if not page.rows:
                    break
            return rows, after, has_more

        self._runner.run(
            read,
            lambda page: self._page_loaded(generation, page),
            lambda error: self._load_failed(generation, error),
            owner=self,
        )
        self._emit_status()

    def _page_loaded(
        self, generation: int, page: Page | tuple[list[Any], object | None, bool]
    ) -> None:
        if generation != self._generation:
            return  # the list was re-sorted or re-searched meanwhile
        if isinstance(page, tuple):
            rows, next_cursor, has_more = page
        else:
            rows, next_cursor, has_more = list(page.rows), page.next_cursor, page.has_more
        if self._sparse is not None:
            # The model went sparse while this page was on its way: it is a block.
            self._loading = False
            block, self._page_block = self._page_block, None
            if block is not None and len(rows) <= self._page_size:
                self._block_loaded(generation, self._epoch, block, page)
            self._emit_status()
            self._refresh_if_asked()
            return
        # The cursor moves on before the rows go in: views (and the model tester) may ask
        # for the next page from inside endInsertRows(), and must not get this one again.
        self._loading = False
        self._has_more = has_more
        if next_cursor is not None:
            self._cursor = next_cursor
        if rows:
            # Not the length when the page was asked for: views (and the model tester) ask
            # for more from inside beginInsertRows(), before the rows are in.
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
        if self._sparse is not None:
            # The count came back exact and large meanwhile: refresh the sparse way.
            self._refresh_sparse()
            return
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
            owner=self,
        )

    def _count_loaded(self, generation: int, count: Count) -> None:
        if generation != self._generation:
            return
        self._count = count
        if (
            self._sparse is None
            and count.exact
            and count.count >= self._sparse_from
            and callable(getattr(self._source, "fetch_at", None))
            and not self._failed
        ):
            self._go_sparse(count.count)
        self._emit_status()

    def _load_failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        # Stop asking: a view scrolled to the bottom would otherwise retry at once, forever.
        self._loading = False
        self._failed = True
        if self._sparse is not None:
            self._sparse.in_flight.clear()
            self._sparse.wanted.clear()
        self._emit_status()
        self.load_failed.emit(user_message(error))

    def _emit_status(self) -> None:
        self.status_changed.emit(self.is_loading, self._count)

    # -- sparse mode ---------------------------------------------------------------------

    def _go_sparse(self, total: int) -> None:
        """Present every row at once: the loaded ones become blocks, the rest placeholders."""
        size = self._page_size
        loaded = len(self._rows)
        total = max(total, loaded)
        sparse = _Sparse(total=total)
        for block, first in enumerate(range(0, loaded, size)):
            rows = self._rows[first : first + size]
            if len(rows) == size or first + len(rows) == total:
                sparse.blocks[block] = _Block(rows, expected=len(rows))
            # A partial block (a refresh came back short) is read again when shown.
        if loaded % size == 0 and loaded // size - 1 in sparse.blocks:
            sparse.blocks[loaded // size - 1].next_cursor = self._cursor
        if self._loading and loaded % size == 0:
            # The page on its way lands as the next block.
            self._page_block = loaded // size
            sparse.in_flight.add(self._page_block)
        self._evict(sparse)
        if total > loaded:
            self.beginInsertRows(QModelIndex(), loaded, total - 1)
        self._sparse = sparse
        self._rows = []
        if total > loaded:
            self.endInsertRows()

    def _cached_row(self, row: int, *, touch: bool) -> Any:
        assert self._sparse is not None
        block_number, position = divmod(row, self._page_size)
        block = self._sparse.blocks.get(block_number)
        if block is None or position >= len(block.rows):
            return None
        if touch:
            self._sparse.blocks.move_to_end(block_number)
        return block.rows[position]

    def _loaded_rows(self) -> list[tuple[int, Any]]:
        if self._sparse is None:
            return list(enumerate(self._rows))
        size = self._page_size
        return [
            (block_number * size + position, row)
            for block_number, block in sorted(self._sparse.blocks.items())
            for position, row in enumerate(block.rows)
        ]

    def _want(self, block: int) -> None:
        sparse = self._sparse
        assert sparse is not None
        if block in sparse.in_flight or self._failed:
            return
        sparse.wanted[block] = None
        sparse.wanted.move_to_end(block)
        while len(sparse.wanted) > MAX_WANTED:
            sparse.wanted.popitem(last=False)
        # Not from inside data(): requests go out once the view has finished painting.
        if not self._dispatch_timer.isActive():
            self._dispatch_timer.start()

    def _request_wanted_blocks(self) -> None:
        sparse = self._sparse
        if sparse is None or self._failed:
            return
        while sparse.wanted and len(sparse.in_flight) < MAX_IN_FLIGHT:
            block, _ = sparse.wanted.popitem(last=True)  # the latest asked for first
            if block in sparse.blocks or block in sparse.in_flight:
                continue
            self._request_block(block)

    def _request_block(self, block: int) -> None:
        sparse = self._sparse
        assert sparse is not None
        size, total = self._page_size, sparse.total
        offset = block * size
        limit = min(size, total - offset)
        if limit <= 0:
            return
        sparse.in_flight.add(block)
        generation, epoch, query, source = self._generation, self._epoch, self._query, self._source
        before = sparse.blocks.get(block - 1)
        after = before.next_cursor if before is not None and len(before.rows) == size else None
        if after is not None:
            # Right after a loaded block: on by keyset, as cheap at row 900,000 as at 0.
            def read() -> Page:
                return source.fetch_page(query, after, limit)
        else:
            positional = source
            assert hasattr(positional, "fetch_at")

            def read() -> Page:
                return positional.fetch_at(query, offset, limit, total)  # type: ignore[no-any-return]

        self._runner.run(
            read,
            lambda page: self._block_loaded(generation, epoch, block, page),
            lambda error: self._block_failed(generation, epoch, block, error),
            owner=self,
        )
        self._emit_status()

    def _block_loaded(self, generation: int, epoch: int, block: int, page: Any) -> None:
        sparse = self._sparse
        if generation != self._generation or epoch != self._epoch or sparse is None:
            return  # a new search, sort or refresh came meanwhile
        sparse.in_flight.discard(block)
        if isinstance(page, tuple):
            rows, next_cursor = list(page[0]), page[1]
        else:
            rows, next_cursor = list(page.rows), page.next_cursor
        first = block * self._page_size
        expected = min(self._page_size, sparse.total - first)
        if len(rows) != expected:
            # Rows came or went since the count: show what came; a refresh realigns.
            log.info("block %d: %d rows where %d were counted", block, len(rows), expected)
            rows = rows[:expected]
        sparse.blocks[block] = _Block(rows, next_cursor, expected)
        sparse.blocks.move_to_end(block)
        self._evict(sparse)
        if expected > 0:
            self.dataChanged.emit(
                self.index(first, 0), self.index(first + expected - 1, len(self._columns) - 1)
            )
        self._emit_status()
        self._request_wanted_blocks()

    def _block_failed(self, generation: int, epoch: int, block: int, error: BaseException) -> None:
        if generation != self._generation or epoch != self._epoch:
            return
        if self._sparse is not None:
            self._sparse.in_flight.discard(block)
        self._load_failed(generation, error)

    def _evict(self, sparse: _Sparse) -> None:
        while len(sparse.blocks) > self._max_blocks:
            block, evicted = sparse.blocks.popitem(last=False)
            if self._sparse is sparse and evicted.rows:
                # Only rows the user has left behind go; a view still showing them asks again.
                first = block * self._page_size
                self.dataChanged.emit(
                    self.index(first, 0),
                    self.index(first + len(evicted.rows) - 1, len(self._columns) - 1),
                )

    def _refresh_sparse(self) -> None:
        sparse = self._sparse
        assert sparse is not None
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing = True
        generation, query, source, size = (
            self._generation,
            self._query,
            self._source,
            self._page_size,
        )
        # Only the blocks shown last (the viewport and its neighbours) are read again; the
        # rest of the cache goes, and loads again when shown.
        recent = list(reversed(sparse.blocks))[:REFRESH_BLOCKS]
        positional = source
        assert hasattr(positional, "fetch_at")

        def read() -> tuple[Count, dict[int, Page]]:
            count = source.count(query)
            pages: dict[int, Page] = {}
            if count.exact:
                for block in sorted(recent):
                    offset = block * size
                    if offset >= count.count:
                        continue
                    limit = min(size, count.count - offset)
                    before = pages.get(block - 1)
                    if before is not None and before.next_cursor is not None:
                        pages[block] = source.fetch_page(query, before.next_cursor, limit)
                    else:
                        pages[block] = positional.fetch_at(query, offset, limit, count.count)
            # Least recently shown first, as the cache keeps them.
            return count, {block: pages[block] for block in reversed(recent) if block in pages}

        self._runner.run(
            read,
            lambda result: self._sparse_refreshed(generation, *result),
            lambda error: self._refresh_failed(generation, error),
            owner=self,
        )
        self._emit_status()

    def _sparse_refreshed(self, generation: int, count: Count, pages: dict[int, Page]) -> None:
        old = self._sparse
        if generation != self._generation or old is None:
            return
        self._refreshing = False
        if not count.exact:
            self.reload()  # a search that now has more matches than are counted
            return
        size = self._page_size
        new = _Sparse(total=count.count)
        for block, page in pages.items():  # least recently shown first
            rows = list(page.rows)[: min(size, count.count - block * size)]
            new.blocks[block] = _Block(rows, page.next_cursor, len(rows))
        new_position = {
            self._row_key(row): block * size + position
            for block, cached in new.blocks.items()
            for position, row in enumerate(cached.rows)
        }
        self.layoutAboutToBeChanged.emit()
        moved_from: list[QModelIndex] = []
        moved_to: list[QModelIndex] = []
        for index in self.persistentIndexList():
            old_row = index.row()
            record = self._cached_row(old_row, touch=False) if old_row < old.total else None
            if record is not None:
                new_row = new_position.get(self._row_key(record))
            else:
                # A row not loaded has no key to follow: it keeps its place.
                new_row = old_row if old_row < new.total else None
            moved_from.append(QModelIndex(index))
            moved_to.append(
                QModelIndex() if new_row is None else self.createIndex(new_row, index.column())
            )
        self._epoch += 1  # blocks asked for before may predate what was just read
        self._sparse = new
        self._count = count
        self.changePersistentIndexList(moved_from, moved_to)
        self.layoutChanged.emit()
        self._emit_status()
        self.refreshed.emit()
        self._refresh_if_asked()


def _search_key(query: Any) -> str:
    return str(getattr(query, "search", "")).strip().lower()
