"""Files the user picks and files the program writes for them: one mechanism for all.

Every file dialog of the program goes through `ask_save_path` or `ask_open_path`: the
dialog starts in the folder the user last chose a file in (any dialog's: people keep their
exports, PDFs and backups together), or the first time in their documents folder, never
in the folder the program happened to be started from. The folder is remembered in the
program's QSettings (`files/last_folder`), per operating-system account.

Every file written at the user's request ends with a message naming it (`show_saved`),
with Open (the desktop's program for the file) and Show in folder (the file manager on
its folder). A dialog that reports its own outcome (the backup) adds the same two buttons
with `add_file_buttons`.

    path = ask_save_path(window, "Export Orders", "Orders.xlsx", "Excel workbook (*.xlsx)")
    if path is not None:
        write(path)
        show_saved(window, path, "Exported 1,234 rows to Orders.xlsx.")
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QMessageBox, QPushButton, QWidget

from erpgo_desktop.ui import icons

__all__ = [
    "SavedFileMessage",
    "add_file_buttons",
    "ask_open_path",
    "ask_save_path",
    "documents_folder",
    "open_file",
    "remember_folder",
    "show_in_folder",
    "show_saved",
    "start_folder",
    "use_settings",
]

log = logging.getLogger(__name__)

LAST_FOLDER_KEY = "files/last_folder"

_settings: QSettings | None = None


def use_settings(settings: QSettings | None) -> None:
    """Keep the remembered folder in `settings` (tests: a file of their own); None: the
    application's QSettings."""
    global _settings
    _settings = settings


def _store() -> QSettings:
    return _settings if _settings is not None else QSettings()


def documents_folder() -> Path:
    """The user's documents folder (QStandardPaths), or their home when it has none."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    folder = Path(location) if location else Path.home()
    return folder if folder.is_dir() else Path.home()


def start_folder() -> Path:
    """Where the next file dialog opens: the folder last used, while it still exists."""
    remembered = _store().value(LAST_FOLDER_KEY)
    if isinstance(remembered, str) and remembered and Path(remembered).is_dir():
        return Path(remembered)
    return documents_folder()


def remember_folder(path: Path) -> None:
    """The folder of a file the user chose, for the next dialog."""
    folder = path if path.is_dir() else path.parent
    store = _store()
    store.setValue(LAST_FOLDER_KEY, str(folder))
    store.sync()


def ask_save_path(
    parent: QWidget | None,
    title: str,
    file_name: str,
    filters: str,
    *,
    default_suffix: str | None = None,
) -> Path | None:
    """Ask where to save `file_name`; None when the user cancelled. The dialog asks
    before replacing a file. Without an extension typed, `default_suffix` (".pdf") is
    added, or the chosen filter's first one."""
    chosen, selected = QFileDialog.getSaveFileName(
        parent, title, str(start_folder() / file_name), filters
    )
    if not chosen:
        return None
    path = Path(chosen)
    if not path.suffix:
        suffix = default_suffix or _first_suffix(selected) or _first_suffix(filters)
        if suffix:
            path = path.with_name(path.name + suffix)
    remember_folder(path)
    return path


def ask_open_path(parent: QWidget | None, title: str, filters: str) -> Path | None:
    """Ask for an existing file; None when the user cancelled."""
    chosen, _selected = QFileDialog.getOpenFileName(parent, title, str(start_folder()), filters)
    if not chosen:
        return None
    path = Path(chosen)
    remember_folder(path)
    return path


def _first_suffix(filters: str) -> str | None:
    """ "PDF files (*.pdf)" -> ".pdf"; None for "All files (*)"."""
    start = filters.find("(*.")
    if start < 0:
        return None
    end = start + 2
    while end < len(filters) and (filters[end].isalnum() or filters[end] == "."):
        end += 1
    return filters[start + 2 : end] if end > start + 3 else None


# --- after saving ------------------------------------------------------------------------


def open_file(path: Path, parent: QWidget | None = None) -> bool:
    """Open `path` with the desktop's program for it; says so over `parent` if it cannot."""
    return _open_url(QUrl.fromLocalFile(str(path)), path, parent)


