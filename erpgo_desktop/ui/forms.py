"""What every dialog that edits something shares: fields with their error labels, a banner,
a save that runs off the GUI thread and keeps everything typed when it fails, dirty
tracking, the keyboard (Ctrl+S saves, Escape closes, asking first when something was
typed), and for records that others may edit too, version conflicts and a notice when
someone else changes the open record.

`FormDialog` is for any form (a stock receipt, a payment); `RecordDialog` adds a record
loaded by id and saved with the version it was loaded at. A dialog builds its widgets,
registers each one under the field name the services use in `ErpError.field`, and
implements `prepare_save` (check, then return the service call for a worker)::

    class CustomerDialog(RecordDialog):
        record_table = "customers"          # the table change notifications name
        write_permission = perms.CUSTOMERS_WRITE

        def __init__(self, customers, runner, acting, record_id=None, parent=None):
            super().__init__(runner, acting, record_id, parent)
            self.setWindowTitle("Customer")
            form = self.add_form()
            self.email = self.add_row(form, "email", "&Email:", QLineEdit())
            self.credit = self.add_row(form, "credit_limit", "C&redit limit:", money_edit())
            self.finish()                    # buttons, Ctrl+S, then the initial state
            if record_id is None:
                self.mark_clean()
            else:
                self.load(lambda: customers.get_customer(acting, record_id))

        def fill(self, row):                 # a row's values into the widgets; nothing else
            self.email.setText(row.email)
            self.credit.setText(format_decimal(row.credit_limit, 2))

        def prepare_save(self):              # GUI thread: raise ValidationError to refuse
            draft = rules.check_customer(CustomerDraft(
                email=self.email.text(),
                credit_limit=read_decimal(self.credit, "credit_limit", "The credit limit"),
                ...))
            acting, record_id, version = self.acting, self.record_id, self.version
            if record_id is None:
                return lambda: customers.create_customer(acting, draft)
            return lambda: customers.update_customer(
                acting, record_id, draft, expected_version=version)

    dialog = CustomerDialog(
        services.customers, runner, user, customer_id, parent=window, history=services.history
    )
    dialog.saved.connect(refresh_the_list)  # the row the service returned
    dialog.open()                           # never exec(): the GUI thread keeps running

What the base does with the outcome:

- A `ValidationError` raised by `prepare_save` (the pure rules of `domain`, on the GUI
  thread, so no round trip) or any `ErpError` from the service is shown in red under the
  field it names, and that field gets the focus (its tab is brought forward). Errors that
  name no registered field go to the banner at the top.
- An error goes as soon as its value is fixed, in every dialog alike: while one is shown,
  each edit runs the rules again (`check_input`, by default `prepare_save` without its
  work): a message the rules no longer give goes, also one under another field that this
  edit fixed; one they still give says how the value is wrong now. The service's refusals
  go when the field they name is edited (only the service can say whether the new value
  will do).
- A `ConflictError` carrying `current` (someone saved the record after it was opened)
  opens the `ConflictDialog` with both versions: reload theirs, overwrite (with the write
  permission), or keep editing.
- Anything else (the connection dropped, a bug) puts "Saving failed" in the banner (an
  action's dialog says what failed: `failed_text`); the dialog and what was typed stay, and
  the Save button works again, with its own words back ("Confirm" stays "Confirm").
- Success: the dialog emits `saved(row)` and closes.

`mark_changed_elsewhere()` (or `notice_change(table, ids)`, which filters on
`record_table` and `record_id`) shows "Someone else changed this record at HH:MM; saving
will show both versions".

Every record dialog has a History page (ui/history_view.py: who changed what and when,
read from the database's change history on a worker when the page is first shown). A
dialog of one form puts it on a page of its own beside it::

        self.tabs = self.add_tabs()
        form = self.add_page(self.tabs, "C&ustomer")     # the fields, as above
        ...
        self.add_history_page(self.tabs, history)       # "Histor&y"; Alt+Y opens it

The page is read again after each save (and after a save that went partly through) and
when someone else changes the record; it follows the record a new dialog creates.

A dialog that implements `use_services(services)` (take its service(s) from another
sign-in's `Services`) outlives a sign-out: when the database ends the person's session
(ui/session.py), it is `suspend()`ed, hidden with what was typed, and `resume(services,
acting)`d under whoever signs in next. A dialog without it is closed at sign-out.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, ClassVar, Protocol, TypeVar, cast, runtime_checkable

import shiboken6
from PySide6.QtCore import QRegularExpression, Qt, Signal, SignalInstance, Slot
from PySide6.QtGui import QKeySequence, QRegularExpressionValidator, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import ConflictError, ErpError, ValidationError
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.history import HistoryService
from erpgo_desktop.ui import icons
from erpgo_desktop.ui.history_view import HistoryView
from erpgo_desktop.ui.tasks import TaskRunner, user_message
from erpgo_desktop.ui.widgets import error_label
from erpgo_desktop.ui.window_fit import fit_to_content

__all__ = [
    "CustomField",
    "FormDialog",
    "RecordDialog",
    "alive",
    "decimal_edit",
    "display_text",
    "format_decimal",
    "int_spin",
    "money_edit",
    "read_decimal",
    "set_active_after_save",
    "too_many_decimals",
]

SAVE_FAILED = "Saving failed: {reason}"
KEPT = "What you typed is kept; press {button} to try again."
#: How many decimals a number field lets through, so that more than its column keeps is
#: refused with a message instead of being cut off while typing.
_TYPED_DECIMALS = 12
#: The dynamic property of a `decimal_edit` that holds how many decimals it keeps.
DECIMAL_PLACES = "decimal_places"
#: `FormDialog._check_now` could not tell (busy, or the rules need the server).
_UNKNOWN = ("?", "?")
CHANGED_ELSEWHERE = "Someone else changed this record at {time}; saving will show both versions."


@runtime_checkable
class CustomField(Protocol):
    """A composite widget registered as one field (a table of attributes, a picker).

    It emits `changed` when the person edits it, and reports its value for dirty tracking
    (`form_state`, anything comparable), for restoring (`set_form_state`) and for the
    conflict dialog (`display_text`).
    """

    changed: SignalInstance

    def form_state(self) -> object: ...
    def set_form_state(self, state: object) -> None: ...
    def display_text(self) -> str: ...


@dataclass
class _Field:
    name: str
    widget: QWidget
    error: QLabel
    label: str
    form: QFormLayout | None
    compare: bool


# --- number fields ------------------------------------------------------------------------


def decimal_edit(int_digits: int, places: int, *, negative: bool = False) -> QLineEdit:
    """A line edit that takes only a plain decimal (digits, one '.'); `read_decimal`
    refuses more than `places` decimals.

    A regular expression, not QDoubleValidator: the latter follows the locale's separators
    and turns values into floats on the way; here the text becomes a Decimal exactly. More
    decimals than the column keeps can be typed (or pasted) and are refused with a message
    that says so: a validator stopping at the second decimal cut 12.34567 to 12.34 without
    a word.
    """
    sign = "-?" if negative else ""
    decimals = rf"(\.[0-9]{{0,{_TYPED_DECIMALS}}})?"
    pattern = QRegularExpression(rf"{sign}[0-9]{{0,{int_digits}}}{decimals}")
    edit = QLineEdit()
    edit.setValidator(QRegularExpressionValidator(pattern, edit))
    edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    edit.setMaxLength(int_digits + _TYPED_DECIMALS + 2)
    edit.setProperty(DECIMAL_PLACES, places)
    return edit


def money_edit() -> QLineEdit:
    """An amount of money: DECIMAL(12,2), ten digits before the point, two after."""
    edit = decimal_edit(10, 2)
    edit.setPlaceholderText("0.00")
    return edit


def read_decimal(
    edit: QLineEdit, field: str, label: str, *, default: Decimal | None = None
) -> Decimal:
    """The Decimal typed into `edit`; empty is `default`, or refused when there is none."""
    text = edit.text().strip()
    if not text or text in ("-", "."):
        if default is not None:
            return default
        raise ValidationError(f"{label} is required, such as 12.50.", field=field)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError(f"{label} must be a number, such as 12.50.", field=field) from None
    places = edit.property(DECIMAL_PLACES)
    if isinstance(places, int) and value != value.quantize(Decimal(1).scaleb(-places)):
        raise ValidationError(too_many_decimals(label, value, places), field=field)
    return value


def too_many_decimals(label: str, value: Decimal, places: int) -> str:
    """Refused rather than rounded: a price or measure with more decimals than its column
    keeps is usually a slip (a pasted figure, a unit mix-up), and rounding it quietly
    would change what is charged; the message says what rounding would give."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    kept = "no decimals" if places == 0 else f"at most {places} decimal" + "s" * (places != 1)
    return f"{label} takes {kept}: type {rounded:f} ({value:f} rounded) or the figure you mean."


