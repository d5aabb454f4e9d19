"""The change history in words: columns, values and whole changes as people read them."""

from __future__ import annotations

from decimal import Decimal

from erpgo_desktop.domain.history import column_label, field_changes, format_value, summary


def test_columns_read_as_words() -> None:
    assert column_label("quantity_available") == "On hand"
    assert column_label("unit_price") == "Unit price"
    assert column_label("warehouse_id") == "Warehouse"


def test_values_read_as_words() -> None:
    assert format_value(None) == "(empty)"
    assert format_value(True) == "Yes"
    assert format_value(Decimal("12.50")) == "12.50"
    assert format_value("2026-12-03T13:23:45.123+00:00") == "2026-12-03 13:23"
    assert format_value(["orders.read", "orders.create"]) == "orders.read, orders.create"


def test_an_update_lists_each_change_and_names_what_ids_point_at() -> None:
    product = "6f1c1a56-3c8e-4c8e-9a55-1f4d8f0f2a11"
    fields = field_changes(
        "U",
        {"price": [Decimal("10.00"), Decimal("12.50")], "product_id": [None, product]},
        {product: "HX-1"},
    )
    assert summary("U", fields) == "Price: 10.00 → 12.50; Product: (empty) → HX-1"


def test_a_new_record_lists_the_values_it_was_given_but_not_its_empty_ones() -> None:
    fields = field_changes("I", {"sku": "HX-1", "notes": None, "quantity": 2}, {})
    assert summary("I", fields) == "Created: SKU: HX-1; Quantity: 2"
    assert summary("D", field_changes("D", {"sku": "HX-1"}, {})) == "Deleted: SKU: HX-1"
    assert summary("I", ()) == "Created"


def test_codes_read_as_the_lists_word_them() -> None:
    fields = field_changes("U", {"status": ["PENDING", "PARTIALLY_SHIPPED"]}, {})
    assert summary("U", fields) == "Status: Pending → Partially shipped"
