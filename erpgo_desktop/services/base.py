"""What every service method shares: its own transaction, retries, permission checks, and
database refusals turned into messages for people.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.errors import (
    ConflictError,
    ErpError,
    PermissionDeniedError,
    ValidationError,
)
from erpgo_desktop.services.auth import CurrentUser

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Serialization failures and deadlocks are not the user's doing: the work is run again.
RETRIES = 6
_RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)

#: What a constraint that still refuses a row means to a person, and the field it concerns.
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
    "warehouses_code_key": ("code", "Another warehouse already has this code."),
    "orders_order_number_key": ("order_number", "This order number is taken."),
    "products_price_check": ("price", "The price must be more than 0."),
    "product_variants_price_check": ("price", "The price must be more than 0."),
    "products_cost_check": ("cost", "The cost cannot be negative."),
    "check_cost_not_higher_than_price": ("cost", "The cost cannot be higher than the price."),
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
    "products_category_id_fkey": ("category", "That category does not exist (any more)."),
    "order_items_product_id_fkey": ("product", "That product is used by orders."),
    "orders_customer_id_fkey": ("customer", "That customer has orders."),
    "product_categories_parent_id_fkey": ("parent", "That category has subcategories."),
}  # fmt: skip


def translate(exc: DBAPIError) -> ErpError | None:
    """The message for a database refusal people can act on; None for anything else."""
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint in CONSTRAINT_MESSAGES:
        field, message = CONSTRAINT_MESSAGES[constraint]
        error_type = ConflictError if constraint.endswith(("_key", "fkey")) else ValidationError
        if constraint.startswith("idx_unique"):
            error_type = ConflictError
        return error_type(message, field=field)
    if isinstance(exc, IntegrityError):
        column = getattr(diag, "column_name", None)
        detail = f" ({constraint or column})" if constraint or column else ""
        return ValidationError(f"The database refused the change{detail}.", field=column)
    return None


def require(user: CurrentUser, permission: str) -> None:
    if not perms.allows(user.permissions, permission):
        raise PermissionDeniedError(
            f"You may not do this: it needs the permission {permission!r}, "
            f"which your roles ({', '.join(user.roles) or 'none'}) do not grant."
        )


class Service:
    """A service: each public method is one unit of work in its own transaction."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def _read(self, work: Callable[[Session], T]) -> T:
        with self._sessions() as session:
            return work(session)

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
