"""The lines of the order being entered: a table model over plain rows, editing in place.

Lines are edited here and written by the order dialog's Save (add, change, remove, as
the difference to the order as loaded), so what is typed is never half saved. Each line
carries what the live totals need (its product's tax rate) and, once saved, the service's
own figures, which are shown for a line as long as it is unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRegularExpression,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QRegularExpressionValidator
from PySide6.QtWidgets import QLineEdit, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from erpgo_desktop.domain import orders as rules
from erpgo_desktop.domain.money import ZERO
from erpgo_desktop.domain.wording import LINE_STATUS_TONES, code_label, tone
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.inventory import StockOverview, WarehouseStock
from erpgo_desktop.services.lookup import SellableItem
from erpgo_desktop.services.orders import OrderLineRow
from erpgo_desktop.ui.badges import BADGE_ROLE
from erpgo_desktop.ui.forms import decimal_edit, format_decimal

ModelIndex = QModelIndex | QPersistentModelIndex
SHORT = QColor("#c0392b")


@dataclass(frozen=True)
class TaxInfo:
    """What a product's lines are taxed at."""

    rate: Decimal
    taxable: bool


@dataclass(frozen=True)
class DraftLine:
    """A line as the person sees it; `saved` is the service's row it started from."""

    key: uuid.UUID  # the line's id once saved; a new line's own until then
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    tracks_inventory: bool
    allows_backorder: bool
    tax: TaxInfo | None = None
    saved: OrderLineRow | None = None

    @classmethod
    def new(cls, item: SellableItem, quantity: int, tax: TaxInfo | None) -> DraftLine:
        return cls(
            key=uuid.uuid4(),
            product_id=item.product_id,
            variant_id=item.variant_id,
            sku=item.sku,
            name=item.name,
            quantity=quantity,
            unit_price=item.price,
            discount=ZERO,
            tracks_inventory=item.track_inventory,
            allows_backorder=item.allow_backorder,
            tax=tax,
        )

    @classmethod
    def from_row(cls, row: OrderLineRow, tax: TaxInfo | None) -> DraftLine:
        return cls(
            key=row.id,
            product_id=row.product_id,
            variant_id=row.variant_id,
            sku=row.sku,
            name=row.name,
            quantity=row.quantity,
            unit_price=row.unit_price,
            discount=row.discount_amount,
            tracks_inventory=row.tracks_inventory,
            allows_backorder=row.allows_backorder,
            tax=tax,
            saved=row,
        )

    @property
    def line_id(self) -> uuid.UUID | None:
        return self.saved.id if self.saved is not None else None

    @property
    def changed(self) -> bool:
        """Whether quantity, price or discount differ from the saved line."""
        saved = self.saved
        return saved is None or (saved.quantity, saved.unit_price, saved.discount_amount) != (
            self.quantity,
            self.unit_price,
            self.discount,
        )

    @property
    def stock_key(self) -> tuple[uuid.UUID, uuid.UUID | None]:
        return (self.product_id, self.variant_id)

    def amounts(self, tax_exempt: bool) -> rules.LineAmounts | None:
        """The line's money as the service will work it out; None while the tax rate is
        not known. An unchanged saved line shows the service's own figures."""
        saved = self.saved
        if saved is not None and not self.changed:
            return rules.LineAmounts(
                total=saved.total_price,
                discount=saved.discount_amount,
                tax=saved.tax_amount,
                final=saved.final_price,
            )
        if self.tax is None:
            return None
        return rules.line_amounts(
            self.quantity,
            self.unit_price,
            self.discount,
            tax_rate=self.tax.rate,
            taxable=self.tax.taxable,
            tax_exempt=tax_exempt,
        )


def availability(
    overview: StockOverview | None, variant_id: uuid.UUID | None
) -> tuple[WarehouseStock, ...]:
    """The stock rows of one product (or variant) in active warehouses."""
    if overview is None:
        return ()
    return tuple(
        level
        for level in overview.levels
        if level.variant_id == variant_id and level.warehouse_active
    )


def availability_text(line: DraftLine, overview: StockOverview | None) -> str:
    """ "MAIN 8 · EAST 0": what each active warehouse can still sell."""
    if not line.tracks_inventory:
        return "not stocked"
    if overview is None:
        return "…"
    levels = availability(overview, line.variant_id)
    if not levels:
        return "none"
    return " · ".join(f"{level.warehouse_code} {level.sellable:,}" for level in levels)


