"""The Administration menu and Help › About in the main window: shown by permission, each
opening its window, closed with the main window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.config import AppPaths, DatabaseLocation, UrlSource
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.ui.about_dialog import AboutDialog
from erpgo_desktop.ui.backup_dialog import RestoreDialog
from erpgo_desktop.ui.connection_settings import ConnectionSettingsDialog
from erpgo_desktop.ui.health_panel import HealthDialog
from erpgo_desktop.ui.main_window import MainWindow
from erpgo_desktop.ui.tasks import TaskRunner
from erpgo_desktop.ui.users_admin import UsersAdminDialog
from tests.ui.dialog_support import Staff, make_staff


def make_window(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, tmp_path: Path, user: CurrentUser
) -> MainWindow:
    paths = AppPaths(tmp_path / "config", tmp_path / "data", tmp_path / "logs")
    window = MainWindow(
        services=staff.services,
        runner=runner,
        user=user,
        location_description="test database",
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
        paths=paths,
        location=DatabaseLocation(UrlSource.EMBEDDED, None),
    )
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def menu_titles(window: MainWindow) -> list[str]:
    menus = [action for action in window.menuBar().actions() if action.menu()]
    return [action.text() for action in menus if action.isVisible()]


def test_administration_follows_users_admin(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    staff = make_staff(engine)
    admin = make_window(qtbot, staff, runner, tmp_path, staff.admin)
    assert "&Administration" in menu_titles(admin)
    admin_only = ("users_action", "health_action", "backup_action", "restore_action")
    assert all(getattr(admin, name).isVisible() for name in admin_only)
    assert admin.connection_action.isVisible()

    clerk = make_window(qtbot, staff, runner, tmp_path, staff.clerk)
    assert not any(getattr(clerk, name).isVisible() for name in admin_only)
    # This computer's connection settings are anyone's at it: the menu stays for them.
    assert clerk.connection_action.isVisible()
    assert "&Administration" in menu_titles(clerk)


# Bringing a window forward is the window manager's; offscreen Qt says it has none.
@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_admin_windows_open_once_and_close_with_the_main_window(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    staff = make_staff(engine)
    window = make_window(qtbot, staff, runner, tmp_path, staff.admin)

    window.users_action.trigger()
    window.health_action.trigger()
    window.health_action.trigger()  # brought forward, not opened twice
    kinds = [type(dialog) for dialog in window.open_dialogs]
    assert kinds.count(UsersAdminDialog) == 1 and kinds.count(HealthDialog) == 1
    health = next(d for d in window.open_dialogs if isinstance(d, HealthDialog))
    qtbot.waitUntil(lambda: health.tables_model.rowCount() > 0)

    window.restore_action.trigger()
    assert sum(isinstance(dialog, RestoreDialog) for dialog in window.open_dialogs) == 1

    window.connection_action.trigger()
    qtbot.waitUntil(lambda: bool(window.findChildren(ConnectionSettingsDialog)))
    window.findChildren(ConnectionSettingsDialog)[0].reject()

    assert window.close()
    qtbot.waitUntil(lambda: not window.open_dialogs)
    assert runner.wait(10_000)


def test_about_names_the_database_and_the_log_file(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    staff = make_staff(engine)
    window = make_window(qtbot, staff, runner, tmp_path, staff.sales)
    window.about_action.trigger()
    about = next(d for d in window.open_dialogs if isinstance(d, AboutDialog))
    assert about.rows["Database"].text() == "test database"
    assert about.rows["Log file"].text() == str(tmp_path / "logs" / "erpgo-desktop.log")
    qtbot.waitUntil(lambda: about.rows["PostgreSQL server"].text().startswith("PostgreSQL "))
    about.close()
    assert runner.wait(10_000)
