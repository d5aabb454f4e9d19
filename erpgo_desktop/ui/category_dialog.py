"""Create or edit a product category, and put it in the tree.

The parent is picked from the category tree, shown indented by level; the category
itself and everything below it are left out (a category cannot be its own ancestor), and
so are inactive categories (nothing new goes into them) unless one is the current parent.
The name rules of `domain.catalog` are checked before the save; the service checks them
again, that no sibling has the name, and takes the tree lock to move the subtree.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QPlainTextEdit, QWidget

from erpgo_desktop.domain import catalog as rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.catalog_admin import CategoryDraft, CategoryRow, CategoryService
from erpgo_desktop.services.history import HistoryService
from erpgo_desktop.ui.forms import RecordDialog, int_spin, set_active_after_save
from erpgo_desktop.ui.tasks import TaskRunner

TOP_LEVEL = "(top level)"
INDENT = "    "


@dataclass(frozen=True)
class _Loaded:
    categories: tuple[CategoryRow, ...]
    category: CategoryRow | None


def subtree(categories: Sequence[CategoryRow], root: uuid.UUID) -> set[uuid.UUID]:
    """`root` and every category below it, by parent links."""
    children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category.id)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def tree_order(categories: Sequence[CategoryRow]) -> list[CategoryRow]:
    """Parents before their children, siblings by sort order and name (depth first)."""
    children: dict[uuid.UUID | None, list[CategoryRow]] = {}
    known = {c.id for c in categories}
    for category in categories:
        parent = category.parent_id if category.parent_id in known else None
        children.setdefault(parent, []).append(category)
    ordered: list[CategoryRow] = []

    def walk(parent: uuid.UUID | None) -> None:
        for child in sorted(children.get(parent, ()), key=lambda c: (c.sort_order, c.name.lower())):
            ordered.append(child)
            walk(child.id)

    walk(None)
    return ordered


class CategoryDialog(RecordDialog):
    record_table = "product_categories"
    write_permission = perms.PRODUCTS_WRITE

    def __init__(
        self,
        categories: CategoryService,
        runner: TaskRunner,
        acting: CurrentUser,
        record_id: uuid.UUID | None = None,
        parent: QWidget | None = None,
        *,
        history: HistoryService,
    ) -> None:
        super().__init__(runner, acting, record_id, parent)
        self._categories = categories
        #: Ids the parent picker leaves out: this category and its subtree.
        self.excluded: set[uuid.UUID] = set()
        self.setWindowTitle("Edit category" if record_id else "New category")
        self.setMinimumWidth(440)
        self.tabs = self.add_tabs()
        form = self.add_page(self.tabs, "Ca&tegory")
        self.name = self.add_row(form, "name", "&Name:", QLineEdit())
        self.name.setMaxLength(200)
        self.parent_picker = self.add_row(form, "parent_id", "&Parent:", QComboBox())
        self.description = self.add_row(form, "description", "&Description:", QPlainTextEdit())
        self.description.setTabChangesFocus(True)
        self.description.setFixedHeight(70)
        self.sort_order = self.add_row(
            form,
            "sort_order",
            "&Sort order:",
            int_spin(-rules.MAX_SORT_ORDER, rules.MAX_SORT_ORDER),
        )
        self.is_active = self.add_row(form, "is_active", None, QCheckBox("&Active"))
        self.is_active.setChecked(True)
        self.add_history_page(self.tabs, history)
        self.finish()

        def fetch() -> _Loaded:
            everything = categories.list_categories(acting)
            own = next((c for c in everything if c.id == record_id), None)
            if record_id is not None and own is None:
                own = categories.get_category(acting, record_id)  # raises NotFoundError
            return _Loaded(everything, own)

        self.load(fetch)

    def apply_loaded(self, result: _Loaded) -> None:
        own = result.category
        self.excluded = subtree(result.categories, own.id) if own is not None else set()
        self.parent_picker.clear()
        self.parent_picker.addItem(TOP_LEVEL, "")
        for category in tree_order(result.categories):
            if category.id in self.excluded:
                continue
            current_parent = own is not None and category.id == own.parent_id
            if not category.is_active and not current_parent:
                continue
            indent = INDENT * (category.level - 1 if category.level else 0)
            suffix = "" if category.is_active else " (inactive)"
            self.parent_picker.addItem(f"{indent}{category.name}{suffix}", str(category.id))
        if own is not None:
            self.apply_row(own)

    def use_services(self, services: Services) -> None:
        self._categories = services.categories

    def fill(self, row: CategoryRow) -> None:
        self.name.setText(row.name)
        index = self.parent_picker.findData(str(row.parent_id) if row.parent_id else "")
        if index < 0:  # the other version's parent, not in the list: show its path
            parent_path = row.path.rsplit("/", 1)[0].lstrip("/") or TOP_LEVEL
            self.parent_picker.addItem(parent_path, str(row.parent_id))
            index = self.parent_picker.count() - 1
        self.parent_picker.setCurrentIndex(index)
        self.description.setPlainText(row.description or "")
        self.sort_order.setValue(row.sort_order)
        self.is_active.setChecked(row.is_active)

    def draft(self) -> CategoryDraft:
        chosen = self.parent_picker.currentData()
        parent_id = uuid.UUID(chosen) if chosen else None
        if parent_id is not None and parent_id in self.excluded:
            raise ValidationError(
                "A category cannot be put below itself or one of its subcategories.",
                field="parent_id",
            )
        return CategoryDraft(
            name=self.name.text(),
            parent_id=parent_id,
            description=self.description.toPlainText(),
            sort_order=self.sort_order.value(),
        )

    def prepare_save(self) -> Callable[[], CategoryRow]:
        draft = rules.check_category(self.draft())
        categories, acting = self._categories, self.acting
        record_id, version = self.record_id, self.version
        active = self.is_active.isChecked()

        def save() -> CategoryRow:
            if record_id is None:
                row = categories.create_category(acting, draft)
            else:
                assert version is not None
                row = categories.update_category(acting, record_id, draft, expected_version=version)
            return set_active_after_save(
                row,
                active,
                lambda r: categories.deactivate_category(acting, r.id, expected_version=r.version),
                lambda r: categories.reactivate_category(acting, r.id, expected_version=r.version),
            )

        return save
