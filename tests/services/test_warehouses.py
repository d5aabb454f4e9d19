"""Warehouses on real PostgreSQL: create, edit against a stale version, soft and hard
delete, deactivate and reactivate, list, permissions."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser
from erpgo_desktop.services.inventory import InventoryService
from erpgo_desktop.services.stock import StockKey
from erpgo_desktop.services.warehouses import (
    WarehouseDraft,
    WarehouseRemoval,
    WarehouseRow,
    WarehouseService,
)
from tests.services.test_inventory import NOBODY, insert_product, reserve


class Staff:
    def __init__(self, engine: Engine) -> None:
        auth = AuthService(make_session_factory(engine))

        def user(name: str, role: str) -> CurrentUser:
            new = NewUser(name, f"{name}@example.com", "password-1", role, name.title())
            return auth.create_user(new, acting=None)

        self.alice = user("alice", "manager")
        self.bob = user("bob", "manager")
        self.clerk = user("carl", "warehouse_clerk")
        self.sales = user("sam", "sales")


@pytest.fixture
def staff(engine: Engine) -> Staff:
    return Staff(engine)


@pytest.fixture
def warehouses(engine: Engine) -> WarehouseService:
    return WarehouseService(make_session_factory(engine))


MAIN = WarehouseDraft(
    code=" main ",
    name=" Main warehouse ",
    address="1 Dock Road",
    city="Springfield",
    state="",
    country="US",
    postal_code="12345",
    phone="+1 (555) 010-0199",
    email=" main@example.com ",
)


def test_create_stores_a_clean_warehouse(warehouses: WarehouseService, staff: Staff) -> None:
    row = warehouses.create(staff.alice, replace(MAIN, manager_id=staff.clerk.id))
    assert (row.code, row.name, row.state, row.email, row.phone) == (
        "MAIN",
        "Main warehouse",
        None,
        "main@example.com",
        "+1 (555) 010-0199",
    )
    assert (row.manager_id, row.manager_name) == (staff.clerk.id, "Carl")
    assert (row.is_active, row.version, row.updated_by) == (True, 1, "alice")
    assert warehouses.get(staff.sales, row.id) == row


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"code": "MAIN 1"},
            "code",
            "A warehouse code has 1 to 20 letters, digits, '-' or '_' (upper case), "
            "such as MAIN or WH-02.",
        ),
        (
            {"code": "A" * 21},
            "code",
            "A warehouse code has 1 to 20 letters, digits, '-' or '_' (upper case), "
            "such as MAIN or WH-02.",
        ),
        (
            {"code": "  "},
            "code",
            "A warehouse code has 1 to 20 letters, digits, '-' or '_' (upper case), "
            "such as MAIN or WH-02.",
        ),
        ({"name": " "}, "name", "A warehouse name has 1 to 200 characters."),
        ({"name": "n" * 201}, "name", "A warehouse name has 1 to 200 characters."),
        ({"city": "c" * 101}, "city", "A city has at most 100 characters."),
        ({"postal_code": "1" * 21}, "postal_code", "A postal code has at most 20 characters."),
        ({"phone": "call me"}, "phone", None),
        ({"phone": "12-34"}, "phone", None),
        ({"email": "main@"}, "email", "Enter a valid email address, such as name@example.com."),
    ],
)
def test_create_refuses_bad_fields(
    warehouses: WarehouseService,
    staff: Staff,
    change: dict[str, str],
    field: str,
    message: str | None,
) -> None:
    with pytest.raises(ValidationError) as refused:
        warehouses.create(staff.alice, replace(MAIN, **change))
    assert refused.value.field == field
    if message is not None:
        assert refused.value.message == message
    else:
        assert refused.value.message.startswith("A phone number has an optional '+'")
    assert warehouses.list_warehouses(staff.alice) == ()


def test_codes_are_unique(warehouses: WarehouseService, staff: Staff) -> None:
    warehouses.create(staff.alice, MAIN)
    with pytest.raises(ConflictError) as taken:
        warehouses.create(staff.alice, replace(MAIN, code="Main", name="Other"))
    assert (taken.value.field, taken.value.message) == (
        "code",
        "Another warehouse already has the code MAIN.",
    )
    east = warehouses.create(staff.alice, replace(MAIN, code="EAST"))
    with pytest.raises(ConflictError, match="already has the code MAIN"):
        warehouses.update(staff.alice, east.id, replace(east.draft(), code="main"), east.version)


def test_manager_must_be_an_active_user(
    warehouses: WarehouseService, staff: Staff, engine: Engine
) -> None:
    with pytest.raises(NotFoundError) as missing:
        warehouses.create(staff.alice, replace(MAIN, manager_id=uuid.uuid4()))
    assert (missing.value.field, missing.value.message) == (
        "manager",
        "That user does not exist (any more).",
    )
    with engine.begin() as connection:
        connection.execute(text("UPDATE users SET is_active = false WHERE username = 'carl'"))
    with pytest.raises(ValidationError) as refused:
        warehouses.create(staff.alice, replace(MAIN, manager_id=staff.clerk.id))
    assert (refused.value.field, refused.value.message) == (
        "manager",
        "User carl is disabled and cannot manage a warehouse.",
    )


def test_update_bumps_the_version(warehouses: WarehouseService, staff: Staff) -> None:
    created = warehouses.create(staff.alice, MAIN)
    updated = warehouses.update(
        staff.bob,
        created.id,
        replace(created.draft(), name="Main depot", manager_id=staff.alice.id),
        created.version,
    )
    assert (updated.name, updated.manager_name, updated.version, updated.updated_by) == (
        "Main depot",
        "Alice",
        2,
        "bob",
    )
    assert updated.updated_at >= created.updated_at


def test_a_stale_edit_is_a_conflict_naming_who_and_when(
    warehouses: WarehouseService, staff: Staff
) -> None:
    opened = warehouses.create(staff.alice, MAIN)
    # Bob saves first ...
    saved = warehouses.update(staff.bob, opened.id, replace(opened.draft(), city="Shelbyville"), 1)
    # ... Alice saves over the version she opened.
    with pytest.raises(ConflictError) as conflict:
        warehouses.update(staff.alice, opened.id, replace(opened.draft(), name="Mine"), 1)
    when = saved.updated_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert conflict.value.message == (
        f"Warehouse MAIN was changed by bob at {when} after you opened it; nothing was saved. "
        "Compare with the current version and try again."
    )
    current = conflict.value.current
    assert isinstance(current, WarehouseRow)
    assert (current.city, current.name, current.version) == ("Shelbyville", "Main warehouse", 2)
    # Nothing was overwritten; stale deactivate, reactivate and delete are refused too.
    assert warehouses.get(staff.alice, opened.id) == saved
    for stale in (warehouses.deactivate, warehouses.reactivate, warehouses.delete):
        with pytest.raises(ConflictError, match="was changed by bob"):
            stale(staff.alice, opened.id, 1)
    with pytest.raises(NotFoundError):
        warehouses.update(staff.alice, uuid.uuid4(), MAIN, 1)


def test_delete_removes_a_warehouse_nothing_refers_to(
    warehouses: WarehouseService, staff: Staff
) -> None:
    row = warehouses.create(staff.alice, MAIN)
    assert warehouses.delete(staff.alice, row.id, row.version) is WarehouseRemoval.DELETED
    assert warehouses.list_warehouses(staff.alice) == ()
    with pytest.raises(NotFoundError):
        warehouses.get(staff.alice, row.id)


def test_delete_deactivates_a_warehouse_with_stock_history(
    warehouses: WarehouseService, staff: Staff, engine: Engine
) -> None:
    main = warehouses.create(staff.alice, MAIN)
    with engine.begin() as connection:
        category = connection.execute(
            text("INSERT INTO product_categories (name) VALUES ('Tools') RETURNING id")
        ).scalar_one()
        drill = insert_product(connection, category, "DRILL-1")
    inventory = InventoryService(make_session_factory(engine))
    key = StockKey(drill, main.id)
    inventory.receive(staff.clerk, key, 5)
    inventory.adjust(staff.clerk, key, -5, "all broken")  # nothing on hand, history stays

    outcome = warehouses.delete(staff.alice, main.id, main.version)
    assert outcome is WarehouseRemoval.DEACTIVATED
    row = warehouses.get(staff.alice, main.id)
    assert (row.is_active, row.version, row.updated_by) == (False, 2, "alice")
    with engine.connect() as connection:
        ledger = connection.execute(text("SELECT count(*) FROM inventory_transactions")).scalar()
    assert ledger == 2
    # Deleting it again keeps it, inactive, without a change.
    assert warehouses.delete(staff.alice, main.id, 2) is WarehouseRemoval.DEACTIVATED
    assert warehouses.get(staff.alice, main.id).version == 2
    with pytest.raises(
        ValidationError, match=r"^Warehouse MAIN is inactive; reactivate it first\.$"
    ):
        inventory.receive(staff.clerk, key, 1)


def test_deactivate_is_refused_while_stock_is_reserved(
    warehouses: WarehouseService, staff: Staff, engine: Engine
) -> None:
    main = warehouses.create(staff.alice, MAIN)
    with engine.begin() as connection:
        category = connection.execute(
            text("INSERT INTO product_categories (name) VALUES ('Tools') RETURNING id")
        ).scalar_one()
        drill = insert_product(connection, category, "DRILL-1")
    key = StockKey(drill, main.id)
    InventoryService(make_session_factory(engine)).receive(staff.clerk, key, 5)
    reserve(engine, key, 3)
    for attempt in (warehouses.deactivate, warehouses.delete):
        with pytest.raises(ValidationError) as refused:
            attempt(staff.alice, main.id, main.version)
        assert refused.value.message == (
            "Warehouse MAIN holds 3 units reserved for confirmed orders; ship or cancel those "
            "orders before deactivating it."
        )
    assert warehouses.get(staff.alice, main.id).is_active


def test_deactivate_and_reactivate(warehouses: WarehouseService, staff: Staff) -> None:
    main = warehouses.create(staff.alice, MAIN)
    east = warehouses.create(staff.alice, replace(MAIN, code="EAST", name="East"))
    off = warehouses.deactivate(staff.bob, main.id, main.version)
    assert (off.is_active, off.version, off.updated_by) == (False, 2, "bob")
    assert warehouses.deactivate(staff.bob, main.id, 2).version == 2  # already: no change
    assert [w.code for w in warehouses.list_warehouses(staff.sales)] == ["EAST", "MAIN"]
    active = warehouses.list_warehouses(staff.sales, include_inactive=False)
    assert [w.code for w in active] == ["EAST"]
    on = warehouses.reactivate(staff.alice, main.id, 2)
    assert (on.is_active, on.version, on.updated_by) == (True, 3, "alice")
    assert warehouses.reactivate(staff.alice, main.id, 3).version == 3
    assert east.is_active


def test_permissions(warehouses: WarehouseService, staff: Staff) -> None:
    row = warehouses.create(staff.alice, MAIN)
    writes = [
        lambda user: warehouses.create(user, replace(MAIN, code="X")),
        lambda user: warehouses.update(user, row.id, row.draft(), row.version),
        lambda user: warehouses.deactivate(user, row.id, row.version),
        lambda user: warehouses.reactivate(user, row.id, row.version),
        lambda user: warehouses.delete(user, row.id, row.version),
    ]
    for write in writes:
        for user in (staff.clerk, staff.sales):
            with pytest.raises(PermissionDeniedError, match=f"'{perms.WAREHOUSES_WRITE}'"):
                write(user)
    for read in (
        lambda: warehouses.list_warehouses(NOBODY),
        lambda: warehouses.get(NOBODY, row.id),
    ):
        with pytest.raises(PermissionDeniedError, match=f"'{perms.INVENTORY_READ}'"):
            read()
    assert warehouses.get(staff.clerk, row.id) == row


def test_delete_keeps_a_warehouse_that_anything_else_refers_to(
    warehouses: WarehouseService, staff: Staff, engine: Engine
) -> None:
    """A reference this service does not know of (here a made-up table) makes the database
    refuse the delete; the warehouse is deactivated instead of the error reaching the user."""
    main = warehouses.create(staff.alice, MAIN)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE shelves (warehouse_id UUID REFERENCES warehouses)"))
        connection.execute(text("INSERT INTO shelves VALUES (:w)"), {"w": main.id})
    assert warehouses.delete(staff.alice, main.id, main.version) is WarehouseRemoval.DEACTIVATED
    row = warehouses.get(staff.alice, main.id)
    assert (row.is_active, row.version) == (False, 2)
