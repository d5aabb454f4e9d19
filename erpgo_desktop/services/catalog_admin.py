"""Editing the product catalog: categories, products and their variants.

Each public method is one user action in its own transaction (`Service._write`), checks
the permission first (products.read to read, products.write to change), validates its
input with the pure rules of `domain.catalog`, and returns plain frozen rows.

Edits carry the version the person opened. The row is locked (SELECT ... FOR UPDATE)
before its version is compared, so a mismatch is always found here and reported with who
saved last and when, and with the record as it is now.

Categories form a tree kept in `parent_id` with a materialized `path` of names
('/Electronics/Phones/Smartphones') and a `level` (1 at the root). Every change to the
tree takes one transaction-scoped advisory lock, so two workstations can neither build a
cycle by moving two categories under each other at once nor create two siblings of the
same name; a rename or move rewrites the path and level of the whole subtree in the same
transaction.

Stock is not changed here (the inventory service does that through StockLedger); variants'
per-warehouse stock can be read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, delete, func, insert, literal, select, text, update
from sqlalchemy.orm import Session, aliased

from erpgo_desktop.db.models import (
    InventoryTransaction,
    OrderItem,
    Product,
    ProductCategory,
    ProductInventory,
    ProductVariant,
    User,
    VariantInventory,
    Warehouse,
)
from erpgo_desktop.domain import catalog as rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.catalog import CategoryDraft, ProductDraft, VariantDraft
from erpgo_desktop.errors import ConflictError, NotFoundError, ValidationError
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.base import Service, require, stale_message

__all__ = [
    "CategoryDraft",
    "CategoryRow",
    "CategoryService",
    "ProductDetail",
    "ProductDraft",
    "ProductService",
    "VariantDraft",
    "VariantRow",
    "VariantService",
    "VariantStockRow",
]

# pg_advisory_xact_lock key taken by every change to the category tree ("CTRE").
CATEGORY_TREE_LOCK = 0x43545245
# No tree is deeper: a path of 1,000 characters holds at most 500 names.
_MAX_DEPTH = rules.CATEGORY_PATH_LENGTH // 2


# --- rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryRow:
    id: uuid.UUID
    name: str
    description: str | None
    parent_id: uuid.UUID | None
    path: str
    level: int
    sort_order: int
    is_active: bool
    created_at: datetime | None
    updated_at: datetime | None
    #: The username of whoever saved last (None: not recorded, e.g. demo data).
    updated_by_name: str | None
    version: int

    def to_draft(self) -> CategoryDraft:
        return CategoryDraft(
            name=self.name,
            parent_id=self.parent_id,
            description=self.description,
            sort_order=self.sort_order,
        )


@dataclass(frozen=True)
class ProductDetail:
    """A product with every field a person edits, as stored now."""

    id: uuid.UUID
    sku: str
    name: str
    category_id: uuid.UUID
    category_path: str
    price: Decimal
    cost: Decimal
    description: str | None
    short_description: str | None
    weight: Decimal
    dimensions: str | None
    length: Decimal
    width: Decimal
    height: Decimal
    volume: Decimal
    barcode: str | None
    track_inventory: bool
    stock_quantity: int
    min_stock_level: int
    max_stock_level: int
    allow_backorder: bool
    requires_shipping: bool
    taxable: bool
    tax_rate: Decimal
    is_active: bool
    is_featured: bool
    is_digital: bool
    download_url: str | None
    max_downloads: int
    expiry_days: int
    created_at: datetime
    updated_at: datetime
    updated_by_name: str | None
    version: int

    def to_draft(self) -> ProductDraft:
        return ProductDraft(**{f.name: getattr(self, f.name) for f in fields(ProductDraft)})


@dataclass(frozen=True)
class VariantRow:
    id: uuid.UUID
    product_id: uuid.UUID
    sku: str
    name: str
    price: Decimal
    cost: Decimal
    weight: Decimal
    barcode: str | None
    track_inventory: bool
    #: The sum of on hand over all warehouses, kept by the database.
    stock_quantity: int
    min_stock_level: int
    max_stock_level: int
    allow_backorder: bool
    is_active: bool
    attributes: Mapping[str, str]
    created_at: datetime
    updated_at: datetime
    updated_by_name: str | None
    version: int

    def to_draft(self) -> VariantDraft:
        return VariantDraft(**{f.name: getattr(self, f.name) for f in fields(VariantDraft)})


@dataclass(frozen=True)
class VariantStockRow:
    """A variant's stock in one warehouse."""

    warehouse_id: uuid.UUID
    warehouse_code: str
    warehouse_name: str
    on_hand: int
    reserved: int
    reorder_level: int
    max_stock: int | None

    @property
    def sellable(self) -> int:
        return self.on_hand - self.reserved


