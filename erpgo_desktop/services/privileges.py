"""Least-privilege database access: an application role that can work but not change the schema.

On a shared server the schema belongs to an owner (the account that runs `erpgo-desktop
migrate`); the workstations connect as an application role that may only read and write
rows. `setup_application_role` creates or updates that role, run by the owner or by a
superuser, and may be run again at any time (after each migration, say) to put the grants
right: each run first takes back what the role had in the app's schema, then grants:

- CONNECT on the database; USAGE (not CREATE) on schema `public`;
- SELECT, INSERT, UPDATE, DELETE on every table in `public` (no TRUNCATE, REFERENCES or
  TRIGGER), but only SELECT on `alembic_version`, which the app reads at start;
- USAGE, SELECT on every sequence in `public` (nextval; no setval);
- EXECUTE on the app's own functions in `public`, but not on the maintenance functions
  (`OWNER_ONLY_FUNCTIONS`), which migrations and the demo data loader run as the owner;
- default privileges, so tables, sequences and functions the owner creates in `public`
  later are granted alike.

And for everyone (PUBLIC) in this database: no CREATE on schema `public` (the default
before PostgreSQL 15) and no TEMPORARY tables (the app makes none).

LISTEN and NOTIFY (the live change feed) need no privilege. The triggers run as the user
whose statement fires them, so they need nothing beyond the table grants either.

Roles are cluster-wide; grants are per database: a second database served to the same
role needs its own run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from erpgo_desktop.errors import ConfigurationError, ValidationError

DEFAULT_ROLE = "erpgo_app"

#: Rebuilders run by migrations and `demo-data` as the owner. The app never calls them:
#: dashboard_rebuild() TRUNCATEs the summaries, stock_flags_rebuild() rewrites every stock
#: row. Taken from PUBLIC too, so that only the owner may run them.
OWNER_ONLY_FUNCTIONS = ("dashboard_rebuild()", "stock_flags_rebuild()")

#: The attributes the role is created with. An existing role with any of the powers is
#: refused rather than stripped: it may be someone's administrator account.
ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT"
_POWERS = {
    "rolsuper": "SUPERUSER",
    "rolcreatedb": "CREATEDB",
    "rolcreaterole": "CREATEROLE",
    "rolreplication": "REPLICATION",
    "rolbypassrls": "BYPASSRLS",
}

# Lowercase so that nobody has to quote it in a URL, a pgpass line or psql.
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

_SYSTEM_SCHEMAS = "('public', 'pg_catalog', 'information_schema', 'pg_toast')"


@dataclass(frozen=True)
class RoleSetup:
    """What `setup_application_role` did."""

    role: str
    database: str
    #: Whose objects the role was granted on, and for whom default privileges were set.
    owner: str
    created: bool
    password_changed: bool
    tables: int
    sequences: int
    #: The app's functions granted EXECUTE, as `name(argument types)`.
    functions: tuple[str, ...]
    owner_only_functions: tuple[str, ...]
    #: Things still wider than they should be, which this run could not change.
    warnings: tuple[str, ...]

    def granted(self) -> tuple[str, ...]:
        """One line per grant, for a person to read."""
        return (
            f"database {self.database}: CONNECT (TEMPORARY taken from everyone)",
            f"schema public: USAGE (CREATE taken from everyone but {self.owner})",
            f"{self.tables} tables in public: SELECT, INSERT, UPDATE, DELETE "
            "(alembic_version: SELECT only)",
            f"{self.sequences} sequences in public: USAGE, SELECT",
            f"{len(self.functions)} functions in public: EXECUTE"
            + (
                f" (owner only: {', '.join(self.owner_only_functions)})"
                if self.owner_only_functions
                else ""
            ),
            f"default privileges: what {self.owner} creates in public later is granted alike",
        )


def check_role_name(name: str) -> str:
    if not _ROLE_NAME.fullmatch(name) or name.startswith("pg_"):
        raise ValidationError(
            f"{name!r} cannot be a role name here: use lowercase letters, digits and _ "
            "(up to 63, not starting with a digit or pg_).",
            field="role",
        )
    return name


def application_url(owner_url: URL, role: str) -> URL:
    """The URL workstations use: the owner's server and database, the role, no password."""
    return owner_url.set(username=role, password=None)


def setup_application_role(
    engine_or_url: Engine | URL | str,
    role_name: str = DEFAULT_ROLE,
    password: str | None = None,
) -> RoleSetup:
    """Create the application role, or bring an existing one back to exactly its grants.

    Run as the schema's owner (who needs CREATEROLE to create the role) or as a superuser.
    `password` None keeps the role's password (a new role then has none: it can log in
    only by trust, peer or certificate). One transaction: on any error nothing changes.
    """
    role = check_role_name(role_name)
    if password == "":
        raise ValidationError("The password is empty.", field="password")
    if isinstance(engine_or_url, Engine):
        return _setup(engine_or_url, role, password)
    from erpgo_desktop.db.engine import make_engine

    engine = make_engine(_as_url(engine_or_url), poolclass=NullPool)
    try:
        return _setup(engine, role, password)
    finally:
        engine.dispose()


