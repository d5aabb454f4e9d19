"""Administration › Back up… and Restore…: the whole database to a file and back.

Back up asks where to save (named `erpgo-YYYYMMDD-HHMM.backup` unless changed), then a
dialog shows the progress while pg_dump runs on a worker, and what was written when it
is done. Cancel stops it; no file is left behind.

Restore never touches the database in use: it restores a file into a NEW database on the
same server, under a name the user types, and lists each table's row count beside the
backup's. To work in the restored database, the user points the program at it (its
location is shown); nothing here switches over.

    start_backup(window, services.backup, runner, acting)          # asks for the file
    RestoreDialog(services.backup, runner, acting, parent=window).open()

Keys: in Restore, Alt+F chooses the file, Alt+N goes to the name, Enter restores, and
Escape closes (or cancels the work under way, in either dialog).
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from erpgo_desktop.errors import ErpError
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.backup import (
    BACKUP_SUFFIX,
    BackupResult,
    BackupService,
    RestoreResult,
)
from erpgo_desktop.services.health import human_size
from erpgo_desktop.ui import files
from erpgo_desktop.ui.forms import alive
from erpgo_desktop.ui.tasks import Progress, TaskRunner, user_message
from erpgo_desktop.ui.widgets import error_label
from erpgo_desktop.ui.window_fit import fit_to_content

__all__ = [
    "BackupDialog",
    "RestoreDialog",
    "choose_backup_file",
    "default_backup_name",
    "start_backup",
]

FILE_FILTER = f"ERPGo Desktop backups (*{BACKUP_SUFFIX});;All files (*)"


class Cancelled(ErpError):
    """The user cancelled the work under way."""


def default_backup_name(now: datetime | None = None) -> str:
    return f"erpgo-{(now or datetime.now()):%Y%m%d-%H%M}{BACKUP_SUFFIX}"


def choose_backup_file(parent: QWidget | None) -> Path | None:
    """Ask where to save a backup; None when the user cancelled. The file dialog itself
    asks before replacing a file."""
    return files.ask_save_path(
        parent,
        "Back up the database",
        default_backup_name(),
        FILE_FILTER,
        default_suffix=BACKUP_SUFFIX,
    )


def _cancellable(progress: Progress, stop: threading.Event) -> Progress:
    """`progress` that raises Cancelled, on the worker, once `stop` is set: the service
    then stops its tool and leaves nothing behind."""

    def report(stage: str, done: int, total: int) -> None:
        if stop.is_set():
            raise Cancelled("Cancelled.")
        progress(stage, done, total)

    return report


def _show_progress(bar: QProgressBar, stage: str, done: int, total: int) -> None:
    bar.setRange(0, total)
    bar.setValue(min(done, total))
    bar.setFormat(f"{stage}… %v of %m" if total else f"{stage}…")


class _CancellableWork(QDialog):
    """A dialog running one long job on a worker, with a progress bar; Escape, Cancel or
    Close while it runs asks the job to stop (at its next progress step) and stays."""

    def __init__(
        self,
        service: BackupService,
        runner: TaskRunner,
        acting: CurrentUser,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.window_fitter = fit_to_content(self)  # grows to what it shows
        self._service = service
        self._runner = runner
        self._acting = acting
        self._stop = threading.Event()
        self.running = False
        self.progress = QProgressBar()

    def _begin(self) -> None:
        self.running = True
        self._stop.clear()

    def reject(self) -> None:
        if self.running:
            self._stop.set()
            self.progress.setFormat("Cancelling…")
            return
        super().reject()

    def _progressed(self, stage: str, done: int, total: int) -> None:
        if alive(self) and not self._stop.is_set():
            _show_progress(self.progress, stage, done, total)


class BackupDialog(_CancellableWork):
    """One backup to a chosen file: its progress, then what was written (or why not)."""

    #: The BackupResult, or the error: whichever way it ended.
    finished_backup = Signal(object)

    def __init__(
        self,
        service: BackupService,
        runner: TaskRunner,
        acting: CurrentUser,
        path: Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(service, runner, acting, parent)
        self.path = Path(path)
        self.setWindowTitle("Back up the database")
        self.setMinimumWidth(520)

        self.message = QLabel(f"Backing up {service.location}\nto {self.path}")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = error_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.progress)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def start(self) -> None:
        """Start the backup on a worker (the file was chosen, and agreed to be replaced)."""
        if self.running:
            return
        self._begin()
        _show_progress(self.progress, "Starting", 0, 0)
        service, acting, path, stop = self._service, self._acting, self.path, self._stop
        self._runner.run_with_progress(
            lambda progress: service.backup(
                path, acting=acting, progress=_cancellable(progress, stop), overwrite=True
            ),
            self._done,
            self._failed,
            self._progressed,
        )

    def _done(self, result: BackupResult) -> None:
        if not alive(self):
            return
        self._finish()
        self.message.setText(
            f"Backed up {result.tables} tables to {result.path} ({human_size(result.size_bytes)}, "
            f"{result.seconds:.1f} s).\n\nKeep a copy somewhere other than this computer."
        )
        # The file saved message's own buttons (ui/files.py), here in the dialog that
        # reported the progress.
        self.open_button, self.folder_button = files.add_file_buttons(self.buttons, result.path)
        self.finished_backup.emit(result)

    def _failed(self, error: BaseException) -> None:
        if not alive(self):
            return
        self._finish()
        self.message.setText(f"No backup was written to {self.path}.")
        self.error.setText(user_message(error))
        self.error.show()
        self.finished_backup.emit(error)

    def _finish(self) -> None:
        self.running = False
        self.progress.hide()
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)
        close = self.buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setDefault(True)
        close.setFocus()


def start_backup(
    parent: QWidget | None, service: BackupService, runner: TaskRunner, acting: CurrentUser
) -> BackupDialog | None:
    """Administration › Back up…: ask for the file, then back up with a progress dialog."""
    path = choose_backup_file(parent)
    if path is None:
        return None
    dialog = BackupDialog(service, runner, acting, path, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    dialog.start()
    return dialog


class RestoreDialog(_CancellableWork):
    """Restore a backup file into a new database on the same server, and show the check."""

    #: The RestoreResult, or the error: whichever way it ended.
    finished_restore = Signal(object)

    def __init__(
        self,
        service: BackupService,
        runner: TaskRunner,
        acting: CurrentUser,
        parent: QWidget | None = None,
    ) -> None:
        # Cancelling a restore drops the half-made new database again.
        super().__init__(service, runner, acting, parent)
        self.setWindowTitle("Restore a backup")
        self.resize(640, 560)

        intro = QLabel(
            "The backup is restored into a new database on the same server; the database "
            f"in use ({service.location}) is not changed."
        )
        intro.setWordWrap(True)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("The backup file")
        self.choose_button = QPushButton("Choose &file…")
        # Enter anywhere restores; only Space presses this one when it has the focus.
        self.choose_button.setAutoDefault(False)
        self.choose_button.clicked.connect(self.choose_file)
        self.name_edit = QLineEdit(f"erpgo_restored_{datetime.now():%Y%m%d_%H%M}")
        self.name_edit.setMaxLength(63)
        self.name_error = error_label()
        self.path_error = error_label()

        file_row = QHBoxLayout()
        file_row.addWidget(self.path_edit, 1)
        file_row.addWidget(self.choose_button)
        form = QFormLayout()
        file_label = QLabel("Backup &file:")
        file_label.setBuddy(self.path_edit)
        form.addRow(file_label, file_row)
        form.addRow("", self.path_error)
        name_label = QLabel("New database &name:")
        name_label.setBuddy(self.name_edit)
        form.addRow(name_label, self.name_edit)
        form.addRow("", self.name_error)

        self.progress.hide()
        self.summary = QLabel("Choose the file and a name for the new database, then Restore.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = error_label()
        self.counts = QTableWidget(0, 3)
        self.counts.setHorizontalHeaderLabels(["Table", "In the backup", "Restored"])
        self.counts.verticalHeader().hide()
        self.counts.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.counts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.counts.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.counts.setTabKeyNavigation(False)
        counts_label = QLabel("&Row counts:")
        counts_label.setBuddy(self.counts)

        self.restore_button = QPushButton("&Restore")
        self.restore_button.clicked.connect(self.restore)
        self.buttons = QDialogButtonBox()
        self.buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addWidget(counts_label)
        layout.addWidget(self.counts, 1)
        layout.addWidget(self.buttons)
        self.setTabOrder(self.path_edit, self.choose_button)
        self.setTabOrder(self.choose_button, self.name_edit)
        self.setTabOrder(self.name_edit, self.counts)
        # Only once the button is in the dialog does the dialog take it as its default.
        self.restore_button.setDefault(True)
        self.path_edit.setFocus()

    def choose_file(self) -> None:
        chosen = files.ask_open_path(self, "Restore a backup", FILE_FILTER)
        if chosen is not None:
            self.path_edit.setText(str(chosen))
            self.name_edit.setFocus()

    def restore(self) -> None:
        if self.running:
            return
        for label in (self.path_error, self.name_error, self.error):
            label.hide()
        path_text = self.path_edit.text().strip()
        if not path_text:
            self._field_error(self.path_error, self.path_edit, "Choose the backup file.")
            return
        path, name = Path(path_text), self.name_edit.text()
        self._begin()
        self._set_enabled(False)
        self.restore_button.setDefault(True)
        self.counts.setRowCount(0)
        self.progress.show()
        _show_progress(self.progress, "Starting", 0, 0)
        self.summary.setText(f"Restoring {path.name} into a new database {name.strip()}…")
        service, acting, stop = self._service, self._acting, self._stop
        self._runner.run_with_progress(
            lambda progress: service.restore_into_new_database(
                path, name, acting=acting, progress=_cancellable(progress, stop)
            ),
            self._done,
            self._failed,
            self._progressed,
        )

    def _done(self, result: RestoreResult) -> None:
        if not alive(self):
            return
        self._finish()
        self._show_counts(result)
        if result.verified:
            self.summary.setText(
                f"Restored {len(result.tables)} tables ({result.rows:,} rows) into the new "
                f"database {result.database} in {result.seconds:.1f} s. Every table has the "
                "same row count as the backup.\n\nTo work in it, choose database "
                f"{result.database} in Administration › Connection settings…, or start "
                "ERPGo Desktop with --database-url naming it."
            )
        else:
            self.summary.setText(
                f"Restored into the new database {result.database}, but "
                f"{len(result.mismatches)} tables have another row count than the backup "
                "(marked below). Do not use it before finding out why."
            )
        # Done: Enter now closes, rather than restoring the same file again.
        self.close_button.setDefault(True)
        self.counts.setFocus()
        self.finished_restore.emit(result)

    def _failed(self, error: BaseException) -> None:
        if not alive(self):
            return
        self._finish()
        self.summary.setText("Nothing was restored; the database in use is unchanged.")
        field = getattr(error, "field", None)
        if field == "database":
            self._field_error(self.name_error, self.name_edit, user_message(error))
        elif field == "path":
            self._field_error(self.path_error, self.path_edit, user_message(error))
        else:
            self.error.setText(user_message(error))
            self.error.show()
            self.restore_button.setFocus()
        self.finished_restore.emit(error)

    def _show_counts(self, result: RestoreResult) -> None:
        self.counts.setRowCount(len(result.tables))
        for row, count in enumerate(result.tables):
            cells = [
                QTableWidgetItem(count.table),
                QTableWidgetItem(f"{count.in_backup:,}"),
                QTableWidgetItem(f"{count.restored:,}" + ("" if count.matches else "  ≠")),
            ]
            for column, cell in enumerate(cells):
                if column:
                    cell.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.counts.setItem(row, column, cell)
        self.counts.resizeColumnsToContents()

    def _field_error(self, label: QLabel, field: QLineEdit, message: str) -> None:
        label.setText(message)
        label.show()
        field.setFocus()
        field.selectAll()

    def _finish(self) -> None:
        self.running = False
        self.progress.hide()
        self._set_enabled(True)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.path_edit, self.choose_button, self.name_edit, self.restore_button):
            widget.setEnabled(enabled)
