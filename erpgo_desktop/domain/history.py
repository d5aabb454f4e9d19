"""The change history in words: what each kept table, column and value is called.

The database keeps the changes (revision 0012: change_log, written by triggers); this
module only names them, so that a History page and the Changes report say "Price: 10.00
→ 12.50" rather than a column and two JSON values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from erpgo_desktop.domain.wording import code_label

#: Each kept table as a person calls its records ("kind of record").
KINDS: dict[str, str] = {
    "products": "Product",
    "product_variants": "Variant",
    "product_categories": "Category",
    "customers": "Customer",
    "customer_addresses": "Customer address",
    "orders": "Order",
    "order_items": "Order line",
    "order_addresses": "Order address",
    "warehouses": "Warehouse",
    "product_inventory": "Stock",
    "variant_inventory": "Variant stock",
    "users": "User",
    "roles": "Role",
    "user_roles": "Role membership",
}

ACTIONS = {"I": "Created", "U": "Changed", "D": "Deleted"}

#: Columns whose generated name reads badly.
_COLUMN_LABELS: dict[str, str] = {
    "quantity_available": "On hand",
    "quantity_reserved": "Reserved",
    "reorder_level": "Reorder level",
    "is_active": "Active",
    "is_featured": "Featured",
    "is_digital": "Digital",
    "is_verified": "Verified",
    "sku": "SKU",
    "address1": "Address",
    "address2": "Address line 2",
    "email": "Email",
    "tax_rate": "Tax rate (%)",
    "min_stock_level": "Minimum stock",
    "max_stock_level": "Maximum stock",
    "total_amount": "Total",
    "tax_amount": "Tax",
    "shipping_amount": "Shipping",
    "discount_amount": "Discount",
    "paid_amount": "Paid",
    "refunded_amount": "Refunded",
    "shipping_address_id": "Shipping address",
    "billing_address_id": "Billing address",
    "permissions": "Permissions",
}

#: Columns holding codes (PARTIALLY_SHIPPED), which read as words (domain/wording.py).
CODE_COLUMNS = frozenset(
    {"status", "previous_status", "payment_status", "priority", "type", "shipping_method"}
)

#: The columns that name a record of the kind, for a deleted record's label.
LABEL_COLUMNS = ("order_number", "sku", "code", "username", "name", "company_name", "last_name")


def kind_of(table: str) -> str:
    return KINDS.get(table, table.replace("_", " ").capitalize())


def column_label(column: str) -> str:
    if column in _COLUMN_LABELS:
        return _COLUMN_LABELS[column]
    words = column.removesuffix("_id").replace("_", " ")
    return words[:1].upper() + words[1:]


def format_value(value: Any) -> str:
    """A value as kept in the history (JSON: numbers as Decimal), as a person reads it."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        try:  # a timestamp: to the minute, as the lists show them
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(format_value(item) for item in value) or "(empty)"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {format_value(item)}" for key, item in value.items())
    return str(value)


@dataclass(frozen=True)
class FieldChange:
    column: str
    label: str
    old: str
    new: str

    @property
    def in_words(self) -> str:
        if self.old and not self.new:
            return f"{self.label}: {self.old}"
        if self.new and not self.old:
            return f"{self.label}: {self.new}"
        return f"{self.label}: {self.old} → {self.new}"


def field_changes(
    action: str, changes: Mapping[str, Any], names: Mapping[str, str]
) -> tuple[FieldChange, ...]:
    """The columns a change touched, in words. `names` maps a referenced record's id (as
    text) to its name, so that a line shows its product's SKU rather than a UUID."""

    def shown(column: str, value: Any) -> str:
        if isinstance(value, str) and value in names:
            return names[value]
        if column in CODE_COLUMNS and isinstance(value, str) and value:
            return code_label(value)
        return format_value(value)

    fields = []
    for column, value in changes.items():
        if action == "U":
            old, new = shown(column, value[0]), shown(column, value[1])
        elif action == "I":
            if value is None or value == "" or value == {} or value == []:
                continue  # a new record's empty fields say nothing
            old, new = "", shown(column, value)
        else:
            old, new = shown(column, value), ""
        fields.append(FieldChange(column, column_label(column), old, new))
    return tuple(fields)


def summary(action: str, fields: tuple[FieldChange, ...]) -> str:
    """What a change did, in one line: an update lists each changed field with its old and
    new value; a created or deleted record says so, with the values it had."""
    listed = "; ".join(field.in_words for field in fields)
    if action == "U":
        return listed
    return f"{ACTIONS[action]}: {listed}" if listed else ACTIONS[action]
