"""Importing products, customers and stock counts from a spreadsheet: all rows or none.

Each import is one unit of work. Every row is checked, with the same rules as the dialogs
(`domain.catalog.check_product`, `domain.customers.check_customer`, `domain.inventory` for
counts), against the references it names (categories, warehouses, products) and against
the other rows of the file and the rows in the database (SKUs, customer codes and email
addresses). Everything is written in one transaction, so a bad row anywhere, or a refusal
half-way (another workstation took a SKU a moment ago), rolls the whole file back and is
reported with its line; the checking goes on to the end of the file, so that every bad line
is named at once.

The file streams through in batches of `BATCH_ROWS` rows (`imports.SpooledRows` keeps it on
disk): each batch reads its existing SKUs (codes, emails) with one query and is checked
and, while no row has been bad, written: new rows with one COPY, changed ones with one
UPDATE. The writing of a batch runs on a second thread, on the transaction's own
connection, while this one parses and checks the next batch; the two hand the connection
over and never use it at once. Memory stays flat however long the file is; what grows
with it is a dictionary of the keys seen (SKUs, email addresses) to name duplicates by
line. `benchmarks/imports.py` measures 100,000 lines.

A dry run does the same checks in the same kind of transaction, writes nothing and rolls
back, so what it reports is what the import would meet.

Customers may bring their billing address (street, city, postal code, country, ...): a new
customer's needs street, city, postal code and country; an existing customer's is changed
in the columns the file gives. It is saved with the customer (a change moves the
customer's version), named after the customer, as the customer dialog does.

Updating existing rows (`update_existing`): products are found by SKU, customers by their
code when the file gives one, else by email address (ignoring case). Fields the mapping
leaves out and cells left blank keep the stored value; a new row takes the defaults of a
new record in the dialog. Without `update_existing`, a key that exists is an error on its
line. Customer codes are issued by the database: a code in the file only finds a customer.

Products name their category by its path ('/Electronics/Phones', the leading '/' may be
left out) or by its name when no other category has that name; categories are not
created by an import (make them in the category dialog first).

Stock counts name the product's or variant's SKU (a product's own SKU first; a variant SKU
that several products' variants share is ambiguous), the warehouse code and the counted
quantity; each count sets on hand through `StockLedger` with its ADJUST ledger row, as
`InventoryService.count` does.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import MISSING, dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import Annotated, Any, Protocol, get_type_hints

import psycopg
from psycopg import sql
from sqlalchemy import String, Table, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from erpgo_desktop import imports
from erpgo_desktop.db.models import (
    Customer,
    CustomerAddress,
    Product,
    ProductCategory,
    ProductInventory,
    ProductVariant,
    Warehouse,
)
from erpgo_desktop.domain import catalog as catalog_rules
from erpgo_desktop.domain import customers as customer_rules
from erpgo_desktop.domain import inventory as stock_rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.catalog import ProductDraft
from erpgo_desktop.domain.customers import CustomerAddresses, CustomerDraft
from erpgo_desktop.domain.orders import Address
from erpgo_desktop.domain.validation import NUL as _NUL
from erpgo_desktop.domain.validation import check_email, optional_text_input
from erpgo_desktop.errors import (
    ConflictError,
    ErpError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from erpgo_desktop.imports import SheetRow
from erpgo_desktop.services.arguments import CheckedInside
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.base import Service, require
from erpgo_desktop.services.customers import (
    check_credit_change,
    read_addresses,
    writable_fields,
)
from erpgo_desktop.services.stock import StockKey, StockLedger, share_rows

__all__ = ["ImportResult", "ImportService", "LineError", "Progress"]

#: progress(message, done, total), as ui/tasks.py passes it to work on a worker.
Progress = Callable[[str, int, int], None]
#: Rows checked, looked up and written together: large enough that a statement's own cost
#: vanishes, small enough that a batch's rows and their lookups stay a few megabytes.
BATCH_ROWS = 2_000
#: A file's rows: each cell is checked on its line (`_parse_rows`), so that a bad one is
#: reported with its line number and the other lines are still checked.
_FileRows = Annotated[Sequence[SheetRow], CheckedInside("cell by cell, reported by line")]
_CHECKED = "Checking rows"
_WRITING = "Importing rows"


@dataclass(frozen=True)
class LineError:
    """What is wrong with one line of the file (line 0: the file as a whole).

    Not called ImportError, which would hide Python's own exception of that name."""

    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"Line {self.line}" if self.line else "File"
        if self.field:
            return f"{where}, {self.field}: {self.message}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ImportResult:
    """What the import did (or, for a dry run or with errors, would do)."""

    created: int
    updated: int
    unchanged: int
    errors: tuple[LineError, ...] = ()
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        """Whether the database changed."""
        return self.ok and not self.dry_run and bool(self.created or self.updated)


