"""What every service method shares: its own transaction, retries, permission checks, and
database refusals turned into messages for people.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import (
    AccountDisabledError,
    ConflictError,
    ConnectionLostError,
    ErpError,
    PermissionDeniedError,
    ValidationError,
)
from erpgo_desktop.services.arguments import checked_entry_points
from erpgo_desktop.services.auth import CurrentUser

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Serialization failures and deadlocks are not the user's doing: the work is run again.
RETRIES = 6
_RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)

#: What a unique or check constraint that still refuses a row means to a person, and the
#: field it concerns. Unique constraints become a ConflictError (someone else took the
#: value, perhaps a moment ago on another workstation), checks a ValidationError.
CONSTRAINT_MESSAGES: dict[str, tuple[str, str]] = {
    "products_sku_key": ("sku", "Another product already has this SKU."),
    "idx_unique_skus": ("sku", "Another product already has this SKU."),
    "product_variants_product_id_sku_key": ("sku", "A variant of this product has this SKU."),
    "idx_unique_variant_skus": ("sku", "A variant of this product has this SKU."),
    "customers_email_key": ("email", "Another customer already has this email address."),
    "idx_unique_customer_emails": ("email", "Another customer already has this email address."),
    "customers_customer_code_key": ("customer_code", "This customer code is taken."),
    "users_email_key": ("email", "Another user already has this email address."),
    "idx_unique_emails": ("email", "Another user already has this email address."),
    "users_username_key": ("username", "This username is taken."),
    "roles_name_key": ("name", "A role with this name exists already."),
    "user_roles_user_id_role_id_key": ("roles", "The user has this role already."),
    "warehouses_code_key": ("code", "Another warehouse already has this code."),
    "orders_order_number_key": ("order_number", "This order number is taken."),
    "product_inventory_product_id_warehouse_id_key": (
        "warehouse_id", "This product has stock in this warehouse already."),
    "variant_inventory_variant_id_warehouse_id_key": (
        "warehouse_id", "This variant has stock in this warehouse already."),
    "products_price_check": ("price", "The price must be more than 0."),
    "product_variants_price_check": ("price", "The price must be more than 0."),
    "products_cost_check": ("cost", "The cost cannot be negative."),
    "check_cost_not_higher_than_price": ("cost", "The cost cannot be higher than the price."),
    "order_items_quantity_check": ("quantity", "A line quantity must be at least 1."),
    "order_items_unit_price_check": ("unit_price", "The unit price must be more than 0."),
    "check_inventory_quantities": (
        "quantity",
        "Not enough stock: on hand cannot go below zero or below what is reserved.",
    ),
    "check_variant_inventory_quantities": (
        "quantity",
        "Not enough stock: on hand cannot go below zero or below what is reserved.",
    ),
    "check_inventory_upper_bound": ("quantity", "Stock cannot exceed 999,999,999."),
    "check_variant_inventory_upper_bound": ("quantity", "Stock cannot exceed 999,999,999."),
    "check_total_calculation": ("total_amount", "The order total does not add up."),
}  # fmt: skip

#: A foreign key refuses two things: a row that refers to one someone has just deleted
#: (on insert or update), and deleting a row that others still refer to. Both become a
#: ConflictError. constraint: (field, message when the referred row is missing, message
#: when the deleted row is still referred to; None where the key cascades instead).
REFERENCE_MESSAGES: dict[str, tuple[str, str, str | None]] = {
    "products_category_id_fkey": (
        "category_id", "That category does not exist (any more).", "That category has products."),
    "product_categories_parent_id_fkey": (
        "parent_id", "That parent category does not exist (any more).",
        "That category has subcategories."),
    "product_variants_product_id_fkey": (
        "product_id", "That product does not exist (any more).", None),
    "order_items_product_id_fkey": (
        "product_id", "That product does not exist (any more).", "That product is used by orders."),
    "order_items_variant_id_fkey": (
        "variant_id", "That variant does not exist (any more).", "That variant is used by orders."),
    "order_items_order_id_fkey": ("order_id", "That order does not exist (any more).", None),
    "orders_customer_id_fkey": (
        "customer_id", "That customer does not exist (any more).", "That customer has orders."),
    "product_inventory_product_id_fkey": (
        "product_id", "That product does not exist (any more).", None),
    "product_inventory_warehouse_id_fkey": (
        "warehouse_id", "That warehouse does not exist (any more).", None),
    "variant_inventory_variant_id_fkey": (
        "variant_id", "That variant does not exist (any more).", None),
    "variant_inventory_warehouse_id_fkey": (
        "warehouse_id", "That warehouse does not exist (any more).", None),
    "inventory_transactions_product_id_fkey": (
        "product_id", "That product does not exist (any more).", None),
    "inventory_transactions_warehouse_id_fkey": (
        "warehouse_id", "That warehouse does not exist (any more).", None),
    "inventory_transactions_variant_id_fkey": (
        "variant_id", "That variant does not exist (any more).", None),
    "stock_reservations_warehouse_id_fkey": (
        "warehouse_id", "That warehouse does not exist (any more).",
        "That warehouse holds stock reserved for orders."),
    "warehouses_manager_id_fkey": (
        "manager_id", "That user does not exist (any more).", "That user manages a warehouse."),
    "user_roles_role_id_fkey": ("roles", "That role does not exist (any more).", None),
}  # fmt: skip


def translate(exc: DBAPIError) -> ErpError | None:
    """The message for a database refusal people can act on; None for anything else.

    Refusals no entry explains still become a ValidationError without the driver's text
    (which is logged, since a rule the services should have checked first got through).
    """
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if isinstance(orig, pg_errors.InsufficientPrivilege):
        # The database's own grants: a right taken away since the window learnt the
        # person's permissions, or a path the services did not guard.
        log.warning("the database refused a right: %s", orig)
        return PermissionDeniedError(
            "You may not do this: the database refused it "
            f"({getattr(diag, 'message_primary', None) or 'permission denied'}). "
            "If your roles changed since you signed in, sign in again to see what you may do."
        )
    if constraint == "order_status_transition":
        return ValidationError(
            getattr(diag, "message_primary", None) or "The order cannot go to that status.",
            field="status",
        )
    if isinstance(orig, pg_errors.UniqueViolation | pg_errors.CheckViolation):
        if constraint in CONSTRAINT_MESSAGES:
            field, message = CONSTRAINT_MESSAGES[constraint]
            unique = isinstance(orig, pg_errors.UniqueViolation)
            return (ConflictError if unique else ValidationError)(message, field=field)
    elif isinstance(orig, pg_errors.ForeignKeyViolation | pg_errors.RestrictViolation):
        if constraint in REFERENCE_MESSAGES:
            field, missing, in_use = REFERENCE_MESSAGES[constraint]
            reason = in_use if _still_referenced(exc) else missing
            if reason is not None:
                return ConflictError(reason, field=field)
    elif isinstance(orig, pg_errors.NotNullViolation):
        column = getattr(diag, "column_name", None)
        log.warning("database refused a missing value: %s", orig)
        return ValidationError(f"A value is required ({column}).", field=column)
    elif isinstance(orig, pg_errors.StringDataRightTruncation):
        log.warning("database refused a long text: %s", orig)
        return ValidationError("A text is longer than the database can hold.")
    elif isinstance(orig, pg_errors.NumericValueOutOfRange):
        log.warning("database refused a large number: %s", orig)
        return ValidationError("A number is larger than the database can hold.")
    if isinstance(exc, IntegrityError):
        log.warning("database refused the change: %s", orig)
        column = getattr(diag, "column_name", None)
        detail = f" ({constraint or column})" if constraint or column else ""
        return ValidationError(f"The database refused the change{detail}.", field=column)
    return None


def _still_referenced(exc: DBAPIError) -> bool:
    """Whether a foreign key refused a delete (rather than a row referring to nothing).

    PostgreSQL 18 says so with its own SQLSTATE for ON DELETE RESTRICT; before, and for
    NO ACTION keys, only the statement tells: a DELETE (perhaps cascading) of the row.
    """
    if isinstance(exc.orig, pg_errors.RestrictViolation):
        return True
    return (exc.statement or "").lstrip().upper().startswith("DELETE")


def stale_message(who: str | None, when: datetime | None) -> str:
    """What a save over someone else's newer save is told: who saved and when."""
    by = f"by {who}" if who else "by someone else"
    at = f" on {when.astimezone():%Y-%m-%d at %H:%M:%S}" if when else ""
    return (
        f"This record was changed {by}{at} after you opened it, so your changes were not "
        "saved. Look at the current values and make your change again."
    )


