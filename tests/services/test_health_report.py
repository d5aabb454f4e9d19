"""The database health report on a real server: sizes, index usage, connections and the
slowest statements, as a superuser and as a role that may only read and write the app's
tables (what the statistics views hide from it is left out, never an error).

pg_stat_statements needs the server to load it at start; the suite's servers do not, so
its list is checked on a server of this module's own, started with the library loaded.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool

from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.errors import PermissionDeniedError
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.health import (
    HIDDEN_STATE,
    REPORTED_SETTINGS,
    HealthReport,
    HealthService,
    IndexUsage,
    SlowStatement,
    Unavailable,
    human_duration,
    human_size,
)
from tests.services.health_support import libpq, statements_recording_server
from tests.services.test_products import NOBODY

ADMIN = CurrentUser(uuid.uuid4(), "root", "Root", ("admin",), frozenset({"users.admin"}))
APP_TABLES = {"products", "orders", "order_items", "customers", "users", "product_inventory"}


def report_of(engine: Engine) -> HealthReport:
    return HealthService(make_session_factory(engine)).report()


def index_named(report: HealthReport, name: str) -> IndexUsage:
    return next(index for index in report.indexes if index.name == name)


@pytest.fixture
def session_left_open(database_url: URL) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A session of the server's superuser, idle in a transaction it has not ended."""
    with psycopg.connect(libpq(database_url)) as connection:
        connection.execute("SELECT 'left open' AS marker")
        yield connection
        connection.rollback()


