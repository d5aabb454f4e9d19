"""Create a role or change what it grants: a name, a description and a checklist of the
known permissions (`domain.permissions.EVERY_PERMISSION`), grouped by resource.

"All permissions (*)" grants everything, present and future, as the admin role does; while
it is checked the single permissions are greyed out, since they add nothing. The admin
role itself cannot be changed (the service refuses), so it opens read-only. A role's name
is fixed once created: grants and other screens refer to roles by name.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain import validation
from erpgo_desktop.errors import NotFoundError
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.history import HistoryService
from erpgo_desktop.services.users import MAX_DESCRIPTION_LENGTH, RoleRow, UserAdminService
from erpgo_desktop.ui.admin_forms import CheckList, UnversionedRecordDialog
from erpgo_desktop.ui.tasks import TaskRunner

__all__ = [
    "PERMISSION_LABELS",
    "PermissionChecklist",
    "RoleDialog",
    "permission_groups",
    "permission_label",
]

ADMIN_ROLE = "admin"

PERMISSION_LABELS: dict[str, str] = {
    perms.PRODUCTS_READ: "See products",
    perms.PRODUCTS_WRITE: "Add and change products",
    perms.CUSTOMERS_READ: "See customers",
    perms.CUSTOMERS_WRITE: "Add and change customers",
    perms.CUSTOMERS_CREDIT_OVERRIDE: "Go over a credit limit",
    perms.ORDERS_READ: "See orders",
    perms.ORDERS_CREATE: "Enter orders",
    perms.ORDERS_CONFIRM: "Confirm orders",
    perms.ORDERS_APPROVE: "Approve orders",
    perms.ORDERS_SHIP: "Ship orders",
    perms.ORDERS_CANCEL: "Cancel orders",
    perms.ORDERS_RETURN: "Take returns",
    perms.ORDERS_PAYMENT: "Record payments",
    perms.INVENTORY_READ: "See stock",
    perms.INVENTORY_RECEIVE: "Receive stock",
    perms.INVENTORY_ADJUST: "Adjust stock",
    perms.INVENTORY_TRANSFER: "Transfer stock",
    perms.INVENTORY_COUNT: "Count stock",
    perms.WAREHOUSES_WRITE: "Add and change warehouses",
    perms.REPORTS_VIEW: "See reports and the dashboard",
    perms.USERS_ADMIN: "Administer users and roles",
}

#: Group titles with their mnemonics, kept apart from the dialog's own (N, D, A, S).
RESOURCE_TITLES: dict[str, str] = {
    "products": "&Products",
    "customers": "C&ustomers",
    "orders": "&Orders",
    "inventory": "&Inventory",
    "warehouses": "&Warehouses",
    "reports": "R&eports",
    "users": "Use&rs",
}


def permission_label(permission: str) -> str:
    if permission == perms.ALL:
        return "All permissions"
    return PERMISSION_LABELS.get(permission, permission)


def permission_groups() -> list[tuple[str, list[str]]]:
    """The known permissions by resource, in the order of EVERY_PERMISSION."""
    groups: dict[str, list[str]] = {}
    for permission in perms.EVERY_PERMISSION:
        groups.setdefault(permission.split(".", 1)[0], []).append(permission)
    return list(groups.items())


class PermissionChecklist(CheckList):
    """ "All permissions (*)" above a box per resource, in two columns."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.all_box = self.add_box(
            perms.ALL,
            "&All permissions (*), present and future",
            tooltip="What the admin role grants; the single permissions below add nothing.",
        )
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        self.box_layout.addLayout(grid)
        self.groups: dict[str, QGroupBox] = {}
        columns = [QVBoxLayout(), QVBoxLayout()]
        heights = [0, 0]
        for resource, permissions in permission_groups():
            group = QGroupBox(RESOURCE_TITLES.get(resource, resource.capitalize()))
            group.setObjectName(f"group_{resource}")
            inner = QVBoxLayout(group)
            for permission in permissions:
                self.add_box(
                    permission, permission_label(permission), tooltip=permission, into=inner
                )
            # The shorter column takes the next group, so the two stay about as long.
            shorter = heights.index(min(heights))
            columns[shorter].addWidget(group)
            heights[shorter] += len(permissions) + 1
            self.groups[resource] = group
        for number, column in enumerate(columns):
            column.addStretch(1)
            grid.addLayout(column, 0, number)
        self.all_box.toggled.connect(self._all_toggled)

    def _all_toggled(self, everything: bool) -> None:
        for group in self.groups.values():
            group.setEnabled(not everything)

    def granted(self) -> tuple[str, ...]:
        """What the role is to grant: "*" alone, or the permissions checked."""
        if self.all_box.isChecked():
            return (perms.ALL,)
        return tuple(key for key in self.checked() if key != perms.ALL)

    def display_text(self) -> str:
        return ", ".join(permission_label(p) for p in self.granted())


