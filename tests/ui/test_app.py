"""Pieces of the start-up sequence that can be checked without a whole session."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, qInstallMessageHandler, qWarning
from pytestqt.qtbot import QtBot

from erpgo_desktop import config
from erpgo_desktop.app import StartupDialog, configure_logging, startup_failure_text
from erpgo_desktop.errors import ConfigurationError


class DriverError(Exception):
    """Stands in for SQLAlchemy's OperationalError, which keeps the driver's error in .orig."""

    def __init__(self, orig: Exception) -> None:
        super().__init__("(psycopg.OperationalError) ...\n(Background on this error at: ...)")
        self.orig = orig


def test_startup_failures_say_what_the_server_said() -> None:
    refused = DriverError(
        Exception('connection to server at "db", port 5432 failed: Connection refused\nIs it up?')
    )
    assert startup_failure_text(refused) == (
        'connection to server at "db", port 5432 failed: Connection refused\n\n'
        "The details are in the log file."
    )
    assert startup_failure_text(ConfigurationError("No such folder.")) == "No such folder."


def test_the_startup_dialog_stays_until_the_work_is_done(qtbot: QtBot) -> None:
    dialog = StartupDialog("embedded PostgreSQL in /data")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.show_progress("Updating the database schema", 1, 3)
    assert dialog.message.text() == "Updating the database schema…"
    assert (dialog.bar.maximum(), dialog.bar.value()) == (3, 1)

    dialog.reject()  # Esc or the window manager's close button
    assert dialog.isVisible()

    with qtbot.waitSignal(dialog.accepted):
        dialog.finish()
    assert not dialog.isVisible()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    hooks = sys.excepthook, threading.excepthook
    yield None
    sys.excepthook, threading.excepthook = hooks
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    qInstallMessageHandler(None)


@pytest.mark.qt_log_ignore("ERPGo test warning")
def test_logging_goes_to_the_log_file_with_qt_messages(
    tmp_path: Path, restore_logging: None, qapp: QCoreApplication
) -> None:
    paths = config.AppPaths(tmp_path / "cfg", tmp_path / "data", tmp_path / "deep" / "logs")

    configure_logging(paths)
    logging.getLogger("erpgo_desktop.test").info("hello from the test")
    qWarning("ERPGo test warning")

    text = paths.log_file.read_text(encoding="utf-8")
    assert "INFO [MainThread] erpgo_desktop.test: hello from the test" in text
    assert "ERPGo test warning" in text
