"""Statuses drawn as coloured badges in the lists, the words always inside.

A list's `Column(badge=...)` gives each row's tone (`domain.wording.Tone`); the model
answers it under `BADGE_ROLE`, and `BadgeDelegate` (set on those columns by `ListTab`, and
on the order lines' status) paints a rounded badge of the tone's colours behind the text.
Two sets of colours, chosen by the palette's own lightness: pale backgrounds with dark text
on a light palette, deep backgrounds with light text on a dark one, each pair with a
contrast of at least 4.5:1. The colour only adds to the words: a person who cannot tell
red from green reads "Cancelled" and "Delivered" all the same.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QFontMetricsF, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from erpgo_desktop.domain.wording import Tone

ModelIndex = QModelIndex | QPersistentModelIndex

#: The item data role under which a list model gives a cell's tone.
BADGE_ROLE = Qt.ItemDataRole.UserRole + 77

#: tone -> (background, text) on a light palette, and on a dark one.
LIGHT: dict[str, tuple[str, str]] = {
    "good": ("#d1e7dd", "#0a3622"),
    "warning": ("#fff3cd", "#523e02"),
    "bad": ("#f8d7da", "#58151c"),
    "info": ("#cfe2ff", "#052c65"),
    "neutral": ("#e2e3e5", "#2b2f32"),
}
DARK: dict[str, tuple[str, str]] = {
    "good": ("#0f5132", "#d1e7dd"),
    "warning": ("#664d03", "#fff3cd"),
    "bad": ("#842029", "#f8d7da"),
    "info": ("#084298", "#cfe2ff"),
    "neutral": ("#41464b", "#e2e3e5"),
}


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def badge_colours(tone: Tone | str, palette: QPalette) -> tuple[QColor, QColor]:
    """(background, text) of a tone's badge under `palette`."""
    table = DARK if is_dark(palette) else LIGHT
    background, text = table.get(tone, table["neutral"])
    return QColor(background), QColor(text)


class BadgeDelegate(QStyledItemDelegate):
    """Paints a cell whose model gives a tone (`BADGE_ROLE`) as a badge; others as usual."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        tone = index.data(BADGE_ROLE)
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if not tone or not text:
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        # The row's own background and selection first, without the text.
        option.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)
        background, foreground = badge_colours(str(tone), option.palette)
        # Measured in fractions and rounded up: a badge exactly as wide as the integer
        # advance made elidedText cut "Yes" to "Y…" in a column with room to spare.
        metrics = QFontMetricsF(option.font)
        cell: QRect = option.rect
        pad = badge_padding(metrics)
        text_width = math.ceil(metrics.horizontalAdvance(str(text))) + 1
        width = min(cell.width() - 4, text_width + 2 * pad)
        height = min(cell.height() - 2, math.ceil(metrics.height()) + 2)
        badge = QRect(cell.left() + 2, cell.center().y() - height // 2 + 1, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(badge, height / 2, height / 2)
        painter.setPen(foreground)
        painter.setFont(option.font)
        shown = str(text)
        if text_width > width - 2 * pad:
            shown = metrics.elidedText(shown, Qt.TextElideMode.ElideRight, width - 2 * pad)
        painter.drawText(badge.adjusted(pad, 0, -pad, 0), Qt.AlignmentFlag.AlignCenter, shown)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        if index.data(BADGE_ROLE):
            size.setWidth(size.width() + self.room_around_text(option.fontMetrics))
        return size

    def room_around_text(self, metrics: QFontMetrics | QFontMetricsF) -> int:
        """Pixels a badge adds to its text's width: what ColumnFitter adds when measuring
        a column this delegate paints, so that the words inside are never cut."""
        return 2 * badge_padding(metrics) + 5


def badge_padding(metrics: QFontMetrics | QFontMetricsF) -> int:
    return max(4, math.ceil(metrics.height()) // 3)


def alert_colour(palette: QPalette) -> QColor:
    """Text that marks a shortfall: a red that reads on the palette's background (white:
    6:1, near-black: 7:1); it always goes with a mark or words of its own."""
    return QColor("#ff8787") if is_dark(palette) else QColor("#b02a37")
