"""Products one at a time: every rule of business-rules.md, allowed and refused, on real
PostgreSQL; versions, conflicts, soft and hard delete, permissions."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser
from erpgo_desktop.services.catalog import ProductCatalogService, ProductQuery
from erpgo_desktop.services.catalog_admin import (
    CategoryDraft,
    CategoryService,
    ProductDetail,
    ProductDraft,
    ProductService,
)
from erpgo_desktop.services.stock import StockKey, StockLedger


@dataclass(frozen=True)
class Staff:
    """One user per default role (two managers, to edit against each other)."""

    manager: CurrentUser
    other_manager: CurrentUser
    sales: CurrentUser
    clerk: CurrentUser


def make_staff(engine: Engine) -> Staff:
    auth = AuthService(make_session_factory(engine))

    def user(name: str, role: str) -> CurrentUser:
        return auth.create_user(
            NewUser(name, f"{name}@example.com", "password-1", role, name.title()), acting=None
        )

    return Staff(
        manager=user("alice", "manager"),
        other_manager=user("bob", "manager"),
        sales=user("sam", "sales"),
        clerk=user("carl", "warehouse_clerk"),
    )


#: Someone with no permissions at all (require() reads only the permissions).
NOBODY = CurrentUser(uuid.uuid4(), "nobody", "Nobody", (), frozenset())


@pytest.fixture
def staff(engine: Engine) -> Staff:
    return make_staff(engine)


@pytest.fixture
def products(engine: Engine) -> ProductService:
    return ProductService(make_session_factory(engine))


@pytest.fixture
def category_id(engine: Engine, staff: Staff) -> uuid.UUID:
    categories = CategoryService(make_session_factory(engine))
    return categories.create_category(staff.manager, CategoryDraft("Tools")).id


def drill(category_id: uuid.UUID, **changes: object) -> ProductDraft:
    draft = ProductDraft(
        sku="DRILL-1",
        name="Cordless drill",
        category_id=category_id,
        price=Decimal("99.90"),
        cost=Decimal("60.00"),
        tax_rate=Decimal("19.00"),
        min_stock_level=5,
        max_stock_level=50,
    )
    return replace(draft, **changes)  # type: ignore[arg-type]


def make_warehouse(engine: Engine, code: str = "MAIN") -> uuid.UUID:
    with engine.begin() as conn:
        warehouse: uuid.UUID = conn.execute(
            text("INSERT INTO warehouses (code, name) VALUES (:c, :c) RETURNING id"), {"c": code}
        ).scalar_one()
    return warehouse


def receive(engine: Engine, key: StockKey, quantity: int, reserve: int = 0) -> None:
    with make_session_factory(engine).begin() as session:
        ledger = StockLedger(session, None)
        ledger.lock([key])
        ledger.move(key, quantity, "IN", reason="receipt")
        if reserve:
            ledger.reserve(key, reserve)


def add_order_line(engine: Engine, product_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """An order with one line for the product, written by SQL (orders are not ours)."""
    with engine.begin() as conn:
        customer = conn.execute(
            text("INSERT INTO customers (first_name, last_name, email) "
                 "VALUES ('Ann', 'Buyer', :e) RETURNING id"),
            {"e": f"{uuid.uuid4().hex}@example.com"},
        ).scalar_one()  # fmt: skip
        address = conn.execute(
            text("INSERT INTO order_addresses (type, first_name, last_name, address1, city, "
                 "postal_code, country) VALUES ('shipping', 'Ann', 'Buyer', '1 Road', 'Town', "
                 "'12345', 'US') RETURNING id")
        ).scalar_one()  # fmt: skip
        order = conn.execute(
            text("INSERT INTO orders (order_number, customer_id, shipping_address_id, "
                 "billing_address_id, created_by) VALUES (next_order_number(), :c, :a, :a, :u) "
                 "RETURNING id"),
            {"c": customer, "a": address, "u": user_id},
        ).scalar_one()  # fmt: skip
        conn.execute(
            text("INSERT INTO order_items (order_id, product_id, quantity, unit_price) "
                 "VALUES (:o, :p, 1, 99.90)"),
            {"o": order, "p": product_id},
        )  # fmt: skip


def product_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM products")).scalar_one())


# --- create and read ----------------------------------------------------------------------


def test_create_stores_every_field_and_who_saved(
    engine: Engine, products: ProductService, staff: Staff, category_id: uuid.UUID
) -> None:
    draft = drill(
        category_id,
        sku="  DRILL-1 ",
        description="18 V",
        short_description="A drill",
        weight=Decimal("1.250"),
        dimensions="30x20x8 cm",
        length=Decimal("30"),
        width=Decimal("20"),
        height=Decimal("8"),
        volume=Decimal("4.8"),
        barcode="4006381333931",
        allow_backorder=True,
        is_featured=True,
    )

    created = products.create_product(staff.manager, draft)

    assert created.sku == "DRILL-1"  # trimmed
    assert created.to_draft() == replace(
        draft,
        sku="DRILL-1",
        length=Decimal("30.00"),
        width=Decimal("20.00"),
        height=Decimal("8.00"),
        volume=Decimal("4.800"),
    )
    assert (created.version, created.updated_by_name, created.is_active) == (1, "alice", True)
    assert created.category_path == "/Tools"
    assert created.stock_quantity == 0
    assert products.get_product(staff.sales, created.id) == created
    # The list screen shows it too.
    page = ProductCatalogService(make_session_factory(engine)).list_products(
        ProductQuery(), None, 10
    )
    assert [row.sku for row in page.rows] == ["DRILL-1"]


def test_a_missing_product_is_not_found(products: ProductService, staff: Staff) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        products.get_product(staff.manager, uuid.uuid4())
    with pytest.raises(NotFoundError, match="does not exist"):
        products.deactivate_product(staff.manager, uuid.uuid4(), expected_version=1)


REFUSED: list[tuple[dict[str, object], str, str]] = [
    ({"sku": "DRILL 1"}, "sku", "letters, digits"),
    ({"name": " "}, "name", "A product name has 1 to 300"),
    ({"price": Decimal("0")}, "price", "more than 0"),
    ({"price": Decimal("10000000000.00")}, "price", "too large"),
    ({"cost": Decimal("100.00")}, "cost", "cannot be higher than the price"),
    ({"taxable": False}, "tax_rate", "not taxable has a tax rate of 0"),
    ({"tax_rate": Decimal("100.01")}, "tax_rate", "from 0 to 100"),
    ({"min_stock_level": 51}, "min_stock_level", "cannot be above the maximum"),
    ({"max_stock_level": 1_000_000_000}, "max_stock_level", "999,999,999"),
    ({"is_digital": True}, "requires_shipping", "does not require shipping"),
    ({"is_digital": True, "requires_shipping": False}, "download_url", "needs a download"),
    ({"weight": Decimal("-1")}, "weight", "cannot be negative"),
]


def test_create_and_update_refuse_what_breaks_a_rule(
    engine: Engine, products: ProductService, staff: Staff, category_id: uuid.UUID
) -> None:
    # One database for all cases (each rule is tested on its own in tests/domain).
    existing = products.create_product(staff.manager, drill(category_id, sku="KEEP-1"))
    for changes, field, message in REFUSED:
        with pytest.raises(ValidationError, match=message) as refused:
            products.create_product(staff.manager, drill(category_id, **changes))
        assert refused.value.field == field, changes
        with pytest.raises(ValidationError, match=message) as refused:
            products.update_product(
                staff.manager,
                existing.id,
                drill(category_id, **changes),
                expected_version=existing.version,
            )
        assert refused.value.field == field, changes
    assert product_count(engine) == 1
    assert products.get_product(staff.manager, existing.id) == existing


def test_a_digital_product_is_stored_with_its_download_terms(
    products: ProductService, staff: Staff, category_id: uuid.UUID
) -> None:
    created = products.create_product(
        staff.manager,
        drill(
            category_id,
            sku="EBOOK-1",
            is_digital=True,
            requires_shipping=False,
            download_url="https://example.com/ebook.pdf",
            max_downloads=9_999,
            expiry_days=3_650,
            min_stock_level=0,
            max_stock_level=0,
            track_inventory=False,
        ),
    )
    assert (created.is_digital, created.requires_shipping) == (True, False)
    assert (created.download_url, created.max_downloads, created.expiry_days) == (
        "https://example.com/ebook.pdf",
        9_999,
        3_650,
    )
    # No longer digital: the download terms go.
    updated = products.update_product(
        staff.manager,
        created.id,
        replace(created.to_draft(), is_digital=False, requires_shipping=True),
        expected_version=created.version,
    )
    assert (updated.download_url, updated.max_downloads, updated.expiry_days) == (None, 0, 0)


def test_the_category_must_exist_and_be_active(
    engine: Engine, products: ProductService, staff: Staff, category_id: uuid.UUID
) -> None:
    with pytest.raises(ValidationError, match="does not exist") as refused:
        products.create_product(staff.manager, drill(uuid.uuid4()))
    assert refused.value.field == "category_id"
    categories = CategoryService(make_session_factory(engine))
    old = categories.create_category(staff.manager, CategoryDraft("Old"))
    categories.deactivate_category(staff.manager, old.id, expected_version=old.version)
    with pytest.raises(ValidationError, match="'Old' is inactive") as refused:
        products.create_product(staff.manager, drill(old.id))
    assert refused.value.field == "category_id"
    created = products.create_product(staff.manager, drill(category_id))
    with pytest.raises(ValidationError, match="'Old' is inactive"):
        products.update_product(
            staff.manager, created.id, drill(old.id), expected_version=created.version
        )


# --- SKU uniqueness -----------------------------------------------------------------------


def test_a_duplicate_sku_is_a_conflict_on_sku(
    products: ProductService, staff: Staff, category_id: uuid.UUID
) -> None:
    first = products.create_product(staff.manager, drill(category_id))
    with pytest.raises(ConflictError, match="already used by the product 'Cordless drill'") as c:
        products.create_product(staff.manager, drill(category_id, name="Another drill"))
    assert c.value.field == "sku"

    # Inactive products keep their SKU too (products.sku is unique over all rows).
    products.deactivate_product(staff.manager, first.id, expected_version=first.version)
    with pytest.raises(ConflictError, match=r"'Cordless drill' \(inactive\)") as c:
        products.create_product(staff.manager, drill(category_id))
    assert c.value.field == "sku"

    # Renaming another product's SKU onto it is refused alike; SKUs are case-sensitive.
    other = products.create_product(staff.manager, drill(category_id, sku="drill-1"))
    with pytest.raises(ConflictError) as c:
        products.update_product(
            staff.manager, other.id, drill(category_id), expected_version=other.version
        )
    assert c.value.field == "sku"


def test_two_workstations_creating_one_sku_end_in_a_conflict_on_sku(
    engine: Engine,
    database_url: URL,
    products: ProductService,
    staff: Staff,
    category_id: uuid.UUID,
) -> None:
    """The other workstation's insert is not committed when ours checks the SKU, so only
    the unique constraint can refuse ours: that must still be a ConflictError on 'sku'."""
    libpq = database_url.set(drivername="postgresql").render_as_string(hide_password=False)
    outcome: list[BaseException | ProductDetail] = []
    with psycopg.connect(libpq) as other:
        other.execute(
            "INSERT INTO products (sku, name, category_id, price) "
            "VALUES ('DRILL-1', 'Their drill', %s, 10)",
            (category_id,),
        )
        other_pid = other.info.backend_pid

        def ours() -> None:
            try:
                outcome.append(products.create_product(staff.manager, drill(category_id)))
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=ours)
        worker.start()
        # Wait until our insert waits for theirs (a lock wait on their transaction).
        with psycopg.connect(libpq, autocommit=True) as watcher:
            for _ in range(100_000):
                blocked = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                    (other_pid,),
                ).fetchone()
                if blocked and blocked[0]:
                    break
                if not worker.is_alive():
                    break
            else:
                raise AssertionError("our insert never waited for theirs")
        other.commit()
        worker.join(timeout=30)
    (result,) = outcome
    assert isinstance(result, ConflictError), result
    assert result.field == "sku"
    assert result.message == "Another product already has this SKU."


# --- editing and versions -----------------------------------------------------------------


def test_stale_product_edit_is_a_conflict(
    engine: Engine, products: ProductService, staff: Staff, category_id: uuid.UUID
) -> None:
    created = products.create_product(staff.manager, drill(category_id))
    # Two people open the same product.
    alices = products.get_product(staff.manager, created.id)
    bobs = products.get_product(staff.other_manager, created.id)

    saved = products.update_product(
        staff.manager,
        alices.id,
        replace(alices.to_draft(), price=Decimal("89.90")),
        expected_version=alices.version,
    )
    assert (saved.version, saved.price, saved.updated_by_name) == (2, Decimal("89.90"), "alice")

    with pytest.raises(ConflictError) as conflict:
        products.update_product(
            staff.other_manager,
            bobs.id,
            replace(bobs.to_draft(), name="Bob's drill"),
            expected_version=bobs.version,
        )
    when = saved.updated_at.astimezone()
    assert "changed by alice" in conflict.value.message
    assert f"{when:%Y-%m-%d at %H:%M:%S}" in conflict.value.message
    assert conflict.value.current == saved  # the current values, to show beside Bob's
    # Nothing of Bob's was written.
    assert products.get_product(staff.manager, created.id) == saved


def test_an_edit_writes_the_new_values_and_bumps_the_version(
    engine: Engine, products: ProductService, staff: Staff, category_id: uuid.UUID
) -> None:
    categories = CategoryService(make_session_factory(engine))
    power = categories.create_category(staff.manager, CategoryDraft("Power tools"))
    created = products.create_product(staff.manager, drill(category_id))

    changed = products.update_product(
        staff.other_manager,
        created.id,
        drill(power.id, sku="DRILL-2", taxable=False, tax_rate=Decimal("0"), max_stock_level=0),
        expected_version=1,
    )

    assert (changed.sku, changed.category_path, changed.taxable) == (
        "DRILL-2",
        "/Power tools",
        False,
    )
    assert (changed.version, changed.updated_by_name) == (2, "bob")
    assert changed.updated_at >= created.updated_at
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT sku, version, updated_by FROM products WHERE id = :id"), {"id": created.id}
        ).one()
    assert tuple(stored) == ("DRILL-2", 2, staff.other_manager.id)


def test_inventory_tracking_stays_on_while_stock_is_held(
    engine: Engine, products: ProductService, staff: Staff, category_id: uuid.UUID
) -> None:
    created = products.create_product(staff.manager, drill(category_id))
    receive(engine, StockKey(created.id, make_warehouse(engine)), 3)

    with pytest.raises(ValidationError, match="DRILL-1 has 3 on hand") as refused:
        products.update_product(
            staff.manager,
            created.id,
            drill(category_id, track_inventory=False),
            expected_version=created.version,
        )
    assert refused.value.field == "track_inventory"

    untracked = products.create_product(staff.manager, drill(category_id, sku="DRILL-9"))
    changed = products.update_product(
        staff.manager,
        untracked.id,
        drill(category_id, sku="DRILL-9", track_inventory=False),
        expected_version=1,
    )
    assert changed.track_inventory is False


# --- deactivate and delete ----------------------------------------------------------------


def test_an_unreferenced_product_is_deleted(
    engine: Engine, products: ProductService, staff: Staff, category_id: uuid.UUID
) -> None:
    created = products.create_product(staff.manager, drill(category_id))
    with pytest.raises(ConflictError, match="changed by alice"):
        products.delete_product(staff.manager, created.id, expected_version=0)

    products.delete_product(staff.manager, created.id, expected_version=created.version)

    assert product_count(engine) == 0
    with pytest.raises(NotFoundError):
        products.delete_product(staff.manager, created.id, expected_version=created.version)


def test_a_product_with_stock_movements_is_deactivated_not_deleted(
    engine: Engine, products: ProductService, staff: Staff, category_id: uuid.UUID
) -> None:
    created = products.create_product(staff.manager, drill(category_id))
    receive(engine, StockKey(created.id, make_warehouse(engine)), 2)

    with pytest.raises(ConflictError, match="used by 1 stock movement") as refused:
        products.delete_product(staff.manager, created.id, expected_version=created.version)
    assert "deactivate it instead" in refused.value.message
    assert product_count(engine) == 1

    inactive = products.deactivate_product(staff.manager, created.id, expected_version=1)
    assert (inactive.is_active, inactive.version) == (False, 2)
    active = products.reactivate_product(staff.other_manager, created.id, expected_version=2)
    assert (active.is_active, active.version, active.updated_by_name) == (True, 3, "bob")


def test_a_product_on_an_order_line_is_not_deleted(
    engine: Engine, products: ProductService, staff: Staff, category_id: uuid.UUID
) -> None:
    created = products.create_product(staff.manager, drill(category_id))
    add_order_line(engine, created.id, staff.manager.id)

    with pytest.raises(ConflictError, match="used by 1 order line, so it cannot be deleted"):
        products.delete_product(staff.manager, created.id, expected_version=created.version)
    assert product_count(engine) == 1


# --- permissions --------------------------------------------------------------------------


def test_reading_needs_products_read_and_writing_products_write(
    engine: Engine, products: ProductService, staff: Staff, category_id: uuid.UUID
) -> None:
    created = products.create_product(staff.manager, drill(category_id))
    assert products.get_product(staff.clerk, created.id).sku == "DRILL-1"
    with pytest.raises(PermissionDeniedError, match=r"products\.read"):
        products.get_product(NOBODY, created.id)
    draft = created.to_draft()
    for attempt in (
        lambda user: products.create_product(user, drill(category_id, sku="X-1")),
        lambda user: products.update_product(user, created.id, draft, expected_version=1),
        lambda user: products.deactivate_product(user, created.id, expected_version=1),
        lambda user: products.delete_product(user, created.id, expected_version=1),
    ):
        for user in (staff.sales, staff.clerk):
            with pytest.raises(PermissionDeniedError, match=r"products\.write"):
                attempt(user)
    assert products.get_product(staff.manager, created.id) == created
    assert product_count(engine) == 1
