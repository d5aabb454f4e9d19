"""Text as people give it, and the formats of identifiers and contact details
(business-rules.md, "Identifiers and formats").

Every text a person types, pastes or imports goes through `text_input` (directly or
through the `check_*` functions here and in the other rules): it must be text, and text
PostgreSQL can store, so a NUL character is refused here, naming the field, instead of by
the driver as a DataError once the transaction is under way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import ValidationError

USERNAME = re.compile(r"[A-Za-z0-9_-]{3,50}")
# Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is not ours to judge.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MIN_PASSWORD_LENGTH = 8
#: PostgreSQL's text types cannot hold the NUL character at all.
NUL = "\x00"


def text_input(value: object, field: str | None, label: str = "This field") -> str:
    """`value` as stored text, blanks around it dropped: a `str` without NUL characters."""
    if not isinstance(value, str):
        raise ValidationError(f"{label} must be text.", field=field)
    if NUL in value:
        raise ValidationError(
            f"{label} contains a NUL character (\\0), which cannot be stored; remove it.",
            field=field,
        )
    return value.strip()


def optional_text_input(value: object, field: str | None, label: str = "This field") -> str:
    """`text_input` where nothing (None) is allowed: None becomes ""."""
    return "" if value is None else text_input(value, field, label)


#: The longest search the lists take, unless they say otherwise.
MAX_SEARCH_LENGTH = 255


def check_search(term: object, max_length: int = MAX_SEARCH_LENGTH, field: str = "search") -> str:
    """A search term as it is matched (surrounding blanks do not count): every search of
    every list, report and lookup comes in here, so a NUL character, a term that is not
    text, or one longer than `max_length` is refused before any query is built."""
    text = text_input(term, field, "A search")
    if len(text) > max_length:
        raise ValidationError(f"Search for at most {max_length:,} characters.", field=field)
    return text


def clean_text(
    value: object,
    field: str,
    label: str,
    max_length: int | None = None,
    *,
    required: bool = False,
) -> str | None:
    """A free text of at most `max_length` characters (None: a TEXT column, no limit),
    blanks around it dropped; None when empty (refused when `required`)."""
    text = optional_text_input(value, field, label)
    if required and not text:
        limit = f"1 to {max_length:,}" if max_length is not None else "at least 1"
        raise ValidationError(f"{label} has {limit} characters.", field=field)
    if max_length is not None and len(text) > max_length:
        raise ValidationError(f"{label} has at most {max_length:,} characters.", field=field)
    return text or None


def required_text(value: object, field: str, label: str, max_length: int) -> str:
    """A text that cannot be empty: 1 to `max_length` characters."""
    text = optional_text_input(value, field, label)
    if not text or len(text) > max_length:
        raise ValidationError(f"{label} has 1 to {max_length:,} characters.", field=field)
    return text


_WHOLE = re.compile(r"[+-]?[0-9]{1,30}")


def parse_whole_number(value: object, field: str | None, label: str) -> int:
    """A whole number from a spin box (int), a text field (str, thousands separated by
    commas or not) or a Decimal without fractions; anything else is refused, in any
    notation (1e3, 1.5, NaN, None)."""
    if isinstance(value, bool):  # True is an int to Python, not a number to a person
        raise ValidationError(f"{label} must be a whole number.", field=field)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if _WHOLE.fullmatch(text):
            return int(text)
    raise ValidationError(f"{label} must be a whole number.", field=field)


def check_whole_number(
    value: object, field: str | None, label: str, minimum: int, maximum: int
) -> int:
    """`parse_whole_number`, from `minimum` to `maximum` (the column's range, or the rule's)."""
    number = parse_whole_number(value, field, label)
    if not minimum <= number <= maximum:
        raise ValidationError(
            f"{label} is a whole number from {minimum:,} to {maximum:,}.", field=field
        )
    return number


def check_username(username: str) -> str:
    username = text_input(username, "username", "A username")
    if not USERNAME.fullmatch(username):
        raise ValidationError(
            "A username has 3 to 50 letters, digits, '_' or '-'.", field="username"
        )
    return username


def check_email(email: str) -> str:
    email = text_input(email, "email", "An email address")
    if len(email) > 255 or not EMAIL.fullmatch(email):
        raise ValidationError(
            "Enter a valid email address, such as name@example.com.", field="email"
        )
    return email


def check_password(password: str, field: str = "password") -> str:
    # Not stripped: blanks are part of a password. A NUL could not be hashed the same way
    # by PostgreSQL's crypt() as it is typed.
    if not isinstance(password, str) or NUL in password:
        raise ValidationError("A password is text without NUL characters.", field=field)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", field=field
        )
    return password


def check_person_name(value: str, field: str) -> str:
    value = text_input(value, field, "A name")
    if not value or len(value) > 100:
        raise ValidationError("Enter a name of 1 to 100 characters.", field=field)
    return value


# Optional "+", then 7 to 20 digits, spaces, "-" or parentheses (business-rules.md); the
# columns hold 20 characters, so the "+" counts against them.
PHONE = re.compile(r"\+?[0-9 ()-]{7,20}")
MAX_PHONE_LENGTH = 20


def check_phone(phone: str | None, field: str = "phone") -> str | None:
    """A phone number as stored: blanks around it dropped, None when empty."""
    phone = optional_text_input(phone, field, "A phone number")
    if not phone:
        return None
    if (
        len(phone) > MAX_PHONE_LENGTH
        or not PHONE.fullmatch(phone)
        or sum(c.isdigit() for c in phone) < 7
    ):
        raise ValidationError(
            "A phone number has an optional '+', then 7 to 20 digits, spaces, '-' or "
            f"parentheses, at most {MAX_PHONE_LENGTH} characters in all.",
            field=field,
        )
    return phone


def check_optional_name(value: str, field: str) -> str:
    value = optional_text_input(value, field, "A name")
    if len(value) > 100:
        raise ValidationError("A name has at most 100 characters.", field=field)
    return value


def check_text(value: str, field: str, max_length: int) -> str:
    """Free text such as a description or a note: blanks around it dropped."""
    value = optional_text_input(value, field, "This text")
    if len(value) > max_length:
        raise ValidationError(f"At most {max_length:,} characters, please.", field=field)
    return value


ROLE_NAME = re.compile(r"[A-Za-z0-9_-]{2,50}")


def check_role_name(name: str) -> str:
    name = text_input(name, "name", "A role name")
    if not ROLE_NAME.fullmatch(name):
        raise ValidationError("A role name has 2 to 50 letters, digits, '_' or '-'.", field="name")
    return name


def check_permissions(permissions: Iterable[str]) -> tuple[str, ...]:
    """The permissions a role grants, each known, once each, in the order of
    `EVERY_PERMISSION` ('*', everything, first)."""
    if isinstance(permissions, str):  # one name, not a list of them
        permissions = [permissions]
    try:
        given = set(permissions)
    except TypeError:  # not a collection, or one of things that cannot be compared
        raise ValidationError("Permissions are a list of names.", field="permissions") from None
    if not all(isinstance(p, str) for p in given):
        raise ValidationError("Permissions are a list of names.", field="permissions")
    unknown = sorted(given - set(perms.EVERY_PERMISSION) - {perms.ALL})
    if unknown:
        raise ValidationError(
            f"Unknown permission{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.",
            field="permissions",
        )
    return tuple(p for p in (perms.ALL, *perms.EVERY_PERMISSION) if p in given)
