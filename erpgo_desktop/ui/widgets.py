"""Small widgets the dialogs share."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel


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
