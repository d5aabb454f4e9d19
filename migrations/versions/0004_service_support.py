"""What the business services need beside the seed schema.

- document_counters and next_document_number(): order numbers YYYY-NNNNNN (a counter per
  year) and customer codes CUST-NNNNNN, generated inside the inserting transaction; the
  counter row's lock makes concurrent workstations wait their turn instead of colliding.
- version and updated_by on the records people edit (categories, products, variants,
  customers, warehouses, orders): a save carries the version it was loaded at, and a
  mismatch is shown as a conflict naming who changed the record and when.
- stock_reservations: which warehouse holds how much of an order line, so cancelling
  releases exactly what confirming reserved, and shipping takes it from the same place.
- variant_inventory, inventory_transactions.variant_id and product_variants.stock_quantity
  kept by trigger: variants that track inventory have stock per warehouse and a ledger,
  beside (not inside) the product's own stock.
- users.failed_login_count and users.locked_until: a lock after repeated failed logins.
- An upper bound of 999,999,999 on stock quantities (business-rules.md).
- A recount of products.stock_quantity after a stock row is deleted (the seed's trigger
  covers inserts and updates only).
- notify_change(): every committed change of products, stock, orders and customers sends
  NOTIFY erpgo_changes with the table, the operation and up to 100 ids (null: too many to
  list, reload everything), so other workstations refresh.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED_TABLES = (
    "product_categories",
    "products",
    "product_variants",
    "customers",
    "warehouses",
    "orders",
)

# (table, the id column other workstations refresh by)
NOTIFYING_TABLES = (
    ("products", "id"),
    ("product_variants", "product_id"),
    ("product_inventory", "product_id"),
    ("variant_inventory", "variant_id"),
    ("orders", "id"),
    ("order_items", "order_id"),
    ("customers", "id"),
    ("warehouses", "id"),
)

UPGRADE = """
CREATE TABLE document_counters (
    kind VARCHAR(20) NOT NULL,
    year INTEGER NOT NULL,
    last_value INTEGER NOT NULL DEFAULT 0 CHECK (last_value >= 0),
    PRIMARY KEY (kind, year)
);

CREATE FUNCTION next_document_number(document_kind VARCHAR, document_year INTEGER)
RETURNS INTEGER AS $$
DECLARE
    issued INTEGER;
BEGIN
    INSERT INTO document_counters (kind, year, last_value)
    VALUES (document_kind, document_year, 1)
    ON CONFLICT (kind, year)
    DO UPDATE SET last_value = document_counters.last_value + 1
    RETURNING last_value INTO issued;
    IF issued > 999999 THEN
        RAISE EXCEPTION 'the % numbers of % are used up', document_kind, document_year
            USING ERRCODE = 'numeric_value_out_of_range';
    END IF;
    RETURN issued;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION next_order_number() RETURNS VARCHAR AS $$
DECLARE
    order_year INTEGER := EXTRACT(YEAR FROM CURRENT_TIMESTAMP AT TIME ZONE 'UTC');
BEGIN
    RETURN order_year::text || '-'
        || lpad(next_document_number('order', order_year)::text, 6, '0');
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION next_customer_code() RETURNS VARCHAR AS $$
BEGIN
    RETURN 'CUST-' || lpad(next_document_number('customer', 0)::text, 6, '0');
END;
$$ LANGUAGE plpgsql;

CREATE TABLE stock_reservations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    order_item_id UUID NOT NULL REFERENCES order_items(id) ON DELETE CASCADE,
    warehouse_id UUID NOT NULL REFERENCES warehouses(id) ON DELETE RESTRICT,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    UNIQUE (order_item_id, warehouse_id)
);
CREATE INDEX idx_stock_reservations_warehouse_id ON stock_reservations(warehouse_id);

CREATE TABLE variant_inventory (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    variant_id UUID NOT NULL REFERENCES product_variants(id) ON DELETE CASCADE,
    warehouse_id UUID NOT NULL REFERENCES warehouses(id) ON DELETE CASCADE,
    quantity_available INTEGER NOT NULL DEFAULT 0,
    quantity_reserved INTEGER NOT NULL DEFAULT 0,
    reorder_level INTEGER NOT NULL DEFAULT 0,
    max_stock INTEGER,
    last_updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    updated_by UUID,
    UNIQUE (variant_id, warehouse_id),
    CONSTRAINT check_variant_inventory_quantities CHECK (
        quantity_available >= 0 AND
        quantity_reserved >= 0 AND
        quantity_available >= quantity_reserved
    ),
    CONSTRAINT check_variant_inventory_upper_bound CHECK (quantity_available <= 999999999)
);

ALTER TABLE product_inventory ADD CONSTRAINT check_inventory_upper_bound
    CHECK (quantity_available <= 999999999);

