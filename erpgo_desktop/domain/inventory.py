"""Rules of stock and warehouses (business-rules.md, "Inventory"), without a database.

Quantities are whole numbers within 0 .. 999,999,999. A receipt brings in 1 or more; an
adjustment is a signed change with a reason; a count says what is there; a transfer
moves 1 or more between two different active warehouses. The low-stock figures (which
reorder level and maximum apply, how much to reorder) are computed here too, so the
screen, the service and the tests agree on them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal

from erpgo_desktop.domain.validation import (
    check_email,
    check_phone,
    clean_text,
    optional_text_input,
    parse_whole_number,
    required_text,
    text_input,
)
from erpgo_desktop.errors import ValidationError

MAX_STOCK = 999_999_999
MAX_REASON_LENGTH = 1_000
#: The reason of the ADJUST row a count writes; a note of the counter follows it.
COUNT_REASON = "count"

WAREHOUSE_CODE = re.compile(r"[A-Z0-9_-]{1,20}")


# -- quantities ----------------------------------------------------------------------


def parse_whole(value: int | str | Decimal, field: str, label: str) -> int:
    """A whole number from a spin box (int) or a text field (str); no fractions."""
    return parse_whole_number(value, field, label)


def check_receive_quantity(quantity: int | str | Decimal) -> int:
    value = parse_whole(quantity, "quantity", "The quantity received")
    if not 1 <= value <= MAX_STOCK:
        raise ValidationError(
            f"The quantity received must be from 1 to {MAX_STOCK:,}.", field="quantity"
        )
    return value


def check_adjust_delta(delta: int | str | Decimal) -> int:
    """A signed change of stock: positive adds, negative takes away, zero is no change."""
    value = parse_whole(delta, "quantity", "The adjustment")
    if value == 0:
        raise ValidationError(
            "An adjustment adds or takes away at least one unit; 0 changes nothing.",
            field="quantity",
        )
    if abs(value) > MAX_STOCK:
        raise ValidationError(
            f"An adjustment changes stock by at most {MAX_STOCK:,} units.", field="quantity"
        )
    return value


def check_transfer_quantity(quantity: int | str | Decimal) -> int:
    value = parse_whole(quantity, "quantity", "The quantity to transfer")
    if not 1 <= value <= MAX_STOCK:
        raise ValidationError(
            f"The quantity to transfer must be from 1 to {MAX_STOCK:,}.", field="quantity"
        )
    return value


def check_counted_quantity(quantity: int | str | Decimal) -> int:
    value = parse_whole(quantity, "quantity", "The counted quantity")
    if not 0 <= value <= MAX_STOCK:
        raise ValidationError(
            f"The counted quantity must be from 0 to {MAX_STOCK:,}.", field="quantity"
        )
    return value


def check_count_covers_reserved(counted: int, reserved: int, sku: str, warehouse: str) -> None:
    """A count may not leave less on hand than confirmed orders hold."""
    if counted < reserved:
        raise ValidationError(
            f"{counted:,} counted of {sku} in {warehouse} is less than the {reserved:,} "
            "reserved for confirmed orders; cancel or reassign those orders first.",
            field="quantity",
        )


def check_reason(reason: str | None) -> str:
    """The required reason of an adjustment, trimmed."""
    value = optional_text_input(reason, "reason", "A reason")
    if not value:
        raise ValidationError(
            "Say why the stock is adjusted (damage, loss, found, ...).", field="reason"
        )
    if len(value) > MAX_REASON_LENGTH:
        raise ValidationError(
            f"A reason has at most {MAX_REASON_LENGTH:,} characters.", field="reason"
        )
    return value


def check_note(note: str | None) -> str | None:
    """An optional note on a receipt, transfer or count: None when blank."""
    return clean_text(note, "note", "A note", MAX_REASON_LENGTH)


def count_reason(note: str | None) -> str:
    return f"{COUNT_REASON}: {note}" if note else COUNT_REASON


def transfer_reasons(source: str, destination: str, note: str | None) -> tuple[str, str]:
    """The reasons of a transfer's two ledger rows: out of the source, into the destination."""
    suffix = f": {note}" if note else ""
    return (f"transfer to {destination}{suffix}", f"transfer from {source}{suffix}")


def check_transfer_warehouses(source_id: uuid.UUID, destination_id: uuid.UUID) -> None:
    if source_id == destination_id:
        raise ValidationError(
            "A transfer needs two different warehouses.", field="destination_warehouse"
        )


# -- what may hold stock -------------------------------------------------------------


