"""Permissions are `resource.action` names; roles list the ones they grant."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Grants every permission, present and future (the admin role).
ALL = "*"

PRODUCTS_READ = "products.read"
PRODUCTS_WRITE = "products.write"
CUSTOMERS_READ = "customers.read"
CUSTOMERS_WRITE = "customers.write"
CUSTOMERS_CREDIT_OVERRIDE = "customers.credit_override"
ORDERS_READ = "orders.read"
ORDERS_CREATE = "orders.create"
ORDERS_CONFIRM = "orders.confirm"
ORDERS_APPROVE = "orders.approve"
ORDERS_SHIP = "orders.ship"
ORDERS_CANCEL = "orders.cancel"
ORDERS_RETURN = "orders.return"
ORDERS_PAYMENT = "orders.payment"
INVENTORY_READ = "inventory.read"
INVENTORY_RECEIVE = "inventory.receive"
INVENTORY_ADJUST = "inventory.adjust"
INVENTORY_TRANSFER = "inventory.transfer"
INVENTORY_COUNT = "inventory.count"
WAREHOUSES_WRITE = "warehouses.write"
REPORTS_VIEW = "reports.view"
USERS_ADMIN = "users.admin"

EVERY_PERMISSION: tuple[str, ...] = (
    PRODUCTS_READ, PRODUCTS_WRITE,
    CUSTOMERS_READ, CUSTOMERS_WRITE, CUSTOMERS_CREDIT_OVERRIDE,
    ORDERS_READ, ORDERS_CREATE, ORDERS_CONFIRM, ORDERS_APPROVE, ORDERS_SHIP,
    ORDERS_CANCEL, ORDERS_RETURN, ORDERS_PAYMENT,
    INVENTORY_READ, INVENTORY_RECEIVE, INVENTORY_ADJUST, INVENTORY_TRANSFER, INVENTORY_COUNT,
    WAREHOUSES_WRITE, REPORTS_VIEW, USERS_ADMIN,
)  # fmt: skip

#: The default roles of business-rules.md, as revision 0002 seeds them.
# fmt: off
DEFAULT_ROLES: dict[str, tuple[str, ...]] = {
    "admin": (ALL,),
    "manager": tuple(p for p in EVERY_PERMISSION if p != USERS_ADMIN),
    "sales": (
        CUSTOMERS_READ, CUSTOMERS_WRITE,
        ORDERS_READ, ORDERS_CREATE, ORDERS_CONFIRM,
        PRODUCTS_READ, INVENTORY_READ,
    ),
    "warehouse_clerk": (
        INVENTORY_READ, INVENTORY_RECEIVE, INVENTORY_ADJUST, INVENTORY_TRANSFER, INVENTORY_COUNT,
        ORDERS_READ, ORDERS_SHIP, PRODUCTS_READ,
    ),
}
# fmt: on


def granted(role_permissions: Iterable[object]) -> frozenset[str]:
    """The permissions a set of role grants add up to; unknown JSON shapes grant nothing."""
    return frozenset(p for p in role_permissions if isinstance(p, str))


def allows(permissions: frozenset[str], permission: str) -> bool:
    return ALL in permissions or permission in permissions


# What each permission lets a person do in the database itself, whatever program they
# connect with. services/security.py grants each permission's privileges to one NOLOGIN
# role per permission; an application role is a member of the roles of its permissions.
# What must hold whoever connects is not granted to anyone: on-hand stock (the ledger
# writes it), ledger rows once written, users, roles and memberships (administration
# functions change them), the password hashes.


@dataclass(frozen=True)
class TableGrant:
    """Privileges on one table: all its columns, or all but `except_columns`, or only
    `columns`."""

    table: str
    privileges: tuple[str, ...]
    columns: tuple[str, ...] = ()
    except_columns: tuple[str, ...] = ()


_READ, _WRITE = ("SELECT",), ("SELECT", "INSERT", "UPDATE", "DELETE")
#: A TableGrant's table meaning every table of the schema.
EVERY_TABLE = "*"

_STOCK_TABLES = ("product_inventory", "variant_inventory")
#: Locking a stock row (SELECT ... FOR UPDATE) takes UPDATE on one of its columns; these
#: say only when and by whom a row was last locked for a change.
_STOCK_TOUCH = tuple(
    TableGrant(t, ("UPDATE",), columns=("last_updated_at", "updated_by")) for t in _STOCK_TABLES
)
#: New stock rows start empty: their quantities come from the ledger.
_STOCK_NEW_ROWS = tuple(
    TableGrant(t, ("INSERT",), except_columns=("quantity_available", "quantity_reserved"))
    for t in _STOCK_TABLES
)
_STOCK_MOVES = (
    TableGrant("inventory_transactions", ("SELECT", "INSERT")),
    *_STOCK_NEW_ROWS,
    *_STOCK_TOUCH,
)
_RESERVED = tuple(TableGrant(t, ("UPDATE",), columns=("quantity_reserved",)) for t in _STOCK_TABLES)
_RESERVING = (TableGrant("stock_reservations", _WRITE), *_RESERVED, *_STOCK_NEW_ROWS, *_STOCK_TOUCH)
#: Shipping and cancelling give reserved stock back (or out); only confirming takes more.
_RELEASING = (
    TableGrant("stock_reservations", ("SELECT", "UPDATE", "DELETE")),
    *_RESERVED,
    *_STOCK_TOUCH,
)
#: A confirmed order's unpaid total is on its customer's balance until paid or cancelled.
_BALANCE = TableGrant(
    "customers", ("UPDATE",), columns=("balance", "version", "updated_at", "updated_by")
)
#: An order's columns by who may write them: its status moves with several permissions
#: (the database's order_status_guard says which status needs which), the rest with one.
_ORDER_BOOKKEEPING = ("status", "previous_status", "version", "updated_at", "updated_by",
                      "internal_notes")  # fmt: skip
_ORDER_APPROVAL = ("approved_by", "approved_at")
_ORDER_PAYMENT = ("payment_status", "paid_amount", "refunded_amount")
_ORDER_SHIPPING = ("shipping_date", "delivery_date", "tracking_number", "carrier",
                   "shipped_by", "shipped_at")  # fmt: skip
_LINE_BOOKKEEPING = ("status", "updated_at")


def _order_update(*columns: str) -> TableGrant:
    return TableGrant("orders", ("UPDATE",), columns=(*_ORDER_BOOKKEEPING, *columns))


def _line_update(*columns: str) -> TableGrant:
    return TableGrant("order_items", ("UPDATE",), columns=(*_LINE_BOOKKEEPING, *columns))


#: Every signed-in person, whatever their roles: who is who, what roles grant.
SIGNED_IN_GRANTS: tuple[TableGrant, ...] = (
    TableGrant("users", _READ, except_columns=("password_hash",)),
    TableGrant("roles", _READ),
    TableGrant("user_roles", _READ),
    TableGrant("alembic_version", _READ),
    TableGrant("erpgo_security", _READ),
    TableGrant("erpgo_permission_roles", _READ),
    # Row security shows each person the changes of the tables they may read.
    TableGrant("change_log", _READ),
    TableGrant("erpgo_tracked_tables", _READ),
)

# fmt: off
DATABASE_GRANTS: dict[str, tuple[TableGrant, ...]] = {
    PRODUCTS_READ: (
        TableGrant("product_categories", _READ), TableGrant("products", _READ),
        TableGrant("product_variants", _READ),
    ),
    PRODUCTS_WRITE: (
        TableGrant("product_categories", _WRITE), TableGrant("products", _WRITE),
        TableGrant("product_variants", _WRITE),
    ),
    # A customer's addresses are read and written with the customer.
    CUSTOMERS_READ: (TableGrant("customers", _READ), TableGrant("customer_addresses", _READ)),
    CUSTOMERS_WRITE: (
        # A new customer's limit is chosen when the account is opened; changing it later,
        # lifting it to 0 (none) above all, is a credit override.
        TableGrant("customers", ("SELECT", "INSERT", "DELETE")),
        TableGrant("customers", ("UPDATE",), except_columns=("credit_limit",)),
        TableGrant("customer_addresses", _WRITE),
    ),
    CUSTOMERS_CREDIT_OVERRIDE: (
        TableGrant("customers", ("UPDATE",), columns=("credit_limit",)),
    ),
    ORDERS_READ: (
        TableGrant("orders", _READ), TableGrant("order_items", _READ),
        TableGrant("order_addresses", _READ), TableGrant("order_status_history", _READ),
        TableGrant("stock_reservations", _READ),
        # An order names its customer, its lines' products and the warehouses holding its
        # stock, whoever reads it.
        TableGrant("customers", _READ), TableGrant("customer_addresses", _READ),
        TableGrant("products", _READ),
        TableGrant("product_variants", _READ), TableGrant("warehouses", _READ),
    ),
    ORDERS_CREATE: (
        TableGrant("orders", ("SELECT", "INSERT", "DELETE")),
        TableGrant("orders", ("UPDATE",),
                   except_columns=(*_ORDER_APPROVAL, *_ORDER_PAYMENT, *_ORDER_SHIPPING)),
        TableGrant("order_items", _WRITE), TableGrant("order_addresses", _WRITE),
    ),
    ORDERS_CONFIRM: (_order_update(), _line_update(), *_RESERVING, _BALANCE),
    ORDERS_APPROVE: (_order_update(*_ORDER_APPROVAL),),
    ORDERS_SHIP: (
        _order_update(*_ORDER_SHIPPING), _line_update("shipped_quantity"),
        *_RELEASING, *_STOCK_MOVES,
    ),
    ORDERS_CANCEL: (_order_update(), _line_update(), *_RELEASING, _BALANCE),
    ORDERS_RETURN: (_order_update(), _line_update("returned_quantity"), *_STOCK_MOVES),
    ORDERS_PAYMENT: (_order_update(*_ORDER_PAYMENT), _BALANCE),
    INVENTORY_READ: (
        *(TableGrant(t, _READ) for t in _STOCK_TABLES),
        TableGrant("inventory_transactions", _READ), TableGrant("warehouses", _READ),
        TableGrant("stock_reservations", _READ),
    ),
    INVENTORY_RECEIVE: _STOCK_MOVES,
    INVENTORY_ADJUST: (
        *_STOCK_MOVES,
        *(TableGrant(t, ("UPDATE",), columns=("reorder_level", "max_stock"))
          for t in _STOCK_TABLES),
    ),
    INVENTORY_TRANSFER: _STOCK_MOVES,
    INVENTORY_COUNT: _STOCK_MOVES,
    WAREHOUSES_WRITE: (TableGrant("warehouses", _WRITE),),
    REPORTS_VIEW: tuple(
        TableGrant(t, _READ) for t in (
            "product_categories", "products", "product_variants", "customers",
            "customer_addresses", "orders",
            "order_items", "order_addresses", "order_status_history", "warehouses",
            "product_inventory", "variant_inventory", "inventory_transactions",
            "stock_reservations", "dashboard_stock_value", "dashboard_stock_value_pending",
            "dashboard_order_day", "dashboard_order_day_pending", "dashboard_product_day",
            "dashboard_product_day_pending", "dashboard_product_month",
            "dashboard_customer_day", "dashboard_customer_day_pending",
            "dashboard_customer_month", "report_stock_totals", "report_stock_totals_pending",
        )
    ),
    # Users, roles and memberships change only through the administration functions,
    # which check this permission themselves.
    # Administrators back up the whole database from the window: pg_dump runs as them and
    # reads every table. users.password_hash holds no hash (the password is the login
    # role's; setup-roles clears what earlier versions kept there).
    USERS_ADMIN: (TableGrant(EVERY_TABLE, _READ),),
}
# fmt: on