# --- categories ---------------------------------------------------------------------------


class CategoryService(Service):
    """The category tree."""

    def list_categories(
        self, acting: CurrentUser, *, include_inactive: bool = True
    ) -> tuple[CategoryRow, ...]:
        """Every category, parents before their children (by level, sort order, name)."""
        require(acting, perms.PRODUCTS_READ)

        def work(session: Session) -> tuple[CategoryRow, ...]:
            statement = _category_select().order_by(
                ProductCategory.level, ProductCategory.sort_order, ProductCategory.name
            )
            if not include_inactive:
                statement = statement.where(ProductCategory.is_active.is_not(False))
            return tuple(_category_row(*r) for r in session.execute(statement).all())

        return self._read(work)

    def get_category(self, acting: CurrentUser, category_id: uuid.UUID) -> CategoryRow:
        require(acting, perms.PRODUCTS_READ)
        return self._read(lambda session: _category(session, category_id))

    def create_category(self, acting: CurrentUser, draft: CategoryDraft) -> CategoryRow:
        require(acting, perms.PRODUCTS_WRITE)
        clean = rules.check_category(draft)

        def work(session: Session) -> CategoryRow:
            _lock_tree(session)
            parent = _parent(session, clean.parent_id)
            _check_sibling_name(session, clean.parent_id, clean.name, exclude=None)
            path = rules.category_path(_path_of(parent), clean.name)
            rules.check_path_length(len(path))
            new_id = session.execute(
                insert(ProductCategory)
                .values(
                    name=clean.name,
                    description=clean.description,
                    parent_id=clean.parent_id,
                    path=path,
                    level=rules.category_level(parent.level if parent else None),
                    sort_order=clean.sort_order,
                    is_active=True,
                    updated_by=acting.id,
                )
                .returning(ProductCategory.id)
            ).scalar_one()
            return _category(session, new_id)

        return self._write(work)

    def update_category(
        self,
        acting: CurrentUser,
        category_id: uuid.UUID,
        draft: CategoryDraft,
        *,
        expected_version: int,
    ) -> CategoryRow:
        """Save name, description, sort order and parent; a new name or parent rewrites the
        path and level of the category and of everything below it."""
        require(acting, perms.PRODUCTS_WRITE)
        clean = rules.check_category(draft)
        return self._save_category(acting, category_id, expected_version, lambda _: clean)

    def move_category(
        self,
        acting: CurrentUser,
        category_id: uuid.UUID,
        new_parent_id: uuid.UUID | None,
        *,
        expected_version: int,
    ) -> CategoryRow:
        """Put the category (with its subtree) under another parent, or at the top (None)."""
        require(acting, perms.PRODUCTS_WRITE)

        def moved(category: ProductCategory) -> CategoryDraft:
            return CategoryDraft(
                name=category.name,
                parent_id=new_parent_id,
                description=category.description,
                sort_order=category.sort_order or 0,
            )

        return self._save_category(acting, category_id, expected_version, moved)

    def _save_category(
        self,
        acting: CurrentUser,
        category_id: uuid.UUID,
        expected_version: int,
        change: Callable[[ProductCategory], CategoryDraft],
    ) -> CategoryRow:
        def work(session: Session) -> CategoryRow:
            _lock_tree(session)
            category = _locked(session, ProductCategory, category_id, "category")
            _check_version(
                category.version, expected_version, lambda: _category(session, category_id)
            )
            clean = change(category)
            moved = clean.parent_id != category.parent_id
            if moved:
                _check_not_below_itself(session, category_id, clean.parent_id)
            parent = _parent(session, clean.parent_id, must_be_active=moved)
            if moved or clean.name != category.name:
                _check_sibling_name(session, clean.parent_id, clean.name, exclude=category_id)
            path = rules.category_path(_path_of(parent), clean.name)
            level = rules.category_level(parent.level if parent else None)
            category.name = clean.name
            category.description = clean.description
            category.sort_order = clean.sort_order
            category.parent_id = clean.parent_id
            category.updated_by = acting.id
            if path != category.path or level != category.level:
                category.path, category.level = path, level
                session.flush()
                _rewrite_subtree(session, category_id, path, level)
            session.flush()
            return _category(session, category_id)

        return self._write(work)

    def deactivate_category(
        self, acting: CurrentUser, category_id: uuid.UUID, *, expected_version: int
    ) -> CategoryRow:
        """Hide the category from new products and new subcategories; what is in it stays."""
        return self._set_category_active(acting, category_id, False, expected_version)

    def reactivate_category(
        self, acting: CurrentUser, category_id: uuid.UUID, *, expected_version: int
    ) -> CategoryRow:
        return self._set_category_active(acting, category_id, True, expected_version)

    def _set_category_active(
        self, acting: CurrentUser, category_id: uuid.UUID, active: bool, expected_version: int
    ) -> CategoryRow:
        require(acting, perms.PRODUCTS_WRITE)

        def work(session: Session) -> CategoryRow:
            _lock_tree(session)
            category = _locked(session, ProductCategory, category_id, "category")
            _check_version(
                category.version, expected_version, lambda: _category(session, category_id)
            )
            category.is_active = active
            category.updated_by = acting.id
            session.flush()
            return _category(session, category_id)

        return self._write(work)

    def delete_category(
        self, acting: CurrentUser, category_id: uuid.UUID, *, expected_version: int
    ) -> None:
        """Delete a category that holds no products and no subcategories."""
        require(acting, perms.PRODUCTS_WRITE)

        def work(session: Session) -> None:
            _lock_tree(session)
            category = _locked(session, ProductCategory, category_id, "category")
            _check_version(
                category.version, expected_version, lambda: _category(session, category_id)
            )
            children = _count(session, ProductCategory.parent_id == category_id)
            products = _count(session, Product.category_id == category_id)
            if children or products:
                held = " and ".join(
                    part
                    for part in (
                        _plural(children, "subcategory", "subcategories"),
                        _plural(products, "product", "products"),
                    )
                    if part
                )
                raise ConflictError(
                    f"The category {category.name!r} holds {held}, so it cannot be deleted. "
                    "Move them elsewhere first, or deactivate the category instead."
                )
            session.delete(category)
            session.flush()

        self._write(work)