class _Refused(Exception):
    """Raised inside the transaction to roll it back (bad rows, or a dry run)."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("import rolled back")
        self.result = result


@dataclass
class _Plan:
    """What the rows checked so far come to; `take` adds a batch and returns its writing."""

    errors: list[LineError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: A key value (SKU, email) -> its line, to name duplicates and to place a refusal at
    #: write time.
    lines_by_key: dict[str, int] = field(default_factory=dict)

    def fail(self, line: int, error: ErpError, rename: Mapping[str, str] | None = None) -> None:
        name = error.field
        if rename and name is not None:
            name = rename.get(name, name)
        self.errors.append(LineError(line, name, error.message))

    def result(self, dry_run: bool) -> ImportResult:
        errors = tuple(sorted(self.errors, key=lambda e: e.line))
        return ImportResult(self.created, self.updated, self.unchanged, errors, dry_run)


class ImportService(Service):
    def import_products(
        self,
        acting: CurrentUser,
        rows: _FileRows,
        mapping: Mapping[str, int | None],
        *,
        update_existing: bool,
        dry_run: bool,
        progress: Progress | None = None,
    ) -> ImportResult:
        require(acting, perms.PRODUCTS_WRITE)
        _check_mapping("products", mapping)
        return self._run(
            lambda: _parse_rows("products", rows, mapping, _PRODUCT_TYPES),
            lambda session: _ProductRows(session, acting, update_existing, dry_run),
            dry_run,
            progress,
            len(rows),
        )

    def import_customers(
        self,
        acting: CurrentUser,
        rows: _FileRows,
        mapping: Mapping[str, int | None],
        *,
        update_existing: bool,
        dry_run: bool,
        progress: Progress | None = None,
    ) -> ImportResult:
        require(acting, perms.CUSTOMERS_WRITE)
        _check_mapping("customers", mapping)
        return self._run(
            lambda: _parse_rows("customers", rows, mapping, _CUSTOMER_TYPES),
            lambda session: _CustomerRows(session, acting, update_existing, dry_run),
            dry_run,
            progress,
            len(rows),
        )

    def import_stock_counts(
        self,
        acting: CurrentUser,
        rows: _FileRows,
        mapping: Mapping[str, int | None],
        *,
        update_existing: bool = True,
        dry_run: bool,
        progress: Progress | None = None,
    ) -> ImportResult:
        """Set on hand to each counted quantity. `update_existing` is accepted for the same
        call shape as the others: a count always replaces what was on hand."""
        require(acting, perms.INVENTORY_COUNT)
        _check_mapping("stock_counts", mapping)
        return self._run(
            lambda: _parse_rows("stock_counts", rows, mapping, _COUNT_TYPES),
            lambda session: _CountRows(session, acting),
            dry_run,
            progress,
            len(rows),
        )

    def _run(
        self,
        parsed: Callable[[], Iterable[_Parsed]],
        start: Callable[[Session], _Rows],
        dry_run: bool,
        progress: Progress | None,
        total: int,
    ) -> ImportResult:
        lines_by_key: dict[str, int] = {}

        def work(session: Session) -> ImportResult:
            rows = start(session)
            plan = rows.plan
            # The same dictionary: a refusal at write time is placed by what was seen so far.
            lines_by_key.clear()
            plan.lines_by_key = lines_by_key
            done = 0
            # The server writes batch k while Python parses and checks batch k+1: one
            # thread hands the transaction's connection to the other, never both at once
            # (`written` is waited for before the next batch reads).
            with ThreadPoolExecutor(1, thread_name_prefix="import-writer") as writer:
                written: Future[None] | None = None
                write: Callable[[], None] | None = None
                # Walked again from the start if the transaction is run again (a deadlock).
                for batch in _batches(parsed(), BATCH_ROWS):
                    if written is not None:
                        written.result()  # a refusal of the server is raised here
                        written = None
                    # Nothing read for the last batch is needed again: keep the session small.
                    session.expunge_all()
                    check = rows.take(batch)
                    if write is not None:
                        written = writer.submit(write)
                    write = check()
                    if plan.errors or dry_run:
                        write = None
                    done += len(batch)
                    if progress is not None:
                        progress(_CHECKED if plan.errors or dry_run else _WRITING, done, total)
                if written is not None:
                    written.result()
                if write is not None and not plan.errors:
                    write()
            if plan.errors or dry_run:
                raise _Refused(plan.result(dry_run))
            return plan.result(dry_run)

        try:
            return self._write(work)
        except _Refused as refused:
            return refused.result
        except (ValidationError, ConflictError, NotFoundError) as error:
            line = _line_of(error, lines_by_key)
            return ImportResult(0, 0, 0, (LineError(line, error.field, error.message),), dry_run)


# --- reading the rows' text ---------------------------------------------------------------


@dataclass(frozen=True)
class _Parsed:
    line: int
    #: Fields given in this row (blank cells left out), as typed values.
    values: dict[str, Any]
    errors: tuple[LineError, ...]


def _check_mapping(kind: str, mapping: Mapping[str, int | None]) -> None:
    missing = imports.missing_required(kind, mapping)
    if missing:
        names = ", ".join(f.label for f in missing)
        raise ValidationError(f"Choose a column for: {names}.", field="mapping")
    known = {f.name for f in imports.fields_of(kind)}
    unknown = sorted(str(name) for name in set(mapping) - known)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(unknown)}.", field="mapping")
    for name, column in mapping.items():
        if column is not None and (
            isinstance(column, bool) or not isinstance(column, int) or column < 0
        ):
            raise ValidationError(
                f"The column of {name} is a column number from 0, not {column!r}.",
                field="mapping",
            )


_TRUE = frozenset({"true", "yes", "y", "1", "x", "on", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "off", "f", "-"})


def _parse_flag(text: str, name: str, label: str) -> bool:
    value = text.casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValidationError(f"{label} is yes or no (true/false, 1/0).", field=name)


def _parse_number(text: str, name: str, label: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError(f"{label} must be a number, such as 12.50.", field=name) from None
    if not value.is_finite():
        raise ValidationError(f"{label} must be a number, such as 12.50.", field=name)
    return value


def _types(draft: type) -> dict[str, type]:
    """Each field of a draft with the type its text is parsed to (str for text)."""
    hints = get_type_hints(draft)
    parsed: dict[str, type] = {}
    for name, hint in hints.items():
        parsed[name] = next((t for t in (bool, int, Decimal) if hint is t), str)
    return parsed


_PRODUCT_TYPES = {**_types(ProductDraft), "category": str}
_BILLING = "billing_"
_BILLING_FIELDS = tuple(
    f.name for f in imports.fields_of("customers") if f.name.startswith(_BILLING)
)
_CUSTOMER_TYPES = {
    **_types(CustomerDraft),
    "customer_code": str,
    **dict.fromkeys(_BILLING_FIELDS, str),
}
#: A refused address field as the import calls it: billing_address.city -> billing_city.
_BILLING_RENAME = {
    f"billing_address.{name.removeprefix(_BILLING)}": name for name in _BILLING_FIELDS
}
_COUNT_TYPES: dict[str, type] = {"sku": str, "warehouse": str, "counted": str, "note": str}


def _batches(items: Iterable[_Parsed], size: int) -> Iterator[list[_Parsed]]:
    batch: list[_Parsed] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _parse_rows(
    kind: str,
    rows: Iterable[SheetRow],
    mapping: Mapping[str, int | None],
    types: Mapping[str, type],
) -> Iterator[_Parsed]:
    labels = {f.name: f.label for f in imports.fields_of(kind)}
    columns = [
        (name, column, types.get(name, str), labels[name])
        for name, column in mapping.items()
        if column is not None
    ]
    for done, row in enumerate(rows):
        if not isinstance(row, SheetRow) or not isinstance(row.values, tuple | list):
            raise ValidationError(f"Row {done + 1} of the file was not read as a row of cells.")
        cells = row.values
        width = len(cells)
        values: dict[str, Any] = {}
        errors: list[LineError] = []
        for name, column, kind_of, label in columns:
            try:
                # Each cell is text as the domain takes it (no NUL, not None) before it is
                # parsed: a bad cell is an error on its line, the other lines go on.
                cell = cells[column] if column < width else None
                if type(cell) is str and _NUL not in cell:
                    text = cell.strip()  # what optional_text_input gives, a call less a cell
                else:
                    text = optional_text_input(cell, name, label)
                if not text:
                    continue
                if kind_of is str:
                    values[name] = text
                elif kind_of is bool:
                    values[name] = _parse_flag(text, name, label)
                elif kind_of is int:
                    values[name] = stock_rules.parse_whole(text, name, label)
                else:
                    values[name] = _parse_number(text, name, label)
            except ValidationError as error:
                errors.append(LineError(row.line, error.field, error.message))
        yield _Parsed(row.line, values, tuple(errors))


def _required(row: _Parsed, kind: str, plan: _Plan) -> bool:
    """Whether every required field has a value; the missing ones are errors."""
    complete = True
    for name, label in _REQUIRED[kind]:
        if name not in row.values:
            plan.errors.append(LineError(row.line, name, f"{label} is required."))
            complete = False
    return complete


_REQUIRED = {
    kind: tuple((f.name, f.label) for f in imports.fields_of(kind) if f.required)
    for kind in imports.IMPORT_KINDS
}


def _texts(column: Any, values: Iterable[str]) -> Any:
    """`column = ANY(:values)`: one parameter however many values (IN would take one each)."""
    return column == any_(bindparam(None, list(values), type_=ARRAY(String)))


_KEY_DETAIL = re.compile(r"\)=\((.*)\)")


def _line_of(error: ErpError, lines_by_key: Mapping[str, int]) -> int:
    """The line of the row a database refusal names ("Key (sku)=(A-1) already exists.")."""
    cause = error.__cause__
    if not isinstance(cause, DBAPIError):
        return 0
    detail = getattr(getattr(cause.orig, "diag", None), "message_detail", None) or ""
    found = _KEY_DETAIL.search(detail)
    if found is None:
        return 0
    key = found.group(1)
    return lines_by_key.get(key, lines_by_key.get(key.casefold(), 0))


# --- products -----------------------------------------------------------------------------

_PRODUCTS: Table = Product.__table__  # type: ignore[assignment]
_CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
_DRAFT_FIELDS = tuple(f.name for f in fields(ProductDraft))
_CUSTOMER_FIELDS = tuple(f.name for f in fields(CustomerDraft))
#: What a new customer's row gives: the draft, then the issued code, balance and updated_by.
_CUSTOMER_COLUMNS = (*_CUSTOMER_FIELDS, "customer_code", "balance", "updated_by")
_customer_values = attrgetter(*_CUSTOMER_FIELDS)
_PRODUCT_RENAMES = {"category_id": "category"}
#: What a new product's row gives, in this order: the draft, then is_active and updated_by.
_PRODUCT_COLUMNS = (*_DRAFT_FIELDS, "is_active", "updated_by")
#: A checked draft's values in the order of its fields, read in one call a row.
_draft_values = attrgetter(*_DRAFT_FIELDS)


@dataclass(frozen=True)
class _Category:
    id: uuid.UUID
    name: str
    path: str
    is_active: bool


class _Categories:
    """Categories by path and by name, to resolve what a row names."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(
            select(
                ProductCategory.id,
                ProductCategory.name,
                ProductCategory.path,
                ProductCategory.is_active,
            )
        ).all()
        self._by_path: dict[str, _Category] = {}
        self._by_name: dict[str, list[_Category]] = {}
        for row in rows:
            path = row.path or catalog_rules.category_path(None, row.name)
            category = _Category(row.id, row.name, path, row.is_active is not False)
            self._by_path[_path_key(path)] = category
            self._by_name.setdefault(row.name.casefold(), []).append(category)

    def find(self, named: str) -> uuid.UUID:
        if catalog_rules.CATEGORY_SEPARATOR in named:
            category = self._by_path.get(_path_key(named))
            if category is None:
                raise ValidationError(
                    f"There is no category {named!r}; create it first.", field="category"
                )
        else:
            found = self._by_name.get(named.casefold(), [])
            if not found:
                raise ValidationError(
                    f"There is no category named {named!r}; create it first.", field="category"
                )
            if len(found) > 1:
                paths = ", ".join(sorted(c.path for c in found))
                raise ValidationError(
                    f"Several categories are named {named!r} ({paths}); give the path.",
                    field="category",
                )
            category = found[0]
        if not category.is_active:
            raise ValidationError(
                f"The category {category.name!r} is inactive; choose another or reactivate it.",
                field="category",
            )
        return category.id


