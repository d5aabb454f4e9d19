"""One mechanism for files (ui/files.py): where file dialogs start, what they remember, and
the message that ends every saved file, with Open and Show in folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, QSettings, QStandardPaths, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from erpgo_desktop.ui import files


class UrlCatcher(QObject):
    """Stands in for the desktop: QDesktopServices hands it the file URLs it would open."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toLocalFile())


@pytest.fixture
def desktop() -> Iterator[UrlCatcher]:
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    yield catcher
    QDesktopServices.unsetUrlHandler("file")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of the test's own, with a Documents folder, and started elsewhere."""
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("XDG_DOCUMENTS_DIR", raising=False)
    elsewhere = tmp_path / "started-here"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return home


class Dialogs:
    """QFileDialog's static functions as a person answers them: records the folder each
    dialog opened in, answers with the next file queued (or cancels)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started_in: list[str] = []
        self.answers: list[str] = []
        monkeypatch.setattr(QFileDialog, "getSaveFileName", self._answer)
        monkeypatch.setattr(QFileDialog, "getOpenFileName", self._answer)

    def _answer(self, _parent: Any, _title: str, directory: str, filters: str) -> tuple[str, str]:
        self.started_in.append(directory)
        return (self.answers.pop(0) if self.answers else "", filters.split(";;")[0])


def test_file_dialogs_start_in_the_documents_folder_then_in_the_one_used_last(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_settings: QSettings
) -> None:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    assert Path(documents) == home / "Documents"  # what Qt says the user's documents are
    dialogs = Dialogs(monkeypatch)
    chosen = tmp_path / "exports"
    chosen.mkdir()

    dialogs.answers.append(str(chosen / "pick-list-SO-1"))  # typed without an extension
    saved = files.ask_save_path(None, "Save", "pick-list-SO-1.pdf", "PDF files (*.pdf)")
    assert dialogs.started_in == [str(home / "Documents" / "pick-list-SO-1.pdf")]
    assert saved == chosen / "pick-list-SO-1.pdf"

    # Every dialog then opens where the user went last, an open dialog as well...
    assert files.ask_open_path(None, "Import", "CSV (*.csv)") is None  # cancelled
    assert dialogs.started_in[1] == str(chosen)
    # ...and after a restart: the folder is kept in the settings.
    files.use_settings(QSettings(file_settings.fileName(), QSettings.Format.IniFormat))
    dialogs.answers.append(str(tmp_path / "Orders.csv"))
    files.ask_save_path(None, "Export", "Orders.xlsx", "Excel (*.xlsx);;CSV (*.csv)")
    assert dialogs.started_in[2] == str(chosen / "Orders.xlsx")
    files.ask_save_path(None, "Export", "Orders.xlsx", "Excel (*.xlsx)")
    assert dialogs.started_in[3] == str(tmp_path / "Orders.xlsx")

    # A remembered folder that is gone: back to the documents.
    file_settings.setValue(files.LAST_FOLDER_KEY, str(tmp_path / "gone"))
    files.use_settings(file_settings)
    files.ask_open_path(None, "Import", "CSV (*.csv)")
    assert dialogs.started_in[4] == str(home / "Documents")


def test_the_saved_message_names_the_file_and_opens_it_or_its_folder(
    qtbot: QtBot, tmp_path: Path, desktop: UrlCatcher
) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    path = tmp_path / "out" / "order-confirmation-SO-7.pdf"
    path.parent.mkdir()
    path.write_bytes(b"%PDF-1.4\n")

    box = files.show_saved(window, path, f"Saved the order confirmation as {path.name}.")
    qtbot.waitUntil(box.isVisible)
    assert path.name in box.text()
    assert str(path.parent) in box.informativeText()
    labels = [button.text().replace("&", "") for button in box.buttons()]
    assert {"Open", "Show in folder", "Close"} <= set(labels)
    assert not box.open_button.icon().isNull() and not box.folder_button.icon().isNull()

    box.open_button.click()
    assert desktop.opened == [str(path)]
    qtbot.waitUntil(lambda: not box.isVisible())

    again = files.show_saved(window, path)
    assert again.text() == f"Saved {path.name}."
    again.folder_button.click()
    assert desktop.opened == [str(path), str(path.parent)]


def test_a_dialog_reporting_its_own_file_gets_the_same_buttons(
    qtbot: QtBot, tmp_path: Path, desktop: UrlCatcher
) -> None:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    qtbot.addWidget(buttons)
    path = tmp_path / "erpgo.backup"
    open_button, folder_button = files.add_file_buttons(buttons, path)
    assert open_button in buttons.buttons() and folder_button in buttons.buttons()
    folder_button.click()
    open_button.click()
    assert desktop.opened == [str(tmp_path), str(path)]