def check_stocked_item(sku: str, is_active: bool, track_inventory: bool, *, variant: bool) -> None:
    """Stock changes only for active products (or variants) that track inventory."""
    what, field = ("Variant", "variant") if variant else ("Product", "product")
    if not is_active:
        raise ValidationError(f"{what} {sku} is inactive; its stock cannot change.", field=field)
    if not track_inventory:
        raise ValidationError(
            f"{what} {sku} does not track inventory, so it has no stock to change.", field=field
        )


def check_warehouse_active(code: str, is_active: bool, field: str = "warehouse") -> None:
    if not is_active:
        raise ValidationError(f"Warehouse {code} is inactive; reactivate it first.", field=field)


# -- reorder levels and low stock ----------------------------------------------------


def check_reorder_settings(
    reorder_level: int | str, max_stock: int | str | None
) -> tuple[int, int | None]:
    """A stock row's reorder level (0: use the product's minimum) and maximum (None or 0:
    use the product's maximum). A maximum must lie above the reorder level."""
    level = parse_whole(reorder_level, "reorder_level", "The reorder level")
    if not 0 <= level <= MAX_STOCK:
        raise ValidationError(
            f"The reorder level must be from 0 to {MAX_STOCK:,}.", field="reorder_level"
        )
    if max_stock is None or (isinstance(max_stock, str) and not text_input(max_stock, "max_stock")):
        return level, None
    maximum = parse_whole(max_stock, "max_stock", "The maximum stock")
    if not 0 <= maximum <= MAX_STOCK:
        raise ValidationError(
            f"The maximum stock must be from 0 (none) to {MAX_STOCK:,}.", field="max_stock"
        )
    if maximum == 0:
        return level, None
    if maximum <= level:
        raise ValidationError(
            f"The maximum stock ({maximum:,}) must be above the reorder level ({level:,}).",
            field="max_stock",
        )
    return level, maximum


def effective_reorder_level(row_level: int, item_min_level: int) -> int:
    """The stock row's own reorder level, or the product's (variant's) minimum when 0."""
    return row_level if row_level > 0 else max(item_min_level, 0)


def effective_maximum(row_max: int | None, item_max_level: int) -> int | None:
    """The stock row's own maximum, or the product's (variant's); None when neither is set."""
    if row_max is not None and row_max > 0:
        return row_max
    return item_max_level if item_max_level > 0 else None


def is_low_stock(sellable: int, reorder_level: int) -> bool:
    return sellable <= reorder_level


def reorder_quantity(sellable: int, reorder_level: int, maximum: int | None) -> int:
    """How much to order so the row is stocked again.

    Up to the maximum when one is set above the reorder level; otherwise (no maximum, or
    one that mixes a row's reorder level with a lower product maximum) just enough to
    lift the sellable quantity above the reorder level, the least that takes the row off
    the low-stock list. Never negative.
    """
    target = maximum if maximum is not None and maximum > reorder_level else reorder_level + 1
    return max(target - sellable, 0)


# -- warehouses ----------------------------------------------------------------------


@dataclass(frozen=True)
class WarehouseDraft:
    """Every field of a warehouse a person edits."""

    code: str
    name: str
    address: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    postal_code: str | None = None
    phone: str | None = None
    email: str | None = None
    manager_id: uuid.UUID | None = None


def check_warehouse_code(code: str) -> str:
    """Upper-case letters, digits, '-' and '_', up to 20; typed lower case is raised."""
    value = text_input(code, "code", "A warehouse code").upper()
    if not WAREHOUSE_CODE.fullmatch(value):
        raise ValidationError(
            "A warehouse code has 1 to 20 letters, digits, '-' or '_' (upper case), "
            "such as MAIN or WH-02.",
            field="code",
        )
    return value


def check_warehouse(draft: WarehouseDraft) -> WarehouseDraft:
    """The draft cleaned up, or ValidationError naming the first field that breaks a rule."""
    name = required_text(draft.name, "name", "A warehouse name", 200)
    email = optional_text_input(draft.email, "email", "An email address")
    return replace(
        draft,
        code=check_warehouse_code(draft.code),
        name=name,
        address=_optional(draft.address, "address", "An address", 1_000),
        city=_optional(draft.city, "city", "A city", 100),
        state=_optional(draft.state, "state", "A state", 100),
        country=_optional(draft.country, "country", "A country", 100),
        postal_code=_optional(draft.postal_code, "postal_code", "A postal code", 20),
        phone=check_phone(draft.phone),
        email=check_email(email) if email else None,
    )


def _optional(value: str | None, field: str, label: str, max_length: int) -> str | None:
    return clean_text(value, field, label, max_length)


# -- reserving an order ----------------------------------------------------------------

#: A stock item: a product's own stock (variant None) or a variant's.
StockItem = tuple[uuid.UUID, uuid.UUID | None]


@dataclass(frozen=True)
class WarehouseRef:
    id: uuid.UUID
    code: str
    name: str


