"""A PostgreSQL server that records statements (pg_stat_statements loaded at start), for
the health report's slowest statements: the suite's servers do not load it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import URL

from tests.ui.test_connection import PrivateServer


def libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def statements_recording_server(data_dir: Path) -> Iterator[URL]:
    """A server of the caller's own in `data_dir`, restarted with pg_stat_statements loaded;
    its database has the extension and a table `probe (id int)`. Stopped afterwards."""
    server = PrivateServer(data_dir)
    try:
        with psycopg.connect(libpq(server.url), autocommit=True) as admin:
            admin.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        server.stop()
        server.start()
        with psycopg.connect(libpq(server.url), autocommit=True) as admin:
            admin.execute("CREATE EXTENSION pg_stat_statements")
            admin.execute("CREATE TABLE probe (id int PRIMARY KEY)")
        yield server.url
    finally:
        if server.running:
            server.stop()
