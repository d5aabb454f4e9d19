"""An existing database of the shared-application-role days, upgraded with `migrate` and
`setup-roles`: every user gets a login role (with a one-time password to hand out), and
the old shared role loses every right it had."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool

from erpgo_desktop.db import migrate
from erpgo_desktop.db.engine import libpq_conninfo, make_engine, make_session_factory
from erpgo_desktop.errors import AuthenticationError, ConfigurationError
from erpgo_desktop.services.auth import AuthService, NewUser
from erpgo_desktop.services.security import setup_security
from tests.conftest import ThrowawayDatabases, adopt_clone

BEFORE_RIGHTS = "0008"


@pytest.fixture
def old_engine(empty_database_url: URL) -> Iterator[Engine]:
    engine = make_engine(empty_database_url, poolclass=NullPool)
    migrate.upgrade(engine, BEFORE_RIGHTS)
    yield engine
    engine.dispose()


def test_upgrade_gives_every_user_a_login_and_takes_the_shared_roles_rights(
    old_engine: Engine, empty_database_url: URL
) -> None:
    shared_role = f"erpgo_app_{uuid.uuid4().hex[:8]}"
    with old_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (username, email, password_hash, first_name, last_name) "
                "VALUES ('ann', 'ann@example.com', '$argon2id$old', 'Ann', 'A'), "
                "('bob', 'bob@example.com', '$argon2id$old', 'Bob', 'B')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO user_roles (user_id, role_id) SELECT u.id, r.id FROM users u, "
                "roles r WHERE (u.username, r.name) IN (('ann', 'admin'), ('bob', 'sales'))"
            )
        )
        connection.exec_driver_sql(f"CREATE ROLE {shared_role} LOGIN PASSWORD 'shared'")
        connection.exec_driver_sql(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {shared_role}"
        )
    try:
        auth = AuthService(make_session_factory(old_engine))
        migrate.upgrade(old_engine)
        with pytest.raises(ConfigurationError, match="setup-roles"):
            auth.login("ann", "anything")

        done = setup_security(old_engine)

        passwords = {username: password for username, _, password in done.new_logins}
        assert set(passwords) == {"ann", "bob"}
        assert auth.login("bob", passwords["bob"]).roles == ("sales",)
        assert auth.login("ann", passwords["ann"]).can("users.admin")
        assert shared_role in done.revoked_from
        with old_engine.connect() as connection:
            kept = connection.execute(
                text(
                    "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = :r"
                ),
                {"r": shared_role},
            ).scalar_one()
        assert kept == 0
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(
                libpq_conninfo(empty_database_url.set(username=shared_role, password="shared"))
            ).close()
        # Run again, nothing new: the people keep their passwords.
        assert setup_security(old_engine).new_logins == ()
        assert auth.login("bob", passwords["bob"]).username == "bob"
    finally:
        with old_engine.begin() as connection:
            connection.exec_driver_sql(f"DROP OWNED BY {shared_role}")
            connection.exec_driver_sql(f"DROP ROLE {shared_role}")


def test_two_databases_on_one_server_keep_their_people_apart(
    pg_server: ThrowawayDatabases, template_database: str
) -> None:
    """Role names are the server's: each database's people get names of their own."""
    engines = []
    try:
        logins = []
        for password in ("first password", "second password"):
            url = pg_server.create_database(template=template_database)
            adopt_clone(pg_server.admin_url, url)
            engine = make_engine(url, poolclass=NullPool)
            engines.append(engine)
            auth = AuthService(make_session_factory(engine))
            auth.create_user(
                NewUser("ann", "ann@example.com", password, "sales", "Ann"), acting=None
            )
            with engine.connect() as connection:
                logins.append(connection.execute(text("SELECT login_role FROM users")).scalar_one())
            assert auth.login("ann", password).username == "ann"
        assert logins[0] != logins[1]
        first = AuthService(make_session_factory(engines[0]))
        with pytest.raises(AuthenticationError):
            first.login("ann", "second password")
    finally:
        for engine in engines:
            engine.dispose()
