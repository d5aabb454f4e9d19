"""Rows out to a spreadsheet: CSV or XLSX, written as they come, with progress and cancel.

Qt-free: the screens hand over a header and an iterable of rows (each a sequence of
cells) and call this on a worker thread. Nothing is held in memory but the row being
written, so a million rows cost what ten do, in memory at least.

Choices:

- CSV is UTF-8 *with* a byte-order mark, comma-separated, every line ending CRLF (the
  csv module's dialect). Excel, which most of our users open CSV files with, reads
  accented names and the euro sign right only with the mark; LibreOffice, Python and
  pandas skip it. Cells are written as given: the screens pass the texts the user sees
  (thousands separators and all), so the file reads back equal to the view.
- XLSX keeps types: ints and Decimals are numbers (Decimals with two places shown as
  money, `#,##0.00`), dates and datetimes are dates (Excel has no time zones: an aware
  datetime is written in the workstation's local time), booleans are booleans, None an
  empty cell, anything else its text. openpyxl's write-only mode streams the sheet to disk.
- A file is written beside its destination under a temporary name and renamed over it at
  the end (`os.replace`, atomic on one file system): a cancelled or failed export leaves
  no partial file behind, and an existing file stays as it was until the new one is whole.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Literal

Format = Literal["csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx")
#: progress(rows written so far)
ExportProgress = Callable[[int], None]
#: Rows written between two progress reports (and cancel checks).
PROGRESS_EVERY = 200
MONEY_FORMAT = "#,##0.00"
INTEGER_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
#: Excel's widest column; wider texts are cut off on screen, not in the file.
MAX_COLUMN_WIDTH = 60


class ExportCancelled(Exception):
    """The user cancelled; nothing was written."""


def format_for(path: str | Path) -> Format:
    """The format a file name asks for by its extension (anything but .xlsx is CSV)."""
    return "xlsx" if Path(path).suffix.lower() == ".xlsx" else "csv"


def export_rows(
    path: str | Path,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    format: Format | None = None,
    progress: ExportProgress | None = None,
    cancelled: Callable[[], bool] | None = None,
    sheet_title: str = "Export",
) -> int:
    """Write `headers` and `rows` to `path` (format from its extension unless given);
    returns the number of rows written. Raises ExportCancelled when `cancelled()` turns
    true, leaving no file (and an existing file at `path` untouched)."""
    target = Path(path)
    kind = format or format_for(target)
    if kind not in FORMATS:
        raise ValueError(f"unknown export format {kind!r}")
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            if kind == "csv":
                written = _write_csv(stream, headers, rows, progress, cancelled)
            else:
                written = _write_xlsx(stream, headers, rows, progress, cancelled, sheet_title)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written


def csv_text(value: Any) -> str:
    """How a typed cell reads in a CSV file (texts stay as they are)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return f"{_local(value):%Y-%m-%d %H:%M:%S}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _counted(
    rows: Iterable[Sequence[Any]],
    progress: ExportProgress | None,
    cancelled: Callable[[], bool] | None,
) -> Iterable[Sequence[Any]]:
    """`rows`, reporting progress and checking for a cancel every PROGRESS_EVERY rows."""
    written = 0
    for row in rows:
        if written % PROGRESS_EVERY == 0:
            if cancelled is not None and cancelled():
                raise ExportCancelled()
            if progress is not None and written:
                progress(written)
        yield row
        written += 1
    if cancelled is not None and cancelled():
        raise ExportCancelled()
    if progress is not None:
        progress(written)


def _write_csv(
    stream: BinaryIO,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    progress: ExportProgress | None,
    cancelled: Callable[[], bool] | None,
) -> int:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(headers)
    written = 0
    for row in _counted(rows, progress, cancelled):
        writer.writerow([csv_text(value) for value in row])
        written += 1
    text.flush()
    text.detach()
    return written


def _write_xlsx(
    stream: BinaryIO,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    progress: ExportProgress | None,
    cancelled: Callable[[], bool] | None,
    sheet_title: str,
) -> int:
    # openpyxl is loaded when a workbook is written, not with the program: it is a tenth
    # of the imports a start-up waits for.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(sheet_title))
    sheet.freeze_panes = "A2"
    for number, title in enumerate(headers, start=1):
        width = min(max(len(title) + 4, 12), MAX_COLUMN_WIDTH)
        sheet.column_dimensions[get_column_letter(number)].width = width
    bold = Font(bold=True)
    header_cells = []
    for title in headers:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    written = 0
    try:
        for row in _counted(rows, progress, cancelled):
            sheet.append([_xlsx_cell(sheet, value, WriteOnlyCell) for value in row])
            written += 1
    except BaseException:
        _discard(sheet)
        raise
    workbook.save(stream)
    return written


def _discard(sheet: Any) -> None:
    """Close a write-only sheet given up half-way and remove the temporary file openpyxl
    streams it to (else it lingers until the process ends, and its writer complains)."""
    with contextlib.suppress(Exception):
        sheet.close()
    writer = getattr(sheet, "_writer", None)
    if writer is not None:
        with contextlib.suppress(Exception):
            writer.cleanup()


def _xlsx_cell(sheet: Any, value: Any, cell_type: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        cell = cell_type(sheet, value=value)
        cell.number_format = INTEGER_FORMAT
        return cell
    if isinstance(value, Decimal | float):
        cell = cell_type(sheet, value=value)
        cell.number_format = MONEY_FORMAT
        return cell
    if isinstance(value, datetime):
        cell = cell_type(sheet, value=_local(value).replace(tzinfo=None))
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = cell_type(sheet, value=datetime.combine(value, time.min))
        cell.number_format = DATE_FORMAT
        return cell
    return str(value)


def _local(value: datetime) -> datetime:
    return value.astimezone() if value.tzinfo is not None else value


def _sheet_title(title: str) -> str:
    """A title Excel accepts: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()
    return (cleaned or "Export")[:31]
