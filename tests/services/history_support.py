"""One small shop for the change history's tests: a category, HX-1 (a hammer at 10.00, 50
on hand in MAIN) and a customer, made by the maintainer (so the history starts there)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.engine import Engine

_STATEMENTS = (
    "INSERT INTO product_categories (id, name, path, level)"
    " VALUES (:category, 'Tools', '/Tools', 1)",
    "INSERT INTO products (id, sku, name, category_id, price, track_inventory)"
    " VALUES (:product, 'HX-1', 'Hammer', :category, 10.00, true)",
    "INSERT INTO warehouses (id, code, name) VALUES (:warehouse, 'MAIN', 'Main')",
    "INSERT INTO inventory_transactions"
    " (product_id, warehouse_id, transaction_type, quantity, reason)"
    " VALUES (:product, :warehouse, 'IN', 50, 'seed')",
    "INSERT INTO customers (id, first_name, last_name, email)"
    " VALUES (:customer, 'Carl', 'Customer', 'carl@example.com')",
)


def seed_shop(engine: Engine) -> dict[str, uuid.UUID]:
    """The ids of the shop's category, product, warehouse and customer."""
    ids = {name: uuid.uuid4() for name in ("category", "product", "warehouse", "customer")}
    with engine.begin() as connection:
        for statement in _STATEMENTS:
            connection.execute(text(statement), ids)
    return ids
