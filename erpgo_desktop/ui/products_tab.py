"""The Products tab: a search box and filters over the paged, sortable product list."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from erpgo_desktop.services.catalog import ProductQuery
from erpgo_desktop.services.catalog_admin import CategoryRow
from erpgo_desktop.ui.list_model import Count
from erpgo_desktop.ui.list_tab import ListTab, list_status
from erpgo_desktop.ui.product_table import SKU, ProductSource, ProductTableModel
from erpgo_desktop.ui.tasks import TaskRunner

SEARCH_PLACEHOLDER = "Search SKU, name or barcode (Ctrl+F)"
ACTIVE_CHOICES = (("Active and inactive", None), ("Active only", True), ("Inactive only", False))


def products_status(loading: bool, count: Count | None, search: str, loaded: int) -> str:
    """The status bar's summary of the list: "1,234 products", "10,000+ matches", ..."""
    return list_status(
        loading, count, singular="product", plural="products", search=search, loaded=loaded
    )


class ProductsTab(ListTab):
    # A product's stock comes from its inventory rows; its variants show in its dialog.
    tables = ("products", "product_variants", "product_inventory", "variant_inventory")
    singular = "product"
    plural = "products"

    def __init__(
        self,
        catalog: ProductSource,
        runner: TaskRunner,
        parent: QWidget | None = None,
        *,
        categories: Callable[[], Sequence[CategoryRow]] | None = None,
    ) -> None:
        super().__init__(
            ProductTableModel(catalog, runner),
            name="product",
            search_placeholder=SEARCH_PLACEHOLDER,
            sort_column=SKU,
            sort_order=Qt.SortOrder.AscendingOrder,
            parent=parent,
        )
        self.model: ProductTableModel
        self._runner = runner
        self._categories = categories

        # Mnemonics clear of the menus and the tab titles (see main_window.py).
        self.category_filter = QComboBox()
        self.category_filter.setObjectName("product_category_filter")
        self.category_filter.addItem("All categories", None)
        self.category_filter.setMinimumContentsLength(18)
        category_label = QLabel("C&ategory:")
        category_label.setBuddy(self.category_filter)
        self.active_filter = QComboBox()
        self.active_filter.setObjectName("product_active_filter")
        for text, value in ACTIVE_CHOICES:
            self.active_filter.addItem(text, value)
        active_label = QLabel("Stat&us:")
        active_label.setBuddy(self.active_filter)
        self.add_filters([category_label, self.category_filter, active_label, self.active_filter])
        category_label.setVisible(categories is not None)
        self.category_filter.setVisible(categories is not None)
        self.category_filter.currentIndexChanged.connect(self._filters_changed)
        self.active_filter.currentIndexChanged.connect(self._filters_changed)

    def first_load(self) -> None:
        super().first_load()
        self.load_categories()

    @property
    def query(self) -> ProductQuery:
        return self.model.query

    def is_filtered(self) -> bool:
        return self.query.category_id is not None or self.query.active is not None

    def show_category(self, category_id: uuid.UUID | None) -> None:
        """List one category's products (what a dashboard bar stands for), and nothing else
        narrowing them: the search and the other filters are reset."""
        self.reset_filters()
        index = self._category_index(category_id)
        self.category_filter.blockSignals(True)
        # A category not listed (yet): the query names it; the combo says "All" meanwhile.
        self.category_filter.setCurrentIndex(max(index, 0))
        self.category_filter.blockSignals(False)
        self.model.set_query(
            dataclasses.replace(self.query, search="", category_id=category_id, active=None)
        )

    def _category_index(self, category_id: uuid.UUID | None) -> int:
        # findData() compares Python objects by identity, not equality: look ourselves.
        combo = self.category_filter
        return next((i for i in range(combo.count()) if combo.itemData(i) == category_id), -1)

    def reset_filters(self) -> None:
        super().reset_filters()
        for combo in (self.category_filter, self.active_filter):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)

    def load_categories(self) -> None:
        """Fill the category filter (off the GUI thread), keeping the chosen category."""
        if self._categories is None:
            return
        categories = self._categories
        self._runner.run(categories, self._categories_loaded, lambda _error: None)

    def _categories_loaded(self, rows: Sequence[CategoryRow]) -> None:
        chosen = self.query.category_id  # the list's, also when the combo could not say it
        self.category_filter.blockSignals(True)
        self.category_filter.clear()
        self.category_filter.addItem("All categories", None)
        top = min((row.level for row in rows), default=0)
        for row in rows:
            self.category_filter.addItem("    " * (row.level - top) + row.name, row.id)
        index = self._category_index(chosen)
        self.category_filter.setCurrentIndex(max(index, 0))
        self.category_filter.blockSignals(False)
        if index < 0 and chosen is not None:
            self._filters_changed()  # the chosen category is gone

    def _filters_changed(self) -> None:
        self.model.set_query(
            dataclasses.replace(
                self.query,
                category_id=self.category_filter.currentData(),
                active=self.active_filter.currentData(),
            )
        )
