"""The warehouse's four stock dialogs: receive, adjust (with a reason), transfer, count.

Each is a `forms.FormDialog` built for a barcode scanner at a desk: choose the warehouse
once, then scan (or type) an item, type the quantity and press Enter. A successful save
does not close the dialog: it says what was booked, clears the item and the quantity (and
the note; an adjustment's reason stays, since write-offs come in runs) and puts the focus
back in the item field for the next scan ("save and next"). Escape or Close ends the run.

As soon as the warehouse and the item are known, the stock of the item there is shown
(`InventoryService.stock_overview`, on a worker; a late answer for an earlier choice is
dropped). The rules are checked before anything is sent, with the message under the field
concerned: an item that tracks stock, a warehouse, a positive quantity (any non-zero
change for an adjustment), a reason, two different warehouses, and no more than is
sellable where stock is taken away. The service checks them all again in its transaction;
what it refuses shows at its field, and everything typed stays for another try.

    dialog = ReceiveDialog(services, runner, acting, warehouse_id=main_id, item=None)
    dialog.saved.connect(on_saved)   # the service's result: StockLevelRow, TransferResult, ...
    dialog.open()

Keys: Tab walks the fields; Alt+letter jumps to one; Enter in the item field looks the code
up (and moves on), Enter elsewhere or Ctrl+Enter (or Ctrl+S) saves; Escape closes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from erpgo_desktop.domain import inventory as rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.inventory import (
    CountResult,
    StockKey,
    StockLevelRow,
    StockOverview,
    TransferResult,
    WarehouseStock,
)
from erpgo_desktop.services.lookup import SellableItem
from erpgo_desktop.services.warehouses import WarehouseRow
from erpgo_desktop.ui.forms import FormDialog, alive, int_spin
from erpgo_desktop.ui.item_field import ItemField
from erpgo_desktop.ui.tasks import TaskRunner, user_message

__all__ = [
    "AdjustDialog",
    "CountDialog",
    "ReceiveDialog",
    "StockDialog",
    "TransferDialog",
]

ITEM_ALIASES = ("product", "variant", "product_id", "variant_id", "code")
ADJUST_REASONS = ("Damaged", "Lost", "Found", "Expired", "Correction")


def _level_text(level: WarehouseStock | None, code: str) -> str:
    if level is None:
        return f"{code}: none on hand"
    return (
        f"{code}: on hand {level.on_hand:,} · reserved {level.reserved:,} · "
        f"sellable {level.sellable:,}"
    )


class StockDialog(FormDialog):
    """What the four dialogs share; subclasses add their fields and their service call."""

    title: ClassVar[str] = ""
    #: The permission the dialog's action needs (the Warehouses tab offers it only then).
    permission: ClassVar[str] = ""
    #: Adjustments and counts may book in an inactive warehouse (to write off what is left).
    inactive_warehouses: ClassVar[bool] = False

    #: Where the stock is booked (a transfer's source); every `build_fields` sets it.
    warehouse: QComboBox

    def __init__(
        self,
        services: Services,
        runner: TaskRunner,
        acting: CurrentUser,
        *,
        warehouse_id: uuid.UUID | None = None,
        item: SellableItem | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, acting, parent)
        self.setWindowTitle(self.title)
        self.services = services
        self._preset_warehouse = warehouse_id
        self.warehouses: tuple[WarehouseRow, ...] = ()
        #: The chosen product's stock rows, by (warehouse, variant); None until known.
        self.levels: dict[tuple[uuid.UUID, uuid.UUID | None], WarehouseStock] | None = None
        self._levels_generation = 0
        #: Set once the warehouses have been loaded (tests wait for it).
        self.ready = False

        self.last_saved = QLabel()
        self.last_saved.setObjectName("last_saved")
        self.last_saved.setWordWrap(True)
        self.last_saved.setStyleSheet("QLabel { color: #1e7b34; }")
        self.last_saved.hide()
        self.add_top_widget(self.last_saved)

        self.form = self.add_form()
        self.build_fields(self.form)
        self.stock_label = QLabel()
        self.stock_label.setObjectName("stock")
        self.stock_label.setWordWrap(True)
        self.stock_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form.addRow("Stock:", self.stock_label)

        self.cancel_button.setText("&Close")
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.submit)
        self.item_field.item_chosen.connect(lambda _item: self._item_changed())
        self.item_field.item_cleared.connect(self._item_changed)
        self.item_field.lookup_failed.connect(
            lambda message: self.show_field_error("item", message)
        )
        for combo in self.warehouse_combos():
            combo.currentIndexChanged.connect(lambda _index: self._show_stock())

        self.finish()
        if item is not None:
            self.item_field.set_item(item)
        self.focus_start()
        self.mark_clean()
        self._load_warehouses()

    def use_services(self, services: Services) -> None:
        self.services = services
        self.item_field.rebind(services.lookup, self.acting)
        if not self.ready:  # the list was refused with the session that ended
            self._load_warehouses()

    # -- building ------------------------------------------------------------------------

    def build_fields(self, form: QFormLayout) -> None:
        """Add the dialog's rows; must set `item_field` and `quantity`."""
        raise NotImplementedError

    def add_warehouse_row(
        self, form: QFormLayout, name: str, label: str, aliases: tuple[str, ...] = ()
    ) -> QComboBox:
        combo = QComboBox()
        combo.setPlaceholderText("Loading warehouses…")
        combo.setMinimumContentsLength(24)
        result: QComboBox = self.add_row(form, name, label, combo, aliases=aliases)
        return result

    def add_item_row(self, form: QFormLayout) -> ItemField:
        field = ItemField(self.services.lookup, self.runner, self.acting)
        self.item_field: ItemField = self.add_row(
            form, "item", "&Item:", field, aliases=ITEM_ALIASES
        )
        return field

    def add_quantity_row(
        self, form: QFormLayout, label: str, spin: QSpinBox, aliases: tuple[str, ...] = ()
    ) -> QSpinBox:
        self.quantity: QSpinBox = self.add_row(form, "quantity", label, spin, aliases=aliases)
        self.quantity_default = spin.value()
        return spin

    def add_note_row(self, form: QFormLayout) -> QLineEdit:
        note = QLineEdit()
        note.setMaxLength(rules.MAX_REASON_LENGTH)
        note.setPlaceholderText("Optional")
        self.note: QLineEdit = self.add_row(form, "note", "&Note:", note)
        return note

    def warehouse_combos(self) -> tuple[QComboBox, ...]:
        return (self.warehouse,)

    def focus_start(self) -> None:
        """The item field; the quantity when the item is given already."""
        target: QWidget = self.quantity if self.item_field.item is not None else self.item_field
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        if target is self.quantity:
            self.quantity.selectAll()

    # -- warehouses ----------------------------------------------------------------------

    def _load_warehouses(self) -> None:
        warehouses, acting = self.services.warehouses, self.acting
        include_inactive = self.inactive_warehouses
        self.runner.run(
            lambda: warehouses.list_warehouses(acting, include_inactive=include_inactive),
            self._warehouses_loaded,
            self._warehouses_failed,
        )

    def _warehouses_loaded(self, rows: tuple[WarehouseRow, ...]) -> None:
        if not alive(self):
            return
        was_dirty = self.dirty
        self.warehouses = rows
        for combo in self.warehouse_combos():
            combo.blockSignals(True)
            combo.clear()
            combo.setPlaceholderText("Choose a warehouse" if rows else "No warehouse to choose")
            for row in rows:
                suffix = "" if row.is_active else " (inactive)"
                # Kept as text: QVariant compares wrapped Python objects by identity (findData).
                combo.addItem(f"{row.code} — {row.name}{suffix}", str(row.id))
            combo.setCurrentIndex(-1)
            combo.blockSignals(False)
        self.preset_warehouses()
        if not was_dirty:
            self.mark_clean()
        self.ready = True
        self._show_stock()

    def _warehouses_failed(self, error: BaseException) -> None:
        if alive(self):
            self.show_banner(f"The warehouses could not be loaded: {user_message(error)}")

    def preset_warehouses(self) -> None:
        """The warehouse given to the constructor, else the only one there is."""
        select_warehouse(self.warehouse, self._preset_warehouse)
        if self.warehouse.currentIndex() < 0 and self.warehouse.count() == 1:
            self.warehouse.setCurrentIndex(0)

    def warehouse_code(self, warehouse_id: uuid.UUID | None) -> str:
        row = next((w for w in self.warehouses if w.id == warehouse_id), None)
        return "" if row is None else row.code

    # -- the stock shown -----------------------------------------------------------------

    def _item_changed(self) -> None:
        self.levels = None
        self._levels_generation += 1
        item = self.item_field.item
        if item is None or not item.track_inventory:
            self._show_stock()
            return
        generation = self._levels_generation
        inventory, acting, product_id = self.services.inventory, self.acting, item.product_id
        self.stock_label.setText("Loading…")
        self.runner.run(
            lambda: inventory.stock_overview(acting, product_id),
            lambda overview: self._levels_loaded(generation, overview),
            lambda error: self._levels_failed(generation, error),
            owner=self,
        )

    def _levels_loaded(self, generation: int, overview: StockOverview) -> None:
        if not alive(self) or generation != self._levels_generation:
            return
        self.levels = {(row.warehouse_id, row.variant_id): row for row in overview.levels}
        self._show_stock()

    def _levels_failed(self, generation: int, error: BaseException) -> None:
        if alive(self) and generation == self._levels_generation:
            self.stock_label.setText(f"The stock could not be read: {user_message(error)}")

    def level(self, warehouse_id: uuid.UUID | None) -> WarehouseStock | None:
        """The chosen item's stock in a warehouse (None: unknown yet, or none there)."""
        item = self.item_field.item
        if item is None or warehouse_id is None or self.levels is None:
            return None
        return self.levels.get((warehouse_id, item.variant_id))

    def stock_known(self) -> bool:
        return self.levels is not None

    def _show_stock(self) -> None:
        item = self.item_field.item
        if item is None:
            self.stock_label.setText("")
        elif not item.track_inventory:
            self.stock_label.setText(f"{item.sku} does not track inventory.")
        elif self.levels is None:
            self.stock_label.setText("Loading…")
        else:
            self.stock_label.setText(self.stock_text())
        self.stock_shown()

    def stock_text(self) -> str:
        warehouse_id = current_id(self.warehouse)
        if warehouse_id is None:
            return "Choose a warehouse to see the stock there."
        return _level_text(self.level(warehouse_id), self.warehouse_code(warehouse_id))

    def stock_shown(self) -> None:
        """After the stock label changed (the count shows its difference)."""

    # -- checking and saving -------------------------------------------------------------

    def checked_item(self) -> SellableItem:
        item = self.item_field.item
        if item is None:
            if self.item_field.text().strip():
                message = "Press Enter to look the code up, or choose one of the suggestions."
            else:
                message = "Scan or type the item."
            raise ValidationError(message, field="item")
        rules.check_stocked_item(
            item.sku, True, item.track_inventory, variant=item.variant_id is not None
        )
        return item

    def checked_warehouse(self, combo: QComboBox, field: str) -> uuid.UUID:
        warehouse_id = current_id(combo)
        if warehouse_id is None:
            raise ValidationError("Choose a warehouse.", field=field)
        return warehouse_id

    def after_save(self, row: object) -> None:
        """Save and next: say what was booked, clear the item, focus it for the next scan."""
        self.last_saved.setText(self.saved_message(row))
        self.last_saved.show()
        self.clear_for_next()
        self.mark_clean()
        self.item_field.setFocus(Qt.FocusReason.OtherFocusReason)

    def clear_for_next(self) -> None:
        self.item_field.clear_item()
        self.quantity.setValue(self.quantity_default)
        if hasattr(self, "note"):
            self.note.clear()

    def saved_message(self, row: object) -> str:
        raise NotImplementedError


