"""Rules of sales orders (business-rules.md, "Orders"): statuses, totals, shipping, input.

Pure functions over plain values, so the rules are tested without a database. The orders
service applies them inside its transactions, and the schema's checks (such as
check_total_calculation) refuse anything that slips past.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import Decimal

from erpgo_desktop.domain.money import MAX_AMOUNT, ZERO, parse_money, round_money
from erpgo_desktop.domain.validation import check_email, check_phone, clean_text
from erpgo_desktop.domain.wording import code_label, in_sentence
from erpgo_desktop.errors import ValidationError

# --- Statuses ----------------------------------------------------------------------------

DRAFT = "DRAFT"
PENDING = "PENDING"
CONFIRMED = "CONFIRMED"
PROCESSING = "PROCESSING"
SHIPPED = "SHIPPED"
DELIVERED = "DELIVERED"
CANCELLED = "CANCELLED"
REFUNDED = "REFUNDED"
RETURNED = "RETURNED"
ON_HOLD = "ON_HOLD"
PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"

STATUSES: tuple[str, ...] = (
    DRAFT, PENDING, CONFIRMED, PROCESSING, SHIPPED, DELIVERED,
    CANCELLED, REFUNDED, RETURNED, ON_HOLD, PARTIALLY_SHIPPED,
)  # fmt: skip

#: The currency of an order that names none, and of the shop's own figures (business-rules.md).
DEFAULT_CURRENCY = "USD"

#: The only status changes there are (business-rules.md's table); staying put is none.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    DRAFT: frozenset({PENDING, CANCELLED}),
    PENDING: frozenset({CONFIRMED, CANCELLED, ON_HOLD}),
    CONFIRMED: frozenset({PROCESSING, CANCELLED, ON_HOLD}),
    PROCESSING: frozenset({SHIPPED, PARTIALLY_SHIPPED, CANCELLED, ON_HOLD}),
    PARTIALLY_SHIPPED: frozenset({SHIPPED, PROCESSING, CANCELLED, ON_HOLD}),
    SHIPPED: frozenset({DELIVERED, RETURNED, ON_HOLD}),
    DELIVERED: frozenset({RETURNED, REFUNDED}),
    ON_HOLD: frozenset({PENDING, CONFIRMED, PROCESSING, CANCELLED}),
    CANCELLED: frozenset({REFUNDED}),
    RETURNED: frozenset({REFUNDED}),
    REFUNDED: frozenset(),
}

#: Lines can be added, changed or removed only in these statuses.
EDITABLE = frozenset({DRAFT, PENDING})
#: Statuses of an order whose stock is reserved and whose unpaid total is on the customer's
#: balance; an ON_HOLD order is confirmed when it was held after confirmation.
CONFIRMED_STATUSES = frozenset(
    {CONFIRMED, PROCESSING, PARTIALLY_SHIPPED, SHIPPED, DELIVERED, RETURNED}
)
#: Payments are taken in every status but these.
NO_PAYMENT_STATUSES = frozenset({DRAFT, CANCELLED, REFUNDED})
#: Money goes back only for orders that can become REFUNDED.
REFUND_STATUSES = frozenset(s for s, targets in TRANSITIONS.items() if REFUNDED in targets)


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def check_transition(current: str, target: str) -> None:
    """Refuse any status change the table does not list, naming both statuses."""
    if can_transition(current, target):
        return
    allowed = sorted(TRANSITIONS.get(current, frozenset()), key=STATUSES.index)
    here, there = code_label(current), code_label(target)
    if allowed:
        onward = f"From {here} it can go to {_either([code_label(s) for s in allowed])}."
    else:
        onward = f"{here} is final."
    raise ValidationError(f"An order cannot go from {here} to {there}. {onward}", field="status")


def is_confirmed(status: str, previous_status: str | None) -> bool:
    """Whether the order has been confirmed (and not cancelled since)."""
    if status == ON_HOLD:
        return previous_status is not None and previous_status != PENDING
    if status == REFUNDED:
        return previous_status in CONFIRMED_STATUSES
    return status in CONFIRMED_STATUSES


def resume_target(previous_status: str | None) -> str:
    """Where an ON_HOLD order goes when the hold is lifted: back where it was, or to
    PROCESSING when it was held while (partly) shipped, the table allowing no way back."""
    if previous_status in (PENDING, CONFIRMED, PROCESSING):
        return previous_status
    return PROCESSING


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


# --- Money -------------------------------------------------------------------------------

SHIPPING_METHODS: tuple[str, ...] = (
    "STANDARD", "EXPRESS", "OVERNIGHT", "INTERNATIONAL", "PICKUP", "DIGITAL",
)  # fmt: skip
#: What each shipping method costs, in cents (the demo data uses the same figures).
SHIPPING_CENTS: Mapping[str, int] = {
    "STANDARD": 599,
    "EXPRESS": 1_499,
    "OVERNIGHT": 2_999,
    "INTERNATIONAL": 3_999,
    "PICKUP": 0,
    "DIGITAL": 0,
}
#: STANDARD shipping is free from this subtotal (before discounts), in cents.
FREE_STANDARD_FROM_CENTS = 10_000
#: Orders whose total is over this, in cents, need a manager's approval before CONFIRMED.
APPROVAL_ABOVE_CENTS = 1_000_000

FREE_STANDARD_FROM = Decimal(FREE_STANDARD_FROM_CENTS).scaleb(-2)
APPROVAL_ABOVE = Decimal(APPROVAL_ABOVE_CENTS).scaleb(-2)
MIN_QUANTITY = 1
MAX_QUANTITY = 9_999
#: order_items.weight is DECIMAL(10,3).
MAX_WEIGHT = Decimal("9999999.999")


@dataclass(frozen=True)
class LineAmounts:
    """The money of one order line, as business-rules.md computes it."""

    total: Decimal  # quantity * unit price
    discount: Decimal  # for the whole line, 0 <= discount <= total
    tax: Decimal  # on (total - discount), rounded half-up to cents
    final: Decimal  # total + tax - discount


@dataclass(frozen=True)
class OrderAmounts:
    subtotal: Decimal
    discount: Decimal  # the lines' discounts plus the order's own
    tax: Decimal
    shipping: Decimal
    total: Decimal  # subtotal + tax + shipping - discount


def line_amounts(
    quantity: int,
    unit_price: Decimal,
    discount: Decimal,
    *,
    tax_rate: Decimal,
    taxable: bool,
    tax_exempt: bool,
) -> LineAmounts:
    """A line's totals; `quantity`, `unit_price` and `discount` already checked."""
    total = quantity * unit_price
    if total > MAX_AMOUNT:
        raise ValidationError(
            f"The line total {total:,} is too large; split the quantity over orders.",
            field="quantity",
        )
    if discount < ZERO or discount > total:
        raise ValidationError(
            f"A line discount is an amount from 0.00 to the line total ({total:,}).",
            field="discount",
        )
    tax = ZERO
    if taxable and not tax_exempt:
        tax = round_money((total - discount) * tax_rate / 100)
    return LineAmounts(total=total, discount=discount, tax=tax, final=total + tax - discount)


