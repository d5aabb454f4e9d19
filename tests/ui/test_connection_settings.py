"""The connection settings dialog, by keyboard, against the real test server."""

from __future__ import annotations

from collections.abc import Iterator
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
    KEYRING_SERVICE,
    AppPaths,
    DatabaseLocation,
    ServerSettings,
    UrlSource,
)
from erpgo_desktop.ui.connection_settings import (
    STORED_HINT,
    TAKES_EFFECT,
    ConnectionSettingsDialog,
    open_connection_settings,
)
from erpgo_desktop.ui.login import LoginDialog
from erpgo_desktop.ui.tasks import TaskRunner
from tests.keyring_support import MemoryKeyring, memory_keyring, no_keyring

PASSWORD = "s3cret-Pw"
COMPANY = '# ours\n[company]\nname = "Northwind"  # on documents\n'


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    return AppPaths.for_user({CONFIG_DIR_ENV: str(tmp_path / "cfg"), DATA_DIR_ENV: str(tmp_path)})


@pytest.fixture
def keys() -> Iterator[MemoryKeyring]:
    with memory_keyring() as backend:
        yield backend


@pytest.fixture
def without_keyring() -> Iterator[None]:
    with no_keyring():
        yield


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
    qtbot: QtBot, dialog: ConnectionSettingsDialog, server: ServerSettings, password: str
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
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is dialog.user
    type_into(qtbot, server.user)
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is dialog.password
    type_into(qtbot, password)


def run_test_connection(qtbot: QtBot, dialog: ConnectionSettingsDialog) -> None:
    dialog.last_check = None
    alt(qtbot, dialog, Qt.Key.Key_T)
    qtbot.waitUntil(lambda: dialog.last_check is not None and dialog.test_button.isEnabled())


def test_a_server_typed_in_tests_well_and_is_saved_without_its_password(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner, keys: MemoryKeyring, database_url: URL
) -> None:
    write_settings(paths, COMPANY)
    server = ServerSettings.from_url(database_url)
    dialog = open_dialog(qtbot, paths, runner)
    assert dialog.embedded_choice.isChecked() and not dialog.server_box.isEnabled()

    fill_server_by_keyboard(qtbot, dialog, server, PASSWORD)
    assert dialog.remember.isChecked() and dialog.remember.isEnabled()
    run_test_connection(qtbot, dialog)

    assert dialog.last_check is not None and dialog.last_check.ok
    assert "up to date" in dialog.test_result.text()
    assert dialog.test_result.text().startswith("✔ Connected to PostgreSQL")

    with qtbot.waitSignal(dialog.saved) as saved:
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)  # Enter saves
    assert saved.args == [server]
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert dialog.result() == QDialog.DialogCode.Accepted

    assert config.read_server_settings(paths) == server
    assert config.read_company(paths).name == "Northwind"
    content = paths.settings_file.read_bytes()
    assert PASSWORD.encode() not in content
    assert b"# on documents" in content
    assert keys.passwords == {(KEYRING_SERVICE, server.keyring_username): PASSWORD}


def test_a_wrong_database_name_shows_why_inline_and_saves_nothing(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner, keys: MemoryKeyring, database_url: URL
) -> None:
    server = ServerSettings.from_url(database_url)
    dialog = open_dialog(qtbot, paths, runner)
    fill_server_by_keyboard(
        qtbot, dialog, ServerSettings(**{**server.__dict__, "database": "nope_db"}), PASSWORD
    )

    run_test_connection(qtbot, dialog)

    assert dialog.test_result.text().startswith('✘ The server has no database named "nope_db".')
    assert PASSWORD not in dialog.test_result.text() + dialog.test_result.toolTip()
    assert dialog.isVisible() and not paths.settings_file.exists() and not keys.passwords

    alt(qtbot, dialog, Qt.Key.Key_D)
    type_into(qtbot, "other")
    assert dialog.test_result.text() == ""  # the answer was about other settings


def test_the_embedded_choice_removes_the_server_and_keeps_the_rest(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner, keys: MemoryKeyring
) -> None:
    write_settings(paths, 'database_url = "postgresql://clerk@dbserver:5433/erpgo"\n' + COMPANY)
    dialog = open_dialog(qtbot, paths, runner)
    assert dialog.server_choice.isChecked()
    assert (dialog.host.text(), dialog.port.value(), dialog.user.text()) == (
        "dbserver",
        5433,
        "clerk",
    )
    assert focused() is dialog.host

    alt(qtbot, dialog, Qt.Key.Key_C)  # This computer only
    qtbot.waitUntil(dialog.embedded_choice.isChecked)
    assert not dialog.server_box.isEnabled()
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(focused(), Qt.Key.Key_Return)

    assert config.read_server_settings(paths).embedded
    assert paths.settings_file.read_text(encoding="utf-8").strip() == COMPANY.strip()


