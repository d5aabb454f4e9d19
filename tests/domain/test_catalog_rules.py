"""The catalog's rules as pure functions: no database, no Qt."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erpgo_desktop.domain import catalog as rules
from erpgo_desktop.domain.catalog import CategoryDraft, ProductDraft, VariantDraft
from erpgo_desktop.errors import ValidationError

CATEGORY = uuid.uuid4()


def product(**changes: object) -> ProductDraft:
    draft = ProductDraft("SKU-1", "Widget", CATEGORY, Decimal("10.00"))
    return replace(draft, **changes)  # type: ignore[arg-type]


def refused(draft: ProductDraft) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        rules.check_product(draft)
    return caught.value


# --- SKU ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sku", ["A", "abc-DEF_123", "x" * 100, "0", "-_-"])
def test_skus_of_letters_digits_dash_and_underscore(sku: str) -> None:
    assert rules.check_sku(sku) == sku
    assert rules.check_sku(f"  {sku} ") == sku  # surrounding blanks are not part of it


@pytest.mark.parametrize("sku", ["", "   ", "a b", "x" * 101, "ä1", "a/b", "a.b", "a\tb"])
def test_other_skus_are_refused(sku: str) -> None:
    with pytest.raises(ValidationError, match="1 to 100 letters, digits") as caught:
        rules.check_sku(sku)
    assert caught.value.field == "sku"


@given(st.from_regex(r"[A-Za-z0-9_-]{1,100}", fullmatch=True))
def test_every_sku_of_the_pattern_is_accepted(sku: str) -> None:
    assert rules.check_sku(sku) == sku


# --- price, cost, tax ---------------------------------------------------------------------


def test_price_must_be_positive_cents_that_fit() -> None:
    assert rules.check_price_and_cost(Decimal("0.01"), Decimal("0")) == (
        Decimal("0.01"),
        Decimal("0.00"),
    )
    assert rules.check_price_and_cost(Decimal("9999999999.99"), Decimal("1"))[0] == Decimal(
        "9999999999.99"
    )
    for price, message in [
        (Decimal("0"), "more than 0"),
        (Decimal("-5"), "more than 0"),
        (Decimal("1.005"), "at most two decimals"),
        (Decimal("10000000000"), "too large"),
        (Decimal("NaN"), "must be a number"),
    ]:
        with pytest.raises(ValidationError, match=message) as caught:
            rules.check_price_and_cost(price, Decimal("0"))
        assert caught.value.field == "price"


def test_cost_from_zero_up_to_the_price() -> None:
    assert rules.check_price_and_cost(Decimal("10"), Decimal("10"))[1] == Decimal("10.00")
    assert rules.check_price_and_cost(Decimal("10"), Decimal("0"))[1] == Decimal("0.00")
    for cost, message in [
        (Decimal("10.01"), r"cost \(10.01\) cannot be higher than the price \(10.00\)"),
        (Decimal("-0.01"), "cannot be negative"),
        (Decimal("0.001"), "at most two decimals"),
    ]:
        with pytest.raises(ValidationError, match=message) as caught:
            rules.check_price_and_cost(Decimal("10"), cost)
        assert caught.value.field == "cost"


@given(
    price=st.decimals(min_value=-10, max_value=10**11, places=2),
    cost=st.decimals(min_value=-10, max_value=10**11, places=2),
)
def test_price_and_cost_are_accepted_exactly_when_the_rules_hold(
    price: Decimal, cost: Decimal
) -> None:
    fits = Decimal("0") < price <= Decimal("9999999999.99") and Decimal("0") <= cost <= price
    try:
        assert rules.check_price_and_cost(price, cost) == (price, cost)
    except ValidationError:
        assert not fits
    else:
        assert fits


def test_tax_rate_is_a_percentage_and_zero_when_not_taxable() -> None:
    assert rules.check_tax(True, Decimal("0")) == Decimal("0.00")
    assert rules.check_tax(True, Decimal("100")) == Decimal("100.00")
    assert rules.check_tax(True, Decimal("7.25")) == Decimal("7.25")
    assert rules.check_tax(False, Decimal("0")) == Decimal("0.00")
    for taxable, rate, message in [
        (True, Decimal("100.01"), "from 0 to 100"),
        (True, Decimal("-1"), "from 0 to 100"),
        (True, Decimal("7.125"), "at most two decimals"),
        (False, Decimal("7"), "not taxable has a tax rate of 0"),
    ]:
        with pytest.raises(ValidationError, match=message) as caught:
            rules.check_tax(taxable, rate)
        assert caught.value.field == "tax_rate"


# --- stock levels, digital products, measures ---------------------------------------------


def test_stock_levels() -> None:
    assert rules.check_stock_levels(5, 0) == (5, 0)  # max 0: no maximum
    assert rules.check_stock_levels(5, 5) == (5, 5)
    assert rules.check_stock_levels(0, 999_999_999) == (0, 999_999_999)
    for low, high, field, message in [
        (6, 5, "min_stock_level", r"minimum stock level \(6\) cannot be above the maximum \(5\)"),
        (-1, 0, "min_stock_level", "from 0 to 999,999,999"),
        (0, 1_000_000_000, "max_stock_level", "from 0 to 999,999,999"),
        (1_000_000_000, 0, "min_stock_level", "from 0 to 999,999,999"),
    ]:
        with pytest.raises(ValidationError, match=message) as caught:
            rules.check_stock_levels(low, high)
        assert caught.value.field == field


def digital(**changes: object) -> ProductDraft:
    terms: dict[str, object] = {
        "is_digital": True,
        "requires_shipping": False,
        "download_url": "https://example.com/a.zip",
    }
    return product(**(terms | changes))


def test_digital_products() -> None:
    checked = rules.check_product(digital(max_downloads=9_999, expiry_days=3_650))
    assert (checked.download_url, checked.max_downloads, checked.expiry_days) == (
        "https://example.com/a.zip",
        9_999,
        3_650,
    )
    for draft, field, message in [
        (digital(requires_shipping=True), "requires_shipping", "does not require shipping"),
        (digital(download_url=None), "download_url", "needs a download URL"),
        (digital(download_url="  "), "download_url", "needs a download URL"),
        (digital(download_url="example.com/a.zip"), "download_url", "web address"),
        (digital(download_url="ftp://example.com/a"), "download_url", "web address"),
        (digital(download_url="https://x.com/" + "a" * 1000), "download_url", "1,000"),
        (digital(max_downloads=10_000), "max_downloads", "0 to 9,999"),
        (digital(max_downloads=-1), "max_downloads", "0 to 9,999"),
        (digital(expiry_days=3_651), "expiry_days", "0 to 3,650 days"),
        (digital(expiry_days=-1), "expiry_days", "0 to 3,650 days"),
    ]:
        error = refused(draft)
        assert (error.field, message in error.message) == (field, True), error.message


def test_a_product_that_is_not_digital_keeps_no_download_terms() -> None:
    checked = rules.check_product(
        product(download_url="https://example.com/x", max_downloads=5, expiry_days=9)
    )
    assert (checked.download_url, checked.max_downloads, checked.expiry_days) == (None, 0, 0)
    assert checked.requires_shipping is True


def test_weights_and_sizes() -> None:
    checked = rules.check_product(
        product(weight=Decimal("1.5"), length=Decimal("999999.99"), volume=Decimal("0.001"))
    )
    assert (checked.weight, checked.length, checked.volume) == (
        Decimal("1.500"),
        Decimal("999999.99"),
        Decimal("0.001"),
    )
    for draft, field, message in [
        (product(weight=Decimal("-0.001")), "weight", "cannot be negative"),
        (product(weight=Decimal("0.0001")), "weight", "at most 3 decimals"),
        (product(weight=Decimal("10000000")), "weight", "too large"),
        (product(length=Decimal("1000000")), "length", "too large"),
        (product(width=Decimal("1.001")), "width", "at most 2 decimals"),
        (product(height=Decimal("-1")), "height", "cannot be negative"),
        (product(volume=Decimal("Infinity")), "volume", "must be a number"),
    ]:
        error = refused(draft)
        assert (error.field, message in error.message) == (field, True), error.message


def test_texts_are_trimmed_and_bounded() -> None:
    checked = rules.check_product(
        product(name="  Widget ", description="  ", short_description=" short ", barcode=" 12 ")
    )
    assert (checked.name, checked.description, checked.short_description, checked.barcode) == (
        "Widget",
        None,
        "short",
        "12",
    )
    for draft, field in [
        (product(name=""), "name"),
        (product(name="x" * 301), "name"),
        (product(short_description="x" * 501), "short_description"),
        (product(dimensions="x" * 101), "dimensions"),
        (product(barcode="x" * 51), "barcode"),
        (product(barcode="12\x0034"), "barcode"),
    ]:
        assert refused(draft).field == field


# --- categories ---------------------------------------------------------------------------


def test_category_names_and_paths() -> None:
    assert rules.check_category(CategoryDraft("  Phones ", description=" ")) == CategoryDraft(
        "Phones"
    )
    assert rules.category_path(None, "Electronics") == "/Electronics"
    assert rules.category_path("/Electronics/Phones", "Smartphones") == (
        "/Electronics/Phones/Smartphones"
    )
    assert (rules.category_level(None), rules.category_level(2)) == (1, 3)
    for name, message in [
        ("", "1 to 200"),
        ("x" * 201, "1 to 200"),
        ("In/Out", "cannot contain '/'"),
    ]:
        with pytest.raises(ValidationError, match=message) as caught:
            rules.check_category(CategoryDraft(name))
        assert caught.value.field == "name"
    with pytest.raises(ValidationError) as caught:
        rules.check_category(CategoryDraft("A", sort_order=2**31))
    assert caught.value.field == "sort_order"
    rules.check_path_length(1_000)
    with pytest.raises(ValidationError, match="1,001 characters long"):
        rules.check_path_length(1_001)


# --- variants -----------------------------------------------------------------------------


def variant(**changes: object) -> VariantDraft:
    draft = VariantDraft("V-1", "Red", Decimal("5"), attributes={"color": "red"})
    return replace(draft, **changes)  # type: ignore[arg-type]


def test_variants_follow_the_product_rules() -> None:
    checked = rules.check_variant(variant(sku=" V-1 ", cost=Decimal("5")))
    assert (checked.sku, checked.price, checked.cost) == ("V-1", Decimal("5.00"), Decimal("5.00"))
    for draft, field in [
        (variant(sku="V 1"), "sku"),
        (variant(name=" "), "name"),
        (variant(price=Decimal("0")), "price"),
        (variant(cost=Decimal("5.01")), "cost"),
        (variant(min_stock_level=2, max_stock_level=1), "min_stock_level"),
        (variant(weight=Decimal("-1")), "weight"),
    ]:
        with pytest.raises(ValidationError) as caught:
            rules.check_variant(draft)
        assert caught.value.field == field


def test_variant_attributes() -> None:
    checked = rules.check_attributes({" size ": " L ", "color": ""})
    assert dict(checked) == {"size": "L", "color": ""}
    with pytest.raises(TypeError):
        checked["size"] = "M"  # type: ignore[index]  # read-only, like the frozen draft
    for attributes, message in [
        ({"": "x"}, "1 to 50 characters"),
        ({"x" * 51: "x"}, "1 to 50 characters"),
        ({"Size": "L", "size ": "M"}, "'size' is given twice"),
        ({"size": "x" * 201}, "at most 200 characters"),
        ({f"a{i}": "x" for i in range(51)}, "at most 50 attributes"),
        ({"size": 3}, "must be text"),
    ]:
        with pytest.raises(ValidationError, match=message) as caught:
            rules.check_attributes(attributes)  # type: ignore[arg-type]
        assert caught.value.field == "attributes"