def _lock_tree(session: Session) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CATEGORY_TREE_LOCK})


def _parent(
    session: Session, parent_id: uuid.UUID | None, *, must_be_active: bool = True
) -> ProductCategory | None:
    if parent_id is None:
        return None
    parent = session.get(ProductCategory, parent_id)
    if parent is None:
        raise ValidationError("The parent category does not exist (any more).", field="parent_id")
    if must_be_active and parent.is_active is False:
        raise ValidationError(
            f"The category {parent.name!r} is inactive; reactivate it to put categories in it.",
            field="parent_id",
        )
    return parent


def _path_of(category: ProductCategory | None) -> str | None:
    if category is None:
        return None
    # Rows written without a path (by hand, before these services) count as top categories
    # with their own name, like the path the next rename will give them.
    return category.path or rules.category_path(None, category.name)


def _check_sibling_name(
    session: Session, parent_id: uuid.UUID | None, name: str, *, exclude: uuid.UUID | None
) -> None:
    """Sibling names differ (ignoring case), so that every path names one category."""
    statement = select(ProductCategory.name).where(
        ProductCategory.parent_id.is_not_distinct_from(parent_id),
        func.lower(ProductCategory.name) == name.lower(),
    )
    if exclude is not None:
        statement = statement.where(ProductCategory.id != exclude)
    taken = session.scalar(statement.limit(1))
    if taken is not None:
        where = "at the top" if parent_id is None else "in this parent category"
        raise ConflictError(f"There is a category {taken!r} {where} already.", field="name")


