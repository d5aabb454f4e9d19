"""Permissions are `resource.action` names; roles list the ones they grant."""

from __future__ import annotations

from collections.abc import Iterable

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
