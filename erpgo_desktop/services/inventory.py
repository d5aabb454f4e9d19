"""Stock in the warehouses: receipts, adjustments, transfers, counts, and what is low.

Every method is one user action in one transaction. Whatever changes the quantity on hand
goes through `StockLedger`, which locks the stock rows in one global order and writes the
ledger row beside each change, so the ledger of every stock row sums to its quantity on
hand. Warehouses a change depends on are read FOR SHARE: a warehouse cannot be
deactivated or deleted half-way through a receipt into it.

Keys are `StockKey`s: a product in a warehouse, or, with `variant_id`, a variant that
tracks inventory (its own stock in variant_inventory, its own ledger rows).
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Row,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, sessionmaker

from erpgo_desktop.db.models import (
    InventoryTransaction,
    Product,
    ProductInventory,
    ProductVariant,
    User,
    VariantInventory,
    Warehouse,
)
from erpgo_desktop.domain import inventory as rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.validation import check_search
from erpgo_desktop.errors import NotFoundError, ValidationError
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.base import Service, require
from erpgo_desktop.services.listing import ListCount, capped, count_statement, escape_like
from erpgo_desktop.services.search_costs import SampleCache, few_enough_to_collect
from erpgo_desktop.services.stock import StockKey, StockLedger, StockLevel, share_rows

MAX_PAGE_SIZE = 1_000
MAX_SEARCH_LENGTH = 100  # the longest SKU
#: Counts stop here: a status line needs "10,000+", not the cost of counting a million.
DEFAULT_COUNT_CAP = 10_000

__all__ = [
    "EVERY_VARIANT",
    "CountResult",
    "InventoryService",
    "LedgerCursor",
    "LedgerPage",
    "LedgerRow",
    "LowStockCursor",
    "LowStockPage",
    "LowStockRow",
    "RowCount",
    "StockKey",
    "StockLevelRow",
    "StockOverview",
    "TransferResult",
    "WarehouseStock",
    "WarehouseStockCursor",
    "WarehouseStockPage",
    "WarehouseStockRow",
]


class _Every(enum.Enum):
    VARIANTS = "every variant"


#: `ledger(variant_id=EVERY_VARIANT)`: the product's own rows and those of all its variants.
EVERY_VARIANT: Literal[_Every.VARIANTS] = _Every.VARIANTS


@dataclass(frozen=True)
class StockLevelRow:
    """One stock row after a change: a product (or variant) in a warehouse."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    warehouse_id: uuid.UUID
    sku: str  # the variant's SKU for a variant's stock
    warehouse_code: str
    on_hand: int
    reserved: int

    @property
    def sellable(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class TransferResult:
    #: Shared by the two TRANSFER ledger rows.
    reference_id: uuid.UUID
    quantity: int
    source: StockLevelRow
    destination: StockLevelRow


@dataclass(frozen=True)
class CountResult:
    level: StockLevelRow
    previous_on_hand: int
    #: counted - previous on hand; 0 wrote no ledger row.
    difference: int


@dataclass(frozen=True)
class WarehouseStock:
    """A stock row as the overview shows it (zeros where a warehouse holds none yet)."""

    warehouse_id: uuid.UUID
    warehouse_code: str
    warehouse_name: str
    warehouse_active: bool
    variant_id: uuid.UUID | None
    variant_sku: str | None
    on_hand: int
    reserved: int
    #: The row's own settings (0 / None: the product's or variant's apply).
    reorder_level: int
    max_stock: int | None

    @property
    def sellable(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class StockOverview:
    product_id: uuid.UUID
    sku: str
    name: str
    track_inventory: bool
    is_active: bool
    #: products.stock_quantity: the product's own on hand over all warehouses.
    stock_quantity: int
    #: The product's rows first (variant_id None), then each variant's; by warehouse code.
    levels: tuple[WarehouseStock, ...]


@dataclass(frozen=True)
class LowStockCursor:
    warehouse_code: str
    sku: str
    variant_sku: str  # "" for the product's own stock


@dataclass(frozen=True)
class LowStockRow:
    warehouse_id: uuid.UUID
    warehouse_code: str
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    sku: str
    variant_sku: str | None
    name: str
    on_hand: int
    reserved: int
    sellable: int
    #: The reorder level and maximum that apply (the row's own, else the product's).
    reorder_level: int
    maximum: int | None
    reorder_quantity: int

    @property
    def cursor(self) -> LowStockCursor:
        return LowStockCursor(self.warehouse_code, self.sku, self.variant_sku or "")


@dataclass(frozen=True)
class LowStockPage:
    rows: tuple[LowStockRow, ...]
    next_cursor: LowStockCursor | None
    has_more: bool


@dataclass(frozen=True)
class LedgerCursor:
    created_at: datetime
    id: uuid.UUID


@dataclass(frozen=True)
class LedgerRow:
    id: uuid.UUID
    created_at: datetime
    transaction_type: str
    quantity: int
    warehouse_id: uuid.UUID
    warehouse_code: str
    variant_id: uuid.UUID | None
    variant_sku: str | None
    reference_id: uuid.UUID | None
    reason: str | None
    created_by: str | None  # the username


@dataclass(frozen=True)
class LedgerPage:
    """Newest first."""

    rows: tuple[LedgerRow, ...]
    next_cursor: LedgerCursor | None
    has_more: bool


#: How many rows match; when `exact` is false, more than `count` (the lists' count).
RowCount = ListCount


@dataclass(frozen=True)
class WarehouseStockCursor:
    sku: str
    #: The variant's id for a variant's row, else the product's: SKUs may repeat.
    item_id: uuid.UUID


@dataclass(frozen=True)
class WarehouseStockRow:
    """A product's or a variant's stock row in one warehouse, as the warehouse lists it."""

    warehouse_id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    sku: str  # the variant's own SKU for a variant's row
    name: str  # "Product name — variant name" for a variant's row
    #: The product (and the variant) are active.
    is_active: bool
    track_inventory: bool
    on_hand: int
    reserved: int
    #: The reorder level and maximum that apply (the row's own, else the item's).
    reorder_level: int
    maximum: int | None

    @property
    def sellable(self) -> int:
        return self.on_hand - self.reserved

    @property
    def is_low(self) -> bool:
        return rules.is_low_stock(self.sellable, self.reorder_level)

    @property
    def item_id(self) -> uuid.UUID:
        return self.variant_id or self.product_id

    @property
    def key(self) -> StockKey:
        return StockKey(self.product_id, self.warehouse_id, self.variant_id)

    @property
    def cursor(self) -> WarehouseStockCursor:
        return WarehouseStockCursor(self.sku, self.item_id)


@dataclass(frozen=True)
class WarehouseStockPage:
    """By SKU (then item id)."""

    rows: tuple[WarehouseStockRow, ...]
    next_cursor: WarehouseStockCursor | None
    has_more: bool


class InventoryService(Service):
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        super().__init__(session_factory)
        self._samples = SampleCache()

    # -- changes -------------------------------------------------------------------------

    def receive(
        self,
        acting: CurrentUser,
        key: StockKey,
        quantity: int | str | Decimal,
        *,
        note: str | None = None,
    ) -> StockLevelRow:
        """Goods in: an IN ledger row; the warehouse must be active."""
        require(acting, perms.INVENTORY_RECEIVE)
        amount = rules.check_receive_quantity(quantity)
        reason = rules.check_note(note) or "receipt"

        def work(session: Session) -> StockLevelRow:
            _check_item(session, key)
            (warehouse,) = _lock_warehouses(session, [key.warehouse_id]).values()
            rules.check_warehouse_active(warehouse.code, warehouse.is_active)
            ledger = StockLedger(session, acting.id)
            ledger.lock([key])
            return _level_row(ledger.move(key, amount, "IN", reason=reason))

        return self._write(work)

    def adjust(
        self,
        acting: CurrentUser,
        key: StockKey,
        delta: int | str | Decimal,
        reason: str,
    ) -> StockLevelRow:
        """A signed correction with its reason (an ADJUST row). Allowed in an inactive
        warehouse too, so what is left in a closed warehouse can be written off."""
        require(acting, perms.INVENTORY_ADJUST)
        change = rules.check_adjust_delta(delta)
        why = rules.check_reason(reason)

        def work(session: Session) -> StockLevelRow:
            _check_item(session, key)
            _lock_warehouses(session, [key.warehouse_id])
            ledger = StockLedger(session, acting.id)
            ledger.lock([key])
            return _level_row(ledger.move(key, change, "ADJUST", reason=why))

        return self._write(work)

    def transfer(
        self,
        acting: CurrentUser,
        source: StockKey,
        destination_warehouse_id: uuid.UUID,
        quantity: int | str | Decimal,
        *,
        note: str | None = None,
    ) -> TransferResult:
        """Move sellable stock between two different active warehouses: one TRANSFER row
        out of the source (negative) and one into the destination, with one reference."""
        require(acting, perms.INVENTORY_TRANSFER)
        amount = rules.check_transfer_quantity(quantity)
        rules.check_transfer_warehouses(source.warehouse_id, destination_warehouse_id)
        extra = rules.check_note(note)
        destination = StockKey(source.product_id, destination_warehouse_id, source.variant_id)

        def work(session: Session) -> TransferResult:
            _check_item(session, source)
            warehouses = _lock_warehouses(
                session,
                [source.warehouse_id, destination_warehouse_id],
                fields=("source_warehouse", "destination_warehouse"),
            )
            from_wh = warehouses[source.warehouse_id]
            to_wh = warehouses[destination_warehouse_id]
            rules.check_warehouse_active(from_wh.code, from_wh.is_active, "source_warehouse")
            rules.check_warehouse_active(to_wh.code, to_wh.is_active, "destination_warehouse")
            out_reason, in_reason = rules.transfer_reasons(from_wh.code, to_wh.code, extra)
            reference = uuid.uuid4()
            ledger = StockLedger(session, acting.id)
            ledger.lock([source, destination])
            taken = ledger.move(
                source, -amount, "TRANSFER", reference_id=reference, reason=out_reason
            )
            put = ledger.move(
                destination, amount, "TRANSFER", reference_id=reference, reason=in_reason
            )
            return TransferResult(reference, amount, _level_row(taken), _level_row(put))

        return self._write(work)

    def count(
        self,
        acting: CurrentUser,
        key: StockKey,
        counted: int | str | Decimal,
        *,
        note: str | None = None,
    ) -> CountResult:
        """Set on hand to what was counted; an ADJUST row ('count') for any difference."""
        require(acting, perms.INVENTORY_COUNT)
        quantity = rules.check_counted_quantity(counted)
        reason = rules.count_reason(rules.check_note(note))

        def work(session: Session) -> CountResult:
            _check_item(session, key)
            _lock_warehouses(session, [key.warehouse_id])
            ledger = StockLedger(session, acting.id)
            before = ledger.lock([key])[key]
            rules.check_count_covers_reserved(
                quantity, before.reserved, before.sku, before.warehouse_code
            )
            difference = quantity - before.on_hand
            after = ledger.move(key, difference, "ADJUST", reason=reason) if difference else before
            return CountResult(_level_row(after), before.on_hand, difference)

        return self._write(work)

    def set_reorder_levels(
        self,
        acting: CurrentUser,
        key: StockKey,
        reorder_level: int | str,
        max_stock: int | str | None,
    ) -> WarehouseStock:
        """A stock row's reorder level (0: the product's minimum applies) and maximum
        (None: the product's maximum applies). On hand does not change."""
        require(acting, perms.INVENTORY_ADJUST)
        level, maximum = rules.check_reorder_settings(reorder_level, max_stock)

        def work(session: Session) -> WarehouseStock:
            _check_item(session, key)
            _lock_warehouses(session, [key.warehouse_id])
            StockLedger(session, acting.id).lock([key])  # creates the row if missing
            table, owner_column, owner = _stock_table(key)
            session.execute(
                update(table)
                .where(owner_column == owner, table.c.warehouse_id == key.warehouse_id)
                .values(reorder_level=level, max_stock=maximum, updated_by=acting.id)
            )
            levels = _overview_levels(session, key.product_id, track_inventory=True)
            return next(
                row
                for row in levels
                if row.warehouse_id == key.warehouse_id and row.variant_id == key.variant_id
            )

        return self._write(work)

    # -- reading -------------------------------------------------------------------------

    def stock_overview(self, acting: CurrentUser, product_id: uuid.UUID) -> StockOverview:
        """On hand, reserved and sellable of a product (and its variants) per warehouse:
        every active warehouse, and inactive ones that hold a stock row."""
        require(acting, perms.INVENTORY_READ)

        def work(session: Session) -> StockOverview:
            product = session.execute(
                select(
                    Product.sku,
                    Product.name,
                    Product.track_inventory,
                    Product.is_active,
                    Product.stock_quantity,
                ).where(Product.id == product_id)
            ).one_or_none()
            if product is None:
                raise NotFoundError("That product does not exist (any more).", field="product")
            levels = _overview_levels(session, product_id, track_inventory=product.track_inventory)
            return StockOverview(
                product_id=product_id,
                sku=product.sku,
                name=product.name,
                track_inventory=product.track_inventory,
                is_active=product.is_active,
                stock_quantity=product.stock_quantity,
                levels=tuple(levels),
            )

        return self._read(work)

    def low_stock(
        self,
        acting: CurrentUser,
        warehouse_id: uuid.UUID | None = None,
        *,
        after: LowStockCursor | None = None,
        limit: int = 100,
    ) -> LowStockPage:
        """Stock rows whose sellable quantity is at or below their reorder level, by
        warehouse code and SKU; one warehouse (active or not) or every active one.

        Only active products and variants that track inventory are listed."""
        require(acting, perms.INVENTORY_READ)
        _check_limit(limit)

        def work(session: Session) -> LowStockPage:
            if warehouse_id is not None and session.get(Warehouse, warehouse_id) is None:
                raise NotFoundError("That warehouse does not exist (any more).", field="warehouse")
            records = low_stock_records(session, warehouse_id, after=after, limit=limit + 1)
            rows = tuple(_low_stock_row(record) for record in records[:limit])
            cursor = rows[-1].cursor if rows else None
            return LowStockPage(rows, cursor, len(records) > limit)

        return self._read(work)

    def ledger(
        self,
        acting: CurrentUser,
        product_id: uuid.UUID,
        *,
        warehouse_id: uuid.UUID | None = None,
        variant_id: uuid.UUID | Literal[_Every.VARIANTS] | None = EVERY_VARIANT,
        after: LedgerCursor | None = None,
        limit: int = 100,
    ) -> LedgerPage:
        """The ledger rows of a product and its variants, newest first; `variant_id`
        None keeps the product's own rows, a variant's id that variant's."""
        require(acting, perms.INVENTORY_READ)
        _check_limit(limit)
        tx = InventoryTransaction

        def work(session: Session) -> LedgerPage:
            if session.get(Product, product_id) is None:
                raise NotFoundError("That product does not exist (any more).", field="product")
            statement = (
                select(
                    tx.id,
                    tx.created_at,
                    tx.transaction_type,
                    tx.quantity,
                    tx.warehouse_id,
                    Warehouse.code,
                    tx.variant_id,
                    ProductVariant.sku,
                    tx.reference_id,
                    tx.reason,
                    User.username,
                )
                .join(Warehouse, Warehouse.id == tx.warehouse_id)
                .outerjoin(ProductVariant, ProductVariant.id == tx.variant_id)
                .outerjoin(User, User.id == tx.created_by)
                .where(tx.product_id == product_id)
            )
            statement = statement.where(*_ledger_filters(warehouse_id, variant_id))
            if after is not None:
                statement = statement.where(
                    tuple_(tx.created_at, tx.id)
                    < tuple_(literal(after.created_at), literal(after.id))
                )
            records = session.execute(
                statement.order_by(tx.created_at.desc(), tx.id.desc()).limit(limit + 1)
            ).all()
            rows = tuple(LedgerRow(*record) for record in records[:limit])
            cursor = LedgerCursor(rows[-1].created_at, rows[-1].id) if rows else None
            return LedgerPage(rows, cursor, len(records) > limit)

        return self._read(work)

    def count_ledger(
        self,
        acting: CurrentUser,
        product_id: uuid.UUID,
        *,
        warehouse_id: uuid.UUID | None = None,
        variant_id: uuid.UUID | Literal[_Every.VARIANTS] | None = EVERY_VARIANT,
        cap: int | None = DEFAULT_COUNT_CAP,
    ) -> RowCount:
        """How many ledger rows `ledger` would list (with the same filters), up to `cap`."""
        require(acting, perms.INVENTORY_READ)
        tx = InventoryTransaction
        statement = select(tx.id).where(
            tx.product_id == product_id, *_ledger_filters(warehouse_id, variant_id)
        )
        return self._read(lambda session: _capped_count(session, statement, cap))

    def warehouse_stock(
        self,
        acting: CurrentUser,
        warehouse_id: uuid.UUID,
        *,
        search: str = "",
        after: WarehouseStockCursor | None = None,
        limit: int = 100,
    ) -> WarehouseStockPage:
        """The stock rows of one warehouse (active or not), products' and variants', by
        SKU; `search` keeps those whose SKU, name or barcode contains it (the product's
        SKU and name count for its variants too)."""
        require(acting, perms.INVENTORY_READ)
        _check_limit(limit)
        term = _checked_search(search)

        def work(session: Session) -> WarehouseStockPage:
            values: dict[str, Any] = {
                "warehouse_id": warehouse_id,
                "rows": limit + 1,
                **_search_values(term),
            }
            if after is not None:
                values.update(after_sku=after.sku, after_item=after.item_id)
            shape = _warehouse_stock_page_shape(
                bool(term), self._few_matches(session, term), after is not None
            )
            records = session.execute(shape, values).all()
            if not records:
                # A stock row's warehouse exists (its foreign key): only an empty page
                # asks, which spares every other page a second statement.
                _check_warehouse_exists(session, warehouse_id)
            rows = tuple(_warehouse_stock_row(warehouse_id, record) for record in records[:limit])
            cursor = rows[-1].cursor if rows else None
            return WarehouseStockPage(rows, cursor, len(records) > limit)

        return self._read(work)

    def count_warehouse_stock(
        self,
        acting: CurrentUser,
        warehouse_id: uuid.UUID,
        *,
        search: str = "",
        cap: int | None = DEFAULT_COUNT_CAP,
    ) -> RowCount:
        """How many stock rows `warehouse_stock` would list, counting no further than `cap`."""
        require(acting, perms.INVENTORY_READ)
        term = _checked_search(search)

        def work(session: Session) -> RowCount:
            sides = _warehouse_stock_sides(bool(term), self._few_matches(session, term))
            statement = union_all(*(side for side, _, _ in sides))
            values = {"warehouse_id": warehouse_id, **_search_values(term)}
            counted = _capped_count(session, statement, cap, values)
            if counted == RowCount(0, exact=True):
                _check_warehouse_exists(session, warehouse_id)  # as in warehouse_stock
            return counted

        return self._read(work)

    def _few_matches(self, session: Session, term: str) -> bool:
        """Whether a search's products are few enough to collect before their stock rows
        are looked up, rather than walking every product in SKU order for those that
        match (services/search_costs.py)."""
        if not term:
            return False
        samples = self._samples.samples(session)
        return samples is not None and few_enough_to_collect(samples, term)


# -- helpers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _WarehouseState:
    code: str
    is_active: bool


def _check_item(session: Session, key: StockKey) -> None:
    """The product (and variant) exist, are active and track inventory (domain rules)."""
    product = session.execute(
        select(Product.sku, Product.is_active, Product.track_inventory).where(
            Product.id == key.product_id
        )
    ).one_or_none()
    if product is None:
        raise NotFoundError("That product does not exist (any more).", field="product")
    if key.variant_id is None:
        rules.check_stocked_item(
            product.sku, product.is_active, product.track_inventory, variant=False
        )
        return
    # A variant's stock is its own: the product must be active, the variant must track.
    rules.check_stocked_item(product.sku, product.is_active, True, variant=False)
    variant = session.execute(
        select(ProductVariant.sku, ProductVariant.is_active, ProductVariant.track_inventory).where(
            ProductVariant.id == key.variant_id, ProductVariant.product_id == key.product_id
        )
    ).one_or_none()
    if variant is None:
        raise NotFoundError(
            f"Product {product.sku} has no such variant (any more).", field="variant"
        )
    rules.check_stocked_item(variant.sku, variant.is_active, variant.track_inventory, variant=True)


def _lock_warehouses(
    session: Session,
    ids: list[uuid.UUID],
    fields: Iterable[str] = ("warehouse",),
) -> dict[uuid.UUID, _WarehouseState]:
    """The warehouses, read FOR SHARE (in id order): they stay as read until commit."""
    share_rows(session, "warehouses", ids)
    rows = session.execute(
        select(Warehouse.id, Warehouse.code, Warehouse.is_active).where(Warehouse.id.in_(ids))
    ).all()
    found = {row.id: _WarehouseState(row.code, bool(row.is_active)) for row in rows}
    for warehouse_id, field in zip(ids, fields, strict=False):
        if warehouse_id not in found:
            raise NotFoundError("That warehouse does not exist (any more).", field=field)
    return found


def _level_row(level: StockLevel) -> StockLevelRow:
    key = level.key
    return StockLevelRow(
        product_id=key.product_id,
        variant_id=key.variant_id,
        warehouse_id=key.warehouse_id,
        sku=level.sku,
        warehouse_code=level.warehouse_code,
        on_hand=level.on_hand,
        reserved=level.reserved,
    )


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"A page has 1 to {MAX_PAGE_SIZE:,} rows, not {limit}.")


_PRODUCT_STOCK: Table = ProductInventory.__table__  # type: ignore[assignment]
_VARIANT_STOCK: Table = VariantInventory.__table__  # type: ignore[assignment]


def _stock_table(key: StockKey) -> tuple[Table, ColumnElement[uuid.UUID], uuid.UUID]:
    if key.variant_id is None:
        return _PRODUCT_STOCK, _PRODUCT_STOCK.c.product_id, key.product_id
    return _VARIANT_STOCK, _VARIANT_STOCK.c.variant_id, key.variant_id


def _overview_levels(
    session: Session, product_id: uuid.UUID, *, track_inventory: bool
) -> list[WarehouseStock]:
    """The product's stock rows per warehouse, then each variant's (see stock_overview)."""
    pi = ProductInventory
    own = session.execute(
        select(
            Warehouse.id,
            Warehouse.code,
            Warehouse.name,
            Warehouse.is_active,
            pi.quantity_available,
            pi.quantity_reserved,
            pi.reorder_level,
            pi.max_stock,
        )
        .select_from(Warehouse)
        .outerjoin(pi, and_(pi.warehouse_id == Warehouse.id, pi.product_id == product_id))
        .where(
            or_(pi.id.is_not(None), and_(Warehouse.is_active.is_(True), literal(track_inventory)))
        )
        .order_by(Warehouse.code)
    ).all()
    levels = [
        WarehouseStock(
            warehouse_id=row.id,
            warehouse_code=row.code,
            warehouse_name=row.name,
            warehouse_active=bool(row.is_active),
            variant_id=None,
            variant_sku=None,
            on_hand=row.quantity_available or 0,
            reserved=row.quantity_reserved or 0,
            reorder_level=row.reorder_level or 0,
            max_stock=row.max_stock,
        )
        for row in own
    ]
    vi = VariantInventory
    variants = session.execute(
        select(
            Warehouse.id,
            Warehouse.code,
            Warehouse.name,
            Warehouse.is_active,
            ProductVariant.id.label("variant_id"),
            ProductVariant.sku,
            vi.quantity_available,
            vi.quantity_reserved,
            vi.reorder_level,
            vi.max_stock,
        )
        .select_from(ProductVariant)
        .join(Warehouse, true())
        .outerjoin(vi, and_(vi.warehouse_id == Warehouse.id, vi.variant_id == ProductVariant.id))
        .where(
            ProductVariant.product_id == product_id,
            or_(
                vi.id.is_not(None),
                and_(
                    Warehouse.is_active.is_(True),
                    ProductVariant.is_active.is_(True),
                    ProductVariant.track_inventory.is_(True),
                ),
            ),
        )
        .order_by(ProductVariant.sku, Warehouse.code)
    ).all()
    levels.extend(
        WarehouseStock(
            warehouse_id=row.id,
            warehouse_code=row.code,
            warehouse_name=row.name,
            warehouse_active=bool(row.is_active),
            variant_id=row.variant_id,
            variant_sku=row.sku,
            on_hand=row.quantity_available or 0,
            reserved=row.quantity_reserved or 0,
            reorder_level=row.reorder_level or 0,
            max_stock=row.max_stock,
        )
        for row in variants
    )
    return levels


def low_stock_records(
    session: Session,
    warehouse_id: uuid.UUID | None,
    *,
    after: LowStockCursor | None,
    limit: int,
) -> list[Row[Any]]:
    """The first `limit` low stock rows after `after`, by warehouse code, SKU and variant SKU;
    of one warehouse (active or not) or of every active one.

    One statement per warehouse, in code order, until `limit` rows are found. With the
    warehouse a literal, PostgreSQL plans for that warehouse's own low rows: where it has
    many it walks the products in SKU order and stops after `limit` (~0.1 s at 1 M
    products), where it has few it reads them through the partial index. A single statement
    over every warehouse must join all their low rows to their products and sort them
    (1-2 s at 1 M products), since the order (warehouse code, SKU) spans two tables.
    """
    warehouses: list[tuple[uuid.UUID, str]]
    if warehouse_id is not None:
        # session.get: the callers have just loaded it to check it exists; no second query.
        warehouse = session.get(Warehouse, warehouse_id)
        warehouses = [] if warehouse is None else [(warehouse_id, warehouse.code)]
    else:
        warehouses = [
            (row.id, row.code)
            for row in session.execute(
                select(Warehouse.id, Warehouse.code)
                .where(Warehouse.is_active.is_(True))
                .order_by(Warehouse.code)
            )
        ]
    records: list[Row[Any]] = []
    for listed_id, code in warehouses:
        if after is not None and code < after.warehouse_code:
            continue
        within = after if after is not None and code == after.warehouse_code else None
        wanted = limit - len(records)
        listed = _low_stock_statement(listed_id, within, wanted).subquery("low")
        records += session.execute(
            select(listed).order_by(listed.c.sku, listed.c.variant_sku).limit(wanted)
        ).all()
        if len(records) >= limit:
            break
    return records


def _low_stock_statement(
    warehouse_id: uuid.UUID, after: LowStockCursor | None, limit: int
) -> CompoundSelect[Any]:
    """The first `limit` product rows and the first `limit` variant rows of one warehouse
    at or below their reorder level (after `after`'s SKU and variant SKU), as one UNION ALL
    for the caller to order by SKU and variant SKU and cut to `limit`.

    Each part is ordered and cut on its own so that PostgreSQL can walk the products' SKU
    index and stop early: over the union as a whole, the products' constant variant SKU
    ('') hides that their order is the SKU's.

    The reorder level that applies is the row's own, or when that is 0 the product's
    (variant's) min_stock_level: `rules.effective_reorder_level` in SQL. Rows are found
    through the `is_low` flag the database keeps (revision 0007) and its partial index, so
    only low rows are joined to their items; the comparison stays as the definition. The
    flag is tested bare (`WHERE is_low`): PostgreSQL matches the partial index's predicate
    to that form only, not to `is_low IS true`. The warehouse is a literal so that each
    warehouse is planned by its own statistics (see `low_stock_records`).
    """
    pi, vi, p, v, w = ProductInventory, VariantInventory, Product, ProductVariant, Warehouse
    where_warehouse = w.id == literal(warehouse_id, PG_UUID(as_uuid=True), literal_execute=True)

    def level(
        row_level: InstrumentedAttribute[int], item_min: InstrumentedAttribute[int]
    ) -> ColumnElement[int]:
        return case((row_level > 0, row_level), else_=func.greatest(item_min, 0))

    own_level = level(pi.reorder_level, p.min_stock_level)
    products = (
        select(
            w.id.label("warehouse_id"),
            w.code.label("warehouse_code"),
            p.id.label("product_id"),
            cast(null(), PG_UUID(as_uuid=True)).label("variant_id"),
            p.sku.label("sku"),
            literal("").label("variant_sku"),
            p.name.label("name"),
            pi.quantity_available.label("on_hand"),
            pi.quantity_reserved.label("reserved"),
            own_level.label("reorder_level"),
            pi.max_stock.label("max_stock"),
            p.max_stock_level.label("item_max"),
        )
        .select_from(pi)
        .join(p, p.id == pi.product_id)
        .join(w, w.id == pi.warehouse_id)
        .where(
            where_warehouse,
            p.is_active.is_(True),
            p.track_inventory.is_(True),
            pi.is_low,
            pi.quantity_available - pi.quantity_reserved <= own_level,
            *_after_sku(p.sku, literal(""), after),
        )
        .order_by(p.sku)
        .limit(limit)
    )
    variant_level = level(vi.reorder_level, v.min_stock_level)
    variants = (
        select(
            w.id,
            w.code,
            p.id,
            v.id,
            p.sku,
            v.sku,
            (p.name + " – " + v.name),
            vi.quantity_available,
            vi.quantity_reserved,
            variant_level,
            vi.max_stock,
            v.max_stock_level,
        )
        .select_from(vi)
        .join(v, v.id == vi.variant_id)
        .join(p, p.id == v.product_id)
        .join(w, w.id == vi.warehouse_id)
        .where(
            where_warehouse,
            p.is_active.is_(True),
            v.is_active.is_(True),
            v.track_inventory.is_(True),
            vi.is_low,
            vi.quantity_available - vi.quantity_reserved <= variant_level,
            *_after_sku(p.sku, v.sku, after),
        )
        .order_by(p.sku, v.sku)
        .limit(limit)
    )
    return union_all(products, variants)


def _after_sku(
    sku: ColumnElement[str] | InstrumentedAttribute[str],
    variant_sku: ColumnElement[str] | InstrumentedAttribute[str],
    after: LowStockCursor | None,
) -> list[ColumnElement[bool]]:
    """Rows after the cursor's (SKU, variant SKU); the plain `sku >=` lets an index on the
    SKU start there instead of at the first SKU."""
    if after is None:
        return []
    return [
        sku >= literal(after.sku),
        tuple_(sku, variant_sku) > tuple_(literal(after.sku), literal(after.variant_sku)),
    ]


def _low_stock_row(record: Row[Any]) -> LowStockRow:
    values = record._mapping
    sellable = values["on_hand"] - values["reserved"]
    reorder_level = values["reorder_level"]
    maximum = rules.effective_maximum(values["max_stock"], values["item_max"])
    return LowStockRow(
        warehouse_id=values["warehouse_id"],
        warehouse_code=values["warehouse_code"],
        product_id=values["product_id"],
        variant_id=values["variant_id"],
        sku=values["sku"],
        variant_sku=values["variant_sku"] or None,
        name=values["name"],
        on_hand=values["on_hand"],
        reserved=values["reserved"],
        sellable=sellable,
        reorder_level=reorder_level,
        maximum=maximum,
        reorder_quantity=rules.reorder_quantity(sellable, reorder_level, maximum),
    )


def _ledger_filters(
    warehouse_id: uuid.UUID | None,
    variant_id: uuid.UUID | Literal[_Every.VARIANTS] | None,
) -> list[ColumnElement[bool]]:
    tx = InventoryTransaction
    filters: list[ColumnElement[bool]] = []
    if warehouse_id is not None:
        filters.append(tx.warehouse_id == warehouse_id)
    if variant_id is None:
        filters.append(tx.variant_id.is_(None))
    elif variant_id is not EVERY_VARIANT:
        filters.append(tx.variant_id == variant_id)
    return filters


def _capped_count(
    session: Session, statement: Any, cap: int | None, values: dict[str, Any] | None = None
) -> RowCount:
    return capped(session.scalar(count_statement(statement, cap), values) or 0, cap)


def _checked_search(search: str) -> str:
    return check_search(search, MAX_SEARCH_LENGTH)


def _check_warehouse_exists(session: Session, warehouse_id: uuid.UUID) -> None:
    if session.get(Warehouse, warehouse_id) is None:
        raise NotFoundError("That warehouse does not exist (any more).", field="warehouse")


@functools.lru_cache(maxsize=8)
def _warehouse_stock_page_shape(searched: bool, collect: bool, after: bool) -> Select[Any]:
    """`warehouse_stock`'s page, its values left as parameters (`warehouse_id`, `rows`,
    `_search_values`, and `after_sku`, `after_item`): built once per shape, since building
    it took longer than PostgreSQL takes to answer a narrow search. Each side walks its
    own (sku, id) order and stops after a page before the two are merged, rather than
    the merge sorting every row of the warehouse."""
    rows = bindparam("rows", type_=Integer())
    pages = []
    for side, sku, item in _warehouse_stock_sides(searched, collect):
        if after:
            after_key = tuple_(
                bindparam("after_sku", type_=String()),
                bindparam("after_item", type_=PG_UUID(as_uuid=True)),
            )
            side = side.where(tuple_(sku, item) > after_key)
        pages.append(side.order_by(sku, item).limit(rows))
    merged = union_all(*pages).subquery("stock")
    return select(merged).order_by(merged.c.sku, merged.c.item_id).limit(rows)


def _search_values(term: str) -> dict[str, str]:
    """The parameters of `_warehouse_stock_sides`' search, for `term`."""
    return {"term": term, "pattern": f"%{escape_like(term)}%"} if term else {}


def _warehouse_stock_sides(
    searched: bool, collect: bool = False
) -> list[
    tuple[Select[*tuple[Any, ...]], InstrumentedAttribute[str], InstrumentedAttribute[uuid.UUID]]
]:
    """The product rows' SELECT and the variant rows' (same columns), each with the
    columns of its keyset order (sku, item id), of the warehouse `warehouse_id` (a
    parameter) and, when `searched`, whose SKU, name or barcode holds the parameters
    `pattern` or `term` (`_search_values`). With `collect` (a search matching few
    products), the products that match are collected first, through the trigram indexes,
    and their stock rows looked up: walking every product in SKU order for the few that
    match would visit each product's row (3.5 s for a prefix at the end of a million)."""
    pi, vi, p, v = ProductInventory, VariantInventory, Product, ProductVariant
    warehouse_id = bindparam("warehouse_id", type_=PG_UUID(as_uuid=True))
    pattern = bindparam("pattern", type_=String())
    term = bindparam("term", type_=String())

    def like(column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
        return column.ilike(pattern, escape="\\")

    def level(
        row_level: InstrumentedAttribute[int], item_min: InstrumentedAttribute[int]
    ) -> ColumnElement[int]:
        return case((row_level > 0, row_level), else_=func.greatest(item_min, 0))

    product_matches = or_(like(p.sku), like(p.name), p.barcode == term)
    stocked: Any = p  # the products whose stock rows are listed
    stock: Any = pi  # and where their stock row's columns come from
    stock_row: Any = None  # the look-up of a collected product's stock row
    if searched and collect:
        matching = (
            select(
                p.id,
                p.sku,
                p.name,
                p.is_active,
                p.track_inventory,
                p.min_stock_level,
                p.max_stock_level,
            )
            .where(product_matches)
            .cte("matching")
            .prefix_with("MATERIALIZED")
        )
        # Sorted in a subquery of its own, which PostgreSQL keeps apart, so that the
        # look-ups below go in SKU order and stop once a page is held.
        in_order = select(matching).order_by(matching.c.sku, matching.c.id).subquery("in_order")
        stocked = aliased(Product, in_order)
        # Each match's stock row looked up by its (product, warehouse) key. LIMIT 1 (the
        # key is unique) keeps it a look-up: joined plainly, PostgreSQL reads every stock
        # row of the warehouse to hash them.
        stock_row = (
            select(pi.quantity_available, pi.quantity_reserved, pi.reorder_level, pi.max_stock)
            .where(pi.product_id == stocked.id, pi.warehouse_id == warehouse_id)
            .limit(1)
            .lateral("stock")
        )
        stock = stock_row.c
    products = select(
        stocked.id.label("product_id"),
        cast(null(), PG_UUID(as_uuid=True)).label("variant_id"),
        stocked.id.label("item_id"),
        stocked.sku.label("sku"),
        stocked.name.label("name"),
        stocked.is_active.label("is_active"),
        stocked.track_inventory.label("track_inventory"),
        stock.quantity_available.label("on_hand"),
        stock.quantity_reserved.label("reserved"),
        level(stock.reorder_level, stocked.min_stock_level).label("reorder_level"),
        stock.max_stock.label("max_stock"),
        stocked.max_stock_level.label("item_max"),
    )
    if stock_row is None:
        products = (
            products.select_from(pi)
            .join(stocked, stocked.id == pi.product_id)
            .where(pi.warehouse_id == warehouse_id)
        )
    else:
        products = products.select_from(stocked).join(stock_row, true())
    variants = (
        select(
            p.id,
            v.id,
            v.id,
            v.sku,
            p.name + literal(" — ") + v.name,
            and_(p.is_active, v.is_active),
            v.track_inventory,
            vi.quantity_available,
            vi.quantity_reserved,
            level(vi.reorder_level, v.min_stock_level),
            vi.max_stock,
            v.max_stock_level,
        )
        .select_from(vi)
        .join(v, v.id == vi.variant_id)
        .join(p, p.id == v.product_id)
        .where(vi.warehouse_id == warehouse_id)
    )
    if searched:
        if not collect:
            products = products.where(product_matches)
        variants = variants.where(
            or_(like(v.sku), like(v.name), like(p.sku), like(p.name), v.barcode == term)
        )
    return [(products, stocked.sku, stocked.id), (variants, v.sku, v.id)]


def _warehouse_stock_row(warehouse_id: uuid.UUID, record: Row[Any]) -> WarehouseStockRow:
    values = record._mapping
    return WarehouseStockRow(
        warehouse_id=warehouse_id,
        product_id=values["product_id"],
        variant_id=values["variant_id"],
        sku=values["sku"],
        name=values["name"],
        is_active=bool(values["is_active"]),
        track_inventory=bool(values["track_inventory"]),
        on_hand=values["on_hand"],
        reserved=values["reserved"],
        reorder_level=values["reorder_level"],
        maximum=rules.effective_maximum(values["max_stock"], values["item_max"]),
    )


def low_stock_count(session: Session, warehouse_id: uuid.UUID | None) -> int:
    """How many rows `low_stock_records` lists in all: of one warehouse (active or not) or
    of every active one. The `is_low` flag holds exactly for the rows the list shows
    (revision 0016: low, and the item active and tracking stock), so this reads only the
    partial index of low rows, not their items."""
    where_warehouse = (
        Warehouse.id == warehouse_id if warehouse_id is not None else Warehouse.is_active.is_(True)
    )
    total = 0
    for stock in (ProductInventory, VariantInventory):
        total += session.execute(
            select(func.count())
            .select_from(stock)
            .join(Warehouse, Warehouse.id == stock.warehouse_id)
            .where(stock.is_low, where_warehouse)
        ).scalar_one()
    return total