def format_decimal(value: Decimal, places: int) -> str:
    """A Decimal as typed (no thousands separators, so it can be edited and read back)."""
    return f"{value.quantize(Decimal(1).scaleb(-places)):f}"


def int_spin(minimum: int, maximum: int, *, special: str | None = None) -> QSpinBox:
    """A whole number in a range; `special` is shown instead of the minimum (e.g. "none")."""
    spin = QSpinBox()
    spin.setRange(minimum, maximum)
    spin.setGroupSeparatorShown(True)
    spin.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if special:
        spin.setSpecialValueText(special)
    return spin


# --- reading and restoring widgets ---------------------------------------------------------


def _state(widget: QWidget) -> object:
    if isinstance(widget, CustomField):
        return widget.form_state()
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText()
    if isinstance(widget, QComboBox):
        return (widget.currentIndex(), widget.currentText())
    if isinstance(widget, QAbstractButton):
        return widget.isChecked()
    if isinstance(widget, QSpinBox | QDoubleSpinBox):
        return widget.value()
    raise TypeError(f"no form state for {type(widget).__name__}")


def _restore(widget: QWidget, state: Any) -> None:
    if isinstance(widget, CustomField):
        widget.set_form_state(state)
    elif isinstance(widget, QLineEdit):
        widget.setText(state)
    elif isinstance(widget, QPlainTextEdit):
        widget.setPlainText(state)
    elif isinstance(widget, QComboBox):
        index, text = state
        widget.setCurrentIndex(index)
        if widget.isEditable():
            widget.setEditText(text)
    elif isinstance(widget, QAbstractButton):
        widget.setChecked(state)
    elif isinstance(widget, QSpinBox | QDoubleSpinBox):
        widget.setValue(state)


