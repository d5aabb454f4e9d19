"""Help › About: versions, the server's read off the GUI thread, the log file, its folder
opened through the desktop, and the details copied for support."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop import __version__
from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import ConnectionLostError
from erpgo_desktop.services.health import HealthService
from erpgo_desktop.ui.about_dialog import READING, AboutDialog, AboutInfo, package_version
from erpgo_desktop.ui.tasks import TaskRunner


class UrlCatcher(QObject):
    """Stands in for the desktop's file manager: QDesktopServices hands it file URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url)


@pytest.fixture
def file_urls() -> Iterator[UrlCatcher]:
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    yield catcher
    QDesktopServices.unsetUrlHandler("file")


def info(tmp_path: Path, server: str | None = None) -> AboutInfo:
    log_file = tmp_path / "logs" / "erpgo-desktop.log"
    return AboutInfo(__version__, "embedded PostgreSQL in /somewhere", log_file, server)


def show(qtbot: QtBot, dialog: AboutDialog) -> None:
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()


def test_it_shows_the_versions_the_database_and_the_log_file(qtbot: QtBot, tmp_path: Path) -> None:
    about = info(tmp_path, "PostgreSQL 15.4 on x86_64")
    dialog = AboutDialog(about)
    show(qtbot, dialog)
    rows = {label: field.text() for label, field in dialog.rows.items()}
    assert rows["ERPGo Desktop"] == __version__
    assert rows["PostgreSQL server"] == "PostgreSQL 15.4 on x86_64"
    assert rows["Database"] == "embedded PostgreSQL in /somewhere"
    assert rows["Log file"] == str(about.log_file)
    for component in ("Python", "Qt", "PySide6", "SQLAlchemy", "psycopg"):
        assert rows[component] and rows[component] != "not installed"
    assert rows["SQLAlchemy"] == package_version("SQLAlchemy")
    assert package_version("no-such-distribution-here") == "not installed"


def test_the_server_version_is_read_off_the_gui_thread(
    qtbot: QtBot, tmp_path: Path, engine: Engine, runner: TaskRunner
) -> None:
    health = HealthService(make_session_factory(engine))
    dialog = AboutDialog(info(tmp_path), runner=runner, server_version=health.server_version)
    assert dialog.rows["PostgreSQL server"].text() == READING  # up before the answer
    show(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.rows["PostgreSQL server"].text().startswith("PostgreSQL "))
    assert runner.wait(10_000)


def test_a_server_that_does_not_answer_leaves_the_version_unknown(
    qtbot: QtBot, tmp_path: Path, runner: TaskRunner
) -> None:
    def unreachable() -> str:
        raise ConnectionLostError()

    dialog = AboutDialog(info(tmp_path), runner=runner, server_version=unreachable)
    show(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.rows["PostgreSQL server"].text().startswith("not known: "))
    assert "cannot be reached" in dialog.rows["PostgreSQL server"].text()


def test_copy_puts_the_details_on_the_clipboard(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = AboutDialog(info(tmp_path, "PostgreSQL 16.2"))
    show(qtbot, dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Y, Qt.KeyboardModifier.AltModifier)  # Cop&y details
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == dialog.details_text())
    copied = QGuiApplication.clipboard().text().splitlines()
    assert copied[0] == f"ERPGo Desktop: {__version__}"
    assert "PostgreSQL server: PostgreSQL 16.2" in copied
    assert f"Log file: {tmp_path / 'logs' / 'erpgo-desktop.log'}" in copied
    assert dialog.message.text() == "The details are on the clipboard."


def test_open_log_folder_hands_the_folder_to_the_desktop(
    qtbot: QtBot, tmp_path: Path, file_urls: UrlCatcher
) -> None:
    about = info(tmp_path)
    dialog = AboutDialog(about)
    show(qtbot, dialog)
    dialog.open_logs_button.click()
    assert file_urls.opened == []  # no folder yet: said so, nothing opened
    assert dialog.error.isVisible() and "does not exist" in dialog.error.text()

    about.log_file.parent.mkdir(parents=True)
    qtbot.keyClick(dialog, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)  # &Open log folder
    qtbot.waitUntil(lambda: len(file_urls.opened) == 1)
    assert Path(file_urls.opened[0].toLocalFile()) == about.log_file.parent
    assert not dialog.error.isVisible()


def test_escape_closes_it(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = AboutDialog(info(tmp_path, "PostgreSQL 16.2"))
    show(qtbot, dialog)
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
