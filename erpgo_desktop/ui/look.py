"""How the program looks: the platform's own style where it has one, a clean one elsewhere.

- Windows: Qt's native Windows style ("windows11" on Qt versions that have it, else
  "windowsvista"); macOS: "macOS". Native controls, native dialogs, the system's colours.
- Elsewhere (Linux and the rest): "Fusion" with a tidy palette of our own — light, or
  dark when the desktop says it prefers dark — rather than whatever grey the session
  leaves: a bundled program finds no desktop theme plugin to match (no Breeze or Adwaita
  for its own Qt), and Fusion looks the same on every desktop.
- Whoever chose a style themselves (`-style` on the command line, `QT_STYLE_OVERRIDE`)
  keeps it.

`apply_look(app)` is called once at start-up, before any window; `toolbar_style()` says
how toolbar buttons show icon and text on the platform.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleOption,
    QWidget,
)

from erpgo_desktop.ui import icons

__all__ = ["OneIconSet", "apply_look", "style_for", "style_name", "tidy_palette", "toolbar_style"]

log = logging.getLogger(__name__)

#: The native styles, best first, by platform (sys.platform).
NATIVE_STYLES: dict[str, tuple[str, ...]] = {
    "win32": ("windows11", "windowsvista"),
    "darwin": ("macOS",),
}
CLEAN_STYLE = "Fusion"


_PIXMAP = QStyle.StandardPixmap
#: The dialog buttons' standard icons, from the program's set (ui/icons.py).
STANDARD_ICONS: dict[QStyle.StandardPixmap, str] = {
    _PIXMAP.SP_DialogOkButton: "ok",
    _PIXMAP.SP_DialogApplyButton: "ok",
    _PIXMAP.SP_DialogYesButton: "ok",
    _PIXMAP.SP_DialogSaveButton: "save",
    _PIXMAP.SP_DialogOpenButton: "open-file",
    _PIXMAP.SP_DialogCancelButton: "close",
    _PIXMAP.SP_DialogCloseButton: "close",
    _PIXMAP.SP_DialogNoButton: "close",
    _PIXMAP.SP_DialogDiscardButton: "discard",
    _PIXMAP.SP_DialogResetButton: "refresh",
    _PIXMAP.SP_DialogHelpButton: "help",
}


class OneIconSet(QProxyStyle):
    """Fusion with its dialog buttons' icons (OK, Cancel, Save, Close, …) taken from the
    program's icon set: Fusion shows icons on those buttons, and its own are of another
    set and another age."""

    def standardIcon(
        self,
        standardIcon: QStyle.StandardPixmap,
        option: QStyleOption | None = None,
        widget: QWidget | None = None,
    ) -> QIcon:
        name = STANDARD_ICONS.get(standardIcon)
        if name is not None:
            icon = icons.icon(name)
            if not icon.isNull():
                return icon
        return super().standardIcon(standardIcon, option, widget)


def style_name(app: QApplication) -> str:
    """The application style's name (that of the style under our OneIconSet)."""
    style = app.style()
    if isinstance(style, QProxyStyle) and style.baseStyle() is not None:
        return style.baseStyle().name()
    return style.name()


def style_for(platform: str, available: Sequence[str]) -> str:
    """The style to use on `platform` among the `available` ones (QStyleFactory.keys())."""
    by_lower = {name.lower(): name for name in available}
    for wanted in NATIVE_STYLES.get(platform, ()):
        if wanted.lower() in by_lower:
            return by_lower[wanted.lower()]
    return CLEAN_STYLE


def toolbar_style(platform: str = sys.platform) -> Qt.ToolButtonStyle:
    """macOS puts a toolbar's text under its icons; Windows and Linux desktops beside them."""
    if platform == "darwin":
        return Qt.ToolButtonStyle.ToolButtonTextUnderIcon
    return Qt.ToolButtonStyle.ToolButtonTextBesideIcon


def _style_chosen_by_user(arguments: Sequence[str]) -> bool:
    if os.environ.get("QT_STYLE_OVERRIDE"):
        return True
    return any(arg in ("-style", "--style") or arg.startswith("-style=") for arg in arguments)


def apply_look(app: QApplication, platform: str = sys.platform) -> str:
    """Set the style (and with Fusion the palette) for `platform`; returns the style's name."""
    if _style_chosen_by_user(app.arguments()):
        name = style_name(app)
        log.info("style: %s, as chosen on the command line or in QT_STYLE_OVERRIDE", name)
        icons.reset()
        return name
    name = style_for(platform, QStyleFactory.keys())
    if name == CLEAN_STYLE:
        dark = app.styleHints().colorScheme() == Qt.ColorScheme.Dark
        app.setPalette(tidy_palette(dark=dark))
        # Icons take the palette's colours: made after it is set.
        icons.reset()
        app.setStyle(OneIconSet(QStyleFactory.create(CLEAN_STYLE)))
    else:
        app.setStyle(name)
        icons.reset()
    log.info("style: %s", style_name(app))
    return name


def tidy_palette(*, dark: bool = False) -> QPalette:
    """A calm palette for Fusion: near-white (or near-black) surfaces, one blue accent,
    readable disabled text."""
    if dark:
        window, base, alternate, text = "#2b2d30", "#1f2023", "#27292c", "#e3e5e8"
        button, mid, dim, highlight, link = "#35373b", "#4a4d52", "#8b9098", "#3b78d8", "#7fb0ff"
        tip_base, tip_text = "#3a3c40", "#e3e5e8"
    else:
        window, base, alternate, text = "#f3f4f6", "#ffffff", "#f4f6f9", "#1c1e21"
        button, mid, dim, highlight, link = "#e9ebee", "#c3c7cd", "#8a9099", "#2c6bc4", "#1d5fb8"
        tip_base, tip_text = "#fffbe6", "#1c1e21"
    palette = QPalette()
    role = QPalette.ColorRole
    everywhere = {
        role.Window: window,
        role.WindowText: text,
        role.Base: base,
        role.AlternateBase: alternate,
        role.Text: text,
        role.Button: button,
        role.ButtonText: text,
        role.BrightText: "#ffffff",
        role.Highlight: highlight,
        role.HighlightedText: "#ffffff",
        role.Link: link,
        role.LinkVisited: link,
        role.ToolTipBase: tip_base,
        role.ToolTipText: tip_text,
        role.PlaceholderText: dim,
        role.Mid: mid,
        role.Midlight: alternate,
        role.Dark: mid,
        role.Shadow: "#000000" if dark else "#9aa0a6",
        role.Light: button if dark else "#ffffff",
    }
    for colour_role, colour in everywhere.items():
        palette.setColor(colour_role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for colour_role in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(disabled, colour_role, QColor(dim))
    palette.setColor(disabled, role.Highlight, QColor(mid))
    palette.setColor(disabled, role.Base, QColor(window))
    return palette
