"""Trying a database server before pointing the program at it: the connection settings'
"Test connection".

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
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from psycopg.conninfo import make_conninfo

from erpgo_desktop import APP_NAME
from erpgo_desktop.config import ServerSettings, stored_password
from erpgo_desktop.db import migrate

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 5
OLDEST_SUPPORTED_MAJOR = 14


class SchemaState(Enum):
    CURRENT = "current"
    #: An older revision: upgraded when the program starts on it.
    OUTDATED = "outdated"
    #: No ERPGo tables yet: created when the program starts on it.
    MISSING = "missing"
    #: A revision this program does not know: made by a newer ERPGo Desktop.
    NEWER = "newer"


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    #: What to tell the person, in a sentence or two.
    message: str
    #: "PostgreSQL 15.20", when the server answered.
    server_version: str | None = None
    schema: SchemaState | None = None
    #: The driver's own first line, for whoever wants the exact words (no password).
    detail: str | None = None


def check_connection(
    settings: ServerSettings,
    password: str | None = None,
    *,
    timeout_seconds: int = CHECK_TIMEOUT_SECONDS,
) -> ConnectionCheck:
    """Connect to the server `settings` names and say what is there.

    Without `password` the keyring's is used, and without that libpq's password file.
    """
    settings = settings.check()
    secret = password or stored_password(settings)
    conninfo = make_conninfo(
        "",
        host=settings.host,
        port=settings.port,
        dbname=settings.database,
        user=settings.user,
        password=secret or None,
        connect_timeout=timeout_seconds,
        application_name=APP_NAME,
        **dict(settings.options),
    )
    where = f"{settings.host}:{settings.port}"
    try:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            version_number = connection.info.server_version
            revision = _schema_revision(connection)
    except psycopg.Error as error:
        detail = _first_line(str(error), secret)
        log.info("connection test of %s failed: %s", settings.describe(), detail)
        return ConnectionCheck(False, failure_reason(detail, settings), detail=detail)
    version = _format_version(version_number)
    log.info("connection test of %s: %s, schema %s", settings.describe(), version, revision)
    if version_number // 10000 < OLDEST_SUPPORTED_MAJOR:
        return ConnectionCheck(
            False,
            f"Connected to {version} at {where}, but ERPGo Desktop needs PostgreSQL "
            f"{OLDEST_SUPPORTED_MAJOR} or newer.",
            server_version=version,
        )
    schema = schema_state(revision)
    return ConnectionCheck(
        True,
        f"Connected to {version} at {where}. {_SCHEMA_MESSAGES[schema]}",
        server_version=version,
        schema=schema,
    )


_SCHEMA_MESSAGES = {
    SchemaState.CURRENT: "The ERPGo database is there and up to date.",
    SchemaState.OUTDATED: (
        "The ERPGo database is there in an older version; it is updated when ERPGo Desktop "
        "starts on it."
    ),
    SchemaState.MISSING: (
        "The database has no ERPGo tables yet; they are created when ERPGo Desktop starts "
        "on it (the user needs the right to create tables, or an administrator runs "
        "'erpgo-desktop migrate')."
    ),
    SchemaState.NEWER: (
        "The ERPGo database was updated by a newer ERPGo Desktop than this one; update this "
        "program first."
    ),
}


def _schema_revision(connection: psycopg.Connection[tuple[object, ...]]) -> str | None:
    # alembic's own table, read directly: MigrationContext would need an engine.
    found = connection.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()
    if not found or not found[0]:
        return None
    row = connection.execute("SELECT version_num FROM alembic_version LIMIT 1").fetchone()
    return str(row[0]) if row else None


def schema_state(revision: str | None) -> SchemaState:
    """Where a database at `revision` stands against this program's migrations."""
    if revision is None:
        return SchemaState.MISSING
    if revision == migrate.head_revision():
        return SchemaState.CURRENT
    try:
        known = ScriptDirectory.from_config(migrate.alembic_config()).get_revision(revision)
    except CommandError:
        known = None
    return SchemaState.OUTDATED if known is not None else SchemaState.NEWER


def _format_version(number: int) -> str:
    return f"PostgreSQL {number // 10000}.{number % 10000}"


def _first_line(message: str, password: str | None) -> str:
    # libpq never repeats the password, but a message is shown and logged: be sure.
    if password:
        message = message.replace(password, "********")
    message = message.strip()
    for prefix in ("connection failed:", "connection is bad:"):
        message = message.removeprefix(prefix).strip()
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[0] if lines else "The connection failed."


# libpq's and the server's words (English) for the usual failures, in the order checked.
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        (
            r"Connection refused",
            "The server at {where} refused the connection: PostgreSQL is not running "
            "there, listens on another port, or does not accept connections from the "
            "network.",
        ),
        (
            r"failed to resolve host|could not translate host name|Name or service not known"
            r"|nodename nor servname",
            "The host name {host} is not known: check its spelling and the network.",
        ),
        (
            r"timeout expired|timed out",
            "The server at {where} did not answer within the time allowed: check the address, the "
            "network and any firewall in between.",
        ),
        (
            r'database ".*" does not exist',
            'The server has no database named "{database}". Check the name, or ask the '
            "administrator to create it.",
        ),
        (
            r"password authentication failed|authentication failed",
            "The server refused the user name or password.",
        ),
        (r'role ".*" does not exist', 'The server has no user named "{user}".'),
        (
            r"no password supplied|password is required",
            "The server asks for a password: type it in, or keep it in ~/.pgpass.",
        ),
        (
            r"no pg_hba\.conf entry",
            "The server does not let {user} connect to {database} from this computer "
            "(its pg_hba.conf).",
        ),
        (
            r"No such file or directory",
            "No PostgreSQL server listens at {where} on this computer.",
        ),
    )
)


def failure_reason(detail: str, settings: ServerSettings) -> str:
    """A failed connection's cause in the person's terms; the driver's words otherwise."""
    where = f"{settings.host}, port {settings.port},"
    for pattern, reason in _REASONS:
        if pattern.search(detail):
            return reason.format(
                where=where, host=settings.host, database=settings.database, user=settings.user
            )
    return f"The connection failed: {detail}"
