"""Columns sized to what they show, for every table of the program.

A column is one of three kinds (`Fit`):

- `WHOLE`: codes, SKUs, numbers, money, dates, statuses. Always as wide as the widest
  value loaded (and its header): a cut SKU or amount is a wrong one. Never shrunk; when
  they do not all fit, the table scrolls sideways.
- `TEXT`: names, e-mails. Whole when there is room; otherwise they share what the WHOLE
  columns leave, the shortest shown whole first (each gets at most the same cap, the
  longest are cut to it), never narrower than their header or about ten characters.
  Their tooltip shows the whole text.
- `STRETCH`: the one long text column (a product's name, a company): shown whole before
  the TEXT columns share what is left (when their floors allow it), and it takes whatever
  width is left over.

    fitter = ColumnFitter(view, [Fit.WHOLE, Fit.STRETCH, Fit.WHOLE])   # per section
    # ListTableView makes its own, reading `model.columns[n].fit` (ui/list_model.py).

How wide a value is comes from the view's font metrics plus the margins the item delegate
puts around text, measured for the rows as they arrive (new pages, blocks, a refresh) and
never by asking a paged model for rows it has not loaded (`loaded_text`). The widths only
grow while the rows of one query arrive (no columns jumping while scrolling) and start
again when the model is reset; they are worked out again when the view is resized. A
column the person drags to another width keeps it (`user_widths`, saved with the main
window per user) until a double click on its divider gives it back to the fitting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from enum import Enum

import shiboken6
from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    SignalInstance,
)
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QAbstractItemView, QApplication, QHeaderView, QStyle, QTableView

ModelIndex = QModelIndex | QPersistentModelIndex

#: A TEXT column is not cut below this many average characters (or its header).
MIN_TEXT_CHARACTERS = 10
#: Rows measured per arrival; a larger arrival is sampled (the rest measure when shown).
MAX_MEASURED_ROWS = 1_000


class Fit(Enum):
    WHOLE = "whole"
    TEXT = "text"
    STRETCH = "stretch"


def share_room(needs: Sequence[int], floors: Sequence[int], room: int) -> list[int]:
    """Widths for columns needing `needs` in `room`: all of them when they fit; otherwise
    each gets min(need, cap) with the largest cap that fits, but never less than its floor
    (max-min fairness: short texts whole, the longest cut alike)."""
    if sum(needs) <= room:
        return list(needs)
    low, high = 0, max(needs, default=0)

    def used(cap: int) -> int:
        return sum(max(floor, min(need, cap)) for need, floor in zip(needs, floors, strict=True))

    while low < high:
        middle = (low + high + 1) // 2
        if used(middle) <= room:
            low = middle
        else:
            high = middle - 1
    return [max(floor, min(need, low)) for need, floor in zip(needs, floors, strict=True)]


def cell_text_margin(view: QAbstractItemView) -> int:
    """Pixels a cell needs besides its text: the delegate's text margins on both sides and
    the grid line (QCommonStyle's item view layout)."""
    focus_margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view)
    grid = 1 if isinstance(view, QTableView) and view.showGrid() else 0
    return 2 * (focus_margin + 1) + grid