def shipping_amount(method: str, subtotal: Decimal) -> Decimal:
    check_shipping_method(method)
    if method == "STANDARD" and subtotal >= FREE_STANDARD_FROM:
        return ZERO
    return Decimal(SHIPPING_CENTS[method]).scaleb(-2)


def order_amounts(
    lines: Iterable[LineAmounts], shipping_method: str, order_discount: Decimal = ZERO
) -> OrderAmounts:
    """The order's totals from its lines, its shipping method and its own discount."""
    lines = list(lines)
    subtotal = sum((line.total for line in lines), ZERO)
    line_discounts = sum((line.discount for line in lines), ZERO)
    check_order_discount(order_discount, subtotal - line_discounts)
    tax = sum((line.tax for line in lines), ZERO)
    # An order without lines ships nothing (yet), so it costs nothing to ship.
    shipping = shipping_amount(shipping_method, subtotal) if lines else ZERO
    discount = line_discounts + order_discount
    total = subtotal + tax + shipping - discount
    if total > MAX_AMOUNT or subtotal > MAX_AMOUNT:
        raise ValidationError("The order total is too large; split it over orders.")
    return OrderAmounts(subtotal, discount, tax, shipping, total)


def needs_approval(total: Decimal) -> bool:
    return total > APPROVAL_ABOVE