def is_short(line: DraftLine, overview: StockOverview | None) -> bool:
    """All warehouses together cannot sell the whole line (confirming may split a line
    over several warehouses, so one warehouse short of it is no shortage)."""
    if not line.tracks_inventory or line.allows_backorder or overview is None:
        return False
    if line.saved is not None and line.saved.status != "PENDING":
        return False  # reserved or shipped already
    levels = availability(overview, line.variant_id)
    return sum(max(0, level.sellable) for level in levels) < line.quantity


def line_status(line: DraftLine) -> str:
    saved = line.saved
    if saved is None:
        return "New"
    parts = [code_label(saved.status)]
    if saved.reserved_quantity:
        held = ", ".join(f"{r.warehouse_code} {r.quantity:,}" for r in saved.reservations)
        parts.append(f"reserved {held}")
    if saved.backordered_quantity:
        parts.append(f"backordered {saved.backordered_quantity:,}")
    if saved.shipped_quantity:
        parts.append(f"shipped {saved.shipped_quantity:,}")
    if saved.returned_quantity:
        parts.append(f"returned {saved.returned_quantity:,}")
    if line.changed:
        parts.append("changed")
    return "; ".join(parts)


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


class OrderLinesModel(QAbstractTableModel):
    """The lines, one row each; quantity, unit price and discount are edited in place."""

    SKU, ITEM, QUANTITY, PRICE, DISCOUNT, TAX, TOTAL, AVAILABLE, STATUS = range(9)
    HEADERS = ("SKU", "Item", "Qty", "Unit price", "Discount", "Tax", "Total", "Available",
               "Status")  # fmt: skip
    EDITABLE_COLUMNS = frozenset({QUANTITY, PRICE, DISCOUNT})
    _RIGHT = frozenset({QUANTITY, PRICE, DISCOUNT, TAX, TOTAL})

    #: The person changed the lines (edited a cell, added or removed a line).
    edited = Signal()
    #: An edit was refused; the message says why (shown under the table).
    refused = Signal(str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._lines: list[DraftLine] = []
        self._stock: dict[uuid.UUID, StockOverview] = {}
        self.tax_exempt = False
        self.editable = True

    # -- contents ------------------------------------------------------------------------

    @property
    def lines(self) -> tuple[DraftLine, ...]:
        return tuple(self._lines)

    def set_lines(self, lines: Iterable[DraftLine]) -> None:
        self.beginResetModel()
        self._lines = list(lines)
        self.endResetModel()

    def line(self, row: int) -> DraftLine:
        return self._lines[row]

    def row_of(self, key: uuid.UUID) -> int:
        return next((i for i, line in enumerate(self._lines) if line.key == key), -1)

    def add(self, item: SellableItem, quantity: int, tax: TaxInfo | None) -> int:
        """A line for `item`, or more of it on the line that has it already (scanning the
        same thing twice means two of it). Returns the row."""
        for row, line in enumerate(self._lines):
            if line.stock_key == (item.product_id, item.variant_id):
                new_quantity = rules.check_quantity(line.quantity + quantity)
                self._replace(row, replace(line, quantity=new_quantity, tax=line.tax or tax))
                self.edited.emit()
                return row
        row = len(self._lines)
        self.beginInsertRows(QModelIndex(), row, row)
        self._lines.append(DraftLine.new(item, rules.check_quantity(quantity), tax))
        self.endInsertRows()
        self.edited.emit()
        return row

    def remove(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._lines[row]
        self.endRemoveRows()
        self.edited.emit()

    def set_tax(self, taxes: Mapping[uuid.UUID, TaxInfo]) -> None:
        """Tax rates by product that arrived after their lines."""
        for row, line in enumerate(self._lines):
            if line.tax is None and line.product_id in taxes:
                self._replace(row, replace(line, tax=taxes[line.product_id]))

    def set_stock(self, overview: StockOverview) -> None:
        self._stock[overview.product_id] = overview
        for row, line in enumerate(self._lines):
            if line.product_id == overview.product_id:
                self._changed(row, row)

    def stock(self, product_id: uuid.UUID) -> StockOverview | None:
        return self._stock.get(product_id)

    def set_tax_exempt(self, exempt: bool) -> None:
        if exempt != self.tax_exempt:
            self.tax_exempt = exempt
            if self._lines:
                self._changed(0, len(self._lines) - 1)

    def set_editable(self, editable: bool) -> None:
        self.editable = editable

    def _replace(self, row: int, line: DraftLine) -> None:
        self._lines[row] = line
        self._changed(row, row)

    def _changed(self, first: int, last: int) -> None:
        self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.HEADERS) - 1))

    # -- the model -----------------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.editable and index.column() in self.EDITABLE_COLUMNS:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        line = self._lines[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(line, column)
        if role == Qt.ItemDataRole.EditRole:
            return self._edit_text(line, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self._RIGHT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == BADGE_ROLE and column == self.STATUS:
            return tone(LINE_STATUS_TONES, line.saved.status if line.saved else "NEW")
        if role == Qt.ItemDataRole.ToolTipRole and column == self.ITEM:
            return line.name  # cut off by the column width
        if column == self.AVAILABLE:
            stock = self._stock.get(line.product_id)
            short = is_short(line, stock)
            if role == Qt.ItemDataRole.ForegroundRole and short:
                return QBrush(SHORT)
            if role == Qt.ItemDataRole.ToolTipRole:
                # Whole here when the column is cut (one figure per warehouse).
                whole = availability_text(line, stock)
                if short:
                    return (
                        f"{whole}\nAll warehouses together cannot sell {line.quantity:,} of "
                        f"{line.sku}."
                    )
                return whole
        return None

    def _display(self, line: DraftLine, column: int) -> str | None:
        if column == self.SKU:
            return line.sku
        if column == self.ITEM:
            return line.name
        if column == self.QUANTITY:
            return f"{line.quantity:,}"
        if column == self.PRICE:
            return money(line.unit_price)
        if column == self.DISCOUNT:
            return money(line.discount)
        if column in (self.TAX, self.TOTAL):
            try:
                amounts = line.amounts(self.tax_exempt)
            except ValidationError:
                return "?"
            if amounts is None:
                return "…"
            return money(amounts.tax if column == self.TAX else amounts.final)
        if column == self.AVAILABLE:
            return availability_text(line, self._stock.get(line.product_id))
        if column == self.STATUS:
            return line_status(line)
        return None

    def _edit_text(self, line: DraftLine, column: int) -> str | None:
        if column == self.QUANTITY:
            return str(line.quantity)
        if column == self.PRICE:
            return format_decimal(line.unit_price, 2)
        if column == self.DISCOUNT:
            return format_decimal(line.discount, 2)
        return self._display(line, column)

    def setData(self, index: ModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or not self.editable:
            return False
        row, column = index.row(), index.column()
        line = self._lines[row]
        text = str(value).strip()
        try:
            if column == self.QUANTITY:
                if not text.isdigit():
                    raise ValidationError("A quantity is a whole number.", field="quantity")
                new = replace(line, quantity=rules.check_quantity(int(text)))
            elif column == self.PRICE:
                new = replace(line, unit_price=rules.check_unit_price(text or "0"))
            elif column == self.DISCOUNT:
                new = replace(line, discount=rules.check_discount(text or "0"))
            else:
                return False
            new.amounts(self.tax_exempt)  # a discount over the line total is refused now
        except ValidationError as error:
            self.refused.emit(f"{line.sku}: {error.message}")
            return False
        if new == line:
            return True
        self._replace(row, new)
        self.edited.emit()
        return True


class LineEditDelegate(QStyledItemDelegate):
    """Editors that take only what the column can hold: whole quantities, money."""

    def createEditor(
        self, parent: QWidget, option: QStyleOptionViewItem, index: ModelIndex
    ) -> QWidget:
        if index.column() == OrderLinesModel.QUANTITY:
            editor = QLineEdit(parent)
            pattern = QRegularExpression(r"[0-9]{0,4}")
            editor.setValidator(QRegularExpressionValidator(pattern, editor))
            editor.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        else:
            editor = decimal_edit(10, 2)
            editor.setParent(parent)
        editor.setFrame(False)
        return editor

    def setEditorData(self, editor: QWidget, index: ModelIndex) -> None:
        if isinstance(editor, QLineEdit):
            editor.setText(str(index.data(Qt.ItemDataRole.EditRole) or ""))
            editor.selectAll()

    def setModelData(self, editor: QWidget, model: Any, index: ModelIndex) -> None:
        if isinstance(editor, QLineEdit):
            model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)


def order_lines_summary(lines: Sequence[DraftLine]) -> str:
    """The lines in a few words, for the conflict dialog."""
    return ", ".join(f"{line.quantity:,} × {line.sku}" for line in lines) or "no lines"
