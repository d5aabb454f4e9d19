"""Windows that fit what they show, within the screen they are on.

Qt sizes a dialog once, from its layout's size hint, when it is first shown. What changes
afterwards does not make it grow: a message set on a word-wrapped label needs more height
than the dialog has and is cut at the bottom; warehouses loaded after the dialog opened
are wider than the combo box made for an empty list; a record loaded into a field is
longer than the field. `fit_to_content(dialog)` (one line in the dialog's constructor;
`forms.FormDialog` does it for every form) makes the window grow whenever its contents
need more room:

- the width to the layout's size hint, the height to the layout's height for that width
  (what word-wrapped labels need), never shrinking what the person sized;
- a line edit or combo box whose text was set by the program (a loaded record, a chosen
  item, not what is being typed), or that shows its placeholder, gets the width to show
  it whole;
- all of it within the available geometry of the window's screen (`screen_room`): beyond
  that, labels wrap, a field scrolls and shows its whole text as a tooltip, and the window
  is moved back onto the screen.

The main window opens at `main_window_size(room)`: most of the screen, whole on a
1366x768 laptop, nearly all of a 1920x1080 monitor (a saved geometry wins).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, QTimer
from PySide6.QtGui import QFontMetricsF, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QLineEdit,
    QStyle,
    QStyleOptionComboBox,
    QStyleOptionFrame,
    QWidget,
)

#: The share of the screen the main window takes when it first opens.
MAIN_WINDOW_SHARE = 0.9
#: What the main window takes at least, where the screen has it (all of a laptop screen).
MAIN_WINDOW_LEAST = QSize(1280, 800)
#: Room kept for the window manager's title bar and borders, which Qt's geometry leaves out.
FRAME_ROOM = QSize(16, 40)
#: QLineEdit's own margin on either side of its text (qlineedit_p.h, horizontalMargin).
LINE_EDIT_MARGIN = 2


def screen_room(widget: QWidget) -> QRect:
    """The available geometry of the screen `widget` is on (the primary one before it is
    shown anywhere)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def main_window_size(room: QRect) -> QSize:
    """Most of `room`, at least MAIN_WINDOW_LEAST where it fits, never more than `room`."""
    usable = room.size() - FRAME_ROOM
    width = max(MAIN_WINDOW_LEAST.width(), round(usable.width() * MAIN_WINDOW_SHARE))
    height = max(MAIN_WINDOW_LEAST.height(), round(usable.height() * MAIN_WINDOW_SHARE))
    return QSize(min(width, usable.width()), min(height, usable.height()))


def place_main_window(window: QWidget) -> None:
    """Size `window` to `main_window_size` of its screen and centre it there."""
    room = screen_room(window)
    geometry = QRect(QPoint(0, 0), main_window_size(room))
    geometry.moveCenter(room.center())
    window.setGeometry(geometry)


def line_edit_text_room(field: QLineEdit) -> int:
    """The pixels of `field` in which text shows without scrolling (as QLineEdit paints)."""
    option = QStyleOptionFrame()
    field.initStyleOption(option)
    contents = field.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, field)
    margins = field.textMargins()
    return contents.width() - margins.left() - margins.right() - 2 * LINE_EDIT_MARGIN - _side(field)


def combo_text_room(combo: QComboBox) -> int:
    """The pixels of `combo` in which its current text shows without being elided."""
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, combo
    )
    return field.width() - (
        combo.iconSize().width() + 4 if not combo.itemIcon(combo.currentIndex()).isNull() else 0
    )


def needed_width(field: QLineEdit | QComboBox, text: str) -> int:
    """The width `field` must have for `text` to show whole."""
    advance = math.ceil(QFontMetricsF(field.font()).horizontalAdvance(text)) + 1
    room = line_edit_text_room(field) if isinstance(field, QLineEdit) else combo_text_room(field)
    return field.width() + max(0, advance - room)


