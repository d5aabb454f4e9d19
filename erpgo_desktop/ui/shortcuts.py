"""Help > Keyboard shortcuts: every menu action with its keys, read from the menus
themselves (so the list cannot drift from what the keys do), and the keys of lists and
dialogs, which belong to no menu."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMenu,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.ui.window_fit import fit_to_content

#: (where, keys, what they do) for keys that no menu action carries.
CONTEXT_KEYS: tuple[tuple[str, str, str], ...] = (
    ("Lists", "Enter", "Open the selected record"),
    ("Lists", "Down (in the search box)", "Go from the search box into the list"),
    ("Lists", "Escape (in the search box)", "Clear the search; again: back to the list"),
    ("Lists", "Ctrl+Home / Ctrl+End", "First / last row"),
    ("Lists", "Tab", "Leave the list for the next field"),
    ("Dialogs", "Ctrl+S", "Save"),
    ("Dialogs", "Escape / Ctrl+W", "Close (asks first when something was typed)"),
    ("Dialogs", "Tab / Shift+Tab", "Next / previous field"),
    ("Dialogs", "Alt + underlined letter", "Go to that field or press that button"),
    ("Scanner fields", "a code, then Enter", "Find the product or variant by SKU or barcode"),
)


def menu_shortcuts(menu_bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, keys, action) for each visible menu action that has a shortcut."""
    found: list[tuple[str, str, str]] = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if not action.isVisible() or action.isSeparator():
                continue
            submenu = action.menu()
            if isinstance(submenu, QMenu):
                walk(submenu, f"{path} › {_plain(action.text())}")
                continue
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys:
                found.append((path, keys, _plain(action.text())))

    for action in menu_bar.actions():
        menu = action.menu()
        if action.isVisible() and isinstance(menu, QMenu):
            walk(menu, _plain(action.text()))
    return found


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…")


class ShortcutsDialog(QDialog):
    def __init__(self, menu_bar: QMenuBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_fitter = fit_to_content(self)  # grows to what it shows
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(620, 520)
        rows = [*menu_shortcuts(menu_bar), *CONTEXT_KEYS]
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Where", "Keys", "What"])
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.resizeColumnsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