def require(user: CurrentUser, permission: str) -> None:
    if not perms.allows(user.permissions, permission):
        raise PermissionDeniedError(
            f"You may not do this: it needs the permission {permission!r}, "
            f"which your roles ({', '.join(user.roles) or 'none'}) do not grant."
        )


#: SQLSTATEs that mean the server ended or refused the connection itself: class 08
#: (connection exception) and the shutdowns 57P01-57P03 (a restart, a crash, starting up).
#: Other OperationalErrors (a cancelled query, a serialization failure) are not.
_CONNECTION_SQLSTATE_PREFIXES = ("08", "57P01", "57P02", "57P03")


def is_connection_lost(exc: BaseException) -> bool:
    """Whether a database error means the server went away or cannot be reached, rather
    than refusing what was asked of it."""
    orig: BaseException | None = exc
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:  # SQLAlchemy saw the connection break
            return True
        orig = exc.orig
    if isinstance(orig, psycopg.InterfaceError):  # "the connection is closed"
        return True
    if isinstance(orig, psycopg.OperationalError):
        # libpq's own failures (refused, timed out, server closed the connection) carry
        # no SQLSTATE; the server's carry one.
        sqlstate = orig.sqlstate
        return sqlstate is None or sqlstate.startswith(_CONNECTION_SQLSTATE_PREFIXES)
    return False


