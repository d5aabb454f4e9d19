"""Live refresh: other workstations' commits, delivered to widgets on the GUI thread.

`ChangeFeed` runs a `services.notifications.ChangeListener` on a thread of its own and
re-emits what it hears as `changed(Change)` on the GUI thread. A bulk import on another
workstation commits thousands of times a minute; a screen should refresh a few times a
second at most, so changes are throttled: the first change after a quiet spell goes out
at once (a colleague's single edit shows within milliseconds), and what arrives in the
next `coalesce_ms` is merged per table and operation into one change (ids united; more
than the triggers' 100 ids, or any change without ids, becomes "reload the table"; a
reconnect's `Change.reload_everything()` replaces everything pending).

    feed = ChangeFeed(engine.url, parent=window)
    feed.changed.connect(products_model.apply_change)
    feed.listening_changed.connect(...)   # False while the server is away
    feed.account_disabled.connect(...)    # the person's account may no longer connect
    feed.start()
    ...
    feed.stop()                           # on close; returns within a quarter second

Every commit is announced, this workstation's own included: a list refreshing the row it
has just saved costs a lookup, and an edit dialog for a record saved from another window
of this program is "changed elsewhere" too.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Sequence
from typing import cast

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from erpgo_desktop.errors import AccountDisabledError
from erpgo_desktop.services.notifications import ALL_TABLES, Change, ChangeListener

log = logging.getLogger(__name__)

#: Milliseconds after a delivery during which further changes are gathered into one.
COALESCE_MS = 150
#: More ids than this in one merged change mean "reload the table" (as from the triggers).
MAX_IDS = 100
#: Pauses between reconnects: short, because live refresh should come back soon after the
#: server does (a failed connect to a server that is down costs next to nothing).
FEED_BACKOFF: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0)
#: Seconds stop() waits for the listening thread (one look at the stop flag is 0.25 s).
STOP_TIMEOUT = 2.0


class ChangeBatch:
    """Changes merged per (table, operation, origin), in the order first heard. No Qt.

    The origin stays apart: a batch that merged this workstation's own changes with
    nobody's would tell its open records that someone else changed them (a partial
    shipment's own order showed "Someone else changed this record")."""

    def __init__(self, max_ids: int = MAX_IDS) -> None:
        self._max_ids = max_ids
        # None: reload the table; otherwise the ids, in order, without repeats.
        self._pending: dict[tuple[str, str, str | None], dict[uuid.UUID, None] | None] = {}
        self._everything = False

    def __bool__(self) -> bool:
        return self._everything or bool(self._pending)

    def add(self, change: Change) -> None:
        if change.table == ALL_TABLES:
            self._everything = True
            self._pending.clear()
            return
        if self._everything:
            return  # already reloading everything
        key = (change.table, change.op, change.origin)
        if key in self._pending:
            ids = self._pending[key]
            if ids is None:
                return
        else:
            ids = self._pending[key] = {}
        if change.ids is None:
            self._pending[key] = None
            return
        ids.update(dict.fromkeys(change.ids))
        if len(ids) > self._max_ids:
            self._pending[key] = None

    def take(self) -> list[Change]:
        """The merged changes; the batch is empty afterwards."""
        if self._everything:
            merged = [Change.reload_everything()]
        else:
            merged = [
                Change(table, op, None if ids is None else tuple(ids), origin)
                for (table, op, origin), ids in self._pending.items()
            ]
        self.clear()
        return merged

    def clear(self) -> None:
        self._pending.clear()
        self._everything = False


