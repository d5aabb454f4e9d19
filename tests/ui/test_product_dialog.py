"""The product dialog with its variants: bad input refused at its field (on its page), good
input saved, stale edits through the conflict dialog, variants added, edited and
deactivated through the variant dialog."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.services.catalog_admin import (
    CategoryDraft,
    ProductDetail,
    ProductDraft,
    VariantDraft,
    VariantRow,
)
from erpgo_desktop.ui.product_dialog import ProductDialog, VariantDialog
from erpgo_desktop.ui.tasks import TaskRunner
from tests.ui.dialog_support import (
    Staff,
    focused,
    make_staff,
    save,
    save_and_wait,
    show,
    type_into,
    wait_conflict,
)


@pytest.fixture
def staff(engine: Engine, runner: TaskRunner) -> Staff:
    return make_staff(engine)


@pytest.fixture
def tools(staff: Staff) -> uuid.UUID:
    return staff.services.categories.create_category(staff.manager, CategoryDraft("Tools")).id


def new_dialog(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, record_id: uuid.UUID | None = None
) -> ProductDialog:
    dialog = ProductDialog(staff.services, runner, staff.manager, record_id)
    show(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.loading)
    return dialog


def fill_good(qtbot: QtBot, dialog: ProductDialog) -> None:
    type_into(qtbot, dialog.sku, "HAM-01")
    type_into(qtbot, dialog.name, "Claw hammer")
    dialog.category.setCurrentIndex(dialog.category.findText("Tools"))
    type_into(qtbot, dialog.price, "12.50")
    type_into(qtbot, dialog.cost, "7.25")


def hammer(staff: Staff, category: uuid.UUID) -> ProductDetail:
    return staff.services.products.create_product(
        staff.manager,
        ProductDraft(
            sku="HAM-01", name="Claw hammer", category_id=category, price=Decimal("12.50")
        ),
    )


def test_good_input_is_saved(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, tools: uuid.UUID
) -> None:
    dialog = new_dialog(qtbot, staff, runner)
    assert not dialog.add_variant_button.isEnabled() and not dialog.variants_note.isHidden()
    fill_good(qtbot, dialog)
    type_into(qtbot, dialog.barcode, "4006381333931")
    dialog.max_stock_level.setValue(500)
    dialog.min_stock_level.setValue(20)
    type_into(qtbot, dialog.tax_rate, "19.5")
    type_into(qtbot, dialog.weight, "0.65")
    dialog.is_featured.setChecked(True)

    row = save_and_wait(qtbot, dialog)

    assert isinstance(row, ProductDetail)
    stored = staff.services.products.get_product(staff.manager, row.id)
    assert (stored.sku, stored.name, stored.category_id) == ("HAM-01", "Claw hammer", tools)
    assert (stored.price, stored.cost, stored.tax_rate) == (
        Decimal("12.50"),
        Decimal("7.25"),
        Decimal("19.50"),
    )
    assert (stored.min_stock_level, stored.max_stock_level) == (20, 500)
    assert stored.weight == Decimal("0.650") and stored.barcode == "4006381333931"
    assert stored.is_featured and stored.is_active


def test_a_digital_product_ships_nothing_and_keeps_its_download_terms(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, tools: uuid.UUID
) -> None:
    dialog = new_dialog(qtbot, staff, runner)
    fill_good(qtbot, dialog)
    dialog.is_digital.setChecked(True)
    assert not dialog.requires_shipping.isChecked()
    type_into(qtbot, dialog.download_url, "https://example.com/manual.pdf")
    dialog.max_downloads.setValue(3)
    dialog.is_active.setChecked(False)

    row = save_and_wait(qtbot, dialog)

    assert isinstance(row, ProductDetail)
    stored = staff.services.products.get_product(staff.manager, row.id)
    assert stored.is_digital and not stored.requires_shipping
    assert (stored.download_url, stored.max_downloads) == ("https://example.com/manual.pdf", 3)
    assert not stored.is_active


def make_bad(qtbot: QtBot, dialog: ProductDialog, case: str) -> None:
    if case == "sku":
        type_into(qtbot, dialog.sku, "")
    elif case == "sku_space":  # the validator does not even take the space
        type_into(qtbot, dialog.sku, "HAM 01")
        assert dialog.sku.text() == "HAM01"
        type_into(qtbot, dialog.sku, "")
    elif case == "name":
        type_into(qtbot, dialog.name, "   ")
    elif case == "category_id":
        dialog.category.setCurrentIndex(-1)
    elif case == "price":
        type_into(qtbot, dialog.price, "0")
    elif case == "cost":
        type_into(qtbot, dialog.cost, "20.00")
    elif case == "min_stock_level":
        dialog.max_stock_level.setValue(5)
        dialog.min_stock_level.setValue(10)
    elif case == "tax_rate":
        type_into(qtbot, dialog.tax_rate, "150")
    elif case == "download_url":
        dialog.is_digital.setChecked(True)
        type_into(qtbot, dialog.download_url, "ftp://example.com/x")
    elif case == "weight":
        type_into(qtbot, dialog.weight, ".")


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("sku", "sku", "A SKU has 1 to 100"),
        ("sku_space", "sku", "A SKU has 1 to 100"),
        ("name", "name", "A product name has 1 to 300"),
        ("category_id", "category_id", "Choose the product's category"),
        ("price", "price", "more than 0"),
        ("cost", "cost", "cannot be higher than the price"),
        ("min_stock_level", "min_stock_level", "cannot be above the maximum"),
        ("tax_rate", "tax_rate", "percentage from 0 to 100"),
        ("download_url", "download_url", "web address"),
    ],
)
def test_bad_input_is_refused_at_its_field_on_its_page(
    qtbot: QtBot,
    staff: Staff,
    runner: TaskRunner,
    tools: uuid.UUID,
    case: str,
    field: str,
    message: str,
) -> None:
    dialog = new_dialog(qtbot, staff, runner)
    fill_good(qtbot, dialog)
    make_bad(qtbot, dialog, case)
    dialog.tabs.setCurrentIndex(3)  # somewhere else: the error brings its page forward

    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)

    errors = dialog.visible_errors()
    assert list(errors) == [field] and message in errors[field]
    assert dialog.field_error(field).isVisible()
    assert focused(dialog) is dialog.field(field)
    assert runner.pending_count == 0 and dialog.isVisible()


def test_a_taken_sku_is_shown_at_the_sku(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, tools: uuid.UUID
) -> None:
    hammer(staff, tools)
    dialog = new_dialog(qtbot, staff, runner)
    fill_good(qtbot, dialog)

    save(qtbot, dialog)

    assert "already used by the product 'Claw hammer'" in dialog.visible_errors()["sku"]
    assert focused(dialog) is dialog.sku


def test_an_edit_loads_every_field_and_saves_over_its_version(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, tools: uuid.UUID
) -> None:
    product = hammer(staff, tools)
    dialog = new_dialog(qtbot, staff, runner, product.id)
    assert (dialog.sku.text(), dialog.price.text(), dialog.category.currentText()) == (
        "HAM-01",
        "12.50",
        "Tools",
    )
    assert not dialog.dirty and dialog.add_variant_button.isEnabled()

    type_into(qtbot, dialog.price, "13.10")
    row = save_and_wait(qtbot, dialog)

    assert isinstance(row, ProductDetail) and row.version == product.version + 1
    assert staff.services.products.get_product(staff.manager, product.id).price == Decimal("13.10")


def test_a_stale_edit_shows_both_versions_reload_and_overwrite(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, tools: uuid.UUID
) -> None:
    product = hammer(staff, tools)
    dialog = new_dialog(qtbot, staff, runner, product.id)
    theirs = staff.services.products.update_product(
        staff.admin,
        product.id,
        ProductDraft(sku="HAM-01", name="Claw hammer", category_id=tools, price=Decimal("14.00")),
        expected_version=product.version,
    )
    type_into(qtbot, dialog.name, "Claw hammer, 16 oz")

    save(qtbot, dialog)
    conflict = wait_conflict(qtbot, dialog)

    rows = {label: (mine, other, d) for label, mine, other, d in conflict.row_values()}
    assert rows["Price"] == ("12.50", "14.00", True)
    assert rows["Name"] == ("Claw hammer, 16 oz", "Claw hammer", True)
    assert rows["SKU"] == ("HAM-01", "HAM-01", False)
    assert "Saved by admin at" in conflict.table.horizontalHeaderItem(2).text()

    qtbot.mouseClick(conflict.reload_button, Qt.MouseButton.LeftButton)
    assert (dialog.name.text(), dialog.price.text()) == ("Claw hammer", "14.00")
    assert dialog.version == theirs.version

    # Someone saves again; this time mine goes over theirs.
    latest = staff.services.products.update_product(
        staff.admin,
        product.id,
        ProductDraft(sku="HAM-01", name="Hammer", category_id=tools, price=Decimal("15.00")),
        expected_version=theirs.version,
    )
    type_into(qtbot, dialog.name, "Claw hammer, 20 oz")
    save(qtbot, dialog)
    conflict = wait_conflict(qtbot, dialog)
    with qtbot.waitSignal(dialog.saved):
        qtbot.mouseClick(conflict.overwrite_button, Qt.MouseButton.LeftButton)
    stored = staff.services.products.get_product(staff.manager, product.id)
    assert (stored.name, stored.price) == ("Claw hammer, 20 oz", Decimal("14.00"))
    assert stored.version == latest.version + 1


def test_variants_are_added_edited_and_deactivated(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, tools: uuid.UUID
) -> None:
    product = hammer(staff, tools)
    dialog = new_dialog(qtbot, staff, runner, product.id)
    dialog.tabs.setCurrentWidget(dialog.variants_page)

    qtbot.mouseClick(dialog.add_variant_button, Qt.MouseButton.LeftButton)
    variant = dialog.variant_dialog
    assert isinstance(variant, VariantDialog)
    type_into(qtbot, variant.sku, "HAM-01-L")
    type_into(qtbot, variant.name, "Claw hammer, large")
    type_into(qtbot, variant.price, "0")
    variant.attributes.add_row("size", "L")
    save(qtbot, variant)
    assert list(variant.visible_errors()) == ["price"]
    type_into(qtbot, variant.price, "14.00")
    variant.attributes.add_row("Size", "XL")
    save(qtbot, variant)
    assert variant.visible_errors() == {"attributes": "The attribute 'Size' is given twice."}
    variant.attributes.table.setCurrentCell(1, 0)
    qtbot.mouseClick(variant.attributes.remove_button, Qt.MouseButton.LeftButton)
    variant.attributes.add_row("color", "red")
    save_and_wait(qtbot, variant)

    qtbot.waitUntil(lambda: len(dialog.variant_rows) == 1)
    stored = staff.services.variants.list_variants(staff.manager, product.id)
    assert [(v.sku, v.price, dict(v.attributes)) for v in stored] == [
        ("HAM-01-L", Decimal("14.00"), {"size": "L", "color": "red"})
    ]
    assert dialog.variants_table.item(0, 4).text() == "size: L, color: red"

    # Edit it.
    dialog.variants_table.selectRow(0)
    qtbot.mouseClick(dialog.edit_variant_button, Qt.MouseButton.LeftButton)
    variant = dialog.variant_dialog
    assert isinstance(variant, VariantDialog)
    qtbot.waitUntil(lambda: not variant.loading)
    assert variant.sku.text() == "HAM-01-L" and variant.attributes.rows()[0] == ("size", "L")
    type_into(qtbot, variant.price, "15.00")
    save_and_wait(qtbot, variant)
    qtbot.waitUntil(lambda: dialog.variant_rows[0].price == Decimal("15.00"))

    # Deactivate it.
    dialog.variants_table.selectRow(0)
    assert dialog.toggle_variant_button.text() == "Deac&tivate variant"
    qtbot.mouseClick(dialog.toggle_variant_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.variant_rows[0].is_active)
    assert not staff.services.variants.list_variants(staff.manager, product.id)[0].is_active
    assert dialog.variants_table.item(0, 5).text() == "No"
    # The product form itself was not touched.
    assert not dialog.dirty


def test_a_stale_variant_edit_shows_the_conflict(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, tools: uuid.UUID
) -> None:
    product = hammer(staff, tools)
    original = staff.services.variants.create_variant(
        staff.manager,
        product.id,
        VariantDraft(sku="HAM-01-S", name="Small", price=Decimal("11.00")),
    )
    variant = VariantDialog(
        staff.services.variants,
        runner,
        staff.manager,
        product.id,
        original.id,
        history=staff.services.history,
    )
    show(qtbot, variant)
    staff.services.variants.update_variant(
        staff.admin,
        original.id,
        VariantDraft(sku="HAM-01-S", name="Small", price=Decimal("11.50")),
        expected_version=original.version,
    )
    type_into(qtbot, variant.name, "Small (8 oz)")

    save(qtbot, variant)
    conflict = wait_conflict(qtbot, variant)
    rows = {label: (mine, other) for label, mine, other, _ in conflict.row_values()}
    assert rows["Price"] == ("11.00", "11.50") and rows["Name"] == ("Small (8 oz)", "Small")

    with qtbot.waitSignal(variant.saved) as blocker:
        qtbot.mouseClick(conflict.overwrite_button, Qt.MouseButton.LeftButton)
    saved = blocker.args[0]
    assert isinstance(saved, VariantRow) and saved.name == "Small (8 oz)"


def test_every_field_has_a_label_with_a_mnemonic(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, tools: uuid.UUID
) -> None:
    from PySide6.QtWidgets import QAbstractButton, QLabel

    dialog = new_dialog(qtbot, staff, runner)
    buddies = {
        label.buddy(): label.text() for label in dialog.findChildren(QLabel) if label.buddy()
    }
    for name in dialog.field_names:
        widget = dialog.field(name)
        text = widget.text() if isinstance(widget, QAbstractButton) else buddies.get(widget, "")
        assert "&" in text, name
