"""Reading spreadsheets to import: CSV or XLSX into a header and rows of text, and which
column feeds which field (products, customers, stock counts).

Qt-free and database-free: the import dialog reads here on a worker thread, the import
service (`services/importing.py`) turns the text into drafts and checks them with the
domain rules.

Every value is read as text (XLSX numbers and dates converted the way a person reads them),
so a CSV and an XLSX of the same data give the same rows and the rules parse them once.
Rows keep the spreadsheet's own row number (the header is line 1), so an error names the
line the user sees in their spreadsheet program; blank rows are skipped but still counted.

CSV files may be UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark
(Excel's "Unicode text"), or else Windows-1252 (Excel's "CSV" on Western Windows); the
delimiter (comma, semicolon, tab or bar) is sniffed from the start of the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, overload

from erpgo_desktop.errors import ValidationError

__all__ = [
    "IMPORT_KINDS",
    "KIND_TITLES",
    "ColumnMapping",
    "ImportField",
    "Sheet",
    "SheetRow",
    "fields_of",
    "guess_mapping",
    "missing_required",
    "read_csv",
    "read_file",
    "read_xlsx",
]

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
_DELIMITERS = ",;\t|"
_SNIFF_BYTES = 64 * 1024

#: field name -> column index in the sheet (None: the field is not imported).
ColumnMapping = dict[str, int | None]


@dataclass(frozen=True)
class SheetRow:
    #: The spreadsheet's row number (the header is line 1).
    line: int
    values: tuple[str, ...]

    def value(self, column: int | None) -> str:
        """The cell in `column`, stripped; "" for no column or a short row."""
        if column is None or column >= len(self.values):
            return ""
        return self.values[column].strip()


@dataclass(frozen=True)
class Sheet:
    headers: tuple[str, ...]
    rows: Sequence[SheetRow]


class SpooledRows(Sequence[SheetRow]):
    """A file's data rows, kept on disk rather than in memory: the file is read once into a
    temporary file of plain UTF-8 CSV (the line number, then the cells), and every walk over
    the rows reads that again. A file of any size then costs the memory of one row, and
    the later walks (the check, the import) are as fast for an XLSX as for a CSV.

    Indexing walks from the start: fine for a preview, not for random access."""

    def __init__(self, records: Iterable[tuple[int, tuple[str, ...]]]) -> None:
        handle, name = tempfile.mkstemp(prefix="erpgo-import-", suffix=".csv")
        self._path = Path(name)
        # Removed with this object, or at exit at the latest.
        self._remove = weakref.finalize(self, self._path.unlink, missing_ok=True)
        count = 0
        with open(handle, "w", encoding="utf-8", newline="") as spool:
            writer = csv.writer(spool)
            for line, values in records:
                writer.writerow((line, *values))
                count += 1
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[SheetRow]:
        with self._path.open(encoding="utf-8", newline="") as spool:
            for record in csv.reader(spool):
                yield SheetRow(int(record[0]), tuple(record[1:]))

    @overload
    def __getitem__(self, index: int) -> SheetRow: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[SheetRow]: ...

    def __getitem__(self, index: int | slice) -> SheetRow | Sequence[SheetRow]:
        if isinstance(index, slice):
            if any(bound is not None and bound < 0 for bound in (index.start, index.stop)):
                return tuple(self)[index]
            return tuple(itertools.islice(self, index.start, index.stop, index.step))
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        return next(itertools.islice(self, index, None))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return len(other) == self._count and all(
                a == b for a, b in zip(self, other, strict=True)
            )
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


# --- reading ------------------------------------------------------------------------------


def read_file(path: str | Path) -> Sheet:
    """A CSV or XLSX file by its name's ending."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return read_xlsx(path)
    if suffix in CSV_SUFFIXES:
        return read_csv(path)
    raise ValidationError(
        f"{path.name} is neither a CSV file (.csv, .txt, .tsv) nor an Excel workbook (.xlsx).",
        field="file",
    )