def _as_url(url: URL | str) -> URL:
    from erpgo_desktop.config import normalize_url

    return normalize_url(url)


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


def _setup(engine: Engine, role: str, password: str | None) -> RoleSetup:
    try:
        with engine.begin() as connection:
            return _grant(connection, role, password)
    except DBAPIError as exc:
        cause = getattr(exc.orig, "diag", None)
        detail = getattr(cause, "message_primary", None) or str(exc.orig)
        raise ConfigurationError(
            f"Setting up role {role} failed: {detail}. Run this as the schema's owner with "
            "the CREATEROLE attribute, or as a superuser."
        ) from exc


def _grant(connection: Connection, role: str, password: str | None) -> RoleSetup:
    me, database = connection.execute(text("SELECT current_user, current_database()")).one()
    if role == me:
        raise ValidationError(
            f"You are connected as {role}: the application role must be another one.",
            field="role",
        )
    owner = connection.execute(
        text(
            "SELECT pg_get_userbyid(relowner) FROM pg_class "
            "WHERE oid = to_regclass('public.alembic_version')"
        )
    ).scalar()
    if owner is None:
        raise ConfigurationError(
            f"Database {database} has no ERPGo schema yet: run `erpgo-desktop migrate` as "
            "its owner first."
        )
    if owner == role:
        raise ValidationError(
            f"{role} owns the schema; the application role must be another one.", field="role"
        )
    q = connection.dialect.identifier_preparer.quote
    name, db, owner_name = q(role), q(database), q(owner)

    existing = connection.execute(
        text(
            f"SELECT {', '.join(_POWERS)}, rolcanlogin, rolinherit FROM pg_roles "
            "WHERE rolname = :role"
        ),
        {"role": role},
    ).one_or_none()
    if existing is None:
        connection.exec_driver_sql(f"CREATE ROLE {name} {ROLE_ATTRIBUTES}")
    else:
        _check_existing_role(connection, role, owner, existing._asdict())
        # Only when needed: altering a role takes CREATEROLE, which a re-run by the owner
        # of a role a superuser made may not have.
        if not existing.rolcanlogin or existing.rolinherit:
            connection.exec_driver_sql(f"ALTER ROLE {name} LOGIN NOINHERIT")
    if password is not None:
        verifier = _literal(connection, _encrypted(connection, role, password))
        connection.exec_driver_sql(f"ALTER ROLE {name} PASSWORD {verifier}")

    run = connection.exec_driver_sql
    run(f"GRANT CONNECT ON DATABASE {db} TO {name}")
    run(f"REVOKE TEMPORARY ON DATABASE {db} FROM PUBLIC, {name}")
    # Before PostgreSQL 15 a database owner's CREATE on public came from PUBLIC only.
    run(f"GRANT USAGE, CREATE ON SCHEMA public TO {owner_name}")
    run(f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {name}")
    run(f"GRANT USAGE ON SCHEMA public TO {name}")

    # Taken back first, so that a re-run also removes what someone added by hand.
    run(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {name}")
    run(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}")
    run(f"REVOKE INSERT, UPDATE, DELETE ON public.alembic_version FROM {name}")
    run(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {name}")
    run(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}")

    functions = _app_functions(connection)
    for function in functions:
        run(f"GRANT EXECUTE ON FUNCTION public.{function} TO {name}")
    owner_only = tuple(
        f
        for f in OWNER_ONLY_FUNCTIONS
        if connection.execute(text("SELECT to_regprocedure(:f)"), {"f": f"public.{f}"}).scalar()
    )
    for function in owner_only:
        run(f"REVOKE EXECUTE ON FUNCTION public.{function} FROM PUBLIC, {name}")

    defaults = f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_name} IN SCHEMA public"
    run(f"{defaults} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}")
    run(f"{defaults} GRANT USAGE, SELECT ON SEQUENCES TO {name}")
    run(f"{defaults} GRANT EXECUTE ON FUNCTIONS TO {name}")

    counts = connection.execute(
        text(
            "SELECT count(*) FILTER (WHERE relkind IN ('r', 'p', 'v', 'm', 'f')), "
            "count(*) FILTER (WHERE relkind = 'S') "
            "FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        )
    ).one()
    return RoleSetup(
        role=role,
        database=database,
        owner=owner,
        created=existing is None,
        password_changed=password is not None,
        tables=counts[0],
        sequences=counts[1],
        functions=functions,
        owner_only_functions=owner_only,
        warnings=_still_too_wide(connection, role, database),
    )


def _check_existing_role(
    connection: Connection, role: str, owner: str, powers: dict[str, Any]
) -> None:
    held = [keyword for column, keyword in _POWERS.items() if powers[column]]
    if held:
        raise ConfigurationError(
            f"Role {role} exists and has {', '.join(held)}: it cannot be the application "
            "role. Choose another name, or take those away first (ALTER ROLE)."
        )
    owned = connection.execute(
        text(
            """
            SELECT count(*) FROM (
                SELECT relowner AS owner FROM pg_class
                UNION ALL SELECT nspowner FROM pg_namespace
                UNION ALL SELECT proowner FROM pg_proc
                -- Standalone types (an enum's owner may add values), not tables' row types.
                UNION ALL SELECT typowner FROM pg_type WHERE typrelid = 0 AND typelem = 0
                UNION ALL SELECT datdba FROM pg_database WHERE datname = current_database()
            ) owners WHERE owner = (SELECT oid FROM pg_roles WHERE rolname = :role)
            """
        ),
        {"role": role},
    ).scalar_one()
    if owned:
        raise ConfigurationError(
            f"Role {role} owns {owned} object{'' if owned == 1 else 's'} in this database, "
            "which lets it change them: "
            "it cannot be the application role. Choose another name, or REASSIGN OWNED BY "
            f"{role} TO the owner first."
        )
    # A member of the owner could SET ROLE to it, NOINHERIT or not.
    if connection.execute(
        text("SELECT pg_has_role(:role, :owner, 'MEMBER')"), {"role": role, "owner": owner}
    ).scalar_one():
        raise ConfigurationError(
            f"Role {role} is a member of {owner}, the schema's owner, and could act as it: "
            "it cannot be the application role."
        )


def _encrypted(connection: Connection, role: str, password: str) -> str:
    """The password as the server stores it (SCRAM), so that the clear text never
    appears in a statement the server might log."""
    driver = cast(Any, connection.connection.driver_connection)
    verifier: bytes = driver.pgconn.encrypt_password(password.encode(), role.encode())
    return verifier.decode()


def _literal(connection: Connection, value: str) -> str:
    from psycopg import sql

    driver = cast(Any, connection.connection.driver_connection)
    return sql.Literal(value).as_string(driver)


def _app_functions(connection: Connection) -> tuple[str, ...]:
    """Ordinary functions of ours in public: not the extensions' (pg_trgm, btree_gin),
    which are PUBLIC's already, and not trigger functions, which nobody calls directly."""
    q = connection.dialect.identifier_preparer.quote
    rows = connection.execute(
        text(
            """
            SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p
            WHERE p.pronamespace = 'public'::regnamespace
              AND p.prokind = 'f'
              AND p.prorettype <> 'trigger'::regtype
              AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                              AND d.objid = p.oid AND d.deptype = 'e')
            ORDER BY 1, 2
            """
        )
    ).all()
    signatures = (f"{q(function)}({arguments})" for function, arguments in rows)
    return tuple(f for f in signatures if f not in OWNER_ONLY_FUNCTIONS)


def _still_too_wide(connection: Connection, role: str, database: str) -> tuple[str, ...]:
    """What the role can still do beyond its grants, through PUBLIC or memberships that
    this run may not change (another owner's database, another schema)."""
    warnings = []
    checks = connection.execute(
        text(
            """
            SELECT has_schema_privilege(:role, 'public', 'CREATE'),
                   has_database_privilege(:role, current_database(), 'CREATE'),
                   has_database_privilege(:role, current_database(), 'TEMPORARY')
            """
        ),
        {"role": role},
    ).one()
    if checks[0]:
        warnings.append(f"{role} can still create objects in schema public.")
    if checks[1]:
        warnings.append(f"{role} can create schemas in database {database}.")
    if checks[2]:
        warnings.append(
            f"{role} can create temporary tables in {database} (only the database's owner or "
            "a superuser can take TEMPORARY from PUBLIC)."
        )
    schemas = connection.execute(
        text(
            f"""
            SELECT nspname FROM pg_namespace
            WHERE nspname NOT IN {_SYSTEM_SCHEMAS} AND nspname NOT LIKE 'pg\\_%'
              AND (has_schema_privilege(:role, oid, 'USAGE')
                   OR has_schema_privilege(:role, oid, 'CREATE'))
            ORDER BY 1
            """
        ),
        {"role": role},
    ).scalars()
    for schema in schemas:
        warnings.append(f"{role} can use schema {schema} (granted to it or to PUBLIC).")
    members_of = connection.execute(
        text(
            "SELECT m.roleid::regrole::text FROM pg_auth_members m "
            "WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = :role) ORDER BY 1"
        ),
        {"role": role},
    ).scalars()
    for granted in members_of:
        warnings.append(f"{role} is a member of {granted} and may SET ROLE to it.")
    return tuple(warnings)
