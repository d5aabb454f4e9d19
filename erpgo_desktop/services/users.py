"""User and role administration (all of it needs `users.admin`), and changing one's own
password (which needs only the old one).

Accounts and roles are never deleted: they are deactivated, since orders, stock
movements and role grants refer to them. At least one active account always keeps the
right to administer users: a change that would leave none is refused, and such changes
queue up behind one lock so two administrators cannot each demote the other at once.

The users and roles tables carry no version column; an edit passes the row it was
loaded from (`expected`), and the edit is refused as a conflict when the values it
would overwrite have changed since.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, func, or_, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, sessionmaker

from erpgo_desktop.db.models import Role, User, UserRole
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain import validation
from erpgo_desktop.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from erpgo_desktop.services.auth import (
    AuthService,
    CurrentUser,
    NewUser,
    insert_user,
    validate_new_user,
)
from erpgo_desktop.services.base import Service, require
from erpgo_desktop.services.security import scram_verifier

# Changes that could leave nobody able to administer users take this lock first.
_ADMINISTRATORS_LOCK = 0x45525048
MAX_DESCRIPTION_LENGTH = 1_000


@dataclass(frozen=True)
class UserRow:
    id: uuid.UUID
    username: str
    email: str
    first_name: str
    last_name: str
    phone: str | None
    #: Names of the roles assigned, including deactivated ones (which grant nothing).
    roles: tuple[str, ...]
    is_active: bool
    #: Set while the account is locked after wrong passwords; None otherwise.
    locked_until: datetime | None
    failed_login_count: int
    last_login_at: datetime | None
    created_at: datetime | None

    @property
    def locked(self) -> bool:
        return self.locked_until is not None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class UserProfile:
    """What an administrator edits about an account besides roles and password."""

    email: str
    first_name: str
    last_name: str = ""
    phone: str | None = None


@dataclass(frozen=True)
class RoleRow:
    id: uuid.UUID
    name: str
    description: str
    permissions: tuple[str, ...]
    is_active: bool
    #: Active accounts holding the role.
    user_count: int


class UserAdminService(Service):
    def __init__(self, session_factory: sessionmaker[Session], auth: AuthService) -> None:
        super().__init__(session_factory)
        # Checking passwords the way signing in does.
        self._auth = auth

    # Accounts

    def list_users(self, acting: CurrentUser) -> list[UserRow]:
        """Every account, active or not, by username."""
        require(acting, perms.USERS_ADMIN)
        return self._read(lambda session: _user_rows(session, None))

    def get_user(self, acting: CurrentUser, user_id: uuid.UUID) -> UserRow:
        require(acting, perms.USERS_ADMIN)
        return self._read(lambda session: _user_row(session, user_id))

    def create_user(self, acting: CurrentUser, new: NewUser) -> UserRow:
        require(acting, perms.USERS_ADMIN)
        new = validate_new_user(new)

        def work(session: Session) -> UserRow:
            user = insert_user(session, new, acting.id)
            return _user_row(session, user.id)

        return self._write(work)

    def update_profile(
        self, acting: CurrentUser, user_id: uuid.UUID, profile: UserProfile, *, expected: UserRow
    ) -> UserRow:
        require(acting, perms.USERS_ADMIN)
        profile = UserProfile(
            email=validation.check_email(profile.email),
            first_name=validation.check_person_name(profile.first_name, "first_name"),
            last_name=validation.check_optional_name(profile.last_name, "last_name"),
            phone=validation.check_phone(profile.phone),
        )

        def work(session: Session) -> UserRow:
            user = _lock_user(session, user_id)
            _check_unchanged(session, user, expected, ("email", "first_name", "last_name", "phone"))
            taken = session.scalar(
                select(User.id).where(
                    func.lower(User.email) == profile.email.lower(), User.id != user_id
                )
            )
            if taken is not None:
                raise ConflictError("That email is already taken.", field="email")
            session.execute(
                text("SELECT erpgo_admin_update_profile(:id, :email, :first, :last, :phone)"),
                {
                    "id": user_id,
                    "email": profile.email,
                    "first": profile.first_name,
                    "last": profile.last_name,
                    "phone": profile.phone,
                },
            )
            session.expire_all()
            return _user_row(session, user_id)

        return self._write(work)

    def set_roles(
        self,
        acting: CurrentUser,
        user_id: uuid.UUID,
        roles: Iterable[str],
        *,
        expected: UserRow,
    ) -> UserRow:
        """Give the account exactly these roles (by name)."""
        require(acting, perms.USERS_ADMIN)
        wanted = {roles} if isinstance(roles, str) else set(roles)

        def work(session: Session) -> UserRow:
            _lock_administrators(session)
            user = _lock_user(session, user_id)
            _check_unchanged(session, user, expected, ("roles",))
            by_name = {r.name: r for r in session.scalars(select(Role))}
            unknown = sorted(wanted - by_name.keys())
            if unknown:
                active = ", ".join(sorted(n for n, r in by_name.items() if r.is_active))
                raise NotFoundError(
                    f"There is no role {', '.join(map(repr, unknown))}; roles: {active}.",
                    field="roles",
                )
            held = set(_role_names(session, [user_id]).get(user_id, ()))
            inactive = sorted(n for n in wanted - held if not by_name[n].is_active)
            if inactive:
                raise ValidationError(
                    f"The role {', '.join(map(repr, inactive))} is deactivated; "
                    "reactivate it first.",
                    field="roles",
                )
            session.execute(
                text("SELECT erpgo_admin_set_roles(:id, :roles, :by)"),
                {"id": user_id, "roles": [by_name[n].id for n in sorted(wanted)], "by": acting.id},
            )
            session.expire_all()
            _check_an_administrator_remains(
                session, f"{user.username} is the last active administrator", field="roles"
            )
            return _user_row(session, user_id)

        return self._write(work)

    def deactivate_user(self, acting: CurrentUser, user_id: uuid.UUID) -> UserRow:
        """The account can no longer sign in, and its open sessions end at once; everything
        it did stays."""
        require(acting, perms.USERS_ADMIN)
        if user_id == acting.id:
            raise ValidationError("You cannot deactivate your own account.")

        def work(session: Session) -> UserRow:
            _lock_administrators(session)
            user = _lock_user(session, user_id)
            _set_active(session, user_id, False)
            _check_an_administrator_remains(
                session, f"{user.username} is the last active administrator"
            )
            return _user_row(session, user_id)

        row = self._write(work)
        # The login role may log in until that commit, but its sessions were ended before
        # it: one that connected in between (a pool reconnects by itself) is ended now.
        self._write(lambda session: _set_active(session, user_id, False))
        return row

    def reactivate_user(self, acting: CurrentUser, user_id: uuid.UUID) -> UserRow:
        require(acting, perms.USERS_ADMIN)

        def work(session: Session) -> UserRow:
            _lock_user(session, user_id)
            _set_active(session, user_id, True)
            return _user_row(session, user_id)

        return self._write(work)

    def unlock_user(self, acting: CurrentUser, user_id: uuid.UUID) -> UserRow:
        """End a lock after wrong passwords now, and start the count again."""
        require(acting, perms.USERS_ADMIN)

        def work(session: Session) -> UserRow:
            _lock_user(session, user_id)
            session.execute(text("SELECT erpgo_admin_unlock(:id)"), {"id": user_id})
            session.expire_all()
            return _user_row(session, user_id)

        return self._write(work)

    def reset_password(self, acting: CurrentUser, user_id: uuid.UUID, new_password: str) -> UserRow:
        """Set a new password for someone who forgot theirs; this unlocks the account too."""
        require(acting, perms.USERS_ADMIN)
        validation.check_password(new_password, "new_password")

        def work(session: Session) -> UserRow:
            user = _lock_user(session, user_id)
            login_role = session.scalar(text("SELECT erpgo_login_role(:u)"), {"u": user.username})
            assert login_role is not None
            verifier = scram_verifier(session.connection(), login_role, new_password)
            session.execute(
                text("SELECT erpgo_admin_set_password(:id, :v)"), {"id": user_id, "v": verifier}
            )
            session.expire_all()
            return _user_row(session, user_id)

        return self._write(work)

    def change_own_password(
        self, acting: CurrentUser, old_password: str, new_password: str
    ) -> None:
        """Any signed-in user may change their own password, knowing the current one."""
        validation.check_password(new_password, "new_password")
        if new_password == old_password:
            raise ValidationError(
                "The new password must differ from the current one.", field="new_password"
            )
        if not self._auth.check_password(acting.username, old_password):
            raise ValidationError("The current password is wrong.", field="old_password")
        try:
            self._auth.change_password(acting.username, old_password, new_password)
        except AuthenticationError as exc:
            raise ConflictError(
                "Your password was changed meanwhile (by an administrator?); "
                "sign in again with the new one."
            ) from exc

    # Roles

    def list_roles(self, acting: CurrentUser) -> list[RoleRow]:
        """Every role, active or not, by name."""
        require(acting, perms.USERS_ADMIN)
        return self._read(lambda session: _role_rows(session, None))

    def create_role(
        self,
        acting: CurrentUser,
        name: str,
        description: str,
        permissions: Iterable[str],
    ) -> RoleRow:
        require(acting, perms.USERS_ADMIN)
        name = validation.check_role_name(name)
        description = validation.check_text(description, "description", MAX_DESCRIPTION_LENGTH)
        granted = validation.check_permissions(permissions)

        def work(session: Session) -> RoleRow:
            if session.scalar(select(Role.id).where(func.lower(Role.name) == name.lower())):
                raise ConflictError("A role with this name exists already.", field="name")
            role_id = _save_role(session, None, name, description, list(granted), True)
            return _role_row(session, role_id)

        return self._write(work)

    def update_role(
        self,
        acting: CurrentUser,
        role_id: uuid.UUID,
        *,
        description: str,
        permissions: Iterable[str],
        expected: RoleRow,
    ) -> RoleRow:
        """Change what a role grants (and its description); not the admin role's."""
        require(acting, perms.USERS_ADMIN)
        description = validation.check_text(description, "description", MAX_DESCRIPTION_LENGTH)
        granted = validation.check_permissions(permissions)

        def work(session: Session) -> RoleRow:
            _lock_administrators(session)
            role = _lock_role(session, role_id)
            if role.name == "admin":
                raise ValidationError(
                    "The admin role always grants everything; it cannot be changed.",
                    field="permissions",
                )
            current = _role_row(session, role_id)
            changed = [
                f
                for f in ("description", "permissions")
                if getattr(current, f) != getattr(expected, f)
            ]
            if changed:
                raise ConflictError(
                    f"Someone else changed the {' and '.join(changed)} of the role {role.name} "
                    "since you opened it; the current values are shown.",
                    current=current,
                )
            _save_role(session, role_id, None, description, list(granted), role.is_active)
            _check_an_administrator_remains(
                session,
                f"the role {role.name} is what the last administrators hold",
                field="permissions",
            )
            return _role_row(session, role_id)

        return self._write(work)

    def deactivate_role(self, acting: CurrentUser, role_id: uuid.UUID) -> RoleRow:
        """The role stays assigned but grants nothing until reactivated."""
        require(acting, perms.USERS_ADMIN)

        def work(session: Session) -> RoleRow:
            _lock_administrators(session)
            role = _lock_role(session, role_id)
            if role.name == "admin":
                raise ValidationError("The admin role cannot be deactivated.")
            _save_role(session, role_id, None, role.description, role.permissions, False)
            _check_an_administrator_remains(
                session, f"the role {role.name} is what the last administrators hold"
            )
            return _role_row(session, role_id)

        return self._write(work)

    def reactivate_role(self, acting: CurrentUser, role_id: uuid.UUID) -> RoleRow:
        require(acting, perms.USERS_ADMIN)

        def work(session: Session) -> RoleRow:
            role = _lock_role(session, role_id)
            _save_role(session, role_id, None, role.description, role.permissions, True)
            return _role_row(session, role_id)

        return self._write(work)


