"""Create or edit a product, and its variants.

Every field of a product that a person edits is here, on three pages: the product itself,
stock and shipping, tax and download. The rules of `domain.catalog` (SKU format, price
above 0 and cost not above it, stock levels, tax, digital products) are checked before
the save, so a mistake is shown at its field at once; the service checks them again, and
that the SKU is free and the category usable. Active or not is changed by the service's
deactivate/reactivate, run after the save in the same worker task.

The Variants page lists the product's variants; each is added or edited in a
`VariantDialog` of its own (its own SKU, price, attributes as name/value rows), saved at
once with its own version, and deactivated or reactivated from the list. A new product
gets variants once it is saved.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, cast

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.domain import catalog as rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.catalog_admin import (
    CategoryRow,
    CategoryService,
    ProductDetail,
    ProductDraft,
    ProductService,
    VariantDraft,
    VariantRow,
    VariantService,
)
from erpgo_desktop.services.history import HistoryService
from erpgo_desktop.ui.forms import (
    RecordDialog,
    alive,
    decimal_edit,
    format_decimal,
    int_spin,
    money_edit,
    read_decimal,
    set_active_after_save,
)
from erpgo_desktop.ui.tasks import TaskRunner, user_message
from erpgo_desktop.ui.widgets import error_label


class CatalogServices(Protocol):
    """What the product dialog needs of `services.Services`."""

    @property
    def products(self) -> ProductService: ...
    @property
    def categories(self) -> CategoryService: ...
    @property
    def variants(self) -> VariantService: ...
    @property
    def history(self) -> HistoryService: ...


def sku_edit() -> QLineEdit:
    """A SKU: letters, digits, '-' and '_', up to 100; a space cannot even be typed."""
    edit = QLineEdit()
    pattern = QRegularExpression(rules.SKU.pattern.replace("{1,", "{0,"))
    edit.setValidator(QRegularExpressionValidator(pattern, edit))
    edit.setMaxLength(100)
    return edit


def plain_text(height: int = 70) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setTabChangesFocus(True)  # Tab moves on, as in every other field
    edit.setFixedHeight(height)
    return edit


def select_data(combo: QComboBox, value: object) -> None:
    combo.setCurrentIndex(combo.findData(value))


# --- attributes ---------------------------------------------------------------------------


class AttributeEditor(QWidget):
    """A variant's attributes as name/value rows ("color" = "red"); a form field of its own."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Attribute", "Value"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setFixedHeight(140)
        self.add_button = QPushButton("Add a&ttribute")
        self.remove_button = QPushButton("Remo&ve attribute")
        self.add_button.clicked.connect(self.add_row)
        self.remove_button.clicked.connect(self.remove_current)
        self.table.itemChanged.connect(lambda _item: self.changed.emit())
        self.setFocusProxy(self.table)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)

    def add_row(self, name: str = "", value: str = "") -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        name_item = QTableWidgetItem(name)
        self.table.setItem(row, 0, name_item)
        self.table.setItem(row, 1, QTableWidgetItem(value))
        if not name:
            self.table.setCurrentCell(row, 0)
            self.table.editItem(name_item)
        self.changed.emit()

    def remove_current(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)
            self.changed.emit()

    def rows(self) -> list[tuple[str, str]]:
        def text(row: int, column: int) -> str:
            item = self.table.item(row, column)
            return item.text() if item is not None else ""

        return [(text(r, 0), text(r, 1)) for r in range(self.table.rowCount())]

    def attributes(self) -> dict[str, str]:
        """The rows as a mapping (blank rows left out); a name given twice is refused here,
        where the rows still show it (a dict would keep only one)."""
        result: dict[str, str] = {}
        seen: set[str] = set()
        for name, value in self.rows():
            if not name.strip() and not value.strip():
                continue
            key = name.strip().casefold()
            if key in seen:
                raise ValidationError(
                    f"The attribute {name.strip()!r} is given twice.", field="attributes"
                )
            seen.add(key)
            result[name] = value
        return result

    def set_attributes(self, attributes: Mapping[str, str]) -> None:
        self.set_form_state(tuple(attributes.items()))

    # CustomField
    def form_state(self) -> object:
        return tuple(self.rows())

    def set_form_state(self, state: object) -> None:
        self.table.setRowCount(0)
        # What form_state returned: (name, value) pairs.
        for name, value in cast(tuple[tuple[str, str], ...], state):
            row = self.table.rowCount()
            self.table.insertRow(row)
            self.table.setItem(row, 0, QTableWidgetItem(name))
            self.table.setItem(row, 1, QTableWidgetItem(value))
        self.changed.emit()

    def display_text(self) -> str:
        return ", ".join(f"{n}: {v}" for n, v in self.rows() if n.strip() or v.strip())


