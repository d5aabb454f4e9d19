"""Reports that read only what a page shows: the ledger by time, stock rows by value, kept
valuation totals.

**Stock movements.** `idx_inventory_transactions_time` on (created_at) with the columns
the report groups and adds (product, variant, warehouse, type, quantity) included, so a
period's ledger rows are one index range read without the table: a 30-day period reads
that month, not the whole ledger.

**Items and sales of a period.** A report grouping tens of thousands of items looks up
each one's SKU and name: `idx_products_id_label` (id, including sku and name) answers
that from a small index instead of the wide product rows. `idx_order_items_order_sales`
(order_id, including what sales by product adds up) reads a period's order lines
without the table, `idx_order_addresses_region` (id, including country and state) the
regions of a period's orders without the address rows.

**Valuation by value.** `value_at_cost` and `value_at_price` on every stock row
(product_inventory, variant_inventory): quantity_available times the item's cost and
price, a variant without a cost of its own (0) at its product's. A BEFORE INSERT OR
UPDATE trigger sets them on every write of the row, whatever the statement says; an
AFTER UPDATE trigger on products (cost, price) and on product_variants (cost, price,
product) rewrites the rows of the item (and of a product's variants that take its cost).
Partial indexes on (value, item, warehouse) and (quantity_available, item, warehouse) of
the rows with stock on hand read the valuation sorted by value or by on hand a page at a
time, instead of valuing and sorting every stock row.

**Valuation totals.** `report_stock_totals` holds per warehouse the stock rows on hand,
units on hand and reserved, and their value at cost and at price. As with the dashboard's
summaries (revision 0006), writers only append signed changes to
`report_stock_totals_pending` (statement triggers on both stock tables, from their
transition tables), so concurrent stock moves never wait on a summary row;
`report_stock_fold()` moves pending rows in (skipping while another session folds), and
a total is always summary + pending. `stock_values_rebuild()` recomputes the values and
the totals from the stock rows (this migration; the demo loader, which loads with
triggers off); a TRUNCATE of a stock table recomputes the totals.

The change history (revision 0012) leaves the kept values out, like `is_low`.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"

#: (table, the item's column) of the two kinds of stock rows.
STOCK = (("product_inventory", "product_id"), ("variant_inventory", "variant_id"))

#: The history's generator call for the stock tables, with the columns it leaves out
#: (revision 0012's IGNORED_EVERYWHERE and the table's own).
_HISTORY = {
    "product_inventory": "r.product_id",
    "variant_inventory": (
        "coalesce((SELECT v.product_id FROM product_variants v WHERE v.id = r.variant_id), r.id)"
    ),
}
_IGNORED = ("updated_at", "version", "last_updated_at", "updated_by", "is_low")


def _track(table: str, ignored: tuple[str, ...]) -> str:
    names = ", ".join(f"'{column}'" for column in ignored)
    subject = _HISTORY[table].replace("'", "''")
    return f"SELECT erpgo_track_changes('{table}', '{subject}', ARRAY[{names}]::text[], false)"


UPGRADE = f"""
CREATE INDEX idx_inventory_transactions_time ON inventory_transactions (created_at)
    INCLUDE (product_id, variant_id, warehouse_id, transaction_type, quantity);
CREATE INDEX idx_products_id_label ON products (id) INCLUDE (sku, name);
CREATE INDEX idx_order_addresses_region ON order_addresses (id) INCLUDE (country, state);
CREATE INDEX idx_order_items_order_sales ON order_items (order_id)
    INCLUDE (product_id, variant_id, status, quantity, unit_price, discount_amount,
             returned_quantity);

ALTER TABLE product_inventory
    ADD COLUMN value_at_cost NUMERIC(20, 2) NOT NULL DEFAULT 0,
    ADD COLUMN value_at_price NUMERIC(20, 2) NOT NULL DEFAULT 0;
ALTER TABLE variant_inventory
    ADD COLUMN value_at_cost NUMERIC(20, 2) NOT NULL DEFAULT 0,
    ADD COLUMN value_at_price NUMERIC(20, 2) NOT NULL DEFAULT 0;

