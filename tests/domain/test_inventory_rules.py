"""The stock and warehouse rules on their own, without a database."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erpgo_desktop.domain import inventory as rules
from erpgo_desktop.domain.inventory import (
    LineNeed,
    StockItem,
    WarehouseDraft,
    WarehouseRef,
    reservation_options,
)
from erpgo_desktop.errors import ValidationError


def refused(call: object, *args: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        call(*args)  # type: ignore[operator]
    return info.value


# -- quantities ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "whole"),
    [(5, 5), ("  12 ", 12), ("+3", 3), ("-3", -3), ("1,000", 1000), (Decimal("7"), 7)],
)
def test_whole_numbers_are_read(given_value: int | str | Decimal, whole: int) -> None:
    assert rules.parse_whole(given_value, "quantity", "It") == whole


@pytest.mark.parametrize(
    "bad", ["", "1.5", "1e3", "ten", Decimal("1.5"), Decimal("NaN"), True, 2.0, None]
)
def test_other_values_are_not_whole_numbers(bad: object) -> None:
    error = refused(rules.parse_whole, bad, "quantity", "It")
    assert (error.message, error.field) == ("It must be a whole number.", "quantity")


@pytest.mark.parametrize("ok", [1, 999_999_999])
def test_receive_quantity_allowed(ok: int) -> None:
    assert rules.check_receive_quantity(ok) == ok
    assert rules.check_transfer_quantity(ok) == ok


@pytest.mark.parametrize("bad", [0, -1, 1_000_000_000])
def test_receive_and_transfer_quantity_refused(bad: int) -> None:
    assert refused(rules.check_receive_quantity, bad).message == (
        "The quantity received must be from 1 to 999,999,999."
    )
    assert refused(rules.check_transfer_quantity, bad).message == (
        "The quantity to transfer must be from 1 to 999,999,999."
    )


def test_adjust_delta() -> None:
    assert rules.check_adjust_delta(-999_999_999) == -999_999_999
    assert rules.check_adjust_delta("+1") == 1
    assert refused(rules.check_adjust_delta, 0).message == (
        "An adjustment adds or takes away at least one unit; 0 changes nothing."
    )
    assert refused(rules.check_adjust_delta, -1_000_000_000).message == (
        "An adjustment changes stock by at most 999,999,999 units."
    )


def test_counted_quantity() -> None:
    assert rules.check_counted_quantity(0) == 0
    assert rules.check_counted_quantity(999_999_999) == 999_999_999
    for bad in (-1, 1_000_000_000):
        assert refused(rules.check_counted_quantity, bad).message == (
            "The counted quantity must be from 0 to 999,999,999."
        )
    rules.check_count_covers_reserved(4, 4, "DRILL-1", "MAIN")
    error = refused(rules.check_count_covers_reserved, 3, 4, "DRILL-1", "MAIN")
    assert error.message == (
        "3 counted of DRILL-1 in MAIN is less than the 4 reserved for confirmed orders; "
        "cancel or reassign those orders first."
    )


def test_reasons_and_notes() -> None:
    assert rules.check_reason("  broken  ") == "broken"
    for blank in (None, "", " \t "):
        error = refused(rules.check_reason, blank)
        assert error.field == "reason" and error.message.startswith("Say why")
    assert refused(rules.check_reason, "x" * 1001).message == (
        "A reason has at most 1,000 characters."
    )
    assert rules.check_reason("x" * 1000) == "x" * 1000
    assert rules.check_note("  ") is None
    assert rules.check_note(" PO 1 ") == "PO 1"
    assert refused(rules.check_note, "x" * 1001).field == "note"
    assert rules.count_reason(None) == "count"
    assert rules.count_reason("aisle 4") == "count: aisle 4"
    assert rules.transfer_reasons("MAIN", "EAST", None) == (
        "transfer to EAST",
        "transfer from MAIN",
    )
    assert rules.transfer_reasons("MAIN", "EAST", "rush") == (
        "transfer to EAST: rush",
        "transfer from MAIN: rush",
    )


def test_transfer_needs_two_warehouses() -> None:
    one, other = uuid.uuid4(), uuid.uuid4()
    rules.check_transfer_warehouses(one, other)
    error = refused(rules.check_transfer_warehouses, one, one)
    assert (error.field, error.message) == (
        "destination_warehouse",
        "A transfer needs two different warehouses.",
    )


def test_what_may_hold_stock() -> None:
    rules.check_stocked_item("A", True, True, variant=False)
    error = refused(lambda: rules.check_stocked_item("A", False, True, variant=False))
    assert (error.field, error.message) == (
        "product",
        "Product A is inactive; its stock cannot change.",
    )
    error = refused(lambda: rules.check_stocked_item("A-1", True, False, variant=True))
    assert (error.field, error.message) == (
        "variant",
        "Variant A-1 does not track inventory, so it has no stock to change.",
    )
    rules.check_warehouse_active("MAIN", True)
    error = refused(rules.check_warehouse_active, "MAIN", False, "source_warehouse")
    assert (error.field, error.message) == (
        "source_warehouse",
        "Warehouse MAIN is inactive; reactivate it first.",
    )


# -- reorder levels ------------------------------------------------------------------


def test_reorder_settings() -> None:
    assert rules.check_reorder_settings(0, None) == (0, None)
    assert rules.check_reorder_settings("5", "") == (5, None)
    assert rules.check_reorder_settings(5, 0) == (5, None)
    assert rules.check_reorder_settings(5, 6) == (5, 6)
    cases = [
        (-1, None, "reorder_level", "The reorder level must be from 0 to 999,999,999."),
        (1_000_000_000, None, "reorder_level", "The reorder level must be from 0 to 999,999,999."),
        (0, -1, "max_stock", "The maximum stock must be from 0 (none) to 999,999,999."),
        (6, 6, "max_stock", "The maximum stock (6) must be above the reorder level (6)."),
        (7, 6, "max_stock", "The maximum stock (6) must be above the reorder level (7)."),
    ]
    for level, maximum, field, message in cases:
        error = refused(rules.check_reorder_settings, level, maximum)
        assert (error.field, error.message) == (field, message)


def test_which_levels_apply() -> None:
    assert rules.effective_reorder_level(5, 20) == 5
    assert rules.effective_reorder_level(0, 20) == 20
    assert rules.effective_reorder_level(0, 0) == 0
    assert rules.effective_maximum(50, 100) == 50
    assert rules.effective_maximum(None, 100) == 100
    assert rules.effective_maximum(0, 100) == 100
    assert rules.effective_maximum(None, 0) is None


@pytest.mark.parametrize(
    ("sellable", "level", "maximum", "quantity"),
    [
        (9, 10, 40, 31),  # up to the maximum
        (0, 10, 40, 40),
        (10, 10, None, 1),  # no maximum: just above the reorder level
        (2, 5, None, 4),
        (0, 0, None, 1),  # out of stock, no levels at all
        (3, 10, 10, 8),  # a maximum at the level is no maximum to order up to
        (3, 10, 6, 8),  # nor one below it (a row's level mixed with a product's maximum)
        (50, 10, 40, 0),  # not low: nothing to order
    ],
)
def test_reorder_quantity(sellable: int, level: int, maximum: int | None, quantity: int) -> None:
    assert rules.reorder_quantity(sellable, level, maximum) == quantity


@given(
    sellable=st.integers(0, 10_000),
    level=st.integers(0, 10_000),
    maximum=st.none() | st.integers(1, 20_000),
)
def test_ordering_the_reorder_quantity_ends_low_stock(
    sellable: int, level: int, maximum: int | None
) -> None:
    quantity = rules.reorder_quantity(sellable, level, maximum)
    assert quantity >= 0
    if rules.is_low_stock(sellable, level):
        assert quantity >= 1
        assert not rules.is_low_stock(sellable + quantity, level)
        if maximum is not None and maximum > level:
            assert sellable + quantity == maximum


# -- warehouses ----------------------------------------------------------------------


DRAFT = WarehouseDraft(code="wh-02", name=" East ", phone=" ", email="", city=" Leeds ")


def test_warehouse_draft_is_cleaned() -> None:
    clean = rules.check_warehouse(DRAFT)
    assert (clean.code, clean.name, clean.phone, clean.email, clean.city) == (
        "WH-02",
        "East",
        None,
        None,
        "Leeds",
    )
    assert rules.check_warehouse_code("A_1-B") == "A_1-B"
    assert rules.check_warehouse_code("x" * 20) == "X" * 20


@pytest.mark.parametrize("code", ["", "WH 2", "WH.2", "X" * 21, "ÄRA", "WH/2"])
def test_warehouse_codes_refused(code: str) -> None:
    error = refused(rules.check_warehouse_code, code)
    assert error.field == "code" and error.message.startswith("A warehouse code has 1 to 20")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"address": "a" * 1001}, "address"),
        ({"state": "s" * 101}, "state"),
        ({"country": "c" * 101}, "country"),
        ({"postal_code": "p" * 21}, "postal_code"),
        ({"phone": "+1 555"}, "phone"),
        ({"phone": "+" + "1" * 20}, "phone"),
        ({"email": "not an email"}, "email"),
    ],
)
def test_warehouse_fields_refused(change: dict[str, str], field: str) -> None:
    assert refused(rules.check_warehouse, replace(DRAFT, **change)).field == field


# -- where an order can be reserved from ---------------------------------------------------


def _place(code: str) -> WarehouseRef:
    return WarehouseRef(uuid.uuid4(), code, code)


def _need(item: StockItem, quantity: int, *, backorder: bool = False) -> LineNeed:
    return LineNeed(uuid.uuid4(), item, "SKU", "Thing", quantity, backorder)


def test_one_line_is_split_over_two_warehouses_when_neither_has_it_all() -> None:
    east, main = _place("EAST"), _place("MAIN")
    item: StockItem = (uuid.uuid4(), None)
    need = _need(item, 7)
    options = reservation_options((east, main), (need,), {item: {east.id: 3, main.id: 5}})
    assert options.whole == () and options.short_everywhere == ()
    # The warehouse with more gives first, so as few as possible take part.
    assert options.split == {need.line_id: ((main.id, 5), (east.id, 2))}


def test_two_lines_of_one_item_count_together() -> None:
    east, main = _place("EAST"), _place("MAIN")
    item: StockItem = (uuid.uuid4(), None)
    first, second = _need(item, 3), _need(item, 3)
    options = reservation_options((east, main), (first, second), {item: {east.id: 5, main.id: 6}})
    assert options.whole == (main.id,)
    assert options.short_in(east.id) == (first, second)


def test_backordered_lines_never_make_a_warehouse_short_of_the_order() -> None:
    east, main = _place("EAST"), _place("MAIN")
    firm, waits = (uuid.uuid4(), None), (uuid.uuid4(), None)
    options = reservation_options(
        (east, main),
        (_need(firm, 2), _need(waits, 9, backorder=True)),
        {firm: {main.id: 2}, waits: {east.id: 1}},
    )
    assert options.whole == (main.id,)
    assert options.short_everywhere == ()
