"""Create an account or change one (name, email, phone, roles), and set a new password.

The roles offered are the active ones; a deactivated role the account holds already is
listed too, marked, so that it can be kept or taken away (it grants nothing meanwhile).
The service creates an account with one role; more are given in a second transaction
right after. An edit saves the profile and the roles as two service calls as well, each
over the row it was loaded from; when the second is refused (taking the admin role from
the last administrator, say), the first is saved and the dialog goes on from there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QPalette, QRegularExpressionValidator
from PySide6.QtWidgets import QFormLayout, QGridLayout, QLabel, QLineEdit, QWidget

from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain import validation
from erpgo_desktop.domain.wording import code_label
from erpgo_desktop.errors import ErpError, ValidationError
from erpgo_desktop.services.auth import CurrentUser, NewUser, validate_new_user
from erpgo_desktop.services.history import HistoryService
from erpgo_desktop.services.users import RoleRow, UserAdminService, UserProfile, UserRow
from erpgo_desktop.ui.admin_forms import CheckList, UnversionedRecordDialog, partly_saved
from erpgo_desktop.ui.forms import FormDialog
from erpgo_desktop.ui.tasks import TaskRunner

__all__ = ["ResetPasswordDialog", "RoleChecklist", "UserDialog"]

PASSWORDS_DIFFER = "The two passwords differ; type the same one twice."


def line(max_length: int) -> QLineEdit:
    edit = QLineEdit()
    edit.setMaxLength(max_length)
    return edit


def password_line() -> QLineEdit:
    edit = line(200)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def check_passwords(password: str, again: str, field: str) -> str:
    validation.check_password(password, field)
    if password != again:
        raise ValidationError(PASSWORDS_DIFFER, field="password_again")
    return password


class RoleChecklist(CheckList):
    """A box per role, by name, with the role's description beside it in grey."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setColumnStretch(1, 1)
        self.box_layout.addLayout(self.grid)

    def set_roles(self, roles: tuple[RoleRow, ...], held: tuple[str, ...] = ()) -> None:
        for role in roles:
            if role.is_active or role.name in held:
                self.add_role(role.name, role.description, active=role.is_active)

    def add_role(self, name: str, description: str = "", *, active: bool = True) -> None:
        if self.has(name):
            return
        row = self.grid.rowCount()
        note = QLabel(description if active else f"Deactivated: grants nothing. {description}")
        note.setWordWrap(True)
        note.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # secondary text
        self.grid.addWidget(note, row, 1)
        self.add_box(
            name,
            code_label(name),
            tooltip=description,
            place=lambda box: self.grid.addWidget(box, row, 0),
        )
        if self.isVisible():
            note.show()


@dataclass(frozen=True)
class _Loaded:
    user: UserRow | None
    roles: tuple[RoleRow, ...]


