"""A database that cannot be opened at start-up: the message offers the connection
settings, and saving them starts again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from erpgo_desktop import config
from erpgo_desktop.app import _show_startup_failure
from erpgo_desktop.errors import ConfigurationError
from erpgo_desktop.ui.connection_settings import ConnectionSettingsDialog
from erpgo_desktop.ui.tasks import TaskRunner

SERVER = config.DatabaseLocation(
    config.UrlSource.SETTINGS_FILE, config.normalize_url("postgresql://erp@nowhere.invalid/erp")
)


def when_shown(kind: type[QWidget], act: Callable[[QWidget], None]) -> None:
    """Act on the modal window of `kind` once it is up (its exec() is running then)."""

    def poll() -> None:
        shown = QApplication.activeModalWidget()
        if isinstance(shown, kind) and shown.isVisible():
            act(shown)
        else:
            QTimer.singleShot(10, poll)

    QTimer.singleShot(0, poll)


def paths_in(tmp_path: Path) -> config.AppPaths:
    return config.AppPaths(tmp_path / "config", tmp_path / "data", tmp_path / "logs")


def test_closing_the_message_gives_up(qtbot: QtBot, tmp_path: Path, runner: TaskRunner) -> None:
    seen: list[str] = []

    def close(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        seen.append(box.informativeText())
        box.button(QMessageBox.StandardButton.Close).click()

    when_shown(QMessageBox, close)
    error = ConfigurationError("No server answers at nowhere.invalid.")
    assert _show_startup_failure(error, SERVER, paths_in(tmp_path), runner) is False
    assert seen == ["No server answers at nowhere.invalid."]


def test_saved_connection_settings_start_again(
    qtbot: QtBot, tmp_path: Path, runner: TaskRunner
) -> None:
    paths = paths_in(tmp_path)
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_text('database_url = "postgresql://erp@nowhere.invalid/erp"\n')
    assert not config.resolve_database(None, paths, environ={}).is_embedded

    def open_settings(box: QWidget) -> None:
        settings = next(
            b for b in box.findChildren(QPushButton) if b.text() == "&Connection settings…"
        )
        when_shown(ConnectionSettingsDialog, choose_embedded_and_save)
        settings.click()

    def choose_embedded_and_save(dialog: QWidget) -> None:
        assert isinstance(dialog, ConnectionSettingsDialog)
        dialog.embedded_choice.setChecked(True)
        dialog.save_button.click()

    when_shown(QMessageBox, open_settings)
    error = ConfigurationError("No server answers at nowhere.invalid.")
    assert _show_startup_failure(error, SERVER, paths, runner) is True
    assert config.resolve_database(None, paths, environ={}).is_embedded
