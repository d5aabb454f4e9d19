"""Indexes for the Products list: substring search and keyset paging in every sort order.

The seed's GIN index on to_tsvector(name) answers word searches, but clerks type parts
of SKUs and names; trigram indexes (pg_trgm, which the seed installs) answer ILIKE
'%part%'. Keyset pages order by (key, id), which needs a btree on exactly that pair.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "idx_products_sku_trgm": "products USING gin (sku gin_trgm_ops)",
    "idx_products_name_trgm": "products USING gin (name gin_trgm_ops)",
    "idx_products_sku_id": "products (sku, id)",
    "idx_products_name_id": "products (name, id)",
    "idx_products_price_id": "products (price, id)",
    "idx_products_stock_quantity_id": "products (stock_quantity, id)",
}


def upgrade() -> None:
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {definition}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
