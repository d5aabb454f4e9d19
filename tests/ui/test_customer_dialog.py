"""The customer dialog: each kind of bad input refused at its field, good input saved,
stale edits resolved through the conflict dialog, failed saves retried."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.services.customers import CustomerDraft, CustomerRow
from erpgo_desktop.ui.customer_dialog import CustomerDialog
from erpgo_desktop.ui.tasks import TaskRunner
from tests.ui.dialog_support import (
    Staff,
    answer_discard,
    focused,
    make_staff,
    save,
    save_and_wait,
    show,
    type_into,
    unreachable_services,
    wait_conflict,
)


@pytest.fixture
def staff(engine: Engine, runner: TaskRunner) -> Staff:
    return make_staff(engine)


def new_dialog(qtbot: QtBot, staff: Staff, runner: TaskRunner, record_id=None) -> CustomerDialog:
    dialog = CustomerDialog(
        staff.services.customers, runner, staff.sales, record_id, history=staff.services.history
    )
    show(qtbot, dialog)
    return dialog


def fill_good(qtbot: QtBot, dialog: CustomerDialog) -> None:
    type_into(qtbot, dialog.first_name, "Ada")
    type_into(qtbot, dialog.last_name, "Lovelace")
    type_into(qtbot, dialog.email, "ada@example.com")
    type_into(qtbot, dialog.phone, "+44 20 7946 0000")
    type_into(qtbot, dialog.credit_limit, "1500.50")


def existing(staff: Staff, email: str = "grace@example.com") -> CustomerRow:
    return staff.services.customers.create_customer(
        staff.sales, CustomerDraft(first_name="Grace", last_name="Hopper", email=email)
    )


def test_good_input_is_saved_with_a_code_from_the_database(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    dialog = new_dialog(qtbot, staff, runner)
    fill_good(qtbot, dialog)
    dialog.type.setCurrentIndex(dialog.type.findData("BUSINESS"))
    type_into(qtbot, dialog.company, "Analytical Engines Ltd")
    dialog.tax_exempt.setChecked(True)

    row = save_and_wait(qtbot, dialog)

    assert isinstance(row, CustomerRow)
    stored = staff.services.customers.get_customer(staff.sales, row.id)
    assert stored.customer_code is not None and stored.customer_code.startswith("CUST-")
    assert (stored.email, stored.type, stored.company) == (
        "ada@example.com",
        "BUSINESS",
        "Analytical Engines Ltd",
    )
    assert stored.credit_limit == Decimal("1500.50") and stored.tax_exempt
    assert stored.phone == "+44 20 7946 0000"


#: A good value for the fields whose bad value stays bad with one more letter.
FIXED = {"email": "ada@example.com", "phone": "+44 20 7946 0000"}


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("first_name", "", "Enter a name"),
        ("email", "ada-at-example", "valid email"),
        ("phone", "12ab", "phone number"),
        ("company", "", "business customer needs a company"),
    ],
)
def test_bad_input_is_refused_at_its_field(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, field: str, text: str, message: str
) -> None:
    dialog = new_dialog(qtbot, staff, runner)
    fill_good(qtbot, dialog)
    if field == "company":
        dialog.type.setCurrentIndex(dialog.type.findData("BUSINESS"))
    type_into(qtbot, dialog.field(field), text)

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    errors = dialog.visible_errors()
    assert list(errors) == [field] and message in errors[field]
    assert dialog.field_error(field).isVisible()
    assert focused(dialog) is dialog.field(field)
    assert runner.pending_count == 0  # refused before any round trip
    assert dialog.isVisible()
    # The message goes as soon as the value is fixed, and not before.
    qtbot.keyClicks(dialog.field(field), "x")
    if field in FIXED:
        assert list(dialog.visible_errors()) == [field]  # still wrong: still said
        type_into(qtbot, dialog.field(field), FIXED[field])
    assert dialog.visible_errors() == {}


def test_the_credit_limit_takes_only_an_amount(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    dialog = new_dialog(qtbot, staff, runner)
    qtbot.keyClicks(dialog.credit_limit, "-12a.345")
    # More decimals than cents are let through, to be refused with a message, not cut off.
    assert dialog.credit_limit.text() == "12.345"
    fill_good(qtbot, dialog)
    type_into(qtbot, dialog.credit_limit, "12.345")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.visible_errors() == {
        "credit_limit": "The credit limit takes at most 2 decimals: type 12.35 (12.345 "
        "rounded) or the figure you mean."
    }


def test_a_taken_email_is_shown_at_the_email_field(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    existing(staff, "ada@example.com")
    dialog = new_dialog(qtbot, staff, runner)
    fill_good(qtbot, dialog)

    save(qtbot, dialog)

    assert "already has the email" in dialog.visible_errors()["email"]
    assert focused(dialog) is dialog.email and dialog.isVisible()


def test_a_failed_save_keeps_what_was_typed_and_can_be_retried(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    dialog = new_dialog(qtbot, staff, runner)
    fill_good(qtbot, dialog)
    working = dialog._customers
    dialog._customers = unreachable_services().customers

    save(qtbot, dialog)

    assert dialog.isVisible() and "Saving failed" in dialog.visible_errors()[""]
    assert dialog.save_button.isEnabled() and dialog.body.isEnabled()
    assert (dialog.first_name.text(), dialog.email.text(), dialog.credit_limit.text()) == (
        "Ada",
        "ada@example.com",
        "1500.50",
    )
    dialog._customers = working
    row = save_and_wait(qtbot, dialog)
    assert isinstance(row, CustomerRow) and row.email == "ada@example.com"


def test_editing_saves_over_the_loaded_version(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    grace = existing(staff)
    dialog = new_dialog(qtbot, staff, runner, grace.id)
    assert dialog.first_name.text() == "Grace" and dialog.code.text() == grace.customer_code
    assert not dialog.dirty

    type_into(qtbot, dialog.last_name, "Brewster Hopper")
    row = save_and_wait(qtbot, dialog)

    assert isinstance(row, CustomerRow) and row.version == grace.version + 1
    stored = staff.services.customers.get_customer(staff.sales, grace.id)
    assert stored.last_name == "Brewster Hopper"


def stale_dialog(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> tuple[CustomerDialog, CustomerRow]:
    """A dialog open on a customer that the manager changed since, with a change typed."""
    grace = existing(staff)
    dialog = new_dialog(qtbot, staff, runner, grace.id)
    theirs = staff.services.customers.update_customer(
        staff.manager,
        grace.id,
        CustomerDraft(first_name="Grace", last_name="Hopper", email="admiral@example.com"),
        expected_version=grace.version,
    )
    type_into(qtbot, dialog.phone, "555 0100 200")
    return dialog, theirs


def test_a_stale_save_shows_both_versions_and_reload_takes_theirs(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    dialog, theirs = stale_dialog(qtbot, staff, runner)

    save(qtbot, dialog)
    conflict = wait_conflict(qtbot, dialog)

    rows = {label: (mine, other, differs) for label, mine, other, differs in conflict.row_values()}
    assert rows["Email"] == ("grace@example.com", "admiral@example.com", True)
    assert rows["Phone"] == ("555 0100 200", "", True)
    assert rows["First name"] == ("Grace", "Grace", False)
    assert "Saved by manager at" in conflict.table.horizontalHeaderItem(2).text()
    assert conflict.overwrite_button.isEnabled()
    # The form still holds what was typed (rendering theirs did not disturb it).
    assert dialog.phone.text() == "555 0100 200"

    qtbot.mouseClick(conflict.reload_button, Qt.MouseButton.LeftButton)

    assert dialog.email.text() == "admiral@example.com" and dialog.phone.text() == ""
    assert dialog.version == theirs.version and not dialog.dirty
    type_into(qtbot, dialog.phone, "555 0100 300")
    row = save_and_wait(qtbot, dialog)
    assert isinstance(row, CustomerRow)
    assert (row.email, row.phone) == ("admiral@example.com", "555 0100 300")


def test_overwrite_saves_mine_over_theirs(qtbot: QtBot, staff: Staff, runner: TaskRunner) -> None:
    dialog, theirs = stale_dialog(qtbot, staff, runner)
    save(qtbot, dialog)
    conflict = wait_conflict(qtbot, dialog)

    with qtbot.waitSignal(dialog.saved) as blocker:
        qtbot.mouseClick(conflict.overwrite_button, Qt.MouseButton.LeftButton)

    row = blocker.args[0]
    assert row.version == theirs.version + 1
    stored = staff.services.customers.get_customer(staff.sales, theirs.id)
    assert (stored.email, stored.phone) == ("grace@example.com", "555 0100 200")


def test_keep_editing_leaves_the_form_as_typed(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    dialog, theirs = stale_dialog(qtbot, staff, runner)
    save(qtbot, dialog)
    conflict = wait_conflict(qtbot, dialog)

    qtbot.mouseClick(conflict.keep_button, Qt.MouseButton.LeftButton)

    assert dialog.conflict_dialog is None and dialog.isVisible()
    assert dialog.phone.text() == "555 0100 200" and dialog.version == theirs.version - 1


def test_escape_asks_only_when_something_was_typed(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    dialog = new_dialog(qtbot, staff, runner)
    qtbot.keyClick(dialog.first_name, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and dialog.discard_prompt is None

    dialog = new_dialog(qtbot, staff, runner)
    qtbot.keyClicks(dialog.first_name, "Ada")
    qtbot.keyClick(dialog.first_name, Qt.Key.Key_Escape)
    answer_discard(qtbot, dialog, QMessageBox.StandardButton.Cancel)
    assert dialog.isVisible() and dialog.first_name.text() == "Ada"

    qtbot.keyClick(dialog.first_name, Qt.Key.Key_Escape)
    answer_discard(qtbot, dialog, QMessageBox.StandardButton.Discard)
    assert not dialog.isVisible()


def test_ctrl_s_saves(qtbot: QtBot, staff: Staff, runner: TaskRunner) -> None:
    dialog = new_dialog(qtbot, staff, runner)
    fill_good(qtbot, dialog)
    with qtbot.waitSignal(dialog.saved):
        qtbot.keyClick(dialog.phone, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)


def _tab_through(qtbot: QtBot, dialog: CustomerDialog, names: list[str]) -> None:
    dialog.field(names[0]).setFocus()
    seen = [focused(dialog)]
    for _ in range(len(names) - 1):
        qtbot.keyClick(focused(dialog), Qt.Key.Key_Tab)
        seen.append(focused(dialog))
    assert seen == [dialog.field(name) for name in names]
    assert all(dialog.field(name).isVisible() for name in names)


def test_tab_visits_every_field_in_order(qtbot: QtBot, staff: Staff, runner: TaskRunner) -> None:
    dialog = new_dialog(qtbot, staff, runner)
    addresses = [n for n in dialog.field_names if "_address." in n or n == "same_shipping"]
    customer = [n for n in dialog.field_names if n not in addresses]
    _tab_through(qtbot, dialog, customer)

    # The Addresses page: billing, then "same as billing", then (once unticked) shipping.
    qtbot.keyClick(focused(dialog), Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    dialog.same_shipping.setChecked(False)
    assert addresses[0] == "billing_address.first_name"
    _tab_through(qtbot, dialog, addresses)


def test_the_dialog_says_at_once_when_the_record_changed_elsewhere(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    grace = existing(staff)
    dialog = new_dialog(qtbot, staff, runner, grace.id)
    dialog.notice_change("orders", [grace.id])
    dialog.notice_change("customers", [existing(staff, "x@example.com").id])
    assert not dialog.changed_banner.isVisible()

    dialog.notice_change("customers", [grace.id])

    assert dialog.changed_banner.isVisible()
    assert "Someone else changed this record at" in dialog.changed_banner.text()