def _lock_user(session: Session, user_id: uuid.UUID) -> User:
    # Through the database's function: people may read accounts, not lock them for a change.
    session.execute(text("SELECT erpgo_lock_user(:id)"), {"id": user_id})
    user = session.scalar(
        select(User).where(User.id == user_id).execution_options(populate_existing=True)
    )
    if user is None:
        raise NotFoundError("This account does not exist (any more).")
    return user


def _lock_role(session: Session, role_id: uuid.UUID) -> Role:
    session.execute(text("SELECT erpgo_lock_role(:id)"), {"id": role_id})
    role = session.scalar(
        select(Role).where(Role.id == role_id).execution_options(populate_existing=True)
    )
    if role is None:
        raise NotFoundError("This role does not exist (any more).")
    return role


def _set_active(session: Session, user_id: uuid.UUID, active: bool) -> None:
    """Deactivating also ends the person's open sessions (the database's function)."""
    session.execute(
        text("SELECT erpgo_admin_set_active(:id, :active)"), {"id": user_id, "active": active}
    )
    session.expire_all()


def _save_role(
    session: Session,
    role_id: uuid.UUID | None,
    name: str | None,
    description: str | None,
    permissions: object,
    active: bool | None,
) -> uuid.UUID:
    """Write a role through the database's function, which keeps its group role's
    memberships in step with its permissions."""
    saved = session.scalar(
        text(
            "SELECT erpgo_admin_save_role(:id, :name, :description, :permissions, :active)"
        ).bindparams(bindparam("permissions", type_=JSONB)),
        {
            "id": role_id,
            "name": name,
            "description": description,
            "permissions": permissions if isinstance(permissions, list) else [],
            "active": active is not False,
        },
    )
    assert isinstance(saved, uuid.UUID)
    session.expire_all()
    return saved


