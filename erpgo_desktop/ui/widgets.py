"""Small widgets the dialogs share."""

from __future__ import annotations

import math

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QSize, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QResizeEvent, QTextLayout, QTextOption
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)


def error_label() -> QLabel:
    """A hidden label for an error message, in red."""
    label = QLabel()
    label.setWordWrap(True)
    # A fixed red reads on light and dark themes alike; palette roles have no "error" colour.
    label.setStyleSheet("QLabel { color: #c0392b; }")
    label.hide()
    return label


def heading_label(text: str) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 1.3)
    font.setBold(True)
    label.setFont(font)
    return label


class WrappingItemDelegate(QStyledItemDelegate):
    """For tables that wrap their cells: heights measured the way cells are painted.

    Qt paints a wrapped cell breaking a word that is longer than the line anywhere (a SKU,
    an e-mail), but measures its height breaking at spaces only, so such a cell gets a row
    too short for it and its end is cut. This delegate measures as Qt paints."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        hint = super().sizeHint(option, index)
        view = option.widget
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if not isinstance(text, str) or not text or option.rect.width() <= 0:
            return hint
        if isinstance(view, QAbstractItemView) and not getattr(view, "wordWrap", lambda: True)():
            return hint
        style = view.style() if isinstance(view, QWidget) else None
        margin = 1 + (
            style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) if style else 2
        )
        font = index.data(Qt.ItemDataRole.FontRole)
        layout = QTextLayout(text, font if isinstance(font, QFont) else option.font)
        text_option = QTextOption()
        text_option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(text_option)
        height = 0.0
        layout.beginLayout()
        while (line := layout.createLine()).isValid():
            line.setLineWidth(max(1, option.rect.width() - 2 * margin))
            line.setPosition(QPointF(0, height))
            height += line.height()
        layout.endLayout()
        return QSize(hint.width(), max(hint.height(), math.ceil(height) + 1))


class ElidedLabel(QLabel):
    """One line of context that gives way to the rest of its row (the status bar's database
    location): as much as fits, cut in the middle (a path's least telling part), with the
    whole text as its tooltip. Its size hint is the whole text, so it is cut only when the
    row has no room for it."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.set_full_text(text)

    def full_text(self) -> str:
        return self._full

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self.updateGeometry()
        self._elide()

    def sizeHint(self) -> QSize:
        margins = self.contentsMargins()
        text = math.ceil(QFontMetricsF(self.font()).horizontalAdvance(self._full)) + 1
        width = text + margins.left() + margins.right() + 2 * self.margin()
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        least = self.fontMetrics().horizontalAdvance(self._full[:12] + "…")
        return QSize(min(least, self.sizeHint().width()), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        room = self.contentsRect().width() - 2 * self.margin()
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, room)
        if shown != self.text():
            super().setText(shown)