class UserDialog(UnversionedRecordDialog):
    """New account (`user` None) or edit `user`, as listed; the dialog reads it again first."""

    write_permission = perms.USERS_ADMIN

    def __init__(
        self,
        users: UserAdminService,
        runner: TaskRunner,
        acting: CurrentUser,
        user: UserRow | None = None,
        parent: QWidget | None = None,
        *,
        history: HistoryService,
    ) -> None:
        super().__init__(runner, acting, None if user is None else user.id, parent)
        self._users = users
        self.setWindowTitle("New user" if user is None else f"User {user.username}")
        self.setMinimumWidth(560)
        self.tabs = self.add_tabs()
        self.form = form = self.add_page(self.tabs, "&Account")
        self.username = self.add_row(form, "username", "&Username:", line(50))
        self.username.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"[A-Za-z0-9_-]{0,50}"), self.username)
        )
        self.first_name = self.add_row(form, "first_name", "&First name:", line(100))
        self.last_name = self.add_row(form, "last_name", "&Last name:", line(100))
        self.email = self.add_row(form, "email", "&Email:", line(255))
        self.phone = self.add_row(form, "phone", "P&hone:", line(20))
        self.password = self.add_row(form, "password", "&Password:", password_line(), compare=False)
        self.password_again = self.add_row(
            form, "password_again", "Password a&gain:", password_line(), compare=False
        )
        self.password.setPlaceholderText(f"at least {validation.MIN_PASSWORD_LENGTH} characters")
        self.roles = RoleChecklist()
        self.add_row(form, "roles", "&Roles:", self.roles, aliases=("role",))
        # The account's own changes and its role memberships'.
        self.add_history_page(self.tabs, history, table="users")
        if user is None:
            # Set once created (the service takes no phone on creation).
            form.setRowVisible(self.phone, False)
        else:
            self._show_as_existing()
        self.finish()

        users_, acting_ = users, acting
        user_id = None if user is None else user.id

        def fetch() -> _Loaded:
            row = users_.get_user(acting_, user_id) if user_id is not None else None
            return _Loaded(row, tuple(users_.list_roles(acting_)))

        self.load(fetch)

    def _show_as_existing(self) -> None:
        self.username.setEnabled(False)
        self.username.setToolTip("A username cannot be changed.")
        for widget in (self.password, self.password_again):
            self.form.setRowVisible(widget, False)
        self.form.setRowVisible(self.phone, True)

    def finish(self) -> None:
        super().finish()
        if self.editing:
            self.first_name.setFocus()

    def apply_loaded(self, result: _Loaded) -> None:
        held = () if result.user is None else result.user.roles
        self.roles.set_roles(result.roles, held)
        if result.user is not None:
            self.apply_row(result.user)
        # The roles arrived after the dialog was laid out: make room for them.
        self.resize(self.sizeHint().expandedTo(self.size()))

    def fill(self, row: UserRow) -> None:
        self.username.setText(row.username)
        self.first_name.setText(row.first_name)
        self.last_name.setText(row.last_name)
        self.email.setText(row.email)
        self.phone.setText(row.phone or "")
        for name in row.roles:  # given meanwhile (the other version of a conflict)
            self.roles.add_role(name)
        self.roles.set_checked(row.roles)

    def took_partial_save(self, row: UserRow) -> None:
        super().took_partial_save(row)
        if not self.editing:
            # The account exists now: what is left to save is an edit of it.
            self._record_id = row.id
            self.setWindowTitle(f"User {row.username}")
            self._show_as_existing()

    def prepare_save(self) -> Callable[[], UserRow]:
        if self.record_id is None:
            return self._prepare_create()
        return self._prepare_update(self.record_id)

    def _prepare_create(self) -> Callable[[], UserRow]:
        users, acting = self._users, self.acting
        roles = self.roles.checked()
        new = validate_new_user(
            NewUser(
                username=self.username.text(),
                email=self.email.text(),
                password=self.password.text(),
                role=roles[0] if roles else "",
                first_name=self.first_name.text(),
                last_name=self.last_name.text(),
            )
        )
        check_passwords(self.password.text(), self.password_again.text(), "password")
        if not roles:
            raise ValidationError("Choose at least one role.", field="roles")

        def create() -> UserRow:
            row = users.create_user(acting, new)
            if len(roles) > 1:
                try:
                    row = users.set_roles(acting, row.id, roles, expected=row)
                except ErpError as error:
                    raise partly_saved(error, row) from None
            return row

        return create

    def _prepare_update(self, user_id: uuid.UUID) -> Callable[[], UserRow]:
        users, acting = self._users, self.acting
        expected = self.row
        assert isinstance(expected, UserRow)
        profile = UserProfile(
            email=validation.check_email(self.email.text()),
            first_name=validation.check_person_name(self.first_name.text(), "first_name"),
            last_name=validation.check_optional_name(self.last_name.text(), "last_name"),
            phone=validation.check_phone(self.phone.text()),
        )
        loaded = UserProfile(
            expected.email, expected.first_name, expected.last_name, expected.phone
        )
        roles = self.roles.checked()
        change_profile = profile != loaded
        change_roles = set(roles) != set(expected.roles)

        def update() -> UserRow:
            row = expected
            if change_profile:
                row = users.update_profile(acting, user_id, profile, expected=row)
            if change_roles:
                try:
                    row = users.set_roles(acting, user_id, roles, expected=row)
                except ErpError as error:
                    if row is not expected:
                        partly_saved(error, row)
                    raise
            return row

        return update


class ResetPasswordDialog(FormDialog):
    """A new password for someone who forgot theirs (typed twice); it ends a lock too."""

    def __init__(
        self,
        users: UserAdminService,
        runner: TaskRunner,
        acting: CurrentUser,
        user: UserRow,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, acting, parent)
        self._users = users
        self._user_id = user.id
        self.setWindowTitle(f"Reset password of {user.username}")
        self.setMinimumWidth(420)
        who = f"{user.full_name} ({user.username})" if user.full_name else user.username
        intro = QLabel(
            f"A new password for {who}. Pass it on safely; it also ends a lock after "
            "wrong passwords."
        )
        intro.setWordWrap(True)
        self.add_top_widget(intro)
        form: QFormLayout = self.add_form()
        self.new_password = self.add_row(
            form, "new_password", "&New password:", password_line(), aliases=("password",)
        )
        self.new_password.setPlaceholderText(
            f"at least {validation.MIN_PASSWORD_LENGTH} characters"
        )
        self.password_again = self.add_row(
            form, "password_again", "Password a&gain:", password_line()
        )
        self.save_button.setText("&Set password")
        self.finish()
        self.mark_clean()

    def _set_saving(self, saving: bool) -> None:
        super()._set_saving(saving)
        if not saving:
            self.save_button.setText("&Set password")

    def prepare_save(self) -> Callable[[], UserRow]:
        password = check_passwords(
            self.new_password.text(), self.password_again.text(), "new_password"
        )
        users, acting, user_id = self._users, self.acting, self._user_id
        return lambda: users.reset_password(acting, user_id, password)
