"""User and role administration, against a real database."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain import validation
from erpgo_desktop.errors import (
    AuthenticationError,
    ConflictError,
    ErpError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser
from erpgo_desktop.services.users import RoleRow, UserAdminService, UserProfile, UserRow

PASSWORD = "long enough"


@pytest.fixture
def auth(engine: Engine) -> AuthService:
    return AuthService(make_session_factory(engine))


@pytest.fixture
def users(engine: Engine, auth: AuthService) -> UserAdminService:
    return UserAdminService(make_session_factory(engine), auth)


@pytest.fixture
def admin(auth: AuthService) -> CurrentUser:
    return auth.create_first_admin(
        username="boss", email="boss@example.com", password=PASSWORD, first_name="Ada"
    )


def add_user(auth: AuthService, username: str, role: str) -> CurrentUser:
    return auth.create_user(
        NewUser(username, f"{username}@example.com", PASSWORD, role, username.title()),
        acting=None,
    )


def row(users: UserAdminService, admin: CurrentUser, username: str) -> UserRow:
    (found,) = [u for u in users.list_users(admin) if u.username == username]
    return found


def role_row(users: UserAdminService, admin: CurrentUser, name: str) -> RoleRow:
    (found,) = [r for r in users.list_roles(admin) if r.name == name]
    return found


# Pure rules


@pytest.mark.parametrize(
    ("phone", "stored"),
    [("", None), ("  ", None), (None, None), (" +31 (20) 555-0100 ", "+31 (20) 555-0100")],
)
def test_phone_numbers_allowed(phone: str | None, stored: str | None) -> None:
    assert validation.check_phone(phone) == stored


@pytest.mark.parametrize("phone", ["123456", "+1234567890123456789012", "call 5550100", "555.0100"])
def test_phone_numbers_refused(phone: str) -> None:
    with pytest.raises(ValidationError, match="7 to 20 digits") as caught:
        validation.check_phone(phone)
    assert caught.value.field == "phone"


def test_permissions_are_known_once_each_in_a_fixed_order() -> None:
    given = [perms.USERS_ADMIN, perms.PRODUCTS_READ, perms.USERS_ADMIN]
    assert validation.check_permissions(given) == (perms.PRODUCTS_READ, perms.USERS_ADMIN)
    assert validation.check_permissions(["*"]) == ("*",)
    assert validation.check_permissions("orders.read") == ("orders.read",)
    with pytest.raises(ValidationError, match=r"Unknown permissions: orders\.eat, x") as caught:
        validation.check_permissions(["orders.read", "x", "orders.eat"])
    assert caught.value.field == "permissions"


@pytest.mark.parametrize("name", ["a", "has space", "x" * 51, "émile"])
def test_role_names_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="2 to 50") as caught:
        validation.check_role_name(name)
    assert caught.value.field == "name"


# Accounts


def test_list_users_shows_roles_state_and_lock(
    users: UserAdminService, auth: AuthService, admin: CurrentUser, engine: Engine
) -> None:
    add_user(auth, "sam", "sales")
    add_user(auth, "wes", "warehouse_clerk")
    with engine.begin() as connection:
        connection.execute(text("UPDATE users SET is_active = false WHERE username = 'wes'"))
        connection.execute(
            text("UPDATE users SET locked_until = now() + interval '5 minutes', "
                 "failed_login_count = 0 WHERE username = 'sam'")
        )  # fmt: skip
        connection.execute(
            text("UPDATE users SET locked_until = now() - interval '5 minutes', "
                 "failed_login_count = 2 WHERE username = 'boss'")
        )  # fmt: skip
    listed = users.list_users(admin)
    assert [(u.username, u.roles, u.is_active, u.locked) for u in listed] == [
        ("boss", ("admin",), True, False),
        ("sam", ("sales",), True, True),
        ("wes", ("warehouse_clerk",), False, False),
    ]
    assert listed[0].failed_login_count == 2 and listed[0].locked_until is None
    assert users.get_user(admin, listed[1].id) == listed[1]
    with pytest.raises(NotFoundError, match="does not exist"):
        users.get_user(admin, uuid.uuid4())


def test_create_user(users: UserAdminService, admin: CurrentUser, auth: AuthService) -> None:
    created = users.create_user(
        admin, NewUser("clerk", " clerk@example.com ", PASSWORD, "warehouse_clerk", " Cleo ")
    )
    assert (created.username, created.email, created.first_name, created.roles) == (
        "clerk", "clerk@example.com", "Cleo", ("warehouse_clerk",)
    )  # fmt: skip
    assert auth.login("clerk", PASSWORD).can(perms.INVENTORY_TRANSFER)
    with pytest.raises(ConflictError, match="already taken") as taken:
        users.create_user(admin, NewUser("CLERK", "c2@example.com", PASSWORD, "sales", "C"))
    assert taken.value.field == "username"
    with pytest.raises(ValidationError) as bad:
        users.create_user(admin, NewUser("cee3", "c3@example.com", "short", "sales", "C"))
    assert bad.value.field == "password"
    with pytest.raises(NotFoundError, match="no role 'janitor'") as unknown:
        users.create_user(admin, NewUser("cee4", "c4@example.com", PASSWORD, "janitor", "C"))
    assert unknown.value.field == "role"
    assert [u.username for u in users.list_users(admin)] == ["boss", "clerk"]


def test_update_profile(users: UserAdminService, auth: AuthService, admin: CurrentUser) -> None:
    add_user(auth, "sam", "sales")
    loaded = row(users, admin, "sam")
    updated = users.update_profile(
        admin,
        loaded.id,
        UserProfile(" sam@shop.example ", "Samuel", " Smith ", " +1 555 0100 "),
        expected=loaded,
    )
    assert (updated.email, updated.full_name, updated.phone) == (
        "sam@shop.example", "Samuel Smith", "+1 555 0100"
    )  # fmt: skip
    assert row(users, admin, "sam") == updated


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        (UserProfile("nope", "Sam"), "email"),
        (UserProfile("sam@example.com", " "), "first_name"),
        (UserProfile("sam@example.com", "Sam", "x" * 101), "last_name"),
        (UserProfile("sam@example.com", "Sam", phone="12"), "phone"),
    ],
)
def test_update_profile_names_the_bad_field(
    users: UserAdminService, auth: AuthService, admin: CurrentUser, profile: UserProfile, field: str
) -> None:
    add_user(auth, "sam", "sales")
    loaded = row(users, admin, "sam")
    with pytest.raises(ValidationError) as caught:
        users.update_profile(admin, loaded.id, profile, expected=loaded)
    assert caught.value.field == field
    assert row(users, admin, "sam") == loaded


def test_update_profile_refuses_a_taken_email_and_a_stale_edit(
    users: UserAdminService, auth: AuthService, admin: CurrentUser
) -> None:
    add_user(auth, "sam", "sales")
    loaded = row(users, admin, "sam")
    with pytest.raises(ConflictError, match="already taken") as taken:
        users.update_profile(
            admin, loaded.id, UserProfile("BOSS@example.com", "Sam"), expected=loaded
        )
    assert taken.value.field == "email"
    # Someone else changes the phone; an edit based on the old row is refused.
    newer = users.update_profile(
        admin, loaded.id, UserProfile(loaded.email, "Sam", phone="5550100"), expected=loaded
    )
    with pytest.raises(ConflictError, match="changed the phone of sam") as stale:
        users.update_profile(admin, loaded.id, UserProfile("s@example.com", "Sam"), expected=loaded)
    assert stale.value.current == newer
    assert row(users, admin, "sam") == newer


def test_set_roles(users: UserAdminService, auth: AuthService, admin: CurrentUser) -> None:
    add_user(auth, "sam", "sales")
    loaded = row(users, admin, "sam")
    both = users.set_roles(admin, loaded.id, ["warehouse_clerk", "sales"], expected=loaded)
    assert both.roles == ("sales", "warehouse_clerk")
    signed_in = auth.login("sam", PASSWORD)
    assert signed_in.can(perms.ORDERS_SHIP) and signed_in.can(perms.CUSTOMERS_WRITE)
    only = users.set_roles(admin, loaded.id, ["warehouse_clerk"], expected=both)
    assert only.roles == ("warehouse_clerk",)
    assert not auth.login("sam", PASSWORD).can(perms.CUSTOMERS_WRITE)
    none = users.set_roles(admin, loaded.id, [], expected=only)
    assert none.roles == () and auth.login("sam", PASSWORD).permissions == frozenset()
    with pytest.raises(ConflictError, match="changed the roles of sam") as stale:
        users.set_roles(admin, loaded.id, ["manager"], expected=only)
    assert isinstance(stale.value.current, UserRow) and stale.value.current.roles == ()
    with pytest.raises(NotFoundError, match="no role 'janitor'; roles: admin, manager") as unknown:
        users.set_roles(admin, loaded.id, ["janitor", "sales"], expected=none)
    assert unknown.value.field == "roles"
    assert row(users, admin, "sam").roles == ()


def test_a_deactivated_role_can_be_kept_but_not_given(
    users: UserAdminService, auth: AuthService, admin: CurrentUser
) -> None:
    add_user(auth, "sam", "sales")
    add_user(auth, "sue", "manager")
    users.deactivate_role(admin, role_row(users, admin, "sales").id)
    sam = row(users, admin, "sam")
    assert users.set_roles(admin, sam.id, ["sales", "manager"], expected=sam).roles == (
        "manager", "sales"
    )  # fmt: skip
    sue = row(users, admin, "sue")
    with pytest.raises(ValidationError, match="'sales' is deactivated") as caught:
        users.set_roles(admin, sue.id, ["sales", "manager"], expected=sue)
    assert caught.value.field == "roles"


def test_the_last_administrator_keeps_the_admin_role(
    users: UserAdminService, auth: AuthService, admin: CurrentUser
) -> None:
    boss = row(users, admin, "boss")
    with pytest.raises(ValidationError, match="boss is the last active administrator") as caught:
        users.set_roles(admin, boss.id, ["manager"], expected=boss)
    assert caught.value.field == "roles"
    assert row(users, admin, "boss").roles == ("admin",)
    # With a second administrator it may go.
    add_user(auth, "ann", "admin")
    assert users.set_roles(admin, boss.id, ["manager"], expected=boss).roles == ("manager",)


def test_deactivate_and_reactivate(
    users: UserAdminService, auth: AuthService, admin: CurrentUser
) -> None:
    sam = add_user(auth, "sam", "sales")
    assert not users.deactivate_user(admin, sam.id).is_active
    with pytest.raises(AuthenticationError, match="disabled"):
        auth.login("sam", PASSWORD)
    assert users.reactivate_user(admin, sam.id).is_active
    assert auth.login("sam", PASSWORD).username == "sam"
    with pytest.raises(ValidationError, match="your own account"):
        users.deactivate_user(admin, admin.id)
    with pytest.raises(NotFoundError):
        users.deactivate_user(admin, uuid.uuid4())


def test_the_last_administrator_stays_active(
    users: UserAdminService, auth: AuthService, admin: CurrentUser
) -> None:
    ann = add_user(auth, "ann", "admin")
    users.deactivate_user(admin, ann.id)
    # ann's window still holds her old rights; the database refuses the lock-out anyway.
    with pytest.raises(ValidationError, match="boss is the last active administrator"):
        users.deactivate_user(ann, admin.id)
    assert row(users, admin, "boss").is_active


def test_two_administrators_demoting_each_other_at_once(
    users: UserAdminService, auth: AuthService, admin: CurrentUser
) -> None:
    ann = add_user(auth, "ann", "admin")

    def demote(pair: tuple[CurrentUser, CurrentUser]) -> str:
        acting, target = pair
        try:
            users.deactivate_user(acting, target.id)
        except ErpError as exc:
            return exc.message
        return "done"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(demote, [(admin, ann), (ann, admin)]))
    assert outcomes.count("done") == 1
    assert sum("is the last active administrator" in o for o in outcomes) == 1
    assert sum(u.is_active for u in users.list_users(admin)) == 1


def test_unlock_and_reset_password(
    users: UserAdminService, auth: AuthService, admin: CurrentUser
) -> None:
    sam = add_user(auth, "sam", "sales")
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            auth.login("sam", "wrong one")
    assert row(users, admin, "sam").locked
    unlocked = users.unlock_user(admin, sam.id)
    assert not unlocked.locked and unlocked.failed_login_count == 0
    assert auth.login("sam", PASSWORD).username == "sam"
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            auth.login("sam", "wrong one")
    with pytest.raises(ValidationError) as short:
        users.reset_password(admin, sam.id, "short")
    assert short.value.field == "new_password"
    assert not users.reset_password(admin, sam.id, "brand new pass").locked
    assert auth.login("sam", "brand new pass").username == "sam"
    with pytest.raises(AuthenticationError, match="Wrong"):
        auth.login("sam", PASSWORD)


def test_change_own_password(
    users: UserAdminService, auth: AuthService, admin: CurrentUser
) -> None:
    sam = add_user(auth, "sam", "sales")  # no users.admin needed
    for old, new, field in (
        ("wrong one", "brand new pass", "old_password"),
        (PASSWORD, "short", "new_password"),
        (PASSWORD, PASSWORD, "new_password"),
    ):
        with pytest.raises(ValidationError) as caught:
            users.change_own_password(sam, old, new)
        assert caught.value.field == field
    # A wrong current password is not a failed sign-in.
    assert row(users, admin, "sam").failed_login_count == 0
    users.change_own_password(sam, PASSWORD, "brand new pass")
    assert auth.login("sam", "brand new pass").username == "sam"
    with pytest.raises(AuthenticationError):
        auth.login("sam", PASSWORD)


# Roles


def test_list_roles(users: UserAdminService, auth: AuthService, admin: CurrentUser) -> None:
    add_user(auth, "sam", "sales")
    roles = users.list_roles(admin)
    assert [(r.name, r.permissions, r.is_active, r.user_count) for r in roles] == [
        (name, perms.DEFAULT_ROLES[name], True, {"admin": 1, "sales": 1}.get(name, 0))
        for name in sorted(perms.DEFAULT_ROLES)
    ]


def test_create_role(users: UserAdminService, auth: AuthService, admin: CurrentUser) -> None:
    role = users.create_role(
        admin, " buyer ", " Buys stock ", [perms.INVENTORY_RECEIVE, perms.PRODUCTS_READ]
    )
    assert (role.name, role.description, role.permissions, role.user_count) == (
        "buyer", "Buys stock", (perms.PRODUCTS_READ, perms.INVENTORY_RECEIVE), 0
    )  # fmt: skip
    bob = add_user(auth, "bob", "buyer")
    assert bob.can(perms.INVENTORY_RECEIVE) and not bob.can(perms.INVENTORY_ADJUST)
    for name, description, granted, error, field in (
        ("Buyer", "", [], ConflictError, "name"),
        ("a b", "", [], ValidationError, "name"),
        ("clerk2", "", ["orders.eat"], ValidationError, "permissions"),
        ("clerk2", "x" * 1001, [], ValidationError, "description"),
    ):
        with pytest.raises(error) as caught:
            users.create_role(admin, name, description, granted)
        assert caught.value.field == field
    assert len(users.list_roles(admin)) == 5


def test_update_role(users: UserAdminService, auth: AuthService, admin: CurrentUser) -> None:
    add_user(auth, "sam", "sales")
    sales = role_row(users, admin, "sales")
    updated = users.update_role(
        admin,
        sales.id,
        description="Sells",
        permissions=[*sales.permissions, perms.ORDERS_CANCEL],
        expected=sales,
    )
    assert updated.description == "Sells" and perms.ORDERS_CANCEL in updated.permissions
    assert auth.login("sam", PASSWORD).can(perms.ORDERS_CANCEL)
    with pytest.raises(ConflictError, match="changed the description and permissions") as stale:
        users.update_role(admin, sales.id, description="", permissions=[], expected=sales)
    assert stale.value.current == updated
    with pytest.raises(ValidationError) as unknown:
        users.update_role(
            admin, sales.id, description="", permissions=["orders.eat"], expected=updated
        )
    assert unknown.value.field == "permissions"
    admin_role = role_row(users, admin, "admin")
    with pytest.raises(ValidationError, match="admin role always grants everything"):
        users.update_role(admin, admin_role.id, description="", permissions=[], expected=admin_role)
    assert role_row(users, admin, "sales") == updated
    assert role_row(users, admin, "admin") == admin_role


def test_deactivate_and_reactivate_role(
    users: UserAdminService, auth: AuthService, admin: CurrentUser
) -> None:
    add_user(auth, "sam", "sales")
    sales = role_row(users, admin, "sales")
    assert not users.deactivate_role(admin, sales.id).is_active
    sam = auth.login("sam", PASSWORD)
    assert sam.roles == () and not sam.can(perms.ORDERS_CREATE)
    assert users.reactivate_role(admin, sales.id).is_active
    assert auth.login("sam", PASSWORD).can(perms.ORDERS_CREATE)
    with pytest.raises(ValidationError, match="admin role cannot be deactivated"):
        users.deactivate_role(admin, role_row(users, admin, "admin").id)
    with pytest.raises(NotFoundError):
        users.deactivate_role(admin, uuid.uuid4())


def test_a_role_that_keeps_the_last_administrator_stays(
    users: UserAdminService, auth: AuthService, admin: CurrentUser
) -> None:
    """Administering users may come from any role granting users.admin."""
    keepers = users.create_role(admin, "keepers", "", [perms.USERS_ADMIN])
    kim = add_user(auth, "kim", "keepers")
    users.deactivate_user(kim, admin.id)
    with pytest.raises(ValidationError, match="keepers is what the last administrators hold"):
        users.deactivate_role(kim, keepers.id)
    with pytest.raises(ValidationError, match="last administrators") as caught:
        users.update_role(
            kim, keepers.id, description="", permissions=[perms.ORDERS_READ], expected=keepers
        )
    assert caught.value.field == "permissions"
    assert role_row(users, kim, "keepers") == replace(keepers, user_count=1)


def test_everything_here_needs_users_admin(
    users: UserAdminService, auth: AuthService, admin: CurrentUser
) -> None:
    manager = add_user(auth, "max", "manager")
    with pytest.raises(PermissionDeniedError, match=r"users\.admin"):
        users.list_users(manager)
    with pytest.raises(PermissionDeniedError, match=r"users\.admin"):
        users.create_role(manager, "x-role", "", [])
    assert [r.name for r in users.list_roles(admin)] == sorted(perms.DEFAULT_ROLES)
