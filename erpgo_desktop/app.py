"""The composition root of the desktop program: logging, QApplication, services, windows.

Start-up is a short sequence of modal steps before the main window: get the database
ready (off the GUI thread, with a progress dialog: starting the embedded server and
migrating take seconds), create the first administrator if there is no account yet,
sign in, then the main window. From there `ui.session.Workstation` looks after who is
signed in: when the database ends a person's session (their account was deactivated), it
returns to the sign-in dialog and opens the next person's window.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QMessageLogContext, Qt, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QCloseEvent, QIcon, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop import __version__, config
from erpgo_desktop.errors import ErpError
from erpgo_desktop.services.auth import AuthService, SignedIn
from erpgo_desktop.services.setup import DatabaseReady, prepare_database
from erpgo_desktop.ui import icons, look
from erpgo_desktop.ui.connection_settings import (
    ConnectionSettingsDialog,
    open_connection_settings,
)
from erpgo_desktop.ui.first_admin import FirstAdminDialog
from erpgo_desktop.ui.gc_guard import MainThreadCollector
from erpgo_desktop.ui.login import LoginDialog
from erpgo_desktop.ui.main_window import SETTINGS_ORGANIZATION
from erpgo_desktop.ui.session import SignIn, Workstation
from erpgo_desktop.ui.tasks import Progress, TaskRunner, show_failure
from erpgo_desktop.ui.window_fit import fit_to_content

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

APP_TITLE = "ERPGo Desktop"
EXIT_OK = 0
EXIT_FAILED = 1
_PACKAGE_DIR = Path(__file__).resolve().parent


def run_gui(location: config.DatabaseLocation, paths: config.AppPaths, *, demo: bool) -> int:
    """Open the desktop program; returns the process exit code."""
    configure_logging(paths)
    log.info("ERPGo Desktop %s starting; database: %s", __version__, location.describe(paths))
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setOrganizationName(SETTINGS_ORGANIZATION)
    app.setApplicationName(APP_TITLE)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("erpgo-desktop")
    look.apply_look(app)
    icons.load()
    icon = app_icon()
    app.setWindowIcon(icon)
    quit_on_termination_signals(app)
    collector = MainThreadCollector(app)  # noqa: F841  (kept with the application)

    runner = TaskRunner(on_failure=lambda error: show_failure(None, error))
    #: The engines of the people who signed in, to dispose of at the end.
    engines: list[Engine] = []
    try:
        while True:
            started = _start(runner, location, paths, demo=demo)
            if not isinstance(started, BaseException):
                break
            if not _show_startup_failure(started, location, paths, runner):
                return EXIT_FAILED
            # New settings saved: start again with them (an override still wins).
            location = config.resolve_database(None, paths)
        return _sign_in_and_run(app, runner, started, icon, location, paths, engines)
    finally:
        # Workers may still hold a connection (a page, a count): let them finish first.
        runner.wait()
        for engine in engines:
            engine.dispose()


def quit_on_termination_signals(app: QApplication) -> None:
    """Leave cleanly on SIGTERM or Ctrl+C, so the embedded server is stopped if we were last.

    Python runs signal handlers only between bytecodes, and Qt's event loop runs none
    while idle: a slow timer gives the interpreter that chance.
    """
    for number in (signal.SIGINT, signal.SIGTERM):
        # exit(), not quit(): it also ends the loop of a modal dialog (sign-in, first admin).
        signal.signal(number, lambda _number, _frame: app.exit(0))
    wake_up = QTimer(app)
    wake_up.timeout.connect(lambda: None)
    wake_up.start(500)


@dataclass(frozen=True)
class _Started:
    ready: DatabaseReady
    #: Signing in, and the first administrator: asked as the sign-in role.
    auth: AuthService
    has_user: bool


def _prepare(
    location: config.DatabaseLocation, paths: config.AppPaths, demo: bool, progress: Progress
) -> _Started:
    # Runs on a worker: everything slow about starting, none of it touching widgets.
    server_url, ready = prepare_database(location, paths, demo=demo, progress=progress)
    progress("Opening the database", 0, 0)
    auth = AuthService.for_server(server_url)
    auth.check_schema()
    return _Started(ready, auth, auth.has_any_user())


def _start(
    runner: TaskRunner, location: config.DatabaseLocation, paths: config.AppPaths, *, demo: bool
) -> _Started | BaseException:
    dialog = StartupDialog(location.describe(paths))
    outcome: list[_Started | BaseException] = []

    def finished(result: _Started | BaseException) -> None:
        outcome.append(result)
        dialog.finish()

    runner.run_with_progress(
        lambda progress: _prepare(location, paths, demo, progress),
        finished,
        finished,
        dialog.show_progress,
    )
    dialog.exec()
    return outcome[0]


def _sign_in_and_run(
    app: QApplication,
    runner: TaskRunner,
    started: _Started,
    icon: QIcon,
    location: config.DatabaseLocation,
    paths: config.AppPaths,
    engines: list[Engine],
) -> int:
    from erpgo_desktop.services import Services, build_services
    from erpgo_desktop.services.backup import configured_pg_bin_dir

    auth = started.auth
    username = ""
    if not started.has_user:
        first = FirstAdminDialog(auth, runner)
        first.setWindowIcon(icon)
        log.info("asking for the first administrator")
        if first.exec() != QDialog.DialogCode.Accepted or first.user is None:
            return EXIT_OK
        username = first.user.username

    sign_in = SignIn(auth)
    login = LoginDialog(
        sign_in,
        runner,
        demo_login=started.ready.demo_login,
        username=username,
        location_description=started.ready.location_description,
        offer_connection_settings=True,
    )
    login.connection_settings_requested.connect(
        lambda: open_connection_settings(paths, runner, login, location=location)
    )
    login.setWindowIcon(icon)
    log.info("showing the sign-in dialog")
    if login.exec() != QDialog.DialogCode.Accepted or sign_in.signed_in is None:
        return EXIT_OK
    pg_bin_dir = configured_pg_bin_dir(paths)

    def open_services(signed_in: SignedIn) -> Services:
        engines.append(signed_in.engine)
        return build_services(signed_in.engine, pg_bin_dir=pg_bin_dir)

    # The workstation also signs the next person in when the database ends a session.
    workstation = Workstation(
        runner,
        auth,
        open_services,
        location_description=started.ready.location_description,
        icon=icon,
        paths=paths,
        location=location,
        on_connection_settings=lambda parent: open_connection_settings(
            paths, runner, parent, location=location
        ),
    )
    workstation.quit_requested.connect(app.quit)
    workstation.start(sign_in.signed_in)
    if workstation.services is not None:
        log.info("connected to %s", workstation.services.health.server_version())
    try:
        return app.exec()
    finally:
        # Before the engines go: the feed's thread and the monitor's pings use the server.
        workstation.stop()


class StartupDialog(QDialog):
    """ "Starting the database…" with a busy bar; it cannot be closed while work runs.

    Stopping half-way through a migration would only leave it to be done again next time,
    so there is nothing useful a Cancel button could do.
    """

    def __init__(self, location_description: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_fitter = fit_to_content(self)  # grows to a long location, wrapped
        self._finished = False
        self.setWindowTitle(APP_TITLE)
        self.setWindowFlag(Qt.WindowType.WindowCloseButtonHint, False)
        self.setMinimumWidth(420)
        self.message = QLabel("Starting…")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        where = QLabel(location_description)
        where.setWordWrap(True)
        where.setEnabled(False)  # greyed: context, not news
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.bar)
        layout.addWidget(where)

    def show_progress(self, message: str, done: int, total: int) -> None:
        self.message.setText(f"{message}…")
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        else:
            self.bar.setRange(0, 0)  # busy indicator

    def finish(self) -> None:
        self._finished = True
        self.accept()

    def reject(self) -> None:
        if self._finished:
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._finished:
            super().closeEvent(event)
        else:
            event.ignore()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() != Qt.Key.Key_Escape:
            super().keyPressEvent(event)


def _show_startup_failure(
    error: BaseException,
    location: config.DatabaseLocation,
    paths: config.AppPaths,
    runner: TaskRunner,
) -> bool:
    """Say why the database could not be opened; True when the person then saved new
    connection settings, to start again with them."""
    box = QMessageBox(
        QMessageBox.Icon.Critical,
        APP_TITLE,
        f"ERPGo Desktop could not open its database:\n{location.describe(paths)}",
    )
    box.setInformativeText(startup_failure_text(error))
    box.setDetailedText(f"The log file is {paths.log_file}.")
    settings_button = box.addButton("&Connection settings…", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.exec()
    if box.clickedButton() is not settings_button:
        return False
    dialog = ConnectionSettingsDialog(paths, runner, location=location)
    return dialog.exec() == QDialog.DialogCode.Accepted


def startup_failure_text(error: BaseException) -> str:
    """What went wrong at start-up, in the words of whoever refused.

    Unlike later failures, a start-up failure is usually the server's or the network's
    doing (refused connection, wrong password, no such database), so the driver's own
    first line is the most useful thing to show, and it carries no password.
    """
    if isinstance(error, ErpError):
        return error.message
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    first = lines[0] if lines else type(cause).__name__
    return f"{first}\n\nThe details are in the log file."


def app_icon() -> QIcon:
    # In a wheel the resources travel inside the package; in a checkout they sit at the top.
    for folder in (_PACKAGE_DIR / "_resources", _PACKAGE_DIR.parent / "resources"):
        path = folder / "erpgo.svg"
        if path.exists():
            return QIcon(str(path))
    return QIcon()


def configure_logging(paths: config.AppPaths) -> None:
    """Log to the user's log file as well as wherever logging goes already.

    Never log a password: URLs go through config.safe_url (DatabaseLocation.describe).
    """
    root = logging.getLogger()
    # Handlers set up by the command line keep showing what they showed before.
    for handler in root.handlers:
        if handler.level == logging.NOTSET:
            handler.setLevel(root.level)
    try:
        paths.log_dir.mkdir(parents=True, exist_ok=True)
        file_handler = RotatingFileHandler(
            paths.log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError as exc:
        log.warning("cannot write the log file %s: %s", paths.log_file, exc)
    else:
        file_handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s")
        )
        file_handler.setLevel(logging.INFO)
        root.addHandler(file_handler)
    root.setLevel(min(root.level or logging.WARNING, logging.INFO))
    sys.excepthook = _log_unhandled
    threading.excepthook = _log_unhandled_in_thread
    qInstallMessageHandler(_log_qt_message)


def _log_unhandled(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    # An exception escaping a slot lands here; log it and keep the program running.
    log.critical("unhandled exception", exc_info=(kind, error, traceback))


def _log_unhandled_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        log.critical(
            "unhandled exception in thread %s",
            args.thread.name if args.thread else "?",
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )


_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _log_qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    logging.getLogger(f"qt.{context.category or 'default'}").log(
        _QT_LEVELS.get(kind, logging.WARNING), "%s", message
    )
