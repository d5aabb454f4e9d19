"""Whether the database server answers, and how it is doing.

`ping()` is what the status bar's connection state is built on. It asks nothing of the
data, so it needs no permission and no signed-in user: the window may ask before sign-in
and every few seconds after. It goes through the same connection pool as the real work,
so "connected" means the pool has recovered too (after a server restart, say), not merely
that the server is up.

How long a ping may take is bounded twice: connecting by the engine's connect timeout, and
the answer by whoever asks (ui/connection.py stops waiting after a few seconds and says the
server does not answer); a statement timeout would not help, since `SELECT 1` never waits
inside the server, only on the network.

`report()` is the database health report (`erpgo-desktop doctor --health`, and the
Database health window): sizes, index usage, connections and the slowest statements.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from psycopg import errors as pg_errors
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.base import Service, is_connection_lost, require

log = logging.getLogger(__name__)


# -- the health report -------------------------------------------------------------------
#
# What the seed's "Performance Tuning" and "Monitoring Queries" look at (table sizes, index
# usage and unused indexes, active connections, the slowest statements), read so that any
# role that may connect gets an answer: the statistics views hide other roles' sessions
# and statement texts from a role that is neither superuser nor a member of
# pg_read_all_stats, and the report says what it could not see instead of failing.

#: The seed's memory and connection settings (Configuration Optimization), and the slow
#: query log threshold it sets.
REPORTED_SETTINGS: tuple[str, ...] = (
    "max_connections",
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "maintenance_work_mem",
    "log_min_duration_statement",
)

#: How many of the slowest statements the report lists by default.
SLOWEST_STATEMENTS = 10

#: A generated statement can be megabytes long; the report is for reading, not replaying.
MAX_STATEMENT_CHARS = 4000

#: The report reads catalogs and statistics only, but on a server in trouble (which is
#: when someone looks) it must not hang the window or the command line.
REPORT_TIMEOUT_MS = 20_000

_STATEMENTS_EXTENSION = "pg_stat_statements"


@dataclass(frozen=True)
class TableSize:
    schema: str
    name: str
    #: Everything: the table, its TOAST data and its indexes.
    total_bytes: int
    #: The table's rows: heap, TOAST and the free space and visibility maps.
    table_bytes: int
    index_bytes: int
    #: The planner's estimate (pg_class.reltuples), or the live rows counted by the
    #: statistics when the table was never analysed.
    estimated_rows: int
    sequential_scans: int
    #: None when the table has no index.
    index_scans: int | None


@dataclass(frozen=True)
class IndexUsage:
    schema: str
    table: str
    name: str
    size_bytes: int
    #: Scans since the statistics were last reset (HealthReport.statistics_since).
    scans: int
    tuples_read: int
    tuples_fetched: int
    #: A primary key, unique or exclusion index: it enforces a rule on every write, so
    #: it is needed even if no query ever reads through it.
    enforces_constraint: bool
    definition: str

    @property
    def unused(self) -> bool:
        """Never scanned and enforcing nothing: it only costs space and slows writes."""
        return self.scans == 0 and not self.enforces_constraint


@dataclass(frozen=True)
class StateCount:
    #: pg_stat_activity's state ("active", "idle", "idle in transaction", …) or
    #: HIDDEN_STATE for another role's session that this role may not see.
    state: str
    count: int


HIDDEN_STATE = "not visible to this role"


@dataclass(frozen=True)
class RunningQuery:
    pid: int
    user: str | None
    application: str
    state: str
    #: Since its transaction began (or the query, outside a transaction).
    seconds: float
    #: None when it is another role's and this role may not see it.
    query: str | None


@dataclass(frozen=True)
class Connections:
    #: Sessions connected to this database, this report's own included.
    total: int
    by_state: tuple[StateCount, ...]
    #: The oldest transaction or query still running or left open on this database
    #: (not this report's own), among those this role may see.
    longest_running: RunningQuery | None
    #: Sessions connected to any database of the server, and how many it allows.
    server_total: int
    max_connections: int


@dataclass(frozen=True)
class SlowStatement:
    #: None when it is another role's and this role may not see it.
    query: str | None
    calls: int
    total_ms: float
    mean_ms: float
    rows: int


@dataclass(frozen=True)
class Unavailable:
    """A part of the report this server or role cannot give, and why."""

    reason: str


@dataclass(frozen=True)
class ServerSetting:
    name: str
    value: str


@dataclass(frozen=True)
class HealthReport:
    taken_at: datetime
    #: `SHOW server_version`, e.g. "15.4 (Debian 15.4-1)"; `server_description` is version().
    server_version: str
    server_description: str
    server_started: datetime
    database: str
    database_bytes: int
    role: str
    #: Superuser or pg_read_all_stats: sees every session and statement text.
    sees_all_statistics: bool
    #: When this database's statistics were last reset; None if never.
    statistics_since: datetime | None
    #: Share of block reads found in shared buffers; None before any read.
    cache_hit_ratio: float | None
    connections: Connections
    tables: tuple[TableSize, ...]
    indexes: tuple[IndexUsage, ...]
    slowest_statements: tuple[SlowStatement, ...] | Unavailable
    settings: tuple[ServerSetting, ...]

    @property
    def unused_indexes(self) -> tuple[IndexUsage, ...]:
        return tuple(index for index in self.indexes if index.unused)

    @property
    def unscanned_constraint_indexes(self) -> tuple[IndexUsage, ...]:
        """Never scanned, but kept: they enforce a primary key, unique or exclusion rule."""
        return tuple(
            index for index in self.indexes if index.scans == 0 and index.enforces_constraint
        )


def human_size(size: int) -> str:
    """Bytes in the units of pg_size_pretty (powers of 1024): "8.0 kB", "1.4 MB", "60 MB"."""
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def human_duration(seconds: float) -> str:
    """A duration in its largest units: "0.31 ms", "850 ms", "12 s", "3 min 5 s", "2 h 10 min"."""
    if seconds < 0.01:  # a statement's mean: fractions of a millisecond tell them apart
        return f"{seconds * 1000:.2f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


class HealthService(Service):
    def ping(self) -> float:
        """Seconds the server took to answer `SELECT 1`; ConnectionLostError when it cannot
        be reached."""

        def select_one(session: Session) -> float:
            started = time.perf_counter()
            session.execute(text("SELECT 1"))
            return time.perf_counter() - started

        return self._read(select_one)

    def server_version(self) -> str:
        """The server's `version()`, e.g. "PostgreSQL 15.4 on x86_64-pc-linux-gnu, …"."""
        return self._read(lambda session: str(session.scalar(text("SELECT version()"))))

    def report(
        self, acting: CurrentUser | None = None, *, statements: int = SLOWEST_STATEMENTS
    ) -> HealthReport:
        """The health report; `acting` None means the administrator's command line.

        Any role that may connect gets a report: what the statistics hide from it (other
        roles' sessions and statement texts) is left out or marked, never an error.
        """
        if acting is not None:
            require(acting, perms.USERS_ADMIN)
        return self._read(lambda session: _report(session, statements))


