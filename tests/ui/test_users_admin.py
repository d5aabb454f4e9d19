"""The Users and roles window: accounts and roles made and changed by keyboard through the
services, the services' refusals shown, and nothing changed when they refuse."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import AuthenticationError
from erpgo_desktop.services.auth import CurrentUser, NewUser
from erpgo_desktop.services.users import RoleRow, UserProfile, UserRow
from erpgo_desktop.ui.role_dialog import RoleDialog
from erpgo_desktop.ui.tasks import TaskRunner
from erpgo_desktop.ui.user_dialog import PASSWORDS_DIFFER, ResetPasswordDialog, UserDialog
from erpgo_desktop.ui.users_admin import NOT_ALLOWED, UsersAdminDialog, open_users_admin
from tests.ui.dialog_support import Staff, make_staff

ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def staff(engine: Engine, runner: TaskRunner) -> Staff:
    return make_staff(engine)


def open_window(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, acting: CurrentUser | None = None
) -> UsersAdminDialog:
    window = UsersAdminDialog(staff.services, runner, acting or staff.admin)
    qtbot.addWidget(window)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    wait_loaded(qtbot, window)
    return window


def wait_loaded(qtbot: QtBot, window: UsersAdminDialog) -> None:
    def settled() -> bool:
        return all(
            not page.model.is_loading and page.model.count is not None
            for page in (window.users_page, window.roles_page)
        )

    qtbot.waitUntil(settled)


def listed_users(window: UsersAdminDialog) -> dict[str, UserRow]:
    model = window.users_page.model
    return {row.username: row for row in (model.row_at(n) for n in range(model.rowCount()))}


def listed_roles(window: UsersAdminDialog) -> dict[str, RoleRow]:
    model = window.roles_page.model
    return {row.name: row for row in (model.row_at(n) for n in range(model.rowCount()))}


def select_user(window: UsersAdminDialog, username: str) -> None:
    row = window.users_page.model.row_of_key(listed_users(window)[username].id)
    assert row is not None
    window.users_page.table.setFocus()
    window.users_page.table.selectRow(row)


def select_role(qtbot: QtBot, window: UsersAdminDialog, name: str) -> None:
    qtbot.keyClick(window, Qt.Key.Key_R, ALT)  # the Roles page
    assert window.tabs.currentWidget() is window.roles_page
    row = window.roles_page.model.row_of_key(listed_roles(window)[name].id)
    assert row is not None
    window.roles_page.table.setFocus()
    window.roles_page.table.selectRow(row)


def active_window_is(widget: QWidget) -> bool:
    return QApplication.activeWindow() is widget


def child_dialog(qtbot: QtBot, window: UsersAdminDialog, kind: type) -> object:
    qtbot.waitUntil(lambda: isinstance(window.last_dialog, kind))
    dialog = window.last_dialog
    qtbot.waitUntil(lambda: active_window_is(dialog) and not dialog.loading)
    return dialog


def answer(qtbot: QtBot, box: QMessageBox | None, key: Qt.Key) -> None:
    """Press Alt+`key` in a question once it is the active window (mnemonics need that)."""
    assert box is not None
    qtbot.waitUntil(lambda: active_window_is(box))
    qtbot.keyClick(box, key, ALT)


def activate(qtbot: QtBot, window: QWidget) -> None:
    """The offscreen platform gives the activation back to no window once a question
    closes, as a desktop would; mnemonics work only in the active window."""
    window.activateWindow()
    qtbot.waitUntil(lambda: active_window_is(window))


def focus(window: QWidget) -> QWidget:
    widget = QApplication.focusWidget()
    return widget if widget is not None else window


def add_user(staff: Staff, username: str, role: str) -> CurrentUser:
    return staff.services.auth.create_user(
        NewUser(username, f"{username}@example.com", "password1", role, username.title()),
        acting=None,
    )


def test_create_a_user_with_two_roles_by_keyboard(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    window = open_window(qtbot, staff, runner)
    qtbot.keyClick(window.users_page.table, Qt.Key.Key_N, CTRL)
    dialog = child_dialog(qtbot, window, UserDialog)
    assert isinstance(dialog, UserDialog)
    assert dialog.roles.keys == ("admin", "manager", "sales", "warehouse_clerk")
    assert focus(dialog) is dialog.username
    for text in ("sam", "Sam", "Sampson", "sam@example.com", "long enough", "long enough"):
        qtbot.keyClicks(focus(dialog), text)
        qtbot.keyClick(focus(dialog), Qt.Key.Key_Tab)
    assert (dialog.email.text(), dialog.password_again.text()) == (
        "sam@example.com",
        "long enough",
    )
    qtbot.keyClick(focus(dialog), Qt.Key.Key_R, ALT)  # the roles: admin first
    assert focus(dialog) is dialog.roles.box("admin")
    for toggle in (False, False, True, True):  # admin, manager, sales, warehouse_clerk
        if toggle:
            qtbot.keyClick(focus(dialog), Qt.Key.Key_Space)
        qtbot.keyClick(focus(dialog), Qt.Key.Key_Tab)
    assert dialog.roles.checked() == ("sales", "warehouse_clerk")

    with qtbot.waitSignal(dialog.saved, timeout=10_000) as saved:
        qtbot.keyClick(dialog.roles.box("sales"), Qt.Key.Key_Return)

    row = saved.args[0]
    assert isinstance(row, UserRow) and row.roles == ("sales", "warehouse_clerk")
    qtbot.waitUntil(lambda: "sam" in listed_users(window))
    assert listed_users(window)["sam"].roles == ("sales", "warehouse_clerk")
    qtbot.waitUntil(lambda: window.selected_user() is not None)
    assert window.selected_user().username == "sam"  # the new account is selected
    stored = staff.services.users.get_user(staff.admin, row.id)
    assert (stored.full_name, stored.email, stored.roles, stored.is_active) == (
        "Sam Sampson",
        "sam@example.com",
        ("sales", "warehouse_clerk"),
        True,
    )
    assert staff.services.auth.login("sam", "long enough").can(perms.INVENTORY_TRANSFER)


def test_bad_input_for_a_new_user_is_shown_at_its_field(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    window = open_window(qtbot, staff, runner)
    window.new_user()
    dialog = child_dialog(qtbot, window, UserDialog)
    assert isinstance(dialog, UserDialog)
    qtbot.keyClicks(dialog.username, "sales")  # taken (by make_staff)
    qtbot.keyClicks(dialog.first_name, "Sal")
    qtbot.keyClicks(dialog.email, "sal@example.com")
    qtbot.keyClicks(dialog.password, "long enough")
    qtbot.keyClicks(dialog.password_again, "long enougH")
    qtbot.keyClick(dialog.email, Qt.Key.Key_Return)
    assert dialog.visible_errors() == {"password_again": PASSWORDS_DIFFER}
    assert focus(dialog) is dialog.password_again and dialog.password_again.selectedText()
    qtbot.keyClicks(dialog.password_again, "long enough")  # over the selected text
    qtbot.keyClick(dialog.password_again, Qt.Key.Key_Return)
    assert dialog.visible_errors() == {"roles": "Choose at least one role."}
    assert QApplication.focusWidget() is dialog.roles.box("admin")
    dialog.roles.box("sales").setChecked(True)
    qtbot.keyClick(dialog.roles.box("sales"), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.saving)
    assert dialog.visible_errors() == {"username": "That username is already taken."}
    assert dialog.isVisible() and dialog.email.text() == "sal@example.com"


def test_reset_password_then_sign_in_with_it(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    window = open_window(qtbot, staff, runner)
    select_user(window, "sales")
    qtbot.keyClick(window, Qt.Key.Key_P, ALT)
    dialog = child_dialog(qtbot, window, ResetPasswordDialog)
    assert isinstance(dialog, ResetPasswordDialog)
    qtbot.keyClicks(dialog.new_password, "short")
    qtbot.keyClick(dialog.new_password, Qt.Key.Key_Return)
    assert "at least 8 characters" in dialog.visible_errors()["new_password"]
    dialog.new_password.clear()
    qtbot.keyClicks(dialog.new_password, "brand new pass")
    qtbot.keyClick(dialog.new_password, Qt.Key.Key_Tab)
    qtbot.keyClicks(focus(dialog), "brand new pasS")
    qtbot.keyClick(focus(dialog), Qt.Key.Key_Return)
    assert dialog.visible_errors() == {"password_again": PASSWORDS_DIFFER}
    dialog.password_again.clear()
    qtbot.keyClicks(dialog.password_again, "brand new pass")

    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        qtbot.keyClick(dialog.password_again, Qt.Key.Key_Return)

    assert staff.services.auth.login("sales", "brand new pass").username == "sales"
    with pytest.raises(AuthenticationError):
        staff.services.auth.login("sales", "password1")


def test_deactivate_after_asking_and_reactivate(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    window = open_window(qtbot, staff, runner)
    select_user(window, "sales")
    qtbot.keyClick(window.users_page.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: window.question_box is not None)
    box = window.question_box
    assert box is not None and box.text() == "Deactivate the account sales?"
    qtbot.keyClick(box, Qt.Key.Key_Escape)  # No: nothing changes
    assert runner.pending_count == 0 and listed_users(window)["sales"].is_active

    qtbot.keyClick(window.users_page.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: window.question_box is not box and window.question_box is not None)
    answer(qtbot, window.question_box, Qt.Key.Key_D)

    qtbot.waitUntil(lambda: not listed_users(window)["sales"].is_active)
    assert not staff.services.users.get_user(staff.admin, staff.sales.id).is_active
    toggle = window.users_page.buttons["toggle_user"]
    assert toggle.text() == "Reac&tivate" and window.selected_user().username == "sales"
    assert (
        window.users_page.model.data(
            window.users_page.model.index(window.users_page.table.currentIndex().row(), 4)
        )
        == "Inactive"
    )
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_T, ALT)  # reactivate: no question
    qtbot.waitUntil(lambda: listed_users(window)["sales"].is_active)
    assert staff.services.users.get_user(staff.admin, staff.sales.id).is_active
    # One's own account is not offered.
    select_user(window, "admin")
    assert not toggle.isEnabled()


def test_the_last_administrator_keeps_the_admin_role(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    window = open_window(qtbot, staff, runner)
    select_user(window, "admin")
    qtbot.keyClick(window.users_page.table, Qt.Key.Key_Return)
    dialog = child_dialog(qtbot, window, UserDialog)
    assert isinstance(dialog, UserDialog) and dialog.editing
    assert dialog.roles.checked() == ("admin",)
    dialog.roles.box("admin").setChecked(False)
    dialog.roles.box("manager").setChecked(True)
    qtbot.keyClick(dialog.first_name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.saving)

    errors = dialog.visible_errors()
    assert list(errors) == ["roles"]
    assert "admin is the last active administrator" in errors["roles"]
    assert dialog.isVisible()
    assert staff.services.users.get_user(staff.admin, staff.admin.id).roles == ("admin",)


def test_a_refused_role_change_keeps_the_saved_profile(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    """Profile and roles are two service calls: when the roles are refused, the name is
    saved already, and the next save goes on from there without a false conflict."""
    window = open_window(qtbot, staff, runner)
    select_user(window, "admin")
    window.edit_user()
    dialog = child_dialog(qtbot, window, UserDialog)
    assert isinstance(dialog, UserDialog)
    dialog.first_name.selectAll()
    qtbot.keyClicks(dialog.first_name, "Ada")
    dialog.roles.box("admin").setChecked(False)
    dialog.roles.box("manager").setChecked(True)
    qtbot.keyClick(dialog.first_name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.saving)
    assert list(dialog.visible_errors()) == ["roles"]
    stored = staff.services.users.get_user(staff.admin, staff.admin.id)
    assert (stored.first_name, stored.roles) == ("Ada", ("admin",))
    qtbot.waitUntil(lambda: listed_users(window)["admin"].first_name == "Ada")

    dialog.roles.box("admin").setChecked(True)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        qtbot.keyClick(dialog.first_name, Qt.Key.Key_Return)
    stored = staff.services.users.get_user(staff.admin, staff.admin.id)
    assert (stored.first_name, stored.roles) == ("Ada", ("admin", "manager"))


def test_a_stale_user_edit_says_so_and_shows_the_current_values(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    window = open_window(qtbot, staff, runner)
    select_user(window, "sales")
    window.edit_user()
    dialog = child_dialog(qtbot, window, UserDialog)
    assert isinstance(dialog, UserDialog)
    loaded = dialog.row
    staff.services.users.update_profile(
        staff.admin,
        loaded.id,
        UserProfile("sally@example.com", "Sally"),
        expected=loaded,
    )
    dialog.phone.setText("555 0100 22")
    qtbot.keyClick(dialog.phone, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.saving)

    assert "Someone else changed the email and first_name of sales" in dialog.banner.text()
    assert (dialog.email.text(), dialog.first_name.text(), dialog.phone.text()) == (
        "sally@example.com",
        "Sally",
        "",
    )
    qtbot.waitUntil(lambda: listed_users(window)["sales"].first_name == "Sally")


def test_the_last_administrator_stays_active(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    ann = add_user(staff, "ann", "admin")
    staff.services.users.deactivate_user(staff.admin, ann.id)
    # Ann's window still holds her old rights; the service refuses the lock-out anyway.
    window = open_window(qtbot, staff, runner, acting=ann)
    select_user(window, "admin")
    qtbot.keyClick(window.users_page.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: window.question_box is not None)
    answer(qtbot, window.question_box, Qt.Key.Key_D)

    qtbot.waitUntil(lambda: window.message_box is not None)
    message = window.message_box.text()
    assert "admin is the last active administrator" in message
    assert "At least one active account must keep the right" in message
    qtbot.keyClick(window.message_box, Qt.Key.Key_Return)
    assert staff.services.users.get_user(staff.admin, staff.admin.id).is_active
    wait_loaded(qtbot, window)
    assert listed_users(window)["admin"].is_active


def test_edit_a_role_with_the_permission_checklist(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    window = open_window(qtbot, staff, runner)
    select_role(qtbot, window, "sales")
    qtbot.keyClick(window.roles_page.table, Qt.Key.Key_Return)
    dialog = child_dialog(qtbot, window, RoleDialog)
    assert isinstance(dialog, RoleDialog)
    assert set(dialog.permissions.granted()) == set(perms.DEFAULT_ROLES["sales"])
    assert not dialog.name.isEnabled() and focus(dialog) is dialog.description
    dialog.description.clear()
    qtbot.keyClicks(dialog.description, "Sells")
    qtbot.keyClick(dialog, Qt.Key.Key_E, ALT)  # the Reports group: its one box
    assert focus(dialog) is dialog.permissions.box(perms.REPORTS_VIEW)
    qtbot.keyClick(focus(dialog), Qt.Key.Key_Space)
    qtbot.keyClick(dialog, Qt.Key.Key_U, ALT)  # Customers: see, change, credit
    qtbot.keyClick(focus(dialog), Qt.Key.Key_Tab)
    assert focus(dialog) is dialog.permissions.box(perms.CUSTOMERS_WRITE)
    qtbot.keyClick(focus(dialog), Qt.Key.Key_Space)

    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        qtbot.keyClick(dialog, Qt.Key.Key_S, CTRL)

    wanted = (set(perms.DEFAULT_ROLES["sales"]) | {perms.REPORTS_VIEW}) - {perms.CUSTOMERS_WRITE}
    (sales,) = [r for r in staff.services.users.list_roles(staff.admin) if r.name == "sales"]
    assert set(sales.permissions) == wanted and sales.description == "Sells"
    qtbot.waitUntil(lambda: set(listed_roles(window)["sales"].permissions) == wanted)
    assert not staff.services.auth.login("sales", "password1").can(perms.CUSTOMERS_WRITE)


def test_a_new_role_with_all_permissions(qtbot: QtBot, staff: Staff, runner: TaskRunner) -> None:
    window = open_window(qtbot, staff, runner)
    qtbot.keyClick(window, Qt.Key.Key_R, ALT)
    qtbot.keyClick(window.roles_page.table, Qt.Key.Key_N, CTRL)
    dialog = child_dialog(qtbot, window, RoleDialog)
    assert isinstance(dialog, RoleDialog) and not dialog.editing
    qtbot.keyClicks(dialog.name, "deputy")
    qtbot.keyClick(dialog, Qt.Key.Key_A, ALT)  # All permissions
    qtbot.waitUntil(dialog.permissions.all_box.isChecked)  # a mnemonic's click is animated
    assert not dialog.permissions.box(perms.ORDERS_SHIP).isEnabled()
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "deputy" in listed_roles(window))
    deputy = listed_roles(window)["deputy"]
    assert deputy.permissions == (perms.ALL,)
    assert window.roles_page.model.data(window.roles_page.model.index(1, 2)) == "All"
    assert window.selected_role() == deputy


def test_the_admin_role_is_read_only(qtbot: QtBot, staff: Staff, runner: TaskRunner) -> None:
    window = open_window(qtbot, staff, runner)
    select_role(qtbot, window, "admin")
    assert not window.roles_page.buttons["toggle_role"].isEnabled()
    qtbot.keyClick(window.roles_page.table, Qt.Key.Key_Return)
    dialog = child_dialog(qtbot, window, RoleDialog)
    assert isinstance(dialog, RoleDialog) and dialog.read_only
    assert dialog.permissions.granted() == (perms.ALL,) and not dialog.save_button.isVisible()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_a_stale_role_edit_says_so_and_shows_the_current_values(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    window = open_window(qtbot, staff, runner)
    select_role(qtbot, window, "sales")
    window.edit_role()
    dialog = child_dialog(qtbot, window, RoleDialog)
    assert isinstance(dialog, RoleDialog)
    loaded = dialog.row
    staff.services.users.update_role(
        staff.admin,
        loaded.id,
        description="Changed elsewhere",
        permissions=[perms.ORDERS_READ],
        expected=loaded,
    )
    dialog.permissions.box(perms.REPORTS_VIEW).setChecked(True)
    qtbot.keyClick(dialog.description, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.saving)

    assert "Someone else changed the description and permissions" in dialog.banner.text()
    assert dialog.isVisible() and not dialog.dirty
    assert dialog.description.text() == "Changed elsewhere"
    assert dialog.permissions.granted() == (perms.ORDERS_READ,)
    qtbot.waitUntil(lambda: listed_roles(window)["sales"].description == "Changed elsewhere")
    # Saving again goes over the values shown.
    dialog.permissions.box(perms.REPORTS_VIEW).setChecked(True)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        qtbot.keyClick(dialog.description, Qt.Key.Key_Return)
    (sales,) = [r for r in staff.services.users.list_roles(staff.admin) if r.name == "sales"]
    assert sales.permissions == (perms.ORDERS_READ, perms.REPORTS_VIEW)


def test_deactivate_and_reactivate_a_role(qtbot: QtBot, staff: Staff, runner: TaskRunner) -> None:
    window = open_window(qtbot, staff, runner)
    select_role(qtbot, window, "warehouse_clerk")
    qtbot.keyClick(window.roles_page.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: window.question_box is not None)
    assert "1 active account holds it" in window.question_box.informativeText()
    answer(qtbot, window.question_box, Qt.Key.Key_D)
    qtbot.waitUntil(lambda: not listed_roles(window)["warehouse_clerk"].is_active)
    assert not staff.services.auth.login("warehouse-clerk", "password1").can(perms.ORDERS_SHIP)
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_T, ALT)
    qtbot.waitUntil(lambda: listed_roles(window)["warehouse_clerk"].is_active)
    assert staff.services.auth.login("warehouse-clerk", "password1").can(perms.ORDERS_SHIP)


def test_without_users_admin_the_window_is_refused(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    assert open_users_admin(None, staff.services, runner, staff.manager) is None
    (refusal,) = [
        w for w in QApplication.topLevelWidgets() if w.objectName() == "users_admin_refused"
    ]
    assert isinstance(refusal, QMessageBox) and refusal.text() == NOT_ALLOWED
    refusal.close()

    # Rights taken away while the window was open: the service refuses, and says so.
    window = UsersAdminDialog(staff.services, runner, staff.manager)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.banner.isVisible())
    assert "needs the permission 'users.admin'" in window.banner.text()
    assert window.users_page.model.rowCount() == 0


@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_open_users_admin_brings_the_open_window_forward(
    qtbot: QtBot, staff: Staff, runner: TaskRunner
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    first = open_users_admin(parent, staff.services, runner, staff.admin)
    assert first is not None and first.isVisible() and not first.isModal()
    assert open_users_admin(parent, staff.services, runner, staff.admin) is first
    wait_loaded(qtbot, first)
    first.close()


def test_the_models_pass_the_model_tester(
    qtbot: QtBot, staff: Staff, runner: TaskRunner, qtmodeltester: ModelTester
) -> None:
    add_user(staff, "ann", "admin")
    window = open_window(qtbot, staff, runner)
    qtmodeltester.check(window.users_page.model)
    qtmodeltester.check(window.roles_page.model)
    assert list(listed_users(window)) == ["admin", "ann", "manager", "sales", "warehouse-clerk"]
    window.reload()
    wait_loaded(qtbot, window)
    assert window.status_text() == "5 accounts"
