"""Accounts and signing in, against a real database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.db.models import Role
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from erpgo_desktop.services.auth import AuthService, NewUser


@pytest.fixture
def auth(engine: Engine) -> AuthService:
    return AuthService(make_session_factory(engine))


def make_admin(auth: AuthService) -> None:
    auth.create_first_admin(
        username="boss", email="boss@example.com", password="correct horse", first_name="Ada"
    )


def test_migration_seeds_the_default_roles(engine: Engine) -> None:
    with make_session_factory(engine)() as session:
        roles = {r.name: r.permissions for r in session.scalars(select(Role))}
    assert {name: tuple(p) for name, p in roles.items()} == perms.DEFAULT_ROLES


def test_first_admin_then_login(auth: AuthService) -> None:
    assert not auth.has_any_user()
    make_admin(auth)
    assert auth.has_any_user()
    user = auth.login("boss", "correct horse")
    assert user.roles == ("admin",)
    assert user.can(perms.USERS_ADMIN) and user.can(perms.ORDERS_APPROVE)


def test_the_password_is_the_login_roles_kept_as_a_scram_verifier(
    auth: AuthService, engine: Engine
) -> None:
    make_admin(auth)
    with engine.connect() as connection:
        stored, login_role = connection.execute(
            text("SELECT password_hash, login_role FROM users")
        ).one()
        verifier = connection.execute(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": login_role}
        ).scalar_one()
    assert "correct horse" not in stored and not stored.startswith("$argon2")
    assert verifier.startswith("SCRAM-SHA-256$") and "correct horse" not in verifier


def test_login_records_the_time(auth: AuthService, engine: Engine) -> None:
    make_admin(auth)
    auth.login("boss", "correct horse")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT last_login_at FROM users")).scalar_one()


@pytest.mark.parametrize(("username", "password"), [("boss", "wrong one"), ("nobody", "x")])
def test_wrong_credentials_are_refused_alike(
    auth: AuthService, username: str, password: str
) -> None:
    make_admin(auth)
    with pytest.raises(AuthenticationError, match="Wrong username or password"):
        auth.login(username, password)


def test_a_disabled_account_cannot_log_in(auth: AuthService, engine: Engine) -> None:
    make_admin(auth)
    with engine.begin() as connection:
        connection.execute(text("UPDATE users SET is_active = false"))
    with pytest.raises(AuthenticationError, match="disabled"):
        auth.login("boss", "correct horse")


def test_only_one_first_admin(auth: AuthService) -> None:
    make_admin(auth)
    with pytest.raises(ConflictError):
        auth.create_first_admin(
            username="second", email="s@example.com", password="password1", first_name="S"
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "ab"}, "username"),
        ({"username": "has space"}, "username"),
        ({"email": "not-an-address"}, "email"),
        ({"password": "short"}, "password"),
        ({"first_name": "  "}, "first_name"),
    ],
)
def test_bad_input_names_the_field(auth: AuthService, change: dict[str, str], field: str) -> None:
    values = {
        "username": "clerk",
        "email": "clerk@example.com",
        "password": "long enough",
        "first_name": "Cleo",
    } | change
    with pytest.raises(ValidationError) as caught:
        auth.create_first_admin(**values)
    assert caught.value.field == field
    assert not auth.has_any_user()


def test_create_user_checks_role_uniqueness_and_permission(auth: AuthService) -> None:
    make_admin(auth)
    admin = auth.login("boss", "correct horse")
    clerk = auth.create_user(
        NewUser("clerk", "clerk@example.com", "long enough", "warehouse_clerk", "Cleo"),
        acting=admin,
    )
    assert clerk.can(perms.INVENTORY_TRANSFER) and not clerk.can(perms.ORDERS_CONFIRM)
    with pytest.raises(ConflictError) as taken:
        auth.create_user(
            NewUser("clerk", "other@example.com", "long enough", "sales", "C"), acting=admin
        )
    assert taken.value.field == "username"
    with pytest.raises(NotFoundError, match="roles: admin"):
        auth.create_user(
            NewUser("x-user", "x@example.com", "long enough", "janitor", "X"), acting=admin
        )
    with pytest.raises(PermissionDeniedError):
        auth.create_user(
            NewUser("y-user", "y@example.com", "long enough", "sales", "Y"), acting=clerk
        )


def test_manager_can_do_all_but_administer_users(auth: AuthService) -> None:
    make_admin(auth)
    manager = auth.create_user(
        NewUser("mgr", "mgr@example.com", "long enough", "manager", "Max"), acting=None
    )
    assert manager.can(perms.ORDERS_APPROVE) and manager.can(perms.CUSTOMERS_CREDIT_OVERRIDE)
    assert not manager.can(perms.USERS_ADMIN)


def failed_logins(engine: Engine) -> tuple[int, datetime | None]:
    with engine.connect() as connection:
        count, until = connection.execute(
            text("SELECT failed_login_count, locked_until FROM users WHERE username = 'boss'")
        ).one()
    return count, until


def refuse(auth: AuthService, password: str, match: str) -> AuthenticationError:
    with pytest.raises(AuthenticationError, match=match) as caught:
        auth.login("boss", password)
    return caught.value


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(
    auth: AuthService, engine: Engine
) -> None:
    make_admin(auth)
    for attempt in range(1, 5):
        refuse(auth, "wrong one", "Wrong username or password")
        # Counted although login raised.
        assert failed_logins(engine) == (attempt, None)
    refused = refuse(auth, "wrong one", "locked until")
    _, locked_until = failed_logins(engine)
    assert locked_until is not None
    with engine.connect() as connection:
        left = connection.execute(text("SELECT :t - now()"), {"t": locked_until}).scalar_one()
    assert timedelta(minutes=14) < left <= timedelta(minutes=15)
    assert locked_until.astimezone().strftime("%Y-%m-%d %H:%M") in refused.message
    # The right password does not open a locked account either, and says until when.
    assert refuse(auth, "correct horse", "locked until").message == refused.message
    assert failed_logins(engine) == (0, locked_until)


def test_the_lock_ends_and_a_success_clears_it(auth: AuthService, engine: Engine) -> None:
    make_admin(auth)
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            auth.login("boss", "wrong one")
    with engine.begin() as connection:
        connection.execute(text("UPDATE users SET locked_until = now() - interval '1 second'"))
    assert auth.login("boss", "correct horse").username == "boss"
    assert failed_logins(engine) == (0, None)


def test_a_success_starts_the_count_again(auth: AuthService, engine: Engine) -> None:
    make_admin(auth)
    for _ in range(4):
        refuse(auth, "wrong one", "Wrong username or password")
    auth.login("boss", "correct horse")
    assert failed_logins(engine) == (0, None)
    for _ in range(4):
        refuse(auth, "wrong one", "Wrong username or password")
    assert failed_logins(engine) == (4, None)


def test_the_lock_lasts_fifteen_minutes(auth: AuthService, engine: Engine) -> None:
    make_admin(auth)
    for _ in range(4):
        refuse(auth, "wrong one", "Wrong username or password")
    refuse(auth, "wrong one", "locked until")
    _, locked_until = failed_logins(engine)
    with engine.connect() as connection:
        left = connection.execute(text("SELECT :t - now()"), {"t": locked_until}).scalar_one()
    assert timedelta(minutes=14) < left <= timedelta(minutes=15)


def test_unknown_usernames_lock_nothing(auth: AuthService, engine: Engine) -> None:
    make_admin(auth)
    for _ in range(6):
        with pytest.raises(AuthenticationError, match="Wrong username or password"):
            auth.login("nobody", "correct horse")
    assert failed_logins(engine) == (0, None)
    assert auth.login("boss", "correct horse").username == "boss"


def test_failures_at_the_same_moment_all_count(auth: AuthService, engine: Engine) -> None:
    make_admin(auth)

    def attempt(_: int) -> str:
        try:
            auth.login("boss", "wrong one")
        except AuthenticationError as exc:
            return exc.message
        return "signed in"

    with ThreadPoolExecutor(max_workers=5) as pool:
        messages = list(pool.map(attempt, range(5)))
    assert sum("locked until" in m for m in messages) == 1
    assert sum("Wrong username or password" in m for m in messages) == 4
    refuse(auth, "correct horse", "locked until")


def test_a_disabled_account_counts_failures_too(auth: AuthService, engine: Engine) -> None:
    make_admin(auth)
    with engine.begin() as connection:
        connection.execute(text("UPDATE users SET is_active = false"))
    refuse(auth, "wrong one", "Wrong username or password")
    assert failed_logins(engine) == (1, None)
    refuse(auth, "correct horse", "disabled")
    assert failed_logins(engine) == (0, None)


def test_a_name_differing_only_in_case_is_taken(auth: AuthService) -> None:
    make_admin(auth)
    for username, email, field in (
        ("BOSS", "other@example.com", "username"),
        ("other", "Boss@Example.com", "email"),
    ):
        with pytest.raises(ConflictError) as taken:
            auth.create_user(NewUser(username, email, "long enough", "sales", "O"), acting=None)
        assert taken.value.field == field
