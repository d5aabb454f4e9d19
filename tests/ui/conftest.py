"""Fixtures for the Qt tests: a task runner whose work is awaited before the database goes."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.services.catalog import ProductCatalogService
from erpgo_desktop.ui import files
from erpgo_desktop.ui.gc_guard import MainThreadCollector
from erpgo_desktop.ui.tasks import TaskRunner


@pytest.fixture(scope="session", autouse=True)
def _collect_garbage_on_the_gui_thread(qapp: object) -> Iterator[None]:
    """As the program does (ui/gc_guard.py): a collection on a worker thread could free Qt
    objects there and freeze the test run."""
    collector = MainThreadCollector()
    yield
    collector.deleteLater()
    gc.enable()


@pytest.fixture(autouse=True)
def file_settings(tmp_path: Path) -> Iterator[QSettings]:
    """The folder file dialogs remember (ui/files.py) goes to the test's own file, never
    to the settings of whoever runs the tests."""
    settings = QSettings(str(tmp_path / "files.ini"), QSettings.Format.IniFormat)
    files.use_settings(settings)
    yield settings
    files.use_settings(None)


class FailureLog(list[BaseException]):
    """Failures no callback handled; a test that expects none checks that it stays empty."""


@pytest.fixture
def unhandled_failures() -> FailureLog:
    return FailureLog()


@pytest.fixture
def runner(qtbot: QtBot, unhandled_failures: FailureLog) -> Iterator[TaskRunner]:
    # No message boxes in tests: a modal box would wait for a click that never comes.
    task_runner = TaskRunner(on_failure=unhandled_failures.append)
    yield task_runner
    # Work still running would use the database that the engine fixture drops next.
    assert task_runner.wait(10_000)
    assert not unhandled_failures, unhandled_failures


@pytest.fixture
def catalog(engine: Engine, runner: TaskRunner) -> Iterator[ProductCatalogService]:
    # Set up after the engine and the runner, so torn down first: the runner's workers are
    # finished before the engine goes.
    yield ProductCatalogService(make_session_factory(engine))
    assert runner.wait(10_000)
