"""Help › About: the versions of everything support asks about, the database, and where
the log file is, with a button to open its folder and one to copy the details.

The server's version is passed in, or read off the GUI thread by `server_version` (the
health service's) while the dialog is already up.

    dialog = AboutDialog(
        AboutInfo(__version__, location_description, paths.log_file),
        window,
        runner=runner,
        server_version=services.health.server_version,
    )
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.ui import icons
from erpgo_desktop.ui.forms import alive
from erpgo_desktop.ui.tasks import TaskRunner, user_message
from erpgo_desktop.ui.widgets import error_label, heading_label
from erpgo_desktop.ui.window_fit import fit_to_content

APP_NAME = "ERPGo Desktop"
READING = "reading…"


@dataclass(frozen=True)
class AboutInfo:
    app_version: str
    #: Where the database is, as DatabaseLocation.describe gives it (never a password).
    location_description: str
    log_file: Path
    #: The server's version() when known already; else the dialog asks for it.
    server_version: str | None = None


def package_version(distribution: str) -> str:
    """An installed distribution's version, read from its metadata (the ui layer does not
    import the database libraries themselves)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def component_versions() -> list[tuple[str, str]]:
    """(component, version) of what the program runs on."""
    return [
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("SQLAlchemy", package_version("SQLAlchemy")),
        ("psycopg", package_version("psycopg")),
        ("QtAwesome", package_version("qtawesome")),
        ("Operating system", platform.platform()),
    ]


class AboutDialog(QDialog):
    def __init__(
        self,
        info: AboutInfo,
        parent: QWidget | None = None,
        *,
        runner: TaskRunner | None = None,
        server_version: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.window_fitter = fit_to_content(self)  # grows to what it shows
        self.info = info
        self.setWindowTitle(f"About {APP_NAME}")
        self.setMinimumWidth(560)

        self.rows: dict[str, QLabel] = {}
        # A grid, not a QFormLayout: the form under-reported the height of its wrapped
        # rows on one of two screens, and the long paths were cut to two lines.
        form = QGridLayout()
        form.setColumnStretch(1, 1)
        self._add_row(form, APP_NAME, info.app_version)
        for component, version in component_versions():
            self._add_row(form, component, version)
        self._add_row(form, "PostgreSQL server", info.server_version or READING)
        self._add_row(form, "Database", info.location_description)
        self._add_row(form, "Log file", str(info.log_file))
        self._add_row(form, "Icons", icons.ICON_LICENCE)

        self.open_logs_button = QPushButton(icons.icon("folder"), "&Open log folder")
        self.open_logs_button.setToolTip(str(info.log_file.parent))
        self.open_logs_button.clicked.connect(self.open_log_folder)
        self.copy_button = QPushButton("Cop&y details")
        self.copy_button.setToolTip("Copy these details to the clipboard, e.g. for support")
        self.copy_button.clicked.connect(self.copy_details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setText("&Close")
        buttons.addButton(self.open_logs_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        close.setDefault(True)  # Enter closes, as Escape does
        self.message = QLabel()
        self.message.hide()
        self.error = error_label()

        layout = QVBoxLayout(self)
        layout.addWidget(heading_label(f"{APP_NAME} {info.app_version}"))
        layout.addWidget(QLabel("Back office for trading businesses."))
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        close.setFocus()

        if info.server_version is None:
            if runner is not None and server_version is not None:
                runner.run(server_version, self._server_version_read, self._server_version_failed)
            else:
                self.rows["PostgreSQL server"].setText("not known")

    def _add_row(self, form: QGridLayout, label: str, value: str) -> None:
        field = QLabel(value)
        field.setWordWrap(True)
        field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rows[label] = field
        row = form.rowCount()
        form.addWidget(_top_aligned(f"{label}:"), row, 0)
        form.addWidget(field, row, 1)

    def _server_version_read(self, version: str) -> None:
        if alive(self):
            self.rows["PostgreSQL server"].setText(version)

    def _server_version_failed(self, error: BaseException) -> None:
        if alive(self):
            self.rows["PostgreSQL server"].setText(f"not known: {user_message(error)}")

    def details_text(self) -> str:
        """What Copy puts on the clipboard: one "label: value" line each."""
        return "\n".join(f"{label}: {field.text()}" for label, field in self.rows.items())

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details_text())
        self._say("The details are on the clipboard.")

    def open_log_folder(self) -> None:
        folder = self.info.log_file.parent
        if not folder.is_dir():
            self._fail(f"The log folder {folder} does not exist (yet).")
        elif not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self._fail(f"The log folder could not be opened; it is {folder}.")
        else:
            self._say(f"Opened {folder}.")

    def _say(self, text: str) -> None:
        self.error.hide()
        self.message.setText(text)
        self.message.show()

    def _fail(self, text: str) -> None:
        self.message.hide()
        self.error.setText(text)
        self.error.show()


def _top_aligned(text: str) -> QLabel:
    # Beside the first line of a value that wraps, not its middle.
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label