#: How the server refuses to connect a login role that may no longer log in (a deactivated
#: account). libpq hands psycopg no SQLSTATE for a refused connection, only the server's
#: message, in the server's language (English unless lc_messages says otherwise).
_NOT_PERMITTED = re.compile(r'role "(?P<role>.+?)" is not permitted to log in')


def account_disabled(exc: BaseException) -> AccountDisabledError | None:
    """AccountDisabledError when `exc` is the server refusing to connect a login role that
    may not log in any more; None for anything else.

    Deactivating an account ends its sessions at once (pg_terminate_backend), which the
    person's program sees as an ended connection (57P01, the same as a server restart).
    Only the refusal of the next connection, which the pool makes by itself, says why.
    """
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(orig, psycopg.OperationalError):
        return None
    refused = _NOT_PERMITTED.search(str(orig))
    if refused is None:
        return None
    return AccountDisabledError(login_role=refused.group("role"))


def _raise_if_signed_out(exc: DBAPIError) -> None:
    disabled = account_disabled(exc)
    if disabled is not None:
        log.warning("the server refuses this account's connections: %s", exc.orig)
        raise disabled from exc


def read_reconnecting(sessions: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Run the read-only `work` in a session of its own; a lost connection becomes
    ConnectionLostError, a connection the server refuses to this account
    AccountDisabledError.

    A pooled connection can break between its check at checkout (pool_pre_ping) and its
    use, typically when the server restarts under a workstation that stayed open. The
    pool then drops it, and reading again on a fresh connection is harmless, so a read is
    run once more before the user hears of it; when the server is really gone, the second
    attempt fails at connect, which is quick.
    """
    try:
        with sessions() as session:
            return work(session)
    except DBAPIError as exc:
        _raise_if_signed_out(exc)
        if not is_connection_lost(exc):
            _raise_refused_right(exc)
            raise
        log.info("reading again on a fresh connection after: %s", exc.orig)
    try:
        with sessions() as session:
            return work(session)
    except DBAPIError as exc:
        _raise_if_signed_out(exc)
        if not is_connection_lost(exc):
            _raise_refused_right(exc)
            raise
        log.info("database connection lost: %s", exc.orig)
        raise ConnectionLostError() from exc


def _raise_refused_right(exc: DBAPIError) -> None:
    """A read the database's grants refused is a permission, not a bug."""
    if isinstance(exc.orig, pg_errors.InsufficientPrivilege):
        translated = translate(exc)
        if translated is not None:
            raise translated from exc


class Service:
    """A service: each public method is one unit of work in its own transaction, whose
    arguments are checked against its annotations on the way in (services/arguments.py)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        checked_entry_points(cls)

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def _read(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a session of its own; once more on a fresh connection if the
        connection broke (see `read_reconnecting`)."""
        return read_reconnecting(self._sessions, work)

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a transaction; run it again after a serialization failure or a
        deadlock; turn a refusing constraint or a stale version into an ErpError."""
        for attempt in range(1, RETRIES + 1):
            try:
                with self._sessions.begin() as session:
                    return work(session)
            except DBAPIError as exc:
                if isinstance(exc.orig, _RETRYABLE) and attempt < RETRIES:
                    log.info("retrying after %s (attempt %d)", type(exc.orig).__name__, attempt)
                    continue
                _raise_if_signed_out(exc)
                if is_connection_lost(exc):
                    # Not run again: had the commit itself gone through before the line
                    # broke, a second run would do the work twice. The user decides.
                    log.warning("database connection lost during a change: %s", exc.orig)
                    raise ConnectionLostError() from exc
                translated = translate(exc)
                if translated is None:
                    raise
                raise translated from exc
            except StaleDataError as exc:
                raise ConflictError(
                    "Someone else saved this record while you were editing it; "
                    "reopen it to see their changes."
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover
