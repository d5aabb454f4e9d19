"""What the GUI benchmarks share: a heartbeat on the GUI thread, memory, and Qt's QPSQL.

Imported by the scripts beside it (`python benchmarks/x.py` puts this folder on sys.path).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy.engine import URL

TICK_MS = 5
TIMEOUT_S = 120.0


def rss_bytes() -> int:
    """This process's resident memory (psutil when installed, else /proc/self/status)."""
    try:
        import psutil
    except ImportError:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS in /proc/self/status") from None
    return int(psutil.Process(os.getpid()).memory_info().rss)


class StallMeter:
    """The longest time the GUI thread went without running a 5 ms timer.

    Each tick also samples the resident memory, so a step's peak is seen even when the
    memory is given back before it ends.
    """

    def __init__(self, *, sample_memory: bool = False) -> None:
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._sample_memory = sample_memory
        self.longest_ms = 0
        self.peak_rss = 0

    def _tick(self) -> None:
        self.longest_ms = max(self.longest_ms, self._clock.restart())
        if self._sample_memory:
            self.peak_rss = max(self.peak_rss, rss_bytes())

    def start(self) -> None:
        self.longest_ms = 0
        self._clock.start()
        self._timer.start()

    def stop(self) -> int:
        self._timer.stop()
        if self._sample_memory:
            self.peak_rss = max(self.peak_rss, rss_bytes())
        # A freeze that lasts until the very end never saw a tick after it: count it too.
        return max(self.longest_ms, self._clock.elapsed())


def run_until(app: QApplication, done: Callable[[], bool], timeout_s: float = TIMEOUT_S) -> None:
    start = time.perf_counter()
    while not done():
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError("gave up waiting")
        app.processEvents()


def measure(
    app: QApplication, meter: StallMeter, action: Callable[[], None], done: Callable[[], bool]
) -> tuple[float, int]:
    """(ms until `done`, longest GUI-thread freeze in ms) for `action`."""
    meter.start()
    start = time.perf_counter()
    action()
    run_until(app, done)
    return (time.perf_counter() - start) * 1000, meter.stop()


def open_qpsql(url: URL, connection_name: str) -> Any:
    """A QSqlDatabase over Qt's own PostgreSQL driver, or None (with the reason printed)."""
    from PySide6.QtSql import QSqlDatabase

    if not QSqlDatabase.isDriverAvailable("QPSQL"):
        print("baseline: QPSQL driver not available in this PySide6")
        return None
    db = QSqlDatabase.addDatabase("QPSQL", connection_name)
    host = url.host or url.query.get("host") or os.environ.get("PGHOST", "")
    db.setHostName(str(host))
    if url.port:
        db.setPort(url.port)
    db.setDatabaseName(url.database or "")
    db.setUserName(url.username or "")
    db.setPassword(url.password or "")
    if not db.open():
        print(f"baseline: cannot open: {db.lastError().text()}")
        return None
    return db
