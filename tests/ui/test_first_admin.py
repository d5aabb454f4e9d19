"""The first-administrator dialog: messages next to the field at fault, nothing typed lost."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.services.auth import AuthService
from erpgo_desktop.ui.first_admin import FirstAdminDialog
from erpgo_desktop.ui.tasks import TaskRunner

GOOD = {
    "username": "boss",
    "email": "boss@example.com",
    "first_name": "Ada",
    "last_name": "Boss",
    "password": "correct horse",
    "password_confirm": "correct horse",
}


@pytest.fixture
def auth(engine: Engine, runner: TaskRunner) -> AuthService:
    return AuthService(make_session_factory(engine))


def open_dialog(qtbot: QtBot, auth: AuthService, runner: TaskRunner) -> FirstAdminDialog:
    dialog = FirstAdminDialog(auth, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def fill(qtbot: QtBot, dialog: FirstAdminDialog, values: dict[str, str]) -> None:
    for name, value in values.items():
        dialog.fields[name].clear()
        qtbot.keyClicks(dialog.fields[name], value)


def visible_errors(dialog: FirstAdminDialog) -> dict[str, str]:
    return {name: label.text() for name, label in dialog.field_errors.items() if label.isVisible()}


def test_different_passwords_are_caught_at_once(
    qtbot: QtBot, auth: AuthService, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, auth, runner)
    fill(qtbot, dialog, {**GOOD, "password_confirm": "correct hors"})

    dialog.create_button.click()

    assert visible_errors(dialog) == {"password_confirm": "The two passwords differ."}
    assert runner.pending_count == 0
    assert dialog.value("username") == "boss" and dialog.value("password") == "correct horse"


def test_the_service_names_the_field_and_everything_typed_stays(
    qtbot: QtBot, auth: AuthService, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, auth, runner)
    fill(qtbot, dialog, {**GOOD, "email": "not-an-address"})

    dialog.create_button.click()
    qtbot.waitUntil(lambda: bool(visible_errors(dialog)))

    assert list(visible_errors(dialog)) == ["email"]
    assert "valid email" in visible_errors(dialog)["email"]
    assert {name: dialog.value(name) for name in GOOD} == {**GOOD, "email": "not-an-address"}
    assert dialog.fields["email"].hasFocus() and dialog.create_button.isEnabled()
    assert not auth.has_any_user()

    # Fixing the field clears the message and creates the account.
    fill(qtbot, dialog, {"email": GOOD["email"]})
    with qtbot.waitSignal(dialog.accepted):
        dialog.create_button.click()
    assert dialog.user is not None and dialog.user.username == "boss"
    assert "admin" in dialog.user.roles
    assert auth.has_any_user()


def test_a_short_password_is_shown_under_the_password(
    qtbot: QtBot, auth: AuthService, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, auth, runner)
    fill(qtbot, dialog, {**GOOD, "password": "short", "password_confirm": "short"})
    dialog.create_button.click()
    qtbot.waitUntil(lambda: bool(visible_errors(dialog)))
    assert list(visible_errors(dialog)) == ["password"]


def test_a_second_first_admin_is_refused_with_a_general_message(
    qtbot: QtBot, auth: AuthService, runner: TaskRunner
) -> None:
    auth.create_first_admin(
        username="early", email="early@example.com", password="12345678", first_name="E"
    )
    dialog = open_dialog(qtbot, auth, runner)
    fill(qtbot, dialog, GOOD)
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.general_error.isVisible())
    assert "exists already" in dialog.general_error.text()
    assert dialog.user is None
