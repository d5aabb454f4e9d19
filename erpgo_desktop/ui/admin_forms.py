"""What the user and role dialogs share: a list of check boxes registered as one field, and
a record dialog for rows that carry no version.

The users and roles tables have no version column: an edit passes the row it was loaded
from, and the service refuses it as a conflict when what it would overwrite changed
meanwhile (the error carries the current row). There is nothing to overwrite with, so
instead of the conflict dialog the form says what happened and shows the current values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QLayout, QVBoxLayout, QWidget

from erpgo_desktop.errors import ConflictError, ErpError
from erpgo_desktop.ui.forms import RecordDialog, alive

__all__ = ["CheckList", "UnversionedRecordDialog", "partly_saved"]


class CheckList(QWidget):
    """Check boxes, each standing for a key; the field's value is the set of keys checked.

    Boxes go into `layout()` unless a subclass places them itself (`add_box(..., into=)`).
    Tab walks the boxes and Space toggles one; the list's focus goes to its first box.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._boxes: dict[str, QCheckBox] = {}
        # A label's mnemonic focuses its buddy only when the buddy takes focus (here: hands
        # it on to the first box); ClickFocus keeps the list itself out of the Tab chain.
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.box_layout = QVBoxLayout(self)
        self.box_layout.setContentsMargins(0, 0, 0, 0)

    def add_box(
        self,
        key: str,
        text: str,
        *,
        tooltip: str = "",
        into: QLayout | None = None,
        place: Callable[[QCheckBox], None] | None = None,
    ) -> QCheckBox:
        """A box for `key`, added to `into` (the list's own layout by default), or put in
        place by `place`."""
        box = QCheckBox(text)
        box.setObjectName(f"check_{key}")
        if tooltip:
            box.setToolTip(tooltip)
        box.toggled.connect(lambda _checked: self.changed.emit())
        if place is not None:
            place(box)
        else:
            (into or self.box_layout).addWidget(box)
        # Added to a shown list after loading: shown now, not at the next turn of the
        # event loop, so that an error at once can give it the focus.
        if self.isVisible():
            box.show()
        if not self._boxes:
            self.setFocusProxy(box)
        self._boxes[key] = box
        return box

    def box(self, key: str) -> QCheckBox:
        return self._boxes[key]

    def has(self, key: str) -> bool:
        return key in self._boxes

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._boxes)

    def checked(self) -> tuple[str, ...]:
        """The keys checked, in the order of the boxes."""
        return tuple(key for key, box in self._boxes.items() if box.isChecked())

    def set_checked(self, keys: Iterable[str]) -> None:
        wanted = set(keys)
        for key, box in self._boxes.items():
            box.setChecked(key in wanted)

    # The CustomField protocol of forms.py (dirty tracking, restoring, the conflict dialog).

    def form_state(self) -> object:
        return frozenset(self.checked())

    def set_form_state(self, state: object) -> None:
        assert isinstance(state, frozenset)
        self.set_checked(state)

    def display_text(self) -> str:
        return ", ".join(
            re.sub(r"&(.)", r"\1", box.text()) for box in self._boxes.values() if box.isChecked()
        )


def partly_saved(error: ErpError, row: object) -> ErpError:
    """Mark `error`, raised by the second transaction of a save, with the row the first one
    saved: the dialog goes on from that row."""
    error.partly_saved = row  # type: ignore[attr-defined]
    return error


class UnversionedRecordDialog(RecordDialog):
    """A record dialog whose saves pass the loaded row (`self.row`) instead of a version."""

    #: A save was refused because someone else changed the record; the current row (now
    #: shown) is the argument. The list behind the dialog is stale too.
    stale = Signal(object)

    def finish(self) -> None:
        super().finish()
        # Cancel, which held the focus while the body was disabled for loading, stays the
        # default button once the focus moves on before the window is active; Enter is
        # to save.
        self.save_button.setDefault(True)

    def apply_row(self, row: Any) -> None:
        self.row = row
        self.fill(row)

    def on_conflict(self, error: ConflictError) -> None:
        current = error.current
        self.reload_theirs(current)
        self.show_banner(error.message)
        self.stale.emit(current)

    def _save_failed(self, error: BaseException) -> None:
        saved = getattr(error, "partly_saved", None)
        if saved is not None and alive(self):
            self.took_partial_save(saved)
            # The list behind shows what was saved so far.
            self.saved.emit(saved)
        super()._save_failed(error)

    def took_partial_save(self, row: Any) -> None:
        """Part of a save went through as `row`: the next save goes on from it."""
        self.row = row