def display_text(widget: QWidget) -> str:
    """A field's value as the person sees it, for the conflict dialog."""
    if isinstance(widget, CustomField):
        return widget.display_text()
    if isinstance(widget, QLineEdit):
        return widget.text().strip()
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText().strip()
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QAbstractButton):
        return "Yes" if widget.isChecked() else "No"
    if isinstance(widget, QAbstractSpinBox):
        return widget.text()
    return ""


def _connect_changed(widget: QWidget, slot: Callable[[], None]) -> None:
    def changed(*_args: object) -> None:
        slot()

    if isinstance(widget, CustomField):
        widget.changed.connect(changed)
    elif isinstance(widget, QLineEdit | QPlainTextEdit):
        widget.textChanged.connect(changed)
    elif isinstance(widget, QComboBox):
        widget.currentIndexChanged.connect(changed)
        if widget.isEditable():
            widget.editTextChanged.connect(changed)
    elif isinstance(widget, QAbstractButton):
        widget.toggled.connect(changed)
    elif isinstance(widget, QSpinBox | QDoubleSpinBox):
        widget.valueChanged.connect(changed)
    else:
        raise TypeError(f"cannot watch {type(widget).__name__} for changes")


def _plain_label(text: str) -> str:
    """'&Credit limit:' -> 'Credit limit'."""
    return re.sub(r"&(.)", r"\1", text).rstrip(":").strip()


class _Activatable(Protocol):
    @property
    def is_active(self) -> bool: ...


_RowT = TypeVar("_RowT", bound=_Activatable)


def set_active_after_save(
    row: _RowT,
    active: bool,
    deactivate: Callable[[_RowT], _RowT],
    reactivate: Callable[[_RowT], _RowT],
) -> _RowT:
    """For a worker: after saving `row` (which has `is_active` and `version`), deactivate or
    reactivate it through the service's own method when the form's Active box says so.

    Two transactions: when the second is refused, the first is saved already; the error
    carries the saved row (`saved_row`) so that the dialog saves over its version next.
    """
    try:
        if row.is_active and not active:
            return deactivate(row)
        if active and not row.is_active:
            return reactivate(row)
        return row
    except ErpError as error:
        error.saved_row = row  # type: ignore[attr-defined]
        raise


def alive(widget: QWidget) -> bool:
    """False once Qt has deleted the widget (a late callback must not touch it)."""
    return shiboken6.isValid(widget)


# --- the dialogs --------------------------------------------------------------------------


