"""Export a list or report as the user sees it, to CSV or XLSX, off the GUI thread.

"As the user sees it": the model's query (search, filters, sort), the columns in the
header's visual order without the hidden ones, and each cell as the column displays it.
A `PagedTableModel` is read again through its source, page by page on a worker (the view
holds only the pages scrolled to, or blocks of a sparse list); any other model is small
and in memory, and its texts are taken as they are. A progress dialog with Cancel stays
up meanwhile; the GUI thread is never blocked.

CSV files get the cell texts; XLSX files get typed cells: a `TypedColumn`'s `value`, or a
right-aligned (numeric) column's text read back as a number, else the text.

    job = export_table(window, runner, tab.model, tab.table, title="Orders")

From a File › Export… action: `export_table` asks for the file (the format follows the
extension or the chosen filter), returns the running `ExportJob`, or None when the user
cancelled the file dialog, and ends with the file saved message of ui/files.py.
`start_export` does the same for a file already chosen, without the messages.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Generic

from PySide6.QtCore import QAbstractItemModel, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QMessageBox,
    QProgressDialog,
    QTableView,
    QWidget,
)

from erpgo_desktop.errors import ErpError
from erpgo_desktop.export import ExportCancelled, Format, export_rows, format_for
from erpgo_desktop.ui import files
from erpgo_desktop.ui.list_model import MAX_FETCH, Column, ListSource, PagedTableModel, Row
from erpgo_desktop.ui.tasks import Progress, TaskRunner, user_message

XLSX_FILTER = "Excel workbook (*.xlsx)"
CSV_FILTER = "CSV, comma-separated (*.csv)"
_NUMBER = re.compile(r"^-?\d{1,3}(,\d{3})*(\.\d+)?$|^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class TypedColumn(Column[Row], Generic[Row]):
    """A column that also gives its typed value (a number, a date) for XLSX exports."""

    value: Callable[[Row], Any] | None = None


@dataclass(frozen=True)
class ExportPlan:
    """What an export writes: decided on the GUI thread, read on a worker."""

    headers: tuple[str, ...]
    #: The model's columns in the header's visual order (paged models), else None.
    columns: tuple[Column[Any], ...] | None
    source: ListSource | None
    query: Any
    #: A plain model's texts, already read (None for a paged model).
    texts: tuple[tuple[str, ...], ...] | None
    #: Rows expected (0: not known), for the progress bar.
    total: int
    page_size: int = MAX_FETCH
    #: Which of a plain model's columns are right-aligned, i.e. numbers.
    numeric: tuple[bool, ...] = ()

    def rows(self, typed: bool) -> Iterator[list[Any]]:
        """The rows to write, reading the source page by page."""
        if self.texts is not None:
            for texts in self.texts:
                yield [
                    _typed_text(text) if typed and numeric else text
                    for text, numeric in zip(texts, self.numeric, strict=True)
                ]
            return
        assert self.source is not None and self.columns is not None
        after: Any = None
        while True:
            page = self.source.fetch_page(self.query, after, self.page_size)
            for row in page.rows:
                yield [cell(column, row, typed) for column in self.columns]
            if not page.has_more or not page.rows:
                return
            after = page.next_cursor


def visible_columns(view: QTableView) -> list[int]:
    """The model's column numbers in the order the header shows them, hidden ones left out."""
    header = view.horizontalHeader()
    shown = []
    for visual in range(header.count()):
        logical = header.logicalIndex(visual)
        if not header.isSectionHidden(logical):
            shown.append(logical)
    return shown


def plan_export(
    model: QAbstractItemModel, view: QTableView, *, page_size: int = MAX_FETCH
) -> ExportPlan:
    """What exporting `model` as `view` shows it would write."""
    order = visible_columns(view)
    headers = tuple(
        str(model.headerData(number, Qt.Orientation.Horizontal) or "") for number in order
    )
    if isinstance(model, PagedTableModel):
        count = model.count
        total = count.count if count is not None and count.exact else 0
        return ExportPlan(
            headers=headers,
            columns=tuple(model.columns[number] for number in order),
            source=model.source,
            query=model.query,
            texts=None,
            total=total,
            page_size=page_size,
        )
    texts = tuple(
        tuple(_text(model.index(row, number).data()) for number in order)
        for row in range(model.rowCount())
    )
    numeric = tuple(_right_aligned(model, number) for number in order)
    return ExportPlan(headers, None, None, None, texts, len(texts), page_size, numeric)


def cell(column: Column[Any], row: Any, typed: bool) -> Any:
    """A cell as written: the column's text, or for XLSX its typed value."""
    text = column.display(row)
    if not typed:
        return text
    value = getattr(column, "value", None)
    if value is not None:
        return value(row)
    return _typed_text(text) if column.align_right else text


