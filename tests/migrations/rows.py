"""Valid minimal rows of the seed tables, inserted with plain SQL, for schema tests.

Each helper fills the NOT NULL columns that have no default with unique values, takes
any column as a keyword to override (None inserts an explicit NULL), creates the rows a
foreign key needs unless that key is given, and returns the new row's id.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

_serial = itertools.count(1)


def _n() -> int:
    return next(_serial)


def insert(connection: Connection, table: str, values: dict[str, Any]) -> uuid.UUID:
    columns = ", ".join(values)
    params = ", ".join(f":{column}" for column in values)
    statement = text(f"INSERT INTO {table} ({columns}) VALUES ({params}) RETURNING id")
    return connection.execute(statement, values).scalar_one()


def _needs(values: dict[str, Any], column: str, make: Callable[[], uuid.UUID]) -> None:
    if column not in values:
        values[column] = make()


def user(connection: Connection, **values: Any) -> uuid.UUID:
    n = _n()
    row = {
        "email": f"user{n}@example.com",
        "username": f"user{n}",
        "password_hash": "$argon2id$not-a-real-hash",
        "first_name": "Ada",
        "last_name": "Lovelace",
        **values,
    }
    return insert(connection, "users", row)


def role(connection: Connection, **values: Any) -> uuid.UUID:
    return insert(connection, "roles", {"name": f"role{_n()}", **values})


def user_role(connection: Connection, **values: Any) -> uuid.UUID:
    _needs(values, "user_id", lambda: user(connection))
    _needs(values, "role_id", lambda: role(connection))
    return insert(connection, "user_roles", values)


def category(connection: Connection, **values: Any) -> uuid.UUID:
    return insert(connection, "product_categories", {"name": f"Category {_n()}", **values})


def product(connection: Connection, **values: Any) -> uuid.UUID:
    n = _n()
    _needs(values, "category_id", lambda: category(connection))
    row = {"sku": f"SKU-{n}", "name": f"Product {n}", "price": Decimal("9.99"), **values}
    return insert(connection, "products", row)


def variant(connection: Connection, **values: Any) -> uuid.UUID:
    n = _n()
    _needs(values, "product_id", lambda: product(connection))
    row = {"sku": f"VAR-{n}", "name": f"Variant {n}", "price": Decimal("9.99"), **values}
    return insert(connection, "product_variants", row)


def customer(connection: Connection, **values: Any) -> uuid.UUID:
    n = _n()
    row = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": f"customer{n}@example.com",
        **values,
    }
    return insert(connection, "customers", row)


def address(connection: Connection, **values: Any) -> uuid.UUID:
    row = {
        "type": "shipping",
        "first_name": "Grace",
        "last_name": "Hopper",
        "address1": "1 Main Street",
        "city": "Arlington",
        "postal_code": "22201",
        "country": "US",
        **values,
    }
    return insert(connection, "order_addresses", row)


def order(connection: Connection, **values: Any) -> uuid.UUID:
    _needs(values, "customer_id", lambda: customer(connection))
    _needs(values, "shipping_address_id", lambda: address(connection, type="shipping"))
    _needs(values, "billing_address_id", lambda: address(connection, type="billing"))
    # created_by has no foreign key in the seed: any id will do.
    row = {"order_number": f"SO-{_n()}", "created_by": uuid.uuid4(), **values}
    return insert(connection, "orders", row)


def order_item(connection: Connection, **values: Any) -> uuid.UUID:
    _needs(values, "order_id", lambda: order(connection))
    _needs(values, "product_id", lambda: product(connection))
    row = {"quantity": 1, "unit_price": Decimal("9.99"), **values}
    return insert(connection, "order_items", row)


def warehouse(connection: Connection, **values: Any) -> uuid.UUID:
    n = _n()
    return insert(connection, "warehouses", {"code": f"WH{n}", "name": f"Warehouse {n}", **values})


def inventory(connection: Connection, **values: Any) -> uuid.UUID:
    _needs(values, "product_id", lambda: product(connection))
    _needs(values, "warehouse_id", lambda: warehouse(connection))
    return insert(connection, "product_inventory", values)


def inventory_transaction(connection: Connection, **values: Any) -> uuid.UUID:
    _needs(values, "product_id", lambda: product(connection))
    _needs(values, "warehouse_id", lambda: warehouse(connection))
    row = {"transaction_type": "IN", "quantity": 1, **values}
    return insert(connection, "inventory_transactions", row)


# One helper per seed table, by table name.
BY_TABLE: dict[str, Callable[..., uuid.UUID]] = {
    "users": user,
    "roles": role,
    "user_roles": user_role,
    "product_categories": category,
    "products": product,
    "product_variants": variant,
    "customers": customer,
    "order_addresses": address,
    "orders": order,
    "order_items": order_item,
    "warehouses": warehouse,
    "product_inventory": inventory,
    "inventory_transactions": inventory_transaction,
}
