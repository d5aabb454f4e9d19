"""Looking up what a clerk types or scans: exact codes and suggestions."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import text

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.lookup import ItemLookupService
from tests.services.test_orders_support import World, unique, world

__all__ = ["world"]  # the module-scoped fixture


def _set(world: World, product: uuid.UUID, **values: object) -> None:
    assignments = ", ".join(f"{column} = :{column}" for column in values)
    with world.engine.begin() as connection:
        connection.execute(
            text(f"UPDATE products SET {assignments} WHERE id = :id"), {**values, "id": product}
        )


def _variant(world: World, product: uuid.UUID, sku: str, barcode: str | None = None) -> uuid.UUID:
    with world.engine.begin() as connection:
        return uuid.UUID(
            str(
                connection.execute(
                    text(
                        "INSERT INTO product_variants (product_id, sku, name, price, barcode) "
                        "VALUES (:p, :sku, 'Red', 12.50, :barcode) RETURNING id"
                    ),
                    {"p": product, "sku": sku, "barcode": barcode},
                ).scalar_one()
            )
        )


def _sku(world: World, product: uuid.UUID) -> str:
    with world.engine.connect() as connection:
        return str(
            connection.execute(
                text("SELECT sku FROM products WHERE id = :id"), {"id": product}
            ).scalar_one()
        )


@pytest.fixture(scope="module")
def lookup(world: World) -> ItemLookupService:
    return ItemLookupService(make_session_factory(world.engine))


def test_a_product_is_found_by_its_sku_and_by_its_barcode(
    world: World, lookup: ItemLookupService
) -> None:
    product = world.product("19.99", stock={world.main: 7})
    barcode = unique("4006381")
    _set(world, product, barcode=barcode)
    sku = _sku(world, product)

    (by_sku,) = lookup.find_by_code(world.clerk, f"  {sku} ")
    (by_barcode,) = lookup.find_by_code(world.clerk, barcode)

    assert by_sku == by_barcode
    assert (by_sku.product_id, by_sku.variant_id, by_sku.sku) == (product, None, sku)
    assert by_sku.price == Decimal("19.99")
    assert by_sku.stock_quantity == 7
    assert by_sku.barcode == barcode


def test_a_variant_is_found_by_its_own_sku_and_barcode_with_its_price(
    world: World, lookup: ItemLookupService
) -> None:
    product = world.product()
    variant_sku, barcode = unique("VAR"), unique("999")
    variant = _variant(world, product, variant_sku, barcode)

    (found,) = lookup.find_by_code(world.sales, barcode)

    assert (found.product_id, found.variant_id, found.sku) == (product, variant, variant_sku)
    assert found.price == Decimal("12.50")
    assert found.name.endswith(" — Red")
    assert lookup.find_by_code(world.sales, variant_sku) == (found,)


def test_inactive_products_and_unknown_codes_are_not_found(
    world: World, lookup: ItemLookupService
) -> None:
    product = world.product(active=False)

    assert lookup.find_by_code(world.sales, _sku(world, product)) == ()
    assert lookup.find_by_code(world.sales, unique("NOPE")) == ()
    assert lookup.find_by_code(world.sales, "   ") == ()


def test_a_part_of_a_code_is_not_an_exact_match(world: World, lookup: ItemLookupService) -> None:
    sku = unique("WHOLE")
    _set(world, world.product(), sku=f"{sku}-TAIL")
    assert lookup.find_by_code(world.sales, sku) == ()


def test_suggestions_match_parts_of_names_and_put_sku_prefixes_first(
    world: World, lookup: ItemLookupService
) -> None:
    word = unique("Hammer").replace("-", "")
    by_name = world.product()
    _set(world, by_name, name=f"Claw {word} 16oz", sku=f"ZZ-{word}")
    by_sku = world.product()
    _set(world, by_sku, name="Something else", sku=f"{word}-1")

    found = lookup.suggest(world.sales, word.lower())

    assert [item.product_id for item in found] == [by_sku, by_name]


def test_suggestions_are_limited(world: World, lookup: ItemLookupService) -> None:
    word = unique("Nail").replace("-", "")
    for n in range(5):
        _set(world, world.product(), name=f"{word} {n}")

    assert len(lookup.suggest(world.sales, word, limit=3)) == 3
    with pytest.raises(ValidationError):
        lookup.suggest(world.sales, word, limit=0)
    with pytest.raises(ValidationError) as too_long:
        lookup.find_by_code(world.sales, "x" * 101)
    assert too_long.value.field == "code"
