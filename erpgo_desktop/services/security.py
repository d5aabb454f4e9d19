"""The database's own roles and grants: each person a login role, each application role a
group role, each permission a role holding that permission's table grants.

`setup_security` makes (or puts right) all of it, run by a superuser, or by the schema's
owner when it has CREATEROLE and may grant pg_signal_backend: on the embedded server at
every start, on a shared server as `erpgo-desktop setup-roles` after each `migrate`. It
may run any number of times. The roles, for a database whose roles use the prefix `p`:

- `p:definer` (NOLOGIN, CREATEROLE, with pg_signal_backend's privileges) owns the SECURITY
  DEFINER functions of revision 0011 and the triggers that write what people may not;
- `p:person` (NOLOGIN): every signed-in person; who is who and what roles grant;
- `p:<permission>` (NOLOGIN), such as `p:orders.confirm`: that permission's grants, from
  `domain.permissions.DATABASE_GRANTS`, the table the services check too;
- `p#<role>` (NOLOGIN): an application role, a member of its permissions' roles;
- `p.<username>` (LOGIN): a person, member of `p:person` and of their roles' groups;
- `erpgo_signin` (LOGIN, with a password everyone may know): shared by every ERPGo database
  on the server, it may only ask the sign-in questions (is this account locked? count a
  wrong password; does the database have any account; create the first administrator
  while there is none). It holds no right on any table.

Role names are global to a server, so the prefix is made from the database's name
(docs/administration.md); a copy of the database (a restore, a test's clone) gets its own
application and login roles the first time this runs on it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import ConfigurationError

log = logging.getLogger(__name__)

#: The sign-in role: its password is no secret (it can do nothing a sign-in screen
#: cannot), so every workstation knows it without being told.
SIGNIN_ROLE = "erpgo_signin"
SIGNIN_PASSWORD = "erpgo-sign-in"
#: What users.password_hash holds (revision 0011 writes it for new users): the password
#: is the login role's, checked by PostgreSQL.
NO_PASSWORD_HASH = "scram: the login role's password"

#: Functions nobody but the definer (or the schema's owner) calls: they would corrupt the
#: summaries or skip the checks of the functions that call them.
INTERNAL_FUNCTIONS = (
    "erpgo_sync_user(uuid, text)",
    "erpgo_sync_role(uuid)",
    "erpgo_end_sessions(uuid)",
    "dashboard_rebuild()",
    "stock_flags_rebuild()",
    "stock_values_rebuild()",
    "report_stock_totals_rebuild()",
    "dashboard_order_lines(orders, integer)",
    "dashboard_product_stock_value(products, integer, boolean)",
    "dashboard_variant_value(product_variants, integer)",
    # Migrations only: it replaces trigger functions.
    "erpgo_track_changes(regclass, text, text[], boolean)",
)

_PREFIX_LENGTH = 12


def role_prefix(database: str) -> str:
    """The prefix of a database's roles: its name when that is short and plain, else a
    plain start and a digest of the whole name."""
    if re.fullmatch(r"[a-z][a-z0-9_]{0,11}", database):
        return database
    plain = re.sub(r"[^a-z0-9_]", "", database.lower()).lstrip("0123456789_") or "db"
    digest = hashlib.sha256(database.encode()).hexdigest()
    return f"{plain[: _PREFIX_LENGTH - 6]}_{digest[:5]}"


@dataclass(frozen=True)
class SecuritySetup:
    """What `setup_security` did."""

    database: str
    prefix: str
    person_role: str
    definer_role: str
    permission_roles: int
    application_roles: tuple[str, ...]
    #: Login roles made for existing users, with the one-time password each was given.
    new_logins: tuple[tuple[str, str, str], ...] = field(default=())
    #: Roles other than ours whose rights on the app's tables were taken away.
    revoked_from: tuple[str, ...] = field(default=())

    def summary(self) -> tuple[str, ...]:
        lines = [
            f"database {self.database}: roles named {self.prefix}.<user>, "
            f"{self.prefix}#<role>, {self.prefix}:<permission>",
            f"{self.permission_roles} permission roles granted from the permission table",
            "application roles: " + ", ".join(self.application_roles),
            f"sign-in role {SIGNIN_ROLE}: CONNECT and the sign-in functions only",
        ]
        lines += [f"rights taken from {role}" for role in self.revoked_from]
        return tuple(lines)


def can_change_schema(connection: Connection) -> bool:
    """Whether the connected user may run the migrations: a superuser, or one who may
    create in schema public and acts as the owner of the app's tables."""
    return bool(
        connection.execute(
            text(
                """
                SELECT rolsuper OR (
                    has_schema_privilege('public', 'CREATE')
                    AND coalesce(pg_has_role(
                        (SELECT relowner FROM pg_class
                         WHERE oid = to_regclass('public.alembic_version')), 'USAGE'), true))
                FROM pg_roles WHERE rolname = current_user
                """
            )
        ).scalar()
    )


