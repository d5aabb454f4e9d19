"""Rules of customer records (business-rules.md): contact details, type, status, credit.

The customer code is not entered: the database issues it (next_customer_code()). The
balance is not entered either: the orders service moves it as orders are confirmed, paid
and cancelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal

from erpgo_desktop.domain.money import parse_money
from erpgo_desktop.domain.orders import Address, check_address
from erpgo_desktop.domain.validation import (
    check_email,
    check_person_name,
    check_phone,
    clean_text,
    text_input,
)
from erpgo_desktop.errors import ValidationError

CUSTOMER_TYPES = ("INDIVIDUAL", "BUSINESS")
CUSTOMER_STATUSES = ("ACTIVE", "INACTIVE", "SUSPENDED")
CUSTOMER_CODE = re.compile(r"CUST-[0-9]{6}")


@dataclass(frozen=True)
class CustomerDraft:
    """Every field of a customer a person edits."""

    first_name: str
    last_name: str
    email: str
    company: str | None = None
    phone: str | None = None
    type: str = "INDIVIDUAL"
    status: str = "ACTIVE"
    credit_limit: Decimal = Decimal("0.00")
    tax_exempt: bool = False
    notes: str | None = None


def check_customer(draft: CustomerDraft) -> CustomerDraft:
    """The draft cleaned up, or ValidationError naming the first field that breaks a rule."""
    customer_type = check_customer_type(draft.type)
    company = clean_text(draft.company, "company", "A company name", 200)
    if customer_type == "BUSINESS" and company is None:
        raise ValidationError("A business customer needs a company name.", field="company")
    return replace(
        draft,
        first_name=check_person_name(draft.first_name, "first_name"),
        last_name=check_person_name(draft.last_name, "last_name"),
        email=check_email(draft.email),
        company=company,
        phone=check_phone(draft.phone),
        type=customer_type,
        status=check_customer_status(draft.status),
        credit_limit=check_credit_limit(draft.credit_limit),
        notes=clean_text(draft.notes, "notes", "The notes"),
    )


@dataclass(frozen=True)
class CustomerAddresses:
    """Where a customer is billed and where their goods go; a new order starts from them.

    No billing address: none kept. No shipping address: ship to the billing address."""

    billing: Address | None = None
    shipping: Address | None = None

    @property
    def for_order(self) -> tuple[Address, Address] | None:
        """(ship to, bill to) for a new order, or None when the customer has no address."""
        billing = self.billing or self.shipping
        if billing is None:
            return None
        return self.shipping or billing, billing


def check_customer_addresses(
    addresses: CustomerAddresses, customer: CustomerDraft
) -> CustomerAddresses:
    """The addresses cleaned up, or ValidationError naming the field (billing_address.city).

    An address names the customer unless it says otherwise: its empty name fields take the
    customer's (so an order addressed from it never lacks them)."""

    def checked(address: Address | None, kind: str) -> Address | None:
        if address is None:
            return None
        named = replace(
            address,
            first_name=(address.first_name or "").strip() or customer.first_name,
            last_name=(address.last_name or "").strip() or customer.last_name,
        )
        return check_address(named, kind)

    billing = checked(addresses.billing, "billing")
    shipping = checked(addresses.shipping, "shipping")
    if shipping is not None and shipping == billing:
        shipping = None  # the same place: kept once, and both follow when it changes
    return CustomerAddresses(billing=billing, shipping=shipping)


def check_customer_type(customer_type: str) -> str:
    value = text_input(customer_type, "type", "A customer type").upper()
    if value not in CUSTOMER_TYPES:
        raise ValidationError("A customer is an individual or a business.", field="type")
    return value


def check_customer_status(status: str) -> str:
    value = text_input(status, "status", "A status").upper()
    if value not in CUSTOMER_STATUSES:
        raise ValidationError(
            "A customer's status is active, inactive or suspended.", field="status"
        )
    return value


def check_credit_limit(credit_limit: Decimal) -> Decimal:
    """0 (no limit) or more, in cents, fitting DECIMAL(12,2)."""
    amount = parse_money(credit_limit, "credit_limit", label="The credit limit")
    if amount < 0:
        raise ValidationError(
            "The credit limit cannot be negative (0: no limit).", field="credit_limit"
        )
    return amount
