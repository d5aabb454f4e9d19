"""The small dialogs of order actions that need more than a click: confirm (from which
warehouse), ship (what, with which carrier and tracking number), return, payment, refund.

Each is a `FormDialog`: the service call runs on the task runner, a refusal is shown at
the field it concerns or in the banner (a stock shortage names SKU, warehouse and
quantities), and the dialog stays open with what was typed so it can be tried again. On
success `saved` carries the order as it now is. Each takes the order as the order dialog
last had it and writes with its version.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from erpgo_desktop.domain import orders as rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.inventory import (
    LineNeed,
    ReservationOptions,
    StockItem,
    WarehouseRef,
    reservation_options,
)
from erpgo_desktop.errors import StockShortageError, ValidationError
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.inventory import StockOverview
from erpgo_desktop.services.orders import OrderDetail, OrderLineRow, OrderService
from erpgo_desktop.services.warehouses import WarehouseRow
from erpgo_desktop.ui.badges import alert_colour
from erpgo_desktop.ui.forms import FormDialog, alive, format_decimal, money_edit, read_decimal
from erpgo_desktop.ui.order_lines import availability
from erpgo_desktop.ui.tasks import TaskRunner


def warehouse_combo(warehouses: Sequence[WarehouseRow]) -> QComboBox:
    combo = QComboBox()
    for warehouse in warehouses:
        if warehouse.is_active:
            combo.addItem(f"{warehouse.code} — {warehouse.name}", warehouse.id)
    return combo


class OrderActionDialog(FormDialog):
    """An action on one order: the order it started from, written over that version.

    Some actions take two steps (start processing, then ship); when the second is refused
    the first has happened, so `progressed` carries the order as it now is and the next
    try starts from there."""

    progressed = Signal(object)

    def __init__(
        self,
        orders: OrderService,
        runner: TaskRunner,
        acting: CurrentUser,
        order: OrderDetail,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, acting, parent)
        self.orders = orders
        self.order = order
        self._steps: list[OrderDetail] = []
        self.cancel_button.setText("Close")

    def run_steps(
        self, *steps: Callable[[OrderDetail], OrderDetail | None]
    ) -> Callable[[], OrderDetail]:
        """Work for a worker: each step gets the order as the previous step left it (and
        may skip itself by returning None)."""
        done = self._steps = []
        start = self.order

        def work() -> OrderDetail:
            current = start
            for step in steps:
                result = step(current)
                if result is not None:
                    current = result
                    done.append(result)
            return current

        return work

    def use_services(self, services: Services) -> None:
        self.orders = services.orders

    def _save_failed(self, error: BaseException) -> None:
        if self._steps:
            self.order = self._steps[-1]
            self._steps = []
            self.progressed.emit(self.order)
        super()._save_failed(error)


#: The warehouse choice that spreads the order over several warehouses.
SPLIT = "split"
MAX_TABLE_ROWS = 10


def stock_options(
    order: OrderDetail,
    warehouses: Sequence[WarehouseRow],
    stock: Mapping[uuid.UUID, StockOverview],
) -> ReservationOptions | None:
    """Where `order` can be reserved from, worked out from the stock the order dialog has
    (None while a stocked line's stock is not known)."""
    needs = []
    sellable: dict[StockItem, dict[uuid.UUID, int]] = {}
    for line in order.lines:
        left = line.quantity - line.shipped_quantity - line.reserved_quantity
        if not line.tracks_inventory or left <= 0:
            continue
        overview = stock.get(line.product_id)
        if overview is None:
            return None
        item = (line.product_id, line.variant_id)
        needs.append(LineNeed(line.id, item, line.sku, line.name, left, line.allows_backorder))
        sellable[item] = {s.warehouse_id: s.sellable for s in availability(overview, item[1])}
    active = tuple(WarehouseRef(w.id, w.code, w.name) for w in warehouses if w.is_active)
    return reservation_options(active, tuple(needs), sellable)


class ConfirmOrderDialog(OrderActionDialog):
    """Confirm: reserve every stocked line, from one warehouse or split over several.

    The choice starts at a warehouse that has every line (else the split, when only
    together they do). The table shows what each active warehouse can sell of each line,
    the chosen one's shortfalls marked ✗ (in red, and in words in the tooltip). When the
    choice cannot fill the order, a button offers in one click the warehouse (or split)
    that can, or the text says which lines no warehouse has enough of. The figures are read
    again from the service on opening; a refusal (stock sold meanwhile) brings them as they
    were then. The dialog stays what it was: same title, same Confirm button."""

    busy_text = "Confirming…"
    failed_text = "Not confirmed: {reason}"

    def __init__(
        self,
        orders: OrderService,
        runner: TaskRunner,
        acting: CurrentUser,
        order: OrderDetail,
        warehouses: Sequence[WarehouseRow],
        stock: Mapping[uuid.UUID, StockOverview],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(orders, runner, acting, order, parent)
        self.setWindowTitle(f"Confirm order {order.order_number}")
        self._warehouses = tuple(w for w in warehouses if w.is_active)
        self.options = stock_options(order, warehouses, stock)
        form = self.add_form()
        self.warehouse = self.add_row(
            form,
            "warehouse_id",
            "Reserve from &warehouse:",
            QComboBox(),
            # A refusal for want of stock is about where it was reserved from.
            aliases=("quantity", "allocations"),
        )
        self.table = QTableWidget()
        self.table.setObjectName("stock_by_warehouse")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().setVisible(False)
        self.table.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        form.addRow(self.table)
        self.fit = QLabel()
        self.fit.setObjectName("fit")
        self.fit.setWordWrap(True)
        form.addRow(self.fit)
        self.suggestion = QLabel()
        self.suggestion.setObjectName("suggestion")
        self.suggestion.setWordWrap(True)
        self.suggest_button = QPushButton()
        self.suggest_button.setObjectName("use_suggestion")
        self.suggest_button.setAutoDefault(False)
        self.suggest_button.clicked.connect(self._take_suggestion)
        offer = QHBoxLayout()
        offer.addWidget(self.suggestion, 1)
        offer.addWidget(self.suggest_button)
        form.addRow(offer)
        self._suggested: object = None
        self.override: QCheckBox | None = None
        if acting.can(perms.CUSTOMERS_CREDIT_OVERRIDE):
            self.override = self.add_row(
                form,
                "override_credit",
                None,
                QCheckBox("&Override the credit limit"),
                aliases=("credit_limit",),
            )
        self.save_button.setText("&Confirm")
        self._fill_choices(keep=False)
        self.warehouse.currentIndexChanged.connect(self._show_fit)
        self._show_fit()
        self.finish()
        self.mark_clean()
        self._read_options()

    # -- the figures -----------------------------------------------------------------------

    def _read_options(self) -> None:
        orders, acting, order_id = self.orders, self.acting, self.order.id
        self.runner.run(
            lambda: orders.reservation_options(acting, order_id),
            self._options_arrived,
            _keep_what_is_shown,
        )

    def _options_arrived(self, options: ReservationOptions) -> None:
        if not alive(self) or self.saving:
            return
        self.use_options(options)

    def use_options(self, options: ReservationOptions) -> None:
        """Show `options`; the choice moves to the best one unless the person chose."""
        touched = self.dirty
        self.options = options
        self._fill_choices(keep=touched)
        self._show_fit()
        if not touched:
            self.mark_clean()

    def _fill_choices(self, *, keep: bool) -> None:
        """The warehouses, each saying whether it has every line, and the split when only
        several together have enough; `keep` the current choice, else the best one."""
        combo, options = self.warehouse, self.options
        current = combo.currentData()
        blocked = combo.blockSignals(True)
        combo.clear()
        for warehouse in self._warehouses:
            note = ""
            if options is not None and options.needs:
                short = len(options.short_in(warehouse.id))
                note = " · has every line" if not short else f" · short of {_lines(short)}"
            combo.addItem(f"{warehouse.code} — {warehouse.name}{note}", warehouse.id)
        if options is not None and options.split:
            used = {w for pairs in options.split.values() for w, _ in pairs}
            codes = [w.code for w in options.warehouses if w.id in used]
            combo.addItem(f"Split across {' and '.join(codes)} · has every line", SPLIT)
        wanted = current if keep else self._best_choice()
        combo.setCurrentIndex(max(_index_of(combo, wanted), 0) if combo.count() else -1)
        combo.blockSignals(blocked)

    def _best_choice(self) -> object:
        options = self.options
        if options is None or not self._warehouses:
            return None
        if options.whole:
            return options.whole[0]
        if options.split:
            return SPLIT
        # None has everything: the one that can reserve the most of it.
        return max(
            self._warehouses,
            key=lambda w: sum(min(n.quantity, options.available(n, w.id)) for n in options.needs),
        ).id

    def _show_fit(self) -> None:
        """The table, what the choice lacks, and the way out."""
        choice = self.warehouse.currentData()
        options = self.options
        self._fill_table(choice)
        self.fit.setText(self._fit_text(choice))
        offer, button, self._suggested = self._offer(choice)
        self.suggestion.setText(offer)
        self.suggestion.setVisible(bool(offer))
        self.suggest_button.setText(button)
        self.suggest_button.setVisible(bool(button))
        self.table.setVisible(options is not None and bool(options.needs))
        self._grow_to_fit()

    def _grow_to_fit(self) -> None:
        """Room for what the figures now say; never smaller than the person made it."""
        hint = self.sizeHint()
        if hint.width() > self.width() or hint.height() > self.height():
            self.resize(max(hint.width(), self.width()), max(hint.height(), self.height()))

    def _fill_table(self, choice: object) -> None:
        table, options = self.table, self.options
        if options is None:
            table.setRowCount(0)
            return
        houses = options.warehouses
        used = _split_warehouses(options) if choice == SPLIT else {choice}
        table.setColumnCount(2 + len(houses))
        headers = ["Item", "Wanted"]
        for warehouse in houses:
            headers.append(f"▸ {warehouse.code}" if warehouse.id in used else warehouse.code)
        table.setHorizontalHeaderLabels(headers)
        for column, warehouse in enumerate(houses, start=2):
            header = table.horizontalHeaderItem(column)
            if header is not None:
                font = header.font()
                font.setBold(warehouse.id in used)
                header.setFont(font)
                header.setToolTip(warehouse.name)
        table.setRowCount(len(options.needs))
        for row, need in enumerate(options.needs):
            table.setItem(row, 0, QTableWidgetItem(f"{need.sku} — {need.name}"))
            table.setItem(row, 1, _number(need.quantity))
            for column, warehouse in enumerate(houses, start=2):
                available = options.available(need, warehouse.id)
                cell = _number(available)
                short = need in options.short_in(warehouse.id)
                if short and need.backorder:
                    cell.setText(f"{available:,} (rest waits)")
                    cell.setToolTip(
                        f"{need.sku} allows backorders: {warehouse.code} reserves what it has "
                        "and the rest waits for stock."
                    )
                elif short:
                    cell.setText(f"{available:,} ✗")
                    cell.setForeground(QBrush(alert_colour(table.palette())))
                    cell.setToolTip(
                        f"{warehouse.code} can sell {available:,} of {need.sku}; "
                        f"{need.quantity:,} wanted."
                    )
                table.setItem(row, column, cell)
        table.resizeColumnsToContents()
        # Ten lines at most before it scrolls: a long order must not push the buttons off
        # a 768-pixel screen.
        shown = min(len(options.needs), MAX_TABLE_ROWS)
        rows = sum(table.rowHeight(r) for r in range(shown))
        frame = 2 * table.frameWidth() + table.horizontalHeader().sizeHint().height()
        table.setMaximumHeight(rows + frame + 2)

    def _fit_text(self, choice: object) -> str:
        options = self.options
        if options is None:
            return "Reading the stock of each warehouse…"
        if not options.needs:
            return "Nothing on this order is kept in stock: no warehouse is needed."
        if choice == SPLIT and options.split:
            codes = {w.id: w.code for w in options.warehouses}
            rows = [
                f"{need.sku}: "
                + " + ".join(f"{codes[w]} {q:,}" for w, q in options.split[need.line_id])
                for need in options.needs
            ]
            return "Reserved from several warehouses:\n" + "\n".join(rows)
        if not isinstance(choice, uuid.UUID):
            return ""
        notes = []
        for need in options.short_in(choice):
            back = " (backordered)" if need.backorder else ""
            available = options.available(need, choice)
            notes.append(f"{need.sku}: {need.quantity:,} wanted, {available:,} sellable{back}")
        return "\n".join(notes) if notes else "Every line is in stock there."

    def _offer(self, choice: object) -> tuple[str, str, object]:
        """(what to say, the button's text or "", the choice it takes) when the current
        choice cannot fill the order."""
        options = self.options
        if options is None or not options.needs or choice == SPLIT:
            return "", "", None
        if isinstance(choice, uuid.UUID) and not any(
            not need.backorder for need in options.short_in(choice)
        ):
            return "", "", None
        if options.whole:
            best = options.warehouse(options.whole[0])
            assert best is not None
            return f"{best.code} has every line.", f"Co&nfirm from {best.code}", best.id
        if options.split:
            return (
                "No single warehouse has every line; together they do.",
                "Co&nfirm split across warehouses",
                SPLIT,
            )
        short = "; ".join(
            f"{need.sku} ({need.quantity:,} wanted, {options.in_total(need):,} in all warehouses)"
            for need in options.short_everywhere
        )
        return (
            f"No warehouse, nor all together, has enough of: {short}. Receive or move stock "
            "first, or change the order.",
            "",
            None,
        )

    def _take_suggestion(self) -> None:
        index = _index_of(self.warehouse, self._suggested)
        if index < 0:
            return
        self.warehouse.setCurrentIndex(index)
        self.submit()

    # -- confirming --------------------------------------------------------------------------

    def show_error(
        self, error: BaseException, *, saving: bool = False, checked: bool = False
    ) -> None:
        if isinstance(error, StockShortageError) and error.options is not None:
            self.options = error.options
            self._fill_choices(keep=True)
            self._show_fit()
            error = ValidationError(self._refusal(error.options), field="warehouse_id")
        super().show_error(error, saving=saving, checked=checked)

    def _refusal(self, options: ReservationOptions) -> str:
        choice = self.warehouse.currentData()
        if isinstance(choice, uuid.UUID):
            where = options.warehouse(choice)
            place = where.code if where is not None else "That warehouse"
            short = [n.sku for n in options.short_in(choice) if not n.backorder]
        else:
            place = "The split"
            short = [n.sku for n in options.needs]
        return (
            f"Nothing was reserved: {place} has too little of {', '.join(short)} now "
            "(the figures below are as they are now)."
        )

    def prepare_save(self) -> Callable[[], OrderDetail]:
        choice = self.warehouse.currentData()
        if choice is None:
            raise ValidationError("Choose the warehouse to reserve from.", field="warehouse_id")
        warehouse_id = choice if isinstance(choice, uuid.UUID) else None
        allocations = None
        if choice == SPLIT:
            assert self.options is not None and self.options.split is not None
            allocations = dict(self.options.split)
        override = self.override is not None and self.override.isChecked()
        orders, acting = self.orders, self.acting
        return self.run_steps(
            lambda order: orders.confirm(
                acting,
                order.id,
                order.version,
                warehouse_id,
                allocations=allocations,
                override_credit=override,
            )
        )


def _index_of(combo: QComboBox, data: object) -> int:
    """The item holding `data`, compared by value (findData compares a uuid.UUID by
    identity, so an equal UUID read elsewhere is not found)."""
    return next((i for i in range(combo.count()) if combo.itemData(i) == data), -1)


def _lines(count: int) -> str:
    return f"{count:,} line" + ("s" if count != 1 else "")


def _number(value: int) -> QTableWidgetItem:
    item = QTableWidgetItem(f"{value:,}")
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _split_warehouses(options: ReservationOptions) -> set[object]:
    return {w for pairs in (options.split or {}).values() for w, _ in pairs}


def _keep_what_is_shown(_error: BaseException) -> None:
    """The figures could not be read again: those from the order dialog stay."""


def _shippable(line: OrderLineRow) -> int:
    return (
        line.reserved_quantity if line.tracks_inventory else line.quantity - line.shipped_quantity
    )


class ShipOrderDialog(OrderActionDialog):
    """Ship all or part of the lines, with the carrier and tracking number; an order that
    is only confirmed goes to processing first."""

    busy_text = "Shipping…"
    failed_text = "Not shipped: {reason}"

    def __init__(
        self,
        orders: OrderService,
        runner: TaskRunner,
        acting: CurrentUser,
        order: OrderDetail,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(orders, runner, acting, order, parent)
        self.setWindowTitle(f"Ship order {order.order_number}")
        form = self.add_form()
        self.quantities: dict[uuid.UUID, QSpinBox] = {}
        first = True
        for line in order.lines:
            can = _shippable(line)
            if can <= 0:
                continue
            spin = QSpinBox()
            spin.setRange(0, can)
            spin.setValue(can)
            label = f"{line.sku} — {line.name} (of {can:,}):"
            self.add_row(
                form,
                f"line_{line.id}",
                ("&" if first else "") + label.replace("&", "&&"),
                spin,
                aliases=("lines",) if first else (),
            )
            self.quantities[line.id] = spin
            first = False
        if not self.quantities:
            nothing = QLabel("Nothing on this order is reserved to ship.")
            form.addRow(nothing)
        self.carrier = self.add_row(form, "carrier", "C&arrier:", QLineEdit(order.carrier or ""))
        self.carrier.setMaxLength(rules.MAX_CARRIER)
        self.tracking = self.add_row(form, "tracking_number", "&Tracking number:", QLineEdit())
        self.tracking.setMaxLength(100)
        self.save_button.setText("&Ship")
        self.finish()
        self.mark_clean()

    def prepare_save(self) -> Callable[[], OrderDetail]:
        chosen = {line_id: spin.value() for line_id, spin in self.quantities.items()}
        chosen = {line_id: quantity for line_id, quantity in chosen.items() if quantity > 0}
        if not chosen:
            raise ValidationError("Ship at least one item.", field="lines")
        carrier, tracking = rules.check_shipment(
            self.order.shipping_method, self.carrier.text(), self.tracking.text()
        )
        complete = all(
            chosen.get(line.id, 0) == line.quantity - line.shipped_quantity
            for line in self.order.lines
        )
        orders, acting = self.orders, self.acting

        def start_processing(order: OrderDetail) -> OrderDetail | None:
            # PARTIALLY_SHIPPED -> PARTIALLY_SHIPPED is no status change the rules allow:
            # another part goes out after the order is back in processing.
            if order.status == rules.CONFIRMED or (
                order.status == rules.PARTIALLY_SHIPPED and not complete
            ):
                return orders.start_processing(acting, order.id, order.version)
            return None

        return self.run_steps(
            start_processing,
            lambda order: orders.ship(
                acting,
                order.id,
                order.version,
                chosen,
                carrier=carrier,
                tracking_number=tracking,
            ),
        )


class ReturnOrderDialog(OrderActionDialog):
    """Goods come back into a warehouse."""

    busy_text = "Recording…"
    failed_text = "Return not recorded: {reason}"

    def __init__(
        self,
        orders: OrderService,
        runner: TaskRunner,
        acting: CurrentUser,
        order: OrderDetail,
        warehouses: Sequence[WarehouseRow],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(orders, runner, acting, order, parent)
        self.setWindowTitle(f"Return goods of order {order.order_number}")
        form = self.add_form()
        self.warehouse = self.add_row(
            form, "warehouse_id", "Back into &warehouse:", warehouse_combo(warehouses)
        )
        self.quantities: dict[uuid.UUID, QSpinBox] = {}
        for index, line in enumerate(order.lines):
            left = line.shipped_quantity - line.returned_quantity
            if left <= 0:
                continue
            spin = QSpinBox()
            spin.setRange(0, left)
            label = f"{line.sku} — {line.name} (of {left:,}):".replace("&", "&&")
            self.add_row(
                form, f"line_{line.id}", label, spin, aliases=("lines",) if index == 0 else ()
            )
            self.quantities[line.id] = spin
        self.reason = self.add_row(form, "reason", "&Reason:", QLineEdit())
        self.save_button.setText("Record &return")
        self.finish()
        self.mark_clean()

    def prepare_save(self) -> Callable[[], OrderDetail]:
        warehouse_id = self.warehouse.currentData()
        if warehouse_id is None:
            raise ValidationError(
                "Choose the warehouse the goods go back to.", field="warehouse_id"
            )
        chosen = {k: spin.value() for k, spin in self.quantities.items() if spin.value() > 0}
        if not chosen:
            raise ValidationError("Enter how many of which items came back.", field="lines")
        reason = self.reason.text()
        orders, acting = self.orders, self.acting
        return self.run_steps(
            lambda order: orders.return_goods(
                acting,
                order.id,
                order.version,
                warehouse_id,
                chosen,
                reason=reason,
            )
        )


class MoneyDialog(OrderActionDialog):
    """Record a payment received, or give money back."""

    def __init__(
        self,
        orders: OrderService,
        runner: TaskRunner,
        acting: CurrentUser,
        order: OrderDetail,
        *,
        refund: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(orders, runner, acting, order, parent)
        self.refund = refund
        self.busy_text = "Refunding…" if refund else "Recording…"
        self.failed_text = (
            "Refund not made: {reason}" if refund else "Payment not recorded: {reason}"
        )
        number = order.order_number
        self.setWindowTitle(f"Refund on order {number}" if refund else f"Payment for {number}")
        form = self.add_form()
        suggested = order.paid_amount - order.refunded_amount if refund else order.unpaid
        summary = QLabel(
            f"Total {order.total_amount:,.2f}, paid {order.paid_amount:,.2f}, refunded "
            f"{order.refunded_amount:,.2f}."
        )
        form.addRow(summary)
        self.amount = self.add_row(form, "amount", "&Amount:", money_edit())
        if suggested > 0:
            self.amount.setText(format_decimal(suggested, 2))
        self.save_button.setText("&Refund" if refund else "&Record payment")
        self.finish()
        self.mark_clean()

    def prepare_save(self) -> Callable[[], OrderDetail]:
        label = "A refund" if self.refund else "A payment"
        amount: Decimal = rules.check_amount(
            read_decimal(self.amount, "amount", label), "amount", label
        )
        orders, acting = self.orders, self.acting
        if self.refund:
            return self.run_steps(
                lambda order: orders.refund(acting, order.id, order.version, amount)
            )
        return self.run_steps(
            lambda order: orders.record_payment(acting, order.id, order.version, amount)
        )