def current_id(combo: QComboBox) -> uuid.UUID | None:
    data = combo.currentData()
    return uuid.UUID(data) if isinstance(data, str) else None


def select_warehouse(combo: QComboBox, warehouse_id: uuid.UUID | None) -> None:
    if warehouse_id is not None:
        index = combo.findData(str(warehouse_id))
        if index >= 0:
            combo.setCurrentIndex(index)


def _key(item: SellableItem, warehouse_id: uuid.UUID) -> StockKey:
    return StockKey(item.product_id, warehouse_id, item.variant_id)


def _level_after(row: StockLevelRow) -> str:
    return f"on hand in {row.warehouse_code} now {row.on_hand:,}"


class ReceiveDialog(StockDialog):
    """Goods in: a quantity of an item into an active warehouse, with an optional note."""

    title = "Receive stock"
    permission = perms.INVENTORY_RECEIVE

    def build_fields(self, form: QFormLayout) -> None:
        self.warehouse = self.add_warehouse_row(form, "warehouse", "&Warehouse:", ("warehouse_id",))
        self.add_item_row(form)
        spin = int_spin(0, rules.MAX_STOCK)
        spin.setValue(1)
        self.add_quantity_row(form, "&Quantity:", spin)
        self.add_note_row(form)

    def prepare_save(self) -> Callable[[], object]:
        warehouse_id = self.checked_warehouse(self.warehouse, "warehouse")
        item = self.checked_item()
        quantity = rules.check_receive_quantity(self.quantity.value())
        note = rules.check_note(self.note.text())
        inventory, acting, key = self.services.inventory, self.acting, _key(item, warehouse_id)
        return lambda: inventory.receive(acting, key, quantity, note=note)

    def saved_message(self, row: object) -> str:
        assert isinstance(row, StockLevelRow)
        # Called before the fields are cleared for the next item.
        return f"Received {self.quantity.value():,} of {row.sku}; {_level_after(row)}."