ALTER TABLE inventory_transactions
    ADD COLUMN variant_id UUID REFERENCES product_variants(id) ON DELETE CASCADE;
CREATE INDEX idx_inventory_transactions_stock
    ON inventory_transactions(product_id, warehouse_id, variant_id);
CREATE INDEX idx_inventory_transactions_reference_id
    ON inventory_transactions(reference_id) WHERE reference_id IS NOT NULL;
CREATE INDEX idx_product_inventory_warehouse_id ON product_inventory(warehouse_id);

CREATE FUNCTION update_variant_stock() RETURNS TRIGGER AS $$
DECLARE
    changed UUID := CASE WHEN TG_OP = 'DELETE' THEN OLD.variant_id ELSE NEW.variant_id END;
BEGIN
    UPDATE product_variants
    SET stock_quantity = (
        SELECT COALESCE(SUM(quantity_available), 0)
        FROM variant_inventory
        WHERE variant_id = changed
    )
    WHERE id = changed;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trigger_update_variant_stock
    AFTER INSERT OR UPDATE OR DELETE ON variant_inventory
    FOR EACH ROW EXECUTE FUNCTION update_variant_stock();

-- The seed's stock trigger runs on INSERT and UPDATE only: a deleted stock row would
-- leave products.stock_quantity counting it. This one recounts after a delete.
CREATE FUNCTION update_product_stock_after_delete() RETURNS TRIGGER AS $$
BEGIN
    UPDATE products
    SET stock_quantity = (
        SELECT COALESCE(SUM(quantity_available), 0)
        FROM product_inventory
        WHERE product_id = OLD.product_id
    )
    WHERE id = OLD.product_id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trigger_update_product_stock_after_delete
    AFTER DELETE ON product_inventory
    FOR EACH ROW EXECUTE FUNCTION update_product_stock_after_delete();

ALTER TABLE users
    ADD COLUMN failed_login_count INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN locked_until TIMESTAMP WITH TIME ZONE;

CREATE FUNCTION notify_change() RETURNS TRIGGER AS $$
DECLARE
    id_column TEXT := TG_ARGV[0];
    changed JSONB;
BEGIN
    -- Up to 101 distinct ids: more than 100 means "too many to list", sent as null.
    IF TG_OP = 'DELETE' THEN
        EXECUTE format('SELECT jsonb_agg(x) FROM (SELECT DISTINCT %I AS x FROM old_rows LIMIT 101) s',
                       id_column) INTO changed;
    ELSE
        EXECUTE format('SELECT jsonb_agg(x) FROM (SELECT DISTINCT %I AS x FROM new_rows LIMIT 101) s',
                       id_column) INTO changed;
    END IF;
    IF changed IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('erpgo_changes', jsonb_build_object(
        'table', TG_TABLE_NAME,
        'op', TG_OP,
        'ids', CASE WHEN jsonb_array_length(changed) > 100 THEN NULL ELSE changed END
    )::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    for table in VERSIONED_TABLES:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN version INTEGER NOT NULL DEFAULT 1, "
            "ADD COLUMN updated_by UUID REFERENCES users(id) ON DELETE SET NULL"
        )
    for table, id_column in NOTIFYING_TABLES:
        for event, rows in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            op.execute(
                f"CREATE TRIGGER notify_{table}_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {rows} TABLE AS {rows.lower()}_rows "
                f"FOR EACH STATEMENT EXECUTE FUNCTION notify_change('{id_column}')"
            )


def downgrade() -> None:
    for table, _ in NOTIFYING_TABLES:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER notify_{table}_{event} ON {table}")
    op.execute("DROP FUNCTION notify_change()")
    op.execute("DROP TRIGGER trigger_update_product_stock_after_delete ON product_inventory")
    op.execute("DROP FUNCTION update_product_stock_after_delete()")
    for table in VERSIONED_TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN updated_by, DROP COLUMN version")
    op.execute("ALTER TABLE users DROP COLUMN locked_until, DROP COLUMN failed_login_count")
    op.execute("DROP INDEX idx_product_inventory_warehouse_id")
    op.execute("ALTER TABLE inventory_transactions DROP COLUMN variant_id")
    op.execute("DROP INDEX IF EXISTS idx_inventory_transactions_reference_id")
    op.execute("DROP INDEX IF EXISTS idx_inventory_transactions_stock")
    op.execute("ALTER TABLE product_inventory DROP CONSTRAINT check_inventory_upper_bound")
    op.execute("DROP TABLE variant_inventory")
    op.execute("DROP FUNCTION update_variant_stock()")
    op.execute("DROP TABLE stock_reservations")
    op.execute("DROP FUNCTION next_customer_code()")
    op.execute("DROP FUNCTION next_order_number()")
    op.execute("DROP FUNCTION next_document_number(VARCHAR, INTEGER)")
    op.execute("DROP TABLE document_counters")
