"""Import products, customers or stock counts from a CSV or XLSX file.

Choose the file; the dialog guesses which column feeds which field (change any with its
combo box), shows the first rows, and Check runs the import as a dry run: every bad line
is listed with its line number, the field and the reason. Import is enabled only after a
check of the same file, mapping and options found no bad line, and then writes every row
in one transaction (or none: a row refused at that moment is listed like the others).

Reading the file and both runs happen on a worker; a bar shows the progress.

    dialog = ImportDialog(services, runner, acting, "products", parent=window)
    dialog.imported.connect(lambda result: window.reload_products())
    dialog.open()

Keys: Alt+F chooses a file; Alt+C checks and Alt+I imports (Enter presses whichever comes
next); Tab walks the mapping, the option and the lists; Escape closes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
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

from erpgo_desktop.imports import (
    KIND_TITLES,
    ColumnMapping,
    Sheet,
    fields_of,
    guess_mapping,
    missing_required,
    read_file,
)
from erpgo_desktop.services import Services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.importing import ImportResult
from erpgo_desktop.ui import files
from erpgo_desktop.ui.column_fit import ColumnFitter, Fit
from erpgo_desktop.ui.forms import alive
from erpgo_desktop.ui.tasks import TaskRunner, user_message
from erpgo_desktop.ui.widgets import WrappingItemDelegate, error_label
from erpgo_desktop.ui.window_fit import fit_to_content

__all__ = ["ImportDialog"]

PREVIEW_ROWS = 20
NOT_IMPORTED = "(not imported)"
FILE_FILTER = "Spreadsheets (*.csv *.xlsx *.xlsm *.txt *.tsv);;All files (*)"


class ImportDialog(QDialog):
    #: The ImportResult of an import that wrote its rows (not of a check).
    imported = Signal(object)
    #: A file was read (or failed to be): for tests and for a caller that waits.
    file_loaded = Signal()
    #: The ImportResult of a check or an import, whatever it found.
    finished_run = Signal(object)

    def __init__(
        self,
        services: Services,
        runner: TaskRunner,
        acting: CurrentUser,
        kind: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.window_fitter = fit_to_content(self)  # grows to what it shows
        self._services = services
        self._runner = runner
        self._acting = acting
        self._kind = kind
        self._fields = fields_of(kind)
        self._sheet: Sheet | None = None
        self._path: Path | None = None
        #: (path, mapping, update) of the last clean check; Import needs the same.
        self._clean_state: tuple[object, ...] | None = None
        self._busy = False
        self.setWindowTitle(f"Import {KIND_TITLES[kind]}")
        self.resize(900, 680)

        self.path_edit = QLineEdit()
        self.path_edit.setReadOnly(True)
        self.path_edit.setPlaceholderText("No file chosen")
        self.choose_button = QPushButton("Choose &file…")
        self.choose_button.clicked.connect(self.choose_file)
        self.file_error = error_label()

        self.mapping_table = QTableWidget(len(self._fields), 2)
        self.mapping_table.setHorizontalHeaderLabels(["Field", "Column in the file"])
        self.mapping_table.verticalHeader().hide()
        self.mapping_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.mapping_table.horizontalHeader().setStretchLastSection(True)
        self.mapping_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.mapping_table.setTabKeyNavigation(False)
        self._combos: dict[str, QComboBox] = {}
        for row, field in enumerate(self._fields):
            label = f"{field.label} *" if field.required else field.label
            item = QTableWidgetItem(label)
            item.setToolTip("Required" if field.required else "Optional")
            self.mapping_table.setItem(row, 0, item)
            combo = QComboBox()
            combo.setAccessibleName(field.label)
            combo.currentIndexChanged.connect(self._changed)
            self.mapping_table.setCellWidget(row, 1, combo)
            self._combos[field.name] = combo
        self.mapping_label = QLabel("&Columns (* required):")
        self.mapping_label.setBuddy(self.mapping_table)
        self.mapping_error = error_label()

        self.preview = QTableWidget()
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setTabKeyNavigation(False)
        # One line a row; the file's columns share the width, whole where there is room,
        # and a value that is cut shows whole as its tooltip.
        self.preview.setWordWrap(False)
        self.preview_fitter = ColumnFitter(self.preview, lambda _column: Fit.TEXT)
        preview_label = QLabel(f"&Preview (the first {PREVIEW_ROWS} rows):")
        preview_label.setBuddy(self.preview)

        self.update_existing = QCheckBox(self._update_text())
        self.update_existing.toggled.connect(self._changed)
        # A count always replaces what was on hand: there is nothing to choose.
        self.update_existing.setVisible(kind != "stock_counts")

        self.errors_table = QTableWidget(0, 3)
        self.errors_table.setHorizontalHeaderLabels(["Line", "Field", "Problem"])
        self.errors_table.verticalHeader().hide()
        self.errors_table.horizontalHeader().setStretchLastSection(True)
        self.errors_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.errors_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.errors_table.setTabKeyNavigation(False)
        self.errors_table.setWordWrap(True)
        self.errors_table.setItemDelegate(WrappingItemDelegate(self.errors_table))
        # Each problem whole: rows as tall as their wrapped message at the columns' widths.
        self.errors_table.horizontalHeader().sectionResized.connect(
            self.errors_table.resizeRowsToContents
        )
        errors_label = QLabel("&Problems found:")
        errors_label.setBuddy(self.errors_table)

        self.summary = QLabel("Choose a file to import.")
        self.summary.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.hide()

        self.check_button = QPushButton("&Check")
        self.check_button.clicked.connect(self.check)
        self.import_button = QPushButton("&Import")
        self.import_button.clicked.connect(self.run_import)
        buttons = QDialogButtonBox()
        buttons.addButton(self.check_button, QDialogButtonBox.ButtonRole.ActionRole)
        # Not AcceptRole: the dialog stays open after an import to show what it did.
        buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.reject)

        file_row = QHBoxLayout()
        file_row.addWidget(self.path_edit, 1)
        file_row.addWidget(self.choose_button)
        layout = QVBoxLayout(self)
        layout.addLayout(file_row)
        layout.addWidget(self.file_error)
        layout.addWidget(self.mapping_label)
        layout.addWidget(self.mapping_table, 2)
        layout.addWidget(self.mapping_error)
        layout.addWidget(preview_label)
        layout.addWidget(self.preview, 2)
        layout.addWidget(self.update_existing)
        layout.addWidget(errors_label)
        layout.addWidget(self.errors_table, 2)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addWidget(buttons)
        self._update_buttons()

    # -- the file ----------------------------------------------------------------------

    def choose_file(self) -> None:
        path = files.ask_open_path(self, f"Import {KIND_TITLES[self._kind]}", FILE_FILTER)
        if path is not None:
            self.load_file(path)

    def load_file(self, path: str | Path) -> None:
        """Read `path` on a worker; the mapping, preview and buttons follow when it is read."""
        path = Path(path)
        self.path_edit.setText(str(path))
        self.file_error.hide()
        self._set_busy(True, "Reading the file…")
        self._runner.run(
            lambda: read_file(path),
            lambda sheet: self._loaded(path, sheet),
            self._load_failed,
            owner=self,
        )

    def _loaded(self, path: Path, sheet: Sheet) -> None:
        if not alive(self):
            return
        self._set_busy(False)
        self._path, self._sheet = path, sheet
        self._fill_mapping(sheet, guess_mapping(self._kind, sheet.headers))
        self._fill_preview(sheet)
        self._show_errors(())
        rows = len(sheet.rows)
        self.summary.setText(
            f"{rows:,} row{'s' if rows != 1 else ''} in {path.name}. Check the columns, "
            "then press Check."
        )
        self._changed()
        self.file_loaded.emit()
        self.check_button.setFocus()

    def _load_failed(self, error: BaseException) -> None:
        if not alive(self):
            return
        self._set_busy(False)
        self._path = self._sheet = None
        self._fill_preview(Sheet((), ()))
        self.file_error.setText(user_message(error))
        self.file_error.show()
        self.summary.setText("Choose another file.")
        self._changed()
        self.choose_button.setFocus()
        self.file_loaded.emit()

    def _fill_mapping(self, sheet: Sheet, guess: ColumnMapping) -> None:
        names = [NOT_IMPORTED] + [
            f"{header or '(no header)'} (column {index + 1})"
            for index, header in enumerate(sheet.headers)
        ]
        for field in self._fields:
            combo = self._combos[field.name]
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(names[0], None)
            for index, text in enumerate(names[1:]):
                combo.addItem(text, index)
            column = guess.get(field.name)
            combo.setCurrentIndex(0 if column is None else column + 1)
            combo.blockSignals(False)

    def _fill_preview(self, sheet: Sheet) -> None:
        shown = sheet.rows[:PREVIEW_ROWS]
        self.preview.clear()
        self.preview.setColumnCount(len(sheet.headers))
        self.preview.setRowCount(len(shown))
        self.preview.setHorizontalHeaderLabels(list(sheet.headers))
        self.preview.setVerticalHeaderLabels([str(row.line) for row in shown])
        for r, row in enumerate(shown):
            for c in range(len(sheet.headers)):
                item = QTableWidgetItem(row.value(c))
                item.setToolTip(row.value(c))
                self.preview.setItem(r, c, item)

    # -- the mapping -------------------------------------------------------------------

    def mapping(self) -> ColumnMapping:
        return {name: combo.currentData() for name, combo in self._combos.items()}

    def set_column(self, field: str, column: int | None) -> None:
        """Choose the column of `field` (None: not imported), as the combo box does."""
        combo = self._combos[field]
        combo.setCurrentIndex(0 if column is None else column + 1)

    def _state(self) -> tuple[object, ...]:
        mapping = tuple(sorted(self.mapping().items()))
        return (self._path, id(self._sheet), mapping, self.update_existing.isChecked())

    def _changed(self, *_: object) -> None:
        if self._clean_state is not None and self._clean_state != self._state():
            self._clean_state = None
            self.summary.setText("The columns or options changed: check again before importing.")
        self._update_buttons()

    def _update_buttons(self) -> None:
        loaded = self._sheet is not None and not self._busy
        self.check_button.setEnabled(loaded)
        can_import = loaded and self._clean_state == self._state()
        self.import_button.setEnabled(can_import)
        self.import_button.setDefault(can_import)
        self.check_button.setDefault(loaded and not can_import)
        self.choose_button.setEnabled(not self._busy)
        self.mapping_table.setEnabled(not self._busy)
        self.update_existing.setEnabled(not self._busy)

    # -- checking and importing --------------------------------------------------------

    def check(self) -> None:
        self._start(dry_run=True)

    def run_import(self) -> None:
        if self._clean_state != self._state():
            return
        self._start(dry_run=False)

    def _start(self, *, dry_run: bool) -> None:
        sheet = self._sheet
        if sheet is None or self._busy:
            return
        mapping = self.mapping()
        missing = missing_required(self._kind, mapping)
        if missing:
            names = ", ".join(f.label for f in missing)
            self.mapping_error.setText(f"Choose a column for: {names}.")
            self.mapping_error.show()
            first = next(i for i, f in enumerate(self._fields) if f.name == missing[0].name)
            self._combos[missing[0].name].setFocus()
            self.mapping_table.scrollTo(self.mapping_table.model().index(first, 1))
            return
        self.mapping_error.hide()
        state = self._state()
        method = self._method()
        update = self.update_existing.isChecked()
        acting = self._acting
        self._set_busy(True, "Checking…" if dry_run else "Importing…")

        def work(progress: Callable[[str, int, int], None]) -> ImportResult:
            return method(
                acting,
                sheet.rows,
                mapping,
                update_existing=update,
                dry_run=dry_run,
                progress=progress,
            )

        self._runner.run_with_progress(
            work,
            lambda result: self._finished(result, state),
            self._failed,
            self._progressed,
            owner=self,
        )

    def _method(self) -> Callable[..., ImportResult]:
        imports = self._services.imports
        methods: dict[str, Callable[..., ImportResult]] = {
            "products": imports.import_products,
            "customers": imports.import_customers,
            "stock_counts": imports.import_stock_counts,
        }
        return methods[self._kind]

    def _progressed(self, message: str, done: int, total: int) -> None:
        if not alive(self):
            return
        self.progress.setFormat(f"{message}… %p%" if total else f"{message}…")
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _finished(self, result: ImportResult, state: tuple[object, ...]) -> None:
        if not alive(self):
            return
        self._set_busy(False)
        self._show_errors(result.errors)
        what = KIND_TITLES[self._kind]
        counts = _counts(result, self._kind)
        if result.errors:
            self._clean_state = None
            bad = len({e.line for e in result.errors})
            self.summary.setText(
                f"{bad:,} line{'s' if bad != 1 else ''} cannot be imported; nothing was "
                "written. Correct the file (or the columns) and check again."
            )
            self.errors_table.setFocus()
            self.errors_table.selectRow(0)
        elif result.dry_run:
            self._clean_state = state if state == self._state() else None
            self.summary.setText(f"No problems found. Importing would {counts}.")
            self.import_button.setFocus()
        else:
            self._clean_state = None
            self.summary.setText(f"Imported {what}: {_past(counts)}.")
            self.imported.emit(result)
        self._update_buttons()
        if not result.errors and result.dry_run:
            self.import_button.setFocus()
        self.finished_run.emit(result)

    def _failed(self, error: BaseException) -> None:
        if not alive(self):
            return
        self._set_busy(False)
        self._clean_state = None
        self.summary.setText(user_message(error))
        if getattr(error, "field", None) == "mapping":
            self.mapping_error.setText(user_message(error))
            self.mapping_error.show()
        self._update_buttons()

    def _show_errors(self, errors: Any) -> None:
        self.errors_table.setRowCount(len(errors))
        for row, error in enumerate(errors):
            line = QTableWidgetItem(str(error.line) if error.line else "")
            line.setData(Qt.ItemDataRole.UserRole, error.line)
            label = next((f.label for f in self._fields if f.name == error.field), error.field)
            self.errors_table.setItem(row, 0, line)
            self.errors_table.setItem(row, 1, QTableWidgetItem(label or ""))
            self.errors_table.setItem(row, 2, QTableWidgetItem(error.message))
        self.errors_table.resizeColumnToContents(0)
        self.errors_table.resizeColumnToContents(1)
        self.errors_table.resizeRowsToContents()

    def _set_busy(self, busy: bool, message: str = "") -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)
            self.progress.setFormat(message)
            self.summary.setText(message)
        self._update_buttons()

    def _update_text(self) -> str:
        keys = {"products": "SKU", "customers": "customer code or email address"}
        return f"&Update existing rows (found by {keys.get(self._kind, 'key')})"

    def error_lines(self) -> list[str]:
        """The problems as listed: 'Line 12, Price: The price must be more than 0.'"""
        lines = []
        for row in range(self.errors_table.rowCount()):
            cells = [self.errors_table.item(row, c) for c in range(3)]
            line, field, message = (cell.text() if cell else "" for cell in cells)
            where = f"Line {line}" if line else "File"
            lines.append(f"{where}, {field}: {message}" if field else f"{where}: {message}")
        return lines


def _counts(result: ImportResult, kind: str) -> str:
    if kind == "stock_counts":
        return (
            f"change {result.updated:,} stock level(s) and leave {result.unchanged:,} as they are"
        )
    return (
        f"add {result.created:,}, update {result.updated:,} and leave {result.unchanged:,} "
        "unchanged"
    )


def _past(counts: str) -> str:
    return (
        counts.replace("change ", "changed ", 1)
        .replace("add ", "added ", 1)
        .replace("update ", "updated ", 1)
        .replace("leave ", "left ", 1)
    )