class AdjustDialog(StockDialog):
    """A signed correction of an item's stock, with the reason for it."""

    title = "Adjust stock"
    permission = perms.INVENTORY_ADJUST
    inactive_warehouses = True

    def build_fields(self, form: QFormLayout) -> None:
        self.warehouse = self.add_warehouse_row(form, "warehouse", "&Warehouse:", ("warehouse_id",))
        self.add_item_row(form)
        spin = int_spin(-rules.MAX_STOCK, rules.MAX_STOCK)
        spin.setValue(0)
        spin.setToolTip("More than 0 adds to the stock, less than 0 takes away")
        self.add_quantity_row(form, "C&hange (+/−):", spin, aliases=("delta",))
        reason = QComboBox()
        reason.setEditable(True)
        # Enter saves; it must not also add what was typed to the list of reasons.
        reason.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        reason.addItems(("", *ADJUST_REASONS))
        reason.setCurrentIndex(0)
        reason_edit = reason.lineEdit()
        assert reason_edit is not None, "an editable combo box has a line edit"
        reason_edit.setMaxLength(rules.MAX_REASON_LENGTH)
        reason_edit.setPlaceholderText("Why: damaged, lost, found…")
        self.reason: QComboBox = self.add_row(form, "reason", "&Reason:", reason)

    def prepare_save(self) -> Callable[[], object]:
        warehouse_id = self.checked_warehouse(self.warehouse, "warehouse")
        item = self.checked_item()
        delta = rules.check_adjust_delta(self.quantity.value())
        level = self.level(warehouse_id)
        if delta < 0 and self.stock_known():
            on_hand, reserved = (level.on_hand, level.reserved) if level else (0, 0)
            if on_hand + delta < reserved:
                raise ValidationError(
                    f"At most {on_hand - reserved:,} of {item.sku} can be taken away in "
                    f"{self.warehouse_code(warehouse_id)}: on hand {on_hand:,}, "
                    f"reserved for orders {reserved:,}.",
                    field="quantity",
                )
        reason = rules.check_reason(self.reason.currentText())
        inventory, acting, key = self.services.inventory, self.acting, _key(item, warehouse_id)
        return lambda: inventory.adjust(acting, key, delta, reason)

    def saved_message(self, row: object) -> str:
        assert isinstance(row, StockLevelRow)
        return f"Adjusted {row.sku} by {self.quantity.value():+,}; {_level_after(row)}."


