"""The warehouse dialog: bad input refused at its field, good input saved, the manager
picked by administrators only, stale edits through the conflict dialog."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.services.warehouses import WarehouseDraft, WarehouseRow
from erpgo_desktop.ui.tasks import TaskRunner
from erpgo_desktop.ui.warehouse_dialog import WarehouseDialog
from tests.ui.dialog_support import (
    Staff,
    focused,
    make_staff,
    save,
    save_and_wait,
    show,
    type_into,
    wait_conflict,
)


@pytest.fixture
def staff(engine: Engine, runner: TaskRunner) -> Staff:
    return make_staff(engine)


def new_dialog(qtbot: QtBot, staff: Staff, runner: TaskRunner, record_id=None, acting=None):
    dialog = WarehouseDialog(staff.services, runner, acting or staff.admin, record_id)
    show(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.loading)
    return dialog


def test_good_input_is_saved_with_a_manager(qtbot: QtBot, staff: Staff, runner: TaskRunner) -> None:
    dialog = new_dialog(qtbot, staff, runner)
    qtbot.keyClicks(dialog.code, "wh-02")
    assert dialog.code.text() == "WH-02"  # upper case as typed
    type_into(qtbot, dialog.name, "East depot")
    type_into(qtbot, dialog.city, "Leeds")
    type_into(qtbot, dialog.email, "east@example.com")
    dialog.manager.setCurrentIndex(dialog.manager.findText("manager (manager)"))

    row = save_and_wait(qtbot, dialog)

    assert isinstance(row, WarehouseRow)
    stored = staff.services.warehouses.get(staff.admin, row.id)
    assert (stored.code, stored.name, stored.city, stored.email) == (
        "WH-02",
        "East depot",
        "Leeds",
        "east@example.com",
    )
    assert stored.manager_id == staff.manager.id and stored.is_active


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("code", "", "warehouse code has 1 to 20"),
        ("name", " ", "warehouse name has 1 to 200"),
        ("phone", "12", "phone number"),
        ("email", "east@", "valid email"),
    ],
)
def test_bad_input_is_refused_at_its_field(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, field: str, text: str, message: str
) -> None:
    dialog = new_dialog(qtbot, staff, runner)
    type_into(qtbot, dialog.code, "MAIN")
    type_into(qtbot, dialog.name, "Main")
    type_into(qtbot, dialog.field(field), text)

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    errors = dialog.visible_errors()
    assert list(errors) == [field] and message in errors[field]
    assert focused(dialog) is dialog.field(field) and runner.pending_count == 0


def test_a_taken_code_is_shown_at_the_code(qtbot: QtBot, staff: Staff, runner: TaskRunner) -> None:
    staff.services.warehouses.create(staff.admin, WarehouseDraft(code="MAIN", name="Main"))
    dialog = new_dialog(qtbot, staff, runner)
    type_into(qtbot, dialog.code, "MAIN")
    type_into(qtbot, dialog.name, "Another")
    save(qtbot, dialog)
    assert "already has the code MAIN" in dialog.visible_errors()["code"]


def test_only_administrators_pick_the_manager(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    main = staff.services.warehouses.create(
        staff.admin, WarehouseDraft(code="MAIN", name="Main", manager_id=staff.clerk.id)
    )
    dialog = new_dialog(qtbot, staff, runner, main.id, acting=staff.manager)
    assert not dialog.manager.isEnabled()
    assert dialog.manager.currentText() == main.manager_name
    type_into(qtbot, dialog.name, "Main depot")
    dialog.is_active.setChecked(False)

    row = save_and_wait(qtbot, dialog)

    assert isinstance(row, WarehouseRow)
    assert (row.name, row.manager_id, row.is_active) == ("Main depot", staff.clerk.id, False)


def test_a_stale_edit_reloads_or_overwrites(qtbot: QtBot, staff: Staff, runner: TaskRunner) -> None:
    main = staff.services.warehouses.create(staff.admin, WarehouseDraft(code="MAIN", name="Main"))
    dialog = new_dialog(qtbot, staff, runner, main.id, acting=staff.manager)
    theirs = staff.services.warehouses.update(
        staff.admin, main.id, WarehouseDraft(code="MAIN", name="Main", city="York"), main.version
    )
    type_into(qtbot, dialog.city, "Hull")

    save(qtbot, dialog)
    conflict = wait_conflict(qtbot, dialog)
    rows = {label: (mine, other, d) for label, mine, other, d in conflict.row_values()}
    assert rows["City"] == ("Hull", "York", True) and rows["Code"][2] is False
    qtbot.mouseClick(conflict.reload_button, Qt.MouseButton.LeftButton)
    assert dialog.city.text() == "York" and dialog.version == theirs.version

    staff.services.warehouses.update(
        staff.admin, main.id, WarehouseDraft(code="MAIN", name="Main", city="Ripon"), theirs.version
    )
    type_into(qtbot, dialog.city, "Hull")
    save(qtbot, dialog)
    conflict = wait_conflict(qtbot, dialog)
    with qtbot.waitSignal(dialog.saved):
        qtbot.mouseClick(conflict.overwrite_button, Qt.MouseButton.LeftButton)
    assert staff.services.warehouses.get(staff.admin, main.id).city == "Hull"


def test_enter_in_a_field_of_a_loaded_record_saves(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    # Save is disabled while the record loads; the dialog must not keep Cancel as its
    # default once Save is back.
    main = staff.services.warehouses.create(staff.admin, WarehouseDraft(code="MAIN", name="Main"))
    dialog = new_dialog(qtbot, staff, runner, main.id)
    assert dialog.save_button.isDefault()
    type_into(qtbot, dialog.city, "Hull")
    with qtbot.waitSignal(dialog.saved):
        qtbot.keyClick(dialog.city, Qt.Key.Key_Return)
    assert staff.services.warehouses.get(staff.admin, main.id).city == "Hull"
