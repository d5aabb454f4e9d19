"""The connection settings dialog, by keyboard, against the real test server: where the
server is, and nothing about who connects."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import URL

from erpgo_desktop import config
from erpgo_desktop.config import (
    CONFIG_DIR_ENV,
    DATA_DIR_ENV,
    DATABASE_URL_ENV,
    AppPaths,
    DatabaseLocation,
    ServerSettings,
    UrlSource,
)
from erpgo_desktop.ui.connection_settings import (
    TAKES_EFFECT,
    ConnectionSettingsDialog,
    open_connection_settings,
)
from erpgo_desktop.ui.login import LoginDialog
from erpgo_desktop.ui.tasks import TaskRunner

PASSWORD = "s3cret-Pw"
COMPANY = '# ours\n[company]\nname = "Northwind"  # on documents\n'


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    return AppPaths.for_user({CONFIG_DIR_ENV: str(tmp_path / "cfg"), DATA_DIR_ENV: str(tmp_path)})


def write_settings(paths: AppPaths, content: str) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text(content, encoding="utf-8")


def open_dialog(
    qtbot: QtBot,
    paths: AppPaths,
    runner: TaskRunner,
    location: DatabaseLocation | None = None,
) -> ConnectionSettingsDialog:
    dialog = ConnectionSettingsDialog(paths, runner, location=location)
    qtbot.addWidget(dialog)
    # Active, not just shown: mnemonics and the focus work only in the active window.
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    return dialog


def focused() -> QWidget | None:
    return QApplication.focusWidget()


def type_into(qtbot: QtBot, text: str) -> None:
    """Replace what the focused field holds, as a person does: select all, type."""
    widget = focused()
    assert widget is not None
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    if text:
        qtbot.keyClicks(widget, text)
    else:
        qtbot.keyClick(widget, Qt.Key.Key_Delete)


def alt(qtbot: QtBot, dialog: QDialog, key: Qt.Key) -> None:
    # A button's mnemonic clicks it a moment later (animateClick): wait on its effect.
    qtbot.keyClick(dialog, key, Qt.KeyboardModifier.AltModifier)


def fill_server_by_keyboard(
    qtbot: QtBot, dialog: ConnectionSettingsDialog, server: ServerSettings
) -> None:
    alt(qtbot, dialog, Qt.Key.Key_P)  # A PostgreSQL server
    qtbot.waitUntil(dialog.server_box.isEnabled)
    assert dialog.server_choice.isChecked()
    alt(qtbot, dialog, Qt.Key.Key_H)
    assert focused() is dialog.host
    type_into(qtbot, server.host)
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is dialog.port
    type_into(qtbot, str(server.port))
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is dialog.database
    type_into(qtbot, server.database)


def run_test_connection(qtbot: QtBot, dialog: ConnectionSettingsDialog) -> None:
    dialog.last_check = None
    alt(qtbot, dialog, Qt.Key.Key_T)
    qtbot.waitUntil(lambda: dialog.last_check is not None and dialog.test_button.isEnabled())


def test_a_set_up_server_tests_well_and_only_where_it_is_is_saved(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner, database_url: URL
) -> None:
    write_settings(paths, COMPANY)
    # The test server's URL names its superuser: the dialog has no place for it, and the
    # test connects as the sign-in role all the same.
    assert database_url.username
    server = ServerSettings.from_url(database_url)
    dialog = open_dialog(qtbot, paths, runner)
    assert dialog.embedded_choice.isChecked() and not dialog.server_box.isEnabled()

    fill_server_by_keyboard(qtbot, dialog, server)
    run_test_connection(qtbot, dialog)

    assert dialog.last_check is not None and dialog.last_check.ok
    assert dialog.test_result.text().startswith("✔ Connected to PostgreSQL")
    assert f"The database {server.database} is ready" in dialog.test_result.text()

    with qtbot.waitSignal(dialog.saved) as saved:
        qtbot.keyClick(dialog.database, Qt.Key.Key_Return)  # Enter saves
    assert saved.args == [server]
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert dialog.result() == QDialog.DialogCode.Accepted

    assert config.read_server_settings(paths) == server
    assert config.read_company(paths).name == "Northwind"
    content = paths.settings_file.read_text(encoding="utf-8")
    assert f'database_url = "{server.settings_url()}"' in content
    assert f"{database_url.username}@" not in content
    assert config.credentials_in_settings_file(paths) is None
    assert "# on documents" in content


def test_a_database_not_set_up_for_sign_in_says_what_the_administrator_runs(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner, empty_database_url: URL
) -> None:
    dialog = open_dialog(qtbot, paths, runner)
    fill_server_by_keyboard(qtbot, dialog, ServerSettings.from_url(empty_database_url))

    run_test_connection(qtbot, dialog)

    text = dialog.test_result.text()
    assert text.startswith("✘ Connected to PostgreSQL")
    assert "not set up for personal sign-in yet" in text
    assert "`erpgo-desktop setup-roles`" in text
    assert dialog.isVisible() and not paths.settings_file.exists()


def test_a_wrong_database_name_shows_why_inline_and_saves_nothing(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner, database_url: URL
) -> None:
    server = ServerSettings.from_url(database_url)
    dialog = open_dialog(qtbot, paths, runner)
    fill_server_by_keyboard(
        qtbot, dialog, ServerSettings(**{**server.__dict__, "database": "nope_db"})
    )

    run_test_connection(qtbot, dialog)

    assert dialog.test_result.text().startswith('✘ The server has no database named "nope_db".')
    assert "nope_db" in dialog.test_result.toolTip()  # the server's own words
    assert dialog.isVisible() and not paths.settings_file.exists()

    alt(qtbot, dialog, Qt.Key.Key_D)
    type_into(qtbot, "other")
    assert dialog.test_result.text() == ""  # the answer was about other settings


def test_the_embedded_choice_removes_the_server_and_keeps_the_rest(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner
) -> None:
    write_settings(paths, 'database_url = "postgresql://dbserver:5433/erpgo"\n' + COMPANY)
    dialog = open_dialog(qtbot, paths, runner)
    assert dialog.server_choice.isChecked()
    assert (dialog.host.text(), dialog.port.value(), dialog.database.text()) == (
        "dbserver",
        5433,
        "erpgo",
    )
    assert not dialog.file_credentials_note.isVisibleTo(dialog)
    assert focused() is dialog.host

    alt(qtbot, dialog, Qt.Key.Key_C)  # This computer only
    qtbot.waitUntil(dialog.embedded_choice.isChecked)
    assert not dialog.server_box.isEnabled()
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(focused(), Qt.Key.Key_Return)

    assert config.read_server_settings(paths).embedded
    assert paths.settings_file.read_text(encoding="utf-8").strip() == COMPANY.strip()


def test_empty_fields_are_refused_at_the_field(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, paths, runner)
    alt(qtbot, dialog, Qt.Key.Key_P)
    qtbot.waitUntil(dialog.server_box.isEnabled)

    qtbot.keyClick(focused(), Qt.Key.Key_Return)

    assert dialog.visible_errors() == {"host": "Enter the server's name or address."}
    assert focused() is dialog.host
    dialog.clear_errors()
    alt(qtbot, dialog, Qt.Key.Key_T)  # Test connection checks the same way
    qtbot.waitUntil(lambda: bool(dialog.visible_errors()))
    assert dialog.visible_errors() == {"host": "Enter the server's name or address."}
    assert runner.pending_count == 0

    type_into(qtbot, "dbserver")
    alt(qtbot, dialog, Qt.Key.Key_D)
    type_into(qtbot, "")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert dialog.visible_errors() == {"database": "Enter the name of the database."}
    assert dialog.isVisible() and not paths.settings_file.exists()


def test_a_user_and_password_left_in_the_file_are_named_and_saved_away(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner
) -> None:
    write_settings(
        paths, f'database_url = "postgresql://erpgo_app:{PASSWORD}@dbserver/erpgo"\n' + COMPANY
    )
    dialog = open_dialog(qtbot, paths, runner)
    note = dialog.file_credentials_note.text()
    assert dialog.file_credentials_note.isVisibleTo(dialog)
    assert "user erpgo_app and a password" in note and "sign in as themselves" in note
    assert PASSWORD not in note
    assert all(PASSWORD not in edit.text() for edit in dialog.findChildren(QLineEdit))

    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(focused(), Qt.Key.Key_Return)

    content = paths.settings_file.read_text(encoding="utf-8")
    assert content.startswith('database_url = "postgresql://dbserver:5432/erpgo"\n')
    assert PASSWORD not in content and "erpgo_app" not in content
    assert "# on documents" in content


def test_an_override_from_the_command_line_or_environment_is_stated(
    qtbot: QtBot,
    paths: AppPaths,
    runner: TaskRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    location = config.resolve_database("postgresql://boss:pw@cli-host/erpgo", paths, {})
    dialog = open_dialog(qtbot, paths, runner, location)
    note = dialog.override_note.text()
    assert dialog.override_note.isVisibleTo(dialog)
    assert "--database-url" in note and "cli-host" in note and "pw" not in note.split("@")[0]

    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql://env@env-host/erpgo")
    from_env = open_dialog(qtbot, paths, runner)
    assert DATABASE_URL_ENV in from_env.override_note.text()

    embedded = open_dialog(qtbot, paths, runner, DatabaseLocation(UrlSource.EMBEDDED, None))
    assert not embedded.override_note.isVisibleTo(embedded)
    assert embedded.findChild(QWidget, "takes_effect").text() == TAKES_EFFECT  # type: ignore[union-attr]


def test_the_tab_order_follows_the_form_which_asks_for_no_user_or_password(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, paths, runner)
    alt(qtbot, dialog, Qt.Key.Key_P)
    qtbot.waitUntil(dialog.server_box.isEnabled)
    alt(qtbot, dialog, Qt.Key.Key_H)
    order = [focused()]
    for _ in range(5):
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
        order.append(focused())
    assert order == [
        dialog.host,
        dialog.port,
        dialog.database,
        dialog.test_button,
        dialog.save_button,
        dialog.cancel_button,
    ]
    assert dialog.field_names == ("embedded", "server", "host", "port", "database")
    assert not any(
        edit.echoMode() == QLineEdit.EchoMode.Password for edit in dialog.findChildren(QLineEdit)
    )


def test_escape_closes_without_writing_anything(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner
) -> None:
    write_settings(paths, COMPANY)
    dialog = open_dialog(qtbot, paths, runner)
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    assert paths.settings_file.read_text(encoding="utf-8") == COMPANY


def test_open_connection_settings_opens_a_dialog_that_goes_away_when_closed(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner
) -> None:
    dialog = open_connection_settings(paths, runner)
    qtbot.waitExposed(dialog)
    assert dialog.isVisible() and dialog.testAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    with qtbot.waitSignal(dialog.destroyed):
        dialog.reject()


def test_the_sign_in_dialog_offers_the_connection_settings(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    class NoAuth:
        def login(self, username: str, password: str) -> object:
            raise AssertionError("not expected")

    plain = LoginDialog(NoAuth(), runner)  # type: ignore[arg-type]
    qtbot.addWidget(plain)
    assert plain.connection_button is None

    login = LoginDialog(NoAuth(), runner, offer_connection_settings=True)  # type: ignore[arg-type]
    qtbot.addWidget(login)
    with qtbot.waitActive(login):
        login.show()
        login.activateWindow()
    with qtbot.waitSignal(login.connection_settings_requested):
        qtbot.keyClick(login, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    assert login.isVisible() and login.user is None

    qtbot.keyClick(login.username, Qt.Key.Key_Return)  # Enter still signs in, not the button
    assert login.error.text() == "Enter your username."
