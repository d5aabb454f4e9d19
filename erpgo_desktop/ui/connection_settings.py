"""Connection settings: the embedded database, or a PostgreSQL server's host, port and
database.

No user name and no password: people sign in as themselves (services/auth.py), so this
computer needs to know only where the server is. The choice goes to the settings file
(`config.write_server_settings`). "Test connection" tries the server on a worker as the
sign-in role, as the program does before anyone signs in, and says whether people can
sign in there, or why not. The program keeps using the database it started with: a change
applies at the next start.

Open it from anywhere, signed in or not (the start-up failure, the sign-in dialog)::

    open_connection_settings(paths, runner, parent, location=location)
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop import config
from erpgo_desktop.errors import ConfigurationError, ValidationError
from erpgo_desktop.services.connection_check import ConnectionCheck, check_connection
from erpgo_desktop.ui.forms import FormDialog, alive
from erpgo_desktop.ui.tasks import TaskRunner, user_message
from erpgo_desktop.ui.widgets import error_label

__all__ = ["ConnectionSettingsDialog", "open_connection_settings"]

TAKES_EFFECT = "Changes take effect the next time ERPGo Desktop starts."
_NOTE_STYLE = "QLabel { background: #fff3cd; color: #664d03; padding: 4px; }"
_OK_STYLE = "QLabel { color: #1e7b34; }"
_FAILED_STYLE = "QLabel { color: #c0392b; }"


class ConnectionSettingsDialog(FormDialog):
    """Where the database is; saving writes the settings file.

    `location` is the database this run uses; when it came from the command line or the
    environment, the dialog says that it overrides the settings file.
    """

    def __init__(
        self,
        paths: config.AppPaths,
        runner: TaskRunner,
        parent: QWidget | None = None,
        *,
        location: config.DatabaseLocation | None = None,
    ) -> None:
        # Nobody need be signed in: this opens from the sign-in dialog and when the start
        # fails, and it writes only this computer's settings, never the database.
        super().__init__(runner, None, parent)  # type: ignore[arg-type]
        self.paths = paths
        #: What the settings file holds now (the embedded database when it cannot be read).
        self.initial = config.ServerSettings()
        #: The last Test connection's answer (tests read it).
        self.last_check: ConnectionCheck | None = None
        self._check_serial = 0
        self.setWindowTitle("Connection settings — ERPGo Desktop")
        self.setMinimumWidth(520)

        self.override_note = self._note(_override_text(location))
        self.override_note.setObjectName("override_note")
        self.add_top_widget(self.override_note)
        self.file_credentials_note = self._note("")
        self.file_credentials_note.setObjectName("file_credentials_note")
        self.add_top_widget(self.file_credentials_note)

        self.embedded_choice = QRadioButton("This &computer only (embedded database)")
        self.server_choice = QRadioButton("A &PostgreSQL server")
        choices = QButtonGroup(self)
        choices.addButton(self.embedded_choice)
        choices.addButton(self.server_choice)
        self.register_field(
            "embedded", self.embedded_choice, error_label(), label="Embedded", compare=False
        )
        self.register_field(
            "server", self.server_choice, error_label(), label="Server", compare=False
        )
        self.body_layout.addWidget(self.embedded_choice)
        self.body_layout.addWidget(self.server_choice)

        self.server_box = QWidget()
        self.server_box.setObjectName("server_box")
        server_layout = QVBoxLayout(self.server_box)
        server_layout.setContentsMargins(24, 0, 0, 0)  # under its radio button
        self.body_layout.addWidget(self.server_box)
        form = self.add_form(server_layout)
        self.host = self.add_row(form, "host", "&Host:", QLineEdit(), compare=False)
        self.host.setPlaceholderText("dbserver.example.com")
        self.port = self.add_row(form, "port", "P&ort:", _port_spin(), compare=False)
        self.database = self.add_row(form, "database", "&Database:", QLineEdit(), compare=False)
        sign_in = QLabel(
            "People sign in with their own user name and password: no user or password is "
            "kept on this computer."
        )
        sign_in.setObjectName("sign_in_note")
        sign_in.setWordWrap(True)
        sign_in.setEnabled(False)  # greyed: an explanation, not an action
        server_layout.addWidget(sign_in)

        self.test_button = QPushButton("&Test connection")
        self.test_button.setObjectName("test_button")
        self.test_result = QLabel()
        self.test_result.setObjectName("test_result")
        self.test_result.setWordWrap(True)
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.test_result, 1)
        server_layout.addLayout(test_row)

        when = QLabel(TAKES_EFFECT)
        when.setObjectName("takes_effect")
        when.setWordWrap(True)
        self.body_layout.addWidget(when)

        self._fill_from_settings_file()
        self._set_tab_order()
        self.server_choice.toggled.connect(self._choice_changed)
        self.test_button.clicked.connect(self.test_connection)
        for edit in (self.host, self.database):
            edit.textEdited.connect(self._key_edited)
        self.port.valueChanged.connect(self._key_edited)
        self.mark_clean()
        self._choice_changed()
        # Again, now that the button is in the dialog: set before, it did not tell the
        # dialog, which on showing would make the first button after the focus (Test) its
        # default. Off first: setting it as it already is does nothing.
        self.save_button.setDefault(False)
        self.save_button.setDefault(True)
        self.finish()
        (self.host if self.server_choice.isChecked() else self.embedded_choice).setFocus()

    # -- building ------------------------------------------------------------------------

    @staticmethod
    def _note(text: str) -> QLabel:
        note = QLabel(text)
        note.setTextFormat(Qt.TextFormat.PlainText)
        note.setWordWrap(True)
        note.setStyleSheet(_NOTE_STYLE)
        note.setVisible(bool(text))
        return note

    def _fill_from_settings_file(self) -> None:
        credentials: str | None = None
        try:
            self.initial = config.read_server_settings(self.paths)
            credentials = config.credentials_in_settings_file(self.paths)
        except ConfigurationError as error:
            self.show_banner(error.message)
        shown = self.initial
        (self.embedded_choice if shown.embedded else self.server_choice).setChecked(True)
        self.host.setText(shown.host)
        self.port.setValue(shown.port)
        self.database.setText(shown.database or config.EMBEDDED_DATABASE_NAME)
        if credentials:
            # Written there by hand, or by an earlier version (the shared application role).
            self.file_credentials_note.setText(
                f"The settings file's database URL also says who connects ({credentials}). "
                "Nobody connects that way any more: people sign in as themselves, and "
                "saving these settings leaves that out of the file."
            )
            self.file_credentials_note.show()

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = [
            self.embedded_choice,
            self.server_choice,
            self.host,
            self.port,
            self.database,
            self.test_button,
            self.save_button,
            self.cancel_button,
        ]
        for before, after in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after)

    # -- state ---------------------------------------------------------------------------

    def _choice_changed(self, _checked: bool = False) -> None:
        self.server_box.setEnabled(self.server_choice.isChecked())
        if not self.server_choice.isChecked():
            self._show_result(None)

    def _key_edited(self, _value: object = None) -> None:
        self._show_result(None)  # a test of other settings says nothing about these

    def _typed_settings(self) -> config.ServerSettings:
        return config.ServerSettings(
            embedded=not self.server_choice.isChecked(),
            host=self.host.text().strip(),
            port=self.port.value(),
            database=self.database.text().strip(),
            options=self.initial.options,
        )

    # -- test connection -----------------------------------------------------------------

    def test_connection(self) -> None:
        """Try the typed server on a worker; the answer shows beside the button."""
        if not self.server_choice.isChecked() or not self.test_button.isEnabled():
            return
        self.clear_errors()
        try:
            settings = self._typed_settings().check()
        except ValidationError as error:
            self.show_error(error)
            return
        self._check_serial += 1
        serial = self._check_serial
        self.test_button.setEnabled(False)
        self.test_button.setText("Testing…")
        self.test_result.setStyleSheet("")
        self.test_result.setText(f"Connecting to {settings.host}…")
        self.runner.run(
            lambda: check_connection(settings),
            lambda result: self._tested(serial, result),
            lambda error: self._test_failed(serial, error),
            owner=self,
        )

    def _tested(self, serial: int, result: ConnectionCheck) -> None:
        if not alive(self):
            return
        self._test_done()
        if serial == self._check_serial:
            self.last_check = result
            self._show_result(result)

    def _test_failed(self, serial: int, error: BaseException) -> None:
        if not alive(self):
            return
        self._test_done()
        if serial == self._check_serial:
            self.test_result.setStyleSheet(_FAILED_STYLE)
            self.test_result.setText(user_message(error))

    def _test_done(self) -> None:
        self.test_button.setEnabled(True)
        self.test_button.setText("&Test connection")

    def _show_result(self, result: ConnectionCheck | None) -> None:
        if result is None:
            self._check_serial += 1  # a test still running answers for settings now gone
            self.test_result.clear()
            return
        self.test_result.setStyleSheet(_OK_STYLE if result.ok else _FAILED_STYLE)
        mark = "✔" if result.ok else "✘"
        self.test_result.setText(f"{mark} {result.message}")
        self.test_result.setToolTip(result.detail or "")

    # -- saving --------------------------------------------------------------------------

    def prepare_save(self) -> Callable[[], object]:
        typed = self._typed_settings()
        settings = config.ServerSettings() if typed.embedded else typed.check()
        paths = self.paths

        def save() -> config.ServerSettings:
            config.write_server_settings(paths, settings)
            return settings

        return save


def _port_spin() -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(1, 65535)
    spin.setValue(config.DEFAULT_PORT)
    # No group separators: a port reads 5432, not 5,432.
    spin.setGroupSeparatorShown(False)
    return spin


def _override_text(location: config.DatabaseLocation | None) -> str:
    if location is None:
        # Not told what this run uses: the environment is all that can be seen from here.
        raw = os.environ.get(config.DATABASE_URL_ENV)
        if not raw:
            return ""
        source, shown = config.UrlSource.ENVIRONMENT, config.safe_url(raw)
    elif location.source in (config.UrlSource.COMMAND_LINE, config.UrlSource.ENVIRONMENT):
        assert location.url is not None
        source, shown = location.source, config.safe_url(location.url)
    else:
        return ""
    given_by = (
        "the --database-url option"
        if source is config.UrlSource.COMMAND_LINE
        else f"the {config.DATABASE_URL_ENV} environment variable"
    )
    return (
        f"This run uses {shown}, given by {given_by}. As long as it is given, it takes "
        "precedence over what you choose here."
    )


def open_connection_settings(
    paths: config.AppPaths,
    runner: TaskRunner,
    parent: QWidget | None = None,
    *,
    location: config.DatabaseLocation | None = None,
) -> ConnectionSettingsDialog:
    """Open the dialog (window-modal over `parent`, not blocking); it deletes itself."""
    dialog = ConnectionSettingsDialog(paths, runner, parent, location=location)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
