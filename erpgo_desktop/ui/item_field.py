"""A field that names a product or a variant: scanned, typed as a code, or picked from
suggestions while typing part of a name.

A barcode scanner is a keyboard that types the code and Enter. So Enter looks the text up
(`ItemLookupService.resolve`, on a worker) as an exact SKU or barcode, and when no code
matches, as part of a SKU, name or barcode, so that "hammer" and Enter works without
waiting for the suggestions (the order window's item entry does the same):

- one match is chosen;
- several (a variant SKU shared by two products, a barcode given twice, a name part of
  several) open a small chooser (`field.chooser`, a dialog: arrows, Enter, Escape);
- none emits `lookup_failed("Nothing on sale has the code or name X.")` and selects the
  text, so the next scan replaces it.

Typing anything else offers suggestions (`ItemLookupService.suggest`) after a pause; an
answer that arrives after the text changed again is dropped. A chosen item shows as
"SKU — name"; editing that text forgets the item (`item_cleared`). After a choice made by
the person (Enter, a suggestion, the chooser) the focus moves on to the next field, where
the quantity usually is; Enter on a chosen item does the same. Enter never reaches the
dialog's default button from here, so a scan never saves by accident.

    field = ItemField(services.lookup, runner, acting)
    field.item_chosen.connect(on_item)          # a SellableItem
    field.lookup_failed.connect(show_the_error) # a message for the person
    field.item                                  # the chosen SellableItem, or None
    field.set_item(item)                        # preset (emits item_chosen)

It also follows forms.CustomField (`changed`, `form_state`, `set_form_state`,
`display_text`), so a FormDialog can register it as a field.
"""

from __future__ import annotations

from typing import cast

import shiboken6
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.lookup import ItemLookupService, SellableItem
from erpgo_desktop.ui.tasks import TaskRunner, user_message
from erpgo_desktop.ui.window_fit import fit_to_content

__all__ = ["ItemChooser", "ItemField", "no_match_message"]

SUGGEST_DELAY_MS = 250
SUGGESTION_COUNT = 12
#: Fewer characters match too much to be worth a round trip.
SUGGEST_MIN_LENGTH = 2

_ITEM_ROLE = Qt.ItemDataRole.UserRole + 1


def no_match_message(code: str) -> str:
    return f"Nothing on sale has the code or name {code}."


class ItemChooser(QDialog):
    """Several items answer one code: the person picks one (Enter) or none (Escape)."""

    def __init__(self, code: str, items: tuple[SellableItem, ...], parent: QWidget) -> None:
        super().__init__(parent)
        self.window_fitter = fit_to_content(self)  # grows to what it shows
        self.setWindowTitle("Choose the item")
        self.items = items
        self.list = QListWidget()
        for item in items:
            entry = QListWidgetItem(item.label)
            entry.setData(_ITEM_ROLE, item)
            self.list.addItem(entry)
        self.list.setCurrentRow(0)
        caption = QLabel(f"Several items match {code}. &Which one?")
        caption.setBuddy(self.list)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Choose")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.list.itemActivated.connect(lambda _entry: self.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(caption)
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.list.setFocus()

    @property
    def selected(self) -> SellableItem | None:
        entry = self.list.currentItem()
        if entry is None:
            return None
        item: SellableItem = entry.data(_ITEM_ROLE)
        return item