def _path_key(path: str) -> str:
    names = [n.strip().casefold() for n in path.split(catalog_rules.CATEGORY_SEPARATOR)]
    return catalog_rules.CATEGORY_SEPARATOR.join(n for n in names if n)


#: What a new product takes for the fields its row leaves blank (as the dialog starts).
_NEW_PRODUCT_DEFAULTS = {
    f.name: f.default for f in fields(ProductDraft) if f.default is not MISSING
}


class _Rows(Protocol):
    """One kind of import. `take` reads from the database what a batch of rows needs and
    returns the batch's check; the check reads nothing more (it runs while the previous
    batch is being written) and returns what writes the batch."""

    plan: _Plan

    def take(self, batch: list[_Parsed]) -> Callable[[], Callable[[], None]]: ...


class _ProductRows:
    def __init__(
        self, session: Session, acting: CurrentUser, update_existing: bool, dry_run: bool
    ) -> None:
        self.plan = _Plan()
        self._session, self._acting = session, acting
        self._update_existing, self._dry_run = update_existing, dry_run
        self._categories = _Categories(session)

    def take(self, batch: list[_Parsed]) -> Callable[[], Callable[[], None]]:
        return _plan_products(
            self._session,
            self._acting,
            batch,
            self._update_existing,
            self._dry_run,
            self.plan,
            self._categories,
        )


