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

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QSpinBox, QWidget

from erpgo_desktop.domain import orders as rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.inventory import StockOverview
from erpgo_desktop.services.orders import OrderDetail, OrderLineRow, OrderService
from erpgo_desktop.services.warehouses import WarehouseRow
from erpgo_desktop.ui.forms import FormDialog, format_decimal, money_edit, read_decimal
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


class ConfirmOrderDialog(OrderActionDialog):
    """Confirm: reserve every stocked line from one warehouse."""

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
        self._stock = stock
        form = self.add_form()
        self.warehouse = self.add_row(
            form, "warehouse_id", "Reserve from &warehouse:", warehouse_combo(warehouses)
        )
        self.fit = QLabel()
        self.fit.setObjectName("fit")
        self.fit.setWordWrap(True)
        form.addRow(self.fit)
        self.override: QCheckBox | None = None
        if acting.can(perms.CUSTOMERS_CREDIT_OVERRIDE):
            self.override = self.add_row(
                form, "override_credit", None, QCheckBox("&Override the credit limit")
            )
        self.save_button.setText("&Confirm")
        self.warehouse.currentIndexChanged.connect(self._show_fit)
        self._show_fit()
        self.finish()
        self.mark_clean()

    def _show_fit(self) -> None:
        """What the chosen warehouse can sell of each stocked line, shortages first."""
        warehouse_id = self.warehouse.currentData()
        notes = []
        for line in self.order.lines:
            if not line.tracks_inventory:
                continue
            levels = availability(self._stock.get(line.product_id), line.variant_id)
            sellable = next((s.sellable for s in levels if s.warehouse_id == warehouse_id), 0)
            if sellable < line.quantity:
                back = " (backordered)" if line.allows_backorder else ""
                notes.append(f"{line.sku}: {line.quantity:,} wanted, {sellable:,} sellable{back}")
        self.fit.setText("\n".join(notes) if notes else "Every line is in stock there.")

    def prepare_save(self) -> Callable[[], OrderDetail]:
        warehouse_id = self.warehouse.currentData()
        if warehouse_id is None:
            raise ValidationError("Choose the warehouse to reserve from.", field="warehouse_id")
        override = self.override is not None and self.override.isChecked()
        orders, acting = self.orders, self.acting
        return self.run_steps(
            lambda order: orders.confirm(
                acting, order.id, order.version, warehouse_id, override_credit=override
            )
        )


def _shippable(line: OrderLineRow) -> int:
    return (
        line.reserved_quantity if line.tracks_inventory else line.quantity - line.shipped_quantity
    )


class ShipOrderDialog(OrderActionDialog):
    """Ship all or part of the lines, with the carrier and tracking number; an order that
    is only confirmed goes to processing first."""

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