def _check_not_below_itself(
    session: Session, category_id: uuid.UUID, new_parent_id: uuid.UUID | None
) -> None:
    if new_parent_id is None:
        return
    if new_parent_id == category_id:
        raise ValidationError("A category cannot be its own parent.", field="parent_id")
    # The ancestors of the new parent, walked up by parent_id; UNION stops at a repeat.
    up = (
        select(ProductCategory.id, ProductCategory.parent_id)
        .where(ProductCategory.id == new_parent_id)
        .cte("up", recursive=True)
    )
    above = aliased(ProductCategory)
    up = up.union(select(above.id, above.parent_id).join(up, above.id == up.c.parent_id))
    if session.scalar(select(literal(True)).where(up.c.id == category_id).limit(1)):
        raise ValidationError(
            "A category cannot be moved below one of its own subcategories.", field="parent_id"
        )


def _rewrite_subtree(session: Session, root_id: uuid.UUID, path: str, level: int) -> None:
    """Give every category below `root_id` the path and level its new place implies."""
    below = aliased(ProductCategory)
    tree = select(
        literal(root_id).label("id"),
        literal(path).label("path"),
        literal(level).label("level"),
    ).cte("tree", recursive=True)
    tree = tree.union_all(
        select(
            below.id,
            (tree.c.path + rules.CATEGORY_SEPARATOR + below.name).label("path"),
            (tree.c.level + 1).label("level"),
        )
        .join(tree, below.parent_id == tree.c.id)
        .where(tree.c.level < _MAX_DEPTH + 1)
    )
    longest = session.scalar(select(func.max(func.length(tree.c.path)))) or 0
    rules.check_path_length(longest)
    session.execute(
        update(ProductCategory)
        .where(ProductCategory.id == tree.c.id, ProductCategory.id != root_id)
        .where(
            ProductCategory.path.is_distinct_from(tree.c.path)
            | (ProductCategory.level != tree.c.level)
        )
        .values(path=tree.c.path, level=tree.c.level)
        # Derived columns: the subcategories' versions stay, so nobody editing one of them
        # meets a conflict for a change they could not have made.
        .execution_options(synchronize_session=False)
    )


def _category_select() -> Select[ProductCategory, str | None]:
    return (
        select(ProductCategory, User.username)
        .outerjoin(User, User.id == ProductCategory.updated_by)
        .execution_options(populate_existing=True)
    )


def _category_row(category: ProductCategory, updated_by_name: str | None) -> CategoryRow:
    return CategoryRow(
        id=category.id,
        name=category.name,
        description=category.description,
        parent_id=category.parent_id,
        path=_path_of(category) or "",
        level=category.level,
        sort_order=category.sort_order or 0,
        is_active=category.is_active is not False,
        created_at=category.created_at,
        updated_at=category.updated_at,
        updated_by_name=updated_by_name,
        version=category.version,
    )


def _category(session: Session, category_id: uuid.UUID) -> CategoryRow:
    found = session.execute(_category_select().where(ProductCategory.id == category_id)).first()
    if found is None:
        raise NotFoundError("This category does not exist (any more).")
    return _category_row(*found)


# --- products -----------------------------------------------------------------------------


