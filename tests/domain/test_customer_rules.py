"""Customer rules as pure functions: no database, no Qt."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erpgo_desktop.domain import customers as rules
from erpgo_desktop.domain.customers import CustomerDraft
from erpgo_desktop.errors import ValidationError


def customer(**changes: object) -> CustomerDraft:
    draft = CustomerDraft("Ann", "Archer", "ann@example.com")
    return replace(draft, **changes)  # type: ignore[arg-type]


def refused(draft: CustomerDraft) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        rules.check_customer(draft)
    return caught.value


@pytest.mark.parametrize(
    "phone",
    ["5550100", "+1 (555) 010-0199", "+49 30 1234567", "(030) 123-45-67", "1" * 20, "+" + "1" * 19],
)
def test_phone_numbers_of_the_format_are_accepted(phone: str) -> None:
    assert rules.check_phone(phone) == phone
    assert rules.check_phone(f" {phone} ") == phone


@pytest.mark.parametrize(
    "phone",
    [
        "555010",  # six characters
        "1" * 21,  # 21 characters
        "+" + "1" * 20,  # 21 with the '+': more than customers.phone holds
        "++5550100",
        "555 0100 x12",
        "5550100+",
        "phone 5550100",
    ],
)
def test_other_phone_numbers_are_refused(phone: str) -> None:
    with pytest.raises(ValidationError, match="optional '\\+', then 7 to 20") as caught:
        rules.check_phone(phone)
    assert caught.value.field == "phone"


def test_no_phone_is_none() -> None:
    assert rules.check_phone(None) is None
    assert rules.check_phone("   ") is None


@given(st.from_regex(r"\+?[0-9 ()-]{7,19}", fullmatch=True))
def test_every_phone_of_the_pattern_that_fits_is_accepted(phone: str) -> None:
    # Seven of the characters must be digits: "(((----" is not a phone number.
    if phone.strip() == phone and sum(c.isdigit() for c in phone) >= 7:
        assert rules.check_phone(phone) == phone


def test_a_customer_is_cleaned_up() -> None:
    checked = rules.check_customer(
        customer(
            first_name=" Ann ",
            email=" ann@example.com ",
            company="  ",
            type="individual",
            status=" suspended ",
            credit_limit=Decimal("250"),
            notes="  ",
        )
    )
    assert checked == customer(status="SUSPENDED", credit_limit=Decimal("250.00"))
    assert checked.credit_limit.as_tuple().exponent == -2


def test_type_status_and_company() -> None:
    business = rules.check_customer(customer(type="Business", company=" Archer Ltd "))
    assert (business.type, business.company) == ("BUSINESS", "Archer Ltd")
    for draft, field, message in [
        (customer(type="BUSINESS"), "company", "needs a company name"),
        (customer(type="BUSINESS", company=" "), "company", "needs a company name"),
        (customer(company="x" * 201), "company", "at most 200"),
        (customer(type="PARTNER"), "type", "individual or a business"),
        (customer(status="DELETED"), "status", "active, inactive or suspended"),
    ]:
        error = refused(draft)
        assert (error.field, message in error.message) == (field, True), error.message
    for status in rules.CUSTOMER_STATUSES:
        assert rules.check_customer(customer(status=status.lower())).status == status


def test_names_and_email() -> None:
    for draft, field in [
        (customer(first_name=""), "first_name"),
        (customer(last_name="x" * 101), "last_name"),
        (customer(email="ann"), "email"),
        (customer(email="ann@example"), "email"),
        (customer(email="a b@example.com"), "email"),
    ]:
        assert refused(draft).field == field


def test_credit_limit() -> None:
    assert rules.check_credit_limit(Decimal("0")) == Decimal("0.00")  # no limit
    assert rules.check_credit_limit(Decimal("9999999999.99")) == Decimal("9999999999.99")
    for limit, message in [
        (Decimal("-0.01"), "cannot be negative"),
        (Decimal("1.001"), "two decimals"),
        (Decimal("10000000000"), "too large"),
    ]:
        with pytest.raises(ValidationError, match=message) as caught:
            rules.check_credit_limit(limit)
        assert caught.value.field == "credit_limit"
