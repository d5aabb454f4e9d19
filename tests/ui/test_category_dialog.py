"""The category dialog: the parent picker leaves out the category and its subtree, bad
input refused at its field, good input saved, stale edits through the conflict dialog."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.services.catalog_admin import CategoryDraft, CategoryRow
from erpgo_desktop.ui.category_dialog import CategoryDialog
from erpgo_desktop.ui.tasks import TaskRunner
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


@pytest.fixture
def tree(staff: Staff) -> dict[str, CategoryRow]:
    """Tools > Hand tools > Hammers, and Garden."""
    make = staff.services.categories.create_category
    tools = make(staff.manager, CategoryDraft("Tools"))
    hand = make(staff.manager, CategoryDraft("Hand tools", parent_id=tools.id))
    hammers = make(staff.manager, CategoryDraft("Hammers", parent_id=hand.id))
    garden = make(staff.manager, CategoryDraft("Garden"))
    return {"tools": tools, "hand": hand, "hammers": hammers, "garden": garden}


def new_dialog(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, record_id: uuid.UUID | None = None
) -> CategoryDialog:
    dialog = CategoryDialog(
        staff.services.categories, runner, staff.manager, record_id, history=staff.services.history
    )
    show(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.loading)
    return dialog


def choices(dialog: CategoryDialog) -> list[str]:
    picker = dialog.parent_picker
    return [picker.itemText(i) for i in range(picker.count())]


def test_a_new_category_goes_under_the_parent_picked(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, tree: dict[str, CategoryRow]
) -> None:
    dialog = new_dialog(qtbot, staff, runner)
    assert choices(dialog) == [
        "(top level)",
        "Garden",
        "Tools",
        "    Hand tools",
        "        Hammers",
    ]
    type_into(qtbot, dialog.name, "Mallets")
    dialog.parent_picker.setCurrentIndex(choices(dialog).index("    Hand tools"))
    dialog.sort_order.setValue(3)

    row = save_and_wait(qtbot, dialog)

    assert isinstance(row, CategoryRow)
    stored = staff.services.categories.get_category(staff.manager, row.id)
    assert (stored.path, stored.level, stored.sort_order) == ("/Tools/Hand tools/Mallets", 3, 3)


def test_a_category_cannot_be_put_below_itself(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, tree: dict[str, CategoryRow]
) -> None:
    dialog = new_dialog(qtbot, staff, runner, tree["hand"].id)
    assert choices(dialog) == ["(top level)", "Garden", "Tools"]
    assert dialog.parent_picker.currentText() == "Tools"

    dialog.parent_picker.setCurrentIndex(choices(dialog).index("Garden"))
    row = save_and_wait(qtbot, dialog)

    assert isinstance(row, CategoryRow)
    hammers = staff.services.categories.get_category(staff.manager, tree["hammers"].id)
    assert hammers.path == "/Garden/Hand tools/Hammers"


@pytest.mark.parametrize(
    ("name", "field", "message"),
    [
        ("", "name", "1 to 200 characters"),
        ("Saws/Blades", "name", "cannot contain '/'"),
        ("hand TOOLS", "name", "There is a category 'Hand tools'"),  # the service's check
    ],
)
def test_bad_names_are_refused_at_the_name(
    qtbot: QtBot,
    staff: Staff,
    runner: TaskRunner,
    tree: dict[str, CategoryRow],
    name: str,
    field: str,
    message: str,
) -> None:
    dialog = new_dialog(qtbot, staff, runner)
    type_into(qtbot, dialog.name, name)
    dialog.parent_picker.setCurrentIndex(choices(dialog).index("Tools"))

    save(qtbot, dialog)

    errors = dialog.visible_errors()
    assert list(errors) == [field] and message in errors[field]
    assert focused(dialog) is dialog.name and dialog.isVisible()


def test_a_stale_edit_reloads_or_overwrites(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, tree: dict[str, CategoryRow]
) -> None:
    garden = tree["garden"]
    dialog = new_dialog(qtbot, staff, runner, garden.id)
    theirs = staff.services.categories.update_category(
        staff.admin,
        garden.id,
        CategoryDraft("Garden", description="Outdoor"),
        expected_version=garden.version,
    )
    type_into(qtbot, dialog.name, "Garden & patio")

    save(qtbot, dialog)
    conflict = wait_conflict(qtbot, dialog)
    rows = {label: (mine, other, d) for label, mine, other, d in conflict.row_values()}
    assert rows["Name"] == ("Garden & patio", "Garden", True)
    assert rows["Description"] == ("", "Outdoor", True)
    qtbot.mouseClick(conflict.reload_button, Qt.MouseButton.LeftButton)
    assert (dialog.name.text(), dialog.description.toPlainText()) == ("Garden", "Outdoor")
    assert dialog.version == theirs.version

    staff.services.categories.update_category(
        staff.admin, garden.id, CategoryDraft("Yard"), expected_version=theirs.version
    )
    type_into(qtbot, dialog.name, "Garden & patio")
    save(qtbot, dialog)
    conflict = wait_conflict(qtbot, dialog)
    with qtbot.waitSignal(dialog.saved):
        qtbot.mouseClick(conflict.overwrite_button, Qt.MouseButton.LeftButton)
    stored = staff.services.categories.get_category(staff.manager, garden.id)
    assert (stored.name, stored.description) == ("Garden & patio", "Outdoor")
