"""The one text check and the one number parser every rule reads input with."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erpgo_desktop.domain.money import parse_decimal, parse_money
from erpgo_desktop.domain.validation import (
    check_search,
    clean_text,
    parse_whole_number,
    text_input,
)
from erpgo_desktop.errors import ValidationError


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e27", "too large"),
        ("1E300", "too large"),
        (Decimal("-1e300"), "too large"),
        (Decimal("1e-300"), "at most two decimals"),
        ("NaN", "must be a number"),
        (Decimal("sNaN"), "must be a number"),
        ("-Infinity", "must be a number"),
        (None, "must be a number"),
        (1.5, "must be a number"),
        (True, "must be a number"),
        ("12\x00", "must be a number"),
        ("9" * 101, "must be a number"),
    ],
)
def test_money_in_any_notation_is_refused_in_words(value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        parse_money(value, "price", label="The price")  # type: ignore[arg-type]
    assert refused.value.field == "price"


def test_exponent_notation_that_fits_is_a_number() -> None:
    assert parse_money("1.25e2", "price") == Decimal("125.00")
    assert parse_decimal("5e-3", "weight", "The weight", digits=10, places=3) == Decimal("0.005")


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_any_decimal_is_a_value_or_a_validation_error(value: Decimal) -> None:
    try:
        amount = parse_decimal(value, "length", "The length", digits=8, places=2)
    except ValidationError:
        return
    assert abs(amount) < 10**6 and amount == value


@pytest.mark.parametrize("value", ["a\x00b", None, 42, b"bytes"])
def test_text_is_text_without_nul(value: object) -> None:
    with pytest.raises(ValidationError) as refused:
        text_input(value, "name", "A name")
    assert refused.value.field == "name"


def test_text_rules_clean_and_refuse() -> None:
    assert clean_text("  x  ", "notes", "The notes") == "x"
    assert clean_text(None, "notes", "The notes") is None
    with pytest.raises(ValidationError, match="NUL"):
        clean_text("\x00", "notes", "The notes")
    with pytest.raises(ValidationError, match="NUL"):
        check_search("ab\x00")
    with pytest.raises(ValidationError, match="must be text"):
        check_search(None)


@pytest.mark.parametrize("value", ["1e3", "1.5", Decimal("NaN"), None, 2.0, "1" * 31, True])
def test_whole_numbers_only(value: object) -> None:
    with pytest.raises(ValidationError, match="whole number"):
        parse_whole_number(value, "quantity", "The quantity")