def read_csv(source: str | Path | bytes) -> Sheet:
    """The file read as it streams past: its encoding found as it is decoded (UTF-8 first,
    Windows-1252 if UTF-8 fails somewhere), its dialect sniffed from its start."""

    def binary() -> IO[bytes]:
        if isinstance(source, bytes):
            return io.BytesIO(source)
        try:
            return Path(source).open("rb")
        except OSError as exc:
            message = f"{Path(source).name} cannot be read: {exc.strerror}."
            raise ValidationError(message, field="file") from None

    with binary() as start:
        head = start.read(_SNIFF_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            return _read_csv_as(binary, encoding, head)
        except UnicodeDecodeError:
            continue
    raise ValidationError(
        "The file's text is neither UTF-8 nor Windows-1252; save it as CSV UTF-8.",
        field="file",
    )


def _read_csv_as(binary: Callable[[], IO[bytes]], encoding: str, head: bytes) -> Sheet:
    sample = head.decode(encoding, errors="ignore")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            sample, delimiters=_DELIMITERS
        )
    except csv.Error:
        dialect = csv.excel  # one column, or too little to tell: commas

    def records() -> Iterator[tuple[str, ...]]:
        with binary() as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as text:
            try:
                yield from (tuple(record) for record in csv.reader(text, dialect))
            except csv.Error as exc:
                message = f"The file is not a readable CSV file: {exc}."
                raise ValidationError(message, field="file") from None

    return _sheet(records(), first_line=1)


def read_xlsx(path: str | Path) -> Sheet:
    """The first worksheet; formulas as their last computed values."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook  # loaded when an XLSX is read, not with the app
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ValidationError(
            f"{Path(path).name} cannot be read as an Excel workbook ({exc}).", field="file"
        ) from None
    try:
        sheet = workbook.worksheets[0]
        # min_row=1 so that the numbering is the sheet's even when its first rows are empty;
        # read-only sheets yield empty tuples for missing rows, which keeps the count.
        rows = sheet.iter_rows(min_row=1, values_only=True)
        return _sheet((tuple(_cell_text(v) for v in row) for row in rows), first_line=1)
    finally:
        workbook.close()


def _sheet(records: Iterable[tuple[str, ...]], *, first_line: int) -> Sheet:
    numbered = enumerate(records, start=first_line)
    headers: tuple[str, ...] | None = None
    for _, record in numbered:
        if any(cell.strip() for cell in record):
            headers = tuple(cell.strip() for cell in record)
            break
    if headers is None:
        raise ValidationError("The file is empty: it needs a header row.", field="file")
    # Blank rows are skipped but keep their numbers, so that lines are the sheet's own.
    rows = SpooledRows(
        (line, record) for line, record in numbered if any(cell.strip() for cell in record)
    )
    width = len(headers)
    while width and not headers[width - 1]:
        width -= 1  # trailing empty header cells (a sheet formatted further right)
    return Sheet(headers[:width], rows)


def _cell_text(value: object) -> str:
    """A cell as the person sees it: 12 not 12.0, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # repr gives the shortest text that reads back as the same float: 19.99, not
        # 19.989999999999998.
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time() else value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# --- what can be imported -----------------------------------------------------------------


@dataclass(frozen=True)
class ImportField:
    name: str
    label: str
    required: bool = False
    #: Other header names that mean this field (compared as `_normalized`).
    synonyms: tuple[str, ...] = ()


def _f(name: str, label: str, *synonyms: str, required: bool = False) -> ImportField:
    return ImportField(name, label, required, synonyms)