def _plan_products(
    session: Session,
    acting: CurrentUser,
    parsed: list[_Parsed],
    update_existing: bool,
    dry_run: bool,
    plan: _Plan,
    categories: _Categories,
) -> Callable[[], Callable[[], None]]:
    first_line = plan.lines_by_key
    batch_skus: list[str] = []
    rows: list[tuple[_Parsed, str]] = []
    for row in parsed:
        plan.errors.extend(row.errors)
        raw_sku = row.values.get("sku")
        if raw_sku is None:
            plan.errors.append(LineError(row.line, "sku", "SKU is required."))
            continue
        try:
            sku = catalog_rules.check_sku(raw_sku)
        except ValidationError as error:
            plan.fail(row.line, error)
            continue
        if sku in first_line:
            plan.errors.append(
                LineError(row.line, "sku", f"The SKU {sku} is also on line {first_line[sku]}.")
            )
            continue
        first_line[sku] = row.line
        batch_skus.append(sku)
        if not row.errors:
            rows.append((row, sku))

    statement = select(Product).where(_texts(Product.sku, batch_skus))
    if not dry_run:
        statement = statement.with_for_update()
    existing = {p.sku: p for p in session.scalars(statement)}
    # What the stocked ones hold, should a row turn their inventory tracking off.
    stocked = [p.id for p in existing.values() if p.track_inventory] if update_existing else []
    held = _held_stock(session, stocked)

    def check() -> Callable[[], None]:
        return _check_products(
            session, rows, existing, held, acting, update_existing, plan, categories
        )

    return check