class ItemField(QLineEdit):
    """See the module docstring."""

    #: A SellableItem was chosen (also by `set_item`).
    item_chosen = Signal(object)
    #: The chosen item was forgotten (the text was edited, or `clear_item`).
    item_cleared = Signal()
    #: A lookup found nothing or failed; the message is for the person.
    lookup_failed = Signal(str)
    #: The field's value changed (forms.CustomField).
    changed = Signal()

    def __init__(
        self,
        lookup: ItemLookupService,
        runner: TaskRunner,
        acting: CurrentUser,
        parent: QWidget | None = None,
        *,
        suggest_delay_ms: int = SUGGEST_DELAY_MS,
    ) -> None:
        super().__init__(parent)
        self._lookup = lookup
        self._runner = runner
        self._acting = acting
        self._item: SellableItem | None = None
        # Bumped by every edit and every new request: answers to older ones are dropped.
        self._generation = 0
        self._looking_up = False
        #: The chooser while it is open (tests drive it).
        self.chooser: ItemChooser | None = None
        self.setPlaceholderText("Scan or type a SKU or barcode, or part of a name")
        self.setClearButtonEnabled(True)

        self._suggestions = QStandardItemModel(self)
        self._completer = QCompleter(self._suggestions, self)
        self._completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self._completer.setMaxVisibleItems(SUGGESTION_COUNT)
        # setWidget, not setCompleter: a highlighted suggestion must not overwrite what
        # was typed; only choosing one does anything.
        self._completer.setWidget(self)
        # The overload that passes the index (the item is in its data); PySide6's stubs have
        # no SignalInstance.__getitem__, though selecting an overload by type is its API.
        self._completer.activated[QModelIndex].connect(  # type: ignore[index]
            self._suggestion_activated
        )

        self._suggest_timer = QTimer(self)
        self._suggest_timer.setSingleShot(True)
        self._suggest_timer.setInterval(suggest_delay_ms)
        self._suggest_timer.timeout.connect(self._request_suggestions)
        self.textEdited.connect(self._text_edited)
        self.textChanged.connect(lambda _text: self.changed.emit())

    def rebind(self, lookup: ItemLookupService, acting: CurrentUser) -> None:
        """Look up through `lookup` as `acting` from now on (the next sign-in's)."""
        self._lookup, self._acting = lookup, acting

    # -- the value ---------------------------------------------------------------------

    @property
    def item(self) -> SellableItem | None:
        return self._item

    @property
    def looking_up(self) -> bool:
        """A code lookup is on its way."""
        return self._looking_up

    @property
    def completer_popup(self) -> QAbstractItemView:
        popup = self._completer.popup()
        if popup is None:  # QCompleter.popup() makes its list view when none is set
            raise RuntimeError("the completer has no popup")
        return popup

    def set_item(self, item: SellableItem | None) -> None:
        """Show `item` as chosen (None: empty the field); emits item_chosen/item_cleared."""
        self._generation += 1
        self._looking_up = False
        self._suggest_timer.stop()
        self.completer_popup.hide()
        previous = self._item
        self._item = item
        self.setText("" if item is None else item.label)
        self.setCursorPosition(0)
        if item is not None:
            self.item_chosen.emit(item)
        elif previous is not None:
            self.item_cleared.emit()

    def clear_item(self) -> None:
        self.set_item(None)

    # forms.CustomField
    def form_state(self) -> object:
        return (self._item, self.text())

    def set_form_state(self, state: object) -> None:
        item, text = cast(tuple[SellableItem | None, str], state)  # what form_state returned
        self.set_item(item)
        if item is None:
            self.setText(text)

    def display_text(self) -> str:
        return self.text().strip()

    # -- keys --------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        plain = event.modifiers() in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.KeypadModifier,
        )
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and plain:
            popup = self.completer_popup
            if popup.isVisible() and popup.currentIndex().isValid():
                # The completer chooses the highlighted suggestion after this returns.
                event.ignore()
                return
            popup.hide()
            event.accept()
            self._enter()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        if self._item is not None:
            # The next scan replaces the chosen item rather than adding to its label.
            QTimer.singleShot(0, self._select_if_focused)

    def _select_if_focused(self) -> None:
        if shiboken6.isValid(self) and self.hasFocus() and self._item is not None:
            self.selectAll()

    def _enter(self) -> None:
        self._suggest_timer.stop()
        if self._item is not None and self.text() == self._item.label:
            self._advance()
            return
        code = self.text().strip()
        if not code:
            return
        self._generation += 1
        generation = self._generation
        self._looking_up = True
        lookup, acting = self._lookup, self._acting
        self._runner.run(
            lambda: lookup.resolve(acting, code, SUGGESTION_COUNT),
            lambda items: self._found(generation, code, items),
            lambda error: self._lookup_error(generation, error),
            owner=self,
        )

    def _found(self, generation: int, code: str, items: tuple[SellableItem, ...]) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return
        self._looking_up = False
        if not items:
            self.selectAll()
            self.lookup_failed.emit(no_match_message(code))
        elif len(items) == 1:
            self._choose(items[0])
        else:
            self._open_chooser(code, items)

    def _lookup_error(self, generation: int, error: BaseException) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return
        self._looking_up = False
        self.lookup_failed.emit(user_message(error))

    def _open_chooser(self, code: str, items: tuple[SellableItem, ...]) -> None:
        chooser = ItemChooser(code, items, self)
        self.chooser = chooser

        def answered(result: int) -> None:
            self.chooser = None
            chosen = chooser.selected if result == QDialog.DialogCode.Accepted else None
            chooser.deleteLater()
            if not shiboken6.isValid(self):
                return
            self.setFocus()
            if chosen is not None:
                self.set_item(chosen)
                # The window may not be active again yet, so hasFocus() may still be false.
                self.focusNextPrevChild(True)
            else:
                self.selectAll()

        chooser.finished.connect(answered)
        chooser.open()

    def _choose(self, item: SellableItem) -> None:
        self.set_item(item)
        self._advance()

    def _advance(self) -> None:
        # Tab's way (focusNextPrevChild), so the next field selects its text as on Tab.
        if self.hasFocus():
            self.focusNextPrevChild(True)

    # -- suggestions -------------------------------------------------------------------

    def _text_edited(self, _text: str) -> None:
        self._generation += 1  # whatever was on its way answers an older text
        self._looking_up = False
        if self._item is not None:
            self._item = None
            self.item_cleared.emit()
        self._suggest_timer.start()

    def _request_suggestions(self) -> None:
        text = self.text().strip()
        if len(text) < SUGGEST_MIN_LENGTH:
            self.completer_popup.hide()
            return
        generation = self._generation
        lookup, acting = self._lookup, self._acting
        self._runner.run(
            lambda: lookup.suggest(acting, text, SUGGESTION_COUNT),
            lambda items: self._suggested(generation, items),
            lambda error: self._suggest_failed(generation, error),
            owner=self,
        )

    def _suggested(self, generation: int, items: tuple[SellableItem, ...]) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return
        self._suggestions.clear()
        for item in items:
            entry = QStandardItem(item.label)
            entry.setData(item, _ITEM_ROLE)
            entry.setEditable(False)
            self._suggestions.appendRow(entry)
        if items and self.hasFocus():
            self._completer.complete()
        else:
            self.completer_popup.hide()

    def _suggest_failed(self, generation: int, error: BaseException) -> None:
        # Suggestions are a convenience: Enter still looks the code up and says what failed.
        if shiboken6.isValid(self) and generation == self._generation:
            self.completer_popup.hide()

    def _suggestion_activated(self, index: QModelIndex | QPersistentModelIndex) -> None:
        item = index.data(_ITEM_ROLE)
        if isinstance(item, SellableItem):
            self._choose(item)

    def suggestions(self) -> list[SellableItem]:
        """The suggestions offered now (for tests and for callers that show them)."""
        return [
            self._suggestions.item(row).data(_ITEM_ROLE)
            for row in range(self._suggestions.rowCount())
        ]