def _side(field: QLineEdit) -> int:
    """The room the clear button takes when it shows."""
    if not field.isClearButtonEnabled() or not field.text():
        return 0
    return field.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, field) + 6


class WindowFitter(QObject):
    """Grows its window to what the contents need; see the module docstring."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.fit)
        self._watched: set[int] = set()
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # While Python tears the fitter down, Qt may still pass it the window's last events.
        window = self.__dict__.get("_window")
        if (
            window is not None
            and watched is window
            and event.type()
            in (
                QEvent.Type.LayoutRequest,
                QEvent.Type.Show,
                QEvent.Type.ScreenChangeInternal,
            )
        ):
            if event.type() == QEvent.Type.Show:
                self._watch_fields()
            self._timer.start()
        return False

    def _watch_fields(self) -> None:
        """Fields report new text (a record loaded, an item chosen) without a layout
        request: they ask for a fit themselves."""
        for field in self._window.findChildren(QLineEdit):
            if id(field) not in self._watched:
                self._watched.add(id(field))
                # A bound method: Qt drops the connection when the fitter goes.
                field.textChanged.connect(self._text_changed)
        # A choice in a combo box (a warehouse's long name) changes no size hint either.
        for combo in self._window.findChildren(QComboBox):
            if id(combo) not in self._watched:
                self._watched.add(id(combo))
                combo.currentTextChanged.connect(self._text_changed)

    def _text_changed(self, _text: str) -> None:
        self._timer.start()

    def fit(self) -> None:
        window = self._window
        if not window.isVisible():
            return
        room = screen_room(window)
        usable = room.size() - FRAME_ROOM
        self._widen_fields(usable.width())
        layout = window.layout()
        hint = window.sizeHint()
        width = min(max(window.width(), hint.width()), usable.width())
        needed = hint.height()
        if layout is not None and layout.hasHeightForWidth():
            needed = max(needed, layout.totalHeightForWidth(width))
        needed = max(needed, window.minimumSizeHint().height())
        height = min(max(window.height(), needed), usable.height())
        if (width, height) != (window.width(), window.height()):
            window.resize(width, height)
        self._keep_on_screen(room)

    def _widen_fields(self, room_width: int) -> None:
        """Give fields whose text the program set the width to show it whole."""
        window = self._window
        # A field may take the room the window can have beyond what the rest needs.
        spare = max(0, room_width - window.sizeHint().width())
        for field in window.findChildren(QLineEdit):
            if field.isModified() or not field.isVisible() or isinstance(field.parent(), QComboBox):
                continue
            # An empty field shows its placeholder, which says what goes in: whole too.
            self._widen(field, field.text() or field.placeholderText(), spare)
        for combo in window.findChildren(QComboBox):
            if combo.isVisible() and not combo.isEditable():
                shown = combo.currentText() if combo.currentIndex() >= 0 else ""
                self._widen(combo, shown or combo.placeholderText(), spare)

    @staticmethod
    def _widen(field: QLineEdit | QComboBox, text: str, spare: int) -> None:
        if not text:
            return
        needed = needed_width(field, text)
        if needed > field.width():
            field.setMinimumWidth(min(needed, field.width() + spare))
        if isinstance(field, QLineEdit):
            # Longer than the screen allows: the field scrolls; the tooltip shows it all.
            cut = needed > field.width() + spare
            if cut:
                field.setToolTip(text)
            elif field.toolTip() == text:
                field.setToolTip("")

    def _keep_on_screen(self, room: QRect) -> None:
        window = self._window
        frame = window.frameGeometry()
        x = min(max(frame.x(), room.left()), room.right() + 1 - frame.width())
        y = min(max(frame.y(), room.top()), room.bottom() + 1 - frame.height())
        if (x, y) != (frame.x(), frame.y()):
            window.move(max(x, room.left()), max(y, room.top()))


def fit_to_content(window: QWidget) -> WindowFitter:
    """Make `window` grow to what it shows, within its screen (see the module docstring)."""
    return WindowFitter(window)
