"""The sign-in dialog against real accounts: the password check runs off the GUI thread."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.services.auth import AuthService
from erpgo_desktop.ui.login import LoginDialog
from erpgo_desktop.ui.tasks import TaskRunner


@pytest.fixture
def auth(engine: Engine, runner: TaskRunner) -> AuthService:
    service = AuthService(make_session_factory(engine))
    service.create_first_admin(
        username="boss",
        email="boss@example.com",
        password="correct horse",
        first_name="Ada",
        last_name="Boss",
    )
    return service


def open_dialog(qtbot: QtBot, dialog: LoginDialog) -> LoginDialog:
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_a_wrong_password_shows_an_error_and_keeps_the_dialog_open(
    qtbot: QtBot, auth: AuthService, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, LoginDialog(auth, runner))
    qtbot.keyClicks(dialog.username, "boss")
    qtbot.keyClicks(dialog.password, "wrong horse")

    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)  # Enter signs in
    assert not dialog.sign_in_button.isEnabled()  # busy while the hash is checked
    qtbot.waitUntil(lambda: dialog.error.isVisible())

    assert dialog.error.text() == "Wrong username or password."
    assert dialog.isVisible() and dialog.user is None
    assert dialog.sign_in_button.isEnabled()
    assert dialog.password.text() == "wrong horse" and dialog.password.hasSelectedText()
    assert dialog.focusWidget() is dialog.password


def test_the_right_password_signs_in(qtbot: QtBot, auth: AuthService, runner: TaskRunner) -> None:
    dialog = open_dialog(qtbot, LoginDialog(auth, runner, username="boss"))
    assert dialog.focusWidget() is dialog.password  # the username is known already
    qtbot.keyClicks(dialog.password, "correct horse")

    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Enter)

    assert dialog.user is not None
    assert (dialog.user.username, dialog.user.full_name) == ("boss", "Ada Boss")
    assert dialog.user.can("products.read")


def test_an_empty_password_is_caught_without_asking_the_database(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    class NoAuth:
        def login(self, username: str, password: str) -> object:
            raise AssertionError("not expected")

    dialog = open_dialog(qtbot, LoginDialog(NoAuth(), runner, username="boss"))  # type: ignore[arg-type]
    dialog.sign_in_button.click()
    assert dialog.error.isVisible() and dialog.error.text() == "Enter your password."
    assert runner.pending_count == 0


def test_a_demo_database_shows_its_login(
    qtbot: QtBot, auth: AuthService, runner: TaskRunner
) -> None:
    dialog = open_dialog(
        qtbot,
        LoginDialog(
            auth, runner, demo_login=("demo", "demo1234"), location_description="test database"
        ),
    )
    assert dialog.demo_hint.isVisible()
    assert "<b>demo</b>" in dialog.demo_hint.text() and "<b>demo1234</b>" in dialog.demo_hint.text()
    assert dialog.username.text() == "demo"
