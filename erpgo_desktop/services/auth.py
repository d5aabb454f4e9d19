"""Signing in and user accounts.

Passwords are kept only as argon2id hashes (business-rules.md allows bcrypt or argon2id);
hashing is deliberately slow, so callers run these methods off the GUI thread.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from erpgo_desktop.db.models import Role, User, UserRole
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain import validation
from erpgo_desktop.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)

# Two workstations setting up the same empty database must not both create "the first" admin.
_FIRST_ADMIN_LOCK = 0x45525047  # "ERPG"


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
        self, session_factory: sessionmaker[Session], hasher: PasswordHasher | None = None
    ) -> None:
        self._sessions = session_factory
        self._hasher = hasher or PasswordHasher()
        # Unknown usernames are checked against this too, so a wrong username takes as long
        # as a wrong password and does not reveal which accounts exist.
        self._decoy_hash = self._hasher.hash(uuid.uuid4().hex)

    def has_any_user(self) -> bool:
        with self._sessions() as session:
            return session.scalar(select(func.count()).select_from(User)) != 0

    def login(self, username: str, password: str) -> CurrentUser:
        refused = AuthenticationError("Wrong username or password.")
        with self._sessions.begin() as session:
            user = session.scalar(select(User).where(User.username == username.strip()))
            if user is None:
                self._verify(self._decoy_hash, password)
                raise refused
            if not self._verify(user.password_hash, password):
                raise refused
            if not user.is_active:
                raise AuthenticationError("This account is disabled; ask an administrator.")
            if self._hasher.check_needs_rehash(user.password_hash):
                user.password_hash = self._hasher.hash(password)
            user.last_login_at = datetime.now(UTC)
            return _current_user(session, user)

    def create_first_admin(
        self, *, username: str, email: str, password: str, first_name: str, last_name: str = ""
    ) -> CurrentUser:
        """The first account of a new database; refused once any account exists."""
        new = NewUser(username, email, password, "admin", first_name, last_name)
        self._validate(new)
        with self._sessions.begin() as session:
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FIRST_ADMIN_LOCK})
            if session.scalar(select(func.count()).select_from(User)):
                raise ConflictError("An administrator account exists already; please sign in.")
            return self._insert(session, new)

    def create_user(self, new: NewUser, *, acting: CurrentUser | None) -> CurrentUser:
        """Create an account; `acting` None means the administrator's command line."""
        if acting is not None and not acting.can(perms.USERS_ADMIN):
            raise PermissionDeniedError("Only an administrator may create accounts.")
        self._validate(new)
        with self._sessions.begin() as session:
            return self._insert(session, new, assigned_by=acting.id if acting else None)

    def _validate(self, new: NewUser) -> None:
        validation.check_username(new.username)
        validation.check_email(new.email)
        validation.check_password(new.password)
        validation.check_person_name(new.first_name, "first_name")
        if len(new.last_name) > 100:
            raise ValidationError("A last name has at most 100 characters.", field="last_name")

    def _insert(
        self, session: Session, new: NewUser, assigned_by: uuid.UUID | None = None
    ) -> CurrentUser:
        role = session.scalar(select(Role).where(Role.name == new.role))
        if role is None or not role.is_active:
            names = ", ".join(
                session.scalars(select(Role.name).where(Role.is_active.is_(True))).all()
            )
            raise NotFoundError(f"There is no role {new.role!r}; roles: {names}.", field="role")
        for column, value, label in (
            (User.username, new.username, "username"),
            (User.email, new.email.strip(), "email"),
        ):
            if session.scalar(select(User.id).where(column == value)) is not None:
                raise ConflictError(f"That {label} is already taken.", field=label)
        user = User(
            username=new.username,
            email=new.email.strip(),
            password_hash=self._hasher.hash(new.password),
            first_name=new.first_name.strip(),
            last_name=new.last_name.strip(),
            is_active=True,
        )
        session.add(user)
        try:
            session.flush()
        except IntegrityError as exc:
            # Another workstation took the name between our check and our insert.
            raise ConflictError("That username or email was just taken; choose another.") from exc
        session.add(UserRole(user_id=user.id, role_id=role.id, assigned_by=assigned_by))
        session.flush()
        return _current_user(session, user)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def _current_user(session: Session, user: User) -> CurrentUser:
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