def _check_products(
    session: Session,
    rows: Sequence[tuple[_Parsed, str]],
    existing: Mapping[str, Product],
    held: Mapping[uuid.UUID, tuple[int, int]],
    acting: CurrentUser,
    update_existing: bool,
    plan: _Plan,
    categories: _Categories,
) -> Callable[[], None]:
    inserts: list[tuple[Any, ...]] = []
    updates: list[dict[str, Any]] = []
    for row, sku in rows:
        values = dict(row.values)
        found = existing.get(sku)
        if found is not None and not update_existing:
            state = "" if found.is_active else " (inactive)"
            plan.errors.append(
                LineError(
                    row.line,
                    "sku",
                    f"The SKU {sku} is already used by the product {found.name!r}{state}; "
                    "tick Update existing rows to update it.",
                )
            )
            continue
        if found is None and not _required(row, "products", plan):
            continue
        try:
            if "category" in values:
                values["category_id"] = categories.find(values.pop("category"))
            values["sku"] = sku
            base = (
                None
                if found is None
                else ProductDraft(**{n: getattr(found, n) for n in _DRAFT_FIELDS})
            )
            draft = (
                ProductDraft(**{**_NEW_PRODUCT_DEFAULTS, **values})
                if base is None
                else replace(base, **values)
            )
            clean = catalog_rules.check_product(draft)
        except ValidationError as error:
            plan.fail(row.line, error, _PRODUCT_RENAMES)
            continue
        if found is None:
            plan.created += 1
            inserts.append((*_draft_values(clean), True, acting.id))
        elif clean == base:
            plan.unchanged += 1
        else:
            plan.updated += 1
            if found.track_inventory and not clean.track_inventory:
                _check_untracked_empty(row.line, sku, held.get(found.id), plan)
            updates.append({**{n: getattr(clean, n) for n in _DRAFT_FIELDS}, "id": found.id})

    def write() -> None:
        connection = session.connection()
        _copy_all(connection, _PRODUCTS, _PRODUCT_COLUMNS, inserts)
        _update_all(
            connection, _PRODUCTS, updates, version=_PRODUCTS.c.version + 1, updated_by=acting.id
        )

    return write


def _as_relation(table: Table, rows: Sequence[Mapping[str, Any]]) -> Any:
    """The rows as one relation to select from: a typed array per column, unnested side
    by side. Imports write thousands of rows in one statement, not one statement a row:
    the tables' statement triggers (history, dashboard, notifications) then run once."""
    names = list(rows[0])
    arrays = [
        bindparam(f"rows_{name}", [row[name] for row in rows], type_=ARRAY(table.c[name].type))
        for name in names
    ]
    return func.unnest(*arrays).table_valued(*names).render_derived(name="imported")


