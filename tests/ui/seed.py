"""Products for tests, written with plain SQL into the test's own database.

Shared by tests/services/test_catalog.py and the UI tests: both need the same kind of rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class SeedProduct:
    sku: str
    name: str
    price: Decimal = Decimal("1.00")
    stock_quantity: int = 0
    is_active: bool = True


def insert_category(engine: Engine, name: str = "Tools") -> uuid.UUID:
    with engine.begin() as conn:
        category_id = conn.execute(
            text("INSERT INTO product_categories (name) VALUES (:name) RETURNING id"),
            {"name": name},
        ).scalar_one()
    assert isinstance(category_id, uuid.UUID)
    return category_id


def insert_products(
    engine: Engine, products: Iterable[SeedProduct], category: str = "Tools"
) -> None:
    category_id = insert_category(engine, category)
    rows = [
        {
            "sku": p.sku,
            "name": p.name,
            "category_id": category_id,
            "price": p.price,
            "stock": p.stock_quantity,
            "active": p.is_active,
        }
        for p in products
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (sku, name, category_id, price, stock_quantity, is_active)"
                " VALUES (:sku, :name, :category_id, :price, :stock, :active)"
            ),
            rows,
        )


def seed_many(engine: Engine, count: int, category: str = "Tools") -> None:
    """`count` products SKU-00001... whose names, prices and stock repeat (ties to page over)."""
    category_id = insert_category(engine, category)
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO products (sku, name, category_id, price, stock_quantity, is_active)
                SELECT 'SKU-' || lpad(i::text, 5, '0'),
                       'Widget ' || (i % 13),
                       :category_id,
                       (i % 7) + 1.50,
                       i % 5,
                       i % 10 <> 0
                FROM generate_series(1, :count) AS i
                """
            ),
            {"category_id": category_id, "count": count},
        )