-- Whatever a statement writes there: the values follow from the quantity and the item.
-- A missing item leaves 0, so that the foreign key reports it rather than NOT NULL.
CREATE FUNCTION product_stock_value() RETURNS TRIGGER LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    item_cost NUMERIC;
    item_price NUMERIC;
BEGIN
    SELECT cost, price INTO item_cost, item_price FROM products WHERE id = NEW.product_id;
    NEW.value_at_cost := coalesce(NEW.quantity_available * item_cost, 0);
    NEW.value_at_price := coalesce(NEW.quantity_available * item_price, 0);
    RETURN NEW;
END $$;

CREATE FUNCTION variant_stock_value() RETURNS TRIGGER LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    item_cost NUMERIC;
    item_price NUMERIC;
BEGIN
    SELECT CASE WHEN v.cost > 0 THEN v.cost ELSE p.cost END, v.price
    INTO item_cost, item_price
    FROM product_variants v JOIN products p ON p.id = v.product_id
    WHERE v.id = NEW.variant_id;
    NEW.value_at_cost := coalesce(NEW.quantity_available * item_cost, 0);
    NEW.value_at_price := coalesce(NEW.quantity_available * item_price, 0);
    RETURN NEW;
END $$;

CREATE TRIGGER product_stock_value BEFORE INSERT OR UPDATE ON product_inventory
    FOR EACH ROW EXECUTE FUNCTION product_stock_value();
CREATE TRIGGER variant_stock_value BEFORE INSERT OR UPDATE ON variant_inventory
    FOR EACH ROW EXECUTE FUNCTION variant_stock_value();

-- The item's stock rows are rewritten; their BEFORE trigger values them.
CREATE FUNCTION product_value_changed() RETURNS TRIGGER LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    UPDATE product_inventory
    SET value_at_cost = quantity_available * NEW.cost,
        value_at_price = quantity_available * NEW.price
    WHERE product_id = NEW.id;
    IF OLD.cost IS DISTINCT FROM NEW.cost THEN
        UPDATE variant_inventory vi
        SET value_at_cost = vi.quantity_available * NEW.cost
        FROM product_variants v
        WHERE v.id = vi.variant_id AND v.product_id = NEW.id AND NOT v.cost > 0;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION variant_value_changed() RETURNS TRIGGER LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    item_cost NUMERIC := NEW.cost;
BEGIN
    IF NOT NEW.cost > 0 THEN
        SELECT cost INTO item_cost FROM products WHERE id = NEW.product_id;
    END IF;
    UPDATE variant_inventory
    SET value_at_cost = quantity_available * item_cost,
        value_at_price = quantity_available * NEW.price
    WHERE variant_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER product_value_changed AFTER UPDATE OF cost, price ON products
    FOR EACH ROW WHEN (OLD.cost IS DISTINCT FROM NEW.cost OR OLD.price IS DISTINCT FROM NEW.price)
    EXECUTE FUNCTION product_value_changed();
CREATE TRIGGER variant_value_changed AFTER UPDATE OF cost, price, product_id ON product_variants
    FOR EACH ROW WHEN (OLD.cost IS DISTINCT FROM NEW.cost OR OLD.price IS DISTINCT FROM NEW.price
        OR OLD.product_id IS DISTINCT FROM NEW.product_id)
    EXECUTE FUNCTION variant_value_changed();

CREATE TABLE report_stock_totals (
    warehouse_id UUID PRIMARY KEY,
    stock_rows BIGINT NOT NULL,
    on_hand BIGINT NOT NULL,
    reserved BIGINT NOT NULL,
    value_at_cost NUMERIC(22, 2) NOT NULL,
    value_at_price NUMERIC(22, 2) NOT NULL
);
CREATE TABLE report_stock_totals_pending (
    warehouse_id UUID NOT NULL,
    stock_rows BIGINT NOT NULL,
    on_hand BIGINT NOT NULL,
    reserved BIGINT NOT NULL,
    value_at_cost NUMERIC(22, 2) NOT NULL,
    value_at_price NUMERIC(22, 2) NOT NULL
);