@pytest.fixture
def app_role_engine(database_url: URL) -> Iterator[Engine]:
    """An engine for a login role that may only read and write the app's tables."""
    role = f"erpgo_health_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    identifier = sql.Identifier(role)
    with psycopg.connect(libpq(database_url), autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(identifier, sql.Literal(password))
        )
        admin.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(str(database_url.database)), identifier
            )
        )
        admin.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(identifier))
        admin.execute(
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
            ).format(identifier)
        )
    engine = make_engine(database_url.set(username=role, password=password))
    try:
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(libpq(database_url), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP OWNED BY {}").format(identifier))
            admin.execute(sql.SQL("DROP ROLE {}").format(identifier))


def test_the_report_lists_the_app_tables_with_their_sizes(engine: Engine) -> None:
    report = report_of(engine)
    tables = {table.name: table for table in report.tables}
    assert set(tables) >= APP_TABLES
    for name in APP_TABLES:
        table = tables[name]
        assert table.schema == "public"
        assert table.index_bytes > 0  # every table has a primary key, even when empty
        assert table.total_bytes == table.table_bytes + table.index_bytes > 0
    sizes = [table.total_bytes for table in report.tables]
    assert sizes == sorted(sizes, reverse=True)  # the largest first, as in the seed
    assert report.database == engine.url.database
    assert report.database_bytes > sum(sizes)
    with engine.connect() as connection:
        assert report.server_version == connection.scalar(text("SHOW server_version"))
    assert report.server_description.startswith("PostgreSQL ")
    assert report.server_started <= report.taken_at
    assert report.sees_all_statistics  # the suite's user is the server's superuser
    assert report.cache_hit_ratio is None or 0 <= report.cache_hit_ratio <= 1


def test_the_report_lists_the_indexes_and_what_they_enforce(engine: Engine) -> None:
    report = report_of(engine)
    sku = index_named(report, "idx_products_sku")
    assert (sku.schema, sku.table) == ("public", "products")
    assert sku.size_bytes > 0
    assert "(sku)" in sku.definition
    assert not sku.enforces_constraint
    assert index_named(report, "products_pkey").enforces_constraint
    assert index_named(report, "idx_unique_skus").enforces_constraint  # a unique index alone


def test_unused_indexes_leave_out_those_that_enforce_a_rule(engine: Engine) -> None:
    """A fresh database's counters start at zero: every index is unscanned, but a primary
    key or unique index is needed all the same, so it is not called unused."""
    report = report_of(engine)
    unused = {index.name for index in report.unused_indexes}
    kept = {index.name for index in report.unscanned_constraint_indexes}
    assert {"idx_users_verified", "idx_products_sku"} <= unused
    assert {"products_pkey", "idx_unique_skus"} <= kept
    assert not unused & kept
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        # The one index on is_verified: the planner has no other to choose.
        connection.execute(text("SELECT id FROM users WHERE is_verified"))
        # Statistics reach the other sessions when this one goes idle: now, not in a second.
        connection.execute(text("SELECT pg_stat_force_next_flush()"))
    report = report_of(engine)
    verified = index_named(report, "idx_users_verified")
    assert verified.scans >= 1 and not verified.unused
    assert verified not in report.unused_indexes


def test_connections_count_this_database_by_state(
    engine: Engine, session_left_open: psycopg.Connection[tuple[object, ...]]
) -> None:
    report = report_of(engine)
    connections = report.connections
    states = {count.state: count.count for count in connections.by_state}
    assert states["active"] >= 1  # the report's own session
    assert states["idle in transaction"] == 1
    assert connections.total >= 2
    assert connections.server_total >= connections.total
    assert connections.max_connections >= connections.server_total
    longest = connections.longest_running
    assert longest is not None
    assert longest.pid == session_left_open.info.backend_pid
    assert longest.state == "idle in transaction"
    assert longest.query == "SELECT 'left open' AS marker"
    assert longest.seconds >= 0


def test_the_seed_s_settings_are_reported(engine: Engine) -> None:
    report = report_of(engine)
    settings = {setting.name: setting.value for setting in report.settings}
    assert tuple(settings) == REPORTED_SETTINGS  # in the order the report shows them
    assert settings["max_connections"] == str(report.connections.max_connections)


def test_a_role_with_only_app_table_rights_gets_a_report_with_what_it_may_see(
    app_role_engine: Engine, session_left_open: psycopg.Connection[tuple[object, ...]]
) -> None:
    report = report_of(app_role_engine)
    assert report.role == app_role_engine.url.username
    assert not report.sees_all_statistics
    assert {table.name for table in report.tables} >= APP_TABLES
    assert all(table.total_bytes > 0 for table in report.tables if table.name in APP_TABLES)
    assert index_named(report, "idx_products_sku").size_bytes > 0
    assert report.database_bytes > 0
    states = {count.state: count.count for count in report.connections.by_state}
    assert states[HIDDEN_STATE] >= 1  # the superuser's open transaction, state hidden
    assert states["active"] >= 1
    # Its own sessions are visible, the superuser's is not: nothing older to show.
    assert report.connections.longest_running is None
    assert isinstance(report.slowest_statements, tuple | Unavailable)


def test_reading_the_report_needs_users_admin(engine: Engine) -> None:
    health = HealthService(make_session_factory(engine))
    with pytest.raises(PermissionDeniedError):
        health.report(NOBODY)
    assert health.report(ADMIN).database == engine.url.database


def test_without_the_extension_the_statements_say_why(engine: Engine) -> None:
    slowest = report_of(engine).slowest_statements
    assert isinstance(slowest, Unavailable)
    assert "not installed in this database" in slowest.reason
    assert "CREATE EXTENSION pg_stat_statements" in slowest.reason


def test_installed_but_not_loaded_says_so(engine: Engine, app_role_engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE EXTENSION pg_stat_statements"))
        preloaded = connection.scalar(text("SHOW shared_preload_libraries")) or ""
    for who in (engine, app_role_engine):
        report = report_of(who)
        if "pg_stat_statements" in preloaded:  # a server set up for it: a list
            assert isinstance(report.slowest_statements, tuple)
            continue
        assert isinstance(report.slowest_statements, Unavailable)
        assert "has not loaded it" in report.slowest_statements.reason
        assert "shared_preload_libraries" in report.slowest_statements.reason
        assert report.tables  # the rest of the report is still there


# -- a server that loads pg_stat_statements ---------------------------------------------


@pytest.fixture(scope="module")
def statements_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    with statements_recording_server(tmp_path_factory.mktemp("statements") / "pgdata") as url:
        yield url


def test_a_server_that_loads_the_extension_lists_the_slowest_statements(
    statements_server: URL,
) -> None:
    engine = make_engine(statements_server, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            for _ in range(3):
                connection.execute(text("SELECT count(*) FROM probe WHERE id > 7"))
        slowest = HealthService(make_session_factory(engine)).report(statements=50)
    finally:
        engine.dispose()
    statements = slowest.slowest_statements
    assert isinstance(statements, tuple)
    assert 0 < len(statements) <= 50
    means = [statement.mean_ms for statement in statements]
    assert means == sorted(means, reverse=True)
    probe = [s for s in statements if s.query and "FROM probe WHERE id >" in s.query]
    assert len(probe) == 1
    assert probe[0].calls == 3
    assert probe[0].rows == 3
    assert probe[0].total_ms >= probe[0].mean_ms >= 0


def test_another_role_s_statement_texts_are_hidden(statements_server: URL) -> None:
    role = f"erpgo_health_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    identifier = sql.Identifier(role)
    with psycopg.connect(libpq(statements_server), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'its own'").format(identifier))
        admin.execute("SELECT count(*) FROM probe WHERE id < 3")  # the superuser's
    engine = make_engine(
        statements_server.set(username=role, password="its own"), poolclass=NullPool
    )
    try:
        report = HealthService(make_session_factory(engine)).report(statements=1000)
    finally:
        engine.dispose()
        with psycopg.connect(libpq(statements_server), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP ROLE {}").format(identifier))
    statements = report.slowest_statements
    assert isinstance(statements, tuple)
    assert any(statement.query is None for statement in statements)
    assert not any("FROM probe WHERE id <" in (statement.query or "") for statement in statements)
    assert all(isinstance(statement, SlowStatement) for statement in statements)


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 bytes"), (1023, "1023 bytes"), (8192, "8.0 kB"), (1536 * 1024, "1.5 MB"),
     (int(60.2 * 1024**2), "60 MB"), (300 * 1024**3, "300 GB"), (5 * 1024**5, "5120 TB")],
)  # fmt: skip
def test_sizes_read_like_pg_size_pretty(size: int, shown: str) -> None:
    assert human_size(size) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0.00 ms"), (0.00031, "0.31 ms"), (0.0123, "12 ms"), (2.25, "2.2 s"), (42, "42 s"),
     (185, "3 min 5 s"), (7800, "2 h 10 min"), (273600, "3 d 4 h")],
)  # fmt: skip
def test_durations_read_in_the_largest_units(seconds: float, shown: str) -> None:
    assert human_duration(seconds) == shown