def show_in_folder(path: Path, parent: QWidget | None = None) -> bool:
    """Open the folder holding `path` in the file manager."""
    return _open_url(QUrl.fromLocalFile(str(path.parent)), path.parent, parent)


def _open_url(url: QUrl, path: Path, parent: QWidget | None) -> bool:
    if QDesktopServices.openUrl(url):
        return True
    log.warning("the desktop could not open %s", path)
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Cannot open",
        f"The desktop has no program to open {path.name}.",
        QMessageBox.StandardButton.Close,
        parent,
    )
    box.setInformativeText(f"It is {path}.")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return False


class _FileOpener(QObject):
    """Opens one file, or its folder, for the buttons it is connected to.

    Bound methods rather than lambdas: a lambda holding another widget, connected to a
    button, crashed PySide when the dialog was deleted."""

    def __init__(self, path: Path, owner: QWidget) -> None:
        super().__init__(owner)
        self.path = path
        self._owner = owner

    @Slot()
    def open_file(self) -> None:
        open_file(self.path, self._owner.window())

    @Slot()
    def show_in_folder(self) -> None:
        show_in_folder(self.path, self._owner.window())


def add_file_buttons(buttons: QDialogButtonBox, path: Path) -> tuple[QPushButton, QPushButton]:
    """Open and Show in folder buttons for `path` in a dialog's button box."""
    opener = _FileOpener(Path(path), buttons)
    open_button = QPushButton(icons.icon("open-file"), "&Open")
    open_button.setToolTip(f"Open {opener.path.name}")
    open_button.setAutoDefault(False)
    open_button.clicked.connect(opener.open_file)
    folder_button = QPushButton(icons.icon("folder"), "Show in &folder")
    folder_button.setToolTip(str(opener.path.parent))
    folder_button.setAutoDefault(False)
    folder_button.clicked.connect(opener.show_in_folder)
    buttons.addButton(open_button, QDialogButtonBox.ButtonRole.ActionRole)
    buttons.addButton(folder_button, QDialogButtonBox.ButtonRole.ActionRole)
    return open_button, folder_button


class SavedFileMessage(QMessageBox):
    """ "Saved … <file>" with Open, Show in folder and Close; any of them closes it."""

    def __init__(
        self,
        parent: QWidget | None,
        path: Path,
        text: str | None = None,
        *,
        title: str = "File saved",
        note: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.setIcon(QMessageBox.Icon.Information)
        self.setWindowTitle(title)
        self.setText(text or f"Saved {self.path.name}.")
        informative = f"In {self.path.parent}"
        self.setInformativeText(f"{informative}\n\n{note}" if note else informative)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A QMessageBox closes on whichever of its buttons is pressed: Open opens, and
        # the message has done its job.
        opener = _FileOpener(self.path, self)
        self.open_button = self.addButton("&Open", QMessageBox.ButtonRole.ActionRole)
        self.open_button.setIcon(icons.icon("open-file"))
        self.open_button.setToolTip(f"Open {self.path.name}")
        self.open_button.clicked.connect(opener.open_file)
        self.folder_button = self.addButton("Show in &folder", QMessageBox.ButtonRole.ActionRole)
        self.folder_button.setIcon(icons.icon("folder"))
        self.folder_button.setToolTip(str(self.path.parent))
        self.folder_button.clicked.connect(opener.show_in_folder)
        self.close_button = self.addButton(QMessageBox.StandardButton.Close)
        self.close_button.setText("&Close")
        self.setDefaultButton(self.close_button)
        self.setEscapeButton(self.close_button)


def show_saved(
    parent: QWidget | None,
    path: Path | str,
    text: str | None = None,
    *,
    title: str = "File saved",
    note: str | None = None,
) -> SavedFileMessage:
    """Say that `path` was written (`text` names it; by default "Saved <name>."), without
    blocking: the window goes on working while the message is up."""
    box = SavedFileMessage(parent, Path(path), text, title=title, note=note)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
