"""Two workstations on one database: what one does shows in the other without a reload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import URL, Engine

from erpgo_desktop.services import build_services
from erpgo_desktop.ui.live import ChangeFeed
from erpgo_desktop.ui.main_window import MainWindow
from erpgo_desktop.ui.product_table import ACTIVE, SKU
from erpgo_desktop.ui.tasks import TaskRunner
from tests.ui.dialog_support import Staff, make_staff
from tests.ui.seed import seed_many


@pytest.fixture
def feeds(qtbot: QtBot, database_url: URL, engine: Engine) -> Iterator[list[ChangeFeed]]:
    started: list[ChangeFeed] = []
    for _ in range(2):
        feed = ChangeFeed(database_url)
        with qtbot.waitSignal(feed.listening_changed, timeout=10_000):
            feed.start()
        started.append(feed)
    yield started
    for feed in started:
        assert feed.stop()


def _window(
    qtbot: QtBot, staff: Staff, engine: Engine, runner: TaskRunner, feed: ChangeFeed, path: Path
) -> MainWindow:
    window = MainWindow(
        services=build_services(engine),  # a workstation of its own: its own pool
        runner=runner,
        user=staff.manager,
        location_description="shared server",
        changes=feed,
        settings=QSettings(str(path), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    return window


def test_a_product_deactivated_in_one_window_shows_in_the_other(
    qtbot: QtBot,
    engine: Engine,
    runner: TaskRunner,
    feeds: list[ChangeFeed],
    tmp_path: Path,
) -> None:
    seed_many(engine, 40)
    staff = make_staff(engine)
    here = _window(qtbot, staff, engine, runner, feeds[0], tmp_path / "here.ini")
    there = _window(qtbot, staff, engine, runner, feeds[1], tmp_path / "there.ini")
    for window in (here, there):
        assert window.products is not None
        qtbot.waitUntil(lambda w=window: w.products.model.rowCount() == 40)  # type: ignore[union-attr]
    assert here.products is not None and there.products is not None
    there.products.table.setCurrentIndex(there.products.model.index(5, SKU))  # SKU-00006
    assert there.products.model.index(1, ACTIVE).data() == "Yes"

    with qtbot.waitActive(here):
        here.activateWindow()
    table = here.products.table
    table.setFocus()
    table.setCurrentIndex(here.products.model.index(1, SKU))  # SKU-00002
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    qtbot.waitUntil(here.question_box.isVisible)
    here.question_box.button(QMessageBox.StandardButton.Yes).click()

    qtbot.waitUntil(lambda: there.products.model.index(1, ACTIVE).data() == "No", timeout=3000)
    assert there.products.table.currentIndex().row() == 5  # the other user's place is kept