@dataclass(frozen=True)
class LineNeed:
    """A line of an order to reserve: how many of which stock item, and whether the rest
    may wait for stock (its product allows backorders)."""

    line_id: uuid.UUID
    item: StockItem
    sku: str
    name: str
    quantity: int
    backorder: bool


#: Per line, the (warehouse, quantity) pairs to reserve; they add up to the line quantity.
Allocation = dict[uuid.UUID, tuple[tuple[uuid.UUID, int], ...]]


@dataclass(frozen=True)
class ReservationOptions:
    """What each active warehouse can sell of an order's stocked lines, and where the order
    can be reserved from: one warehouse that has every line (`whole`, in `warehouses`
    order), else a `split` over several when together they have enough, else nothing, and
    `short_everywhere` names the lines no warehouse, nor all together, can fill.

    Confirming may reserve a line from several warehouses (`OrderService.confirm`'s
    allocations), so a split is a real choice, not a workaround."""

    warehouses: tuple[WarehouseRef, ...]
    needs: tuple[LineNeed, ...]
    sellable: dict[StockItem, dict[uuid.UUID, int]]
    whole: tuple[uuid.UUID, ...]
    split: Allocation | None
    short_everywhere: tuple[LineNeed, ...]

    def available(self, need: LineNeed, warehouse_id: uuid.UUID) -> int:
        return self.sellable.get(need.item, {}).get(warehouse_id, 0)

    def in_total(self, need: LineNeed) -> int:
        return sum(max(0, q) for q in self.sellable.get(need.item, {}).values())

    def short_in(self, warehouse_id: uuid.UUID) -> tuple[LineNeed, ...]:
        """The lines (backordered ones too) that `warehouse_id` cannot fill alone."""
        demand = _demand(self.needs)
        return tuple(
            need for need in self.needs if demand[need.item] > self.available(need, warehouse_id)
        )

    def fills(self, warehouse_id: uuid.UUID) -> bool:
        return warehouse_id in self.whole

    def warehouse(self, warehouse_id: uuid.UUID) -> WarehouseRef | None:
        return next((w for w in self.warehouses if w.id == warehouse_id), None)


def _demand(needs: tuple[LineNeed, ...]) -> dict[StockItem, int]:
    """Lines of one item count together: two lines of 3 need 6."""
    demand: dict[StockItem, int] = {}
    for need in needs:
        demand[need.item] = demand.get(need.item, 0) + need.quantity
    return demand


def reservation_options(
    warehouses: tuple[WarehouseRef, ...],
    needs: tuple[LineNeed, ...],
    sellable: dict[StockItem, dict[uuid.UUID, int]],
) -> ReservationOptions:
    """Where an order's stocked lines (`needs`) can be reserved from, given what each
    active warehouse can sell of each item (missing: nothing)."""
    demand = _demand(needs)
    firm = _demand(tuple(n for n in needs if not n.backorder))

    def has(item: StockItem, warehouse_id: uuid.UUID) -> int:
        return max(0, sellable.get(item, {}).get(warehouse_id, 0))

    whole = tuple(w.id for w in warehouses if all(has(item, w.id) >= q for item, q in firm.items()))
    short = tuple(
        n
        for n in needs
        if not n.backorder and sum(has(n.item, w.id) for w in warehouses) < firm[n.item]
    )
    split = None
    if not whole and not short and warehouses:
        # Fewest warehouses first: the one that covers most of the order gives first.
        ranked = sorted(
            warehouses,
            key=lambda w: -sum(min(q, has(item, w.id)) for item, q in demand.items()),
        )
        split = {}
        for item, wanted in demand.items():
            chunks: list[tuple[uuid.UUID, int]] = []
            left = wanted
            for w in ranked:
                take = min(left, has(item, w.id))
                if take > 0:
                    chunks.append((w.id, take))
                    left -= take
            if left > 0:  # only backordered lines get here: the rest waits where most is
                first, taken = chunks[0] if chunks else (ranked[0].id, 0)
                chunks[:1] = [(first, taken + left)]
            for need in (n for n in needs if n.item == item):
                pairs: list[tuple[uuid.UUID, int]] = []
                still = need.quantity
                while still > 0:
                    warehouse_id, quantity = chunks.pop(0)
                    take = min(still, quantity)
                    pairs.append((warehouse_id, take))
                    still -= take
                    if take < quantity:
                        chunks.insert(0, (warehouse_id, quantity - take))
                split[need.line_id] = tuple(pairs)
    return ReservationOptions(
        warehouses=warehouses,
        needs=needs,
        sellable={item: dict(per) for item, per in sellable.items()},
        whole=whole,
        split=split,
        short_everywhere=short,
    )
