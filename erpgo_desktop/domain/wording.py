"""One wording per thing: how stored codes read wherever a person sees them."""

from __future__ import annotations


def code_label(code: str) -> str:
    """A stored code in words: PARTIALLY_SHIPPED → "Partially shipped", PENDING → "Pending"."""
    return code.replace("_", " ").capitalize()
