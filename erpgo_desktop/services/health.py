"""Whether the database server answers: what the status bar's connection state is built on.

`ping()` asks nothing of the data, so it needs no permission and no signed-in user: the
window may ask before sign-in and every few seconds after. It goes through the same
connection pool as the real work, so "connected" means the pool has recovered too (after a
server restart, say), not merely that the server is up.

How long a ping may take is bounded twice: connecting by the engine's connect timeout, and
the answer by whoever asks (ui/connection.py stops waiting after a few seconds and says the
server does not answer); a statement timeout would not help, since `SELECT 1` never waits
inside the server, only on the network.
"""

from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.orm import Session

from erpgo_desktop.services.base import Service


class HealthService(Service):
    def ping(self) -> float:
        """Seconds the server took to answer `SELECT 1`; ConnectionLostError when it cannot
        be reached."""

        def select_one(session: Session) -> float:
            started = time.perf_counter()
            session.execute(text("SELECT 1"))
            return time.perf_counter() - started

        return self._read(select_one)
