"""A screen reads its data when it is first shown, not when it is built.

The main window builds every tab at sign-in, but the person sees one of them: reading the
others then (a report over a million stock rows, the dashboard's aggregates) only competes
with the first screen for the server. So each tab, and each page of the users window,
hands its first load to `load_when_first_shown`: the load runs on the widget's first
Show event, which Qt sends when the widget becomes visible (the window is shown with it as
the current tab, or the tab is chosen), and never again. Before that the tab holds its
models (`PagedTableModel.hold`): a sort restored from the settings or a filter set from
elsewhere only chooses what the first load will read.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


class FirstShow(QObject):
    """Runs `load` once, when `widget` is first shown (see the module docstring)."""

    def __init__(self, widget: QWidget, load: Callable[[], None]) -> None:
        super().__init__(widget)
        self._widget = widget
        self._load: Callable[[], None] | None = load
        if widget.isVisible():
            self._run()
        else:
            widget.installEventFilter(self)

    @property
    def done(self) -> bool:
        """The first load has been started."""
        return self._load is None

    def run_now(self) -> None:
        """Start the first load now if it has not started (a filter set on a hidden tab
        that the person is about to see)."""
        self._run()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._widget and event.type() == QEvent.Type.Show:
            self._run()
        return False

    def _run(self) -> None:
        load, self._load = self._load, None
        if load is None:
            return
        self._widget.removeEventFilter(self)
        load()


def load_when_first_shown(widget: QWidget, load: Callable[[], None]) -> FirstShow:
    """Call `load` when `widget` is first shown (at once if it is visible already)."""
    return FirstShow(widget, load)