def _lock_administrators(session: Session) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADMINISTRATORS_LOCK})


def _check_an_administrator_remains(
    session: Session, reason: str, field: str | None = None
) -> None:
    """Refuse (rolling back) a change after which no active account may administer users."""
    grants_admin = or_(
        Role.permissions.contains([perms.ALL]), Role.permissions.contains([perms.USERS_ADMIN])
    )
    remaining = session.scalar(
        select(func.count(func.distinct(User.id)))
        .join(UserRole, UserRole.user_id == User.id)
        .join(Role, Role.id == UserRole.role_id)
        .where(User.is_active.is_(True), Role.is_active.is_(True), grants_admin)
    )
    if not remaining:
        raise ValidationError(
            f"Refused: {reason}. At least one active account must keep the right to "
            "administer users.",
            field=field,
        )


def _check_unchanged(
    session: Session, user: User, expected: UserRow, fields: Sequence[str]
) -> None:
    current = _user_row(session, user.id)
    changed = [f for f in fields if getattr(current, f) != getattr(expected, f)]
    if changed:
        raise ConflictError(
            f"Someone else changed the {' and '.join(changed)} of {user.username} since you "
            "opened the account; the current values are shown.",
            current=current,
        )


def _role_names(
    session: Session, user_ids: Sequence[uuid.UUID] | None
) -> dict[uuid.UUID, tuple[str, ...]]:
    query = select(UserRole.user_id, Role.name).join(Role, Role.id == UserRole.role_id)
    if user_ids is not None:
        query = query.where(UserRole.user_id.in_(user_ids))
    names: dict[uuid.UUID, list[str]] = {}
    for user_id, name in session.execute(query.order_by(Role.name)):
        names.setdefault(user_id, []).append(name)
    return {user_id: tuple(n) for user_id, n in names.items()}