# --- the variant dialog -------------------------------------------------------------------


class VariantDialog(RecordDialog):
    """Create (record_id None) or edit one variant of `product_id`."""

    record_table = "product_variants"
    write_permission = perms.PRODUCTS_WRITE

    def __init__(
        self,
        variants: VariantService,
        runner: TaskRunner,
        acting: CurrentUser,
        product_id: uuid.UUID,
        record_id: uuid.UUID | None = None,
        parent: QWidget | None = None,
        *,
        history: HistoryService,
    ) -> None:
        super().__init__(runner, acting, record_id, parent)
        self._variants = variants
        self.product_id = product_id
        self.setWindowTitle("Edit variant" if record_id else "New variant")
        self.setMinimumWidth(460)
        self.tabs = self.add_tabs()
        form = self.add_page(self.tabs, "Va&riant")
        self.sku = self.add_row(form, "sku", "S&KU:", sku_edit())
        self.name = self.add_row(form, "name", "&Name:", QLineEdit())
        self.name.setMaxLength(300)
        self.price = self.add_row(form, "price", "&Price:", money_edit())
        self.cost = self.add_row(form, "cost", "C&ost:", money_edit())
        self.weight = self.add_row(form, "weight", "&Weight (kg):", decimal_edit(7, 3))
        self.barcode = self.add_row(form, "barcode", "&Barcode:", QLineEdit())
        self.barcode.setMaxLength(50)
        self.track_inventory = self.add_row(
            form, "track_inventory", None, QCheckBox("Track &inventory")
        )
        self.min_stock_level = self.add_row(
            form, "min_stock_level", "&Minimum stock:", int_spin(0, rules.MAX_STOCK_LEVEL)
        )
        self.max_stock_level = self.add_row(
            form,
            "max_stock_level",
            "Ma&ximum stock:",
            int_spin(0, rules.MAX_STOCK_LEVEL, special="no maximum"),
        )
        self.allow_backorder = self.add_row(
            form, "allow_backorder", None, QCheckBox("Allow bac&korders")
        )
        self.attributes = self.add_row(form, "attributes", "&Attributes:", AttributeEditor())
        self.add_history_page(self.tabs, history)
        self.track_inventory.setChecked(True)
        self.finish()
        if record_id is None:
            self.mark_clean()
        else:
            self.load(lambda: variants.get_variant(acting, record_id))

    def notice_change(self, table: str, ids: Any) -> None:
        # Variant notifications carry the product's id (what the product screens reload).
        if self.editing and table == self.record_table and (ids is None or self.product_id in ids):
            self.mark_changed_elsewhere()

    def use_services(self, services: Services) -> None:
        self._variants = services.variants

    def fill(self, row: VariantRow) -> None:
        self.sku.setText(row.sku)
        self.name.setText(row.name)
        self.price.setText(format_decimal(row.price, 2))
        self.cost.setText(format_decimal(row.cost, 2))
        self.weight.setText(format_decimal(row.weight, 3))
        self.barcode.setText(row.barcode or "")
        self.track_inventory.setChecked(row.track_inventory)
        self.min_stock_level.setValue(row.min_stock_level)
        self.max_stock_level.setValue(row.max_stock_level)
        self.allow_backorder.setChecked(row.allow_backorder)
        self.attributes.set_attributes(row.attributes)

    def draft(self) -> VariantDraft:
        return VariantDraft(
            sku=self.sku.text(),
            name=self.name.text(),
            price=read_decimal(self.price, "price", "The price"),
            cost=read_decimal(self.cost, "cost", "The cost", default=Decimal("0.00")),
            weight=read_decimal(self.weight, "weight", "The weight", default=Decimal("0.000")),
            barcode=self.barcode.text(),
            track_inventory=self.track_inventory.isChecked(),
            min_stock_level=self.min_stock_level.value(),
            max_stock_level=self.max_stock_level.value(),
            allow_backorder=self.allow_backorder.isChecked(),
            attributes=self.attributes.attributes(),
        )

    def prepare_save(self) -> Callable[[], VariantRow]:
        draft = rules.check_variant(self.draft())
        variants, acting, product_id = self._variants, self.acting, self.product_id
        record_id, version = self.record_id, self.version
        if record_id is None:
            return lambda: variants.create_variant(acting, product_id, draft)
        assert version is not None
        return lambda: variants.update_variant(acting, record_id, draft, expected_version=version)


