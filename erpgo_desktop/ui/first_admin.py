"""The dialog that creates the first administrator of a new database.

The service checks every rule (it must, whatever the screen does) and names the field at
fault; the dialog shows that message under the field and keeps everything typed, so a
mistake costs one correction, not a whole form.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.errors import ErpError
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.ui.tasks import TaskRunner, user_message
from erpgo_desktop.ui.widgets import error_label, heading_label
from erpgo_desktop.ui.window_fit import fit_to_content


class FirstAdminCreator(Protocol):
    def create_first_admin(
        self, *, username: str, email: str, password: str, first_name: str, last_name: str = ""
    ) -> CurrentUser: ...


# (field name the service uses, label, echo as password)
FIELDS = (
    ("username", "&Username:", False),
    ("email", "&Email:", False),
    ("first_name", "&First name:", False),
    ("last_name", "&Last name:", False),
    ("password", "&Password:", True),
    ("password_confirm", "&Confirm password:", True),
)


class FirstAdminDialog(QDialog):
    def __init__(
        self, auth: FirstAdminCreator, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.window_fitter = fit_to_content(self)  # grows to what it shows
        self._auth = auth
        self._runner = runner
        self._busy = False
        self.user: CurrentUser | None = None
        self.setWindowTitle("Create the administrator — ERPGo Desktop")
        self.setMinimumWidth(440)

        intro = QLabel(
            "This database has no accounts yet. Create the first administrator: this account "
            "can set up everything else, including the accounts of your colleagues."
        )
        intro.setWordWrap(True)

        self.fields: dict[str, QLineEdit] = {}
        self.field_errors: dict[str, QLabel] = {}
        self._form = QFormLayout()
        self._error_rows: dict[str, int] = {}
        for name, label_text, secret in FIELDS:
            edit = QLineEdit()
            edit.setObjectName(name)
            if secret:
                edit.setEchoMode(QLineEdit.EchoMode.Password)
            label = QLabel(label_text)
            label.setBuddy(edit)
            self._form.addRow(label, edit)
            message = error_label()
            message.setObjectName(f"{name}_error")
            self._form.addRow("", message)
            # The whole row hides, so an empty error row leaves no gap in the form.
            self._error_rows[name] = self._form.rowCount() - 1
            self._form.setRowVisible(self._error_rows[name], False)
            self.fields[name] = edit
            self.field_errors[name] = message
        self.fields["username"].setMaxLength(50)
        self.fields["email"].setMaxLength(255)
        self.fields["first_name"].setMaxLength(100)
        self.fields["last_name"].setMaxLength(100)
        self.fields["password"].setPlaceholderText("at least 8 characters")

        self.general_error = error_label()
        self.general_error.setObjectName("general_error")

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.create_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.create_button.setText("Create administrator")
        self.create_button.setDefault(True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading_label("Welcome to ERPGo Desktop"))
        layout.addWidget(intro)
        layout.addLayout(self._form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        self.fields["username"].setFocus()

    def value(self, name: str) -> str:
        return self.fields[name].text()

    def submit(self) -> None:
        if self._busy:
            return
        self._clear_errors()
        if self.value("password") != self.value("password_confirm"):
            self._show_error("password_confirm", "The two passwords differ.")
            return
        self._busy = True
        self._set_enabled(False)
        auth = self._auth
        username = self.value("username").strip()
        email = self.value("email").strip()
        first_name, last_name = self.value("first_name"), self.value("last_name")
        password = self.value("password")
        self._runner.run(
            lambda: auth.create_first_admin(
                username=username,
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
            ),
            self._created,
            self._refused,
        )

    def reject(self) -> None:
        self._busy = False
        super().reject()

    def _created(self, user: CurrentUser) -> None:
        if not self._busy:
            return
        self._busy = False
        self._set_enabled(True)
        self.user = user
        self.accept()

    def _refused(self, error: BaseException) -> None:
        if not self._busy:
            return
        self._busy = False
        self._set_enabled(True)
        field = error.field if isinstance(error, ErpError) else None
        if field in self.fields:
            self._show_error(field, user_message(error))
        else:
            self.general_error.setText(user_message(error))
            self.general_error.show()

    def _show_error(self, field: str, message: str) -> None:
        self.field_errors[field].setText(message)
        self._form.setRowVisible(self._error_rows[field], True)
        self.fields[field].setFocus()
        self.fields[field].selectAll()

    def _clear_errors(self) -> None:
        for name, label in self.field_errors.items():
            label.clear()
            self._form.setRowVisible(self._error_rows[name], False)
        self.general_error.hide()

    def _set_enabled(self, enabled: bool) -> None:
        for edit in self.fields.values():
            edit.setEnabled(enabled)
        self.create_button.setEnabled(enabled)
        self.create_button.setText("Create administrator" if enabled else "Creating…")