-- One function for both stock tables (the same columns), fired per statement with its
-- transition tables: rows leave with their old figures and come with their new ones.
-- Only rows with stock on hand count; the others add 0 to every sum but the count.
CREATE FUNCTION report_stock_changed() RETURNS TRIGGER LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO report_stock_totals_pending
        SELECT warehouse_id, count(*) FILTER (WHERE quantity_available > 0),
               sum(quantity_available), sum(quantity_reserved), sum(value_at_cost),
               sum(value_at_price)
        FROM new_rows GROUP BY warehouse_id;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO report_stock_totals_pending
        SELECT warehouse_id, -count(*) FILTER (WHERE quantity_available > 0),
               -sum(quantity_available), -sum(quantity_reserved), -sum(value_at_cost),
               -sum(value_at_price)
        FROM old_rows GROUP BY warehouse_id;
    ELSE
        INSERT INTO report_stock_totals_pending
        SELECT warehouse_id, sum(stock_rows), sum(on_hand), sum(reserved),
               sum(value_at_cost), sum(value_at_price)
        FROM (
            SELECT warehouse_id, (quantity_available > 0)::int AS stock_rows,
                   quantity_available AS on_hand, quantity_reserved AS reserved,
                   value_at_cost, value_at_price
            FROM new_rows
            UNION ALL
            SELECT warehouse_id, -(quantity_available > 0)::int, -quantity_available,
                   -quantity_reserved, -value_at_cost, -value_at_price
            FROM old_rows
        ) moved
        GROUP BY warehouse_id
        HAVING sum(stock_rows) <> 0 OR sum(on_hand) <> 0 OR sum(reserved) <> 0
            OR sum(value_at_cost) <> 0 OR sum(value_at_price) <> 0;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION report_stock_fold() RETURNS BOOLEAN LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    -- One folder at a time; the others read summary + pending, which is as exact.
    IF NOT pg_try_advisory_xact_lock(hashtext('report stock totals')) THEN
        RETURN false;
    END IF;
    WITH moved AS (DELETE FROM report_stock_totals_pending RETURNING *)
    INSERT INTO report_stock_totals AS s
    SELECT warehouse_id, sum(stock_rows), sum(on_hand), sum(reserved), sum(value_at_cost),
           sum(value_at_price)
    FROM moved GROUP BY warehouse_id
    ON CONFLICT (warehouse_id) DO UPDATE
    SET stock_rows = s.stock_rows + EXCLUDED.stock_rows, on_hand = s.on_hand + EXCLUDED.on_hand,
        reserved = s.reserved + EXCLUDED.reserved,
        value_at_cost = s.value_at_cost + EXCLUDED.value_at_cost,
        value_at_price = s.value_at_price + EXCLUDED.value_at_price;
    RETURN true;
END $$;

CREATE FUNCTION report_stock_totals_rebuild() RETURNS VOID LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('report stock totals'));
    DELETE FROM report_stock_totals_pending;
    DELETE FROM report_stock_totals;
    INSERT INTO report_stock_totals
    SELECT warehouse_id, count(*) FILTER (WHERE quantity_available > 0),
           sum(quantity_available), sum(quantity_reserved), sum(value_at_cost),
           sum(value_at_price)
    FROM (
        SELECT warehouse_id, quantity_available, quantity_reserved, value_at_cost,
               value_at_price
        FROM product_inventory
        UNION ALL
        SELECT warehouse_id, quantity_available, quantity_reserved, value_at_cost,
               value_at_price
        FROM variant_inventory
    ) stock
    GROUP BY warehouse_id;
END $$;

CREATE FUNCTION report_stock_truncated() RETURNS TRIGGER LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    PERFORM report_stock_totals_rebuild();
    RETURN NULL;
END $$;

-- Every stock row's values, then the totals, from the stock rows and the items; for a
-- loader that wrote stock rows with the triggers off.
CREATE FUNCTION stock_values_rebuild() RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    UPDATE product_inventory pi
    SET value_at_cost = pi.quantity_available * p.cost,
        value_at_price = pi.quantity_available * p.price
    FROM products p
    WHERE p.id = pi.product_id
        AND (pi.value_at_cost, pi.value_at_price)
            IS DISTINCT FROM (pi.quantity_available * p.cost, pi.quantity_available * p.price);
    UPDATE variant_inventory vi
    SET value_at_cost = vi.quantity_available * CASE WHEN v.cost > 0 THEN v.cost ELSE p.cost END,
        value_at_price = vi.quantity_available * v.price
    FROM product_variants v JOIN products p ON p.id = v.product_id
    WHERE v.id = vi.variant_id
        AND (vi.value_at_cost, vi.value_at_price) IS DISTINCT FROM (
            vi.quantity_available * CASE WHEN v.cost > 0 THEN v.cost ELSE p.cost END,
            vi.quantity_available * v.price);
    PERFORM report_stock_totals_rebuild();
