"""Money is Decimal from the database to the screen, rounded half-up to cents.

Every decimal a person enters (an amount, a weight, a size, a rate) is read by
`parse_decimal`, which refuses what the column's NUMERIC(digits, places) cannot hold in
any notation: too many decimals, too large (1e27, 1e300), not a number (NaN, Infinity),
not a number at all (None, a list). It looks at the number's magnitude before rounding
it, since rounding 1e300 to cents is an InvalidOperation of its own.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from erpgo_desktop.errors import ValidationError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
#: DECIMAL(12,2): ten digits before the point.
MAX_AMOUNT = Decimal("9999999999.99")
#: Longer than any number a column here holds, written out with every zero.
_LONGEST_NUMBER_TEXT = 100


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


#: 10**-places for the places a column may have: built once, not on every number read (an
#: import reads hundreds of thousands).
_STEPS = {places: Decimal(1).scaleb(-places) for places in range(16)}


def _not_a_number(field: str, label: str, example: str) -> ValidationError:
    return ValidationError(f"{label} must be a number, such as {example}.", field=field)


def parse_decimal(
    value: object,
    field: str,
    label: str,
    *,
    digits: int,
    places: int,
    example: str = "12.50",
    decimals: str | None = None,
    meaning: str = "figure",
) -> Decimal:
    """A number that NUMERIC(digits, places) holds exactly, from a Decimal, an int or the
    text of one (blanks around it dropped), quantized to `places` decimals. `decimals`
    words the limit of decimals in the refusal ("two decimals (cents)")."""
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, str) and "\x00" not in value and len(value) <= _LONGEST_NUMBER_TEXT:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise _not_a_number(field, label, example) from None
    else:
        raise _not_a_number(field, label, example)
    if not number.is_finite():
        raise _not_a_number(field, label, example)
    # adjusted(): the power of ten of the leading digit, whatever the notation.
    if not number.is_zero() and number.adjusted() >= digits - places:
        raise ValidationError(f"{label} is too large.", field=field)
    step = _STEPS.get(places) or Decimal(1).scaleb(-places)
    rounded = number.quantize(step, rounding=ROUND_HALF_UP)  # at most `digits` digits now
    if rounded != number:
        # More decimals than kept is usually a slip: rounding quietly would change the
        # figure, so the person is shown the rounded one to type.
        wording = decimals or f"{places} decimals"
        raise ValidationError(
            f"{label} has at most {wording}: type {rounded:f} ({number:f} rounded) or the "
            f"{meaning} you mean.",
            field=field,
        )
    return rounded


def parse_money(value: Decimal | int | str, field: str, *, label: str = "An amount") -> Decimal:
    """A money amount from user input: a number with at most two decimals that fits
    DECIMAL(12,2)."""
    return parse_decimal(
        value, field, label, digits=12, places=2, decimals="two decimals (cents)", meaning="amount"
    )
