"""Trying a database server before pointing the program at it: the connection settings'
"Test connection".

It connects the way every workstation does before anyone has signed in: as the sign-in
role (services/security.py), to the server and database typed. So a good answer means
this computer reaches the server, the database is there, and it is set up for people to
sign in as themselves. The sign-in role may read no table: it learns what it says through
the sign-in functions of revision 0011.

One plain psycopg connection with a short timeout, no engine and no pool: this runs while
the program may be using another database, and nothing of it should outlive the answer.
A failure is an answer too (a `ConnectionCheck` with `ok` False), not an exception, so
that the connection monitor does not take a refused test for the working database gone.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import Enum

import psycopg
import psycopg.errors
from psycopg.conninfo import make_conninfo

from erpgo_desktop import APP_NAME
from erpgo_desktop.config import ServerSettings
from erpgo_desktop.db import migrate
from erpgo_desktop.db.engine import connect_psycopg
from erpgo_desktop.services.security import SIGNIN_PASSWORD, SIGNIN_ROLE

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 5
OLDEST_SUPPORTED_MAJOR = 14

NOT_SET_UP = (
    "This database is not set up for personal sign-in yet: ask the administrator to run "
    "`erpgo-desktop setup-roles`."
)


class DatabaseState(Enum):
    #: Set up for sign-in, at this program's schema revision (or one it cannot read).
    READY = "ready"
    #: No sign-in role, no right to connect, or no sign-in functions: not set up.
    NOT_SET_UP = "not set up"
    #: An older revision: the administrator migrates it (workstations never do).
    OUTDATED = "outdated"
    #: A revision this program does not know: made by a newer ERPGo Desktop.
    NEWER = "newer"


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    #: What to tell the person, in a sentence or two.
    message: str
    #: "PostgreSQL 15.20", when the server answered.
    server_version: str | None = None
    state: DatabaseState | None = None
    #: The schema revision, when the sign-in role could read it.
    revision: str | None = None
    #: Whether the database has any account (None when that was not reached).
    has_users: bool | None = None
    #: The driver's own first line, for whoever wants the exact words.
    detail: str | None = None


def check_connection(
    settings: ServerSettings,
    *,
    timeout_seconds: int = CHECK_TIMEOUT_SECONDS,
    role: str = SIGNIN_ROLE,
    password: str = SIGNIN_PASSWORD,
) -> ConnectionCheck:
    """Connect to the server and database `settings` name as the sign-in role (`role`
    and `password` only for tests) and say whether people can sign in there."""
    settings = settings.check()
    conninfo = make_conninfo(
        "",
        host=settings.host,
        port=settings.port,
        dbname=settings.database,
        user=role,
        password=password,
        connect_timeout=timeout_seconds,
        application_name=APP_NAME,
        **dict(settings.options),
    )
    where = f"{settings.host}:{settings.port}"
    try:
        with connect_psycopg(conninfo, autocommit=True) as connection:
            version_number = connection.info.server_version
            found = _look(connection)
    except psycopg.Error as error:
        detail = _first_line(str(error))
        log.info("connection test of %s failed: %s", settings.describe(), detail)
        state = DatabaseState.NOT_SET_UP if _SIGN_IN_REFUSED.search(detail) else None
        return ConnectionCheck(False, failure_reason(detail, settings), state=state, detail=detail)
    version = _format_version(version_number)
    log.info(
        "connection test of %s: %s, %s, revision %s",
        settings.describe(),
        version,
        found.state.value,
        found.revision,
    )
    connected = f"Connected to {version} at {where}"
    if version_number // 10000 < OLDEST_SUPPORTED_MAJOR:
        return ConnectionCheck(
            False,
            f"{connected}, but ERPGo Desktop needs PostgreSQL {OLDEST_SUPPORTED_MAJOR} or newer.",
            server_version=version,
        )
    return ConnectionCheck(
        found.state is DatabaseState.READY,
        f"{connected}. {_state_message(found, settings.database)}",
        server_version=version,
        state=found.state,
        revision=found.revision,
        has_users=found.has_users,
        detail=found.detail,
    )


@dataclass(frozen=True)
class _Found:
    state: DatabaseState
    revision: str | None = None
    has_users: bool | None = None
    detail: str | None = None


# What the server answers when a function is not there, or not the sign-in role's to call.
_NOT_CALLABLE = (psycopg.errors.UndefinedFunction, psycopg.errors.InsufficientPrivilege)


def _look(connection: psycopg.Connection[tuple[object, ...]]) -> _Found:
    # The revision first: a newer schema may have renamed what the rest asks for.
    try:
        row = connection.execute("SELECT erpgo_schema_revision()").fetchone()
        revision = str(row[0]) if row and row[0] is not None else None
    except _NOT_CALLABLE:
        revision = None
    if revision is not None:
        state = schema_state(revision)
        if state is not DatabaseState.READY:
            return _Found(state, revision)
    try:
        # erpgo_login_role names no role until setup-roles has given the database its
        # prefix; for a name nobody has it answers all the same, so nothing is revealed.
        row = connection.execute(
            "SELECT erpgo_has_users(), erpgo_login_role('') IS NOT NULL"
        ).fetchone()
    except _NOT_CALLABLE as error:
        return _Found(DatabaseState.NOT_SET_UP, revision, detail=_first_line(str(error)))
    assert row is not None
    has_users, roles_made = bool(row[0]), bool(row[1])
    if not roles_made:
        return _Found(DatabaseState.NOT_SET_UP, revision, has_users)
    return _Found(DatabaseState.READY, revision, has_users)


def schema_state(revision: str) -> DatabaseState:
    """Where a database at `revision` stands against this program's migrations."""
    if revision == migrate.head_revision():
        return DatabaseState.READY
    return DatabaseState.OUTDATED if migrate.is_known_revision(revision) else DatabaseState.NEWER


