"""What the desktop screens need beside the services' tables.

- order_status_history: every status an order entered, when and by whom, written by a
  trigger on orders so no code path can change a status without leaving its line.
  changed_by is the order's updated_by, which every service write sets; like the seed's
  orders.created_by it names a user without a foreign key (orders written by other tools
  may carry ids of users this database does not have).
- Barcode lookups: a scanner types a code and Enter, and the order entry and stock dialogs
  look it up by exact barcode (btree, only rows that have one); the Products search box
  also matches parts of barcodes (trigram, as revision 0003 does for SKU and name).
- Keyset paging of the Orders list (newest first) and the Customers list (by name).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "idx_products_barcode": "products (barcode) WHERE barcode IS NOT NULL",
    "idx_products_barcode_trgm": "products USING gin (barcode gin_trgm_ops)",
    "idx_product_variants_barcode": "product_variants (barcode) WHERE barcode IS NOT NULL",
    "idx_orders_order_date_id": "orders (order_date, id)",
    "idx_customers_name_id": "customers (last_name, first_name, id)",
}

UPGRADE = """
CREATE TABLE order_status_history (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id UUID NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    from_status VARCHAR(20),
    to_status VARCHAR(20) NOT NULL,
    changed_by UUID,
    changed_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()
);
CREATE INDEX idx_order_status_history_order ON order_status_history (order_id, changed_at);

CREATE FUNCTION record_order_status() RETURNS TRIGGER AS $$
BEGIN
    INSERT INTO order_status_history (order_id, from_status, to_status, changed_by)
    VALUES (
        NEW.id,
        CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END,
        NEW.status,
        COALESCE(NEW.updated_by, NEW.created_by)
    );
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER record_order_status_on_insert AFTER INSERT ON orders
    FOR EACH ROW EXECUTE FUNCTION record_order_status();
CREATE TRIGGER record_order_status_on_update AFTER UPDATE OF status ON orders
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION record_order_status();

-- Orders that exist already get their present status as a first line.
INSERT INTO order_status_history (order_id, from_status, to_status, changed_by, changed_at)
SELECT id, NULL, status, COALESCE(updated_by, created_by), COALESCE(updated_at, created_at)
FROM orders;
"""

DOWNGRADE = """
DROP TRIGGER record_order_status_on_update ON orders;
DROP TRIGGER record_order_status_on_insert ON orders;
DROP FUNCTION record_order_status();
DROP TABLE order_status_history;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {definition}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
    op.execute(DOWNGRADE)