class ProductService(Service):
    """Products: one at a time, with every field. Lists are ProductCatalogService's."""

    def get_product(self, acting: CurrentUser, product_id: uuid.UUID) -> ProductDetail:
        require(acting, perms.PRODUCTS_READ)
        return self._read(lambda session: _product(session, product_id))

    def create_product(self, acting: CurrentUser, draft: ProductDraft) -> ProductDetail:
        require(acting, perms.PRODUCTS_WRITE)
        clean = rules.check_product(draft)

        def work(session: Session) -> ProductDetail:
            _usable_category(session, clean.category_id)
            _check_sku_free(session, clean.sku, exclude=None)
            values = {f.name: getattr(clean, f.name) for f in fields(ProductDraft)}
            new_id = session.execute(
                insert(Product)
                .values(**values, is_active=True, updated_by=acting.id)
                .returning(Product.id)
            ).scalar_one()
            return _product(session, new_id)

        return self._write(work)

    def update_product(
        self,
        acting: CurrentUser,
        product_id: uuid.UUID,
        draft: ProductDraft,
        *,
        expected_version: int,
    ) -> ProductDetail:
        require(acting, perms.PRODUCTS_WRITE)
        clean = rules.check_product(draft)

        def work(session: Session) -> ProductDetail:
            product = _locked(session, Product, product_id, "product")
            _check_version(product.version, expected_version, lambda: _product(session, product_id))
            if clean.category_id != product.category_id:
                _usable_category(session, clean.category_id)
            if clean.sku != product.sku:
                _check_sku_free(session, clean.sku, exclude=product_id)
            if product.track_inventory and not clean.track_inventory:
                _check_no_stock(
                    session,
                    ProductInventory,
                    ProductInventory.product_id == product_id,
                    product.sku,
                )
            for f in fields(ProductDraft):
                setattr(product, f.name, getattr(clean, f.name))
            product.updated_by = acting.id
            session.flush()
            return _product(session, product_id)

        return self._write(work)

    def deactivate_product(
        self, acting: CurrentUser, product_id: uuid.UUID, *, expected_version: int
    ) -> ProductDetail:
        """The soft delete: the product stays for the orders and stock that refer to it."""
        return self._set_product_active(acting, product_id, False, expected_version)

    def reactivate_product(
        self, acting: CurrentUser, product_id: uuid.UUID, *, expected_version: int
    ) -> ProductDetail:
        return self._set_product_active(acting, product_id, True, expected_version)

    def _set_product_active(
        self, acting: CurrentUser, product_id: uuid.UUID, active: bool, expected_version: int
    ) -> ProductDetail:
        require(acting, perms.PRODUCTS_WRITE)

        def work(session: Session) -> ProductDetail:
            product = _locked(session, Product, product_id, "product")
            _check_version(product.version, expected_version, lambda: _product(session, product_id))
            product.is_active = active
            product.updated_by = acting.id
            session.flush()
            return _product(session, product_id)

        return self._write(work)

    def delete_product(
        self, acting: CurrentUser, product_id: uuid.UUID, *, expected_version: int
    ) -> None:
        """Delete a product nothing refers to (no order line, no stock movement); one that is
        referred to is refused with the advice to deactivate it."""
        require(acting, perms.PRODUCTS_WRITE)

        def work(session: Session) -> None:
            # FOR UPDATE also holds off new order lines and stock rows: inserting them takes
            # a key-share lock on this row.
            product = _locked(session, Product, product_id, "product")
            _check_version(product.version, expected_version, lambda: _product(session, product_id))
            lines = _count(session, OrderItem.product_id == product_id)
            moves = _count(session, InventoryTransaction.product_id == product_id)
            _refuse_if_referred(f"The product {product.sku}", lines, moves)
            # Variants and empty stock rows go with it (ON DELETE CASCADE).
            session.delete(product)
            session.flush()

        self._write(work)