def payment_status(total: Decimal, paid: Decimal, refunded: Decimal) -> str:
    """PENDING until something is paid, PARTIALLY_PAID, PAID once paid in full, REFUNDED
    once everything paid was given back (a partial refund leaves the status)."""
    if paid > ZERO and refunded == paid:
        return "REFUNDED"
    if paid == ZERO:
        return "PENDING"
    return "PAID" if paid >= total else "PARTIALLY_PAID"


# --- Input -------------------------------------------------------------------------------


def check_quantity(quantity: int, field: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ValidationError("A quantity is a whole number.", field=field)
    if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
        raise ValidationError(
            f"A line quantity is a whole number from {MIN_QUANTITY} to {MAX_QUANTITY:,}.",
            field=field,
        )
    return quantity


def check_unit_price(value: Decimal | int | str) -> Decimal:
    price = parse_money(value, "unit_price", label="A unit price")
    if price <= ZERO:
        raise ValidationError("A unit price must be more than 0.", field="unit_price")
    return price


def check_amount(value: Decimal | int | str, field: str, label: str) -> Decimal:
    """A positive amount of money, such as a payment."""
    amount = parse_money(value, field, label=label)
    if amount <= ZERO:
        raise ValidationError(f"{label} must be more than 0.", field=field)
    return amount


def check_discount(value: Decimal | int | str, field: str = "discount") -> Decimal:
    discount = parse_money(value, field, label="A discount")
    if discount < ZERO:
        raise ValidationError("A discount cannot be negative.", field=field)
    return discount


def check_order_discount(discount: Decimal, goods: Decimal) -> None:
    """The order's own discount: 0 up to the goods after the lines' discounts."""
    if discount < ZERO or discount > goods:
        raise ValidationError(
            f"The order discount ({discount:,}) is an amount from 0.00 to the goods total "
            f"after line discounts ({goods:,}).",
            field="order_discount",
        )


def check_shipping_method(method: str) -> str:
    if not isinstance(method, str) or method not in SHIPPING_METHODS:
        raise ValidationError(
            f"A shipping method is one of {', '.join(SHIPPING_METHODS)}.", field="shipping_method"
        )
    return method


PRIORITIES = ("LOW", "NORMAL", "HIGH", "URGENT", "CRITICAL")
CURRENCY = re.compile(r"[A-Z]{3}")


def check_priority(priority: str) -> str:
    if not isinstance(priority, str) or priority not in PRIORITIES:
        raise ValidationError(f"A priority is one of {', '.join(PRIORITIES)}.", field="priority")
    return priority


def check_currency(currency: str) -> str:
    if not isinstance(currency, str) or not CURRENCY.fullmatch(currency):
        raise ValidationError(
            "A currency is three upper-case letters (ISO 4217), such as USD.", field="currency"
        )
    return currency


TRACKING_NUMBER = re.compile(r"[A-Za-z0-9 -]{1,100}")
MAX_CARRIER = 50


def check_shipment(
    method: str, carrier: str | None, tracking_number: str | None
) -> tuple[str | None, str | None]:
    """Carrier and tracking number of a shipment, both required unless the goods are
    picked up or downloaded."""
    carrier = clean_text(carrier, "carrier", "A carrier's name")
    tracking = clean_text(tracking_number, "tracking_number", "A tracking number")
    needs_carrier = method not in ("PICKUP", "DIGITAL")
    if carrier is None and needs_carrier:
        raise ValidationError(
            f"Name the carrier of this {in_sentence(method)} shipment.", field="carrier"
        )
    if carrier is not None and len(carrier) > MAX_CARRIER:
        raise ValidationError(
            f"A carrier's name has at most {MAX_CARRIER} characters.", field="carrier"
        )
    if tracking is None and needs_carrier:
        raise ValidationError(
            f"Enter the tracking number of this {in_sentence(method)} shipment.",
            field="tracking_number",
        )
    if tracking is not None and not TRACKING_NUMBER.fullmatch(tracking):
        raise ValidationError(
            "A tracking number has up to 100 letters, digits, spaces and '-'.",
            field="tracking_number",
        )
    return carrier, tracking


@dataclass(frozen=True)
class Address:
    """A shipping or billing address as the order keeps it (order_addresses)."""

    first_name: str
    last_name: str
    address1: str
    city: str
    postal_code: str
    country: str
    company: str | None = None
    address2: str | None = None
    state: str | None = None
    phone: str | None = None
    email: str | None = None


_REQUIRED_ADDRESS = {
    "first_name": 100, "last_name": 100, "address1": 255, "city": 100,
    "postal_code": 20, "country": 100,
}  # fmt: skip
_OPTIONAL_ADDRESS = {"company": 200, "address2": 255, "state": 100}


def check_address(address: Address, kind: str) -> Address:
    """The address cleaned up; `kind` ('shipping' or 'billing') prefixes the error's field."""
    if not isinstance(address, Address):
        raise ValidationError(f"The {kind} address is missing.", field=f"{kind}_address")
    values: dict[str, str | None] = {
        item.name: clean_text(
            getattr(address, item.name), f"{kind}_address.{item.name}",
            f"The {kind} address's {item.name.replace('_', ' ')}",
        )
        for item in fields(Address)
    }  # fmt: skip
    required: dict[str, str] = {}
    for name, longest in _REQUIRED_ADDRESS.items():
        value = values[name]
        if value is None or len(value) > longest:
            label = "street address" if name == "address1" else name.replace("_", " ")
            raise ValidationError(
                f"The {kind} address needs a {label} of 1 to {longest} characters.",
                field=f"{kind}_address.{name}",
            )
        required[name] = value
    for name, longest in _OPTIONAL_ADDRESS.items():
        value = values[name]
        if value is not None and len(value) > longest:
            raise ValidationError(
                f"The {kind} address's {name} has at most {longest} characters.",
                field=f"{kind}_address.{name}",
            )
    phone = check_phone(values["phone"], field=f"{kind}_address.phone")
    email = values["email"]
    if email is not None:
        try:
            email = check_email(email)
        except ValidationError as exc:
            raise ValidationError(exc.message, field=f"{kind}_address.email") from None
    return Address(
        first_name=required["first_name"],
        last_name=required["last_name"],
        address1=required["address1"],
        city=required["city"],
        postal_code=required["postal_code"],
        country=required["country"],
        company=values["company"],
        address2=values["address2"],
        state=values["state"],
        phone=phone,
        email=email,
    )


@dataclass(frozen=True)
class OrderHeader:
    """Everything of an order a person edits besides its lines."""

    shipping_address: Address
    #: None: bill to the shipping address.
    billing_address: Address | None = None
    shipping_method: str = "STANDARD"
    priority: str = "NORMAL"
    #: The order's own discount, beside the lines' (checked against the goods on saving).
    order_discount: Decimal = ZERO
    required_date: datetime | None = None
    notes: str | None = None
    customer_notes: str | None = None
    internal_notes: str | None = None


def check_header(header: OrderHeader) -> OrderHeader:
    """The header cleaned up, or ValidationError naming the field that breaks a rule."""
    if not isinstance(header, OrderHeader):
        raise ValidationError("The order's details are missing.")
    if header.required_date is not None and not isinstance(header.required_date, datetime):
        raise ValidationError("The required date is a date.", field="required_date")
    shipping = check_address(header.shipping_address, "shipping")
    billing = check_address(header.billing_address or header.shipping_address, "billing")
    return replace(
        header,
        shipping_address=shipping,
        billing_address=billing,
        shipping_method=check_shipping_method(header.shipping_method),
        priority=check_priority(header.priority),
        order_discount=check_discount(header.order_discount, "order_discount"),
        notes=clean_text(header.notes, "notes", "The notes"),
        customer_notes=clean_text(header.customer_notes, "customer_notes", "The customer's notes"),
        internal_notes=clean_text(header.internal_notes, "internal_notes", "The internal notes"),
    )
