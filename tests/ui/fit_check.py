"""Does every text of a window show whole? `misfits(window)` lists what does not.

For every visible widget of the window (hidden ones, and parts scrolled out of sight, are
not judged):

- a QLabel: its text (plain or rich, word-wrapped or not, mnemonic removed) laid out in
  the label's contents rectangle needs no more width or height than it has;
- a button, check box or radio button: no narrower than its size hint (text, icon and
  indicator); a group box: no narrower than its minimum size hint (the title);
- a tab bar: every tab as wide as it asks for (Qt elides tab texts);
- a line edit with text set by the program (not a password): the text fits the part of the
  field that shows text (QLineEdit scrolls what does not fit), unless the window is as
  wide as its screen allows and the field's tooltip shows the text whole;
- a combo box: its current text fits the edit field (Qt elides it);
- a table: every header section as wide as its size hint; in the rows shown, a cell of a
  column shown whole (ui/column_fit.py: codes, SKUs, numbers, dates, statuses) as wide as
  the delegate's size hint; a cell of a text column that is cut must have a tooltip;
- the window itself within its screen's available geometry.

The measures are Qt's own (QFontMetrics, the styles' size hints and sub-rectangles), so a
misfit is what a person sees cut or elided, not a guess.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from PySide6 import QtGui
from PySide6.QtCore import QModelIndex, QPointF, QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics, QTextDocument, QTextLayout, QTextOption
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QTabBar,
    QTableView,
    QWidget,
)

from erpgo_desktop.ui.column_fit import ColumnFitter, Fit, cell_text_margin
from erpgo_desktop.ui.window_fit import (
    FRAME_ROOM,
    combo_text_room,
    line_edit_text_room,
    screen_room,
)

#: Pixels of slack for sub-pixel text advances.
TOLERANCE = 1
_MNEMONIC = re.compile(r"&(.)")


@dataclass(frozen=True)
class Misfit:
    widget: str
    text: str
    needed: tuple[int, int]
    given: tuple[int, int]

    def __str__(self) -> str:
        return (
            f"{self.widget}: {self.text!r} needs {self.needed[0]}x{self.needed[1]}, "
            f"has {self.given[0]}x{self.given[1]}"
        )


def _name(widget: QWidget) -> str:
    parts = []
    current: QWidget | None = widget
    while current is not None and len(parts) < 4:
        parts.append(current.objectName() or type(current).__name__)
        current = current.parentWidget()
    return " < ".join(parts)


def _shown(widget: QWidget) -> bool:
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def _label_need(label: QLabel, rect: QRect) -> tuple[int, int]:
    text = label.text()
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text)
    )
    if rich:
        document = QTextDocument()
        document.setDefaultFont(label.font())
        document.setDocumentMargin(0)
        document.setHtml(text)
        if label.wordWrap():
            document.setTextWidth(rect.width())
        return (
            round(document.idealWidth() if label.wordWrap() else document.size().width()),
            round(document.size().height()),
        )
    if label.buddy() is not None:
        text = _MNEMONIC.sub(r"\1", text)
    metrics = QFontMetrics(label.font())
    flags = int(label.alignment().value)
    if label.wordWrap():
        flags |= Qt.TextFlag.TextWordWrap.value
        bounds = metrics.boundingRect(QRect(0, 0, rect.width(), 100_000), flags, text)
    else:
        bounds = metrics.boundingRect(QRect(0, 0, 100_000, 100_000), flags, text)
    return bounds.width(), bounds.height()


def _label(label: QLabel) -> list[Misfit]:
    if not label.text() or (label.pixmap() is not None and not label.pixmap().isNull()):
        return []
    rect = label.contentsRect()
    margin = label.margin()
    rect.adjust(margin, margin, -margin, -margin)
    if label.indent() > 0:
        rect.setLeft(rect.left() + label.indent())
    width, height = _label_need(label, rect)
    if width > rect.width() + TOLERANCE or height > rect.height() + TOLERANCE:
        return [Misfit(_name(label), label.text(), (width, height), (rect.width(), rect.height()))]
    return []


def _button(button: QAbstractButton) -> list[Misfit]:
    if not button.text():
        return []
    hint = button.sizeHint()
    if button.width() + TOLERANCE < hint.width() or button.height() + TOLERANCE < hint.height():
        return [
            Misfit(
                _name(button),
                button.text(),
                (hint.width(), hint.height()),
                (button.width(), button.height()),
            )
        ]
    return []


def _group(box: QGroupBox) -> list[Misfit]:
    if not box.title():
        return []
    hint = box.minimumSizeHint()
    if box.width() + TOLERANCE < hint.width():
        return [Misfit(_name(box), box.title(), (hint.width(), 0), (box.width(), box.height()))]
    return []


def _tabs(bar: QTabBar) -> list[Misfit]:
    found = []
    for index in range(bar.count()):
        if not bar.isTabVisible(index):
            continue
        want, have = bar.tabSizeHint(index), bar.tabRect(index)
        if have.width() + TOLERANCE < want.width():
            found.append(
                Misfit(
                    _name(bar),
                    bar.tabText(index),
                    (want.width(), want.height()),
                    (have.width(), have.height()),
                )
            )
    return found


def _line_edit(field: QLineEdit) -> list[Misfit]:
    text = field.displayText() or field.placeholderText()
    if (
        not text
        or field.isModified()
        or field.echoMode() != QLineEdit.EchoMode.Normal
        or isinstance(field.parentWidget(), QAbstractSpinBox | QComboBox)
    ):
        return []
    needed = QFontMetrics(field.font()).horizontalAdvance(text)
    room = line_edit_text_room(field)
    if needed <= room + TOLERANCE:
        return []
    window = field.window()
    if field.toolTip() == text and window.width() >= _usable_width(window) - TOLERANCE:
        return []  # longer than the screen is wide: it scrolls, and its tooltip has it all
    return [Misfit(_name(field), text, (needed, 0), (room, field.height()))]


def _usable_width(window: QWidget) -> int:
    return screen_room(window).width() - FRAME_ROOM.width()


def _combo(combo: QComboBox) -> list[Misfit]:
    text = (combo.currentText() if combo.currentIndex() >= 0 else "") or combo.placeholderText()
    if not text or combo.isEditable():
        return []
    needed = QFontMetrics(combo.font()).horizontalAdvance(text)
    room = combo_text_room(combo)
    if needed > room + TOLERANCE:
        return [Misfit(_name(combo), text, (needed, 0), (room, combo.height()))]
    return []


def _fit_of(view: QTableView, column: int) -> Fit:
    fitter = view.findChild(ColumnFitter)
    return fitter.fit_of(column) if fitter is not None else Fit.WHOLE


def _table(view: QTableView) -> list[Misfit]:
    found = []
    model = view.model()
    if model is None:
        return found
    header = view.horizontalHeader()
    for section in range(header.count()):
        if header.isSectionHidden(section):
            continue
        want = header.sectionSizeHint(section)
        if header.sectionSize(section) + TOLERANCE < want:
            title = str(model.headerData(section, Qt.Orientation.Horizontal) or "")
            found.append(
                Misfit(f"{_name(view)} header", title, (want, 0), (header.sectionSize(section), 0))
            )
    grid = 1 if view.showGrid() else 0
    first = max(view.rowAt(0), 0)
    last = view.rowAt(view.viewport().height() - 1)
    last = model.rowCount() - 1 if last < 0 else last
    for row in range(first, last + 1):
        if view.isRowHidden(row):
            continue
        for column in range(model.columnCount()):
            if header.isSectionHidden(column):
                continue
            index = model.index(row, column)
            text = model.data(index, Qt.ItemDataRole.DisplayRole)
            if not isinstance(text, str) or not text:
                continue
            have = view.columnWidth(column) - grid
            if view.wordWrap():
                # Item views wrap anywhere when they must: the row must be tall enough.
                tall = _wrapped_height(view, index, text, have)
                if view.rowHeight(row) + TOLERANCE >= tall:
                    continue
                found.append(
                    Misfit(
                        f"{_name(view)} [{row},{column}]",
                        text,
                        (have, tall),
                        (have, view.rowHeight(row)),
                    )
                )
                continue
            want = view.sizeHintForIndex(index).width()
            if have + TOLERANCE >= want:
                continue
            tooltip = model.data(index, Qt.ItemDataRole.ToolTipRole)
            if _fit_of(view, column) is not Fit.WHOLE and tooltip:
                continue  # a text cut where room is short, whole in its tooltip
            found.append(Misfit(f"{_name(view)} [{row},{column}]", text, (want, 0), (have, 0)))
    return found


def _wrapped_height(view: QTableView, index: QModelIndex, text: str, width: int) -> int:
    """The height of `text` wrapped as item views wrap it (QCommonStyle's item text layout:
    at word boundaries, or anywhere when a word is longer than the line)."""
    font = view.model().data(index, Qt.ItemDataRole.FontRole)
    layout = QTextLayout(text, font if isinstance(font, QFont) else view.font())
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    line_width = max(1, width - cell_text_margin(view) + (1 if view.showGrid() else 0))
    height = 0.0
    layout.beginLayout()
    while (line := layout.createLine()).isValid():
        line.setLineWidth(line_width)
        line.setPosition(QPointF(0, height))
        height += line.height()
    layout.endLayout()
    return math.ceil(height)


def _window(window: QWidget) -> list[Misfit]:
    room = screen_room(window)
    frame = window.frameGeometry()
    if not room.contains(frame):
        return [
            Misfit(
                f"{_name(window)} window",
                window.windowTitle(),
                (frame.width(), frame.height()),
                (room.width(), room.height()),
            )
        ]
    return []


def misfits(window: QWidget) -> list[Misfit]:
    """Every text of `window` (and its child widgets) shown cut; see the module docstring."""
    found = _window(window)
    for widget in [window, *window.findChildren(QWidget)]:
        if not _shown(widget):
            continue
        if isinstance(widget, QLabel):
            found += _label(widget)
        elif isinstance(widget, QAbstractButton):
            found += _button(widget)
        elif isinstance(widget, QGroupBox):
            found += _group(widget)
        elif isinstance(widget, QTabBar):
            found += _tabs(widget)
        elif isinstance(widget, QLineEdit):
            found += _line_edit(widget)
        elif isinstance(widget, QComboBox):
            found += _combo(widget)
        elif isinstance(widget, QTableView):
            found += _table(widget)
    return found


def assert_fits(window: QWidget) -> None:
    found = misfits(window)
    assert not found, "cut or elided:\n" + "\n".join(str(misfit) for misfit in found)