class ChangeFeed(QObject):
    """Other workstations' commits as a Qt signal. Create and use it on the GUI thread.

    `url` is the database URL (`engine.url`, or the same as a string; the ui layer does not
    import SQLAlchemy to spell its type); the feed LISTENs on a connection of its own.
    """

    #: A `Change` (table, op, ids or None for "reload the table"); `Change.concerns(table)`
    #: also answers True for `Change.reload_everything()`, sent after a reconnect.
    changed = Signal(object)
    #: True once the LISTEN is in place, False when the connection is lost or on stop().
    listening_changed = Signal(bool)
    #: The server ended the listening session and refuses a new one to this person (an
    #: AccountDisabledError): the feed has stopped for good.
    account_disabled = Signal(object)

    # From the listening thread, with the run they belong to: after stop() or a restart,
    # what an older run still had queued is dropped.
    _heard = Signal(int, object)
    _listening_heard = Signal(int, bool)
    _refused = Signal(int, object)

    def __init__(
        self,
        url: object,
        parent: QObject | None = None,
        *,
        coalesce_ms: int = COALESCE_MS,
        backoff: Sequence[float] = FEED_BACKOFF,
        wait: float = 0.25,
    ) -> None:
        super().__init__(parent)
        self._url = url
        self._backoff = tuple(backoff)
        self._wait = wait
        self._batch = ChangeBatch()
        self._listener: ChangeListener | None = None
        self._thread: threading.Thread | None = None
        self._run = 0
        self._listening = False
        self._window = QTimer(self)
        self._window.setSingleShot(True)
        self._window.setInterval(coalesce_ms)
        self._window.timeout.connect(self._flush)
        self._heard.connect(self._on_heard, Qt.ConnectionType.QueuedConnection)
        self._listening_heard.connect(self._on_listening, Qt.ConnectionType.QueuedConnection)
        self._refused.connect(self._on_refused, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> bool:
        return self._listener is not None

    @property
    def listening(self) -> bool:
        return self._listening

    def start(self) -> None:
        """Start listening (on a thread of its own); does nothing when running already."""
        if self._listener is not None:
            return
        self._run += 1
        run = self._run
        heard, listening, refused = self._heard, self._listening_heard, self._refused

        # Both run on the listening thread: only signals, never the feed's state.
        # RuntimeError: the feed's Qt object was deleted without stop(); nobody to tell.
        def on_change(change: Change) -> None:
            with contextlib.suppress(RuntimeError):
                heard.emit(run, change)

        def on_listening(now: bool) -> None:
            with contextlib.suppress(RuntimeError):
                listening.emit(run, now)

        listener = self._listener = ChangeListener(
            cast(str, self._url), wait=self._wait, backoff=self._backoff, on_listening=on_listening
        )

        def listen() -> None:
            try:
                listener.run(on_change)
            except AccountDisabledError as error:
                with contextlib.suppress(RuntimeError):
                    refused.emit(run, error)

        self._thread = threading.Thread(target=listen, name="erpgo-changes", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Stop listening and drop what is pending; True when the thread has ended.

        The thread ends within a quarter second, unless it is in the middle of connecting
        to a server that does not answer; it is a daemon thread, so it never keeps the
        program from exiting.
        """
        listener, thread = self._listener, self._thread
        self._listener = self._thread = None
        self._run += 1  # what the old run still has queued is dropped
        self._window.stop()
        self._batch.clear()
        self._set_listening(False)
        if listener is None or thread is None:
            return True
        listener.stop()
        thread.join(timeout)
        if thread.is_alive():
            log.warning("the change listener did not stop within %.1f s", timeout)
            return False
        return True

    @Slot(int, object)
    def _on_heard(self, run: int, change: Change) -> None:
        if run != self._run:
            return
        self._batch.add(change)
        if not self._window.isActive():
            self._flush()  # after a quiet spell: at once

    @Slot()
    def _flush(self) -> None:
        changes = self._batch.take()
        if not changes:
            return  # a quiet window: the next change goes out at once
        self._window.start()
        for change in changes:
            self.changed.emit(change)

    @Slot(int, object)
    def _on_refused(self, run: int, error: AccountDisabledError) -> None:
        if run != self._run:
            return
        # The thread has ended by itself: nothing for stop() to wait for.
        self._listener = self._thread = None
        self._run += 1
        self._window.stop()
        self._batch.clear()
        self._set_listening(False)
        self.account_disabled.emit(error)

    @Slot(int, bool)
    def _on_listening(self, run: int, now: bool) -> None:
        if run == self._run:
            self._set_listening(now)

    def _set_listening(self, now: bool) -> None:
        if now != self._listening:
            self._listening = now
            self.listening_changed.emit(now)
