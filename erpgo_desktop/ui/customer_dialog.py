"""Create or edit a customer.

The customer code is issued by the database when the customer is created, and the balance
is moved by orders only: both are shown, never edited. The rules of `domain.customers`
(names, email format, phone via `check_phone`, a company for business customers, the
credit limit) are checked here before the save, so a mistake is shown at once at its
field; the service checks them again and also that no other customer has the email.

The Addresses page holds where the customer is billed and where their goods go, saved with
the customer; new orders start from them. An address left empty is not kept; a shipping
address "same as billing" is the billing address, and follows it when it changes. An
address's empty name is the customer's. "New order" opens an order for the customer as
saved, with those addresses.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.domain import customers as rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.orders import Address
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.customers import (
    CustomerAddresses,
    CustomerDraft,
    CustomerRow,
    CustomerService,
)
from erpgo_desktop.services.history import HistoryService
from erpgo_desktop.ui.forms import RecordDialog, format_decimal, money_edit, read_decimal
from erpgo_desktop.ui.order_dialog import ADDRESS_FIELDS
from erpgo_desktop.ui.tasks import TaskRunner
from erpgo_desktop.ui.widgets import error_label

TYPES = (("INDIVIDUAL", "Individual"), ("BUSINESS", "Business"))
STATUSES = (("ACTIVE", "Active"), ("INACTIVE", "Inactive"), ("SUSPENDED", "Suspended"))


def choice_combo(choices: tuple[tuple[str, str], ...]) -> QComboBox:
    combo = QComboBox()
    for value, text in choices:
        combo.addItem(text, value)
    return combo


def select_data(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    combo.setCurrentIndex(max(index, 0))


class CustomerDialog(RecordDialog):
    record_table = "customers"
    write_permission = perms.CUSTOMERS_WRITE

    #: "New order" for the customer (its id): the window opens the order.
    order_requested = Signal(object)

    def __init__(
        self,
        customers: CustomerService,
        runner: TaskRunner,
        acting: CurrentUser,
        record_id: uuid.UUID | None = None,
        parent: QWidget | None = None,
        *,
        history: HistoryService,
    ) -> None:
        super().__init__(runner, acting, record_id, parent)
        self._customers = customers
        # Before the fields: editing one updates it.
        self.order_button = QPushButton("Ne&w order…")
        self.order_button.setObjectName("new_order")
        self.order_button.setAutoDefault(False)
        self.order_button.setVisible(perms.allows(acting.permissions, perms.ORDERS_CREATE))
        self.order_button.clicked.connect(self._order_requested)
        self.buttons.addButton(self.order_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.setWindowTitle("Edit customer" if record_id else "New customer")
        self.setMinimumWidth(480)

        self.tabs = self.add_tabs()
        form = self.add_page(self.tabs, "C&ustomer")
        self.code = QLabel("Given when the customer is saved")
        self.code.setObjectName("customer_code")
        form.addRow("Customer code:", self.code)
        self.first_name = self.add_row(form, "first_name", "&First name:", QLineEdit())
        self.first_name.setMaxLength(100)
        self.last_name = self.add_row(form, "last_name", "&Last name:", QLineEdit())
        self.last_name.setMaxLength(100)
        self.type = self.add_row(form, "type", "&Type:", choice_combo(TYPES))
        self.company = self.add_row(form, "company", "C&ompany:", QLineEdit())
        self.company.setMaxLength(200)
        self.email = self.add_row(form, "email", "&Email:", QLineEdit())
        self.email.setMaxLength(255)
        self.email.setPlaceholderText("name@example.com")
        self.phone = self.add_row(form, "phone", "&Phone:", QLineEdit())
        self.phone.setMaxLength(20)
        self.phone.setPlaceholderText("+1 555 0100 200")
        self.status = self.add_row(form, "status", "St&atus:", choice_combo(STATUSES))
        self.credit_limit = self.add_row(form, "credit_limit", "C&redit limit:", money_edit())
        self.credit_limit.setToolTip("0 means no limit.")
        self.balance = QLabel("0.00")
        self.balance.setObjectName("balance")
        form.addRow("Balance:", self.balance)
        self.tax_exempt = self.add_row(form, "tax_exempt", None, QCheckBox("Ta&x exempt"))
        self.notes = self.add_row(form, "notes", "&Notes:", QPlainTextEdit())
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(80)
        self.type.currentIndexChanged.connect(self._type_changed)
        self._type_changed()
        self.tabs.addTab(self._build_addresses(), "A&ddresses")
        self.add_history_page(self.tabs, history)
        self._update_order_button()

        self.finish()
        if record_id is None:
            self.mark_clean()
        else:
            self.load(lambda: customers.get_customer(acting, record_id))

    def _build_addresses(self) -> QWidget:
        page = QWidget()
        boxes = QHBoxLayout(page)
        self.address_fields: dict[str, dict[str, QLineEdit]] = {}
        for kind, title in (("billing", "Billing address"), ("shipping", "Shipping address")):
            box = QGroupBox(title)
            box_layout = QVBoxLayout(box)
            boxes.addWidget(box, 1)
            form = self.add_form(box_layout)
            if kind == "shipping":
                self.same_shipping = self.add_row(
                    form, "same_shipping", None, QCheckBox("Same as &billing")
                )
                self.same_shipping.setChecked(True)
                self.same_shipping.toggled.connect(self._shipping_toggled)
            edits: dict[str, QLineEdit] = {}
            for name, label, longest in ADDRESS_FIELDS:
                edit = QLineEdit()
                edit.setMaxLength(longest)
                if name in ("first_name", "last_name"):
                    edit.setPlaceholderText("the customer's")
                self._add_address_row(form, f"{kind}_address.{name}", label, title, edit)
                edits[name] = edit
            self.address_fields[kind] = edits
        self._shipping_toggled(True)
        return page

    def _add_address_row(
        self, form: QFormLayout, name: str, label: str, address: str, edit: QLineEdit
    ) -> None:
        """A field named as the rules name its errors ("billing_address.city"), known by
        its address too ("Billing address: City"): the conflict dialog lists both."""
        caption = QLabel(f"{label}:")
        caption.setBuddy(edit)
        form.addRow(caption, edit)
        message = error_label()
        form.addRow("", message)
        form.setRowVisible(message, False)
        self.register_field(name, edit, message, label=f"{address}: {label}", form=form)

    def _shipping_toggled(self, same: bool) -> None:
        for edit in self.address_fields["shipping"].values():
            edit.setEnabled(not same)

    def _address(self, kind: str) -> Address | None:
        """The address as typed; None when every field is empty."""
        values = {name: edit.text() for name, edit in self.address_fields[kind].items()}
        if not any(value.strip() for value in values.values()):
            return None
        return Address(**values)

    def _show_address(self, kind: str, address: Address | None) -> None:
        for name, edit in self.address_fields[kind].items():
            edit.setText((getattr(address, name) if address is not None else None) or "")

    # -- a new order ---------------------------------------------------------------------

    def _order_requested(self) -> None:
        if self.record_id is not None and self.order_button.isEnabled():
            self.order_requested.emit(self.record_id)

    def _update_order_button(self) -> None:
        saved = self.record_id is not None and self.row is not None
        self.order_button.setEnabled(saved and not self.dirty)
        self.order_button.setToolTip(
            "A new order for this customer, with their addresses"
            if saved and not self.dirty
            else "Save the customer first: the order starts from the customer as saved."
        )

    def _edited(self, name: str) -> None:
        super()._edited(name)
        self._update_order_button()

    def mark_clean(self) -> None:
        super().mark_clean()
        self._update_order_button()

    def _type_changed(self) -> None:
        business = self.type.currentData() == "BUSINESS"
        self.company.setPlaceholderText("required for a business" if business else "optional")

    def use_services(self, services: Services) -> None:
        self._customers = services.customers

    def fill(self, row: CustomerRow) -> None:
        self.code.setText(row.customer_code or "—")
        self.first_name.setText(row.first_name)
        self.last_name.setText(row.last_name)
        select_data(self.type, row.type)
        self.company.setText(row.company or "")
        self.email.setText(row.email)
        self.phone.setText(row.phone or "")
        select_data(self.status, row.status)
        self.credit_limit.setText(format_decimal(row.credit_limit, 2))
        self.balance.setText(f"{row.balance:,.2f}")
        self.tax_exempt.setChecked(row.tax_exempt)
        self.notes.setPlainText(row.notes or "")
        self._show_address("billing", row.addresses.billing)
        self.same_shipping.setChecked(row.addresses.shipping is None)
        self._show_address("shipping", row.addresses.shipping)

    def draft(self) -> CustomerDraft:
        return CustomerDraft(
            first_name=self.first_name.text(),
            last_name=self.last_name.text(),
            email=self.email.text(),
            company=self.company.text(),
            phone=self.phone.text(),
            type=str(self.type.currentData()),
            status=str(self.status.currentData()),
            credit_limit=read_decimal(
                self.credit_limit, "credit_limit", "The credit limit", default=Decimal("0.00")
            ),
            tax_exempt=self.tax_exempt.isChecked(),
            notes=self.notes.toPlainText(),
        )

    def addresses(self) -> CustomerAddresses:
        shipping = None if self.same_shipping.isChecked() else self._address("shipping")
        return CustomerAddresses(billing=self._address("billing"), shipping=shipping)

    def prepare_save(self) -> Callable[[], CustomerRow]:
        draft = rules.check_customer(self.draft())
        addresses = rules.check_customer_addresses(self.addresses(), draft)
        customers, acting, record_id, version = (
            self._customers,
            self.acting,
            self.record_id,
            self.version,
        )
        if record_id is None:
            return lambda: customers.create_customer(acting, draft, addresses)
        assert version is not None  # Save stays disabled until the record is loaded
        return lambda: customers.update_customer(
            acting, record_id, draft, expected_version=version, addresses=addresses
        )
