"""Who changed what, and when: the change history the database keeps (revision 0012).

The triggers write change_log; this service only reads it, as the person signed in. Row
security shows each person the changes of the tables they may read, so a History page
or the Changes report never shows more than the person could see in the record itself.

Two readings:
- a record's history (a History page): its own changes and those of what belongs to it
  (an order's lines and addresses, a product's variants and stock), newest first;
- the Changes report: every change in a period, by person and kind of record, a page at a
  time, newest first, for an auditor, exportable like every list.

Each change names its record ("SO-2026-000042", "SKU-1 @ MAIN") and the records its values
point at (a line's product by SKU): names are read in a few statements per page, one per
kind, and a deleted record is named from its last values.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, false, func, literal, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from erpgo_desktop.db.models import (
    Base,
    ChangeLog,
    Customer,
    CustomerAddress,
    Order,
    OrderAddress,
    OrderItem,
    Product,
    ProductCategory,
    ProductInventory,
    ProductVariant,
    Role,
    User,
    UserRole,
    VariantInventory,
    Warehouse,
)
from erpgo_desktop.domain import history as words
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.history import FieldChange
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.base import Service, require
from erpgo_desktop.services.listing import MAX_PAGE_SIZE, check_page_size, check_search
from erpgo_desktop.services.reports import (
    ReportCursor,
    ReportPage,
    ReportTotals,
    report_period,
)

#: Whose history a person may open: the permission that reads the record itself.
READ_PERMISSION: dict[str, str] = {
    "products": perms.PRODUCTS_READ,
    "product_variants": perms.PRODUCTS_READ,
    "product_categories": perms.PRODUCTS_READ,
    "customers": perms.CUSTOMERS_READ,
    "orders": perms.ORDERS_READ,
    "warehouses": perms.INVENTORY_READ,
    "users": perms.USERS_ADMIN,
    "roles": perms.USERS_ADMIN,
}

#: The longest history a History page shows; the Changes report reads further.
RECORD_HISTORY_LIMIT = 500

#: The Changes report sorts newest first, or oldest first.
CHANGE_SORTS = ("changed_at",)


@dataclass(frozen=True)
class ChangeRow:
    """One record's change: who, when, which record, and each field's old and new value."""

    id: int
    changed_at: datetime
    person: str
    table: str
    record_id: uuid.UUID
    record: str
    action: str
    fields: tuple[FieldChange, ...]

    @property
    def key(self) -> int:
        return self.id

    @property
    def kind(self) -> str:
        return words.kind_of(self.table)

    @property
    def action_label(self) -> str:
        return words.ACTIONS[self.action]

    @property
    def summary(self) -> str:
        return words.summary(self.action, self.fields)


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    name: str


class HistoryService(Service):
    """Reads the change history as the person signed in (row security decides what)."""

    def record_history(
        self, acting: CurrentUser, table: str, record_id: uuid.UUID
    ) -> list[ChangeRow]:
        """The changes of one record and of what belongs to it, newest first."""
        if table not in READ_PERMISSION:
            raise ValidationError(f"No history is kept for {table!r}.", field="table")
        require(acting, READ_PERMISSION[table])

        def work(session: Session) -> list[ChangeRow]:
            belongs = ChangeLog.subject_id == record_id
            if table == "product_variants":
                belongs = _variant_changes(session, record_id)
            elif table == "orders":
                # An order's addresses are records of their own that the order points at.
                addresses = select(Order.shipping_address_id, Order.billing_address_id).where(
                    Order.id == record_id
                )
                found = session.execute(addresses).first()
                if found is not None:
                    belongs = or_(belongs, ChangeLog.record_id.in_([a for a in found if a]))
            statement = (
                _change_columns()
                .where(belongs)
                .order_by(ChangeLog.id.desc())
                .limit(RECORD_HISTORY_LIMIT)
            )
            return _rows(session, session.execute(statement).all())

        return self._read(work)

    def changes(
        self,
        acting: CurrentUser,
        start: date,
        end: date,
        *,
        person_id: uuid.UUID | None = None,
        kind: str | None = None,
        search: str = "",
        sort: str = "changed_at",
        descending: bool = True,
        after: ReportCursor | None = None,
        limit: int = MAX_PAGE_SIZE,
    ) -> ReportPage[ChangeRow]:
        """The Changes report: every change in the period (days, both included), of one
        person and one kind of record (a table of `domain.history.KINDS`) when given; a
        keyset page in the order the changes happened (the log's id)."""
        require(acting, perms.REPORTS_VIEW)
        if sort not in CHANGE_SORTS:
            raise ValidationError(f"This report cannot be sorted by {sort!r}.", field="sort")
        check_page_size(limit)
        conditions = self._change_conditions(start, end, person_id, kind, search)
        if after is not None:
            (last_id,) = after
            conditions.append(ChangeLog.id < last_id if descending else ChangeLog.id > last_id)
        order = ChangeLog.id.desc() if descending else ChangeLog.id.asc()
        statement = _change_columns().where(*conditions).order_by(order).limit(limit + 1)

        def work(session: Session) -> ReportPage[ChangeRow]:
            found = session.execute(statement).all()
            rows = tuple(_rows(session, found[:limit]))
            cursor = (found[min(limit, len(found)) - 1].id,) if found else None
            return ReportPage(rows, cursor, len(found) > limit)

        return self._read(work)

    def count_changes(
        self,
        acting: CurrentUser,
        start: date,
        end: date,
        *,
        person_id: uuid.UUID | None = None,
        kind: str | None = None,
        search: str = "",
    ) -> ReportTotals:
        """How many changes the Changes report has for these filters (nothing adds up)."""
        require(acting, perms.REPORTS_VIEW)
        conditions = self._change_conditions(start, end, person_id, kind, search)
        counting = select(func.count()).select_from(ChangeLog).where(*conditions)
        return self._read(lambda session: ReportTotals(session.scalar(counting) or 0))

    @staticmethod
    def _change_conditions(
        start: date,
        end: date,
        person_id: uuid.UUID | None,
        kind: str | None,
        search: str,
    ) -> list[ColumnElement[bool]]:
        first, after_last = report_period(start, end)
        term = check_search(search)
        if kind is not None and kind not in words.KINDS:
            raise ValidationError(f"No history is kept for {kind!r}.", field="kind")
        conditions = [ChangeLog.changed_at >= first, ChangeLog.changed_at < after_last]
        if person_id is not None:
            login_role = select(User.login_role).where(User.id == person_id).scalar_subquery()
            conditions.append(ChangeLog.db_role == login_role)
        if kind is not None:
            conditions.append(ChangeLog.table_name == kind)
        if term:
            # The values as kept: a SKU, a name, a number typed in the record.
            conditions.append(
                func.strpos(func.lower(cast(ChangeLog.changes, Text)), term.lower()) > 0
            )
        return conditions

    def people(self, acting: CurrentUser) -> list[Person]:
        """Everyone who may have changed something, for the report's person filter."""
        require(acting, perms.REPORTS_VIEW)

        def work(session: Session) -> list[Person]:
            statement = select(User.id, _user_name()).order_by(User.username)
            return [Person(row[0], row[1]) for row in session.execute(statement)]

        return self._read(work)


def _variant_changes(session: Session, variant_id: uuid.UUID) -> Any:
    """Which changes are a variant's: its own and its stock rows'. Both are kept under the
    product (a product's History shows its variants), so the product narrows them down
    by the index first, then the records pick out this variant's."""
    product_id = session.scalar(
        select(ProductVariant.product_id).where(ProductVariant.id == variant_id)
    )
    if product_id is None:
        return false()  # no such variant (any more): it went with its product
    stock_rows = [
        found[0]
        for found in _readable(
            session, select(VariantInventory.id).where(VariantInventory.variant_id == variant_id)
        )
    ]
    return and_(
        ChangeLog.subject_id == product_id,
        or_(
            and_(ChangeLog.table_name == "product_variants", ChangeLog.record_id == variant_id),
            and_(ChangeLog.table_name == "variant_inventory", ChangeLog.record_id.in_(stock_rows)),
        ),
    )


def _user_name() -> Any:
    full = func.trim(User.first_name + literal(" ") + User.last_name)
    return func.coalesce(func.nullif(full, ""), User.username)


def _change_columns() -> Any:
    return select(
        ChangeLog.id,
        ChangeLog.changed_at,
        ChangeLog.table_name,
        ChangeLog.record_id,
        ChangeLog.action,
        ChangeLog.db_role,
        # As text: json.loads keeps 12.50 a Decimal, where the driver would make it a float.
        cast(ChangeLog.changes, Text),
    )


def _rows(session: Session, found: Sequence[Any]) -> list[ChangeRow]:
    changes = [json.loads(row[6], parse_float=Decimal) for row in found]
    referenced = {
        value
        for change in changes
        for value in _values(change)
        if isinstance(value, str) and _is_uuid(value)
    }
    names = _names(session, referenced)
    people = _people(session, {row[5] for row in found})
    records = _record_labels(session, [(row[2], row[3]) for row in found])
    rows = []
    for row, change in zip(found, changes, strict=True):
        identifier, changed_at, table, record_id, action, db_role = row[:6]
        label = records.get((table, record_id)) or _label_from_values(change, record_id)
        rows.append(
            ChangeRow(
                id=identifier,
                changed_at=changed_at,
                person=people.get(db_role, db_role),
                table=table,
                record_id=record_id,
                record=label,
                action=action,
                fields=_in_column_order(table, words.field_changes(action, change, names)),
            )
        )
    return rows


def _in_column_order(table: str, fields: tuple[FieldChange, ...]) -> tuple[FieldChange, ...]:
    """As the table lists its columns (JSON keeps keys in its own order): a new order line
    reads product, quantity, price, as its dialog does."""
    known = Base.metadata.tables.get(table)
    if known is None:
        return fields
    position = {name: n for n, name in enumerate(known.columns.keys())}
    return tuple(sorted(fields, key=lambda field: position.get(field.column, len(position))))


def _values(change: Mapping[str, Any]) -> Iterable[Any]:
    for value in change.values():
        if isinstance(value, list):
            yield from value
        else:
            yield value


def _is_uuid(value: str) -> bool:
    if len(value) != 36 or value.count("-") != 4:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _label_from_values(change: Mapping[str, Any], record_id: uuid.UUID) -> str:
    for column in words.LABEL_COLUMNS:
        value = change.get(column)
        if isinstance(value, list):  # an update: the newest value names it
            value = value[1]
        if value:
            return str(value)
    return str(record_id)[:8]


def _customer_name() -> Any:
    c = Customer
    return func.coalesce(func.nullif(c.company, ""), c.first_name + literal(" ") + c.last_name)


#: What a referenced record is called, per table that a value may point at.
_NAMES: tuple[tuple[Any, Any], ...] = (
    (Product.id, Product.sku),
    (ProductVariant.id, ProductVariant.sku),
    (ProductCategory.id, ProductCategory.name),
    (Customer.id, _customer_name()),
    (Order.id, Order.order_number),
    (Warehouse.id, Warehouse.code),
    (User.id, User.username),
    (Role.id, Role.name),
)


def _readable(session: Session, statement: Any) -> list[Any]:
    """Rows of `statement`, or none where the person may not read the table: names are a
    courtesy, never a reason for the history to fail."""
    try:
        with session.begin_nested():
            return list(session.execute(statement).all())
    except DBAPIError:
        return []


def _names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    wanted = [uuid.UUID(value) for value in ids]
    names: dict[str, str] = {}
    for key, name in _NAMES:
        for found_id, found_name in _readable(session, select(key, name).where(key.in_(wanted))):
            names[str(found_id)] = str(found_name)
    return names


def _people(session: Session, login_roles: set[str]) -> dict[str, str]:
    """The people who signed in as these roles; a maintainer's role stays as it is."""
    if not login_roles:
        return {}
    statement = select(User.login_role, _user_name()).where(User.login_role.in_(login_roles))
    return {row[0]: row[1] for row in _readable(session, statement)}


def _record_labels(
    session: Session, records: Sequence[tuple[str, uuid.UUID]]
) -> dict[tuple[str, uuid.UUID], str]:
    by_table: dict[str, set[uuid.UUID]] = defaultdict(set)
    for table, record_id in records:
        by_table[table].add(record_id)
    labels: dict[tuple[str, uuid.UUID], str] = {}
    for table, ids in by_table.items():
        statement = _label_statement(table, ids)
        if statement is None:
            continue
        for record_id, label in _readable(session, statement):
            labels[(table, record_id)] = str(label)
    return labels


def _label_statement(table: str, ids: set[uuid.UUID]) -> Any:
    at = literal(" @ ")
    match table:
        case "order_items":
            return (
                select(OrderItem.id, Order.order_number + literal(" · ") + Product.sku)
                .join(Order, Order.id == OrderItem.order_id)
                .join(Product, Product.id == OrderItem.product_id)
                .where(OrderItem.id.in_(ids))
            )
        case "product_inventory" | "variant_inventory":
            # A stock row is named by its item's SKU and its warehouse: "HX-1 @ MAIN".
            variant = table == "variant_inventory"
            stock: Any = VariantInventory if variant else ProductInventory
            item: Any = ProductVariant if variant else Product
            owner = stock.variant_id if variant else stock.product_id
            return (
                select(stock.id, item.sku + at + Warehouse.code)
                .join(item, item.id == owner)
                .join(Warehouse, Warehouse.id == stock.warehouse_id)
                .where(stock.id.in_(ids))
            )
        case "order_addresses":
            a = OrderAddress
            name = a.first_name + literal(" ") + a.last_name + literal(", ") + a.city
            return select(a.id, name).where(a.id.in_(ids))
        case "customer_addresses":
            # "Billing address, Springfield": which of the customer's two it is.
            c = CustomerAddress
            name = func.initcap(c.type) + literal(" address, ") + c.city
            return select(c.id, name).where(c.id.in_(ids))
        case "user_roles":
            return (
                select(UserRole.id, User.username + literal(" · ") + Role.name)
                .join(User, User.id == UserRole.user_id)
                .join(Role, Role.id == UserRole.role_id)
                .where(UserRole.id.in_(ids))
            )
    for key, name in _NAMES:
        if key.class_.__tablename__ == table:
            return select(key, name).where(key.in_(ids))
    return None
