"""The program's icons: one set, Material Design Icons, drawn from the icon font that the
QtAwesome package ships (no image files to keep in step; sharp at any size and scale).

Code asks for an icon by what it means (`icon("print")`), never by a glyph name, so the
set can change in one place (`GLYPHS`). Icons take the colours of the application's
palette (text, and the disabled text colour for disabled actions), so they follow the
style chosen by `ui/look.py` and a dark palette; `reset()` forgets the icons made so far
when the palette changes.

Licences (README, docs/gui.md and Help › About say the same; the texts are in
resources/licenses/): Material Design Icons 6.9.96 by Pictogrammers, Apache License 2.0;
QtAwesome by the Spyder project, MIT.
"""

from __future__ import annotations

import logging
import os
from importlib import metadata
from typing import Any

from PySide6.QtGui import QGuiApplication, QIcon, QPalette

__all__ = ["GLYPHS", "ICON_LICENCE", "available", "icon", "load", "reset"]

log = logging.getLogger(__name__)

#: What an icon means -> its Material Design Icons 6 glyph.
GLYPHS: dict[str, str] = {
    # records and lists
    "new": "file-document-plus-outline",
    "open": "open-in-new",
    "deactivate": "archive-arrow-down-outline",
    "find": "magnify",
    "refresh": "refresh",
    "next-tab": "arrow-right",
    "previous-tab": "arrow-left",
    # files
    "export": "file-export-outline",
    "import": "file-import-outline",
    "open-file": "file-eye-outline",
    "folder": "folder-outline",
    "close": "close",
    "quit": "exit-to-app",
    "save": "content-save-outline",
    # documents
    "print": "printer",
    "preview": "printer-eye",
    "pdf": "file-pdf-box",
    # sales
    "new-order": "cart-plus",
    "new-customer": "account-plus",
    "submit": "send",
    "confirm": "check-circle-outline",
    "approve": "check-decagram",
    "ship": "truck-delivery-outline",
    "actions": "dots-vertical",
    # inventory
    "receive": "tray-arrow-down",
    "adjust": "tune-vertical",
    "transfer": "swap-horizontal",
    "count": "clipboard-check-outline",
    "new-category": "shape-plus-outline",
    # administration and help
    "users": "account-multiple",
    "health": "heart-pulse",
    "backup": "database-arrow-up-outline",
    "restore": "backup-restore",
    "connection": "lan-connect",
    "shortcuts": "keyboard-outline",
    "about": "information-outline",
    "help": "help-circle-outline",
    # standard dialog buttons (ui/look.py)
    "ok": "check",
    "discard": "delete-outline",
}

#: Said in Help › About (and the README): whose icons, under which licences.
ICON_LICENCE = (
    "Material Design Icons 6.9.96 by Pictogrammers, Apache License 2.0; drawn with "
    "QtAwesome by the Spyder project, MIT License (texts in resources/licenses)"
)

_PREFIX = "mdi6"
_cache: dict[str, QIcon] = {}
_failed = False


def _qtawesome() -> Any:
    # QtPy picks a binding by this variable before anything else: the program is PySide6,
    # and a PyQt installed beside it must not be mixed in.
    os.environ["QT_API"] = "pyside6"
    import qtawesome

    return qtawesome


def load() -> bool:
    """Load the icon font now (start-up logs whether it worked); False if it cannot be,
    in which case every icon is empty and the program works on with text alone."""
    global _failed
    if _failed:
        return False
    try:
        qta = _qtawesome()
        qta.icon(f"{_PREFIX}.{GLYPHS['print']}")
    except Exception:
        _failed = True
        log.exception("the icon font could not be loaded; actions show text only")
        return False
    log.info(
        "icons: Material Design Icons 6.9.96 through QtAwesome %s", metadata.version("qtawesome")
    )
    return True


def available() -> bool:
    return load()


def icon(name: str) -> QIcon:
    """The icon that means `name` (a key of GLYPHS), in the palette's colours."""
    cached = _cache.get(name)
    if cached is not None:
        return cached
    glyph = GLYPHS[name]  # a KeyError is a typo in our code, not the user's problem
    if not load():
        return QIcon()
    palette = QGuiApplication.palette()
    made: QIcon = _qtawesome().icon(
        f"{_PREFIX}.{glyph}",
        color=palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText),
        color_active=palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText),
        color_disabled=palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText),
        color_selected=palette.color(
            QPalette.ColorGroup.Active, QPalette.ColorRole.HighlightedText
        ),
    )
    _cache[name] = made
    return made


def reset() -> None:
    """Forget the icons made so far (the palette changed: the next ones take its colours)."""
    _cache.clear()