class TransferDialog(StockDialog):
    """Sellable stock from one active warehouse to another."""

    title = "Transfer stock"
    permission = perms.INVENTORY_TRANSFER

    def build_fields(self, form: QFormLayout) -> None:
        self.warehouse = self.add_warehouse_row(
            form, "source_warehouse", "&From:", ("warehouse", "warehouse_id")
        )
        self.destination = self.add_warehouse_row(form, "destination_warehouse", "&To:")
        self.add_item_row(form)
        spin = int_spin(0, rules.MAX_STOCK)
        spin.setValue(1)
        self.add_quantity_row(form, "&Quantity:", spin)
        self.add_note_row(form)

    def warehouse_combos(self) -> tuple[QComboBox, ...]:
        return (self.warehouse, self.destination)

    def preset_warehouses(self) -> None:
        super().preset_warehouses()
        if self.destination.currentIndex() < 0 and self.destination.count() == 2:
            # Two warehouses: "to" is the one that is not "from".
            source = current_id(self.warehouse)
            other = next((w.id for w in self.warehouses if w.id != source), None)
            if source is not None:
                select_warehouse(self.destination, other)

    def stock_text(self) -> str:
        source, destination = current_id(self.warehouse), current_id(self.destination)
        if source is None:
            return "Choose the warehouse to take the stock from."
        text = "From " + _level_text(self.level(source), self.warehouse_code(source))
        if destination is not None and destination != source:
            text += "\nTo " + _level_text(self.level(destination), self.warehouse_code(destination))
        return text

    def prepare_save(self) -> Callable[[], object]:
        source = self.checked_warehouse(self.warehouse, "source_warehouse")
        destination = self.checked_warehouse(self.destination, "destination_warehouse")
        rules.check_transfer_warehouses(source, destination)
        item = self.checked_item()
        quantity = rules.check_transfer_quantity(self.quantity.value())
        if self.stock_known():
            level = self.level(source)
            sellable = level.sellable if level else 0
            if quantity > sellable:
                raise ValidationError(
                    f"Only {sellable:,} of {item.sku} can be moved from "
                    f"{self.warehouse_code(source)}: that is what is sellable there.",
                    field="quantity",
                )
        note = rules.check_note(self.note.text())
        inventory, acting, key = self.services.inventory, self.acting, _key(item, source)
        return lambda: inventory.transfer(acting, key, destination, quantity, note=note)

    def saved_message(self, row: object) -> str:
        assert isinstance(row, TransferResult)
        out, into = row.source, row.destination
        return (
            f"Moved {row.quantity:,} of {out.sku} from {out.warehouse_code} to "
            f"{into.warehouse_code}; on hand now {out.on_hand:,} in {out.warehouse_code}, "
            f"{into.on_hand:,} in {into.warehouse_code}."
        )