_OVERVIEW = text(
    """
    SELECT current_setting('server_version') AS server_version,
           version() AS server_description,
           pg_postmaster_start_time() AS server_started,
           current_database() AS database,
           pg_database_size(current_database()) AS database_bytes,
           current_user AS role,
           pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS sees_all,
           d.stats_reset, d.blks_hit, d.blks_read, d.numbackends,
           (SELECT sum(numbackends) FROM pg_stat_database) AS server_total,
           current_setting('max_connections')::int AS max_connections,
           now() AS taken_at
    FROM pg_stat_database d
    WHERE d.datname = current_database()
    """
)

# pg_table_size: heap, TOAST and maps; pg_indexes_size: every index, TOAST's included.
_TABLES = text(
    """
    SELECT s.schemaname, s.relname,
           pg_table_size(s.relid) AS table_bytes,
           pg_indexes_size(s.relid) AS index_bytes,
           CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE s.n_live_tup END AS rows,
           s.seq_scan, s.idx_scan
    FROM pg_stat_user_tables s
    JOIN pg_class c ON c.oid = s.relid
    ORDER BY pg_total_relation_size(s.relid) DESC, s.schemaname, s.relname
    """
)

# Unique indexes made by CREATE UNIQUE INDEX (not by a constraint) enforce a rule as well.
_INDEXES = text(
    """
    SELECT s.schemaname, s.relname, s.indexrelname,
           pg_relation_size(s.indexrelid) AS size_bytes,
           s.idx_scan, s.idx_tup_read, s.idx_tup_fetch,
           (i.indisprimary OR i.indisunique OR i.indisexclusion
            OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = s.indexrelid
                       AND k.contype IN ('p', 'u', 'x'))) AS enforces_constraint,
           pg_get_indexdef(s.indexrelid) AS definition
    FROM pg_stat_user_indexes s
    JOIN pg_index i ON i.indexrelid = s.indexrelid
    ORDER BY pg_relation_size(s.indexrelid) DESC, s.schemaname, s.relname, s.indexrelname
    """
)

