"""Stock movements inside a service's transaction: locked rows, one ledger row per change.

Every on-hand change goes through `StockLedger.move`, which writes its
inventory_transactions row; the database adds the row's quantity to the stock on hand
(revision 0011: nobody may change on hand directly), so the ledger always sums to it.
Rows are locked (SELECT ... FOR UPDATE) before they change, always in
one order (products' stock before variants', then by product, warehouse and variant), so
two workstations touching the same stock queue up instead of overselling or deadlocking.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from erpgo_desktop.db.models import (
    InventoryTransaction,
    Product,
    ProductInventory,
    ProductVariant,
    VariantInventory,
    Warehouse,
)
from erpgo_desktop.errors import ValidationError

MAX_STOCK = 999_999_999
LEDGER_KINDS = frozenset({"IN", "OUT", "ADJUST", "TRANSFER"})
_NO_VARIANT = uuid.UUID(int=0)


def share_rows(session: Session, table: str, ids: Iterable[uuid.UUID]) -> None:
    """Hold rows as read until commit (FOR SHARE), through the database's function: the
    lock itself takes a right to change the table, which a person reading it lacks."""
    session.execute(
        text("SELECT erpgo_share_rows(CAST(:table AS regclass), :ids)"),
        {"table": f"public.{table}", "ids": list(ids)},
    )


@dataclass(frozen=True)
class StockKey:
    """One stock level: a product (or one of its variants) in one warehouse."""

    product_id: uuid.UUID
    warehouse_id: uuid.UUID
    variant_id: uuid.UUID | None = None

    def lock_order(self) -> tuple[bool, uuid.UUID, uuid.UUID, uuid.UUID]:
        variant = self.variant_id or _NO_VARIANT
        return (self.variant_id is not None, self.product_id, self.warehouse_id, variant)


@dataclass(frozen=True)
class StockLevel:
    key: StockKey
    on_hand: int
    reserved: int
    #: For messages: the product's (or variant's) SKU and the warehouse's code.
    sku: str
    warehouse_code: str

    @property
    def sellable(self) -> int:
        return self.on_hand - self.reserved


class StockLedger:
    """Changes stock within the caller's session; lock first, then move or reserve."""

    def __init__(self, session: Session, user_id: uuid.UUID | None) -> None:
        self._session = session
        self._user_id = user_id
        self._levels: dict[StockKey, StockLevel] = {}
        self._bound: Connection | None = None

    def lock(self, keys: Iterable[StockKey]) -> dict[StockKey, StockLevel]:
        """Lock the stock rows of `keys` (creating empty ones) and return their levels.

        Lock everything a unit of work needs in one call: locking in two rounds could
        take rows out of the global order and let two transactions deadlock.
        """
        wanted = sorted(set(keys) - self._levels.keys(), key=StockKey.lock_order)
        for variant in (False, True):
            batch = [k for k in wanted if (k.variant_id is not None) is variant]
            if batch:
                self._lock_batch(batch, variant)
        return {key: self._levels[key] for key in keys}

    def level(self, key: StockKey) -> StockLevel:
        if key not in self._levels:
            raise AssertionError(f"stock {key} was not locked before use")
        return self._levels[key]

    def move(
        self,
        key: StockKey,
        quantity: int,
        kind: str,
        *,
        reference_id: uuid.UUID | None = None,
        reason: str | None = None,
    ) -> StockLevel:
        """Change on-hand stock by `quantity` (negative takes out) and write the ledger row."""
        level = self._moving(key, quantity, kind)
        after = level.on_hand + quantity
        self._connection.execute(
            insert(InventoryTransaction).values(
                self._ledger_row(key, quantity, kind, reference_id, reason)
            )
        )
        return self._remember(replace(level, on_hand=after))

    def move_many(self, moves: Iterable[tuple[StockKey, int, str, str | None]]) -> None:
        """`move` each (key, quantity, kind, reason) in turn, all checked before anything
        is written, and written with one statement per stock table and one for the ledger
        (an import of 10,000 counts takes one round trip per table, not 20,000)."""
        changed: dict[StockKey, StockLevel] = {}
        ledger_rows: list[dict[str, Any]] = []
        for key, quantity, kind, reason in moves:
            level = self._moving(key, quantity, kind)
            changed[key] = self._remember(replace(level, on_hand=level.on_hand + quantity))
            ledger_rows.append(self._ledger_row(key, quantity, kind, None, reason))
        if ledger_rows:
            self._connection.execute(insert(InventoryTransaction), ledger_rows)

    def _ledger_row(
        self,
        key: StockKey,
        quantity: int,
        kind: str,
        reference_id: uuid.UUID | None,
        reason: str | None,
    ) -> dict[str, Any]:
        return {
            "product_id": key.product_id,
            "warehouse_id": key.warehouse_id,
            "variant_id": key.variant_id,
            "transaction_type": kind,
            "quantity": quantity,
            "reference_id": reference_id,
            "reason": reason,
            "created_by": self._user_id,
        }

    def _moving(self, key: StockKey, quantity: int, kind: str) -> StockLevel:
        """The level before moving `quantity`; ValidationError when the move breaks a limit."""
        assert kind in LEDGER_KINDS and quantity != 0
        level = self.level(key)
        after = level.on_hand + quantity
        if after < level.reserved:
            raise ValidationError(
                f"Not enough stock of {level.sku} in {level.warehouse_code}: "
                f"{level.sellable:,} can be taken out"
                + (f" ({level.reserved:,} of {level.on_hand:,} reserved)" if level.reserved else "")
                + f", {-quantity:,} asked.",
                field="quantity",
            )
        if after > MAX_STOCK:
            raise ValidationError(
                f"Stock of {level.sku} in {level.warehouse_code} would exceed {MAX_STOCK:,}.",
                field="quantity",
            )
        return level

    def reserve(self, key: StockKey, quantity: int) -> StockLevel:
        """Promise `quantity` of the sellable stock to an order (no ledger row: on hand stays)."""
        level = self._reserving(key, quantity)
        return self._set_reserved(level, level.reserved + quantity)

    def release(self, key: StockKey, quantity: int) -> StockLevel:
        level = self._releasing(key, quantity)
        return self._set_reserved(level, level.reserved - quantity)

    def reserve_many(self, wanted: Iterable[tuple[StockKey, int]]) -> None:
        """`reserve` each (key, quantity) in turn, all checked before anything is written,
        and written with one statement per stock table."""
        changed: dict[StockKey, StockLevel] = {}
        for key, quantity in wanted:
            level = self._reserving(key, quantity)
            changed[key] = self._remember(replace(level, reserved=level.reserved + quantity))
        self._write_reserved(changed.values())

    def release_many(self, held: Iterable[tuple[StockKey, int]]) -> None:
        """`release` each (key, quantity) in turn, written like `reserve_many`."""
        changed: dict[StockKey, StockLevel] = {}
        for key, quantity in held:
            level = self._releasing(key, quantity)
            changed[key] = self._remember(replace(level, reserved=level.reserved - quantity))
        self._write_reserved(changed.values())

    def _reserving(self, key: StockKey, quantity: int) -> StockLevel:
        level = self.level(key)
        if quantity > level.sellable:
            raise ValidationError(
                f"Not enough stock of {level.sku} in {level.warehouse_code}: "
                f"{level.sellable:,} sellable, {quantity:,} asked.",
                field="quantity",
            )
        return level

    def _releasing(self, key: StockKey, quantity: int) -> StockLevel:
        level = self.level(key)
        if quantity > level.reserved:
            raise AssertionError(f"releasing {quantity} of {level.reserved} reserved at {key}")
        return level

    def _set_reserved(self, level: StockLevel, reserved: int) -> StockLevel:
        self._update(level.key, quantity_reserved=reserved)
        return self._remember(replace(level, reserved=reserved))

    def _write_reserved(self, levels: Iterable[StockLevel]) -> None:
        """Write the levels' reserved quantities, one UPDATE per stock table. (On hand is
        never written: the ledger's trigger keeps it, revision 0011.)"""
        for variant in (False, True):
            batch = [level for level in levels if (level.key.variant_id is not None) is variant]
            if batch:
                self._connection.execute(
                    _SET_RESERVED[variant],
                    {
                        "owners": [
                            (level.key.variant_id if variant else level.key.product_id)
                            for level in batch
                        ],
                        "warehouses": [level.key.warehouse_id for level in batch],
                        "quantities": [level.reserved for level in batch],
                        "user_id": self._user_id,
                    },
                )

    def _remember(self, level: StockLevel) -> StockLevel:
        self._levels[level.key] = level
        return level

    def _update(self, key: StockKey, **values: int) -> None:
        table, owner_column, owner = _stock_table(key)
        self._connection.execute(
            update(table)
            .where(owner_column == owner, table.c.warehouse_id == key.warehouse_id)
            .values(**values, last_updated_at=func.now(), updated_by=self._user_id)
        )

    def _lock_batch(self, keys: list[StockKey], variant: bool) -> None:
        owners = [k.variant_id if variant else k.product_id for k in keys]
        warehouses = [k.warehouse_id for k in keys]
        pairs = {"owners": owners, "warehouses": warehouses}
        wanted = set(zip(owners, warehouses, strict=True))
        rows = self._connection.execute(_LOCK_ROWS[variant], pairs).all()
        if {(row[0], row[1]) for row in rows} != wanted:
            # A stock row that does not exist yet cannot be locked: made now, after the
            # existing ones are ours. Made first, its insert would update the product's
            # total (a seed trigger) and so lock the product row before the stock rows,
            # the reverse of every other writer's order: a transfer into a new warehouse
            # then deadlocked, on every retry, with a confirmation of the same product.
            self._connection.execute(_CREATE_MISSING[variant], pairs)
            rows = self._connection.execute(_LOCK_ROWS[variant], pairs).all()
        by_pair = {(row[0], row[1]): row for row in rows}
        for key, owner in zip(keys, owners, strict=True):
            _, _, on_hand, reserved, sku_value, code = by_pair[(owner, key.warehouse_id)]
            self._levels[key] = StockLevel(key, on_hand, reserved, sku_value, code)

    @property
    def _connection(self) -> Connection:
        # Core statements only: run on the connection, without the ORM's layer.
        if self._bound is None:
            self._bound = self._session.connection()
        return self._bound