class CountDialog(StockDialog):
    """What was counted; the difference to on hand is booked as an adjustment."""

    title = "Count stock"
    permission = perms.INVENTORY_COUNT
    inactive_warehouses = True

    def build_fields(self, form: QFormLayout) -> None:
        self.warehouse = self.add_warehouse_row(form, "warehouse", "&Warehouse:", ("warehouse_id",))
        self.add_item_row(form)
        # -1 shows as blank: 0 is a real count, and must be typed, not left in place.
        spin = int_spin(-1, rules.MAX_STOCK, special=" ")
        spin.setValue(-1)
        self.add_quantity_row(form, "Co&unted:", spin, aliases=("counted",))
        self.difference = QLabel()
        self.difference.setObjectName("difference")
        form.addRow("Difference:", self.difference)
        self.add_note_row(form)
        spin.valueChanged.connect(lambda _value: self.stock_shown())

    def stock_shown(self) -> None:
        counted = self.quantity.value()
        warehouse_id = current_id(self.warehouse)
        if counted < 0 or not self.stock_known() or warehouse_id is None:
            self.difference.setText("")
            return
        level = self.level(warehouse_id)
        on_hand = level.on_hand if level else 0
        change = counted - on_hand
        if change == 0:
            self.difference.setText("None: nothing will be booked.")
        else:
            self.difference.setText(f"{change:+,} will be booked (on hand {on_hand:,}).")

    def prepare_save(self) -> Callable[[], object]:
        warehouse_id = self.checked_warehouse(self.warehouse, "warehouse")
        item = self.checked_item()
        if self.quantity.value() < 0:
            raise ValidationError("Type the quantity counted (0 when none).", field="quantity")
        counted = rules.check_counted_quantity(self.quantity.value())
        level = self.level(warehouse_id)
        if level is not None:
            rules.check_count_covers_reserved(
                counted, level.reserved, item.sku, self.warehouse_code(warehouse_id)
            )
        note = rules.check_note(self.note.text())
        inventory, acting, key = self.services.inventory, self.acting, _key(item, warehouse_id)
        return lambda: inventory.count(acting, key, counted, note=note)

    def saved_message(self, row: object) -> str:
        assert isinstance(row, CountResult)
        level = row.level
        if row.difference == 0:
            return f"Counted {level.on_hand:,} of {level.sku} in {level.warehouse_code}: as booked."
        return (
            f"Counted {level.on_hand:,} of {level.sku} in {level.warehouse_code}; "
            f"{row.difference:+,} booked."
        )
