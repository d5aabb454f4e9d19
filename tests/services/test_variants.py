"""Variants of a product: their own SKU (unique within the product), price and attributes,
their stock per warehouse, versions, soft and hard delete, permissions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.catalog_admin import (
    CategoryDraft,
    CategoryService,
    ProductDetail,
    ProductDraft,
    ProductService,
    VariantDraft,
    VariantService,
    VariantStockRow,
)
from erpgo_desktop.services.stock import StockKey
from tests.services.test_products import NOBODY, Staff, make_staff, make_warehouse, receive


@pytest.fixture
def staff(engine: Engine) -> Staff:
    return make_staff(engine)


@pytest.fixture
def variants(engine: Engine) -> VariantService:
    return VariantService(make_session_factory(engine))


@pytest.fixture
def shirt(engine: Engine, staff: Staff) -> ProductDetail:
    sessions = make_session_factory(engine)
    category = CategoryService(sessions).create_category(staff.manager, CategoryDraft("Apparel"))
    return ProductService(sessions).create_product(
        staff.manager, ProductDraft("SHIRT", "T-shirt", category.id, Decimal("15.00"))
    )


def red_l(**changes: object) -> VariantDraft:
    draft = VariantDraft(
        sku="SHIRT-RED-L",
        name="T-shirt red L",
        price=Decimal("16.50"),
        cost=Decimal("7.25"),
        attributes={"color": "red", "size": "L"},
    )
    return replace(draft, **changes)  # type: ignore[arg-type]


def variant_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM product_variants")).scalar_one())


def test_create_list_and_read(variants: VariantService, staff: Staff, shirt: ProductDetail) -> None:
    created = variants.create_variant(
        staff.manager, shirt.id, red_l(attributes={" color ": " red ", "size": "L"})
    )

    assert created.product_id == shirt.id
    assert created.to_draft() == red_l()  # attribute names and values trimmed
    assert (created.version, created.updated_by_name, created.is_active) == (1, "alice", True)
    assert created.stock_quantity == 0
    blue = variants.create_variant(
        staff.manager, shirt.id, red_l(sku="SHIRT-BLUE-L", attributes={"color": "blue"})
    )
    assert variants.list_variants(staff.clerk, shirt.id) == (blue, created)  # by SKU
    assert variants.get_variant(staff.sales, created.id) == created
    with pytest.raises(NotFoundError):
        variants.list_variants(staff.manager, uuid.uuid4())
    with pytest.raises(NotFoundError):
        variants.create_variant(staff.manager, uuid.uuid4(), red_l())


def test_a_variant_sku_is_unique_within_its_product(
    engine: Engine, variants: VariantService, staff: Staff, shirt: ProductDetail
) -> None:
    first = variants.create_variant(staff.manager, shirt.id, red_l())
    with pytest.raises(ConflictError, match="'T-shirt red L' of this product already") as c:
        variants.create_variant(staff.manager, shirt.id, red_l(name="Other"))
    assert c.value.field == "sku"
    # Inactive variants keep their SKU.
    variants.deactivate_variant(staff.manager, first.id, expected_version=1)
    with pytest.raises(ConflictError) as c:
        variants.create_variant(staff.manager, shirt.id, red_l())
    assert c.value.field == "sku"
    second = variants.create_variant(staff.manager, shirt.id, red_l(sku="SHIRT-RED-M"))
    with pytest.raises(ConflictError) as c:
        variants.update_variant(staff.manager, second.id, red_l(), expected_version=1)
    assert c.value.field == "sku"

    # Another product may use the same variant SKU.
    category = CategoryService(make_session_factory(engine)).list_categories(staff.manager)[0]
    polo = ProductService(make_session_factory(engine)).create_product(
        staff.manager, ProductDraft("POLO", "Polo", category.id, Decimal("25"))
    )
    assert variants.create_variant(staff.manager, polo.id, red_l()).sku == "SHIRT-RED-L"


def test_rules_are_checked(
    engine: Engine, variants: VariantService, staff: Staff, shirt: ProductDetail
) -> None:
    existing = variants.create_variant(staff.manager, shirt.id, red_l(sku="KEEP"))
    for changes, field, message in [
        ({"sku": "RED L"}, "sku", "letters, digits"),
        ({"name": ""}, "name", "A variant name has 1 to 300"),
        ({"price": Decimal("0")}, "price", "more than 0"),
        ({"cost": Decimal("16.51")}, "cost", "cannot be higher than the price"),
        ({"min_stock_level": 3, "max_stock_level": 2}, "min_stock_level", "above the maximum"),
        ({"attributes": {"Color": "red", "color": "blue"}}, "attributes", "given twice"),
    ]:
        with pytest.raises(ValidationError, match=message) as refused:
            variants.create_variant(staff.manager, shirt.id, red_l(**changes))
        assert refused.value.field == field
        with pytest.raises(ValidationError, match=message) as refused:
            variants.update_variant(
                staff.manager, existing.id, red_l(**changes), expected_version=1
            )
        assert refused.value.field == field
    assert variant_count(engine) == 1


def test_stale_variant_edit_is_a_conflict(
    variants: VariantService, staff: Staff, shirt: ProductDetail
) -> None:
    created = variants.create_variant(staff.manager, shirt.id, red_l())
    saved = variants.update_variant(
        staff.other_manager,
        created.id,
        red_l(price=Decimal("18.00"), attributes={"color": "red", "size": "L", "fit": "slim"}),
        expected_version=1,
    )
    assert (saved.version, saved.price, saved.updated_by_name) == (2, Decimal("18.00"), "bob")
    assert dict(saved.attributes) == {"color": "red", "size": "L", "fit": "slim"}

    with pytest.raises(ConflictError, match="changed by bob") as conflict:
        variants.update_variant(staff.manager, created.id, red_l(name="Mine"), expected_version=1)
    assert conflict.value.current == saved


def test_stock_per_warehouse_is_read(
    engine: Engine, variants: VariantService, staff: Staff, shirt: ProductDetail
) -> None:
    created = variants.create_variant(staff.manager, shirt.id, red_l())
    main, store = make_warehouse(engine, "MAIN"), make_warehouse(engine, "STORE")
    receive(engine, StockKey(shirt.id, main, created.id), 5, reserve=2)
    receive(engine, StockKey(shirt.id, store, created.id), 3)

    stock = variants.variant_stock(staff.clerk, created.id)

    assert stock == (
        VariantStockRow(main, "MAIN", "MAIN", 5, 2, 0, None),
        VariantStockRow(store, "STORE", "STORE", 3, 0, 0, None),
    )
    assert [row.sellable for row in stock] == [3, 3]
    assert variants.get_variant(staff.clerk, created.id).stock_quantity == 8
    # The product's own stock is another thing: variants' stock is not in it.
    assert (
        ProductService(make_session_factory(engine))
        .get_product(staff.clerk, shirt.id)
        .stock_quantity
        == 0
    )
    with pytest.raises(NotFoundError):
        variants.variant_stock(staff.clerk, uuid.uuid4())

    with pytest.raises(ValidationError, match="SHIRT-RED-L has 8 on hand") as refused:
        variants.update_variant(
            staff.manager, created.id, red_l(track_inventory=False), expected_version=1
        )
    assert refused.value.field == "track_inventory"


def test_delete_only_when_nothing_refers_to_it(
    engine: Engine, variants: VariantService, staff: Staff, shirt: ProductDetail
) -> None:
    moved = variants.create_variant(staff.manager, shirt.id, red_l())
    receive(engine, StockKey(shirt.id, make_warehouse(engine), moved.id), 1)
    with pytest.raises(ConflictError, match="used by 1 stock movement") as refused:
        variants.delete_variant(staff.manager, moved.id, expected_version=1)
    assert "deactivate it instead" in refused.value.message
    inactive = variants.deactivate_variant(staff.manager, moved.id, expected_version=1)
    assert (inactive.is_active, inactive.version) == (False, 2)
    assert variants.list_variants(staff.manager, shirt.id, include_inactive=False) == ()
    active = variants.reactivate_variant(staff.manager, moved.id, expected_version=2)
    assert active.is_active is True

    unused = variants.create_variant(staff.manager, shirt.id, red_l(sku="SHIRT-RED-S"))
    with pytest.raises(ConflictError, match="changed by alice"):
        variants.delete_variant(staff.manager, unused.id, expected_version=2)
    variants.delete_variant(staff.manager, unused.id, expected_version=1)
    assert [v.sku for v in variants.list_variants(staff.manager, shirt.id)] == ["SHIRT-RED-L"]
    with pytest.raises(NotFoundError):
        variants.get_variant(staff.manager, unused.id)


def test_reading_needs_products_read_and_writing_products_write(
    engine: Engine, variants: VariantService, staff: Staff, shirt: ProductDetail
) -> None:
    created = variants.create_variant(staff.manager, shirt.id, red_l())
    for read in (
        lambda: variants.list_variants(NOBODY, shirt.id),
        lambda: variants.get_variant(NOBODY, created.id),
        lambda: variants.variant_stock(NOBODY, created.id),
    ):
        with pytest.raises(PermissionDeniedError, match=r"products\.read"):
            read()
    attempts: list[Callable[[CurrentUser], object]] = [
        lambda user: variants.create_variant(user, shirt.id, red_l(sku="X")),
        lambda user: variants.update_variant(user, created.id, red_l(), expected_version=1),
        lambda user: variants.deactivate_variant(user, created.id, expected_version=1),
        lambda user: variants.delete_variant(user, created.id, expected_version=1),
    ]
    for user in (staff.sales, staff.clerk):
        for attempt in attempts:
            with pytest.raises(PermissionDeniedError, match=r"products\.write"):
                attempt(user)
    assert variants.list_variants(staff.manager, shirt.id) == (created,)