_PRODUCT_STOCK: Table = ProductInventory.__table__  # type: ignore[assignment]
_VARIANT_STOCK: Table = VariantInventory.__table__  # type: ignore[assignment]


def _set_reserved_statement(variant: bool) -> Any:
    """One UPDATE setting the reserved quantity of several stock rows (given as arrays)."""
    table = _VARIANT_STOCK if variant else _PRODUCT_STOCK
    owner = table.c.variant_id if variant else table.c.product_id
    wanted = (
        func.unnest(
            bindparam("owners", type_=ARRAY(PG_UUID(as_uuid=True))),
            bindparam("warehouses", type_=ARRAY(PG_UUID(as_uuid=True))),
            bindparam("quantities", type_=ARRAY(Integer)),
        )
        .table_valued("owner", "warehouse", "quantity")
        .render_derived(name="wanted")
    )
    return (
        update(table)
        .where(owner == wanted.c.owner, table.c.warehouse_id == wanted.c.warehouse)
        .values(
            {
                "quantity_reserved": wanted.c.quantity,
                "last_updated_at": func.now(),
                "updated_by": bindparam("user_id"),
            }
        )
    )


def _wanted_rows() -> Any:
    """The stock rows asked for, as (owner, warehouse) from the parameters' arrays."""
    return (
        func.unnest(
            bindparam("owners", type_=ARRAY(PG_UUID(as_uuid=True))),
            bindparam("warehouses", type_=ARRAY(PG_UUID(as_uuid=True))),
        )
        .table_valued("owner", "warehouse")
        .render_derived(name="wanted")
    )