# Another role's session shows a NULL state (and hides its query) unless this role may
# read all statistics; its backend_type is hidden too, so it cannot be told from a
# client by type, only by being connected to this database.
_CONNECTION_STATES = text(
    """
    SELECT coalesce(state, :hidden) AS state, count(*) AS sessions
    FROM pg_stat_activity
    WHERE datname = current_database()
      AND (backend_type = 'client backend' OR backend_type IS NULL)
    GROUP BY 1
    ORDER BY 2 DESC, 1
    """
)

_LONGEST_RUNNING = text(
    """
    SELECT pid, usename, coalesce(application_name, '') AS application, state,
           extract(epoch FROM now() - coalesce(xact_start, query_start)) AS seconds,
           query
    FROM pg_stat_activity
    WHERE datname = current_database()
      AND backend_type = 'client backend'
      AND pid <> pg_backend_pid()
      AND state IS NOT NULL AND state <> 'idle'
      AND coalesce(xact_start, query_start) IS NOT NULL
    ORDER BY coalesce(xact_start, query_start)
    LIMIT 1
    """
)

# pg_settings lists only what this role may read, so current_setting() cannot refuse.
_SETTINGS = text("SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(:names)")

_STATEMENTS_INSTALLED = text(
    """
    SELECT n.nspname
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = :name
    """
)

_STATEMENTS_AVAILABLE = text("SELECT 1 FROM pg_available_extensions WHERE name = :name")

# Version 1.8 (PostgreSQL 13) split *_time into planning and execution (*_exec_time).
_STATEMENTS_TIME_COLUMN = text(
    """
    SELECT attname FROM pg_attribute
    WHERE attrelid = to_regclass(:view)
      AND attname IN ('mean_exec_time', 'mean_time') AND NOT attisdropped
    ORDER BY attname
    LIMIT 1
    """
)


def _report(session: Session, statements: int) -> HealthReport:
    session.execute(text(f"SET LOCAL statement_timeout = {REPORT_TIMEOUT_MS}"))
    overview = session.execute(_OVERVIEW).one()
    hit, read = int(overview.blks_hit or 0), int(overview.blks_read or 0)
    return HealthReport(
        taken_at=overview.taken_at,
        server_version=overview.server_version,
        server_description=overview.server_description,
        server_started=overview.server_started,
        database=overview.database,
        database_bytes=int(overview.database_bytes),
        role=overview.role,
        sees_all_statistics=bool(overview.sees_all),
        statistics_since=overview.stats_reset,
        cache_hit_ratio=hit / (hit + read) if hit + read else None,
        connections=Connections(
            total=int(overview.numbackends),
            by_state=tuple(
                StateCount(row.state, int(row.sessions))
                for row in session.execute(_CONNECTION_STATES, {"hidden": HIDDEN_STATE})
            ),
            longest_running=_longest_running(session),
            server_total=int(overview.server_total or 0),
            max_connections=int(overview.max_connections),
        ),
        tables=tuple(
            TableSize(
                schema=row.schemaname,
                name=row.relname,
                # Summed rather than read from pg_total_relation_size, so the three agree
                # even while a write grows the table between two calls.
                total_bytes=int(row.table_bytes or 0) + int(row.index_bytes or 0),
                table_bytes=int(row.table_bytes or 0),
                index_bytes=int(row.index_bytes or 0),
                estimated_rows=max(int(row.rows or 0), 0),
                sequential_scans=int(row.seq_scan or 0),
                index_scans=None if row.idx_scan is None else int(row.idx_scan),
            )
            for row in session.execute(_TABLES)
        ),
        indexes=tuple(
            IndexUsage(
                schema=row.schemaname,
                table=row.relname,
                name=row.indexrelname,
                size_bytes=int(row.size_bytes or 0),
                scans=int(row.idx_scan or 0),
                tuples_read=int(row.idx_tup_read or 0),
                tuples_fetched=int(row.idx_tup_fetch or 0),
                enforces_constraint=bool(row.enforces_constraint),
                definition=row.definition or "",
            )
            for row in session.execute(_INDEXES)
        ),
        slowest_statements=_slowest_statements(session, statements),
        settings=tuple(
            ServerSetting(name, value)
            for name, value in sorted(
                session.execute(_SETTINGS, {"names": list(REPORTED_SETTINGS)}).all(),
                key=lambda setting: REPORTED_SETTINGS.index(setting[0]),
            )
        ),
    )


