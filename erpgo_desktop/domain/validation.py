"""Formats of identifiers and contact details (business-rules.md, "Identifiers and formats")."""

from __future__ import annotations

import re

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


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    return password


def check_person_name(value: str, field: str) -> str:
    value = value.strip()
    if not value or len(value) > 100:
        raise ValidationError("Enter a name of 1 to 100 characters.", field=field)
    return value
