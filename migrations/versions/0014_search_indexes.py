"""Indexes for every list's search box: trigram indexes where people type parts of words.

A search box matches parts of codes, names and email addresses (`ILIKE '%term%'`), which
only a trigram index (pg_trgm, GIN) answers without reading the whole table. Revisions
0003 and 0005 gave products theirs; customers, order numbers and variants had none, so
every customer search read all customers, and an orders search walked the orders by date
filtering each against that scan (docs/services.md, "How a search reads").

- customers: one index of code, first name, last name, company and email joined by
  blanks (db/models.py CUSTOMER_SEARCH_TEXT_SQL): whatever a customer search matches in one
  of them, it matches in the joined text, so the index finds every candidate and the
  search's own conditions, checked on those rows only, keep the exact meaning. One
  index instead of six: one bitmap to build, and the full name "first last" included;
- orders: the order number, and (customer_id, order_date, id): the orders of the
  customers a search found, read by index (and a customer's orders newest first);
- product_variants: SKU and name (item lookup, warehouse stock, sales by product).

pg_trgm is trusted since PostgreSQL 13, so a database owner who is not a superuser may
create it; the seed (revision 0001) already does, IF NOT EXISTS keeps this harmless.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: a later change of the model's expression needs a revision of its own.
CUSTOMER_SEARCH_TEXT = (
    "coalesce(customer_code, '') || ' ' || first_name || ' ' || last_name || ' ' "
    "|| coalesce(company, '') || ' ' || email"
)

INDEXES = {
    # db/models.py CUSTOMER_SEARCH_TEXT, which the searches repeat word for word.
    "idx_customers_search_trgm": f"customers USING gin (({CUSTOMER_SEARCH_TEXT}) gin_trgm_ops)",
    "idx_orders_number_trgm": "orders USING gin (order_number gin_trgm_ops)",
    "idx_orders_customer_date_id": "orders (customer_id, order_date, id)",
    "idx_product_variants_sku_trgm": "product_variants USING gin (sku gin_trgm_ops)",
    "idx_product_variants_name_trgm": "product_variants USING gin (name gin_trgm_ops)",
}


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {definition}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
