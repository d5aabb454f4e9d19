"""Formats of identifiers and contact details (business-rules.md, "Identifiers and formats")."""

from __future__ import annotations

import re
from collections.abc import Iterable

from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import ValidationError

USERNAME = re.compile(r"[A-Za-z0-9_-]{3,50}")
# Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is not ours to judge.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MIN_PASSWORD_LENGTH = 8


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        raise ValidationError(
            "A username has 3 to 50 letters, digits, '_' or '-'.", field="username"
        )
    return username


def check_email(email: str) -> str:
    email = email.strip()
    if len(email) > 255 or not EMAIL.fullmatch(email):
        raise ValidationError(
            "Enter a valid email address, such as name@example.com.", field="email"
        )
    return email


def check_password(password: str, field: str = "password") -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", field=field
        )
    return password


def check_person_name(value: str, field: str) -> str:
    value = value.strip()
    if not value or len(value) > 100:
        raise ValidationError("Enter a name of 1 to 100 characters.", field=field)
    return value


# Optional "+", then 7 to 20 digits, spaces, "-" or parentheses (business-rules.md); the
# columns hold 20 characters, so the "+" counts against them.
PHONE = re.compile(r"\+?[0-9 ()-]{7,20}")
MAX_PHONE_LENGTH = 20


def check_phone(phone: str | None, field: str = "phone") -> str | None:
    """A phone number as stored: blanks around it dropped, None when empty."""
    phone = (phone or "").strip()
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
    value = value.strip()
    if len(value) > 100:
        raise ValidationError("A name has at most 100 characters.", field=field)
    return value


def check_text(value: str, field: str, max_length: int) -> str:
    """Free text such as a description or a note: blanks around it dropped."""
    value = value.strip()
    if len(value) > max_length:
        raise ValidationError(f"At most {max_length:,} characters, please.", field=field)
    return value


ROLE_NAME = re.compile(r"[A-Za-z0-9_-]{2,50}")


def check_role_name(name: str) -> str:
    name = name.strip()
    if not ROLE_NAME.fullmatch(name):
        raise ValidationError("A role name has 2 to 50 letters, digits, '_' or '-'.", field="name")
    return name


def check_permissions(permissions: Iterable[str]) -> tuple[str, ...]:
    """The permissions a role grants, each known, once each, in the order of
    `EVERY_PERMISSION` ('*', everything, first)."""
    if isinstance(permissions, str):  # one name, not a list of them
        permissions = [permissions]
    given = set(permissions)
    unknown = sorted(given - set(perms.EVERY_PERMISSION) - {perms.ALL})
    if unknown:
        raise ValidationError(
            f"Unknown permission{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.",
            field="permissions",
        )
    return tuple(p for p in (perms.ALL, *perms.EVERY_PERMISSION) if p in given)
