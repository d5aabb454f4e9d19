"""Helpers of the record dialog tests: users of every default role over the test's
database, the services, and ways to type into and wait on a dialog."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox, QPlainTextEdit, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine, make_url

from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser
from erpgo_desktop.ui.conflict_dialog import ConflictDialog
from erpgo_desktop.ui.forms import FormDialog, RecordDialog

#: Nothing listens here: a save through it fails the way a lost connection does.
UNREACHABLE_URL = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"


@dataclass(frozen=True)
class Staff:
    services: Services
    admin: CurrentUser
    manager: CurrentUser
    sales: CurrentUser
    clerk: CurrentUser


def make_staff(engine: Engine) -> Staff:
    auth = AuthService(make_session_factory(engine))
    users = {
        role: auth.create_user(
            NewUser(role.replace("_", "-"), f"{role}@example.com", "password1", role, role),
            acting=None,
        )
        for role in ("admin", "manager", "sales", "warehouse_clerk")
    }
    return Staff(
        build_services(engine),
        users["admin"],
        users["manager"],
        users["sales"],
        users["warehouse_clerk"],
    )


def unreachable_services() -> Services:
    return build_services(make_engine(make_url(UNREACHABLE_URL)))


def show(qtbot: QtBot, dialog: FormDialog) -> None:
    qtbot.addWidget(dialog)
    # Active, not just shown: shortcuts (Ctrl+S) and the focus work only in the active window.
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    if isinstance(dialog, RecordDialog) and dialog.editing:
        qtbot.waitUntil(lambda: not dialog.loading)


def type_into(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Replace the text of a line or text edit by typing, as a person would."""
    if isinstance(widget, QLineEdit):
        widget.selectAll()
        widget.del_()
    elif isinstance(widget, QPlainTextEdit):
        widget.clear()
    qtbot.keyClicks(widget, text)


def save(qtbot: QtBot, dialog: FormDialog) -> None:
    """Press Save and wait for the outcome (the dialog closes or shows an error)."""
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.saving)


def save_and_wait(qtbot: QtBot, dialog: FormDialog) -> object:
    """Press Save and return the row the dialog reports as saved."""
    with qtbot.waitSignal(dialog.saved, timeout=10_000) as blocker:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    return blocker.args[0]


def wait_conflict(qtbot: QtBot, dialog: RecordDialog) -> ConflictDialog:
    qtbot.waitUntil(lambda: dialog.conflict_dialog is not None)
    conflict = dialog.conflict_dialog
    assert isinstance(conflict, ConflictDialog)
    return conflict


def answer_discard(qtbot: QtBot, dialog: FormDialog, button: QMessageBox.StandardButton) -> None:
    prompt = dialog.discard_prompt
    assert prompt is not None and prompt.isVisible()
    assert prompt.text() == "Discard your changes?"
    qtbot.mouseClick(prompt.button(button), Qt.MouseButton.LeftButton)


def focused(dialog: QWidget) -> QWidget | None:
    """The widget with the keyboard focus in the dialog's window."""
    return dialog.window().focusWidget()