def _longest_running(session: Session) -> RunningQuery | None:
    row = session.execute(_LONGEST_RUNNING).one_or_none()
    if row is None:
        return None
    return RunningQuery(
        pid=int(row.pid),
        user=row.usename,
        application=row.application,
        state=row.state,
        seconds=float(row.seconds),
        query=_visible_text(row.query),
    )


def _visible_text(query: str | None) -> str | None:
    if query is None or query == "<insufficient privilege>":
        return None
    if len(query) > MAX_STATEMENT_CHARS:
        return query[:MAX_STATEMENT_CHARS] + "…"
    return query


def _slowest_statements(session: Session, limit: int) -> tuple[SlowStatement, ...] | Unavailable:
    """The statements run on this database with the longest mean time, from
    pg_stat_statements; why not, when this database or server cannot tell."""
    params = {"name": _STATEMENTS_EXTENSION}
    schema = session.scalar(_STATEMENTS_INSTALLED, params)
    if schema is None:
        if session.scalar(_STATEMENTS_AVAILABLE, params) is None:
            return Unavailable(
                "the pg_stat_statements extension is not available on this server "
                "(it comes with PostgreSQL's contrib modules)"
            )
        return Unavailable(
            "the pg_stat_statements extension is not installed in this database: a "
            "superuser can run CREATE EXTENSION pg_stat_statements; the server also needs "
            "shared_preload_libraries = 'pg_stat_statements' and a restart"
        )
    quote = session.get_bind().dialect.identifier_preparer.quote
    view = f"{quote(schema)}.pg_stat_statements"
    mean = session.scalar(_STATEMENTS_TIME_COLUMN, {"view": view})
    if mean is None:
        return Unavailable(f"{view} has neither mean_exec_time nor mean_time")
    total = "total_exec_time" if mean == "mean_exec_time" else "total_time"
    # Formatted in: the view's schema comes from the catalog, quoted; the columns are ours.
    slowest = text(
        f"""
        SELECT query, calls, {total} AS total_ms, {mean} AS mean_ms, rows
        FROM {view}
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY {mean} DESC
        LIMIT :limit
        """
    )
    try:
        # A savepoint, so that a refusal leaves the report's transaction usable.
        with session.begin_nested():
            rows = session.execute(slowest, {"limit": limit}).all()
    except DBAPIError as exc:
        if is_connection_lost(exc):
            raise
        if isinstance(exc.orig, pg_errors.ObjectNotInPrerequisiteState):
            return Unavailable(
                "the pg_stat_statements extension is installed in this database but the "
                "server has not loaded it: add pg_stat_statements to "
                "shared_preload_libraries in postgresql.conf and restart the server"
            )
        if isinstance(exc.orig, pg_errors.InsufficientPrivilege):
            return Unavailable(f"the role may not read {view}")
        log.warning("cannot read %s: %s", view, exc.orig)
        first_line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        return Unavailable(f"reading {view} failed: {first_line or type(exc.orig).__name__}")
    return tuple(
        SlowStatement(
            query=_visible_text(row.query),
            calls=int(row.calls),
            total_ms=float(row.total_ms),
            mean_ms=float(row.mean_ms),
            rows=int(row.rows),
        )
        for row in rows
    )
