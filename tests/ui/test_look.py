"""The look (ui/look.py, ui/icons.py): the style each platform gets, a tidy palette with
Fusion, and an icon on every toolbar action and every action of the main menus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import QApplication, QMenu, QStyle
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.ui import icons, look
from erpgo_desktop.ui.main_window import MainWindow
from erpgo_desktop.ui.tasks import TaskRunner
from tests.ui.dialog_support import make_staff

WINDOWS_QT = ["windows11", "windowsvista", "Windows", "Fusion"]


def test_each_platform_gets_its_own_style() -> None:
    assert look.style_for("win32", WINDOWS_QT) == "windows11"
    assert look.style_for("win32", ["windowsvista", "Windows", "Fusion"]) == "windowsvista"
    assert look.style_for("darwin", ["macOS", "Windows", "Fusion"]) == "macOS"
    # Elsewhere Fusion, even where the desktop offers its own theme's style.
    assert look.style_for("linux", ["Breeze", "Windows", "Fusion"]) == "Fusion"
    # A Windows build of Qt without its native style plugin: Fusion, not the 1995 look.
    assert look.style_for("win32", ["Windows", "Fusion"]) == "Fusion"
    assert look.toolbar_style("darwin") == Qt.ToolButtonStyle.ToolButtonTextUnderIcon
    assert look.toolbar_style("linux") == Qt.ToolButtonStyle.ToolButtonTextBesideIcon


@pytest.fixture
def restored_look(qapp: QApplication) -> Iterator[QApplication]:
    style, palette = qapp.style().name(), qapp.palette()
    yield qapp
    qapp.setStyle(style)
    qapp.setPalette(palette)
    icons.reset()


def test_on_linux_the_application_gets_fusion_and_the_tidy_palette(
    restored_look: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = restored_look
    monkeypatch.delenv("QT_STYLE_OVERRIDE", raising=False)
    app.setStyle("Windows")
    assert look.apply_look(app, "linux") == "Fusion"
    assert look.style_name(app).lower() == "fusion"
    # Fusion's dialog buttons take their icons from the program's set.
    ok = app.style().standardIcon(QStyle.StandardPixmap.SP_DialogOkButton)
    assert ok.cacheKey() == icons.icon("ok").cacheKey()
    tidy = look.tidy_palette(dark=app.styleHints().colorScheme() == Qt.ColorScheme.Dark)
    role = QPalette.ColorRole
    for colour_role in (role.Window, role.Base, role.Highlight, role.ButtonText):
        assert app.palette().color(colour_role) == tidy.color(colour_role)
    disabled = app.palette().color(QPalette.ColorGroup.Disabled, role.ButtonText)
    assert disabled != app.palette().color(role.ButtonText)  # disabled reads as such

    # Someone who chose a style keeps it.
    monkeypatch.setenv("QT_STYLE_OVERRIDE", "Windows")
    app.setStyle("Windows")
    assert look.apply_look(app, "linux").lower() == "windows"
    assert look.style_name(app).lower() == "windows"


def menu_actions(window: MainWindow) -> list[QAction]:
    """The actions of the main menus and their submenus' own entries (Sales › Print …)."""
    found: list[QAction] = []
    for top in window.menuBar().actions():
        menu = top.menu()
        assert isinstance(menu, QMenu)
        for action in menu.actions():
            if action.isSeparator() or not action.isVisible():
                continue
            found.append(action)
            submenu = action.menu()
            if isinstance(submenu, QMenu) and submenu.title() == "&Print":
                found += [a for a in submenu.actions() if not a.isSeparator()]
    return found


def test_every_toolbar_and_menu_action_has_an_icon(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, tmp_path: Path
) -> None:
    staff = make_staff(engine)
    window = MainWindow(
        services=staff.services,
        runner=runner,
        user=staff.admin,
        location_description="test database",
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    window.show()

    assert icons.available()
    toolbar = [a for a in window.toolbar.actions() if not a.isSeparator()]
    assert [a.text().replace("&", "") for a in toolbar] == [
        "New…", "Open", "Refresh", "Export list…", "Print",
    ]  # fmt: skip
    assert window.toolbar.toolButtonStyle() == look.toolbar_style()
    actions = menu_actions(window)
    assert len(actions) >= 30  # an administrator sees every menu
    missing = [a.text() for a in toolbar + actions if a.icon().isNull()]
    assert not missing, f"without an icon: {missing}"
    # One set: the same meaning, the same icon (and so one for the toolbar and the menu).
    assert window.new_action.icon().cacheKey() == icons.icon("new").cacheKey()
    # The tabs' main buttons too.
    assert window.orders is not None and not window.orders.new_button.icon().isNull()