class ExportJob(QObject):
    """One export under way: its progress dialog, its worker, its outcome."""

    #: The file written and the rows in it.
    finished = Signal(str, int)
    #: A message for the user; no file was written.
    failed = Signal(str)
    #: The user cancelled; no file was written.
    cancelled = Signal()

    def __init__(
        self,
        parent: QWidget | None,
        runner: TaskRunner,
        plan: ExportPlan,
        path: Path,
        *,
        sheet_title: str = "Export",
    ) -> None:
        super().__init__(parent)
        self.plan = plan
        self.path = path
        self.format: Format = format_for(path)
        self._stop = threading.Event()
        self.done = False
        self.dialog = QProgressDialog(
            f"Exporting to {path.name}…", "&Cancel", 0, plan.total, parent
        )
        self.dialog.setWindowTitle("Export")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.setMinimumDuration(0)
        self.dialog.canceled.connect(self.cancel)
        self.dialog.rejected.connect(self.cancel)  # Escape
        self._runner = runner
        self._sheet_title = sheet_title
        #: The "file saved" message shown when it is done (export_table).
        self.saved_message: QMessageBox | None = None

    def start(self) -> None:
        self.dialog.show()
        plan, path, stop, kind, title = (
            self.plan, self.path, self._stop, self.format, self._sheet_title
        )  # fmt: skip

        def work(progress: Progress) -> int | None:
            try:
                return export_rows(
                    path,
                    plan.headers,
                    plan.rows(typed=kind == "xlsx"),
                    format=kind,
                    progress=lambda written: progress("", written, plan.total),
                    cancelled=stop.is_set,
                    sheet_title=title,
                )
            except ExportCancelled:
                return None
            except OSError as error:
                reason = error.strerror or str(error)
                raise ErpError(f"{path} could not be written: {reason}.") from error

        self._runner.run_with_progress(work, self._finished, self._failed, self._progress)

    def cancel(self) -> None:
        """Stop at the next rows; the partial file is removed."""
        if not self.done:
            self._stop.set()
            self.dialog.setLabelText("Cancelling…")

    def _progress(self, _message: str, written: int, total: int) -> None:
        if self.done:
            return
        if total and written <= total:
            self.dialog.setValue(written)
        self.dialog.setLabelText(f"Exporting to {self.path.name}… {written:,} rows")

    def _finished(self, written: int | None) -> None:
        self._close()
        if written is None:
            self.cancelled.emit()
        else:
            self.finished.emit(str(self.path), written)

    def _failed(self, error: BaseException) -> None:
        self._close()
        self.failed.emit(user_message(error))

    def _close(self) -> None:
        self.done = True
        self.dialog.canceled.disconnect(self.cancel)
        self.dialog.close()


def start_export(
    parent: QWidget | None,
    runner: TaskRunner,
    model: QAbstractItemModel,
    view: QTableView,
    path: str | Path,
    *,
    sheet_title: str = "Export",
    page_size: int = MAX_FETCH,
) -> ExportJob:
    """Export what `view` shows of `model` to `path` (CSV or XLSX by its extension)."""
    plan = plan_export(model, view, page_size=page_size)
    job = ExportJob(parent, runner, plan, Path(path), sheet_title=sheet_title)
    job.start()
    return job


def export_table(
    parent: QWidget,
    runner: TaskRunner,
    model: QAbstractItemModel,
    view: QTableView,
    *,
    title: str = "Export",
) -> ExportJob | None:
    """Ask for a file (ui/files.py: starting in the folder used last), then export; the
    outcome is a message over `parent`: the file written, with Open and Show in folder,
    or why nothing was."""
    path = files.ask_save_path(
        parent, f"Export {title}", f"{title}.xlsx", f"{XLSX_FILTER};;{CSV_FILTER}"
    )
    if path is None:
        return None
    if path.suffix.lower() not in (".xlsx", ".csv"):
        # "Orders.2026" typed: the name keeps its dot, the format is the default one.
        path = path.with_name(path.name + ".xlsx")
    job = start_export(parent, runner, model, view, path, sheet_title=title)
    job.failed.connect(lambda message: QMessageBox.warning(parent, "Export", message))

    def done(written_to: str, rows: int) -> None:
        job.saved_message = files.show_saved(
            parent,
            Path(written_to),
            f"Exported {rows:,} rows to {Path(written_to).name}.",
            title="Export finished",
        )

    job.finished.connect(done)
    return job


def table_view_of(widget: QWidget) -> QAbstractItemView | None:
    """The table a tab shows (its `table` attribute), for a File › Export… action."""
    table = getattr(widget, "table", None)
    return table if isinstance(table, QAbstractItemView) else None


def _right_aligned(model: QAbstractItemModel, column: int) -> bool:
    alignment = model.headerData(
        column, Qt.Orientation.Horizontal, Qt.ItemDataRole.TextAlignmentRole
    )
    if alignment is None and model.rowCount() > 0:
        alignment = model.index(0, column).data(Qt.ItemDataRole.TextAlignmentRole)
    if alignment is None:
        return False
    if isinstance(alignment, Qt.AlignmentFlag):
        return bool(alignment & Qt.AlignmentFlag.AlignRight)
    try:
        return bool(Qt.AlignmentFlag(int(alignment)) & Qt.AlignmentFlag.AlignRight)
    except (TypeError, ValueError):
        return False


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _typed_text(text: str) -> Any:
    """A displayed number as a number ("1,234.50" → Decimal, "12" → int); else the text."""
    stripped = text.strip()
    if not stripped:
        return None
    if not _NUMBER.match(stripped):
        return text
    plain = stripped.replace(",", "")
    try:
        return int(plain) if "." not in plain else Decimal(plain)
    except (ValueError, InvalidOperation):
        return text
