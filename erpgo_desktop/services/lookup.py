"""Finding what a clerk types or scans: products and variants by code, or by part of a name.

A barcode scanner types the code and Enter, so order entry and the stock dialogs need an
exact lookup that answers in a few milliseconds over a million products: SKUs and
barcodes are indexed for equality (revision 0005 for barcodes). Typing part of a name or
SKU is answered by the trigram indexes of revision 0003, a few suggestions at a time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import CompoundSelect, Select, and_, literal, or_, select, union_all
from sqlalchemy.orm import Session

from erpgo_desktop.db.models import Product, ProductVariant
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.validation import check_search
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.base import Service, require
from erpgo_desktop.services.listing import escape_like

MAX_CODE_LENGTH = 100  # the longest SKU
MAX_SUGGESTIONS = 50


@dataclass(frozen=True)
class SellableItem:
    """A product, or one variant of it, as a line of an order or a stock movement names it."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    sku: str  # the variant's own SKU for a variant
    name: str  # "Product name — variant name" for a variant
    barcode: str | None
    price: Decimal
    track_inventory: bool
    allow_backorder: bool
    #: Over all warehouses; what the product (or variant) row keeps up to date.
    stock_quantity: int
    is_digital: bool

    @property
    def label(self) -> str:
        return f"{self.sku} — {self.name}"


class ItemLookupService(Service):
    def find_by_code(self, acting: CurrentUser, code: str) -> tuple[SellableItem, ...]:
        """Active products and variants whose SKU or barcode is exactly `code` (ignoring
        surrounding blanks): usually one; several when a variant SKU repeats across
        products or a barcode was given twice, for the user to choose."""
        require(acting, perms.PRODUCTS_READ)
        term = _checked(code)
        if not term:
            return ()
        products = _product_select().where(
            Product.is_active.is_(True), or_(Product.sku == term, Product.barcode == term)
        )
        variants = _variant_select().where(
            ProductVariant.is_active.is_(True),
            Product.is_active.is_(True),
            or_(ProductVariant.sku == term, ProductVariant.barcode == term),
        )
        statement = union_all(products, variants).order_by("sku").limit(MAX_SUGGESTIONS)
        return self._read(lambda session: _items(session, statement))

    def resolve(self, acting: CurrentUser, text: str, limit: int = 12) -> tuple[SellableItem, ...]:
        """What a person means by `text` typed or scanned then Enter, wherever an item is
        entered: the item whose SKU or barcode it is exactly, else the items whose SKU, name
        or barcode contains it (`suggest`). One is taken, several are offered, none is
        said so."""
        return self.find_by_code(acting, text) or self.suggest(acting, text, limit)

    def suggest(self, acting: CurrentUser, text: str, limit: int = 12) -> tuple[SellableItem, ...]:
        """Active products whose SKU, name or barcode contains `text`, and their active
        variants whose SKU or name does; SKUs starting with `text` first, then by SKU."""
        require(acting, perms.PRODUCTS_READ)
        if not 1 <= limit <= MAX_SUGGESTIONS:
            raise ValidationError(f"Ask for 1 to {MAX_SUGGESTIONS} suggestions, not {limit}.")
        term = _checked(text)
        if not term:
            return ()
        pattern = f"%{escape_like(term)}%"
        products = _product_select().where(
            Product.is_active.is_(True),
            or_(
                Product.sku.ilike(pattern, escape="\\"),
                Product.name.ilike(pattern, escape="\\"),
                Product.barcode.ilike(pattern, escape="\\"),
            ),
        )
        variants = _variant_select().where(
            and_(ProductVariant.is_active.is_(True), Product.is_active.is_(True)),
            or_(
                ProductVariant.sku.ilike(pattern, escape="\\"),
                ProductVariant.name.ilike(pattern, escape="\\"),
                ProductVariant.barcode == term,
            ),
        )
        # Each side stops at `limit` before the two are merged, so a broad term reads a
        # few rows of each index instead of every match.
        matches = union_all(products.limit(limit), variants.limit(limit)).subquery()
        prefix = f"{escape_like(term)}%"
        statement = (
            select(matches)
            .order_by(matches.c.sku.ilike(prefix, escape="\\").desc(), matches.c.sku)
            .limit(limit)
        )
        return self._read(lambda session: _items(session, statement))


def _checked(text: str) -> str:
    return check_search(text, MAX_CODE_LENGTH, field="code")


def _product_select() -> Select[*tuple[Any, ...]]:
    return select(
        Product.id.label("product_id"),
        literal(None, ProductVariant.id.type).label("variant_id"),
        Product.sku.label("sku"),
        Product.name.label("name"),
        Product.barcode.label("barcode"),
        Product.price.label("price"),
        Product.track_inventory.label("track_inventory"),
        Product.allow_backorder.label("allow_backorder"),
        Product.stock_quantity.label("stock_quantity"),
        Product.is_digital.label("is_digital"),
    )


def _variant_select() -> Select[*tuple[Any, ...]]:
    return select(
        ProductVariant.product_id.label("product_id"),
        ProductVariant.id.label("variant_id"),
        ProductVariant.sku.label("sku"),
        (Product.name + literal(" — ") + ProductVariant.name).label("name"),
        ProductVariant.barcode.label("barcode"),
        ProductVariant.price.label("price"),
        ProductVariant.track_inventory.label("track_inventory"),
        ProductVariant.allow_backorder.label("allow_backorder"),
        ProductVariant.stock_quantity.label("stock_quantity"),
        Product.is_digital.label("is_digital"),
    ).join(Product, Product.id == ProductVariant.product_id)


def _items(
    session: Session, statement: Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]]
) -> tuple[SellableItem, ...]:
    return tuple(
        SellableItem(
            product_id=row.product_id,
            variant_id=row.variant_id,
            sku=row.sku,
            name=row.name,
            barcode=row.barcode,
            price=row.price,
            track_inventory=row.track_inventory,
            allow_backorder=row.allow_backorder,
            stock_quantity=row.stock_quantity,
            is_digital=row.is_digital,
        )
        for row in session.execute(statement)
    )
