"""The conflict dialog: both versions, the differences highlighted and first, and buttons
that say what happens (the dialogs' tests show each choice doing it on the database)."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from erpgo_desktop.ui.conflict_dialog import ConflictDialog

ROWS = [
    ("Name", "Hammer", "Hammer"),
    ("Price", "12.50", "13.00"),
    ("Active", "Yes", "Yes"),
    ("Barcode", "", "4006381333931"),
]


def open_dialog(qtbot: QtBot, *, can_overwrite: bool = True) -> ConflictDialog:
    dialog = ConflictDialog(
        ROWS,
        who="manager",
        when=datetime(2026, 3, 4, 15, 30, tzinfo=UTC),
        message="This record was changed by manager after you opened it.",
        can_overwrite=can_overwrite,
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_both_versions_with_the_differences_first_and_highlighted(qtbot: QtBot) -> None:
    dialog = open_dialog(qtbot)

    assert dialog.row_values() == [
        ("Price", "12.50", "13.00", True),
        ("Barcode", "", "4006381333931", True),
        ("Name", "Hammer", "Hammer", False),
        ("Active", "Yes", "Yes", False),
    ]
    assert dialog.differences == ["Price", "Barcode"]
    header = dialog.table.horizontalHeaderItem(2).text()
    local = datetime(2026, 3, 4, 15, 30, tzinfo=UTC).astimezone()
    assert header == f"Saved by manager at {local:%Y-%m-%d %H:%M}"
    assert dialog.table.horizontalHeaderItem(1).text() == "Your version"
    assert dialog.table.item(0, 1).font().bold() and not dialog.table.item(2, 1).font().bold()
    assert (
        dialog.table.item(0, 2).background().color() != dialog.table.item(2, 2).background().color()
    )


def test_each_button_says_what_to_do(qtbot: QtBot) -> None:
    dialog = open_dialog(qtbot)
    with qtbot.waitSignal(dialog.reload_requested):
        qtbot.mouseClick(dialog.reload_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()

    dialog = open_dialog(qtbot)
    with qtbot.waitSignal(dialog.overwrite_requested):
        qtbot.mouseClick(dialog.overwrite_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()

    dialog = open_dialog(qtbot)
    with (
        qtbot.assertNotEmitted(dialog.reload_requested),
        qtbot.assertNotEmitted(dialog.overwrite_requested),
    ):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # keep editing
    assert not dialog.isVisible()


def test_overwrite_needs_the_permission(qtbot: QtBot) -> None:
    dialog = open_dialog(qtbot, can_overwrite=False)
    assert not dialog.overwrite_button.isEnabled()
    with qtbot.assertNotEmitted(dialog.overwrite_requested):
        dialog.overwrite_button.click()
        dialog._overwrite()
    assert dialog.isVisible()


def test_buttons_have_mnemonics(qtbot: QtBot) -> None:
    dialog = open_dialog(qtbot)
    texts = [b.text() for b in (dialog.reload_button, dialog.overwrite_button, dialog.keep_button)]
    assert texts == ["&Reload theirs", "&Overwrite", "&Keep editing"]