def test_empty_fields_are_refused_at_the_field(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner, keys: MemoryKeyring
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
    alt(qtbot, dialog, Qt.Key.Key_U)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert dialog.visible_errors() == {"user": "Enter the user name to connect as."}
    assert dialog.isVisible() and not paths.settings_file.exists()


def test_without_a_keyring_the_password_is_never_kept_and_pgpass_is_explained(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner, without_keyring: None, database_url: URL
) -> None:
    server = ServerSettings.from_url(database_url)
    dialog = open_dialog(qtbot, paths, runner)
    assert dialog.keyring_note.isVisibleTo(dialog)
    assert "pgpass" in dialog.keyring_note.text()

    fill_server_by_keyboard(qtbot, dialog, server, PASSWORD)
    assert not dialog.remember.isEnabled() and not dialog.remember.isChecked()
    assert f":{server.port}:{server.database}:{server.user}:PASSWORD" in dialog.keyring_note.text()
    run_test_connection(qtbot, dialog)
    assert dialog.last_check is not None and dialog.last_check.ok  # typed: used for the test

    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)

    assert config.read_server_settings(paths) == server
    assert PASSWORD.encode() not in paths.settings_file.read_bytes()
    assert [p.name for p in paths.config_dir.iterdir()] == ["settings.toml"]


def test_a_keyring_that_refuses_keeps_the_dialog_and_the_file_as_they_were(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner
) -> None:
    class LockedKeyring(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise RuntimeError("locked")

    from tests.keyring_support import using_keyring

    write_settings(paths, COMPANY)
    with using_keyring(LockedKeyring()):
        dialog = open_dialog(qtbot, paths, runner)
        fill_server_by_keyboard(
            qtbot, dialog, ServerSettings(False, "dbserver", 5432, "erpgo", "clerk"), PASSWORD
        )
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(dialog.field_error("password").text()))

    assert "keyring did not take the password" in dialog.field_error("password").text()
    assert dialog.isVisible() and dialog.password.text() == PASSWORD
    assert paths.settings_file.read_text(encoding="utf-8") == COMPANY


def test_a_stored_password_is_hinted_and_kept_when_the_field_stays_empty(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner, keys: MemoryKeyring
) -> None:
    server = ServerSettings(False, "dbserver", 5432, "erpgo", "clerk")
    config.write_server_settings(paths, server)
    config.store_password(server, PASSWORD)

    dialog = open_dialog(qtbot, paths, runner)
    qtbot.waitUntil(lambda: dialog.password.placeholderText() == STORED_HINT)

    alt(qtbot, dialog, Qt.Key.Key_H)
    type_into(qtbot, "elsewhere")
    assert dialog.password.placeholderText() == ""  # that password is for another server
    type_into(qtbot, "dbserver")
    assert dialog.password.placeholderText() == STORED_HINT

    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert config.stored_password(server) == PASSWORD


def test_unticking_remember_forgets_the_stored_password(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner, keys: MemoryKeyring
) -> None:
    server = ServerSettings(False, "dbserver", 5432, "erpgo", "clerk")
    config.write_server_settings(paths, server)
    config.store_password(server, PASSWORD)
    dialog = open_dialog(qtbot, paths, runner)

    alt(qtbot, dialog, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: not dialog.remember.isChecked())
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)

    assert keys.passwords == {}


def test_a_password_written_into_the_file_moves_to_the_keyring(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner, keys: MemoryKeyring
) -> None:
    write_settings(paths, f'database_url = "postgresql://clerk:{PASSWORD}@dbserver/erpgo"\n')
    dialog = open_dialog(qtbot, paths, runner)
    assert dialog.file_password_note.isVisibleTo(dialog)
    assert "moves to the keyring" in dialog.file_password_note.text()
    assert dialog.password.text() == PASSWORD

    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(focused(), Qt.Key.Key_Return)

    assert PASSWORD.encode() not in paths.settings_file.read_bytes()
    assert keys.passwords == {(KEYRING_SERVICE, "clerk@dbserver:5432/erpgo"): PASSWORD}


def test_an_override_from_the_command_line_or_environment_is_stated(
    qtbot: QtBot,
    paths: AppPaths,
    runner: TaskRunner,
    without_keyring: None,
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


def test_the_tab_order_follows_the_form(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner, keys: MemoryKeyring
) -> None:
    dialog = open_dialog(qtbot, paths, runner)
    alt(qtbot, dialog, Qt.Key.Key_P)
    qtbot.waitUntil(dialog.server_box.isEnabled)
    alt(qtbot, dialog, Qt.Key.Key_H)
    order = [focused()]
    for _ in range(7):
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
        order.append(focused())
    assert order == [
        dialog.host,
        dialog.port,
        dialog.database,
        dialog.user,
        dialog.password,
        dialog.remember,
        dialog.test_button,
        dialog.save_button,
    ]
    assert isinstance(dialog.password, QLineEdit)
    assert dialog.password.echoMode() == QLineEdit.EchoMode.Password


def test_escape_closes_without_writing_anything(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner, keys: MemoryKeyring
) -> None:
    write_settings(paths, COMPANY)
    dialog = open_dialog(qtbot, paths, runner)
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    assert paths.settings_file.read_text(encoding="utf-8") == COMPANY


def test_open_connection_settings_opens_a_dialog_that_goes_away_when_closed(
    qtbot: QtBot, paths: AppPaths, runner: TaskRunner, keys: MemoryKeyring
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