def _usable_category(session: Session, category_id: uuid.UUID) -> None:
    category = session.get(ProductCategory, category_id)
    if category is None:
        raise ValidationError("That category does not exist (any more).", field="category_id")
    if category.is_active is False:
        raise ValidationError(
            f"The category {category.name!r} is inactive; choose another or reactivate it.",
            field="category_id",
        )


def _check_sku_free(session: Session, sku: str, *, exclude: uuid.UUID | None) -> None:
    statement = select(Product.name, Product.is_active).where(Product.sku == sku)
    if exclude is not None:
        statement = statement.where(Product.id != exclude)
    taken = session.execute(statement.limit(1)).first()
    if taken is not None:
        name, active = taken
        state = "" if active else " (inactive)"
        raise ConflictError(
            f"The SKU {sku} is already used by the product {name!r}{state}; "
            "every product needs its own SKU.",
            field="sku",
        )


def _product(session: Session, product_id: uuid.UUID) -> ProductDetail:
    found = session.execute(
        select(Product, ProductCategory.path, ProductCategory.name, User.username)
        .join(ProductCategory, ProductCategory.id == Product.category_id)
        .outerjoin(User, User.id == Product.updated_by)
        .where(Product.id == product_id)
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise NotFoundError("This product does not exist (any more).")
    product, path, category_name, updated_by_name = found
    values: dict[str, Any] = {f.name: getattr(product, f.name) for f in fields(ProductDraft)}
    return ProductDetail(
        **values,
        id=product.id,
        category_path=path or rules.category_path(None, category_name),
        stock_quantity=product.stock_quantity,
        is_active=product.is_active,
        created_at=product.created_at,
        updated_at=product.updated_at,
        updated_by_name=updated_by_name,
        version=product.version,
    )


# --- variants -----------------------------------------------------------------------------


class VariantService(Service):
    """A product's variants; their stock is read here and moved by the inventory service."""

    def list_variants(
        self, acting: CurrentUser, product_id: uuid.UUID, *, include_inactive: bool = True
    ) -> tuple[VariantRow, ...]:
        """The product's variants by SKU."""
        require(acting, perms.PRODUCTS_READ)

        def work(session: Session) -> tuple[VariantRow, ...]:
            if session.get(Product, product_id) is None:
                raise NotFoundError("This product does not exist (any more).")
            statement = (
                _variant_select()
                .where(ProductVariant.product_id == product_id)
                .order_by(ProductVariant.sku, ProductVariant.id)
            )
            if not include_inactive:
                statement = statement.where(ProductVariant.is_active.is_(True))
            return tuple(_variant_row(*r) for r in session.execute(statement).all())

        return self._read(work)

    def get_variant(self, acting: CurrentUser, variant_id: uuid.UUID) -> VariantRow:
        require(acting, perms.PRODUCTS_READ)
        return self._read(lambda session: _variant(session, variant_id))

    def variant_stock(
        self, acting: CurrentUser, variant_id: uuid.UUID
    ) -> tuple[VariantStockRow, ...]:
        """The variant's stock per warehouse (warehouses it never had stock in are left out),
        by warehouse code."""
        require(acting, perms.PRODUCTS_READ)

        def work(session: Session) -> tuple[VariantStockRow, ...]:
            if session.get(ProductVariant, variant_id) is None:
                raise NotFoundError("This variant does not exist (any more).")
            rows = session.execute(
                select(
                    Warehouse.id,
                    Warehouse.code,
                    Warehouse.name,
                    VariantInventory.quantity_available,
                    VariantInventory.quantity_reserved,
                    VariantInventory.reorder_level,
                    VariantInventory.max_stock,
                )
                .join(Warehouse, Warehouse.id == VariantInventory.warehouse_id)
                .where(VariantInventory.variant_id == variant_id)
                .order_by(Warehouse.code)
            ).all()
            return tuple(VariantStockRow(*row) for row in rows)

        return self._read(work)

    def create_variant(
        self, acting: CurrentUser, product_id: uuid.UUID, draft: VariantDraft
    ) -> VariantRow:
        require(acting, perms.PRODUCTS_WRITE)
        clean = rules.check_variant(draft)

        def work(session: Session) -> VariantRow:
            if session.get(Product, product_id) is None:
                raise NotFoundError("This product does not exist (any more).")
            _check_variant_sku_free(session, product_id, clean.sku, exclude=None)
            new_id = session.execute(
                insert(ProductVariant)
                .values(
                    **_variant_values(clean),
                    product_id=product_id,
                    is_active=True,
                    updated_by=acting.id,
                )
                .returning(ProductVariant.id)
            ).scalar_one()
            return _variant(session, new_id)

        return self._write(work)

    def update_variant(
        self,
        acting: CurrentUser,
        variant_id: uuid.UUID,
        draft: VariantDraft,
        *,
        expected_version: int,
    ) -> VariantRow:
        require(acting, perms.PRODUCTS_WRITE)
        clean = rules.check_variant(draft)

        def work(session: Session) -> VariantRow:
            variant = _locked(session, ProductVariant, variant_id, "variant")
            _check_version(variant.version, expected_version, lambda: _variant(session, variant_id))
            if clean.sku != variant.sku:
                _check_variant_sku_free(session, variant.product_id, clean.sku, exclude=variant_id)
            if variant.track_inventory and not clean.track_inventory:
                _check_no_stock(
                    session,
                    VariantInventory,
                    VariantInventory.variant_id == variant_id,
                    variant.sku,
                )
            for name, value in _variant_values(clean).items():
                setattr(variant, name, value)
            variant.updated_by = acting.id
            session.flush()
            return _variant(session, variant_id)

        return self._write(work)

    def deactivate_variant(
        self, acting: CurrentUser, variant_id: uuid.UUID, *, expected_version: int
    ) -> VariantRow:
        return self._set_variant_active(acting, variant_id, False, expected_version)

    def reactivate_variant(
        self, acting: CurrentUser, variant_id: uuid.UUID, *, expected_version: int
    ) -> VariantRow:
        return self._set_variant_active(acting, variant_id, True, expected_version)

    def _set_variant_active(
        self, acting: CurrentUser, variant_id: uuid.UUID, active: bool, expected_version: int
    ) -> VariantRow:
        require(acting, perms.PRODUCTS_WRITE)

        def work(session: Session) -> VariantRow:
            variant = _locked(session, ProductVariant, variant_id, "variant")
            _check_version(variant.version, expected_version, lambda: _variant(session, variant_id))
            variant.is_active = active
            variant.updated_by = acting.id
            session.flush()
            return _variant(session, variant_id)

        return self._write(work)

    def delete_variant(
        self, acting: CurrentUser, variant_id: uuid.UUID, *, expected_version: int
    ) -> None:
        """Delete a variant no order line and no stock movement refers to."""
        require(acting, perms.PRODUCTS_WRITE)

        def work(session: Session) -> None:
            variant = _locked(session, ProductVariant, variant_id, "variant")
            _check_version(variant.version, expected_version, lambda: _variant(session, variant_id))
            lines = _count(session, OrderItem.variant_id == variant_id)
            moves = _count(session, InventoryTransaction.variant_id == variant_id)
            _refuse_if_referred(f"The variant {variant.sku}", lines, moves)
            session.execute(delete(ProductVariant).where(ProductVariant.id == variant_id))

        self._write(work)


def _variant_values(clean: VariantDraft) -> dict[str, Any]:
    values = {f.name: getattr(clean, f.name) for f in fields(VariantDraft)}
    values["attributes"] = dict(clean.attributes)  # JSONB takes a plain dict
    return values


def _check_variant_sku_free(
    session: Session, product_id: uuid.UUID, sku: str, *, exclude: uuid.UUID | None
) -> None:
    statement = select(ProductVariant.name).where(
        ProductVariant.product_id == product_id, ProductVariant.sku == sku
    )
    if exclude is not None:
        statement = statement.where(ProductVariant.id != exclude)
    taken = session.scalar(statement.limit(1))
    if taken is not None:
        raise ConflictError(
            f"The variant {taken!r} of this product already has the SKU {sku}.", field="sku"
        )


def _variant_select() -> Select[ProductVariant, str | None]:
    return (
        select(ProductVariant, User.username)
        .outerjoin(User, User.id == ProductVariant.updated_by)
        .execution_options(populate_existing=True)
    )


def _variant_row(variant: ProductVariant, updated_by_name: str | None) -> VariantRow:
    attributes = variant.attributes if isinstance(variant.attributes, dict) else {}
    return VariantRow(
        id=variant.id,
        product_id=variant.product_id,
        sku=variant.sku,
        name=variant.name,
        price=variant.price,
        cost=variant.cost,
        weight=variant.weight,
        barcode=variant.barcode,
        track_inventory=variant.track_inventory,
        stock_quantity=variant.stock_quantity,
        min_stock_level=variant.min_stock_level,
        max_stock_level=variant.max_stock_level,
        allow_backorder=variant.allow_backorder,
        is_active=variant.is_active,
        attributes={str(k): str(v) for k, v in attributes.items()},
        created_at=variant.created_at,
        updated_at=variant.updated_at,
        updated_by_name=updated_by_name,
        version=variant.version,
    )


def _variant(session: Session, variant_id: uuid.UUID) -> VariantRow:
    found = session.execute(_variant_select().where(ProductVariant.id == variant_id)).first()
    if found is None:
        raise NotFoundError("This variant does not exist (any more).")
    return _variant_row(*found)


# --- shared -------------------------------------------------------------------------------


LockedT = TypeVar("LockedT", ProductCategory, Product, ProductVariant)


def _locked(session: Session, model: type[LockedT], row_id: uuid.UUID, what: str) -> LockedT:
    """The row, locked for this transaction; NotFoundError when it is gone."""
    row = session.get(model, row_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"This {what} does not exist (any more).")
    return row


class _Versioned(Protocol):
    @property
    def version(self) -> int: ...
    @property
    def updated_by_name(self) -> str | None: ...
    @property
    def updated_at(self) -> datetime | None: ...


def _check_version(found: int, expected: int, current: Callable[[], _Versioned]) -> None:
    """ConflictError, naming who saved last and when, unless the row is still at `expected`."""
    if found != expected:
        row = current()
        raise ConflictError(stale_message(row.updated_by_name, row.updated_at), current=row)


def _count(session: Session, condition: ColumnElement[bool]) -> int:
    """How many rows match (of the one table `condition` names)."""
    return session.scalar(select(func.count()).where(condition)) or 0


def _plural(count: int, one: str, many: str) -> str:
    if count == 0:
        return ""
    return f"{count:,} {one if count == 1 else many}"


def _refuse_if_referred(what: str, order_lines: int, stock_moves: int) -> None:
    if order_lines or stock_moves:
        uses = " and ".join(
            part
            for part in (
                _plural(order_lines, "order line", "order lines"),
                _plural(stock_moves, "stock movement", "stock movements"),
            )
            if part
        )
        raise ConflictError(
            f"{what} is used by {uses}, so it cannot be deleted; deactivate it instead."
        )


def _check_no_stock(
    session: Session,
    stock: type[ProductInventory] | type[VariantInventory],
    owner: ColumnElement[bool],
    sku: str,
) -> None:
    """Inventory tracking stays on while anything is on hand or reserved."""
    on_hand, reserved = session.execute(
        select(
            func.coalesce(func.sum(stock.quantity_available), 0),
            func.coalesce(func.sum(stock.quantity_reserved), 0),
        ).where(owner)
    ).one()
    if on_hand or reserved:
        raise ValidationError(
            f"{sku} has {on_hand:,} on hand ({reserved:,} reserved); inventory tracking can be "
            "turned off only when nothing is in stock.",
            field="track_inventory",
        )
