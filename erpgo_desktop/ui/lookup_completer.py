"""A completer on a line edit whose suggestions come from a service, off the GUI thread.

`QCompleter` filters a model it already holds; a customer or product search has to ask the
database instead. `AsyncCompleter` waits for a pause in typing (150 ms), runs the search
through the task runner and shows what comes back in the completer's popup. Every search
bumps a generation number, and an answer for an older generation is dropped, so a slow
answer to "ad" never replaces the answer to "ada".

The completer is attached with `setWidget`, not `QLineEdit.setCompleter`: the line edit
then neither filters the suggestions again nor writes the chosen text into itself; the
owner gets the chosen row (`picked`) and decides what the field shows.

Enter while the popup is open but nothing in it is highlighted would be swallowed by
QCompleter; here it closes the popup and reaches the owner as `entered`, the same signal
as Enter in the line edit, so a barcode scanned while suggestions are showing still counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QCompleter, QLineEdit, QWidget

from erpgo_desktop.ui.tasks import TaskRunner, user_message

PAYLOAD_ROLE = Qt.ItemDataRole.UserRole + 1
DEFAULT_DELAY_MS = 150


def give_back_activation(window: QWidget, popup: QWidget) -> None:
    """Make `window` active again once `popup` has closed, where the platform left the
    closed popup active (offscreen does, and sometimes only a moment later); elsewhere
    the window is active already and nothing happens."""

    def check() -> None:
        if not shiboken6.isValid(window) or not shiboken6.isValid(popup) or popup.isVisible():
            return
        active = QApplication.activeWindow()
        if window.isVisible() and active is not window and (active is None or active is popup):
            window.activateWindow()

    for delay in (0, 50, 200):
        QTimer.singleShot(delay, check)


class EnterLineEdit(QLineEdit):
    """A line edit that keeps Enter to itself: in a dialog, Enter in a search field must
    not also press the dialog's default button."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()


class AsyncCompleter(QObject):
    """Suggestions for `edit` from `search(text)`, run on `runner` after a pause in typing."""

    #: The payload of the suggestion the person chose.
    picked = Signal(object)
    #: Enter in the line edit, or in the popup with nothing highlighted.
    entered = Signal()
    #: A search failed; the message is for the person.
    failed = Signal(str)
    #: An answer arrived (perhaps with no suggestions at all); `results` holds it. The
    #: popup opens after this unless a listener called `cancel()`.
    answered = Signal()

    def __init__(
        self,
        edit: QLineEdit,
        runner: TaskRunner,
        search: Callable[[str], Sequence[Any]],
        label: Callable[[Any], str],
        *,
        delay_ms: int = DEFAULT_DELAY_MS,
    ) -> None:
        super().__init__(edit)
        self._edit = edit
        self._runner = runner
        self._search = search
        self._label = label
        self._generation = itertools.count(1)
        self._current = 0
        self._in_flight = 0
        #: The last answer shown, and the text it answered.
        self.results: tuple[Any, ...] = ()
        self.results_text = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.search_now)
        self.model = QStandardItemModel(self)
        self.completer = QCompleter(self.model, self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setMaxVisibleItems(12)
        self.completer.setWidget(edit)
        self.completer.activated[QModelIndex].connect(self._activated)  # type: ignore[index]
        popup = self.completer.popup()
        assert popup is not None
        self.popup = popup
        popup.installEventFilter(self)
        edit.textEdited.connect(self._typed)
        edit.returnPressed.connect(self.entered)

    # -- state ---------------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        """Whether the text typed last has not been answered yet."""
        return self._timer.isActive() or self._in_flight > 0

    @property
    def popup_visible(self) -> bool:
        return self.popup.isVisible()

    def current_payload(self) -> Any:
        """The suggestion highlighted in the open popup, else None."""
        if not self.popup_visible:
            return None
        index = self.popup.currentIndex()
        return index.data(PAYLOAD_ROLE) if index.isValid() else None

    def cancel(self) -> None:
        """Forget the search under way (its answer will be dropped) and close the popup."""
        self._timer.stop()
        self._current = next(self._generation)
        self.hide_popup()

    def hide_popup(self) -> None:
        self.popup.hide()

    # -- searching -----------------------------------------------------------------------

    def _typed(self, text: str) -> None:
        if not text.strip():
            self.cancel()
            self.results, self.results_text = (), ""
            self.model.clear()
            return
        self._timer.start()

    def search_now(self) -> None:
        """Search for the text as it is now, without waiting for the pause."""
        self._timer.stop()
        text = self._edit.text().strip()
        generation = self._current = next(self._generation)
        if not text:
            return
        search = self._search
        self._in_flight += 1
        self._runner.run(
            lambda: search(text),
            lambda rows: self._arrived(generation, text, rows),
            lambda error: self._failed(generation, error),
            owner=self,
        )

    def show(self, rows: Sequence[Any], text: str, *, highlight_first: bool = False) -> None:
        """Put `rows` in the popup and open it under the field."""
        self.results, self.results_text = tuple(rows), text
        self.model.clear()
        for row in rows:
            item = QStandardItem(self._label(row))
            item.setData(row, PAYLOAD_ROLE)
            item.setEditable(False)
            self.model.appendRow(item)
        if not rows or not self._edit.isVisible():
            self.hide_popup()
        else:
            self.completer.setCompletionPrefix("")
            self.completer.complete()
            if highlight_first:
                self.popup.setCurrentIndex(self.completer.completionModel().index(0, 0))

    def _arrived(self, generation: int, text: str, rows: Sequence[Any]) -> None:
        self._in_flight -= 1
        if not shiboken6.isValid(self._edit) or generation != self._current:
            return
        self.results, self.results_text = tuple(rows), text
        self.answered.emit()
        if generation == self._current:  # not taken care of by whoever heard the answer
            self.show(rows, text)

    def _failed(self, generation: int, error: BaseException) -> None:
        self._in_flight -= 1
        if not shiboken6.isValid(self._edit) or generation != self._current:
            return
        self.failed.emit(user_message(error))

    def _give_back_activation(self) -> None:
        if shiboken6.isValid(self._edit):
            give_back_activation(self._edit.window(), self.popup)

    # -- choosing ------------------------------------------------------------------------

    def _activated(self, index: QModelIndex) -> None:
        payload = index.data(PAYLOAD_ROLE)
        self.hide_popup()
        if payload is not None:
            self.picked.emit(payload)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Hide:
            # Some platforms (offscreen among them) make the popup the active window, and
            # leave it so after it is hidden: give the keyboard back to the field's window.
            self._give_back_activation()
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and not self.popup.currentIndex().isValid()
        ):
            self.hide_popup()
            self.entered.emit()
            return True
        return super().eventFilter(watched, event)
