"""Signing in and user accounts.

Passwords are kept only as argon2id hashes (business-rules.md allows bcrypt or argon2id);
hashing is deliberately slow, so callers run these methods off the GUI thread.

Repeated wrong passwords lock an account for a while: after `max_failed_logins`
consecutive failures it is refused until `locked_until`, even with the right password.
Times come from the database's clock, which every workstation shares.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from erpgo_desktop.db.models import Role, User, UserRole
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain import validation
from erpgo_desktop.errors import (
    AuthenticationError,
    ConflictError,
    ConnectionLostError,
    NotFoundError,
)

T = TypeVar("T")

# Two workstations setting up the same empty database must not both create "the first" admin.
_FIRST_ADMIN_LOCK = 0x45525047  # "ERPG"

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


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


class AuthService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        hasher: PasswordHasher | None = None,
        *,
        max_failed_logins: int = MAX_FAILED_LOGINS,
        lockout: timedelta = LOCKOUT,
    ) -> None:
        self._sessions = session_factory
        self._hasher = hasher or PasswordHasher()
        self._max_failed_logins = max_failed_logins
        self._lockout = lockout
        # Unknown usernames and locked accounts are checked against this too, so that every
        # refusal takes as long as a wrong password and does not reveal which accounts exist.
        self._decoy_hash = self._hasher.hash(uuid.uuid4().hex)

    @property
    def hasher(self) -> PasswordHasher:
        return self._hasher

    def has_any_user(self) -> bool:
        with _connection_errors_as_lost(), self._sessions() as session:
            return session.scalar(select(func.count()).select_from(User)) != 0

    def login(self, username: str, password: str) -> CurrentUser:
        with _connection_errors_as_lost(), self._sessions.begin() as session:
            outcome = self._attempt(session, username.strip(), password)
        # Raised only now, after the commit: a failed attempt must count.
        if isinstance(outcome, AuthenticationError):
            raise outcome
        return outcome

    def _attempt(
        self, session: Session, username: str, password: str
    ) -> CurrentUser | AuthenticationError:
        refused = AuthenticationError("Wrong username or password.")
        # FOR UPDATE: two workstations failing at once must both be counted.
        user = session.scalar(select(User).where(User.username == username).with_for_update())
        if user is None:
            self.verify(self._decoy_hash, password)
            return refused
        now = session.scalar(select(func.now()))
        assert now is not None
        if user.locked_until is not None and user.locked_until > now:
            self.verify(self._decoy_hash, password)
            return locked_error(user.locked_until)
        if not self.verify(user.password_hash, password):
            user.failed_login_count += 1
            if user.failed_login_count < self._max_failed_logins:
                return refused
            # The count starts again once the lock ends.
            user.failed_login_count = 0
            user.locked_until = now + self._lockout
            return locked_error(user.locked_until)
        user.failed_login_count = 0
        user.locked_until = None
        if not user.is_active:
            return AuthenticationError("This account is disabled; ask an administrator.")
        if self._hasher.check_needs_rehash(user.password_hash):
            user.password_hash = self._hasher.hash(password)
        user.last_login_at = now
        return current_user(session, user)

    def create_first_admin(
        self, *, username: str, email: str, password: str, first_name: str, last_name: str = ""
    ) -> CurrentUser:
        """The first account of a new database; refused once any account exists."""
        new = validate_new_user(NewUser(username, email, password, "admin", first_name, last_name))
        password_hash = self._hasher.hash(new.password)

        def work(session: Session) -> CurrentUser:
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FIRST_ADMIN_LOCK})
            if session.scalar(select(func.count()).select_from(User)):
                raise ConflictError("An administrator account exists already; please sign in.")
            return current_user(session, insert_user(session, new, password_hash))

        return self._write(work)

    def create_user(self, new: NewUser, *, acting: CurrentUser | None) -> CurrentUser:
        """Create an account; `acting` None means the administrator's command line."""
        if acting is not None:
            from erpgo_desktop.services.base import require  # base imports this module

            require(acting, perms.USERS_ADMIN)
        new = validate_new_user(new)
        password_hash = self._hasher.hash(new.password)
        assigned_by = acting.id if acting else None
        return self._write(
            lambda session: current_user(
                session, insert_user(session, new, password_hash, assigned_by)
            )
        )

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _write(self, work: Callable[[Session], T]) -> T:
        try:
            with self._sessions.begin() as session:
                return work(session)
        except IntegrityError as exc:
            # Another workstation took the name between our check and our insert. (Imported
            # here: the services' base module imports this one for CurrentUser.)
            from erpgo_desktop.services.base import translate

            translated = translate(exc)
            if translated is None:  # pragma: no cover - translate answers every IntegrityError
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


def insert_user(
    session: Session, new: NewUser, password_hash: str, assigned_by: uuid.UUID | None = None
) -> User:
    """Insert a validated account with its role. A name taken at the same moment by another
    workstation is left to the unique constraints (the caller turns them into messages)."""
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
    user = User(
        username=new.username,
        email=new.email,
        password_hash=password_hash,
        first_name=new.first_name,
        last_name=new.last_name,
        is_active=True,
    )
    session.add(user)
    session.flush()
    session.add(UserRole(user_id=user.id, role_id=role.id, assigned_by=assigned_by))
    session.flush()
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
