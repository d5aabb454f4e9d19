"""Customer records: create, edit, find, deactivate, delete.

Each public method is one user action in its own transaction, checks customers.read or
customers.write first and returns plain frozen rows. The customer code (CUST-NNNNNN) comes
from the database's next_customer_code() inside the inserting transaction, so two
workstations never issue the same code. The balance is the orders service's: it is shown
here and never written. Edits carry the version they were opened at; a customer saved by
someone else in between is a conflict that names who and when.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Row, Select, delete, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from erpgo_desktop.db.models import Customer, CustomerAddress, Order, User
from erpgo_desktop.domain import customers as rules
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.customers import CustomerAddresses, CustomerDraft
from erpgo_desktop.domain.orders import Address
from erpgo_desktop.errors import ConflictError, NotFoundError, ValidationError
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.base import Service, require, stale_message
from erpgo_desktop.services.listing import (
    DEFAULT_COUNT_CAP,
    ColumnLike,
    ListCount,
    capped,
    check_page_size,
    check_search,
    count_statement,
    customer_matches,
    keyset_after,
    keyset_after_nullable,
    keyset_order,
)

__all__ = [
    "CustomerAddresses",
    "CustomerCursor",
    "CustomerDraft",
    "CustomerListRow",
    "CustomerPage",
    "CustomerQuery",
    "CustomerRow",
    "CustomerService",
    "CustomerSort",
    "ListCount",
]

MAX_SEARCH_RESULTS = 500


@dataclass(frozen=True)
class CustomerRow:
    id: uuid.UUID
    customer_code: str | None
    first_name: str
    last_name: str
    company: str | None
    email: str
    phone: str | None
    type: str
    status: str
    credit_limit: Decimal
    #: What the customer owes on confirmed orders; moved by the orders service only.
    balance: Decimal
    tax_exempt: bool
    notes: str | None
    created_at: datetime
    updated_at: datetime
    #: The username of whoever saved last (None: not recorded).
    updated_by_name: str | None
    version: int
    #: Saved with the customer; a new order starts from them.
    addresses: CustomerAddresses = field(default_factory=CustomerAddresses)

    @property
    def display_name(self) -> str:
        person = f"{self.first_name} {self.last_name}"
        return f"{self.company} ({person})" if self.company else person

    @property
    def available_credit(self) -> Decimal | None:
        """What may still be ordered on credit; None when the customer has no limit (0)."""
        if self.credit_limit <= 0:
            return None
        return self.credit_limit - self.balance

    def to_draft(self) -> CustomerDraft:
        return CustomerDraft(**{f.name: getattr(self, f.name) for f in fields(CustomerDraft)})


class CustomerSort(Enum):
    """The orders the customers list can have, each answered by an index."""

    NAME = "name"  # last name, first name: idx_customers_name_id (revision 0005)
    CODE = "code"  # customers_customer_code_key


@dataclass(frozen=True)
class CustomerQuery:
    """What the customers list shows: a search, filters and an order."""

    #: Matched anywhere in the code, first, last or full name, company or email.
    search: str = ""
    status: str | None = None
    type: str | None = None
    sort: CustomerSort = CustomerSort.NAME
    descending: bool = False

    @property
    def search_term(self) -> str:
        return check_search(self.search)


@dataclass(frozen=True)
class CustomerListRow:
    """One line of the customers list: only what it shows."""

    id: uuid.UUID
    customer_code: str | None
    first_name: str
    last_name: str
    company: str | None
    email: str
    phone: str | None
    type: str
    status: str
    credit_limit: Decimal
    balance: Decimal
    version: int


@dataclass(frozen=True)
class CustomerCursor:
    """Where the next page starts: the last row's sort key (one value per key column)
    and id."""

    key: tuple[str | None, ...]
    id: uuid.UUID


@dataclass(frozen=True)
class CustomerPage:
    rows: tuple[CustomerListRow, ...]
    next_cursor: CustomerCursor | None
    has_more: bool


class CustomerService(Service):
    def get_customer(self, acting: CurrentUser, customer_id: uuid.UUID) -> CustomerRow:
        require(acting, perms.CUSTOMERS_READ)
        return self._read(lambda session: _customer(session, customer_id))

    def search_customers(
        self,
        acting: CurrentUser,
        search: str = "",
        *,
        include_inactive: bool = False,
        limit: int = 50,
    ) -> tuple[CustomerRow, ...]:
        """Customers whose code, name, company or email contains `search` (ignoring case),
        by last name, first name; only active ones unless `include_inactive`."""
        require(acting, perms.CUSTOMERS_READ)
        if not 1 <= limit <= MAX_SEARCH_RESULTS:
            raise ValidationError(f"Ask for 1 to {MAX_SEARCH_RESULTS} customers, not {limit}.")
        term = check_search(search)

        def work(session: Session) -> tuple[CustomerRow, ...]:
            statement = _customer_select().order_by(
                Customer.last_name, Customer.first_name, Customer.id
            )
            if term:
                columns = (
                    Customer.customer_code,
                    Customer.first_name,
                    Customer.last_name,
                    Customer.company,
                    Customer.email,
                )
                statement = statement.where(customer_matches(columns, term))
            if not include_inactive:
                statement = statement.where(Customer.status == "ACTIVE")
            rows = session.execute(statement.limit(limit)).all()
            addresses = read_addresses(session, [row[0].id for row in rows])
            return tuple(
                _customer_row(*row, addresses=addresses.get(row[0].id, CustomerAddresses()))
                for row in rows
            )

        return self._read(work)

    def list_customers(
        self,
        acting: CurrentUser,
        query: CustomerQuery,
        after: CustomerCursor | None = None,
        limit: int = 200,
    ) -> CustomerPage:
        """The `limit` customers that follow `after` (or the first ones) in the query's
        order: a keyset page, as fast at row 100,000 as at row 1."""
        require(acting, perms.CUSTOMERS_READ)
        check_page_size(limit)
        keys = _sort_keys(query.sort)
        statement = (
            select(*_LIST_COLUMNS)
            .where(*_list_filters(query))
            .order_by(*keyset_order(keys, query.descending))
            .limit(limit + 1)
        )
        if after is not None:
            if query.sort is CustomerSort.CODE:
                condition = keyset_after_nullable(
                    Customer.customer_code, Customer.id, after.key[0], after.id, query.descending
                )
            else:
                condition = keyset_after(keys, (*after.key, after.id), query.descending)
            statement = statement.where(condition)
        records = self._read(lambda session: session.execute(statement).all())
        rows = tuple(_list_row(record) for record in records[:limit])
        cursor = None
        if rows:
            last = rows[-1]
            key = (
                (last.customer_code,)
                if query.sort is CustomerSort.CODE
                else (last.last_name, last.first_name)
            )
            cursor = CustomerCursor(key, last.id)
        return CustomerPage(rows=rows, next_cursor=cursor, has_more=len(records) > limit)

    def count_customers(
        self, acting: CurrentUser, query: CustomerQuery, cap: int | None = DEFAULT_COUNT_CAP
    ) -> ListCount:
        """How many customers match, counting no further than `cap` (None: all)."""
        require(acting, perms.CUSTOMERS_READ)
        statement = count_statement(select(Customer.id).where(*_list_filters(query)), cap)
        found = self._read(lambda session: session.scalar(statement)) or 0
        return capped(found, cap)

    def create_customer(
        self,
        acting: CurrentUser,
        draft: CustomerDraft,
        addresses: CustomerAddresses | None = None,
    ) -> CustomerRow:
        require(acting, perms.CUSTOMERS_WRITE)
        clean = rules.check_customer(draft)
        places = rules.check_customer_addresses(addresses or CustomerAddresses(), clean)

        def work(session: Session) -> CustomerRow:
            _check_email_free(session, clean.email, exclude=None)
            new_id = session.execute(
                insert(Customer)
                .values(
                    **_values(clean),
                    customer_code=func.next_customer_code(),
                    balance=Decimal("0.00"),
                    updated_by=acting.id,
                )
                .returning(Customer.id)
            ).scalar_one()
            _save_addresses(session, new_id, places)
            return _customer(session, new_id)

        return self._write(work)

    def update_customer(
        self,
        acting: CurrentUser,
        customer_id: uuid.UUID,
        draft: CustomerDraft,
        *,
        expected_version: int,
        addresses: CustomerAddresses | None = None,
    ) -> CustomerRow:
        """Save the editable fields (the credit limit among them; never the balance) and,
        unless `addresses` is None, the addresses (None: they stay as they are)."""
        require(acting, perms.CUSTOMERS_WRITE)
        clean = rules.check_customer(draft)
        places = None if addresses is None else rules.check_customer_addresses(addresses, clean)

        def work(session: Session) -> CustomerRow:
            customer = _locked(session, customer_id, expected_version)
            check_credit_change(
                acting, customer.credit_limit or Decimal("0.00"), clean.credit_limit
            )
            if clean.email.lower() != customer.email.lower():
                _check_email_free(session, clean.email, exclude=customer_id)
            for name, value in _values(clean).items():
                if name in writable_fields(acting):
                    setattr(customer, name, value)
            customer.updated_by = acting.id
            if places is not None and _save_addresses(session, customer_id, places):
                # The customer's version moves with its addresses, even when nothing else
                # of the customer changed.
                flag_modified(customer, "updated_by")
            session.flush()
            return _customer(session, customer_id)

        return self._write(work)

    def deactivate_customer(
        self, acting: CurrentUser, customer_id: uuid.UUID, *, expected_version: int
    ) -> CustomerRow:
        """The soft delete: status INACTIVE; the orders that refer to the customer stay."""
        require(acting, perms.CUSTOMERS_WRITE)

        def work(session: Session) -> CustomerRow:
            customer = _locked(session, customer_id, expected_version)
            customer.status = "INACTIVE"
            customer.updated_by = acting.id
            session.flush()
            return _customer(session, customer_id)

        return self._write(work)

    def delete_customer(
        self, acting: CurrentUser, customer_id: uuid.UUID, *, expected_version: int
    ) -> None:
        """Delete a customer without orders; one with orders is refused (deactivate it)."""
        require(acting, perms.CUSTOMERS_WRITE)

        def work(session: Session) -> None:
            # The row lock also holds off a new order for this customer until we are done.
            customer = _locked(session, customer_id, expected_version)
            orders = session.scalar(select(func.count()).where(Order.customer_id == customer_id))
            if orders:
                count = f"{orders:,} order" + ("" if orders == 1 else "s")
                raise ConflictError(
                    f"The customer {customer.customer_code or customer.email} has {count}, so "
                    "they cannot be deleted; deactivate the customer instead."
                )
            session.delete(customer)
            session.flush()

        self._write(work)


_LIST_COLUMNS = (
    Customer.id,
    Customer.customer_code,
    Customer.first_name,
    Customer.last_name,
    Customer.company,
    Customer.email,
    Customer.phone,
    Customer.type,
    Customer.status,
    Customer.credit_limit,
    Customer.balance,
    Customer.version,
)


def _list_row(record: Row[*tuple[Any, ...]]) -> CustomerListRow:
    return CustomerListRow(
        id=record.id,
        customer_code=record.customer_code,
        first_name=record.first_name,
        last_name=record.last_name,
        company=record.company,
        email=record.email,
        phone=record.phone,
        type=record.type,
        status=record.status,
        credit_limit=record.credit_limit or Decimal("0.00"),
        balance=record.balance or Decimal("0.00"),
        version=record.version,
    )


def _sort_keys(sort: CustomerSort) -> tuple[ColumnLike, ...]:
    if sort is CustomerSort.CODE:
        return (Customer.customer_code, Customer.id)
    return (Customer.last_name, Customer.first_name, Customer.id)


def _list_filters(query: CustomerQuery) -> list[Any]:
    filters: list[Any] = []
    term = check_search(query.search)
    if term:
        columns = (
            Customer.customer_code,
            Customer.first_name,
            Customer.last_name,
            Customer.first_name + " " + Customer.last_name,
            Customer.company,
            Customer.email,
        )
        filters.append(customer_matches(columns, term))
    if query.status is not None:
        if query.status not in rules.CUSTOMER_STATUSES:
            raise ValidationError(f"There is no customer status {query.status!r}.", field="status")
        filters.append(Customer.status == query.status)
    if query.type is not None:
        if query.type not in rules.CUSTOMER_TYPES:
            raise ValidationError(f"There is no customer type {query.type!r}.", field="type")
        filters.append(Customer.type == query.type)
    return filters


def _values(clean: CustomerDraft) -> dict[str, Any]:
    return {f.name: getattr(clean, f.name) for f in fields(CustomerDraft)}


def writable_fields(acting: CurrentUser) -> tuple[str, ...]:
    """The customer fields `acting` may change: the credit limit only with credit override
    (the database grants that column alone to it)."""
    return tuple(
        f.name
        for f in fields(CustomerDraft)
        if f.name != "credit_limit" or acting.can(perms.CUSTOMERS_CREDIT_OVERRIDE)
    )


def check_credit_change(acting: CurrentUser, before: Decimal, after: Decimal) -> None:
    """Setting or lifting a credit limit (0 means none) is a credit override."""
    if before != after:
        require(acting, perms.CUSTOMERS_CREDIT_OVERRIDE)


def _check_email_free(session: Session, email: str, *, exclude: uuid.UUID | None) -> None:
    """Email addresses differ ignoring case (idx_customers_email_lower answers this)."""
    statement = select(Customer.customer_code, Customer.first_name, Customer.last_name).where(
        func.lower(Customer.email) == email.lower()
    )
    if exclude is not None:
        statement = statement.where(Customer.id != exclude)
    taken = session.execute(statement.limit(1)).first()
    if taken is not None:
        code, first, last = taken
        raise ConflictError(
            f"The customer {first} {last} ({code or 'no code'}) already has the email "
            f"address {email}.",
            field="email",
        )


def _locked(session: Session, customer_id: uuid.UUID, expected_version: int) -> Customer:
    """The customer, locked for this transaction and still at the version the person saw."""
    customer = session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise NotFoundError("This customer does not exist (any more).")
    if customer.version != expected_version:
        current = _customer(session, customer_id)
        raise ConflictError(
            stale_message(current.updated_by_name, current.updated_at), current=current
        )
    return customer


def _customer_select() -> Select[Customer, str | None]:
    return (
        select(Customer, User.username)
        .outerjoin(User, User.id == Customer.updated_by)
        .execution_options(populate_existing=True)
    )


def _customer_row(
    customer: Customer,
    updated_by_name: str | None,
    *,
    addresses: CustomerAddresses,
) -> CustomerRow:
    return CustomerRow(
        id=customer.id,
        customer_code=customer.customer_code,
        first_name=customer.first_name,
        last_name=customer.last_name,
        company=customer.company,
        email=customer.email,
        phone=customer.phone,
        type=customer.type,
        status=customer.status,
        credit_limit=customer.credit_limit or Decimal("0.00"),
        balance=customer.balance or Decimal("0.00"),
        tax_exempt=bool(customer.tax_exempt),
        notes=customer.notes,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        updated_by_name=updated_by_name,
        version=customer.version,
        addresses=addresses,
    )


def _customer(session: Session, customer_id: uuid.UUID) -> CustomerRow:
    found = session.execute(_customer_select().where(Customer.id == customer_id)).first()
    if found is None:
        raise NotFoundError("This customer does not exist (any more).")
    addresses = read_addresses(session, [customer_id]).get(customer_id, CustomerAddresses())
    return _customer_row(*found, addresses=addresses)


_ADDRESS_FIELDS = tuple(f.name for f in fields(Address))


def read_addresses(
    session: Session, customer_ids: list[uuid.UUID]
) -> dict[uuid.UUID, CustomerAddresses]:
    """The addresses of these customers, by customer (one statement for all of them)."""
    if not customer_ids:
        return {}
    statement = select(CustomerAddress).where(CustomerAddress.customer_id.in_(customer_ids))
    found: dict[uuid.UUID, dict[str, Address]] = {}
    for row in session.scalars(statement):
        address = Address(**{name: getattr(row, name) for name in _ADDRESS_FIELDS})
        found.setdefault(row.customer_id, {})[row.type] = address
    return {
        customer_id: CustomerAddresses(billing=kinds.get("billing"), shipping=kinds.get("shipping"))
        for customer_id, kinds in found.items()
    }


def _save_addresses(session: Session, customer_id: uuid.UUID, wanted: CustomerAddresses) -> bool:
    """Make the customer's address rows say `wanted`: insert, update or delete each type.
    Whether anything changed."""
    kept = read_addresses(session, [customer_id]).get(customer_id, CustomerAddresses())
    changed = False
    for kind in ("billing", "shipping"):
        before, after = getattr(kept, kind), getattr(wanted, kind)
        if before == after:
            continue
        changed = True
        mine = (CustomerAddress.customer_id == customer_id) & (CustomerAddress.type == kind)
        if after is None:
            session.execute(delete(CustomerAddress).where(mine))
        elif before is None:
            session.execute(
                insert(CustomerAddress).values(
                    customer_id=customer_id, type=kind, **_address_values(after)
                )
            )
        else:
            session.execute(update(CustomerAddress).where(mine).values(**_address_values(after)))
    return changed


def _address_values(address: Address) -> dict[str, Any]:
    return {name: getattr(address, name) for name in _ADDRESS_FIELDS}
