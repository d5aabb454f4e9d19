"""Charts the dashboard shares: a bar (or line) chart that can be clicked and driven by keys.

    chart = BarChart(horizontal=False)
    chart.set_data(["MAIN", "EAST"], [ChartSeries("At cost", (Decimal("12.50"), ...))])
    chart.bar_clicked.connect(lambda index: ...)

Figures arrive as `Decimal` and stay `Decimal` for everything a person reads (the value
axis, the caption under the chart); they become floats only for the chart's geometry.
The value axis is a `QCategoryAxis` with labels made from round `Decimal` steps, because
`QValueAxis` formats its labels from floats with a printf format.

The chart takes the keyboard focus (Tab): Left/Right (or Up/Down) move a highlighted
"current" bar, Home/End go to the ends, Enter or Space act as a click on it. The caption
says what the current or hovered bar stands for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCharts import (
    QAbstractAxis,
    QAbstractBarSeries,
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QCategoryAxis,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QLineSeries,
    QScatterSeries,
)
from PySide6.QtCore import QMargins, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QFont, QKeyEvent, QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

#: Bar colours of the first, second, ... series: readable on light and dark backgrounds.
SERIES_COLOURS = ("#2e86c1", "#e67e22", "#27ae60", "#8e44ad")
HIGHLIGHT_COLOUR = "#f1c40f"
#: Above this many categories the axis labels only every n-th one, so labels never overlap.
MAX_AXIS_LABELS = 12
#: Category labels longer than this are cut on the axis; the caption shows them whole.
MAX_LABEL_CHARS = 22
#: More categories than this get a smaller label font.
DENSE_CATEGORIES = 5


@dataclass(frozen=True)
class ChartSeries:
    name: str
    values: tuple[Decimal, ...]
    #: Money shows two decimals ("1,234.50"); counts show none.
    money: bool = True


def format_figure(value: Decimal, money: bool = True) -> str:
    """1234.5 → "1,234.50" (money) or "1,235" (a count), without going through float."""
    return f"{value:,.2f}" if money else f"{value:,.0f}"


def nice_step(top: Decimal, ticks: int = 5, *, whole: bool = False) -> Decimal:
    """A round step (1, 2 or 5 times a power of ten) giving about `ticks` steps up to `top`;
    with `whole` (counts) at least 1, so that no tick reads "1.5 orders"."""
    if top <= 0:
        return Decimal(1)
    raw = top / ticks
    if whole and raw <= 1:
        return Decimal(1)
    exponent = raw.adjusted()  # the power of ten of the first digit
    power = Decimal(1).scaleb(exponent)
    for factor in (1, 2, 5, 10):
        step = power * factor
        if step >= raw:
            return step
    return power * 10  # not reached: raw < 10 * power by definition of adjusted()


def axis_ticks(top: Decimal, ticks: int = 5, *, whole: bool = False) -> list[Decimal]:
    """0, step, 2·step, ... up to the first multiple of the step at or above `top`; with
    `whole`, whole numbers only."""
    step = nice_step(top, ticks, whole=whole)
    values = [Decimal(0)]
    while values[-1] < top:
        values.append(values[-1] + step)
    if len(values) == 1:
        values.append(step)
    return values


def tick_label(value: Decimal) -> str:
    """An axis label, short enough that five fit under a third of a 1366-pixel window:
    5000 → "5,000", 0.25 → "0.25", 15000 → "15k", 2500000 → "2.5M"."""
    if value >= 1_000_000:
        return f"{(value / 1_000_000).normalize():f}M"
    if value >= 10_000:
        return f"{(value / 1_000).normalize():f}k"
    text = f"{value.normalize():,f}"
    return text


def short_label(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


class _View(QChartView):
    """The chart's drawing; the owning BarChart takes the focus and the keys."""

    def __init__(self, chart: QChart, parent: QWidget) -> None:
        super().__init__(chart, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumHeight(180)


class BarChart(QWidget):
    """Bars (vertical or horizontal) or a line over named categories; see the module doc."""

    #: A bar (or a line's point) was clicked, or Enter/Space pressed on the current one.
    bar_clicked = Signal(int)
    #: The keyboard's current bar moved; -1 when there are no bars.
    current_changed = Signal(int)

    def __init__(
        self,
        *,
        horizontal: bool = False,
        line: bool = False,
        accessible_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._horizontal = horizontal
        self._line = line
        self._labels: list[str] = []
        self._series: list[ChartSeries] = []
        self._details: list[str] = []
        self._current = -1
        self._bar_sets: list[QBarSet] = []
        self._lines: list[QLineSeries] = []
        self._marker: QScatterSeries | None = None
        # What the chart now draws, so new figures of the same shape update it in place.
        self._drawn_shape: tuple[object, ...] | None = None
        self._value_axis_item: QCategoryAxis | None = None
        self._category_axis_item: QAbstractAxis | None = None
        self._tick_values: list[Decimal] = []
        self._shown_labels: list[str] = []

        self.chart = QChart()
        self.chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        # Room on the right for the last value label of horizontal bars.
        self.chart.setMargins(QMargins(4, 4, 18, 4))
        self.chart.setBackgroundRoundness(0)
        self.view = _View(self.chart, self)
        self.caption = QLabel(" ")
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        if accessible_name:
            self.setAccessibleName(accessible_name)
        self._show_focus(False)

    # -- data ----------------------------------------------------------------------------

    def set_data(
        self,
        labels: Sequence[str],
        series: Sequence[ChartSeries],
        details: Sequence[str] | None = None,
    ) -> None:
        """Show `series` (each with one value per label). `details[i]` is extra text for
        the caption of category i (units, order counts)."""
        for item in series:
            if len(item.values) != len(labels):
                raise ValueError(f"series {item.name!r} has {len(item.values)} values")
        self._labels = list(labels)
        self._series = list(series)
        self._details = list(details) if details is not None else [""] * len(labels)
        shape = self._shape()
        if shape is not None and shape == self._drawn_shape:
            self._update_in_place()
        else:
            self._rebuild()
        self._current = min(self._current, len(labels) - 1)
        if self._current < 0 and self.hasFocus() and labels:
            self._current = 0
        self._highlight()
        self.caption.setText(self.describe(self._current) if self._current >= 0 else " ")

    def set_line(self, line: bool) -> None:
        """Draw a line (True) or bars (False); for a time series."""
        if line != self._line:
            self._line = line
            self._rebuild()
            self._highlight()

    @property
    def is_line(self) -> bool:
        return self._line

    def labels(self) -> list[str]:
        return list(self._labels)

    def values(self, series: int = 0) -> tuple[Decimal, ...]:
        """The figures of a series, as given."""
        return self._series[series].values

    def drawn_values(self, series: int = 0) -> list[float]:
        """What the chart draws for a series, in category order (tests compare it)."""
        count = len(self._labels)
        if self._line:
            points = self._lines[series].points()
            return [points[i].y() for i in range(count)]
        bar_set = self._bar_sets[series]
        return [bar_set.at(self._display(i)) for i in range(count)]

    def count(self) -> int:
        return len(self._labels)

    @property
    def current(self) -> int:
        return self._current

    def set_current(self, index: int) -> None:
        index = max(0, min(index, len(self._labels) - 1)) if self._labels else -1
        if index == self._current:
            return
        self._current = index
        self._highlight()
        self.caption.setText(self.describe(index) if index >= 0 else " ")
        self.current_changed.emit(index)

    def describe(self, index: int) -> str:
        """The caption of category `index`: its whole label, each series' figure, details."""
        if not 0 <= index < len(self._labels):
            return ""
        parts = [
            f"{item.name.lower() if len(self._series) > 1 else item.name} "
            f"{format_figure(item.values[index], item.money)}"
            for item in self._series
        ]
        text = f"{self._labels[index]}: " + ", ".join(parts)
        if self._details[index]:
            text += f" — {self._details[index]}"
        return text

    # -- drawing -------------------------------------------------------------------------

    def _display(self, index: int) -> int:
        """Where category `index` is drawn: horizontal bars list the first at the top."""
        return len(self._labels) - 1 - index if self._horizontal else index

    def _shape(self) -> tuple[object, ...] | None:
        """What decides the chart's series and axes; None when there is nothing to draw."""
        if not self._labels or not self._series:
            return None
        names = tuple(item.name for item in self._series)
        return (self._line, self._horizontal, len(self._labels), names)

    def _top(self) -> Decimal:
        return max((value for item in self._series for value in item.values), default=Decimal(0))

    def _ticks(self) -> list[Decimal]:
        """The value axis' ticks: whole numbers when every series counts (orders, units)."""
        whole = bool(self._series) and not any(item.money for item in self._series)
        return axis_ticks(self._top(), whole=whole)

    def value_axis_labels(self) -> list[str]:
        """The labels the value axis shows, from the lowest up, 0 left out."""
        axis = self._value_axis_item
        return [] if axis is None else list(axis.categoriesLabels())

    def _update_in_place(self) -> None:
        """New figures of the drawn shape: change values, labels and range only where they
        differ. Removing and adding series and axes made Qt relayout and repaint the whole
        chart (10-20 ms each); several charts answering together then blocked the GUI thread
        back to back."""
        assert self._value_axis_item is not None and self._category_axis_item is not None
        ticks = self._ticks()
        if ticks != self._tick_values:
            self._fill_value_axis(self._value_axis_item, ticks)
        shown = [short_label(label) for label in self._labels]
        if shown != self._shown_labels:
            self._fill_category_axis(self._category_axis_item, shown)
        count = len(self._labels)
        if self._line:
            for line, item in zip(self._lines, self._series, strict=True):
                points = [
                    QPointF(float(index), float(value)) for index, value in enumerate(item.values)
                ]
                if line.points() != points:
                    line.replace(points)
            return
        for bar_set, item in zip(self._bar_sets, self._series, strict=True):
            for display in range(count):
                value = float(item.values[self._display(display)])
                if bar_set.at(display) != value:
                    bar_set.replace(display, value)

    def _rebuild(self) -> None:
        chart = self.chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        self._bar_sets = []
        self._lines = []
        self._marker = None
        self._drawn_shape = None
        self._value_axis_item = None
        self._category_axis_item = None
        chart.legend().setVisible(len(self._series) > 1)
        if not self._labels or not self._series:
            return
        value_axis = self._value_axis()
        category_axis = self._category_axis()
        self._drawn_shape = self._shape()
        self._value_axis_item = value_axis
        self._category_axis_item = category_axis
        bottom, left = Qt.AlignmentFlag.AlignBottom, Qt.AlignmentFlag.AlignLeft
        value_side = bottom if self._horizontal else left
        category_side = left if self._horizontal else bottom
        chart.addAxis(value_axis, value_side)
        chart.addAxis(category_axis, category_side)
        if self._line:
            self._add_lines(value_axis, category_axis)
        else:
            self._add_bars(value_axis, category_axis)

    def _add_bars(self, value_axis: QAbstractAxis, category_axis: QAbstractAxis) -> None:
        bars: QAbstractBarSeries = QHorizontalBarSeries() if self._horizontal else QBarSeries()
        for number, item in enumerate(self._series):
            bar_set = QBarSet(item.name)
            bar_set.setColor(QColor(SERIES_COLOURS[number % len(SERIES_COLOURS)]))
            bar_set.setSelectedColor(QColor(HIGHLIGHT_COLOUR))
            for display in range(len(self._labels)):
                bar_set.append(float(item.values[self._display(display)]))
            bar_set.clicked.connect(lambda shown: self._clicked(self._display(shown)))
            bar_set.hovered.connect(self._hovered_bar)
            bars.append(bar_set)
            self._bar_sets.append(bar_set)
        bars.setBarWidth(0.8)
        self.chart.addSeries(bars)
        bars.attachAxis(value_axis)
        bars.attachAxis(category_axis)

    def _add_lines(self, value_axis: QAbstractAxis, category_axis: QAbstractAxis) -> None:
        for number, item in enumerate(self._series):
            line = QLineSeries()
            line.setName(item.name)
            line.setColor(QColor(SERIES_COLOURS[number % len(SERIES_COLOURS)]))
            line.setPointsVisible(True)
            for index, value in enumerate(item.values):
                line.append(float(index), float(value))
            line.clicked.connect(self._clicked_point)
            line.hovered.connect(self._hovered_point)
            self.chart.addSeries(line)
            line.attachAxis(category_axis)
            line.attachAxis(value_axis)
            self._lines.append(line)
        marker = QScatterSeries()
        marker.setName("")
        marker.setColor(QColor(HIGHLIGHT_COLOUR))
        marker.setMarkerSize(12)
        self.chart.addSeries(marker)
        marker.attachAxis(category_axis)
        marker.attachAxis(value_axis)
        self.chart.legend().markers(marker)[0].setVisible(False)
        marker.clicked.connect(self._clicked_point)
        self._marker = marker

    def _value_axis(self) -> QCategoryAxis:
        # Every tick is a round number: money or not, it reads the same.
        axis = QCategoryAxis()
        axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        axis.setGridLineVisible(True)
        self._fill_value_axis(axis, self._ticks())
        return axis

    def _fill_value_axis(self, axis: QCategoryAxis, ticks: list[Decimal]) -> None:
        for label in axis.categoriesLabels():
            axis.remove(label)
        axis.setStartValue(0)
        for value in ticks[1:]:
            axis.append(tick_label(value), float(value))
        axis.setRange(0, float(ticks[-1]))
        self._tick_values = ticks

    def _category_axis(self) -> QAbstractAxis:
        shown = [short_label(label) for label in self._labels]
        count = len(shown)
        axis = self._category_axis_for(shown)
        if count > DENSE_CATEGORIES:
            # Qt elides a label taller than its category's share of the axis to "...".
            font = QFont(axis.labelsFont())
            if font.pointSizeF() > 0:
                font.setPointSizeF(font.pointSizeF() * 0.85)
            else:
                font.setPixelSize(max(8, round(font.pixelSize() * 0.85)))
            axis.setLabelsFont(font)
        return axis

    def _category_axis_for(self, shown: list[str]) -> QAbstractAxis:
        count = len(shown)
        axis: QAbstractAxis
        # Horizontal bars always label by value: QBarCategoryAxis elides their labels to
        # "..." where QCategoryAxis shows them whole.
        if count <= MAX_AXIS_LABELS and not self._line and not self._horizontal:
            axis = QBarCategoryAxis()
        else:
            # Many categories (days of a quarter) or a line: label every n-th category.
            axis = QCategoryAxis()
            axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
            axis.setGridLineVisible(False)
        self._fill_category_axis(axis, shown)
        return axis

    def _fill_category_axis(self, axis: QAbstractAxis, shown: list[str]) -> None:
        count = len(shown)
        if isinstance(axis, QBarCategoryAxis):
            # Cut labels may coincide; the axis refuses duplicates, so they get a mark.
            seen: set[str] = set()
            categories = []
            for display in range(count):
                label = shown[self._display(display)]
                while label in seen:
                    label += "\u200b"
                seen.add(label)
                categories.append(label)
            axis.setCategories(categories)
        elif isinstance(axis, QCategoryAxis):
            for label in axis.categoriesLabels():
                axis.remove(label)
            stride = max(1, -(-count // MAX_AXIS_LABELS))
            axis.setStartValue(-0.5)
            for display in range(0, count, stride):
                axis.append(shown[self._display(display)], float(display))
            axis.setRange(-0.5, count - 0.5)
        self._shown_labels = shown

    def _highlight(self) -> None:
        for bar_set in self._bar_sets:
            bar_set.deselectAllBars()
            if self._current >= 0:
                bar_set.selectBar(self._display(self._current))
        if self._marker is not None:
            self._marker.clear()
            if self._current >= 0 and self._series:
                value = self._series[0].values[self._current]
                self._marker.append(QPointF(float(self._current), float(value)))

    # -- mouse and keys ------------------------------------------------------------------

    def _clicked(self, index: int) -> None:
        self.set_current(index)
        self.bar_clicked.emit(index)

    def _clicked_point(self, point: QPointF) -> None:
        index = round(point.x())
        if 0 <= index < len(self._labels):
            self._clicked(index)

    def _hovered_bar(self, status: bool, shown: int) -> None:
        index = self._display(shown)
        self.caption.setText(self.describe(index if status else self._current) or " ")

    def _hovered_point(self, point: QPointF, status: bool) -> None:
        index = round(point.x()) if status else self._current
        self.caption.setText(self.describe(index) or " ")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        forward = (Qt.Key.Key_Right, Qt.Key.Key_Down)
        backward = (Qt.Key.Key_Left, Qt.Key.Key_Up)
        if key in forward or key in backward:
            # Horizontal bars draw the first category at the top, so Down goes on as well.
            step = 1 if key in forward else -1
            self.set_current(self._current + step if self._current >= 0 else 0)
        elif key == Qt.Key.Key_Home:
            self.set_current(0)
        elif key == Qt.Key.Key_End:
            self.set_current(len(self._labels) - 1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            if self._current >= 0:
                self.bar_clicked.emit(self._current)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self._show_focus(True)
        if self._current < 0 and self._labels:
            self.set_current(0)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self._show_focus(False)

    def _show_focus(self, focused: bool) -> None:
        # The view is a QFrame: its border says where the keyboard is.
        colour = "palette(highlight)" if focused else "transparent"
        self.view.setStyleSheet(f"QChartView {{ border: 2px solid {colour}; }}")