# fmt: off
IMPORT_KINDS: Mapping[str, tuple[ImportField, ...]] = {
    "products": (
        _f("sku", "SKU", "item code", "article", "article number", "product code", "code",
           "item number", "part number", required=True),
        _f("name", "Name", "product name", "title", "product", "item name", required=True),
        _f("category", "Category", "category path", "category name", "group",
           "product group", required=True),
        _f("price", "Price", "sales price", "selling price", "unit price", "list price",
           required=True),
        _f("cost", "Cost", "cost price", "purchase price", "unit cost"),
        _f("description", "Description", "long description"),
        _f("short_description", "Short description", "summary"),
        _f("barcode", "Barcode", "ean", "upc", "gtin", "ean13"),
        _f("weight", "Weight", "weight kg"),
        _f("dimensions", "Dimensions", "size"),
        _f("length", "Length"),
        _f("width", "Width"),
        _f("height", "Height"),
        _f("volume", "Volume"),
        _f("track_inventory", "Track inventory", "track stock", "stocked"),
        _f("min_stock_level", "Minimum stock level", "min stock", "minimum stock",
           "reorder level", "min"),
        _f("max_stock_level", "Maximum stock level", "max stock", "maximum stock", "max"),
        _f("allow_backorder", "Allow backorder", "backorder", "backorders"),
        _f("requires_shipping", "Requires shipping", "shipping", "ships"),
        _f("taxable", "Taxable"),
        _f("tax_rate", "Tax rate", "tax", "vat", "vat rate", "tax percent"),
        _f("is_featured", "Featured"),
        _f("is_digital", "Digital"),
        _f("download_url", "Download URL", "download link", "url"),
        _f("max_downloads", "Maximum downloads", "max downloads", "downloads"),
        _f("expiry_days", "Download expiry days", "expiry days", "expires after days"),
    ),
    "customers": (
        _f("customer_code", "Customer code", "code", "customer number", "customer no",
           "customer id", "account", "account number"),
        _f("first_name", "First name", "firstname", "given name", "forename", required=True),
        _f("last_name", "Last name", "lastname", "surname", "family name", required=True),
        _f("email", "Email", "e-mail", "email address", "e-mail address", "mail",
           required=True),
        _f("company", "Company", "company name", "organisation", "organization", "business"),
        _f("phone", "Phone", "telephone", "phone number", "tel", "mobile"),
        _f("type", "Type", "customer type"),
        _f("status", "Status"),
        _f("credit_limit", "Credit limit", "credit", "limit"),
        _f("tax_exempt", "Tax exempt", "tax exemption", "exempt"),
        _f("notes", "Notes", "note", "comment", "comments", "remarks"),
        # The billing address (the customer's Addresses page); all of it optional.
        _f("billing_address1", "Street", "street", "address", "address 1", "address line 1",
           "street address", "billing address", "billing street"),
        _f("billing_address2", "Street (2)", "address 2", "address line 2", "street 2"),
        _f("billing_city", "City", "town", "billing city"),
        _f("billing_state", "State", "region", "province", "county", "billing state"),
        _f("billing_postal_code", "Postal code", "zip", "zip code", "postcode", "post code",
           "postal", "billing postal code", "billing zip"),
        _f("billing_country", "Country", "billing country"),
    ),
    "stock_counts": (
        _f("sku", "SKU", "item code", "article", "product code", "code", "variant sku",
           "item", "product", required=True),
        _f("warehouse", "Warehouse code", "warehouse", "location", "store", "depot",
           "wh", required=True),
        _f("counted", "Counted quantity", "counted", "count", "quantity", "qty",
           "on hand", "stock", "physical count", required=True),
        _f("note", "Note", "notes", "comment", "remark"),
    ),
}
# fmt: on

KIND_TITLES: Mapping[str, str] = {
    "products": "products",
    "customers": "customers",
    "stock_counts": "stock counts",
}


def fields_of(kind: str) -> tuple[ImportField, ...]:
    try:
        return IMPORT_KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown import kind {kind!r}") from None


_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def _normalized(header: str) -> str:
    """'E-Mail Address ' and 'email_address' alike: lower case, letters and digits only."""
    return _NOT_ALNUM.sub("", header.casefold())


def guess_mapping(kind: str, headers: Sequence[str]) -> ColumnMapping:
    """Each field of `kind` with the column whose header names it (its name, its label or
    a synonym, ignoring case, spaces and punctuation), or None. A column feeds one field:
    exact names and labels are matched first, synonyms after, in the order of the fields."""
    columns: dict[str, int] = {}
    for index, header in enumerate(headers):
        columns.setdefault(_normalized(header), index)
    mapping: ColumnMapping = {}
    used: set[int] = set()
    fields = fields_of(kind)
    for pass_synonyms in (False, True):
        for field in fields:
            if mapping.get(field.name) is not None:
                continue
            names = field.synonyms if pass_synonyms else (field.name, field.label)
            mapping[field.name] = None
            for name in names:
                column = columns.get(_normalized(name))
                if column is not None and column not in used:
                    mapping[field.name] = column
                    used.add(column)
                    break
    return mapping


def missing_required(kind: str, mapping: Mapping[str, int | None]) -> tuple[ImportField, ...]:
    """The required fields no column feeds."""
    return tuple(f for f in fields_of(kind) if f.required and mapping.get(f.name) is None)
