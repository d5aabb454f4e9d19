"""Create or edit a customer.

The customer code is issued by the database when the customer is created, and the balance
is moved by orders only: both are shown, never edited. The rules of `domain.customers`
(names, email format, phone via `check_phone`, a company for business customers, the
credit limit) are checked here before the save, so a mistake is shown at once at its
field; the service checks them again and also that no other customer has the email.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QPlainTextEdit, QWidget

from erpgo_desktop.domain import customers as rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.customers import CustomerDraft, CustomerRow, CustomerService
from erpgo_desktop.services.history import HistoryService
from erpgo_desktop.ui.forms import RecordDialog, format_decimal, money_edit, read_decimal
from erpgo_desktop.ui.tasks import TaskRunner

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
        self.add_history_page(self.tabs, history)

        self.finish()
        if record_id is None:
            self.mark_clean()
        else:
            self.load(lambda: customers.get_customer(acting, record_id))

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

    def prepare_save(self) -> Callable[[], CustomerRow]:
        draft = rules.check_customer(self.draft())
        customers, acting, record_id, version = (
            self._customers,
            self.acting,
            self.record_id,
            self.version,
        )
        if record_id is None:
            return lambda: customers.create_customer(acting, draft)
        assert version is not None  # Save stays disabled until the record is loaded
        return lambda: customers.update_customer(acting, record_id, draft, expected_version=version)
