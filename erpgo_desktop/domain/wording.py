"""One wording per thing: how stored codes read wherever a person sees them, and how a
status looks at a glance (its tone: the lists draw it as a coloured badge, the words
always inside it, so nothing depends on telling colours apart)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Tone = Literal["good", "warning", "bad", "info", "neutral"]


def code_label(code: str) -> str:
    """A stored code in words: PARTIALLY_SHIPPED → "Partially shipped", PENDING → "Pending",
    warehouse_clerk → "Warehouse clerk"."""
    return code.replace("_", " ").capitalize()


def in_sentence(code: str) -> str:
    """A code inside a sentence: "Order SO-1 is partially shipped"."""
    return code_label(code).lower()


def sentence(text: str) -> str:
    """Stored text that starts in lower case ("count: shelf 4", "transfer to EAST") as
    the first words of a cell: "Count: shelf 4"."""
    return text[:1].upper() + text[1:]


ORDER_STATUS_TONES: Mapping[str, Tone] = {
    "DRAFT": "neutral",
    "PENDING": "info",
    "CONFIRMED": "info",
    "PROCESSING": "info",
    "PARTIALLY_SHIPPED": "warning",
    "ON_HOLD": "warning",
    "SHIPPED": "good",
    "DELIVERED": "good",
    "CANCELLED": "bad",
    "RETURNED": "warning",
    "REFUNDED": "neutral",
}
PAYMENT_STATUS_TONES: Mapping[str, Tone] = {
    "PENDING": "warning",
    "PARTIALLY_PAID": "warning",
    "PAID": "good",
    "OVERDUE": "bad",
    "FAILED": "bad",
    "REFUNDED": "neutral",
}
CUSTOMER_STATUS_TONES: Mapping[str, Tone] = {
    "ACTIVE": "good",
    "INACTIVE": "neutral",
    "SUSPENDED": "bad",
}
#: An order line's own status (order_items.status).
LINE_STATUS_TONES: Mapping[str, Tone] = {
    "NEW": "neutral",
    **ORDER_STATUS_TONES,
}


def tone(tones: Mapping[str, Tone], code: str) -> Tone:
    return tones.get(code, "neutral")


def active_tone(active: bool) -> Tone:
    return "good" if active else "neutral"