def setup_security(engine_or_url: Engine | URL | str) -> SecuritySetup:
    """Make or put right the roles and grants of the connected database; one transaction."""
    if isinstance(engine_or_url, Engine):
        return _setup(engine_or_url)
    from erpgo_desktop.config import normalize_url
    from erpgo_desktop.db.engine import make_engine

    engine = make_engine(normalize_url(engine_or_url), poolclass=NullPool)
    try:
        return _setup(engine)
    finally:
        engine.dispose()


def _setup(engine: Engine) -> SecuritySetup:
    try:
        with engine.begin() as connection:
            return _SecuritySetter(connection).run()
    except DBAPIError as exc:
        diag = getattr(exc.orig, "diag", None)
        detail = getattr(diag, "message_primary", None) or str(exc.orig)
        raise ConfigurationError(
            f"Setting up the database's roles failed: {detail}. Run `setup-roles` as a "
            "superuser (or as the schema's owner with CREATEROLE)."
        ) from exc


class _SecuritySetter:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.quote = connection.dialect.identifier_preparer.quote

    def run(self) -> SecuritySetup:
        c = self.connection
        database, database_oid = c.execute(
            text(
                "SELECT current_database(), oid FROM pg_database WHERE datname = current_database()"
            )
        ).one()
        owner = c.execute(
            text(
                "SELECT pg_get_userbyid(relowner) FROM pg_class "
                "WHERE oid = to_regclass('public.erpgo_security')"
            )
        ).scalar()
        if owner is None:
            raise ConfigurationError(
                f"Database {database} has no ERPGo schema at this version: run "
                "`erpgo-desktop migrate` as its owner first."
            )
        prefix = role_prefix(database)
        stored = c.execute(
            text("SELECT role_prefix, person_role, definer_role, database_oid FROM erpgo_security")
        ).one_or_none()
        copied = stored is not None and stored.database_oid != database_oid
        person_role = stored.person_role if stored else f"{prefix}:person"
        definer_role = stored.definer_role if stored else f"{prefix}:definer"
        self._ensure_definer(definer_role)
        self._ensure_role(person_role, "NOLOGIN NOINHERIT")
        self._ensure_role(SIGNIN_ROLE, "LOGIN NOINHERIT")
        self._run(
            f"ALTER ROLE {SIGNIN_ROLE} PASSWORD "
            f"{self._literal(self._verifier(SIGNIN_ROLE, SIGNIN_PASSWORD))}"
        )
        if owner != c.execute(text("SELECT current_user")).scalar():
            # The owner's later migrations replace functions the definer owns.
            self._run(f"GRANT {self.quote(definer_role)} TO {self.quote(owner)}")
        c.execute(text("DELETE FROM erpgo_security"))
        c.execute(
            text(
                "INSERT INTO erpgo_security (role_prefix, person_role, definer_role, "
                "database_oid) VALUES (:p, :person, :definer, :oid)"
            ),
            {"p": prefix, "person": person_role, "definer": definer_role, "oid": database_oid},
        )
        permission_roles = self._permission_roles(prefix)
        # From PostgreSQL 16 on, CREATEROLE grants only roles one holds with ADMIN OPTION.
        for granted in (person_role, *permission_roles.values()):
            self._run(
                f"GRANT {self.quote(granted)} TO {self.quote(definer_role)} WITH ADMIN OPTION"
            )
        revoked = self._grant(database, owner, definer_role, person_role, permission_roles)
        if copied:
            # A copy shares nothing that changes later with the database it came from.
            c.execute(text("UPDATE roles SET db_role = NULL"))
            c.execute(text("UPDATE users SET login_role = NULL"))
        application_roles = tuple(
            c.execute(text("SELECT erpgo_sync_role(id) FROM roles ORDER BY name")).scalars()
        )
        self._clear_old_password_hashes()
        new_logins = self._sync_users()
        return SecuritySetup(
            database=database,
            prefix=prefix,
            person_role=person_role,
            definer_role=definer_role,
            permission_roles=len(permission_roles),
            application_roles=application_roles,
            new_logins=new_logins,
            revoked_from=revoked,
        )

    def _ensure_definer(self, definer_role: str) -> None:
        """The definer, able to end a deactivated person's sessions (erpgo_end_sessions).

        pg_terminate_backend asks for the privileges of pg_signal_backend, not just
        membership, and a NOINHERIT role's memberships give none: without inheriting it,
        deactivating anyone signed in failed with "permission denied to terminate process".
        From PostgreSQL 16 on, that one membership inherits and the definer's others stay
        as they are; before 16 inheritance is the role's own, so the definer inherits (the
        roles it is a member of grant nothing it does not hold already).
        """
        definer = self.quote(definer_role)
        version = int(self.connection.execute(text("SHOW server_version_num")).scalar_one())
        if version >= 160000:
            self._ensure_role(definer_role, "NOLOGIN NOINHERIT CREATEROLE")
            self._run(f"GRANT pg_signal_backend TO {definer} WITH INHERIT TRUE")
        else:
            self._ensure_role(definer_role, "NOLOGIN INHERIT CREATEROLE")
            self._run(f"GRANT pg_signal_backend TO {definer}")

    def _permission_roles(self, prefix: str) -> dict[str, str]:
        c = self.connection
        stored: dict[str, str] = dict(
            c.execute(text("SELECT permission, role_name FROM erpgo_permission_roles")).all()
        )
        roles = {p: stored.get(p, f"{prefix}:{p}") for p in perms.EVERY_PERMISSION}
        for role in roles.values():
            self._ensure_role(role, "NOLOGIN NOINHERIT")
        c.execute(text("DELETE FROM erpgo_permission_roles"))
        c.execute(
            text("INSERT INTO erpgo_permission_roles (permission, role_name) VALUES (:p, :r)"),
            [{"p": p, "r": r} for p, r in roles.items()],
        )
        return roles

    def _grant(
        self,
        database: str,
        owner: str,
        definer: str,
        person: str,
        permission_roles: dict[str, str],
    ) -> tuple[str, ...]:
        q = self.quote
        ours = {definer, person, *permission_roles.values()}
        tables = self._tables()
        # Everyone else's rights on the app's tables go first: the shared application role
        # of earlier versions, or grants someone added by hand.
        others = sorted(self._grantees(tables) - ours - {owner})
        for role in (*others, *ours):
            self._run(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {q(role)}")
            self._run(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {q(role)}")
        db = q(database)
        self._run(f"REVOKE CONNECT, TEMPORARY ON DATABASE {db} FROM PUBLIC")
        for role in others:
            self._run(f"REVOKE ALL ON DATABASE {db} FROM {q(role)}")
        self._run(f"GRANT CONNECT ON DATABASE {db} TO {q(person)}, {SIGNIN_ROLE}")
        self._run("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        self._run(f"GRANT USAGE ON SCHEMA public TO {q(person)}, {q(definer)}")

        self._run(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {q(definer)}")
        self._run(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {q(definer)}")
        self._run(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {q(person)}")
        self._apply(person, perms.SIGNED_IN_GRANTS, tables)
        for permission, role in permission_roles.items():
            grants = perms.DATABASE_GRANTS[permission]
            self._apply(role, grants, tables)
            if any(grant.table == perms.EVERY_TABLE for grant in grants):
                # Reading everything, as pg_dump does, includes where the sequences stand.
                self._run(f"GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {q(role)}")

        for function in self._definer_functions():
            self._run(f"ALTER FUNCTION {function} OWNER TO {q(definer)}")
        for function in INTERNAL_FUNCTIONS:
            if self.connection.execute(
                text("SELECT to_regprocedure(:f)"), {"f": f"public.{function}"}
            ).scalar():
                self._run(f"REVOKE EXECUTE ON FUNCTION public.{function} FROM PUBLIC")
        return tuple(others)

    def _apply(
        self, role: str, grants: Iterable[perms.TableGrant], tables: dict[str, list[str]]
    ) -> None:
        q = self.quote
        for grant in _every_table_expanded(grants, tables):
            if grant.table not in tables:
                raise ConfigurationError(f"The permission table names no table {grant.table}.")
            columns: Sequence[str] = grant.columns
            if grant.except_columns:
                columns = [c for c in tables[grant.table] if c not in grant.except_columns]
            listed = f" ({', '.join(q(c) for c in columns)})" if columns else ""
            for privilege in grant.privileges:
                column_list = "" if privilege == "DELETE" else listed
                self._run(f"GRANT {privilege}{column_list} ON public.{q(grant.table)} TO {q(role)}")

    def _clear_old_password_hashes(self) -> None:
        """Earlier versions kept argon2 hashes in users.password_hash: the password is the
        login role's now, so they only wait to be stolen."""
        self.connection.execute(
            text("UPDATE users SET password_hash = :kept WHERE password_hash <> :kept"),
            {"kept": NO_PASSWORD_HASH},
        )

    def _tables(self) -> dict[str, list[str]]:
        rows = self.connection.execute(
            text(
                "SELECT c.relname, a.attname FROM pg_class c "
                "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
                "AND NOT a.attisdropped "
                "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') "
                "ORDER BY c.relname, a.attnum"
            )
        ).all()
        tables: dict[str, list[str]] = {}
        for table, column in rows:
            tables.setdefault(table, []).append(column)
        return tables

    def _grantees(self, tables: dict[str, list[str]]) -> set[str]:
        rows = self.connection.execute(
            text(
                "SELECT DISTINCT grantee FROM information_schema.role_table_grants "
                "WHERE table_schema = 'public' AND grantee <> 'PUBLIC' "
                "UNION SELECT DISTINCT grantee FROM information_schema.role_column_grants "
                "WHERE table_schema = 'public' AND grantee <> 'PUBLIC'"
            )
        ).scalars()
        superusers = set(
            self.connection.execute(text("SELECT rolname FROM pg_roles WHERE rolsuper")).scalars()
        )
        return set(rows) - superusers

    def _definer_functions(self) -> list[str]:
        q = self.quote
        rows = self.connection.execute(
            text(
                "SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p "
                "WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef ORDER BY 1, 2"
            )
        ).all()
        return [f"public.{q(name)}({arguments})" for name, arguments in rows]

    def _sync_users(self) -> tuple[tuple[str, str, str], ...]:
        """Every user's login role; one made now gets a one-time password to pass on.

        A login role of the right name that exists already is the person's (a database
        restored over itself on the same server keeps its people's passwords).
        """
        c = self.connection
        made = []
        rows = c.execute(
            text("SELECT id, username, erpgo_login_role(username) FROM users ORDER BY username")
        ).all()
        for user_id, username, login in rows:
            exists = c.execute(
                text("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :r)"), {"r": login}
            ).scalar()
            if exists:
                c.execute(text("SELECT erpgo_sync_user(:id)"), {"id": user_id})
                continue
            password = one_time_password()
            c.execute(
                text("SELECT erpgo_sync_user(:id, :verifier)"),
                {"id": user_id, "verifier": self._verifier(login, password)},
            )
            made.append((username, login, password))
        return tuple(made)

    def _ensure_role(self, name: str, attributes: str) -> None:
        exists = self.connection.execute(
            text("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :r)"), {"r": name}
        ).scalar()
        verb = "ALTER" if exists else "CREATE"
        self._run(f"{verb} ROLE {self.quote(name)} {attributes}")

    def _run(self, statement: str) -> None:
        self.connection.exec_driver_sql(statement)

    def _verifier(self, role: str, password: str) -> str:
        return scram_verifier(self.connection, role, password)

    def _literal(self, value: str) -> str:
        from psycopg import sql

        driver = cast(Any, self.connection.connection.driver_connection)
        return sql.Literal(value).as_string(driver)


def _every_table_expanded(
    grants: Iterable[perms.TableGrant], tables: dict[str, list[str]]
) -> Iterator[perms.TableGrant]:
    for grant in grants:
        if grant.table == perms.EVERY_TABLE:
            yield from (dataclasses.replace(grant, table=table) for table in tables)
        else:
            yield grant


def scram_verifier(connection: Connection, role: str, password: str) -> str:
    """The password as the server keeps it (SCRAM-SHA-256), made here, so that the clear
    text never reaches the server or its statement log."""
    driver = cast(Any, connection.connection.driver_connection)
    verifier: bytes = driver.pgconn.encrypt_password(
        password.encode(), role.encode(), b"scram-sha-256"
    )
    return verifier.decode()


def one_time_password() -> str:
    """A password to hand to a person once; they choose their own at the next sign-in."""
    return "-".join(secrets.token_hex(3) for _ in range(3))
