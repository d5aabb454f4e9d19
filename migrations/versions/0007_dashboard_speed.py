"""A low-stock flag on every stock row, kept by the database, so low stock is an index read.

The low-stock list (Inventory tab and Dashboard) compared each of 1.4 million stock rows
with its reorder level, which for a row whose own level is 0 is the product's (variant's)
min_stock_level: a join of every stock row to its item, about a second. Now
product_inventory and variant_inventory carry `is_low` (sellable <= the reorder level that
applies, `rules.effective_reorder_level` in SQL) and a partial index of the rows where it
holds.

Who keeps it: a BEFORE INSERT OR UPDATE trigger on each stock table computes it from the
row (and, when the row's own level is 0, from its item's min_stock_level); an AFTER UPDATE
OF min_stock_level trigger on products and product_variants recomputes it on the item's
rows that follow the item's level. `stock_flags_rebuild()` recomputes every flag (this
migration, and the demo loader, which writes stock rows with triggers off); it rewrites only
the rows whose flag is wrong.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = """
-- The reorder level that applies: the row's own, else the item's minimum (never below 0).
CREATE FUNCTION stock_is_low(
    on_hand INTEGER, reserved INTEGER, row_level INTEGER, item_min_level INTEGER
) RETURNS BOOLEAN LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT on_hand - reserved
        <= CASE WHEN row_level > 0 THEN row_level ELSE greatest(coalesce(item_min_level, 0), 0) END
$$;

ALTER TABLE product_inventory ADD COLUMN is_low BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE variant_inventory ADD COLUMN is_low BOOLEAN NOT NULL DEFAULT false;

CREATE FUNCTION product_stock_flag_low() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    NEW.is_low := stock_is_low(
        NEW.quantity_available, NEW.quantity_reserved, NEW.reorder_level,
        CASE WHEN NEW.reorder_level > 0 THEN 0
             ELSE (SELECT min_stock_level FROM products WHERE id = NEW.product_id) END);
    RETURN NEW;
END;
$$;

CREATE FUNCTION variant_stock_flag_low() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    NEW.is_low := stock_is_low(
        NEW.quantity_available, NEW.quantity_reserved, NEW.reorder_level,
        CASE WHEN NEW.reorder_level > 0 THEN 0
             ELSE (SELECT min_stock_level FROM product_variants WHERE id = NEW.variant_id) END);
    RETURN NEW;
END;
$$;

-- Only the rows that follow the item's level and whose flag flips are written.
CREATE FUNCTION product_min_level_changed() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE product_inventory
    SET is_low = stock_is_low(quantity_available, quantity_reserved, 0, NEW.min_stock_level)
    WHERE product_id = NEW.id AND reorder_level <= 0
        AND is_low <> stock_is_low(quantity_available, quantity_reserved, 0, NEW.min_stock_level);
    RETURN NULL;
END;
$$;

CREATE FUNCTION variant_min_level_changed() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE variant_inventory
    SET is_low = stock_is_low(quantity_available, quantity_reserved, 0, NEW.min_stock_level)
    WHERE variant_id = NEW.id AND reorder_level <= 0
        AND is_low <> stock_is_low(quantity_available, quantity_reserved, 0, NEW.min_stock_level);
    RETURN NULL;
END;
$$;

CREATE TRIGGER product_stock_flag_low BEFORE INSERT OR UPDATE ON product_inventory
    FOR EACH ROW EXECUTE FUNCTION product_stock_flag_low();
CREATE TRIGGER variant_stock_flag_low BEFORE INSERT OR UPDATE ON variant_inventory
    FOR EACH ROW EXECUTE FUNCTION variant_stock_flag_low();
CREATE TRIGGER product_min_level_changed AFTER UPDATE OF min_stock_level ON products
    FOR EACH ROW WHEN (OLD.min_stock_level IS DISTINCT FROM NEW.min_stock_level)
    EXECUTE FUNCTION product_min_level_changed();
CREATE TRIGGER variant_min_level_changed AFTER UPDATE OF min_stock_level ON product_variants
    FOR EACH ROW WHEN (OLD.min_stock_level IS DISTINCT FROM NEW.min_stock_level)
    EXECUTE FUNCTION variant_min_level_changed();

-- Recomputes every flag (the stock triggers are off while the demo data loads).
CREATE FUNCTION stock_flags_rebuild() RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE product_inventory pi
    SET is_low = stock_is_low(pi.quantity_available, pi.quantity_reserved, pi.reorder_level,
                              p.min_stock_level)
    FROM products p
    WHERE p.id = pi.product_id
        AND pi.is_low <> stock_is_low(pi.quantity_available, pi.quantity_reserved,
                                      pi.reorder_level, p.min_stock_level);
    UPDATE variant_inventory vi
    SET is_low = stock_is_low(vi.quantity_available, vi.quantity_reserved, vi.reorder_level,
                              v.min_stock_level)
    FROM product_variants v
    WHERE v.id = vi.variant_id
        AND vi.is_low <> stock_is_low(vi.quantity_available, vi.quantity_reserved,
                                      vi.reorder_level, v.min_stock_level);
END;
$$;

-- The fill writes flags only: stock_quantity stays as it is, and the items keep their
-- updated_at.
ALTER TABLE product_inventory DISABLE TRIGGER trigger_update_product_stock;
ALTER TABLE variant_inventory DISABLE TRIGGER trigger_update_variant_stock;
SELECT stock_flags_rebuild();
ALTER TABLE product_inventory ENABLE TRIGGER trigger_update_product_stock;
ALTER TABLE variant_inventory ENABLE TRIGGER trigger_update_variant_stock;

CREATE INDEX idx_product_inventory_low ON product_inventory (warehouse_id) WHERE is_low;
CREATE INDEX idx_variant_inventory_low ON variant_inventory (warehouse_id) WHERE is_low;
"""

DOWNGRADE = """
DROP INDEX idx_variant_inventory_low;
DROP INDEX idx_product_inventory_low;
DROP FUNCTION stock_flags_rebuild();
DROP TRIGGER variant_min_level_changed ON product_variants;
DROP TRIGGER product_min_level_changed ON products;
DROP TRIGGER variant_stock_flag_low ON variant_inventory;
DROP TRIGGER product_stock_flag_low ON product_inventory;
DROP FUNCTION variant_min_level_changed();
DROP FUNCTION product_min_level_changed();
DROP FUNCTION variant_stock_flag_low();
DROP FUNCTION product_stock_flag_low();
ALTER TABLE variant_inventory DROP COLUMN is_low;
ALTER TABLE product_inventory DROP COLUMN is_low;
DROP FUNCTION stock_is_low(INTEGER, INTEGER, INTEGER, INTEGER);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
