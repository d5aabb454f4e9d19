"""Test connection against the real test server: what is there, or why not."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import URL

from erpgo_desktop.config import ServerSettings
from erpgo_desktop.db import migrate
from erpgo_desktop.db.engine import make_engine
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.connection_check import (
    ConnectionCheck,
    SchemaState,
    check_connection,
)
from tests.keyring_support import no_keyring

PASSWORD = "s3cret-Pw"


@pytest.fixture(autouse=True)
def _no_real_keyring() -> Iterator[None]:
    # A developer's own keyring must not be asked, nor answer.
    with no_keyring():
        yield


def settings_for(url: URL) -> ServerSettings:
    return ServerSettings.from_url(url)


def never_shows_the_password(result: ConnectionCheck) -> None:
    assert PASSWORD not in result.message
    assert PASSWORD not in (result.detail or "")


def test_a_migrated_database_is_up_to_date(database_url: URL) -> None:
    result = check_connection(settings_for(database_url), database_url.password)

    assert result.ok, result.message
    assert result.schema is SchemaState.CURRENT
    assert result.server_version is not None and result.server_version.startswith("PostgreSQL ")
    assert result.server_version in result.message
    assert "up to date" in result.message


def test_an_empty_database_has_no_schema_yet(empty_database_url: URL) -> None:
    result = check_connection(settings_for(empty_database_url), empty_database_url.password)

    assert result.ok
    assert result.schema is SchemaState.MISSING
    assert "no ERPGo tables yet" in result.message


def test_an_older_schema_is_outdated(empty_database_url: URL) -> None:
    engine = make_engine(empty_database_url)
    try:
        migrate.upgrade(engine, "0001")
    finally:
        engine.dispose()

    result = check_connection(settings_for(empty_database_url), empty_database_url.password)

    assert result.ok and result.schema is SchemaState.OUTDATED
    assert "older version" in result.message


def test_an_unknown_revision_was_made_by_a_newer_program(empty_database_url: URL) -> None:
    libpq = empty_database_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")

    result = check_connection(settings_for(empty_database_url), empty_database_url.password)

    assert result.schema is SchemaState.NEWER
    assert "newer ERPGo Desktop" in result.message


def test_a_wrong_database_name_is_named(database_url: URL) -> None:
    settings = dataclasses.replace(settings_for(database_url), database="no_such_erp")

    result = check_connection(settings, PASSWORD)

    assert not result.ok
    assert result.message.startswith('The server has no database named "no_such_erp".')
    assert result.schema is None and result.server_version is None
    assert result.detail and "no_such_erp" in result.detail
    never_shows_the_password(result)


def test_an_unknown_user_is_answered_like_a_wrong_password(database_url: URL) -> None:
    """A server that asks for passwords does not tell which user names exist."""
    settings = dataclasses.replace(settings_for(database_url), user="nobody_here")

    result = check_connection(settings, PASSWORD)

    assert not result.ok
    assert result.message.startswith("The server refused the user name or password.")
    never_shows_the_password(result)


def test_a_refused_port_says_nothing_listens_there() -> None:
    # Port 1 on this computer: nothing listens there, so the refusal comes at once.
    settings = ServerSettings(
        embedded=False, host="127.0.0.1", port=1, database="erpgo", user="clerk"
    )

    result = check_connection(settings, PASSWORD, timeout_seconds=2)

    assert not result.ok
    assert result.message.startswith("The server at 127.0.0.1, port 1, refused the connection")
    never_shows_the_password(result)


def test_an_unknown_host_name_is_named() -> None:
    settings = ServerSettings(
        embedded=False, host="no-such-host.invalid", database="erpgo", user="clerk"
    )

    result = check_connection(settings, PASSWORD, timeout_seconds=2)

    assert not result.ok
    assert result.message.startswith("The host name no-such-host.invalid is not known")


def test_incomplete_settings_are_refused_before_connecting() -> None:
    with pytest.raises(ValidationError) as caught:
        check_connection(ServerSettings(embedded=False, host="db", database="", user="u"))
    assert caught.value.field == "database"
