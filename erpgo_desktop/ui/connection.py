"""Whether the database server can be reached, for the status bar.

`ConnectionMonitor` pings the server (`HealthService.ping`) off the GUI thread every few
seconds, more often while it is away, and at once when a task failed with
`ConnectionLostError`; it emits `state_changed(online, message)` when the answer changes.
A ping that gets no answer within a few seconds counts as "unreachable" without waiting
for the network to give up. Nothing else needs to happen to reconnect: the services'
connection pool replaces broken connections by itself, and `ChangeFeed` listens again
(and asks for a full refresh) on its own; the monitor only tells the user. A ping refused
because the person's account was deactivated is no outage: the monitor emits
`account_disabled(error)` and stops (ui/session.py signs the person out).

    monitor = ConnectionMonitor(services.health.ping, parent=window)
    runner.task_failed.connect(monitor.notice_failure)
    indicator = ConnectionIndicator(monitor, server=location_description)
    window.statusBar().addPermanentWidget(indicator)
    monitor.start()
    ...
    monitor.stop()  # on close, before the engine is disposed
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel, QWidget

from erpgo_desktop.errors import AccountDisabledError, ConnectionLostError, ErpError
from erpgo_desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

#: Milliseconds between pings while connected, and while the server is away.
PING_INTERVAL_MS = 5000
RETRY_INTERVAL_MS = 2000
#: A ping without an answer after this long means the server does not answer.
ANSWER_TIMEOUT_MS = 5000

CONNECTED_MESSAGE = "Connected to the database server."
NO_ANSWER_MESSAGE = (
    "The database server does not answer. Your work is kept; the program keeps trying."
)
UNUSABLE_MESSAGE = (
    "The database server cannot be used right now (the details are in the log file). "
    "Your work is kept; the program keeps trying."
)


class ConnectionMonitor(QObject):
    """Pings the server and says when it is reachable or not. Create it on the GUI thread.

    `ping` is any callable that returns when the server answered and raises when it did
    not (`HealthService.ping`); it runs on a worker thread of the monitor's own, one at
    a time, so a ping stuck on the network never holds up the window's work.
    """

    #: (online, a sentence for the user) whenever the state changes; the first answer after
    #: start() is always reported.
    state_changed = Signal(bool, str)
    #: A ping was refused because the person's account was deactivated (the
    #: AccountDisabledError); the monitor stops: the server answers, but not to them.
    account_disabled = Signal(object)

    def __init__(
        self,
        ping: Callable[[], object],
        parent: QObject | None = None,
        *,
        interval_ms: int = PING_INTERVAL_MS,
        retry_ms: int = RETRY_INTERVAL_MS,
        answer_timeout_ms: int = ANSWER_TIMEOUT_MS,
    ) -> None:
        super().__init__(parent)
        self._ping = ping
        self._interval_ms = interval_ms
        self._retry_ms = retry_ms
        self._online: bool | None = None
        self._message = ""
        self._running = False
        self._in_flight = False
        self._runner = TaskRunner(self, max_threads=1, on_failure=self._ping_failed)
        self._next = QTimer(self)
        self._next.setSingleShot(True)
        self._next.timeout.connect(self.check_now)
        self._overdue = QTimer(self)
        self._overdue.setSingleShot(True)
        self._overdue.setInterval(answer_timeout_ms)
        self._overdue.timeout.connect(self._no_answer)

    @property
    def online(self) -> bool | None:
        """The last answer; None before the first."""
        return self._online

    @property
    def message(self) -> str:
        return self._message

    def start(self) -> None:
        """Ping now, then every few seconds until stop()."""
        self._running = True
        self.check_now()

    def stop(self, timeout_ms: int = 5000) -> bool:
        """No more pings; waits for one under way (True when none is left running)."""
        self._running = False
        self._next.stop()
        self._overdue.stop()
        return self._runner.wait(timeout_ms)

    @Slot()
    def check_now(self) -> None:
        """Ping at once (unless a ping is under way: its answer is as good)."""
        if not self._running or self._in_flight:
            return
        self._next.stop()
        self._in_flight = True
        self._overdue.start()
        self._runner.run(self._ping, self._ping_answered)

    @Slot(object)
    def notice_failure(self, error: BaseException) -> None:
        """A task failed: when the connection was the cause, find out now whether it is back
        (SQLAlchemy may already have replaced the connection) rather than at the next ping."""
        if isinstance(error, ConnectionLostError):
            self.check_now()

    def _ping_answered(self, _result: object) -> None:
        if self._finished():
            self._set_state(True, CONNECTED_MESSAGE)

    def _ping_failed(self, error: BaseException) -> None:
        if not self._finished():
            return
        if isinstance(error, AccountDisabledError):
            self._running = False
            self._next.stop()
            self.account_disabled.emit(error)
            return
        # Not an ErpError: logged with its traceback by the runner. Not a lost connection,
        # but the server cannot be worked with either (say, too many connections).
        message = error.message if isinstance(error, ErpError) else UNUSABLE_MESSAGE
        self._set_state(False, message)

    def _finished(self) -> bool:
        """A ping came back; whether its answer still matters (not after stop())."""
        self._in_flight = False
        self._overdue.stop()
        return self._running

    @Slot()
    def _no_answer(self) -> None:
        if self._in_flight:
            log.warning("the database server does not answer a ping")
            self._set_state(False, NO_ANSWER_MESSAGE)

    def _set_state(self, online: bool, message: str) -> None:
        self._next.start(self._interval_ms if online else self._retry_ms)
        if online == self._online and message == self._message:
            return
        if online != self._online:
            log.log(
                logging.INFO if online else logging.WARNING,
                "database server %s",
                "reachable" if online else f"unreachable: {message}",
            )
        self._online, self._message = online, message
        self.state_changed.emit(online, message)


CONNECTED_TEXT = "● Connected"
OFFLINE_TEXT = "● Server unreachable — reconnecting…"
CHECKING_TEXT = "○ Connecting…"
CONNECTED_COLOUR = "#1a7f37"
OFFLINE_COLOUR = "#b3261e"


class ConnectionIndicator(QLabel):
    """The status bar's connection state, in words as well as colour (a colour alone says
    nothing to a colour-blind user or a screen reader). The tooltip has the details."""

    def __init__(
        self,
        monitor: ConnectionMonitor | None = None,
        parent: QWidget | None = None,
        *,
        server: str = "",
    ) -> None:
        super().__init__(parent)
        self._server = server
        self.online: bool | None = None
        self._show(CHECKING_TEXT, "", "Checking the connection to the database server.")
        if monitor is not None:
            monitor.state_changed.connect(self.set_state)
            if monitor.online is not None:
                self.set_state(monitor.online, monitor.message)

    @Slot(bool, str)
    def set_state(self, online: bool, message: str) -> None:
        self.online = online
        if online:
            self._show(CONNECTED_TEXT, CONNECTED_COLOUR, message)
        else:
            self._show(OFFLINE_TEXT, OFFLINE_COLOUR, message)

    def _show(self, text: str, colour: str, message: str) -> None:
        self.setText(text)
        self.setStyleSheet(f"QLabel {{ color: {colour}; }}" if colour else "")
        where = f"\nServer: {self._server}" if self._server else ""
        self.setToolTip(f"{message}{where}")
        self.setAccessibleName(f"Connection: {text.lstrip('●○ ')}")
        self.setAccessibleDescription(message)