def _copy_all(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Insert every row (its values in the order of `columns`) with one COPY: the rows
    stream to the server as text the C adapters write, where a multi-row INSERT of
    bound arrays spent seconds in Python adapting them. Statement triggers (history,
    notifications) see the COPY as one statement."""
    if not rows:
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as error:
        # As SQLAlchemy would have raised it: the service turns it into a message.
        raise DBAPIError.instance(
            statement.as_string(driver), None, error, psycopg.Error
        ) from error


def _update_all(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]], **same: Any
) -> None:
    """Update every row (a dict with its "id" and new column values), setting `same` too."""
    if not rows:
        return
    given = _as_relation(table, rows)
    new_values = {column.name: column for column in given.c if column.name != "id"}
    connection.execute(update(table).where(table.c.id == given.c.id).values(**new_values, **same))


def _held_stock(
    session: Session, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int]]:
    """On hand and reserved of these products, over every warehouse (those holding any)."""
    if not product_ids:
        return {}
    held = session.execute(
        select(
            ProductInventory.product_id,
            func.sum(ProductInventory.quantity_available),
            func.sum(ProductInventory.quantity_reserved),
        )
        .where(ProductInventory.product_id.in_(list(product_ids)))
        .group_by(ProductInventory.product_id)
    ).all()
    return {product_id: (on_hand, reserved) for product_id, on_hand, reserved in held}


def _check_untracked_empty(line: int, sku: str, held: tuple[int, int] | None, plan: _Plan) -> None:
    """Inventory tracking is turned off only where nothing is on hand or reserved."""
    on_hand, reserved = held or (0, 0)
    if on_hand or reserved:
        plan.errors.append(
            LineError(
                line,
                "track_inventory",
                f"{sku} has {on_hand:,} on hand ({reserved:,} reserved); inventory "
                "tracking can be turned off only when nothing is in stock.",
            )
        )


# --- customers ----------------------------------------------------------------------------


class _CustomerRows:
    def __init__(
        self, session: Session, acting: CurrentUser, update_existing: bool, dry_run: bool
    ) -> None:
        self.plan = _Plan()
        self._session, self._acting = session, acting
        self._update_existing, self._dry_run = update_existing, dry_run
        self._line_of_code: dict[str, int] = {}

    def take(self, batch: list[_Parsed]) -> Callable[[], Callable[[], None]]:
        return _plan_customers(
            self._session,
            self._acting,
            batch,
            self._update_existing,
            self._dry_run,
            self.plan,
            self._line_of_code,
        )


def _plan_customers(
    session: Session,
    acting: CurrentUser,
    parsed: list[_Parsed],
    update_existing: bool,
    dry_run: bool,
    plan: _Plan,
    line_of_code: dict[str, int],
) -> Callable[[], Callable[[], None]]:
    line_of_email = plan.lines_by_key
    batch_codes: list[str] = []
    batch_emails: list[str] = []
    rows: list[tuple[_Parsed, str | None, str | None]] = []
    for row in parsed:
        plan.errors.extend(row.errors)
        code = row.values.get("customer_code")
        email: str | None = None
        if "email" in row.values:
            try:
                email = check_email(row.values["email"])
            except ValidationError as error:
                plan.fail(row.line, error)
                continue
        elif code is None:
            plan.errors.append(LineError(row.line, "email", "Email is required."))
            continue
        duplicate = False
        if code is not None:
            code = code.upper()
            if code in line_of_code:
                plan.errors.append(
                    LineError(
                        row.line,
                        "customer_code",
                        f"The customer code {code} is also on line {line_of_code[code]}.",
                    )
                )
                duplicate = True
            else:
                line_of_code[code] = row.line
                batch_codes.append(code)
        if email is not None:
            if email.casefold() in line_of_email:
                plan.errors.append(
                    LineError(
                        row.line,
                        "email",
                        f"The email address {email} is also on line "
                        f"{line_of_email[email.casefold()]}.",
                    )
                )
                duplicate = True
            else:
                line_of_email[email.casefold()] = row.line
                batch_emails.append(email.lower())
        if not duplicate and not row.errors:
            rows.append((row, code, email))

    statement = select(Customer).where(
        _texts(Customer.customer_code, batch_codes)
        | _texts(func.lower(Customer.email), batch_emails)
    )
    if not dry_run:
        statement = statement.with_for_update()
    found_rows = list(session.scalars(statement))
    by_code = {c.customer_code: c for c in found_rows if c.customer_code}
    by_email = {c.email.lower(): c for c in found_rows}
    kept_addresses = read_addresses(session, [c.id for c in found_rows])

    def check() -> Callable[[], None]:
        return _check_customers(
            session, acting, rows, by_code, by_email, kept_addresses, update_existing, plan
        )

    return check


def _check_customers(
    session: Session,
    acting: CurrentUser,
    rows: Sequence[tuple[_Parsed, str | None, str | None]],
    by_code: Mapping[str, Customer],
    by_email: Mapping[str, Customer],
    kept_addresses: Mapping[uuid.UUID, CustomerAddresses],
    update_existing: bool,
    plan: _Plan,
) -> Callable[[], None]:
    allowed = writable_fields(acting)
    #: (the customer: their id, or a new customer's email; their new addresses)
    new_addresses: list[tuple[uuid.UUID | str, CustomerAddresses]] = []

    inserts: list[tuple[Any, ...]] = []
    updates: list[dict[str, Any]] = []
    for row, code, email in rows:
        values = {k: v for k, v in row.values.items() if k != "customer_code"}
        billing_values = {
            name.removeprefix(_BILLING): values.pop(name)
            for name in _BILLING_FIELDS
            if name in values
        }
        if email is not None:
            values["email"] = email
        target: Customer | None = None
        if code is not None:
            target = by_code.get(code)
            if target is None:
                plan.errors.append(
                    LineError(
                        row.line,
                        "customer_code",
                        f"No customer has the code {code}; codes are issued when a customer "
                        "is added, so leave the code empty for a new customer.",
                    )
                )
                continue
        elif email is not None:
            target = by_email.get(email.lower())
        if target is not None and not update_existing:
            which = f"the code {code}" if code else f"the email address {email}"
            plan.errors.append(
                LineError(
                    row.line,
                    "customer_code" if code else "email",
                    f"The customer {target.first_name} {target.last_name} "
                    f"({target.customer_code or 'no code'}) has {which} already; tick "
                    "Update existing rows to update them.",
                )
            )
            continue
        if email is not None:
            holder = by_email.get(email.lower())
            if holder is not None and (target is None or holder.id != target.id):
                plan.errors.append(
                    LineError(
                        row.line,
                        "email",
                        f"The customer {holder.first_name} {holder.last_name} "
                        f"({holder.customer_code or 'no code'}) already has the email "
                        f"address {email}.",
                    )
                )
                continue
        if target is None and not _required(row, "customers", plan):
            continue
        try:
            if target is not None:
                base = CustomerDraft(**{n: getattr(target, n) for n in _CUSTOMER_FIELDS})
                base = replace(
                    base,
                    credit_limit=base.credit_limit or Decimal("0.00"),
                    tax_exempt=bool(base.tax_exempt),
                )
            else:
                base = CustomerDraft(
                    first_name=values["first_name"],
                    last_name=values["last_name"],
                    email=values["email"],
                )
            clean = customer_rules.check_customer(replace(base, **values))
        except ValidationError as error:
            plan.fail(row.line, error)
            continue
        before = kept_addresses.get(target.id) if target is not None else None
        before = before or CustomerAddresses()
        after = before
        if billing_values:
            start = before.billing or _NO_ADDRESS
            try:
                after = customer_rules.check_customer_addresses(
                    replace(before, billing=replace(start, **billing_values)), clean
                )
            except ValidationError as error:
                plan.fail(row.line, error, _BILLING_RENAME)
                continue
        if target is not None:
            try:
                check_credit_change(
                    acting, base.credit_limit or Decimal("0.00"), clean.credit_limit
                )
            except PermissionDeniedError as error:
                plan.errors.append(LineError(row.line, "credit_limit", error.message))
                continue
        if after != before:
            new_addresses.append((target.id if target is not None else clean.email, after))
        if target is None:
            plan.created += 1
            inserts.append(_customer_values(clean))
        elif clean == base and after == before:
            plan.unchanged += 1
        else:
            # An address change alone moves the customer's version too.
            plan.updated += 1
            updates.append({**{n: getattr(clean, n) for n in allowed}, "id": target.id})

    def write() -> None:
        connection = session.connection()
        if inserts:
            # A block of codes in one step: one counter update per row, all in one
            # transaction, would leave a chain of row versions that each next update walks.
            codes = connection.execute(select(func.next_customer_codes(len(inserts)))).scalars()
            _copy_all(
                connection,
                _CUSTOMERS,
                _CUSTOMER_COLUMNS,
                [
                    (*values, code, Decimal("0.00"), acting.id)
                    for values, code in zip(inserts, codes, strict=True)
                ],
            )
        _update_all(
            connection,
            _CUSTOMERS,
            updates,
            version=_CUSTOMERS.c.version + 1,
            updated_by=acting.id,
        )
        _save_billing_addresses(connection, new_addresses)

    return write


_NO_ADDRESS = Address("", "", "", "", "", "")
_CUSTOMER_ADDRESSES: Table = CustomerAddress.__table__  # type: ignore[assignment]
_ADDRESS_FIELDS = tuple(f.name for f in fields(Address))


def _save_billing_addresses(
    connection: Connection, wanted: Sequence[tuple[uuid.UUID | str, CustomerAddresses]]
) -> None:
    """The imported billing addresses, in one statement: new customers are found by their
    email (they were inserted just before)."""
    if not wanted:
        return
    emails = [key.lower() for key, _ in wanted if isinstance(key, str)]
    found = {}
    if emails:
        statement = select(func.lower(Customer.email), Customer.id).where(
            _texts(func.lower(Customer.email), emails)
        )
        found = {email: customer_id for email, customer_id in connection.execute(statement)}
    rows = []
    for key, addresses in wanted:
        billing = addresses.billing
        assert billing is not None  # an import sets the billing address or leaves it
        customer_id = found[key.lower()] if isinstance(key, str) else key
        rows.append(
            {"customer_id": customer_id, "type": "billing"}
            | {name: getattr(billing, name) for name in _ADDRESS_FIELDS}
        )
    given = _as_relation(_CUSTOMER_ADDRESSES, rows)
    upsert = pg_insert(_CUSTOMER_ADDRESSES).from_select(list(rows[0]), select(*given.c))
    connection.execute(
        upsert.on_conflict_do_update(
            index_elements=["customer_id", "type"],
            set_={name: upsert.excluded[name] for name in _ADDRESS_FIELDS},
        )
    )


# --- stock counts -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Count:
    line: int
    sku: str
    key: StockKey
    counted: int
    reason: str


class _CountRows:
    def __init__(self, session: Session, acting: CurrentUser) -> None:
        self.plan = _Plan()
        self._session, self._acting = session, acting
        self._first_line: dict[tuple[str, str], int] = {}

    def take(self, batch: list[_Parsed]) -> Callable[[], Callable[[], None]]:
        # Counting locks and reads the stock levels first: all of it is done here.
        write = _plan_counts(self._session, self._acting, batch, self.plan, self._first_line)
        return lambda: write


def _plan_counts(
    session: Session,
    acting: CurrentUser,
    parsed: list[_Parsed],
    plan: _Plan,
    first_line: dict[tuple[str, str], int],
) -> Callable[[], None]:
    wanted: list[tuple[_Parsed, str, str, int, str]] = []
    for row in parsed:
        plan.errors.extend(row.errors)
        if row.errors or not _required(row, "stock_counts", plan):
            continue
        sku = row.values["sku"]
        code = row.values["warehouse"].upper()
        try:
            counted = stock_rules.check_counted_quantity(row.values["counted"])
            reason = stock_rules.count_reason(stock_rules.check_note(row.values.get("note")))
        except ValidationError as error:
            plan.fail(row.line, error, {"quantity": "counted"})
            continue
        if (sku, code) in first_line:
            plan.errors.append(
                LineError(
                    row.line,
                    "sku",
                    f"{sku} in {code} is also counted on line {first_line[(sku, code)]}.",
                )
            )
            continue
        first_line[(sku, code)] = row.line
        wanted.append((row, sku, code, counted, reason))

    skus = {sku for _, sku, _, _, _ in wanted}
    codes = {code for _, _, code, _, _ in wanted}
    warehouses = {
        row.code: row
        for row in session.execute(
            select(Warehouse.id, Warehouse.code).where(_texts(Warehouse.code, codes))
        )
    }
    # As counting one row does: the warehouses stay as read until commit.
    share_rows(session, "warehouses", sorted(row.id for row in warehouses.values()))
    products = {
        row.sku: row
        for row in session.execute(
            select(Product.id, Product.sku, Product.is_active, Product.track_inventory).where(
                _texts(Product.sku, skus)
            )
        )
    }
    variants: dict[str, list[Any]] = {}
    for variant in session.execute(
        select(
            ProductVariant.id,
            ProductVariant.product_id,
            ProductVariant.sku,
            ProductVariant.is_active,
            ProductVariant.track_inventory,
            Product.sku.label("product_sku"),
            Product.is_active.label("product_active"),
        )
        .join(Product, Product.id == ProductVariant.product_id)
        .where(_texts(ProductVariant.sku, skus - products.keys()))
    ):
        variants.setdefault(variant.sku, []).append(variant)

    counts: list[_Count] = []
    for row, sku, code, counted, reason in wanted:
        try:
            warehouse = warehouses.get(code)
            if warehouse is None:
                raise ValidationError(f"There is no warehouse {code}.", field="warehouse")
            key = _count_key(sku, products, variants, warehouse.id)
        except ValidationError as error:
            plan.fail(row.line, error, {"product": "sku", "variant": "sku"})
            continue
        counts.append(_Count(row.line, sku, key, counted, reason))

    ledger = StockLedger(session, acting.id)
    # Locked even when other rows are bad, so that the reserved quantities are checked
    # too: every bad row is reported at once (the transaction is rolled back then).
    levels = ledger.lock([c.key for c in counts]) if counts else {}
    for count in counts:
        before = levels[count.key]
        try:
            stock_rules.check_count_covers_reserved(
                count.counted, before.reserved, before.sku, before.warehouse_code
            )
        except ValidationError as error:
            plan.fail(count.line, error, {"quantity": "counted"})
            continue
        if count.counted == before.on_hand:
            plan.unchanged += 1
        else:
            plan.updated += 1

    def write() -> None:
        differences = ((c, c.counted - levels[c.key].on_hand) for c in counts)
        ledger.move_many(
            (c.key, difference, "ADJUST", c.reason) for c, difference in differences if difference
        )

    return write


def _count_key(
    sku: str,
    products: Mapping[str, Any],
    variants: Mapping[str, list[Any]],
    warehouse_id: uuid.UUID,
) -> StockKey:
    """The stock row a SKU names, checked as counting it in the dialog would be."""
    product = products.get(sku)
    if product is not None:
        stock_rules.check_stocked_item(
            product.sku, product.is_active, product.track_inventory, variant=False
        )
        return StockKey(product.id, warehouse_id)
    found = variants.get(sku, [])
    if not found:
        raise ValidationError(f"No product or variant has the SKU {sku}.", field="sku")
    if len(found) > 1:
        owners = ", ".join(sorted(v.product_sku for v in found))
        raise ValidationError(
            f"Variants of several products ({owners}) have the SKU {sku}; count them in the "
            "stock dialog.",
            field="sku",
        )
    variant = found[0]
    stock_rules.check_stocked_item(variant.product_sku, variant.product_active, True, variant=False)
    stock_rules.check_stocked_item(
        variant.sku, variant.is_active, variant.track_inventory, variant=True
    )
    return StockKey(variant.product_id, warehouse_id, variant.id)