@dataclass(frozen=True)
class _NewRole:
    name: str
    description: str
    permissions: tuple[str, ...]


class RoleDialog(UnversionedRecordDialog):
    """New role (`role` None) or edit `role`, as listed; the dialog reads it again first."""

    write_permission = perms.USERS_ADMIN

    def __init__(
        self,
        users: UserAdminService,
        runner: TaskRunner,
        acting: CurrentUser,
        role: RoleRow | None = None,
        parent: QWidget | None = None,
        *,
        history: HistoryService,
    ) -> None:
        super().__init__(runner, acting, None if role is None else role.id, parent)
        self._users = users
        self.setWindowTitle("New role" if role is None else f"Role {role.name}")
        self.setMinimumWidth(560)
        self.read_only = role is not None and role.name == ADMIN_ROLE
        self.tabs = self.add_tabs()
        form = self.add_page(self.tabs, "Ro&le")
        self.name = self.add_row(form, "name", "&Name:", QLineEdit())
        self.name.setMaxLength(50)
        self.name.setPlaceholderText("buyer, accounts-clerk")
        self.description = self.add_row(form, "description", "&Description:", QLineEdit())
        self.description.setMaxLength(MAX_DESCRIPTION_LENGTH)
        self.permissions = PermissionChecklist()
        self.add_row(form, "permissions", None, self.permissions)
        self.add_history_page(self.tabs, history, table="roles")
        if role is not None:
            self.name.setEnabled(False)
            self.name.setToolTip("A role keeps its name; create a new role for another one.")
        if self.read_only:
            note = QLabel("The admin role always grants everything; it cannot be changed.")
            note.setObjectName("read_only_note")
            note.setWordWrap(True)
            self.add_top_widget(note)
            self.description.setReadOnly(True)
            self.permissions.setEnabled(False)
            self.save_button.hide()
            self.cancel_button.setText("&Close")
        self.finish()
        if role is None:
            self.mark_clean()
        else:
            role_id = role.id
            self.load(lambda: _role(users, acting, role_id))

    def finish(self) -> None:
        super().finish()
        # The name of a role being edited is only shown: start where the editing is.
        if self.editing:
            self.description.setFocus()

    def fill(self, row: RoleRow) -> None:
        self.name.setText(row.name)
        self.description.setText(row.description)
        self.permissions.set_checked(row.permissions)

    def prepare_save(self) -> Callable[[], RoleRow]:
        users, acting = self._users, self.acting
        description = validation.check_text(
            self.description.text(), "description", MAX_DESCRIPTION_LENGTH
        )
        granted = validation.check_permissions(self.permissions.granted())
        if self.record_id is None:
            new = _NewRole(validation.check_role_name(self.name.text()), description, granted)
            return lambda: users.create_role(acting, new.name, new.description, new.permissions)
        role_id, expected = self.record_id, self.row
        assert isinstance(expected, RoleRow)
        return lambda: users.update_role(
            acting, role_id, description=description, permissions=granted, expected=expected
        )


def _role(users: UserAdminService, acting: CurrentUser, role_id: uuid.UUID) -> RoleRow:
    """The role as it is now (the list may be older than the edit should start from)."""
    for role in users.list_roles(acting):
        if role.id == role_id:
            return role
    raise NotFoundError("This role does not exist (any more).")