def _create_missing_statement(variant: bool) -> Any:
    table = _VARIANT_STOCK if variant else _PRODUCT_STOCK
    owner = table.c.variant_id if variant else table.c.product_id
    wanted = _wanted_rows()
    return (
        pg_insert(table)
        .from_select([owner.key, "warehouse_id"], select(wanted.c.owner, wanted.c.warehouse))
        .on_conflict_do_nothing()
    )


def _lock_rows_statement(variant: bool) -> Any:
    table = _VARIANT_STOCK if variant else _PRODUCT_STOCK
    owner = table.c.variant_id if variant else table.c.product_id
    sku = ProductVariant.sku if variant else Product.sku
    source = (
        table.join(ProductVariant, ProductVariant.id == owner)
        if variant
        else table.join(Product, Product.id == owner)
    ).join(Warehouse, Warehouse.id == table.c.warehouse_id)
    wanted = _wanted_rows()
    return (
        select(
            owner,
            table.c.warehouse_id,
            table.c.quantity_available,
            table.c.quantity_reserved,
            sku,
            Warehouse.code,
        )
        .select_from(source)
        .where(tuple_(owner, table.c.warehouse_id).in_(select(wanted.c.owner, wanted.c.warehouse)))
        .order_by(owner, table.c.warehouse_id)
        .with_for_update(of=table)
    )


# Built once (products' stock, variants' stock), so SQLAlchemy keys and compiles them once.
_SET_RESERVED = {variant: _set_reserved_statement(variant) for variant in (False, True)}
_CREATE_MISSING = {variant: _create_missing_statement(variant) for variant in (False, True)}
_LOCK_ROWS = {variant: _lock_rows_statement(variant) for variant in (False, True)}


def _stock_table(key: StockKey) -> tuple[Table, ColumnElement[uuid.UUID], uuid.UUID]:
    if key.variant_id is None:
        return _PRODUCT_STOCK, _PRODUCT_STOCK.c.product_id, key.product_id
    return _VARIANT_STOCK, _VARIANT_STOCK.c.variant_id, key.variant_id
