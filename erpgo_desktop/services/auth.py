"""Signing in and user accounts.

A person signs in as their own PostgreSQL login role: PostgreSQL checks the password
(SCRAM), and the session that results is who they are to the database (grants, row
security, the change history). Passwords never reach the server in clear text: accounts
are given a SCRAM verifier made here (services/security.py).

Before anyone has signed in, the app asks its questions as the sign-in role (it may only
ask whether an account is locked, count a wrong password, and create the first
administrator of an empty database). Five wrong passwords in a row lock an account for
15 minutes, even with the right password; an unknown name and a wrong password get the
same answer. Times come from the database's clock, which every workstation shares.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from psycopg import errors as pg_errors
from sqlalchemy import func, select, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from erpgo_desktop.config import without_credentials
from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.db.models import Role, User, UserRole
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain import validation
from erpgo_desktop.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ConnectionLostError,
    NotFoundError,
)
from erpgo_desktop.services.arguments import checked_entry_points
from erpgo_desktop.services.security import SIGNIN_PASSWORD, SIGNIN_ROLE, scram_verifier

log = logging.getLogger(__name__)

T = TypeVar("T")

NOT_SET_UP = (
    "This database is not set up for signing in with personal accounts: ask the "
    "administrator to run `erpgo-desktop migrate` and `erpgo-desktop setup-roles` (see the "
    "README's section for administrators)."
)
GRANTS_MISSING = (
    "The database refused to answer a sign-in ({detail}): its rights are not set up for "
    "this version of ERPGo Desktop. Ask the administrator to run `erpgo-desktop "
    "setup-roles` as a superuser (after `erpgo-desktop migrate`)."
)
NO_ROLES_YET = (
    "The database's roles are not set up yet: run `erpgo-desktop setup-roles` as a "
    "superuser (after `migrate`)."
)

#: How the server refuses a sign-in. libpq hands psycopg no SQLSTATE for a refused
#: connection, only the server's message: a wrong password (with SCRAM also for a role that
#: does not exist) and, under trust or peer authentication, a role that does not exist. A
#: role that may not log in (a deactivated account) is recognised by
#: services.base.account_disabled, which also tells a signed-in person so.
_WRONG_PASSWORD = "password authentication failed"
_NO_SUCH_ROLE = re.compile(r'role ".*" does not exist')


@dataclass(frozen=True)
class CurrentUser:
    id: uuid.UUID
    username: str
    full_name: str
    roles: tuple[str, ...]
    permissions: frozenset[str]

    def can(self, permission: str) -> bool:
        return perms.allows(self.permissions, permission)


@dataclass(frozen=True)
class NewUser:
    username: str
    email: str
    password: str
    role: str
    first_name: str
    last_name: str = ""


@dataclass(frozen=True)
class SignedIn:
    """A person signed in: who they are, and the engine that connects as them."""

    user: CurrentUser
    engine: Engine


@checked_entry_points
class AuthService:
    """Signing in, and creating accounts (with their login roles)."""

    def __init__(self, session_factory: sessionmaker[Session], *, server_url: URL | None = None):
        self._sessions = session_factory
        # The server and database people sign in to: by default, the one these sessions
        # use (whoever they connect as).
        bound = session_factory.kw.get("bind")
        url = server_url or (bound.url if isinstance(bound, Engine) else None)
        if url is None:
            raise ValueError("AuthService needs the server's URL")
        self._server_url: URL = without_credentials(url)

    @classmethod
    def for_server(cls, server_url: URL) -> AuthService:
        """Signing in to a server nobody is connected to yet (no accounts made here)."""
        return cls(sessionmaker(), server_url=server_url)

    @property
    def server_url(self) -> URL:
        return self._server_url

    def check_schema(self) -> None:
        """Refuse, in words, a database whose schema this program does not match."""
        from erpgo_desktop.db import migrate

        with _connection_errors_as_lost(), self._gate() as connection:
            current = connection.execute(text("SELECT erpgo_schema_revision()")).scalar()
        head = migrate.head_revision()
        if current != head:
            raise ConfigurationError(
                f"The database's schema is at revision {current}, and this version of ERPGo "
                f"Desktop needs {head}: ask your administrator to run `erpgo-desktop migrate` "
                "and `erpgo-desktop setup-roles` (or, if the database is newer, install the "
                "newer version of the program)."
            )

    def has_any_user(self) -> bool:
        with _connection_errors_as_lost(), self._gate() as connection:
            return bool(connection.execute(text("SELECT erpgo_has_users()")).scalar())

    def login(self, username: str, password: str) -> CurrentUser:
        """Sign in and out again: who `username` is, when `password` is theirs."""
        signed_in = self.sign_in(username, password)
        signed_in.engine.dispose()
        return signed_in.user

    def sign_in(self, username: str, password: str) -> SignedIn:
        """Connect as the person's own login role; the engine is theirs to dispose."""
        username = username.strip()  # text without NUL: see services/arguments.py
        refused = AuthenticationError("Wrong username or password.")
        with _connection_errors_as_lost(), self._gate() as connection:
            login_role, locked_until = connection.execute(
                text("SELECT erpgo_login_role(:u), erpgo_sign_in_locked_until(:u)"),
                {"u": username},
            ).one()
        if login_role is None:
            raise ConfigurationError(NO_ROLES_YET)
        if locked_until is not None:
            raise locked_error(locked_until)
        if not username or not password:
            raise refused
        engine = make_engine(
            self._server_url.set(username=login_role, password=password),
            pool_size=2,
            max_overflow=8,
        )
        try:
            with (
                _connection_errors_as_lost(),
                _refusals_named(),
                _missing_grants_named(),
                engine.begin() as connection,
            ):
                row = connection.execute(text("SELECT * FROM erpgo_sign_in()")).one_or_none()
        except _WrongPassword:
            engine.dispose()
            raise self._failed(username) from None
        except BaseException:
            engine.dispose()
            raise
        if row is None or row.locked_until is not None or not row.is_active:
            engine.dispose()
            if row is not None and not row.is_active:
                raise AuthenticationError("This account is disabled; ask an administrator.")
            if row is None:
                raise ConfigurationError(
                    f"The login role {login_role} belongs to no account of this database: "
                    "ask the administrator to run `erpgo-desktop setup-roles`."
                )
            raise locked_error(row.locked_until)
        try:
            with _missing_grants_named(), make_session_factory(engine)() as session:
                user = session.get(User, row.user_id)
                assert user is not None
                return SignedIn(current_user(session, user), engine)
        except BaseException:
            engine.dispose()
            raise

    def _failed(self, username: str) -> AuthenticationError:
        with _connection_errors_as_lost(), self._gate() as connection:
            locked_until = connection.execute(
                text("SELECT erpgo_sign_in_failed(:u)"), {"u": username}
            ).scalar()
            connection.commit()
        if locked_until is not None:
            return locked_error(locked_until)
        return AuthenticationError("Wrong username or password.")

    def check_password(self, username: str, password: str) -> bool:
        """Whether `password` opens `username`'s login role (nothing is counted)."""
        with self._gate() as connection:
            login_role = connection.execute(
                text("SELECT erpgo_login_role(:u)"), {"u": username}
            ).scalar_one()
        engine = make_engine(
            self._server_url.set(username=login_role, password=password), poolclass=NullPool
        )
        try:
            with _refusals_named():
                engine.connect().close()
        except _WrongPassword:
            return False
        finally:
            engine.dispose()
        return True

    def change_password(self, username: str, old_password: str, new_password: str) -> None:
        """A person's own new password, set from a session opened with the old one."""
        new_password = validation.check_password(new_password, "new_password")
        signed_in = self.sign_in(username, old_password)
        try:
            with signed_in.engine.begin() as connection:
                login_role = connection.execute(text("SELECT session_user")).scalar_one()
                connection.execute(
                    text("SELECT erpgo_change_own_password(:v)"),
                    {"v": scram_verifier(connection, login_role, new_password)},
                )
        finally:
            signed_in.engine.dispose()

    @contextmanager
    def _gate(self) -> Iterator[Connection]:
        """A connection as the sign-in role, for the questions asked before signing in."""
        engine = make_engine(
            self._server_url.set(username=SIGNIN_ROLE, password=SIGNIN_PASSWORD),
            poolclass=NullPool,
        )
        try:
            try:
                with _refusals_named():
                    connection = engine.connect()
            except DBAPIError as exc:
                if "permission denied for database" not in str(exc.orig):
                    raise
                raise ConfigurationError(NOT_SET_UP) from exc
            except (_WrongPassword, AuthenticationError) as exc:
                raise ConfigurationError(NOT_SET_UP) from exc
            with connection:
                try:
                    yield connection
                except DBAPIError as exc:
                    if isinstance(exc.orig, pg_errors.UndefinedFunction | pg_errors.UndefinedTable):
                        raise ConfigurationError(NOT_SET_UP) from exc
                    _raise_if_grants_missing(exc)
                    raise
        finally:
            engine.dispose()

    def create_first_admin(
        self, *, username: str, email: str, password: str, first_name: str, last_name: str = ""
    ) -> CurrentUser:
        """The first account of a new database; refused once any account exists."""
        new = validate_new_user(NewUser(username, email, password, "admin", first_name, last_name))
        with _connection_errors_as_lost(), self._gate() as connection:
            login_role = connection.execute(
                text("SELECT erpgo_login_role(:u)"), {"u": new.username}
            ).scalar_one()
            try:
                connection.execute(
                    text("SELECT erpgo_create_first_admin(:u, :e, :f, :l, :v)"),
                    {
                        "u": new.username,
                        "e": new.email,
                        "f": new.first_name,
                        "l": new.last_name,
                        "v": scram_verifier(connection, login_role, new.password),
                    },
                )
                connection.commit()
            except IntegrityError as exc:
                raise ConflictError(
                    "An administrator account exists already; please sign in."
                ) from exc
        return self.login(new.username, new.password)

    def create_user(self, new: NewUser, *, acting: CurrentUser | None) -> CurrentUser:
        """Create an account; `acting` None means the administrator's command line."""
        if acting is not None:
            from erpgo_desktop.services.base import require  # base imports this module

            require(acting, perms.USERS_ADMIN)
        new = validate_new_user(new)
        assigned_by = acting.id if acting else None
        return self._write(
            lambda session: current_user(session, insert_user(session, new, assigned_by))
        )

    def _write(self, work: Callable[[Session], T]) -> T:
        try:
            with self._sessions.begin() as session:
                return work(session)
        except DBAPIError as exc:
            # Another workstation took the name between our check and our insert. (Imported
            # here: the services' base module imports this one for CurrentUser.)
            from erpgo_desktop.services.base import translate

            translated = translate(exc)
            if translated is None:
                raise
            raise translated from exc


