"""Test connection against the real test server, as the sign-in role: whether people can
sign in to the database, or why not."""

from __future__ import annotations

import dataclasses

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL

from erpgo_desktop.config import ServerSettings
from erpgo_desktop.db import migrate
from erpgo_desktop.db.engine import libpq_conninfo, make_engine, make_session_factory
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.auth import AuthService, NewUser
from erpgo_desktop.services.connection_check import (
    NOT_SET_UP,
    ConnectionCheck,
    DatabaseState,
    check_connection,
    failure_reason,
)
from erpgo_desktop.services.security import SIGNIN_PASSWORD

PASSWORD = "s3cret-Pw"


def settings_for(url: URL) -> ServerSettings:
    return ServerSettings.from_url(url)


def as_administrator(url: URL, *statements: sql.Composable | str) -> None:
    with psycopg.connect(libpq_conninfo(url), autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def not_set_up(result: ConnectionCheck) -> None:
    assert not result.ok
    assert result.state is DatabaseState.NOT_SET_UP
    assert result.message.endswith(NOT_SET_UP)
    assert "setup-roles" in result.message


def test_a_set_up_database_without_accounts_is_ready_for_the_first_administrator(
    database_url: URL,
) -> None:
    result = check_connection(settings_for(database_url))

    assert result.ok, result.message
    assert result.state is DatabaseState.READY
    assert result.revision == migrate.head_revision()
    assert result.has_users is False
    assert result.server_version is not None and result.server_version.startswith("PostgreSQL ")
    assert result.message.startswith(f"Connected to {result.server_version} at ")
    assert "no accounts yet" in result.message and "first administrator" in result.message


def test_a_database_with_accounts_is_ready_and_names_nobody(database_url: URL) -> None:
    engine = make_engine(database_url)
    try:
        AuthService(make_session_factory(engine)).create_user(
            NewUser("zelda_q", "zelda@example.com", PASSWORD, "sales", "Zelda"), acting=None
        )
    finally:
        engine.dispose()

    result = check_connection(settings_for(database_url))

    assert result.ok and result.state is DatabaseState.READY and result.has_users is True
    assert f"The database {database_url.database} is ready" in result.message
    assert "own user name and password" in result.message
    assert "zelda" not in result.message.lower() and "zelda" not in (result.detail or "")


def test_an_empty_database_is_not_set_up(empty_database_url: URL) -> None:
    result = check_connection(settings_for(empty_database_url))

    not_set_up(result)
    assert result.server_version is not None  # the server answered: only the database is not
    assert result.detail and "erpgo_schema_revision" not in result.message


def test_a_migrated_database_without_setup_roles_is_not_set_up(empty_database_url: URL) -> None:
    engine = make_engine(empty_database_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()

    result = check_connection(settings_for(empty_database_url))

    not_set_up(result)
    assert result.revision == migrate.head_revision()


def test_a_database_the_sign_in_role_may_not_connect_to_is_not_set_up(
    empty_database_url: URL,
) -> None:
    as_administrator(
        empty_database_url,
        sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(
            sql.Identifier(str(empty_database_url.database))
        ),
    )

    # The URL names the test server's superuser, who may connect anywhere: the refusal
    # shows that the check connects as the sign-in role, not as whoever the URL names.
    assert empty_database_url.username
    result = check_connection(settings_for(empty_database_url))

    not_set_up(result)
    assert result.server_version is None
    assert result.detail and "permission denied for database" in result.detail


def test_a_server_without_the_sign_in_role_is_not_set_up(database_url: URL) -> None:
    # No such role: under SCRAM the server says "password authentication failed".
    result = check_connection(
        settings_for(database_url), role="erpgo_signin_nowhere", password=SIGNIN_PASSWORD
    )

    not_set_up(result)
    assert result.detail and "erpgo_signin_nowhere" in result.detail


def test_an_older_schema_asks_for_migrate_then_setup_roles(database_url: URL) -> None:
    as_administrator(database_url, "UPDATE alembic_version SET version_num = '0009'")

    result = check_connection(settings_for(database_url))

    assert not result.ok and result.state is DatabaseState.OUTDATED
    assert result.revision == "0009"
    assert f"revision 0009; this version of ERPGo Desktop needs {migrate.head_revision()}" in (
        result.message
    )
    assert "`erpgo-desktop migrate`, then `erpgo-desktop setup-roles`" in result.message


def test_an_unknown_revision_was_made_by_a_newer_program(database_url: URL) -> None:
    as_administrator(database_url, "UPDATE alembic_version SET version_num = '9999_future'")

    result = check_connection(settings_for(database_url))

    assert not result.ok and result.state is DatabaseState.NEWER
    assert "9999_future, newer than this version of ERPGo Desktop" in result.message
    assert "install the newer version" in result.message


def test_a_wrong_database_name_is_named(database_url: URL) -> None:
    settings = dataclasses.replace(settings_for(database_url), database="no_such_erp")

    result = check_connection(settings)

    assert not result.ok
    assert result.message.startswith('The server has no database named "no_such_erp".')
    assert result.state is None and result.server_version is None
    assert result.detail and "no_such_erp" in result.detail


def test_a_refused_port_says_nothing_listens_there() -> None:
    # Port 1 on this computer: nothing listens there, so the refusal comes at once.
    settings = ServerSettings(embedded=False, host="127.0.0.1", port=1, database="erpgo")

    result = check_connection(settings, timeout_seconds=2)

    assert not result.ok and result.state is None
    assert result.message.startswith("The server at 127.0.0.1, port 1, refused the connection")


def test_an_unknown_host_name_is_named() -> None:
    settings = ServerSettings(embedded=False, host="no-such-host.invalid", database="erpgo")

    result = check_connection(settings, timeout_seconds=2)

    assert not result.ok
    assert result.message.startswith("The host name no-such-host.invalid is not known")


@pytest.mark.parametrize(
    ("detail", "starts"),
    [
        # Under trust or peer authentication a missing role is named as such.
        ('FATAL:  role "erpgo_signin" does not exist', NOT_SET_UP),
        ('FATAL:  role "erpgo_signin" is not permitted to log in', NOT_SET_UP),
        (
            'FATAL:  no pg_hba.conf entry for host "10.0.0.7", user "erpgo_signin", '
            'database "erpgo", no encryption',
            "The server does not let this computer connect to erpgo (its pg_hba.conf)",
        ),
        ("SSL error: certificate verify failed", "The connection failed: SSL error"),
    ],
)
def test_the_servers_other_refusals_are_worded(detail: str, starts: str) -> None:
    settings = ServerSettings(embedded=False, host="dbserver", database="erpgo")
    assert failure_reason(detail, settings).startswith(starts)


def test_incomplete_settings_are_refused_before_connecting() -> None:
    with pytest.raises(ValidationError) as caught:
        check_connection(ServerSettings(embedded=False, host="db", database=""))
    assert caught.value.field == "database"