def _user_rows(session: Session, where: ColumnElement[bool] | None) -> list[UserRow]:
    locked_until = func.nullif(
        func.greatest(User.locked_until, func.now()), func.now()
    )  # None once the lock has passed
    query = select(User, locked_until).order_by(User.username)
    if where is not None:
        query = query.where(where)
    users = session.execute(query).all()
    roles = _role_names(session, [u.id for u, _ in users] if where is not None else None)
    return [
        UserRow(
            id=user.id,
            username=user.username,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            phone=user.phone,
            roles=roles.get(user.id, ()),
            is_active=bool(user.is_active),
            locked_until=until,
            failed_login_count=user.failed_login_count,
            last_login_at=user.last_login_at,
            created_at=user.created_at,
        )
        for user, until in users
    ]


def _user_row(session: Session, user_id: uuid.UUID) -> UserRow:
    rows = _user_rows(session, User.id == user_id)
    if not rows:
        raise NotFoundError("This account does not exist (any more).")
    return rows[0]


def _role_rows(session: Session, where: ColumnElement[bool] | None) -> list[RoleRow]:
    holders = (
        select(func.count(UserRole.id))
        .join(User, User.id == UserRole.user_id)
        .where(UserRole.role_id == Role.id, User.is_active.is_(True))
        .scalar_subquery()
    )
    query = select(Role, holders).order_by(Role.name)
    if where is not None:
        query = query.where(where)
    return [
        RoleRow(
            id=role.id,
            name=role.name,
            description=role.description or "",
            permissions=_permissions(role.permissions),
            is_active=bool(role.is_active),
            user_count=count,
        )
        for role, count in session.execute(query)
    ]


def _role_row(session: Session, role_id: uuid.UUID) -> RoleRow:
    rows = _role_rows(session, Role.id == role_id)
    if not rows:
        raise NotFoundError("This role does not exist (any more).")
    return rows[0]


def _permissions(stored: object) -> tuple[str, ...]:
    """A role's permissions as stored (a JSON list; anything else grants nothing)."""
    return tuple(p for p in stored if isinstance(p, str)) if isinstance(stored, list) else ()