def locked_error(locked_until: datetime) -> AuthenticationError:
    until = locked_until.astimezone().strftime("%Y-%m-%d %H:%M")
    return AuthenticationError(
        f"Too many wrong passwords: this account is locked until {until}. "
        "Try again then, or ask an administrator to unlock it."
    )


def validate_new_user(new: NewUser) -> NewUser:
    """`new` as it is stored (blanks around names and the address dropped), or a
    ValidationError naming the field."""
    return NewUser(
        username=validation.check_username(new.username),
        email=validation.check_email(new.email),
        password=validation.check_password(new.password),
        role=new.role,
        first_name=validation.check_person_name(new.first_name, "first_name"),
        last_name=validation.check_optional_name(new.last_name, "last_name"),
    )


def insert_user(session: Session, new: NewUser, assigned_by: uuid.UUID | None = None) -> User:
    """Insert a validated account with its role and its login role. A name taken at the
    same moment by another workstation is left to the unique constraints (the caller
    turns them into messages)."""
    role = session.scalar(select(Role).where(Role.name == new.role))
    if role is None or not role.is_active:
        names = ", ".join(
            session.scalars(
                select(Role.name).where(Role.is_active.is_(True)).order_by(Role.name)
            ).all()
        )
        raise NotFoundError(f"There is no role {new.role!r}; roles: {names}.", field="role")
    for column, value, label in (
        (User.username, new.username, "username"),
        (User.email, new.email, "email"),
    ):
        # Case-insensitive: "Boss" beside "boss" would only confuse.
        if session.scalar(select(User.id).where(func.lower(column) == value.lower())):
            raise ConflictError(f"That {label} is already taken.", field=label)
    connection = session.connection()
    login_role = session.scalar(text("SELECT erpgo_login_role(:u)"), {"u": new.username})
    assert login_role is not None
    user_id = session.scalar(
        text("SELECT erpgo_admin_create_user(:u, :e, :f, :l, :roles, :v, :by)"),
        {
            "u": new.username,
            "e": new.email,
            "f": new.first_name,
            "l": new.last_name,
            "roles": [role.id],
            "v": scram_verifier(connection, login_role, new.password),
            "by": assigned_by,
        },
    )
    user = session.get(User, user_id)
    assert user is not None
    return user