END $$;

-- Every trigger of the stock rows off while they are valued once: nothing else changes.
ALTER TABLE product_inventory DISABLE TRIGGER USER;
ALTER TABLE variant_inventory DISABLE TRIGGER USER;
SELECT stock_values_rebuild();
ALTER TABLE product_inventory ENABLE TRIGGER USER;
ALTER TABLE variant_inventory ENABLE TRIGGER USER;

CREATE INDEX idx_product_inventory_value_at_cost
    ON product_inventory (value_at_cost, product_id, warehouse_id) WHERE quantity_available > 0;
CREATE INDEX idx_product_inventory_value_at_price
    ON product_inventory (value_at_price, product_id, warehouse_id) WHERE quantity_available > 0;
CREATE INDEX idx_product_inventory_on_hand
    ON product_inventory (quantity_available, product_id, warehouse_id)
    WHERE quantity_available > 0;
CREATE INDEX idx_variant_inventory_value_at_cost
    ON variant_inventory (value_at_cost, variant_id, warehouse_id) WHERE quantity_available > 0;
CREATE INDEX idx_variant_inventory_value_at_price
    ON variant_inventory (value_at_price, variant_id, warehouse_id) WHERE quantity_available > 0;
CREATE INDEX idx_variant_inventory_on_hand
    ON variant_inventory (quantity_available, variant_id, warehouse_id)
    WHERE quantity_available > 0;
"""

_TOTAL_TRIGGERS = "".join(
    f"""
CREATE TRIGGER {table}_report_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_stock_changed();
CREATE TRIGGER {table}_report_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_stock_changed();
CREATE TRIGGER {table}_report_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_stock_changed();
CREATE TRIGGER {table}_report_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION report_stock_truncated();
"""
    for table, _item in STOCK
)

DOWNGRADE = """
DROP FUNCTION stock_values_rebuild();
DROP TABLE report_stock_totals, report_stock_totals_pending;
DROP TRIGGER product_value_changed ON products;
DROP TRIGGER variant_value_changed ON product_variants;
DROP FUNCTION product_value_changed();
DROP FUNCTION variant_value_changed();
DROP TRIGGER product_stock_value ON product_inventory;
DROP TRIGGER variant_stock_value ON variant_inventory;
DROP FUNCTION product_stock_value();
DROP FUNCTION variant_stock_value();
DROP INDEX idx_product_inventory_value_at_cost, idx_product_inventory_value_at_price,
    idx_product_inventory_on_hand, idx_variant_inventory_value_at_cost,
    idx_variant_inventory_value_at_price, idx_variant_inventory_on_hand;
ALTER TABLE product_inventory DROP COLUMN value_at_cost, DROP COLUMN value_at_price;
ALTER TABLE variant_inventory DROP COLUMN value_at_cost, DROP COLUMN value_at_price;
DROP INDEX idx_inventory_transactions_time, idx_products_id_label, idx_order_items_order_sales,
    idx_order_addresses_region;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(_TOTAL_TRIGGERS)
    for table, _item in STOCK:
        op.execute(_track(table, (*_IGNORED, "value_at_cost", "value_at_price")))


def downgrade() -> None:
    for table, _item in STOCK:
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER {table}_report_{event} ON {table}")
    op.execute("DROP FUNCTION report_stock_changed()")
    op.execute("DROP FUNCTION report_stock_truncated()")
    op.execute("DROP FUNCTION report_stock_fold()")
    op.execute(DOWNGRADE)
    op.execute("DROP FUNCTION report_stock_totals_rebuild()")
    for table, _item in STOCK:
        op.execute(_track(table, _IGNORED))
