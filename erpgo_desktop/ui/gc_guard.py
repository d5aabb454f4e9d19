"""Python's garbage collector runs on the GUI thread only.

The collector runs in whichever thread happens to allocate when a generation fills up.
On a worker (a TaskRunner task compiling a query, say) it may free a cycle holding Qt
objects, whose C++ destructors then run on that worker: a QObject's destructor takes Qt's
signal-slot lock, then waits for Python's lock to tell its wrapper; the GUI thread, which
holds Python's lock, waits in QObject::connect for Qt's. The program freezes (seen: a
test hung signing in while a list counted its rows). qutebrowser solves it the same way
(`misc/objects.py`, its garbage collector): automatic collection off, and the GUI thread
collecting on a timer, generation by generation, as the automatic collector would.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

#: Often enough that memory never grows far, seldom enough to cost nothing noticeable.
INTERVAL_MS = 1000


class MainThreadCollector(QObject):
    """Create it on the GUI thread; it disables automatic collection (for good: the one
    running at the end puts it back with gc.enable() if it must)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    def collect(self) -> None:
        """Collect the generations that are over their threshold, as Python would."""
        thresholds = gc.get_threshold()
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return
