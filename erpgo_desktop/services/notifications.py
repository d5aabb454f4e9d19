"""Changes other workstations made, as they commit: PostgreSQL NOTIFY, without Qt.

Revision 0004's triggers send `NOTIFY erpgo_changes` with a JSON payload
`{"table": ..., "op": "INSERT"|"UPDATE"|"DELETE", "ids": [...] | null}` for every committed
change of products, variants, stock, orders, order lines, customers and warehouses (ids are
those of the record a screen refreshes by: a variant's product, an order line's order; null
when more than 100, meaning "reload the table"). Nothing is sent for a transaction that
rolls back.

`ChangeListener` LISTENs on its own autocommit connection (never a pooled one, which would
lose the LISTEN on return). It is meant for one background thread:

    listener = ChangeListener(url)
    thread = threading.Thread(target=listener.run, args=(on_change,), daemon=True)
    ...
    listener.stop()  # from any thread; run() returns within `wait` seconds

A lost connection is retried with growing pauses; once listening again it reports
`Change.reload_everything()`, since changes made in between were not heard. When the
server refuses the login role itself (the account was deactivated, which also ended the
listening session), retrying cannot help: `changes()` and `run()` raise
`AccountDisabledError`.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from erpgo_desktop import APP_NAME
from erpgo_desktop.db.engine import WORKSTATION, connect_psycopg, libpq_conninfo
from erpgo_desktop.services.base import account_disabled

log = logging.getLogger(__name__)

CHANNEL = "erpgo_changes"
#: Seconds between looks at the stop flag while waiting for a notification.
WAIT = 0.25
#: Pauses before reconnecting after the first, second, ... failure; the last repeats.
BACKOFF: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
ALL_TABLES = "*"


@dataclass(frozen=True)
class Change:
    table: str
    op: str
    #: The changed records' ids; None when too many to list: reload the whole table.
    ids: tuple[uuid.UUID, ...] | None
    #: The application_name of the connection that made the change (revision 0013); not
    #: part of what the change is.
    origin: str | None = field(default=None, compare=False)

    @property
    def is_own(self) -> bool:
        """Made by this running program (db/engine.py WORKSTATION), not someone else."""
        return self.origin == WORKSTATION

    @staticmethod
    def made_here(table: str) -> Change:
        """A change this program just made to some rows of `table`, announced to its own
        screens before the notification's round trip."""
        return Change(table, "UPDATE", None, WORKSTATION)

    @staticmethod
    def reload_everything() -> Change:
        """What the listener reports after a gap in which changes may have been missed."""
        return Change(ALL_TABLES, "RECONNECT", None)

    def concerns(self, table: str) -> bool:
        return self.table in (table, ALL_TABLES)


def parse(payload: str) -> Change | None:
    """The change a notification describes; None (logged) for a payload not of ours."""
    try:
        data = json.loads(payload)
        raw_ids = data["ids"]
        ids = None if raw_ids is None else tuple(uuid.UUID(str(i)) for i in raw_ids)
        table, op, origin = data["table"], data["op"], data.get("origin")
        if not isinstance(table, str) or not isinstance(op, str):
            raise TypeError("table and op must be strings")
        if origin is not None and not isinstance(origin, str):
            raise TypeError("origin must be a string")
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring a notification on %s that is not a change: %r (%s)", CHANNEL,
                    payload, exc)  # fmt: skip
        return None
    return Change(table, op, ids, origin)


class ChangeListener:
    """Listens for changes until `stop()`; one use, one thread."""

    def __init__(
        self,
        url: URL | str,
        *,
        wait: float = WAIT,
        backoff: Sequence[float] = BACKOFF,
        connect_timeout: int = 5,
        application_name: str = f"{APP_NAME} changes",
        on_listening: Callable[[bool], None] | None = None,
    ) -> None:
        """`on_listening(True)` is called (on the listening thread) each time the LISTEN is
        in place, `on_listening(False)` when the connection is lost."""
        url = make_url(url)
        self._conninfo = libpq_conninfo(url)
        self._wait = wait
        self._backoff = tuple(backoff) or (WAIT,)
        self._connect_timeout = connect_timeout
        self._application_name = application_name
        self._stopped = threading.Event()
        self._on_listening = on_listening or (lambda _listening: None)

    def stop(self) -> None:
        """End `changes()`/`run()` within `wait` seconds (or a pause between reconnects)."""
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def run(self, on_change: Callable[[Change], None]) -> None:
        for change in self.changes():
            on_change(change)

    def changes(self) -> Iterator[Change]:
        """The changes, as they are committed, until `stop()`; AccountDisabledError when
        the server no longer lets this login role connect."""
        failures = 0
        connected_before = False
        listening = False
        while not self._stopped.is_set():
            try:
                with self._connect() as conn:
                    listening = True
                    self._on_listening(True)
                    if connected_before or failures:
                        log.info("listening for changes again")
                        yield Change.reload_everything()
                    connected_before, failures = True, 0
                    yield from self._receive(conn)
            except psycopg.OperationalError as exc:
                if listening:
                    listening = False
                    self._on_listening(False)
                disabled = account_disabled(exc)
                if disabled is not None:
                    log.warning("change notifications end: the server refuses this account: %s",
                                exc)  # fmt: skip
                    raise disabled from exc
                pause = self._backoff[min(failures, len(self._backoff) - 1)]
                failures += 1
                log.warning("change notifications interrupted (%s); retrying in %.1f s", exc,
                            pause)  # fmt: skip
                self._stopped.wait(pause)

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        conn = connect_psycopg(
            self._conninfo,
            autocommit=True,
            connect_timeout=self._connect_timeout,
            application_name=self._application_name,
        )
        try:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
        except BaseException:
            conn.close()
            raise
        return conn

    def _receive(self, conn: psycopg.Connection[tuple[object, ...]]) -> Iterator[Change]:
        while not self._stopped.is_set():
            for notify in conn.notifies(timeout=self._wait):
                change = parse(notify.payload)
                if change is not None:
                    yield change
                if self._stopped.is_set():
                    return