def _state_message(found: _Found, database: str) -> str:
    head = migrate.head_revision()
    if found.state is DatabaseState.NOT_SET_UP:
        return NOT_SET_UP
    if found.state is DatabaseState.OUTDATED:
        return (
            f"The database {database} is at schema revision {found.revision}; this version "
            f"of ERPGo Desktop needs {head}: ask the administrator to run `erpgo-desktop "
            "migrate`, then `erpgo-desktop setup-roles`."
        )
    if found.state is DatabaseState.NEWER:
        return (
            f"The database {database} is at schema revision {found.revision}, newer than "
            f"this version of ERPGo Desktop knows (it needs {head}): install the newer version."
        )
    if not found.has_users:
        return (
            f"The database {database} is ready and has no accounts yet: the first start of "
            "ERPGo Desktop on it asks for the first administrator."
        )
    return (
        f"The database {database} is ready: people sign in with their own user name and password."
    )


def _format_version(number: int) -> str:
    return f"PostgreSQL {number // 10000}.{number % 10000}"


def _first_line(message: str) -> str:
    # The sign-in role's password is public; nobody else's is ever sent from here.
    message = message.strip()
    for prefix in ("connection failed:", "connection is bad:"):
        message = message.removeprefix(prefix).strip()
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[0] if lines else "The connection failed."


# The server turning the sign-in role away: it does not exist (a wrong password, under
# SCRAM), may not log in, or may not connect to this database. Each means that the
# database, or the server, has not been through `setup-roles`.
_SIGN_IN_REFUSED = re.compile(
    r"password authentication failed|authentication failed|role \".*\" does not exist"
    r"|is not permitted to log in|permission denied for database"
    r"|no password supplied|password is required",
    re.IGNORECASE,
)

# libpq's and the server's words (English) for the usual failures, in the order checked.
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    *(
        (re.compile(pattern, re.IGNORECASE), reason)
        for pattern, reason in (
            (
                r"Connection refused",
                "The server at {where} refused the connection: PostgreSQL is not running "
                "there, listens on another port, or does not accept connections from the "
                "network.",
            ),
            (
                r"failed to resolve host|could not translate host name"
                r"|Name or service not known|nodename nor servname",
                "The host name {host} is not known: check its spelling and the network.",
            ),
            (
                r"timeout expired|timed out",
                "The server at {where} did not answer within the time allowed: check the "
                "address, the network and any firewall in between.",
            ),
            (
                r'database ".*" does not exist',
                'The server has no database named "{database}". Check the name, or ask the '
                "administrator to create it.",
            ),
            (
                r"no pg_hba\.conf entry",
                "The server does not let this computer connect to {database} (its "
                "pg_hba.conf): ask the administrator to allow it.",
            ),
            (
                r"No such file or directory",
                "No PostgreSQL server listens at {where} on this computer.",
            ),
        )
    ),
    (_SIGN_IN_REFUSED, NOT_SET_UP),
)


def failure_reason(detail: str, settings: ServerSettings) -> str:
    """A failed connection's cause in the person's terms; the driver's words otherwise."""
    where = f"{settings.host}, port {settings.port},"
    for pattern, reason in _REASONS:
        if pattern.search(detail):
            return reason.format(where=where, host=settings.host, database=settings.database)
    return f"The connection failed: {detail}"