class FormDialog(QDialog):
    """A dialog of fields saved through the task runner; see the module docstring."""

    #: The saved row (whatever the service call returned).
    saved = Signal(object)
    #: What the save button says while its work runs.
    busy_text = "Saving…"
    #: A failure's message in the banner ("{reason}": what went wrong).
    failed_text = SAVE_FAILED

    def __init__(self, runner: TaskRunner, acting: CurrentUser, parent: QWidget | None = None):
        super().__init__(parent)
        self.window_fitter = fit_to_content(self)  # grows to what it shows
        self.runner = runner
        self.acting = acting
        self.saving = False
        self.loading = False
        self._fields: dict[str, _Field] = {}
        self._aliases: dict[str, str] = {}
        self._clean: dict[str, object] | None = None
        #: The "Discard your changes?" box while it is open (tests answer it).
        self.discard_prompt: QMessageBox | None = None
        #: Windows opened from here that were hidden at a sign-out, to show again after.
        self._suspended: list[QDialog] = []
        #: Fields showing an error -> whether the rules on this side said it (so can tell
        #: when it is fixed); the service's refusals are False.
        self._shown: dict[str, bool] = {}
        #: Whether the banner shows what the rules on this side said (None: nothing of it).
        self._banner_checked: bool | None = None
        #: The save button's own text while it says `busy_text`.
        self._idle_save_text: str | None = None

        self.banner = error_label()
        self.banner.setObjectName("banner")
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("&Save")
        self.save_button.setIcon(icons.icon("save"))
        self.save_button.setToolTip("Save (Ctrl+S)")
        self.save_button.setDefault(True)
        self.save_button.setAutoDefault(True)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        # Spelled out: some platforms' themes bind no key to QKeySequence.StandardKey.Save.
        QShortcut(QKeySequence("Ctrl+S"), self, self.submit)
        # As Escape: close, asking first when something was typed.
        QShortcut(QKeySequence("Ctrl+W"), self, self.reject)

        self._layout = QVBoxLayout(self)
        self._top = QVBoxLayout()
        self._layout.addLayout(self._top)
        self._top.addWidget(self.banner)
        self._layout.addWidget(self.body, 1)
        self._layout.addWidget(self.buttons)

    # -- building ------------------------------------------------------------------------

    def add_form(self, parent_layout: QVBoxLayout | None = None) -> QFormLayout:
        """A form layout in the body (or in `parent_layout`) to add rows to."""
        form = QFormLayout()
        (parent_layout or self.body_layout).addLayout(form)
        return form

    def add_row(
        self,
        form: QFormLayout,
        name: str,
        label: str | None,
        widget: QWidget,
        *,
        aliases: Iterable[str] = (),
        compare: bool = True,
    ) -> Any:
        """Add `widget` as a row of `form` under a label with a mnemonic (its buddy), with a
        hidden error row below it; register it as field `name`. A check box or another
        button brings its own text (and mnemonic): give `label` None. Returns `widget`."""
        if label is None:
            form.addRow(widget)
            title = widget.text() if isinstance(widget, QAbstractButton) else name
        else:
            caption = QLabel(label)
            caption.setBuddy(widget)
            # A caption that names a record (an order line: SKU and name) may be longer
            # than the screen is wide: it wraps rather than widen the dialog beyond it.
            caption.setWordWrap(True)
            form.addRow(caption, widget)
            title = label
        message = error_label()
        form.addRow("", message)
        form.setRowVisible(message, False)
        self.register_field(
            name, widget, message, label=title, form=form, aliases=aliases, compare=compare
        )
        return widget

    def register_field(
        self,
        name: str,
        widget: QWidget,
        error: QLabel,
        *,
        label: str,
        form: QFormLayout | None = None,
        aliases: Iterable[str] = (),
        compare: bool = True,
    ) -> None:
        """Register a field placed by the caller, with its own error label (hidden until an
        error names the field). `aliases`: other names the services use for it ("manager"
        for "manager_id"). `compare`: show it in the conflict dialog."""
        widget.setObjectName(name)
        error.setObjectName(f"{name}_error")
        self._fields[name] = _Field(name, widget, error, _plain_label(label), form, compare)
        for alias in (name, *aliases):
            self._aliases[alias] = name
        _connect_changed(widget, lambda: self._edited(name))

    def add_top_widget(self, widget: QWidget) -> None:
        """Something to show above the fields, below the banner (a notice)."""
        self._top.addWidget(widget)

    def finish(self) -> None:
        """Call at the end of the constructor: the first field gets the focus."""
        first = next(iter(self._fields.values()), None)
        if first is not None:
            first.widget.setFocus()

    # -- fields --------------------------------------------------------------------------

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(self._fields)

    def field(self, name: str) -> QWidget:
        return self._fields[self._aliases.get(name, name)].widget

    def field_error(self, name: str) -> QLabel:
        return self._fields[self._aliases.get(name, name)].error

    def visible_errors(self) -> dict[str, str]:
        """The error messages shown now, by field (and "" for the banner)."""
        shown = {n: f.error.text() for n, f in self._fields.items() if f.error.text()}
        if self.banner.isVisibleTo(self) and self.banner.text():
            shown[""] = self.banner.text()
        return shown

    def show_error(
        self, error: BaseException, *, saving: bool = False, checked: bool = False
    ) -> None:
        """At the field the error names (which gets the focus), else in the banner; there,
        a failed save says so. `checked`: the rules on this side said it (`check_input`
        can tell when it is fixed)."""
        name = error.field if isinstance(error, ErpError) else None
        message = user_message(error)
        if name is not None and name in self._aliases:
            self.show_field_error(name, message, checked=checked)
        elif not saving:
            self.show_banner(message, checked=checked)
        elif isinstance(error, ErpError):
            self.show_banner(self.failed_text.format(reason=message))
        else:
            button = _plain_label(self._idle_save_text or self.save_button.text())
            kept = KEPT.format(button=button)
            self.show_banner(self.failed_text.format(reason=f"{message} {kept}"))

    def show_field_error(self, name: str, message: str, *, checked: bool = False) -> None:
        spec = self._fields[self._aliases[name]]
        spec.error.setText(message)
        if spec.form is not None:
            spec.form.setRowVisible(spec.error, True)
        else:
            spec.error.show()
        self._shown[spec.name] = checked
        self.focus_field(spec.name)

    def focus_field(self, name: str) -> None:
        widget = self.field(name)
        _reveal(widget)
        widget.setFocus(Qt.FocusReason.OtherFocusReason)
        if isinstance(widget, QLineEdit):
            widget.selectAll()

    def show_banner(self, message: str, *, checked: bool = False) -> None:
        self.banner.setText(message)
        self.banner.show()
        self._banner_checked = checked

    def clear_errors(self) -> None:
        for name in self._fields:
            self._hide_error(name)
        self._hide_banner()

    def _hide_banner(self) -> None:
        self.banner.clear()
        self.banner.hide()
        self._banner_checked = None

    def _hide_error(self, name: str) -> None:
        spec = self._fields[name]
        spec.error.clear()
        if spec.form is not None:
            spec.form.setRowVisible(spec.error, False)
        else:
            spec.error.hide()
        self._shown.pop(name, None)

    def check_input(self) -> None:
        """The rules over what is typed now, nothing sent: raise ValidationError naming
        the field. Run after each edit while an error is shown, so that the error goes as
        soon as its value is fixed. By default `prepare_save`, whose work is not run; a
        dialog whose `prepare_save` does more than check overrides this."""
        self.prepare_save()

    def _check_now(self) -> tuple[str, str] | None:
        """What `check_input` says now: None (all fine), or (field or "" for the banner,
        message); `_UNKNOWN` when it cannot tell."""
        if self.saving or self.loading:
            return _UNKNOWN
        try:
            self.check_input()
        except ValidationError as error:
            field = self._aliases.get(error.field or "", "")
            return (field, user_message(error))
        except ErpError:
            return _UNKNOWN
        return None

    def _edited(self, name: str) -> None:
        """A field changed: take away the errors this fixed (see the module docstring)."""
        if not self._shown and not self._banner_checked:
            return
        verdict = self._check_now()
        known = verdict is not _UNKNOWN
        for shown, checked in list(self._shown.items()):
            if checked and known and verdict is not None and verdict[0] == shown:
                # Still wrong: the message says how it is wrong now (12.3456, not 12.34567).
                self._fields[shown].error.setText(verdict[1])
            elif shown == name or (checked and known and verdict is None):
                self._hide_error(shown)
        if (
            self._banner_checked
            and known
            and (verdict is None or (verdict[0] == "" and verdict[1] != self.banner.text()))
        ):
            self._hide_banner()

    # -- dirty tracking ------------------------------------------------------------------

    def form_state(self) -> dict[str, object]:
        return {name: _state(spec.widget) for name, spec in self._fields.items()}

    def restore_state(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            _restore(self._fields[name].widget, value)

    def mark_clean(self) -> None:
        """What the fields hold now is what is saved (or the blank form to start from)."""
        self._clean = self.form_state()

    @property
    def dirty(self) -> bool:
        """Whether the person changed anything since the form was loaded or last saved."""
        return self._clean is not None and self.form_state() != self._clean

    def display_values(self) -> dict[str, str]:
        """The fields compared in the conflict dialog, as shown, by name."""
        return {n: display_text(f.widget) for n, f in self._fields.items() if f.compare}

    def field_labels(self) -> dict[str, str]:
        return {n: f.label for n, f in self._fields.items() if f.compare}

    # -- closing -------------------------------------------------------------------------

    def reject(self) -> None:
        """Escape, Cancel and the window's close button: ask first when something was typed."""
        if not self.dirty:
            super().reject()
            return
        if self.discard_prompt is not None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.windowTitle() or "ERPGo Desktop",
            "Discard your changes?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setInformativeText("What you typed in this dialog has not been saved.")
        box.button(QMessageBox.StandardButton.Cancel).setText("&Keep editing")
        box.button(QMessageBox.StandardButton.Discard).setText("&Discard")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda _result: self._discard_answered(box))
        self.discard_prompt = box
        box.open()

    def _discard_answered(self, box: QMessageBox) -> None:
        self.discard_prompt = None
        if box.clickedButton() is box.button(QMessageBox.StandardButton.Discard):
            super().reject()
        box.deleteLater()

    # -- saving --------------------------------------------------------------------------

    def prepare_save(self) -> Callable[[], object]:
        """Check the input on the GUI thread (raise ValidationError naming the field) and
        return the service call to run on a worker. It must capture plain values only."""
        raise NotImplementedError

    @Slot()
    def submit(self) -> None:
        """Save (the Save button, Ctrl+S, Enter): refused input stays, with its message."""
        if self.saving or self.loading or not self.save_button.isEnabled():
            return
        self.clear_errors()
        try:
            work = self.prepare_save()
        except ValidationError as error:
            self.show_error(error, checked=True)
            return
        self._set_saving(True)
        self.runner.run(work, self._save_succeeded, self._save_failed)

    def _enable_save(self, enabled: bool) -> None:
        self.save_button.setEnabled(enabled)
        if enabled:
            # While Save was disabled, the dialog made the focused button (Cancel) its
            # default; Enter in a field must save again, not cancel.
            self.save_button.setDefault(True)

    def _set_saving(self, saving: bool) -> None:
        self.saving = saving
        # The fields too: what is typed while a save runs would be lost when it succeeds.
        self.body.setEnabled(not saving)
        self._enable_save(not saving)
        if saving:
            if self._idle_save_text is None:
                self._idle_save_text = self.save_button.text()
            self.save_button.setText(self.busy_text)
        elif self._idle_save_text is not None:
            # Its own words back: a failed Confirm is still Confirm, not Save.
            self.save_button.setText(self._idle_save_text)
            self._idle_save_text = None

    def _save_succeeded(self, row: object) -> None:
        if not alive(self):
            return
        self._set_saving(False)
        self.mark_clean()
        self.saved.emit(row)
        self.after_save(row)

    def after_save(self, row: object) -> None:
        """What happens once saved; by default the dialog closes."""
        self.accept()

    def _save_failed(self, error: BaseException) -> None:
        if not alive(self):
            return
        self._set_saving(False)
        if isinstance(error, ConflictError) and error.current is not None:
            self.on_conflict(error)
        else:
            self.show_error(error, saving=True)

    def on_conflict(self, error: ConflictError) -> None:
        """A save over a newer version; a form without versions just says so."""
        self.show_banner(error.message)

    # -- signed out and in again ---------------------------------------------------------

    def use_services(self, services: Services) -> None:
        """Take the service(s) this dialog works with from `services`, the next sign-in's.
        Implementing it lets the dialog wait for that sign-in instead of being closed."""
        raise NotImplementedError

    @property
    def keeps_over_sign_out(self) -> bool:
        """Whether the dialog can wait, hidden, for the next sign-in (`use_services`)."""
        return type(self).use_services is not FormDialog.use_services

    def suspend(self) -> None:
        """Signed out: hide until the next sign-in, with the windows opened from here (a
        conflict, a question, a sub-form); a sub-form that cannot wait is closed."""
        self._suspended = []
        for child in self.findChildren(QDialog, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if not child.isVisible():
                continue
            if isinstance(child, FormDialog):
                if not child.keeps_over_sign_out:
                    child.done(QDialog.DialogCode.Rejected)
                    continue
                child.suspend()
            child.hide()
            self._suspended.append(child)
        self.hide()

    def resume(self, services: Services, acting: CurrentUser) -> None:
        """Go on as `acting` through `services` (call once the dialog is shown again):
        what was typed stays; the next load, lookup or save is theirs."""
        self.acting = acting
        self.use_services(services)
        # What the last save or lookup said was about the session that ended.
        self.clear_errors()
        suspended, self._suspended = self._suspended, []
        for child in suspended:
            if not alive(child):  # closed meanwhile (a late answer to a save)
                continue
            child.show()
            if isinstance(child, FormDialog):
                child.resume(services, acting)


def _reveal(widget: QWidget) -> None:
    """Bring forward the tab pages that hold `widget`, so that it can take the focus."""
    child: QWidget | None = widget
    while child is not None:
        parent = child.parentWidget()
        if isinstance(parent, QStackedWidget) and isinstance(parent.parentWidget(), QTabWidget):
            cast(QTabWidget, parent.parentWidget()).setCurrentWidget(child)
        child = parent


class RecordDialog(FormDialog):
    """A form that creates a record (`record_id` None) or edits one loaded by id and saved
    with the version it was loaded at."""

    #: The table change notifications name for this kind of record ("customers").
    record_table: ClassVar[str] = ""
    #: The permission that saving needs (and overwriting someone else's version).
    write_permission: ClassVar[str] = ""

    def __init__(
        self,
        runner: TaskRunner,
        acting: CurrentUser,
        record_id: uuid.UUID | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, acting, parent)
        self._record_id = record_id
        #: The version the edit is based on (None while creating or loading).
        self.version: int | None = None
        #: The row as loaded (or as reloaded from a conflict).
        self.row: Any = None
        #: The conflict dialog while it is open (tests drive it).
        self.conflict_dialog: QDialog | None = None
        self.changed_banner = QLabel()
        self.changed_banner.setObjectName("changed_banner")
        self.changed_banner.setWordWrap(True)
        self.changed_banner.setStyleSheet(
            "QLabel { background: #fff3cd; color: #664d03; padding: 4px; }"
        )
        self.changed_banner.hide()
        self.add_top_widget(self.changed_banner)
        #: The History page (`add_history_page`).
        self.history_view: HistoryView | None = None

    @property
    def record_id(self) -> uuid.UUID | None:
        return self._record_id

    @property
    def editing(self) -> bool:
        return self._record_id is not None

    # -- pages and the History page --------------------------------------------------

    def add_tabs(self) -> QTabWidget:
        """Pages in the body: the form's, then the History page."""
        tabs = QTabWidget()
        self.body_layout.addWidget(tabs, 1)
        return tabs

    def add_page(self, tabs: QTabWidget, title: str) -> QFormLayout:
        """A page of `tabs` titled `title` (with a mnemonic) holding a form to add rows to,
        at the top of the page."""
        page = QWidget()
        # The form is the page's own layout, not one inside it: rows added after the page
        # joined the tabs then count in the page's size, so the dialog opens big enough.
        form = QFormLayout(page)
        form.setFormAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        tabs.addTab(page, title)
        return form

    def add_history_page(
        self,
        tabs: QTabWidget,
        history: HistoryService,
        *,
        table: str | None = None,
        title: str = "Histor&y",
    ) -> HistoryView:
        """The record's History page, last of `tabs`; `table` is the one whose history it
        shows (by default `record_table`)."""
        view = self.new_history_view(history, table=table)
        self.add_history_tab(tabs, view, title)
        return view

    def new_history_view(self, history: HistoryService, *, table: str | None = None) -> HistoryView:
        """The record's history, for a page that shows more beside it (`add_history_tab`)."""
        view = HistoryView(
            history, self.runner, self.acting, table or self.record_table, self.record_id
        )
        self.history_view = view
        return view

    def add_history_tab(self, tabs: QTabWidget, page: QWidget, title: str = "Histor&y") -> None:
        """`page` (the history view, or a page holding it) as the last of `tabs`."""
        tabs.addTab(page, title)

        def opened(index: int) -> None:
            # Opened by its mnemonic, the page takes the keyboard (its focus proxy: the
            # table); walked to with the arrows of the tab bar, the tab bar keeps it.
            if tabs.widget(index) is page and not tabs.tabBar().hasFocus():
                page.setFocus(Qt.FocusReason.ShortcutFocusReason)

        tabs.currentChanged.connect(opened)

    def refresh_history(self) -> None:
        """The record changed (saved here or elsewhere): the History page reads it again,
        at once if it is on screen. A new record is known by its row once saved."""
        if self.history_view is None:
            return
        record_id = self._record_id or getattr(self.row, "id", None)
        self.history_view.show_record(record_id)

    def _save_succeeded(self, row: object) -> None:
        super()._save_succeeded(row)
        if alive(self):
            self.refresh_history()

    def resume(self, services: Services, acting: CurrentUser) -> None:
        super().resume(services, acting)
        if self.history_view is not None:
            self.history_view.use_service(services.history, acting)

    # -- loading -------------------------------------------------------------------------

    def load(self, fetch: Callable[[], object]) -> None:
        """Fetch the record (and whatever else the form needs) on a worker; `apply_loaded`
        gets the result on the GUI thread."""
        self.loading = True
        self.body.setEnabled(False)
        self._enable_save(False)
        self.show_info("Loading…")
        self.runner.run(fetch, self._loaded, self._load_failed)

    def _loaded(self, result: object) -> None:
        if not alive(self):
            return
        self.loading = False
        self.body.setEnabled(True)
        self._enable_save(True)
        self.clear_errors()
        self.apply_loaded(result)
        self.mark_clean()
        self.finish()

    def _load_failed(self, error: BaseException) -> None:
        if not alive(self):
            return
        self.loading = False
        self.show_banner(f"This record could not be loaded: {user_message(error)}")

    def show_info(self, message: str) -> None:
        self.banner.setText(message)
        self.banner.show()

    def apply_loaded(self, result: Any) -> None:
        """Put what `load` fetched into the form; by default it is the record's row."""
        self.apply_row(result)

    def apply_row(self, row: Any) -> None:
        """Start editing from `row`: its values into the fields, its version to save over."""
        self.row = row
        self.version = row.version
        self.fill(row)

    def fill(self, row: Any) -> None:
        """Put the row's values into the widgets (nothing else: it also renders the other
        version in the conflict dialog)."""
        raise NotImplementedError

    def display_values_of(self, row: Any) -> dict[str, str]:
        """How the form would show `row`: filled in with signals blocked, then put back."""
        state = self.form_state()
        widgets = [spec.widget for spec in self._fields.values()]
        blocked = [w.blockSignals(True) for w in widgets]
        try:
            self.fill(row)
            return self.display_values()
        finally:
            self.restore_state(state)
            for widget, was in zip(widgets, blocked, strict=True):
                widget.blockSignals(was)

    # -- someone else's changes ----------------------------------------------------------

    @Slot()
    def mark_changed_elsewhere(self, when: datetime | None = None) -> None:
        """Say that the open record was changed elsewhere (a change notification)."""
        if not self.editing:
            return
        moment = (when or datetime.now()).astimezone()
        self.changed_banner.setText(CHANGED_ELSEWHERE.format(time=f"{moment:%H:%M}"))
        self.changed_banner.show()
        self.refresh_history()

    def notice_change(self, table: str, ids: Iterable[uuid.UUID] | None) -> None:
        """A change notification: marks the dialog when it concerns this record (ids None:
        too many to list, so perhaps this one)."""
        if not self.editing or table != self.record_table:
            return
        if ids is None or self._record_id in set(ids):
            self.mark_changed_elsewhere()

    @property
    def keeps_over_sign_out(self) -> bool:
        # A record that never loaded holds nothing typed: nothing to wait for.
        return super().keeps_over_sign_out and (not self.editing or self.row is not None)

    @property
    def can_overwrite(self) -> bool:
        return perms.allows(self.acting.permissions, self.write_permission)

    def on_conflict(self, error: ConflictError) -> None:
        from erpgo_desktop.ui.conflict_dialog import ConflictDialog

        current = error.current
        labels = self.field_labels()
        mine = self.display_values()
        theirs = self.display_values_of(current)
        who = getattr(current, "updated_by_name", None) or getattr(current, "updated_by", None)
        dialog = ConflictDialog(
            [(labels[name], mine[name], theirs.get(name, "")) for name in labels],
            who=who if isinstance(who, str) else None,
            when=getattr(current, "updated_at", None),
            message=error.message,
            can_overwrite=self.can_overwrite,
            parent=self,
        )
        dialog.reload_requested.connect(lambda: self.reload_theirs(current))
        dialog.overwrite_requested.connect(lambda: self.overwrite(current))
        dialog.finished.connect(lambda _result: self._conflict_closed(dialog))
        self.conflict_dialog = dialog
        self.show_banner(error.message)
        dialog.open()

    def _conflict_closed(self, dialog: QDialog) -> None:
        if self.conflict_dialog is dialog:
            self.conflict_dialog = None
        dialog.deleteLater()

    def _save_failed(self, error: BaseException) -> None:
        saved = getattr(error, "saved_row", None)
        if saved is not None and alive(self):
            # Part of the save went through: the next one goes over that version.
            self.row, self.version = saved, saved.version
        super()._save_failed(error)
        if alive(self):
            # What went through before the refusal is history already.
            self.refresh_history()

    def reload_theirs(self, current: Any) -> None:
        """Drop what was typed; edit the current version instead."""
        self.clear_errors()
        self.changed_banner.hide()
        self.apply_row(current)
        self.mark_clean()

    def overwrite(self, current: Any) -> None:
        """Save what was typed over the current version."""
        if not self.can_overwrite:
            return
        self.clear_errors()
        self.changed_banner.hide()
        self.row = current
        self.version = current.version
        self.submit()
