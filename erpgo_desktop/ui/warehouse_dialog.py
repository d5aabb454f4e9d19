"""Create or edit a warehouse.

The rules of `domain.inventory.check_warehouse` (code format, name, phone, email) are
checked before the save; the service checks them again, that the code is free and that
the manager is an active user. Only administrators (users.admin) can list the users, so
only they pick a manager; others see the current one. Active or not goes through the
service's deactivate/reactivate, which refuses to take a warehouse holding reserved
stock out of use.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QPlainTextEdit, QWidget

from erpgo_desktop.domain import inventory as rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.history import HistoryService
from erpgo_desktop.services.users import UserAdminService, UserRow
from erpgo_desktop.services.warehouses import WarehouseDraft, WarehouseRow, WarehouseService
from erpgo_desktop.ui.forms import RecordDialog, set_active_after_save
from erpgo_desktop.ui.tasks import TaskRunner


class WarehouseServices(Protocol):
    """What the warehouse dialog needs of `services.Services`."""

    @property
    def warehouses(self) -> WarehouseService: ...
    @property
    def users(self) -> UserAdminService: ...
    @property
    def history(self) -> HistoryService: ...


@dataclass(frozen=True)
class _Loaded:
    warehouse: WarehouseRow | None
    managers: tuple[UserRow, ...]


def line(max_length: int) -> QLineEdit:
    edit = QLineEdit()
    edit.setMaxLength(max_length)
    return edit


class WarehouseDialog(RecordDialog):
    record_table = "warehouses"
    write_permission = perms.WAREHOUSES_WRITE

    def __init__(
        self,
        services: WarehouseServices,
        runner: TaskRunner,
        acting: CurrentUser,
        record_id: uuid.UUID | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, acting, record_id, parent)
        self._warehouses = services.warehouses
        self.setWindowTitle("Edit warehouse" if record_id else "New warehouse")
        self.setMinimumWidth(460)
        self.tabs = self.add_tabs()
        form = self.add_page(self.tabs, "&Warehouse")
        self.code = self.add_row(form, "code", "&Code:", line(20))
        self.code.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"[A-Za-z0-9_-]{0,20}"), self.code)
        )
        self.code.setPlaceholderText("MAIN, WH-02")
        self.code.textEdited.connect(self._upper_code)
        self.name = self.add_row(form, "name", "&Name:", line(200))
        self.address = self.add_row(form, "address", "&Address:", QPlainTextEdit())
        self.address.setTabChangesFocus(True)
        self.address.setFixedHeight(60)
        self.city = self.add_row(form, "city", "C&ity:", line(100))
        self.state = self.add_row(form, "state", "S&tate:", line(100))
        self.postal_code = self.add_row(form, "postal_code", "&Postal code:", line(20))
        self.country = self.add_row(form, "country", "Co&untry:", line(100))
        self.phone = self.add_row(form, "phone", "P&hone:", line(20))
        self.email = self.add_row(form, "email", "&Email:", line(255))
        self.manager = self.add_row(
            form, "manager_id", "&Manager:", QComboBox(), aliases=("manager",)
        )
        self.manager.addItem("(none)", "")
        self.is_active = self.add_row(
            form, "is_active", None, QCheckBox("Acti&ve"), aliases=("warehouse",)
        )
        self.is_active.setChecked(True)
        self.can_pick_manager = acting.can(perms.USERS_ADMIN)
        self.manager.setEnabled(False)
        if not self.can_pick_manager:
            self.manager.setToolTip("Only administrators can choose the manager.")
        self.add_history_page(self.tabs, services.history)
        self.finish()

        warehouses, users = services.warehouses, services.users
        pick = self.can_pick_manager

        def fetch() -> _Loaded:
            row = warehouses.get(acting, record_id) if record_id is not None else None
            managers = tuple(u for u in users.list_users(acting) if u.is_active) if pick else ()
            return _Loaded(row, managers)

        if record_id is None and not pick:
            self.mark_clean()
        else:
            self.load(fetch)

    def _upper_code(self, text: str) -> None:
        # The rule keeps codes upper case; typing them so shows what will be saved.
        if text != text.upper():
            position = self.code.cursorPosition()
            self.code.setText(text.upper())
            self.code.setCursorPosition(position)

    def apply_loaded(self, result: _Loaded) -> None:
        current = result.warehouse
        for user in result.managers:
            self.manager.addItem(f"{user.full_name} ({user.username})", str(user.id))
        self.manager.setEnabled(self.can_pick_manager)
        if current is not None:
            self.apply_row(current)

    def use_services(self, services: Services) -> None:
        self._warehouses = services.warehouses

    def fill(self, row: WarehouseRow) -> None:
        self.code.setText(row.code)
        self.name.setText(row.name)
        self.address.setPlainText(row.address or "")
        self.city.setText(row.city or "")
        self.state.setText(row.state or "")
        self.postal_code.setText(row.postal_code or "")
        self.country.setText(row.country or "")
        self.phone.setText(row.phone or "")
        self.email.setText(row.email or "")
        manager = str(row.manager_id) if row.manager_id else ""
        index = self.manager.findData(manager)
        if index < 0:  # rendering the other version of a conflict: a manager not listed
            self.manager.addItem(row.manager_name or "(unknown)", manager)
            index = self.manager.count() - 1
        self.manager.setCurrentIndex(index)
        self.is_active.setChecked(row.is_active)

    def draft(self) -> WarehouseDraft:
        manager = self.manager.currentData()
        return WarehouseDraft(
            code=self.code.text(),
            name=self.name.text(),
            address=self.address.toPlainText(),
            city=self.city.text(),
            state=self.state.text(),
            country=self.country.text(),
            postal_code=self.postal_code.text(),
            phone=self.phone.text(),
            email=self.email.text(),
            manager_id=uuid.UUID(manager) if manager else None,
        )

    def prepare_save(self) -> Callable[[], WarehouseRow]:
        draft = rules.check_warehouse(self.draft())
        warehouses, acting = self._warehouses, self.acting
        record_id, version = self.record_id, self.version
        active = self.is_active.isChecked()

        def save() -> WarehouseRow:
            if record_id is None:
                row = warehouses.create(acting, draft)
            else:
                assert version is not None
                row = warehouses.update(acting, record_id, draft, version)
            return set_active_after_save(
                row,
                active,
                lambda r: warehouses.deactivate(acting, r.id, r.version),
                lambda r: warehouses.reactivate(acting, r.id, r.version),
            )

        return save
