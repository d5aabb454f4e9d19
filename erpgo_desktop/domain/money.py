"""Money is Decimal from the database to the screen, rounded half-up to cents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from erpgo_desktop.errors import ValidationError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
#: DECIMAL(12,2): ten digits before the point.
MAX_AMOUNT = Decimal("9999999999.99")


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_money(value: Decimal | int | str, field: str, *, label: str = "An amount") -> Decimal:
    """A money amount from user input: a number with at most two decimals that fits."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(f"{label} must be a number, such as 12.50.", field=field) from None
    if not amount.is_finite():
        raise ValidationError(f"{label} must be a number, such as 12.50.", field=field)
    if amount != amount.quantize(CENT):
        raise ValidationError(
            f"{label} has at most two decimals (cents): type {round_money(amount)} "
            f"({amount} rounded) or the amount you mean.",
            field=field,
        )
    if abs(amount) > MAX_AMOUNT:
        raise ValidationError(f"{label} is too large.", field=field)
    return amount.quantize(CENT)