# --- the product dialog -------------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    categories: tuple[CategoryRow, ...]
    product: ProductDetail | None
    variants: tuple[VariantRow, ...]


VARIANT_COLUMNS = ("SKU", "Name", "Price", "Stock", "Attributes", "Active")


class ProductDialog(RecordDialog):
    record_table = "products"
    write_permission = perms.PRODUCTS_WRITE

    #: A variant was added or changed (the VariantRow).
    variant_saved = Signal(object)

    def __init__(
        self,
        services: CatalogServices,
        runner: TaskRunner,
        acting: CurrentUser,
        record_id: uuid.UUID | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, acting, record_id, parent)
        self._services = services
        self.variant_rows: tuple[VariantRow, ...] = ()
        #: The variant dialog while it is open (tests drive it).
        self.variant_dialog: VariantDialog | None = None
        self.setWindowTitle("Edit product" if record_id else "New product")
        self.setMinimumWidth(560)

        self.tabs = self.add_tabs()
        general = self.add_page(self.tabs, "&Product")
        self.sku = self.add_row(general, "sku", "S&KU:", sku_edit())
        self.name = self.add_row(general, "name", "&Name:", QLineEdit())
        self.name.setMaxLength(300)
        self.category = self.add_row(general, "category_id", "&Category:", QComboBox())
        self.category.setPlaceholderText("Choose a category")
        self.price = self.add_row(general, "price", "P&rice:", money_edit())
        self.cost = self.add_row(general, "cost", "C&ost:", money_edit())
        self.short_description = self.add_row(
            general, "short_description", "Short descr&iption:", QLineEdit()
        )
        self.short_description.setMaxLength(500)
        self.description = self.add_row(general, "description", "&Description:", plain_text())
        self.barcode = self.add_row(general, "barcode", "&Barcode:", QLineEdit())
        self.barcode.setMaxLength(50)
        self.is_active = self.add_row(general, "is_active", None, QCheckBox("&Active"))
        self.is_featured = self.add_row(general, "is_featured", None, QCheckBox("&Featured"))

        stock = self.add_page(self.tabs, "&Stock && shipping")
        self.track_inventory = self.add_row(
            stock, "track_inventory", None, QCheckBox("&Track inventory")
        )
        self.min_stock_level = self.add_row(
            stock, "min_stock_level", "&Minimum stock:", int_spin(0, rules.MAX_STOCK_LEVEL)
        )
        self.max_stock_level = self.add_row(
            stock,
            "max_stock_level",
            "Ma&ximum stock:",
            int_spin(0, rules.MAX_STOCK_LEVEL, special="no maximum"),
        )
        self.allow_backorder = self.add_row(
            stock, "allow_backorder", None, QCheckBox("Allow bac&korders")
        )
        self.requires_shipping = self.add_row(
            stock, "requires_shipping", None, QCheckBox("Requires s&hipping")
        )
        self.weight = self.add_row(stock, "weight", "&Weight (kg):", decimal_edit(7, 3))
        self.dimensions = self.add_row(stock, "dimensions", "Dim&ensions:", QLineEdit())
        self.dimensions.setMaxLength(100)
        self.length = self.add_row(stock, "length", "&Length (cm):", decimal_edit(6, 2))
        self.width_edit = self.add_row(stock, "width", "Wi&dth (cm):", decimal_edit(6, 2))
        self.height_edit = self.add_row(stock, "height", "&Height (cm):", decimal_edit(6, 2))
        self.volume = self.add_row(stock, "volume", "&Volume:", decimal_edit(7, 3))

        tax = self.add_page(self.tabs, "Ta&x && download")
        self.taxable = self.add_row(tax, "taxable", None, QCheckBox("&Taxable"))
        self.tax_rate = self.add_row(tax, "tax_rate", "Tax &rate (%):", decimal_edit(3, 2))
        self.is_digital = self.add_row(tax, "is_digital", None, QCheckBox("&Digital product"))
        self.download_url = self.add_row(tax, "download_url", "Download &URL:", QLineEdit())
        self.download_url.setMaxLength(1000)
        self.download_url.setPlaceholderText("https://example.com/file.zip")
        self.max_downloads = self.add_row(
            tax,
            "max_downloads",
            "Maximum download&s:",
            int_spin(0, rules.MAX_DOWNLOADS, special="no limit"),
        )
        self.expiry_days = self.add_row(
            tax,
            "expiry_days",
            "Download e&xpires after (days):",
            int_spin(0, rules.MAX_EXPIRY_DAYS, special="never"),
        )

        self._build_variants_page()
        # The product's own changes, its variants' and its stock's.
        self.add_history_page(self.tabs, services.history)

        for box in (self.is_active, self.track_inventory, self.requires_shipping, self.taxable):
            box.setChecked(True)
        self.tax_rate.setText("0.00")
        self.taxable.toggled.connect(self._tax_toggled)
        self.is_digital.toggled.connect(self._digital_toggled)
        self._digital_toggled(False)
        self.finish()
        categories = services.categories
        if record_id is None:
            self.load(lambda: _Loaded(categories.list_categories(acting), None, ()))
        else:
            products, variants = services.products, services.variants
            self.load(
                lambda: _Loaded(
                    categories.list_categories(acting),
                    products.get_product(acting, record_id),
                    variants.list_variants(acting, record_id),
                )
            )

    def _build_variants_page(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.variants_note = QLabel("Variants can be added once the product is saved.")
        self.variants_table = QTableWidget(0, len(VARIANT_COLUMNS))
        self.variants_table.setObjectName("variants")
        self.variants_table.setHorizontalHeaderLabels(list(VARIANT_COLUMNS))
        self.variants_table.verticalHeader().hide()
        self.variants_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.variants_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.variants_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.variants_table.setTabKeyNavigation(False)
        self.variants_table.horizontalHeader().setStretchLastSection(True)
        self.variants_table.doubleClicked.connect(lambda _index: self.edit_variant())
        self.variants_error = error_label()
        self.variants_error.setObjectName("variants_error")
        self.add_variant_button = QPushButton("A&dd variant…")
        self.edit_variant_button = QPushButton("&Edit variant…")
        self.toggle_variant_button = QPushButton("Deac&tivate variant")
        self.add_variant_button.clicked.connect(self.add_variant)
        self.edit_variant_button.clicked.connect(self.edit_variant)
        self.toggle_variant_button.clicked.connect(self.toggle_variant_active)
        self.variants_table.itemSelectionChanged.connect(self._variant_selection_changed)
        buttons = QHBoxLayout()
        for button in (
            self.add_variant_button,
            self.edit_variant_button,
            self.toggle_variant_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addWidget(self.variants_note)
        layout.addWidget(self.variants_table, 1)
        layout.addWidget(self.variants_error)
        layout.addLayout(buttons)
        self.variants_page = page
        self.tabs.addTab(page, "&Variants")
        self._set_variants_enabled(False)

    # -- loading and filling -----------------------------------------------------------

    def apply_loaded(self, result: _Loaded) -> None:
        self._set_categories(result.categories, result.product)
        if result.product is not None:
            self.apply_row(result.product)
            self.show_variants(result.variants)
        self._set_variants_enabled(result.product is not None)

    def _set_categories(
        self, categories: Sequence[CategoryRow], product: ProductDetail | None
    ) -> None:
        """Active categories by path; the product's own category even when inactive."""
        self.category.clear()
        own = product.category_id if product else None
        for category in sorted(categories, key=lambda c: c.path.casefold()):
            if category.is_active or category.id == own:
                suffix = "" if category.is_active else " (inactive)"
                # The id as text: findData() compares plain values reliably.
                self.category.addItem(category.path.lstrip("/") + suffix, str(category.id))
        self.category.setCurrentIndex(-1)

    def use_services(self, services: Services) -> None:
        self._services = services

    def fill(self, row: ProductDetail) -> None:
        self.sku.setText(row.sku)
        self.name.setText(row.name)
        select_data(self.category, str(row.category_id))
        self.price.setText(format_decimal(row.price, 2))
        self.cost.setText(format_decimal(row.cost, 2))
        self.short_description.setText(row.short_description or "")
        self.description.setPlainText(row.description or "")
        self.barcode.setText(row.barcode or "")
        self.is_active.setChecked(row.is_active)
        self.is_featured.setChecked(row.is_featured)
        self.track_inventory.setChecked(row.track_inventory)
        self.min_stock_level.setValue(row.min_stock_level)
        self.max_stock_level.setValue(row.max_stock_level)
        self.allow_backorder.setChecked(row.allow_backorder)
        self.requires_shipping.setChecked(row.requires_shipping)
        self.weight.setText(format_decimal(row.weight, 3))
        self.dimensions.setText(row.dimensions or "")
        self.length.setText(format_decimal(row.length, 2))
        self.width_edit.setText(format_decimal(row.width, 2))
        self.height_edit.setText(format_decimal(row.height, 2))
        self.volume.setText(format_decimal(row.volume, 3))
        self.taxable.setChecked(row.taxable)
        self.tax_rate.setText(format_decimal(row.tax_rate, 2))
        self.is_digital.setChecked(row.is_digital)
        self.download_url.setText(row.download_url or "")
        self.max_downloads.setValue(row.max_downloads)
        self.expiry_days.setValue(row.expiry_days)

    def _tax_toggled(self, taxable: bool) -> None:
        if not taxable:
            self.tax_rate.setText("0.00")  # the rule: not taxable, rate 0
        self.tax_rate.setEnabled(taxable)

    def _digital_toggled(self, digital: bool) -> None:
        if digital:
            self.requires_shipping.setChecked(False)  # the rule: nothing to ship
        for widget in (self.download_url, self.max_downloads, self.expiry_days):
            widget.setEnabled(digital)

    # -- saving --------------------------------------------------------------------------

    def draft(self) -> ProductDraft:
        chosen = self.category.currentData()
        if not chosen:
            raise ValidationError("Choose the product's category.", field="category_id")
        category_id = uuid.UUID(chosen)
        return ProductDraft(
            sku=self.sku.text(),
            name=self.name.text(),
            category_id=category_id,
            price=read_decimal(self.price, "price", "The price"),
            cost=read_decimal(self.cost, "cost", "The cost", default=Decimal("0.00")),
            description=self.description.toPlainText(),
            short_description=self.short_description.text(),
            weight=read_decimal(self.weight, "weight", "The weight", default=Decimal("0.000")),
            dimensions=self.dimensions.text(),
            length=read_decimal(self.length, "length", "The length", default=Decimal("0.00")),
            width=read_decimal(self.width_edit, "width", "The width", default=Decimal("0.00")),
            height=read_decimal(self.height_edit, "height", "The height", default=Decimal("0.00")),
            volume=read_decimal(self.volume, "volume", "The volume", default=Decimal("0.000")),
            barcode=self.barcode.text(),
            track_inventory=self.track_inventory.isChecked(),
            min_stock_level=self.min_stock_level.value(),
            max_stock_level=self.max_stock_level.value(),
            allow_backorder=self.allow_backorder.isChecked(),
            requires_shipping=self.requires_shipping.isChecked(),
            taxable=self.taxable.isChecked(),
            tax_rate=read_decimal(self.tax_rate, "tax_rate", "The tax rate", default=Decimal(0)),
            is_featured=self.is_featured.isChecked(),
            is_digital=self.is_digital.isChecked(),
            download_url=self.download_url.text(),
            max_downloads=self.max_downloads.value(),
            expiry_days=self.expiry_days.value(),
        )

    def prepare_save(self) -> Callable[[], ProductDetail]:
        draft = rules.check_product(self.draft())
        products, acting = self._services.products, self.acting
        record_id, version = self.record_id, self.version
        active = self.is_active.isChecked()

        def save() -> ProductDetail:
            if record_id is None:
                row = products.create_product(acting, draft)
            else:
                assert version is not None
                row = products.update_product(acting, record_id, draft, expected_version=version)
            # Active or not has service methods of its own (deactivating is the soft delete).
            return set_active_after_save(
                row,
                active,
                lambda r: products.deactivate_product(acting, r.id, expected_version=r.version),
                lambda r: products.reactivate_product(acting, r.id, expected_version=r.version),
            )

        return save

    # -- variants --------------------------------------------------------------------------

    def show_variants(self, rows: Sequence[VariantRow]) -> None:
        self.variant_rows = tuple(rows)
        table = self.variants_table
        table.setRowCount(len(rows))
        for index, variant in enumerate(rows):
            attributes = ", ".join(f"{k}: {v}" for k, v in variant.attributes.items())
            values = (
                variant.sku,
                variant.name,
                f"{variant.price:,.2f}",
                f"{variant.stock_quantity:,}",
                attributes,
                "Yes" if variant.is_active else "No",
            )
            for column, text in enumerate(values):
                item = QTableWidgetItem(text)
                if column in (2, 3):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                table.setItem(index, column, item)
        table.resizeColumnsToContents()
        self._variant_selection_changed()

    def _set_variants_enabled(self, enabled: bool) -> None:
        self.variants_note.setVisible(not enabled)
        self.variants_table.setEnabled(enabled)
        self.add_variant_button.setEnabled(enabled)
        self._variant_selection_changed()

    def selected_variant(self) -> VariantRow | None:
        row = self.variants_table.currentRow()
        if not self.editing or not 0 <= row < len(self.variant_rows):
            return None
        return self.variant_rows[row]

    def select_variant(self, sku: str) -> None:
        for index, variant in enumerate(self.variant_rows):
            if variant.sku == sku:
                self.variants_table.selectRow(index)

    def _variant_selection_changed(self) -> None:
        variant = self.selected_variant()
        self.edit_variant_button.setEnabled(variant is not None)
        self.toggle_variant_button.setEnabled(variant is not None)
        active = variant is None or variant.is_active
        self.toggle_variant_button.setText(
            "Deac&tivate variant" if active else "Reac&tivate variant"
        )

    def add_variant(self) -> None:
        self._open_variant(None)

    def edit_variant(self) -> None:
        variant = self.selected_variant()
        if variant is not None:
            self._open_variant(variant.id)

    def _open_variant(self, variant_id: uuid.UUID | None) -> None:
        assert self.record_id is not None
        dialog = VariantDialog(
            self._services.variants,
            self.runner,
            self.acting,
            self.record_id,
            variant_id,
            self,
            history=self._services.history,
        )
        dialog.saved.connect(self._variant_saved)
        dialog.finished.connect(lambda _result: self._variant_closed(dialog))
        self.variant_dialog = dialog
        dialog.open()

    def _variant_closed(self, dialog: VariantDialog) -> None:
        if self.variant_dialog is dialog:
            self.variant_dialog = None
        dialog.deleteLater()

    def _variant_saved(self, row: VariantRow) -> None:
        if not alive(self):
            return
        self.variant_saved.emit(row)
        self.reload_variants(select=row.sku)
        self.refresh_history()  # a variant's changes are the product's history too

    def toggle_variant_active(self) -> None:
        variant = self.selected_variant()
        if variant is None:
            return
        variants, acting = self._services.variants, self.acting
        change = variants.deactivate_variant if variant.is_active else variants.reactivate_variant
        self.variants_error.hide()
        self.toggle_variant_button.setEnabled(False)
        self.runner.run(
            lambda: change(acting, variant.id, expected_version=variant.version),
            self._variant_saved,
            self._variant_refused,
        )

    def _variant_refused(self, error: BaseException) -> None:
        if not alive(self):
            return
        self.variants_error.setText(user_message(error))
        self.variants_error.show()
        self.reload_variants()

    def reload_variants(self, select: str | None = None) -> None:
        """Read the variants again (after a change here or a notification)."""
        if self.record_id is None:
            return
        variants, acting, product_id = self._services.variants, self.acting, self.record_id

        def shown(rows: tuple[VariantRow, ...]) -> None:
            if not alive(self):
                return
            self.show_variants(rows)
            if select is not None:
                self.select_variant(select)

        self.runner.run(
            lambda: variants.list_variants(acting, product_id),
            shown,
            self._variant_list_failed,
            owner=self,
        )

    def _variant_list_failed(self, error: BaseException) -> None:
        if not alive(self):
            return
        self.variants_error.setText(f"The variants could not be read: {user_message(error)}")
        self.variants_error.show()
