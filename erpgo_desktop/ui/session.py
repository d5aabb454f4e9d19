"""Who is signed in at this workstation, and what happens when the database ends that.

`Workstation` holds what belongs to one signed-in person: their services (over their own
login role's engine), the change feed and the connection monitor that connect as them, and
the main window built for their permissions. Deactivating an account ends the person's
sessions in the server and refuses them new ones (services/users.py). Whatever notices
first (a task failing with `AccountDisabledError`, seen through `TaskRunner.task_failed`;
the change feed, whose connection was ended too; a ping) signs the person out, once:

- the feed and the monitor stop; the main window closes, its layout saved;
- open dialogs that can wait (`forms.FormDialog.keeps_over_sign_out`: the record, order
  and stock dialogs) are hidden with everything typed; the others are closed;
- the sign-in dialog comes back, with a message box saying why.

The next sign-in, the same person once reactivated or someone else, gets a main window of
its own, and the waiting dialogs come back in it, saving through that person's services
(`FormDialog.resume`). A new window rather than the old one refilled: tabs, menus and
actions are all built from the person's permissions, and the closed window is deleted
only once every answer already on its way to its lists has arrived.

    workstation = Workstation(runner, auth, open_services, location_description=...)
    workstation.quit_requested.connect(app.quit)    # the sign-in dialog was closed
    workstation.start(signed_in)                    # the first sign-in's SignedIn
    ...
    workstation.stop()                              # before the engines are disposed
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from erpgo_desktop import config
from erpgo_desktop.errors import AccountDisabledError
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import AuthService, CurrentUser, SignedIn
from erpgo_desktop.ui.connection import ConnectionIndicator, ConnectionMonitor
from erpgo_desktop.ui.forms import alive
from erpgo_desktop.ui.live import ChangeFeed
from erpgo_desktop.ui.login import LoginDialog
from erpgo_desktop.ui.main_window import KeptDialog, MainWindow
from erpgo_desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

APP_TITLE = "ERPGo Desktop"
KEPT_TEXT = (
    "What you typed in the open windows is kept: they come back when you sign in again, "
    "or when someone else does."
)
NOTHING_KEPT_TEXT = "Sign in again, or let someone else sign in."
#: Milliseconds between looks at whether a closed main window may be deleted.
BURY_INTERVAL_MS = 200


class SignIn:
    """The sign-in dialog's authenticator: keeps the SignedIn (with its engine) of whoever
    signed in."""

    def __init__(self, auth: AuthService) -> None:
        self._auth = auth
        self.signed_in: SignedIn | None = None

    def login(self, username: str, password: str) -> CurrentUser:
        signed_in = self._auth.sign_in(username, password)
        self.signed_in = signed_in
        return signed_in.user


@dataclass
class _Session:
    signed_in: SignedIn
    services: Services
    feed: ChangeFeed
    monitor: ConnectionMonitor
    window: MainWindow

    @property
    def login_role(self) -> str | None:
        return self.signed_in.engine.url.username


class Workstation(QObject):
    """See the module docstring. Create and use it on the GUI thread."""

    #: Someone signed in (again): their CurrentUser.
    signed_in = Signal(object)
    #: The sign-in dialog was closed without signing in: the program should end.
    quit_requested = Signal()

    def __init__(
        self,
        runner: TaskRunner,
        auth: AuthService,
        open_services: Callable[[SignedIn], Services],
        *,
        location_description: str = "",
        settings: QSettings | None = None,
        icon: QIcon | None = None,
        paths: config.AppPaths | None = None,
        location: config.DatabaseLocation | None = None,
        on_connection_settings: Callable[[QWidget], object] | None = None,
        parent: QObject | None = None,
    ) -> None:
        """`open_services(signed_in)` builds the services over a person's engine (and
        keeps the engine to dispose of at the end). `settings`: where the windows keep
        their layout (tests: a file of their own)."""
        super().__init__(parent)
        self._runner = runner
        self._auth = auth
        self._open_services = open_services
        self._location_description = location_description
        self._settings = settings
        self._icon = icon
        self._paths = paths
        self._location = location
        self._on_connection_settings = on_connection_settings
        self._session: _Session | None = None
        self._kept: list[KeptDialog] = []
        self._retired: list[MainWindow] = []
        # What QGuiApplication.quitOnLastWindowClosed was before a sign-out turned it off.
        self._quit_on_last_window: bool | None = None
        #: The sign-in dialog and the message over it while signed out (tests drive them).
        self.login: LoginDialog | None = None
        self.notice: QMessageBox | None = None
        self._burial = QTimer(self)
        self._burial.setInterval(BURY_INTERVAL_MS)
        self._burial.timeout.connect(self._bury)
        runner.task_failed.connect(self._task_failed)

    # -- what is there now ---------------------------------------------------------------

    @property
    def window(self) -> MainWindow | None:
        return None if self._session is None else self._session.window

    @property
    def services(self) -> Services | None:
        return None if self._session is None else self._session.services

    @property
    def user(self) -> CurrentUser | None:
        return None if self._session is None else self._session.signed_in.user

    @property
    def kept_dialogs(self) -> tuple[QDialog, ...]:
        """The dialogs waiting for the next sign-in."""
        return tuple(entry.dialog for entry in self._kept if alive(entry.dialog))

    # -- signing in and out --------------------------------------------------------------

    def start(self, signed_in: SignedIn) -> MainWindow:
        """Open the main window for `signed_in`, with the dialogs that waited for it."""
        services = self._open_services(signed_in)
        feed = ChangeFeed(signed_in.engine.url)
        monitor = ConnectionMonitor(services.health.ping)
        self._runner.task_failed.connect(monitor.notice_failure)
        indicator = ConnectionIndicator(monitor, server=self._location_description)
        window = MainWindow(
            services=services,
            runner=self._runner,
            user=signed_in.user,
            location_description=self._location_description,
            changes=feed,
            connection_indicator=indicator,
            settings=self._settings,
            icon=self._icon,
            paths=self._paths,
            location=self._location,
        )
        feed.account_disabled.connect(self._account_ended)
        monitor.account_disabled.connect(self._account_ended)
        self._session = _Session(signed_in, services, feed, monitor, window)
        feed.start()
        monitor.start()
        window.show()
        kept, self._kept = self._kept, []
        window.adopt_dialogs(kept)
        self._allow_quit()
        log.info("signed in as %s", signed_in.user.username)
        self.signed_in.emit(signed_in.user)
        return window

    def stop(self) -> None:
        """At the end: the feed and the monitor stop (they use the person's engine), and
        the windows close."""
        session, self._session = self._session, None
        if session is not None:
            self._end(session)
            session.window.close_signed_out()
            self._retired.append(session.window)
        for entry in self._kept:
            if alive(entry.dialog):
                entry.dialog.done(QDialog.DialogCode.Rejected)
        self._kept = []
        self._bury()
        self._allow_quit()

    @property
    def closed_windows(self) -> int:
        """Main windows closed but not deleted yet (answers were on their way to them)."""
        return len(self._retired)

    @Slot(object)
    def _task_failed(self, error: BaseException) -> None:
        if isinstance(error, AccountDisabledError):
            self._account_ended(error)

    @Slot(object)
    def _account_ended(self, error: AccountDisabledError) -> None:
        session = self._session
        if session is None:
            return  # signed out already: the person is told once
        if error.login_role is not None and error.login_role != session.login_role:
            return  # a late answer to someone signed out earlier
        self._sign_out(session, error.message)

    def _sign_out(self, session: _Session, message: str) -> None:
        log.warning("signing %s out: %s", session.signed_in.user.username, message)
        self._session = None
        self._hold_quit()
        self._end(session)
        self._kept.extend(session.window.release_dialogs())
        # The sign-in dialog first: the program ends when its last window closes.
        self._ask_sign_in(message)
        session.window.close_signed_out()
        self._retired.append(session.window)
        self._bury()

    def _end(self, session: _Session) -> None:
        self._runner.task_failed.disconnect(session.monitor.notice_failure)
        session.feed.stop()
        session.monitor.stop()

    def _ask_sign_in(self, message: str) -> None:
        sign_in = SignIn(self._auth)
        login = LoginDialog(
            sign_in,
            self._runner,
            location_description=self._location_description,
            offer_connection_settings=self._on_connection_settings is not None,
        )
        if self._icon is not None:
            login.setWindowIcon(self._icon)
        if self._on_connection_settings is not None:
            settings = self._on_connection_settings
            login.connection_settings_requested.connect(lambda: settings(login))
        login.finished.connect(lambda result: self._login_finished(login, sign_in, result))
        self.login = login
        login.open()
        notice = QMessageBox(
            QMessageBox.Icon.Warning, APP_TITLE, message, QMessageBox.StandardButton.Ok, login
        )
        notice.setInformativeText(KEPT_TEXT if self._kept else NOTHING_KEPT_TEXT)
        notice.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        notice.finished.connect(lambda _result: self._notice_closed(notice))
        self.notice = notice
        notice.open()

    def _notice_closed(self, notice: QMessageBox) -> None:
        if self.notice is notice:
            self.notice = None

    def _login_finished(self, login: LoginDialog, sign_in: SignIn, result: int) -> None:
        self.login = None
        login.deleteLater()
        if result == QDialog.DialogCode.Accepted and sign_in.signed_in is not None:
            self.start(sign_in.signed_in)
            return
        log.info("the sign-in dialog was closed: quitting")
        self.stop()
        self.quit_requested.emit()

    def _hold_quit(self) -> None:
        # Between the sign-out and the next main window no window of ours is visible for
        # a moment (the sign-in dialog hides before the new window shows). Qt 6.11 did not
        # take that for the program's end in a run by hand, but when the last window
        # closing ends the program is Qt's decision: not meanwhile.
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication) and self._quit_on_last_window is None:
            self._quit_on_last_window = app.quitOnLastWindowClosed()
            app.setQuitOnLastWindowClosed(False)

    def _allow_quit(self) -> None:
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication) and self._quit_on_last_window is not None:
            app.setQuitOnLastWindowClosed(self._quit_on_last_window)
        self._quit_on_last_window = None

    @Slot()
    def _bury(self) -> None:
        # A closed window's lists may still have answers on their way (a page, a count)
        # whose callbacks use them: delete it only once nothing is left to deliver, and
        # at once then, before one of its timers can ask for more.
        if self._runner.pending_count:
            self._burial.start()
            return
        for window in self._retired:
            if alive(window):
                shiboken6.delete(window)
        self._retired.clear()
        self._burial.stop()
