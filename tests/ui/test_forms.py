"""The shared form machinery (ui/forms.py), through a small dialog over the customers
service of a real database: where errors go, what a save in flight and a failed save do,
dirty tracking, the window's close button, and the changed-elsewhere notice."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import ErpError, ValidationError
from erpgo_desktop.services.customers import CustomerDraft, CustomerRow
from erpgo_desktop.ui.forms import RecordDialog, format_decimal, money_edit, read_decimal
from erpgo_desktop.ui.tasks import TaskRunner
from tests.ui.dialog_support import (
    Staff,
    answer_discard,
    focused,
    make_staff,
    save,
    show,
    type_into,
)


@pytest.fixture
def staff(engine: Engine, runner: TaskRunner) -> Staff:
    return make_staff(engine)


class NoteDialog(RecordDialog):
    """A customer's email and tax exemption; `work` can be swapped for the test's own."""

    record_table = "customers"
    write_permission = perms.CUSTOMERS_WRITE

    def __init__(self, staff: Staff, runner: TaskRunner, record_id=None, parent=None) -> None:
        super().__init__(runner, staff.sales, record_id, parent)
        self.staff = staff
        self.work: Callable[[], object] | None = None
        form = self.add_form()
        self.email = self.add_row(form, "email", "&Email:", QLineEdit())
        self.amount = self.add_row(form, "credit_limit", "&Amount:", money_edit())
        self.exempt = self.add_row(form, "tax_exempt", None, QCheckBox("&Tax exempt"))
        self.finish()
        if record_id is None:
            self.mark_clean()
        else:
            customers = staff.services.customers
            self.load(lambda: customers.get_customer(staff.sales, record_id))

    def fill(self, row: CustomerRow) -> None:
        self.email.setText(row.email)
        self.amount.setText(format_decimal(row.credit_limit, 2))
        self.exempt.setChecked(row.tax_exempt)

    def prepare_save(self) -> Callable[[], object]:
        if self.work is not None:
            return self.work
        amount = read_decimal(self.amount, "credit_limit", "The amount")
        draft = CustomerDraft("Ada", "Lovelace", self.email.text(), credit_limit=amount)
        customers, acting = self.staff.services.customers, self.acting
        return lambda: customers.create_customer(acting, draft)


def open_dialog(qtbot: QtBot, staff: Staff, runner: TaskRunner, record_id=None) -> NoteDialog:
    dialog = NoteDialog(staff, runner, record_id)
    show(qtbot, dialog)
    return dialog


def fail_with(error: BaseException) -> Callable[[], object]:
    def work() -> object:
        raise error

    return work


def test_an_error_naming_a_field_goes_there_others_to_the_banner(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, staff, runner)
    type_into(qtbot, dialog.amount, "5")
    dialog.work = fail_with(ValidationError("Not like that.", field="tax_exempt"))
    save(qtbot, dialog)
    assert dialog.visible_errors() == {"tax_exempt": "Not like that."}
    assert focused(dialog) is dialog.exempt

    dialog.work = fail_with(ErpError("The moon is in the way.", field="no_such_field"))
    save(qtbot, dialog)
    assert dialog.visible_errors() == {"": "Saving failed: The moon is in the way."}
    assert dialog.banner.isVisible()


def test_a_refused_save_keeps_the_typing_and_editing_clears_the_message(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, staff, runner)
    type_into(qtbot, dialog.email, "ada@")
    type_into(qtbot, dialog.amount, "12.5")

    save(qtbot, dialog)  # the service refuses the email

    assert "valid email" in dialog.visible_errors()["email"]
    assert (dialog.email.text(), dialog.amount.text()) == ("ada@", "12.5")
    assert dialog.email.selectedText() == "ada@"  # selected, to be typed over or fixed
    qtbot.keyClick(dialog.email, Qt.Key.Key_End)
    qtbot.keyClicks(dialog.email, "example.com")
    assert dialog.visible_errors() == {}
    save(qtbot, dialog)
    assert dialog.visible_errors() == {}
    assert not dialog.isVisible()


def test_save_is_disabled_while_it_runs_and_works_again_after_a_failure(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, staff, runner)
    type_into(qtbot, dialog.amount, "1")
    release = threading.Event()

    def slow_failure() -> object:
        release.wait(5)
        raise OSError("connection reset by peer")

    dialog.work = slow_failure
    dialog.save_button.click()
    assert dialog.saving and not dialog.save_button.isEnabled() and not dialog.body.isEnabled()
    dialog.submit()  # Ctrl+S again meanwhile: nothing more starts
    assert runner.pending_count == 1
    release.set()
    qtbot.waitUntil(lambda: not dialog.saving)

    assert dialog.save_button.isEnabled() and dialog.amount.text() == "1"
    assert "Saving failed" in dialog.banner.text() and "press Save to try again" in (
        dialog.banner.text()
    )
    dialog.work = None
    type_into(qtbot, dialog.email, "ada@example.com")
    with qtbot.waitSignal(dialog.saved):
        dialog.save_button.click()


def test_the_close_button_asks_only_when_something_changed(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, staff, runner)
    type_into(qtbot, dialog.email, "x")
    type_into(qtbot, dialog.email, "")  # typed and taken back: nothing changed
    assert not dialog.dirty
    dialog.close()
    assert not dialog.isVisible()

    dialog = open_dialog(qtbot, staff, runner)
    dialog.exempt.setChecked(True)
    assert dialog.dirty
    dialog.close()
    assert dialog.isVisible()
    answer_discard(qtbot, dialog, QMessageBox.StandardButton.Discard)
    assert not dialog.isVisible()


def test_changed_elsewhere_shows_at_once_and_only_when_editing(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    new = open_dialog(qtbot, staff, runner)
    new.mark_changed_elsewhere()
    assert not new.changed_banner.isVisible()

    ada = staff.services.customers.create_customer(
        staff.sales, CustomerDraft("Ada", "Lovelace", "ada@example.com")
    )
    dialog = open_dialog(qtbot, staff, runner, ada.id)
    assert dialog.email.text() == "ada@example.com" and not dialog.dirty
    assert (dialog.record_table, dialog.record_id) == ("customers", ada.id)
    dialog.notice_change("customers", None)  # too many to list: perhaps this one
    assert dialog.changed_banner.isVisible()
    assert dialog.changed_banner.text().startswith("Someone else changed this record at ")
    assert dialog.changed_banner.text().endswith("; saving will show both versions.")


def test_labels_have_mnemonics_and_buddies(qtbot: QtBot, staff: Staff, runner: TaskRunner) -> None:
    from PySide6.QtWidgets import QLabel

    dialog = open_dialog(qtbot, staff, runner)
    buddies: dict[QWidget, str] = {
        label.buddy(): label.text() for label in dialog.findChildren(QLabel) if label.buddy()
    }
    assert buddies[dialog.email] == "&Email:" and buddies[dialog.amount] == "&Amount:"
    assert dialog.save_button.text() == "&Save"
    assert dialog.field_error("email").objectName() == "email_error"
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_ctrl_w_closes_like_escape(qtbot: QtBot, staff: Staff, runner: TaskRunner) -> None:
    dialog = open_dialog(qtbot, staff, runner)
    qtbot.keyClick(dialog.amount, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert not dialog.isVisible()


class ExemptNoteDialog(NoteDialog):
    """A rule over two fields: a tax-exempt customer gets no credit (said at the amount)."""

    def prepare_save(self) -> Callable[[], object]:
        if self.exempt.isChecked() and self.amount.text() not in ("", "0"):
            raise ValidationError("No credit for a tax-exempt customer.", field="credit_limit")
        return super().prepare_save()


def test_an_error_goes_as_soon_as_its_value_is_fixed_also_from_another_field(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    dialog = ExemptNoteDialog(staff, runner)
    show(qtbot, dialog)
    type_into(qtbot, dialog.email, "ada@example.com")
    type_into(qtbot, dialog.amount, "5")
    dialog.exempt.setChecked(True)
    save(qtbot, dialog)
    assert dialog.visible_errors() == {"credit_limit": "No credit for a tax-exempt customer."}

    dialog.email.setText("grace@example.com")  # not what the rule is about: it stays
    assert dialog.visible_errors() == {"credit_limit": "No credit for a tax-exempt customer."}
    dialog.exempt.setChecked(False)  # fixed under another field: gone at once
    assert dialog.visible_errors() == {}
    assert not dialog.field_error("credit_limit").isVisibleTo(dialog)


def test_more_decimals_than_the_field_keeps_are_refused_not_cut(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, staff, runner)
    type_into(qtbot, dialog.email, "ada@example.com")
    dialog.amount.setFocus()
    qtbot.keyClicks(dialog.amount, "12.34567")
    assert dialog.amount.text() == "12.34567"  # typed as typed, not cut to 12.34

    save(qtbot, dialog)
    assert dialog.visible_errors() == {
        "credit_limit": "The amount takes at most 2 decimals: type 12.35 (12.34567 rounded) "
        "or the figure you mean."
    }
    qtbot.keyClick(dialog.amount, Qt.Key.Key_End)
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Backspace)  # still wrong: says how, now
    assert dialog.visible_errors() == {
        "credit_limit": "The amount takes at most 2 decimals: type 12.35 (12.3456 rounded) "
        "or the figure you mean."
    }
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Backspace)
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Backspace)  # 12.34: fixed
    assert dialog.visible_errors() == {}
    with qtbot.waitSignal(dialog.saved):
        dialog.save_button.click()


def test_a_failed_save_gives_the_button_its_own_words_back(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, staff, runner)
    dialog.save_button.setText("&Book it")
    type_into(qtbot, dialog.amount, "1")
    dialog.work = fail_with(OSError("connection reset by peer"))
    save(qtbot, dialog)
    assert dialog.save_button.text() == "&Book it"
    assert dialog.banner.text().endswith("press Book it to try again.")
