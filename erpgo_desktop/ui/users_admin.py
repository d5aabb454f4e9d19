"""The "Users and roles" window, for those whose roles grant `users.admin`.

Two pages. Users: every account with its roles and state (active, locked after wrong
passwords, inactive); new account, edit (name, email, phone, roles), reset password,
deactivate or reactivate, unlock. Roles: every role with its description, how many
permissions it grants and how many active accounts hold it; new role, edit (a checklist of
the permissions), deactivate or reactivate. Nothing is deleted: accounts and roles are
deactivated, since what they did refers to them.

Everything goes through `UserAdminService` on the task runner's workers; its refusals (the
last administrator must remain, your own account, the admin role) come back as messages.

    dialog = open_users_admin(window, services, runner, user)   # None when not allowed

Keys: Alt+U and Alt+R (or Ctrl+Tab) switch pages; Ctrl+N makes a new account or role;
Enter edits the selected one; Delete deactivates it after asking; F5 reads both lists
again; Escape closes. The buttons have mnemonics.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.wording import code_label
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.history import HistoryService
from erpgo_desktop.services.listing import ListCount
from erpgo_desktop.services.users import RoleRow, UserAdminService, UserRow
from erpgo_desktop.ui.first_show import load_when_first_shown
from erpgo_desktop.ui.forms import alive
from erpgo_desktop.ui.list_model import CallSource, Column, PagedTableModel, number, yes_no
from erpgo_desktop.ui.list_view import ListTableView
from erpgo_desktop.ui.role_dialog import ADMIN_ROLE, RoleDialog
from erpgo_desktop.ui.tasks import TaskRunner, user_message
from erpgo_desktop.ui.user_dialog import ResetPasswordDialog, UserDialog
from erpgo_desktop.ui.widgets import error_label
from erpgo_desktop.ui.window_fit import fit_to_content

__all__ = [
    "ROLE_COLUMNS",
    "USER_COLUMNS",
    "UsersAdminDialog",
    "UsersAdminServices",
    "open_users_admin",
    "permission_count",
    "user_status",
]

TITLE = "Users and roles"
NOT_ALLOWED = (
    "Only administrators can manage users and roles: it needs the permission "
    f"'{perms.USERS_ADMIN}', which your roles do not grant."
)


class UsersAdminServices(Protocol):
    """What the window needs of `services.Services`."""

    @property
    def users(self) -> UserAdminService: ...
    @property
    def history(self) -> HistoryService: ...


# -- what the tables show ----------------------------------------------------------------


def _when(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.astimezone():%Y-%m-%d %H:%M}"


def user_status(row: UserRow) -> str:
    locked = (
        f"locked until {row.locked_until.astimezone():%H:%M}"
        if row.locked_until is not None
        else ""
    )
    if not row.is_active:
        return "Inactive" + (f", {locked}" if locked else "")
    return locked.capitalize() if locked else "Active"


def permission_count(row: RoleRow) -> str:
    if perms.ALL in row.permissions:
        return "All"
    return number(len(row.permissions))


USER_COLUMNS: tuple[Column[UserRow], ...] = (
    Column("Username", lambda row: row.username),
    Column("Name", lambda row: row.full_name, tooltip=True),
    Column("Email", lambda row: row.email, tooltip=True, stretch=True),
    Column(
        "Roles",
        lambda row: ", ".join(code_label(role) for role in row.roles) or "(none)",
        tooltip=True,
    ),
    Column("Status", user_status),
    Column("Last login", lambda row: _when(row.last_login_at)),
)

ROLE_COLUMNS: tuple[Column[RoleRow], ...] = (
    Column("Name", lambda row: code_label(row.name)),
    Column("Description", lambda row: row.description, tooltip=True, stretch=True),
    Column("Permissions", permission_count, align_right=True),
    Column("Users", lambda row: number(row.user_count), align_right=True),
    Column("Active", lambda row: yes_no(row.is_active)),
)


@dataclass(frozen=True)
class _WholeList:
    """Every row in one page: there are a few dozen accounts and roles, not thousands."""

    rows: tuple[Any, ...]
    next_cursor: object | None = None
    has_more: bool = False


def _whole_list_source(read: Callable[[], list[Any]]) -> CallSource:
    return CallSource(
        lambda _query, _after, _limit: _WholeList(tuple(read())),
        lambda _query: ListCount(len(read()), exact=True),
    )


@dataclass(frozen=True)
class _Everything:
    """The query of both lists: nothing to choose."""


# -- a page: a table and its buttons -----------------------------------------------------


class _ListPage(QWidget):
    """A table of every row of one kind with a row of buttons below it."""

    #: The selection or the state of the list changed (buttons, the status line).
    changed = Signal()

    def __init__(
        self,
        name: str,
        read: Callable[[], list[Any]],
        columns: tuple[Column[Any], ...],
        runner: TaskRunner,
    ) -> None:
        super().__init__()
        self.failure: str | None = None
        self._wanted_key: Hashable | None = None
        self.model = PagedTableModel(
            _whole_list_source(read), runner, columns, _Everything(), parent=self
        )
        self.model.hold()
        self.table = _table(f"{name}_table", self.model)
        self.buttons: dict[str, QPushButton] = {}
        self.button_row = QHBoxLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(self.button_row)
        self.setFocusProxy(self.table)

        self.model.load_failed.connect(self._load_failed)
        self.model.status_changed.connect(lambda *_status: self.changed.emit())
        self.model.rowsInserted.connect(self._select_wanted)
        self.model.refreshed.connect(self._select_wanted)
        self.model.modelReset.connect(self.changed.emit)
        self.model.layoutChanged.connect(self.changed.emit)
        self.model.dataChanged.connect(lambda *_args: self.changed.emit())
        self.table.selectionModel().currentRowChanged.connect(
            lambda _current, _previous: self.changed.emit()
        )

    def add_button(self, name: str, text: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(f"{name}_button")
        # Enter belongs to the table (edit), never to whichever button would be the default.
        button.setAutoDefault(False)
        button.clicked.connect(lambda _checked=False: slot())
        self.buttons[name] = button
        self.button_row.addWidget(button)
        return button

    def finish_buttons(self) -> None:
        self.button_row.addStretch(1)
        previous: QWidget = self.table
        for button in self.buttons.values():
            QWidget.setTabOrder(previous, button)
            previous = button

    def selected(self) -> Any:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.row_at(index.row())

    def load(self) -> None:
        self.failure = None
        self.model.reload()

    def refresh(self, select: Hashable | None = None) -> None:
        """Read the rows again, keeping the selection (or moving it to `select`)."""
        self.failure = None
        self._wanted_key = select
        self.model.refresh()

    def _select_wanted(self, *_args: object) -> None:
        if self._wanted_key is not None:
            row = self.model.row_of_key(self._wanted_key)
            if row is not None:
                self._wanted_key = None
                self.table.selectRow(row)
                return
        if not self.table.currentIndex().isValid() and self.model.rowCount():
            self.table.selectRow(0)

    def _load_failed(self, message: str) -> None:
        self.failure = message
        self.changed.emit()


def _table(name: str, model: PagedTableModel) -> ListTableView:
    """A list (ui/list_view.py) of which one row is chosen at a time."""
    table = ListTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return table


# -- the window --------------------------------------------------------------------------


class UsersAdminDialog(QDialog):
    """See the module docstring. Not modal: the main window stays usable beside it."""

    #: An account or role was created or changed here (the service's row).
    changed = Signal(object)

    def __init__(
        self,
        services: UsersAdminServices,
        runner: TaskRunner,
        acting: CurrentUser,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.window_fitter = fit_to_content(self)  # grows to what it shows
        self.users = services.users
        self.history = services.history
        self.runner = runner
        self.acting = acting
        #: The dialog, question or message opened last (tests drive them).
        self.last_dialog: QDialog | None = None
        self.question_box: QMessageBox | None = None
        self.message_box: QMessageBox | None = None
        self._working = 0
        self.setWindowTitle(TITLE)
        self.setObjectName("users_admin")
        self.setModal(False)
        self.resize(920, 520)

        users, me = self.users, acting
        self.users_page = _ListPage("users", lambda: users.list_users(me), USER_COLUMNS, runner)
        page = self.users_page
        page.add_button("new_user", "&New user…", self.new_user).setToolTip(
            "A new account (Ctrl+N)"
        )
        page.add_button("edit_user", "&Edit…", self.edit_user).setToolTip(
            "Name, email, phone and roles of the selected account (Enter)"
        )
        page.add_button("reset_password", "Reset &password…", self.reset_password)
        page.add_button("toggle_user", "&Deactivate…", self.toggle_user)
        page.add_button("unlock", "Un&lock", self.unlock_user).setToolTip(
            "End the lock after wrong passwords now"
        )
        page.finish_buttons()

        self.roles_page = _ListPage("roles", lambda: users.list_roles(me), ROLE_COLUMNS, runner)
        page = self.roles_page
        page.add_button("new_role", "&New role…", self.new_role).setToolTip("A new role (Ctrl+N)")
        page.add_button("edit_role", "&Edit…", self.edit_role).setToolTip(
            "Description and permissions of the selected role (Enter)"
        )
        page.add_button("toggle_role", "&Deactivate…", self.toggle_role)
        page.finish_buttons()

        self.tabs = QTabWidget()
        self.tabs.addTab(self.users_page, "&Users")
        self.tabs.addTab(self.roles_page, "&Roles")
        self.banner = error_label()
        self.banner.setObjectName("banner")
        self.status_label = QLabel()
        self.status_label.setObjectName("status")
        self.close_button = QPushButton("&Close")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)

        self.users_page.table.activated.connect(lambda _index: self.edit_user())
        self.roles_page.table.activated.connect(lambda _index: self.edit_role())
        for table, deactivate in (
            (self.users_page.table, self.deactivate_user),
            (self.roles_page.table, self.deactivate_role),
        ):
            QShortcut(
                QKeySequence(Qt.Key.Key_Delete),
                table,
                deactivate,
                context=Qt.ShortcutContext.WidgetShortcut,
            )
        QShortcut(QKeySequence("Ctrl+N"), self, self.new_on_page)
        QShortcut(QKeySequence(Qt.Key.Key_F5), self, self.reload)
        for page in (self.users_page, self.roles_page):
            page.changed.connect(self._update)
        self.tabs.currentChanged.connect(lambda _index: self._update())

        # As the main window's tabs, read when first shown (ui/first_show.py); both lists
        # at once, a few dozen rows each, so that the Roles page is there when chosen.
        self.first_show = load_when_first_shown(self, self._first_load)
        self.users_page.table.setFocus()
        self._update()

    # -- pages ---------------------------------------------------------------------------

    def _first_load(self) -> None:
        self.users_page.load()
        self.roles_page.load()

    def reload(self) -> None:
        """F5: both lists read again, the selections kept."""
        self.banner.hide()
        self.users_page.refresh()
        self.roles_page.refresh()

    def new_on_page(self) -> None:
        if self.tabs.currentWidget() is self.roles_page:
            self.new_role()
        else:
            self.new_user()

    def selected_user(self) -> UserRow | None:
        row: UserRow | None = self.users_page.selected()
        return row

    def selected_role(self) -> RoleRow | None:
        row: RoleRow | None = self.roles_page.selected()
        return row

    def _update(self) -> None:
        failures = [p.failure for p in (self.users_page, self.roles_page) if p.failure]
        if failures:
            self.banner.setText(f"The list could not be loaded: {failures[0]} (F5 tries again)")
            self.banner.show()
        user, role = self.selected_user(), self.selected_role()
        buttons = self.users_page.buttons
        buttons["edit_user"].setEnabled(user is not None)
        buttons["reset_password"].setEnabled(user is not None)
        buttons["unlock"].setEnabled(user is not None and user.locked)
        toggle = buttons["toggle_user"]
        own = user is not None and user.id == self.acting.id
        toggle.setEnabled(user is not None and not own)
        toggle.setText("Reac&tivate" if user is not None and not user.is_active else "&Deactivate…")
        toggle.setToolTip(
            "You cannot deactivate your own account."
            if own
            else "Deactivate (Delete) or reactivate the selected account"
        )
        buttons = self.roles_page.buttons
        buttons["edit_role"].setEnabled(role is not None)
        toggle = buttons["toggle_role"]
        admin_role = role is not None and role.name == ADMIN_ROLE
        toggle.setEnabled(role is not None and not admin_role)
        toggle.setText("Reac&tivate" if role is not None and not role.is_active else "&Deactivate…")
        toggle.setToolTip(
            "The admin role cannot be deactivated."
            if admin_role
            else "Deactivate (Delete) or reactivate the selected role"
        )
        self.status_label.setText(self.status_text())

    def status_text(self) -> str:
        if self._working:
            return "Working…"
        if self.tabs.currentWidget() is self.roles_page:
            roles = self._loaded(self.roles_page)
            if roles is None:
                return "Loading…"
            inactive = sum(not r.is_active for r in roles)
            return _count(len(roles), "role") + (f", {inactive} inactive" if inactive else "")
        users = self._loaded(self.users_page)
        if users is None:
            return "Loading…"
        inactive = sum(not u.is_active for u in users)
        locked = sum(u.locked for u in users)
        parts = [_count(len(users), "account")]
        if inactive:
            parts.append(f"{inactive} inactive")
        if locked:
            parts.append(f"{locked} locked")
        return ", ".join(parts)

    @staticmethod
    def _loaded(page: _ListPage) -> list[Any] | None:
        if page.model.is_loading and not page.model.rowCount():
            return None
        return [page.model.row_at(n) for n in range(page.model.rowCount())]

    # -- accounts ------------------------------------------------------------------------

    def new_user(self) -> None:
        self._open(
            UserDialog(self.users, self.runner, self.acting, None, self, history=self.history)
        )

    def edit_user(self) -> None:
        user = self.selected_user()
        if user is not None:
            self._open(
                UserDialog(self.users, self.runner, self.acting, user, self, history=self.history)
            )

    def reset_password(self) -> None:
        user = self.selected_user()
        if user is not None:
            self._open(ResetPasswordDialog(self.users, self.runner, self.acting, user, self))

    def toggle_user(self) -> None:
        user = self.selected_user()
        if user is not None and not user.is_active:
            self.reactivate_user()
        else:
            self.deactivate_user()

    def deactivate_user(self) -> None:
        user = self.selected_user()
        if user is None or not user.is_active or user.id == self.acting.id:
            return
        users, acting, user_id = self.users, self.acting, user.id
        self._confirm(
            "Deactivate account",
            f"Deactivate the account {user.username}?",
            "They can no longer sign in. Everything they did stays; the account can be "
            "reactivated later.",
            lambda: self._act(lambda: users.deactivate_user(acting, user_id)),
        )

    def reactivate_user(self) -> None:
        user = self.selected_user()
        if user is not None and not user.is_active:
            users, acting, user_id = self.users, self.acting, user.id
            self._act(lambda: users.reactivate_user(acting, user_id))

    def unlock_user(self) -> None:
        user = self.selected_user()
        if user is not None and user.locked:
            users, acting, user_id = self.users, self.acting, user.id
            self._act(lambda: users.unlock_user(acting, user_id))

    # -- roles ---------------------------------------------------------------------------

    def new_role(self) -> None:
        self._open(
            RoleDialog(self.users, self.runner, self.acting, None, self, history=self.history)
        )

    def edit_role(self) -> None:
        role = self.selected_role()
        if role is not None:
            self._open(
                RoleDialog(self.users, self.runner, self.acting, role, self, history=self.history)
            )

    def toggle_role(self) -> None:
        role = self.selected_role()
        if role is not None and not role.is_active:
            self.reactivate_role()
        else:
            self.deactivate_role()

    def deactivate_role(self) -> None:
        role = self.selected_role()
        if role is None or not role.is_active or role.name == ADMIN_ROLE:
            return
        users, acting, role_id = self.users, self.acting, role.id
        holders = _count(role.user_count, "active account")
        self._confirm(
            "Deactivate role",
            f"Deactivate the role {role.name}?",
            f"{holders} hold{'s' if role.user_count == 1 else ''} it. They keep it, but it "
            "grants nothing until it is reactivated.",
            lambda: self._act(lambda: users.deactivate_role(acting, role_id)),
        )

    def reactivate_role(self) -> None:
        role = self.selected_role()
        if role is not None and not role.is_active:
            users, acting, role_id = self.users, self.acting, role.id
            self._act(lambda: users.reactivate_role(acting, role_id))

    # -- running things ------------------------------------------------------------------

    def _open(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        saved = getattr(dialog, "saved", None)
        if saved is not None:
            saved.connect(self._saved)
        stale = getattr(dialog, "stale", None)
        if stale is not None:
            stale.connect(lambda _row: self.reload())
        self.last_dialog = dialog
        dialog.open()

    def _saved(self, row: object) -> None:
        if not alive(self):
            return
        key = row.id if isinstance(row, UserRow | RoleRow) else None
        self.users_page.refresh(select=key if isinstance(row, UserRow) else None)
        self.roles_page.refresh(select=key if isinstance(row, RoleRow) else None)
        self.changed.emit(row)

    def _act(self, work: Callable[[], object]) -> None:
        self._working += 1
        self._update()
        self.runner.run(work, self._acted, self._failed)

    def _acted(self, row: object) -> None:
        if alive(self):
            self._working -= 1
            self._saved(row)
            self._update()

    def _failed(self, error: BaseException) -> None:
        if not alive(self):
            return
        self._working -= 1
        self._update()
        self.show_message(user_message(error))
        # What was refused may rest on an old view of the rows.
        self.reload()

    def show_message(self, message: str) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Warning, TITLE, message, QMessageBox.StandardButton.Ok, self
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.message_box = box
        box.open()
        return box

    def _confirm(self, title: str, question: str, detail: str, on_yes: Callable[[], None]) -> None:
        """Ask without blocking; No is the default, so Enter and Escape change nothing."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            title,
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setInformativeText(detail)
        box.button(QMessageBox.StandardButton.Yes).setText("&Deactivate")
        box.button(QMessageBox.StandardButton.No).setText("&Keep")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setEscapeButton(QMessageBox.StandardButton.No)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_result: int) -> None:
            if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
                on_yes()

        box.finished.connect(answered)
        self.question_box = box
        box.open()


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


_refusals: set[QMessageBox] = set()


def open_users_admin(
    parent: QWidget | None,
    services: UsersAdminServices,
    runner: TaskRunner,
    acting: CurrentUser,
) -> UsersAdminDialog | None:
    """Show the window (non-modal, deleted on close), or bring forward the one open over
    `parent` already. A user without `users.admin` gets a message instead, and None."""
    if not acting.can(perms.USERS_ADMIN):
        box = QMessageBox(
            QMessageBox.Icon.Warning, TITLE, NOT_ALLOWED, QMessageBox.StandardButton.Ok, parent
        )
        box.setObjectName("users_admin_refused")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # Without a parent nothing else holds the box: Python would delete it at once.
        _refusals.add(box)
        box.finished.connect(lambda _result: _refusals.discard(box))
        box.open()
        return None
    if parent is not None:
        for dialog in parent.findChildren(UsersAdminDialog):
            if alive(dialog) and dialog.isVisible() and dialog.acting == acting:
                dialog.raise_()
                dialog.activateWindow()
                return dialog
    dialog = UsersAdminDialog(services, runner, acting, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