def current_user(session: Session, user: User) -> CurrentUser:
    rows = session.execute(
        select(Role.name, Role.permissions)
        .join(UserRole, UserRole.role_id == Role.id)
        .where(UserRole.user_id == user.id, Role.is_active.is_(True))
        .order_by(Role.name)
    ).all()
    granted: set[str] = set()
    for _, role_permissions in rows:
        if isinstance(role_permissions, list):
            granted |= perms.granted(role_permissions)
    return CurrentUser(
        id=user.id,
        username=user.username,
        full_name=f"{user.first_name} {user.last_name}".strip(),
        roles=tuple(name for name, _ in rows),
        permissions=frozenset(granted),
    )


def _raise_if_grants_missing(exc: DBAPIError) -> None:
    """A sign-in the database's grants refuse: the roles were never set up for this
    schema (a restored or copied database, a migration without `setup-roles`)."""
    if isinstance(exc.orig, pg_errors.InsufficientPrivilege):
        detail = getattr(getattr(exc.orig, "diag", None), "message_primary", None)
        log.warning("a sign-in was refused a right: %s", exc.orig)
        raise ConfigurationError(
            GRANTS_MISSING.format(detail=detail or "permission denied")
        ) from exc


@contextmanager
def _missing_grants_named() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        _raise_if_grants_missing(exc)
        raise


class _WrongPassword(Exception):
    """The server refused a password (or a role name: it does not say which)."""


@contextmanager
def _refusals_named() -> Iterator[None]:
    # Imported here: services.base imports this module for CurrentUser.
    from erpgo_desktop.services.base import account_disabled

    try:
        yield
    except DBAPIError as exc:
        message = str(exc.orig)
        if _WRONG_PASSWORD in message or _NO_SUCH_ROLE.search(message):
            raise _WrongPassword() from exc
        if account_disabled(exc) is not None:
            # A plain AuthenticationError, not AccountDisabledError: nobody was signed out,
            # a sign-in was refused.
            raise AuthenticationError("This account is disabled; ask an administrator.") from exc
        raise


@contextmanager
def _connection_errors_as_lost() -> Iterator[None]:
    """Sign-in happens before any other service is used: a server that is down must be
    named as such there too, not reported as an unexpected error."""
    # Imported here: services.base imports this module for CurrentUser.
    from erpgo_desktop.services.base import is_connection_lost

    try:
        yield
    except DBAPIError as exc:
        if is_connection_lost(exc):
            raise ConnectionLostError() from exc
        raise
