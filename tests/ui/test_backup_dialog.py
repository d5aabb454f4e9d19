"""The Back up and Restore dialogs: work on a worker with progress, a result shown in the
dialog, Cancel leaving nothing behind, and the database in use never restored into."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import URL, Engine

from erpgo_desktop.services.backup import BackupResult, BackupService, RestoreResult
from erpgo_desktop.ui.backup_dialog import BackupDialog, RestoreDialog, default_backup_name
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.backup_support import (
    Filled,
    database_exists,
    drop_database,
    figures,
    fill,
)

if TYPE_CHECKING:
    from tests.conftest import ThrowawayDatabases

WAIT = 60_000


@pytest.fixture
def filled(database_url: URL) -> Filled:
    return fill(database_url)


@pytest.fixture
def service(engine: Engine, runner: TaskRunner) -> Iterator[BackupService]:
    # After the runner: torn down first, so no worker still uses the engine.
    yield BackupService(engine)
    assert runner.wait(WAIT)


@pytest.fixture
def new_name(pg_server: ThrowawayDatabases, database_url: URL) -> Iterator[str]:
    name = f"{database_url.database}_restored"
    yield name
    drop_database(pg_server.admin_url, name)


def backup_dialog(
    qtbot: QtBot, service: BackupService, runner: TaskRunner, filled: Filled, path: Path
) -> BackupDialog:
    dialog = BackupDialog(service, runner, filled.admin, path)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def back_up(qtbot: QtBot, dialog: BackupDialog) -> object:
    with qtbot.waitSignal(dialog.finished_backup, timeout=WAIT) as done:
        dialog.start()
    return done.args[0]


def test_the_default_file_name_carries_date_and_time() -> None:
    assert default_backup_name(datetime(2026, 3, 7, 9, 5)) == "erpgo-20260307-0905.backup"


def test_backup_shows_progress_then_what_was_written(
    qtbot: QtBot, service: BackupService, runner: TaskRunner, filled: Filled, tmp_path: Path
) -> None:
    path = tmp_path / default_backup_name()
    dialog = backup_dialog(qtbot, service, runner, filled, path)
    values: list[int] = []
    dialog.progress.valueChanged.connect(values.append)
    result = back_up(qtbot, dialog)
    assert isinstance(result, BackupResult)
    assert path.is_file() and result.path == path
    assert max(values) > 0  # a determinate bar moved, table by table
    assert f"Backed up {result.tables} tables to {path}" in dialog.message.text()
    assert not dialog.progress.isVisible() and dialog.error.isHidden()
    assert not dialog.running
    # The file saved message's buttons (ui/files.py), for this file.
    assert dialog.open_button.isVisible() and dialog.folder_button.isVisible()
    assert dialog.open_button.toolTip() == f"Open {path.name}"
    assert dialog.folder_button.toolTip() == str(path.parent)
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_a_failed_backup_says_why_and_writes_nothing(
    qtbot: QtBot, service: BackupService, runner: TaskRunner, filled: Filled, tmp_path: Path
) -> None:
    path = tmp_path / "no such folder" / "erpgo.backup"
    dialog = backup_dialog(qtbot, service, runner, filled, path)
    error = back_up(qtbot, dialog)
    assert isinstance(error, Exception)
    assert "There is no folder" in dialog.error.text() and dialog.error.isVisible()
    assert "No backup was written" in dialog.message.text()
    assert not path.parent.exists()


def test_cancel_stops_the_backup_and_leaves_no_file(
    qtbot: QtBot, service: BackupService, runner: TaskRunner, filled: Filled, tmp_path: Path
) -> None:
    path = tmp_path / "cancelled.backup"
    dialog = backup_dialog(qtbot, service, runner, filled, path)
    with qtbot.waitSignal(dialog.finished_backup, timeout=WAIT) as done:
        dialog.start()
        QTest.keyClick(dialog, Qt.Key.Key_Escape)  # cancels; the dialog stays to say so
        assert dialog.isVisible()
    assert isinstance(done.args[0], Exception)
    assert dialog.error.text() == "Cancelled."
    assert list(tmp_path.iterdir()) == []


def restore_dialog(
    qtbot: QtBot, service: BackupService, runner: TaskRunner, filled: Filled
) -> RestoreDialog:
    dialog = RestoreDialog(service, runner, filled.admin)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def restore(qtbot: QtBot, dialog: RestoreDialog) -> object:
    with qtbot.waitSignal(dialog.finished_restore, timeout=WAIT) as done:
        QTest.keyClick(dialog.name_edit, Qt.Key.Key_Return)  # Enter presses Restore
    return done.args[0]


def test_restore_into_a_new_database_shows_equal_counts(
    qtbot: QtBot,
    service: BackupService,
    runner: TaskRunner,
    filled: Filled,
    database_url: URL,
    tmp_path: Path,
    new_name: str,
) -> None:
    path = tmp_path / "erpgo.backup"
    service.backup(path, acting=filled.admin)
    before = figures(database_url)
    dialog = restore_dialog(qtbot, service, runner, filled)
    dialog.path_edit.setText(str(path))
    dialog.name_edit.setText(new_name)
    result = restore(qtbot, dialog)
    assert isinstance(result, RestoreResult) and result.verified
    assert "Every table has the same row count as the backup" in dialog.summary.text()
    assert new_name in dialog.summary.text()
    assert dialog.counts.rowCount() == len(result.tables)
    shown = {
        dialog.counts.item(row, 0).text(): (
            dialog.counts.item(row, 1).text(),
            dialog.counts.item(row, 2).text(),
        )
        for row in range(dialog.counts.rowCount())
    }
    assert shown["products"] == ("60", "60")
    assert figures(database_url.set(database=new_name)) == before
    assert figures(database_url) == before  # the database in use: untouched


def test_the_database_in_use_is_refused_as_a_target(
    qtbot: QtBot,
    service: BackupService,
    runner: TaskRunner,
    filled: Filled,
    database_url: URL,
    tmp_path: Path,
) -> None:
    path = tmp_path / "erpgo.backup"
    service.backup(path, acting=filled.admin)
    before = figures(database_url)
    dialog = restore_dialog(qtbot, service, runner, filled)
    dialog.path_edit.setText(str(path))
    assert database_url.database is not None
    dialog.name_edit.setText(database_url.database)
    assert isinstance(restore(qtbot, dialog), Exception)
    assert dialog.name_error.isVisible() and "exists already" in dialog.name_error.text()
    assert dialog.name_edit.hasFocus()
    assert "Nothing was restored" in dialog.summary.text()
    assert figures(database_url) == before


def test_a_bad_file_is_named_and_no_database_is_made(
    qtbot: QtBot,
    pg_server: ThrowawayDatabases,
    service: BackupService,
    runner: TaskRunner,
    filled: Filled,
    tmp_path: Path,
    new_name: str,
) -> None:
    dialog = restore_dialog(qtbot, service, runner, filled)
    dialog.name_edit.setText(new_name)
    QTest.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    assert dialog.path_error.text() == "Choose the backup file." and not dialog.running
    bad = tmp_path / "bad.backup"
    bad.write_text("not a backup")
    dialog.path_edit.setText(str(bad))
    assert isinstance(restore(qtbot, dialog), Exception)
    assert "not a backup" in dialog.error.text()
    assert not database_exists(pg_server.admin_url, new_name)
    missing = tmp_path / "missing.backup"
    dialog.path_edit.setText(str(missing))
    assert isinstance(restore(qtbot, dialog), Exception)
    assert dialog.path_error.isVisible() and "There is no backup file" in dialog.path_error.text()
    assert dialog.path_edit.hasFocus()


def test_the_keyboard_reaches_everything(
    qtbot: QtBot, service: BackupService, runner: TaskRunner, filled: Filled
) -> None:
    dialog = restore_dialog(qtbot, service, runner, filled)
    assert dialog.restore_button.isDefault()
    order = [dialog.path_edit]
    widget = dialog.path_edit.nextInFocusChain()
    while widget is not dialog.path_edit and len(order) < 20:
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.isVisible():
            order.append(widget)
        widget = widget.nextInFocusChain()
    expected = [dialog.path_edit, dialog.choose_button, dialog.name_edit, dialog.counts]
    assert order[: len(expected)] == expected
    assert dialog.restore_button in order and dialog.close_button in order
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