class ColumnFitter(QObject):
    """Keeps the columns of `view` sized by their `Fit` (see the module docstring)."""

    def __init__(
        self,
        view: QTableView,
        fits: Sequence[Fit] | Callable[[int], Fit] | None = None,
    ) -> None:
        super().__init__(view)
        self._view = view
        self._fits = fits
        self._measured: dict[int, int] = {}
        #: Widths the person gave columns by dragging: kept (and saved with the window).
        self._user_sized: dict[int, int] = {}
        self._fitting = False
        self._model: QAbstractItemModel | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.fit)
        header = view.horizontalHeader()
        header.setStretchLastSection(False)
        header.sectionResized.connect(self._section_resized)
        # A double click on a divider gives the column back to the fitting.
        header.sectionHandleDoubleClicked.connect(self._divider_double_clicked)
        view.viewport().installEventFilter(self)
        self.watch_model()

    def set_fits(self, fits: Sequence[Fit] | Callable[[int], Fit] | None) -> None:
        self._fits = fits
        self.schedule()

    def fit_of(self, section: int) -> Fit:
        fits = self._fits
        if callable(fits):
            return fits(section)
        if fits is not None:
            return fits[section] if 0 <= section < len(fits) else Fit.WHOLE
        columns = getattr(self._view.model(), "columns", None)
        if isinstance(columns, Sequence) and 0 <= section < len(columns):
            fit = getattr(columns[section], "fit", Fit.WHOLE)
            return fit if isinstance(fit, Fit) else Fit.WHOLE
        return Fit.WHOLE

    def watch_model(self) -> None:
        """Follow the view's (new) model; ListTableView calls it from setModel."""
        model = self._view.model()
        if model is self._model:
            return
        old = self._model
        if old is not None:
            for signal, slot in self._connections(old):
                signal.disconnect(slot)
        self._model = model
        if model is not None:
            for signal, slot in self._connections(model):
                signal.connect(slot)
        self._reset()

    def _connections(
        self, model: QAbstractItemModel
    ) -> list[tuple[SignalInstance, Callable[..., None]]]:
        return [
            (model.modelReset, self._reset),
            (model.rowsInserted, self._rows_arrived),
            (model.dataChanged, self._data_changed),
            (model.layoutChanged, self._layout_changed),
            (model.headerDataChanged, self.schedule),
            (model.columnsInserted, self._reset),
            (model.columnsRemoved, self._reset),
        ]

    def schedule(self, *_args: object) -> None:
        self._timer.start()

    def _view_alive(self) -> bool:
        # A QTableWidget resets its own model while it is being destroyed.
        return shiboken6.isValid(self._view)

    # -- measuring -----------------------------------------------------------------------

    def _reset(self, *_args: object) -> None:
        if not self._view_alive():
            return
        self._measured.clear()
        model = self._view.model()
        if model is not None and not callable(getattr(model, "loaded_text", None)):
            # A model that holds all its rows (a dashboard table, an order's lines).
            self._measure(0, model.rowCount() - 1)
        self.schedule()

    def _rows_arrived(self, parent: ModelIndex, first: int, last: int) -> None:
        if not self._view_alive():
            return
        if not parent.isValid():
            self._measure(first, last)
            self.schedule()

    def _data_changed(
        self, top_left: ModelIndex, bottom_right: ModelIndex, *_roles: object
    ) -> None:
        if not self._view_alive():
            return
        columns = range(top_left.column(), bottom_right.column() + 1)
        self._measure(top_left.row(), bottom_right.row(), columns)
        self.schedule()

    def _layout_changed(self, *_args: object) -> None:
        if not self._view_alive():
            return
        model = self._view.model()
        if model is not None:
            self._measure(0, model.rowCount() - 1)
        self.schedule()

    def _measure(self, first: int, last: int, columns: range | None = None) -> None:
        model = self._view.model()
        if model is None or last < first:
            return
        loaded_text = getattr(model, "loaded_text", None)
        metrics = QFontMetricsF(self._view.font())
        margin = cell_text_margin(self._view) + 1  # + 1: sub-pixel advances round up
        step = max(1, (last - first + 1) // MAX_MEASURED_ROWS)
        for column in columns if columns is not None else range(model.columnCount()):
            widest = self._measured.get(column, 0)
            # A delegate that paints around its text (a badge) says how much room it adds.
            room_around_text = getattr(
                self._view.itemDelegateForColumn(column), "room_around_text", None
            )
            extra = margin + (room_around_text(metrics) if callable(room_around_text) else 0)
            for row in range(first, last + 1, step):
                if callable(loaded_text):
                    text = loaded_text(row, column)
                else:
                    text = model.data(model.index(row, column), Qt.ItemDataRole.DisplayRole)
                if isinstance(text, str) and text:
                    widest = max(widest, math.ceil(metrics.horizontalAdvance(text)) + extra)
            self._measured[column] = widest

    # -- sizing --------------------------------------------------------------------------

    def needed_width(self, section: int) -> int:
        """The width `section` needs to show its header and every value measured whole."""
        header = self._view.horizontalHeader()
        return max(header.sectionSizeHint(section), self._measured.get(section, 0))

    def fit(self) -> None:
        if not self._view_alive():
            return
        view = self._view
        model = view.model()
        header = view.horizontalHeader()
        if model is None or header.count() == 0:
            return
        sections = [s for s in range(header.count()) if not header.isSectionHidden(s)]
        room = view.viewport().width()
        widths: dict[int, int] = {}
        flexible: list[int] = []
        for section in sections:
            if section in self._user_sized:
                widths[section] = self._user_sized[section]
            elif self.fit_of(section) is Fit.WHOLE:
                widths[section] = self.needed_width(section)
            else:
                flexible.append(section)
        if flexible:
            least = math.ceil(view.fontMetrics().averageCharWidth() * MIN_TEXT_CHARACTERS)
            needs = [self.needed_width(s) for s in flexible]
            floors = [
                min(need, max(header.sectionSizeHint(s), least))
                for s, need in zip(flexible, needs, strict=True)
            ]
            left = room - sum(widths.values())
            need_of = dict(zip(flexible, needs, strict=True))
            floor_of = dict(zip(flexible, floors, strict=True))
            stretched = [s for s in flexible if self.fit_of(s) is Fit.STRETCH]
            texts = [s for s in flexible if s not in stretched]
            stretch_need = sum(need_of[s] for s in stretched)
            if stretch_need + sum(floor_of[s] for s in texts) <= left:
                # The long text column (an item's or a company's name) whole before the
                # other texts (a line's stock per warehouse): those share what remains.
                text_widths = share_room(
                    [need_of[s] for s in texts], [floor_of[s] for s in texts], left - stretch_need
                )
                shared = dict(zip(texts, text_widths, strict=True))
                shared.update((s, need_of[s]) for s in stretched)
            else:
                shared = dict(zip(flexible, share_room(needs, floors, left), strict=True))
            widths.update(shared)
            spare = left - sum(shared.values())
            if spare > 0:
                widths[stretched[0] if stretched else flexible[0]] += spare
        self._fitting = True
        try:
            if header.stretchLastSection():
                header.setStretchLastSection(False)
            for section, width in widths.items():
                if header.sectionResizeMode(section) != QHeaderView.ResizeMode.Interactive:
                    # A saved header state may bring back Stretch or ResizeToContents.
                    header.setSectionResizeMode(section, QHeaderView.ResizeMode.Interactive)
                if header.sectionSize(section) != width:
                    header.resizeSection(section, width)
        finally:
            self._fitting = False

    def _divider_double_clicked(self, section: int) -> None:
        # After the header's own handling of the double click, which resizes the section.
        QTimer.singleShot(0, self, lambda: self.forget_width(section))

    def keep_width(self, section: int, width: int) -> None:
        """Give `section` the width the person chose, instead of fitting it."""
        self._user_sized[section] = width
        self.schedule()

    def forget_width(self, section: int) -> None:
        self._user_sized.pop(section, None)
        self.schedule()

    def user_widths(self) -> dict[int, int]:
        """The widths the person chose, by section (for saving with the window)."""
        return dict(self._user_sized)

    def set_user_widths(self, widths: dict[int, int]) -> None:
        self._user_sized = dict(widths)
        self.schedule()

    def _section_resized(self, section: int, _old: int, new: int) -> None:
        if self._fitting:
            return
        if QApplication.mouseButtons() & Qt.MouseButton.LeftButton:
            self._user_sized[section] = new  # the person dragged it: theirs from now on
        else:
            self.schedule()  # a restored header state: fit again

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The viewport's resize; not while Python tears the fitter down.
        if event.type() == QEvent.Type.Resize and "_timer" in self.__dict__:
            self.schedule()
        return False
