"""The sign-in dialog.

Signing in connects to the server as the person's own login role, which takes a few
round trips and a SCRAM exchange; it runs on a worker through the task runner so that the
dialog keeps painting and can be cancelled.
"""

from __future__ import annotations

from html import escape
from typing import Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.ui.tasks import TaskRunner, user_message
from erpgo_desktop.ui.widgets import error_label, heading_label
from erpgo_desktop.ui.window_fit import fit_to_content


class Authenticator(Protocol):
    def login(self, username: str, password: str) -> CurrentUser: ...


class LoginDialog(QDialog):
    #: "Connection settings…" was pressed (only offered with `offer_connection_settings`).
    connection_settings_requested = Signal()

    def __init__(
        self,
        auth: Authenticator,
        runner: TaskRunner,
        *,
        demo_login: tuple[str, str] | None = None,
        username: str = "",
        location_description: str = "",
        offer_connection_settings: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.window_fitter = fit_to_content(self)  # grows to what it shows
        self._auth = auth
        self._runner = runner
        self._busy = False
        self.user: CurrentUser | None = None

        self.setWindowTitle("Sign in — ERPGo Desktop")
        self.setMinimumWidth(460)

        self.username = QLineEdit(username)
        self.username.setObjectName("username")
        self.username.setMaxLength(50)
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = error_label()
        self.error.setObjectName("error")

        form = QFormLayout()
        form.addRow(_buddy("&Username:", self.username), self.username)
        form.addRow(_buddy("&Password:", self.password), self.password)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.sign_in_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.sign_in_button.setText("Sign in")
        self.sign_in_button.setDefault(True)  # Enter in either field signs in
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.connection_button: QPushButton | None = None
        if offer_connection_settings:
            # For a workstation pointed at the wrong server, or whose password changed.
            self.connection_button = self.buttons.addButton(
                "&Connection settings…", QDialogButtonBox.ButtonRole.ActionRole
            )
            self.connection_button.setObjectName("connection_settings")
            self.connection_button.setAutoDefault(False)  # Enter still signs in
            self.connection_button.clicked.connect(self.connection_settings_requested)

        layout = QVBoxLayout(self)
        layout.addWidget(heading_label("Sign in to ERPGo Desktop"))
        if location_description:
            where = QLabel(f"Database: {location_description}")
            where.setWordWrap(True)
            where.setEnabled(False)  # greyed: context, not something to act on
            where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(where)
        if demo_login is not None:
            self.demo_hint = QLabel(
                "This is a demo database. Sign in as "
                f"<b>{escape(demo_login[0])}</b> with the password <b>{escape(demo_login[1])}</b>."
            )
            self.demo_hint.setObjectName("demo_hint")
            self.demo_hint.setWordWrap(True)
            self.demo_hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.demo_hint.setStyleSheet(
                "QLabel { background: palette(alternate-base); border: 1px solid palette(mid);"
                " border-radius: 4px; padding: 6px; }"
            )
            layout.addWidget(self.demo_hint)
            if not username:
                self.username.setText(demo_login[0])
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        (self.password if self.username.text() else self.username).setFocus()

    def submit(self) -> None:
        if self._busy:
            return
        username, password = self.username.text().strip(), self.password.text()
        if not username:
            self._show_error("Enter your username.", self.username)
            return
        if not password:
            self._show_error("Enter your password.", self.password)
            return
        self._set_busy(True)
        auth = self._auth
        self._runner.run(lambda: auth.login(username, password), self._signed_in, self._refused)

    def reject(self) -> None:
        # Closing while a check runs is fine: its result is ignored once the dialog is done.
        self._busy = False
        super().reject()

    def _signed_in(self, user: CurrentUser) -> None:
        if not self._busy:
            return  # cancelled meanwhile
        self._set_busy(False)
        self.user = user
        self.accept()

    def _refused(self, error: BaseException) -> None:
        if not self._busy:
            return
        self._set_busy(False)
        self.password.selectAll()
        self._show_error(user_message(error), self.password)

    def _show_error(self, message: str, focus: QLineEdit) -> None:
        self.error.setText(message)
        self.error.show()
        focus.setFocus()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.username.setEnabled(not busy)
        self.password.setEnabled(not busy)
        self.sign_in_button.setEnabled(not busy)
        self.sign_in_button.setText("Signing in…" if busy else "Sign in")
        if busy:
            self.error.hide()
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()


def _buddy(text: str, field: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(field)  # Alt+U / Alt+P jump to the field
    return label
