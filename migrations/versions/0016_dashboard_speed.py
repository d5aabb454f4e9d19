"""Dashboard speed (issue 13): a low-stock flag that means "listed", and sales per
(month, customer).

**Low stock.** Revision 0007's `is_low` said only that a stock row's sellable quantity was at
or below the reorder level that applies. The low-stock list also leaves out rows of inactive
products or variants and of items that do not track stock, so counting the list (the
dashboard's "Low stock" figure) had to join every low row to its item: 1.3-2.5 s over 1 M
products, most of it reading the products table. Now the flag holds exactly for the rows
the list shows, and the count is an index-only read of the partial index
`idx_*_inventory_low`. The stock rows' BEFORE trigger reads the item (and, for a variant,
its product) on every write; the items' AFTER UPDATE trigger now also fires on `is_active`
and `track_inventory`, and a product's change of `is_active` reaches its variants' stock
rows. `stock_flags_rebuild()` recomputes every flag with the same rule.

**Top customers.** Over a year they summed ~330 k (day, customer) rows (0.4-1.9 s on 1 M
orders, with the machine's load). `dashboard_customer_month` is to customers what revision
0008's `dashboard_product_month` is to products: folded from the same pending changes as
the day rows, in the same statement of `dashboard_fold()`, ranked per month by an index on
(month, revenue DESC), so the service runs the same threshold top-k over it. A (so far
empty) partial index of negative day rows serves the same bound check as for products.

Revision ID: 0016
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0016"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"

CUSTOMER_MONTH = f"""
CREATE TABLE dashboard_customer_month (
    customer_id UUID NOT NULL,
    month DATE NOT NULL,
    orders BIGINT NOT NULL,
    revenue NUMERIC(20, 2) NOT NULL,
    PRIMARY KEY (customer_id, month)
);
CREATE INDEX idx_dashboard_customer_month_rank
    ON dashboard_customer_month (month, revenue DESC, customer_id);
CREATE INDEX idx_dashboard_customer_day_negative
    ON dashboard_customer_day (day) WHERE revenue < 0::numeric;

CREATE OR REPLACE FUNCTION dashboard_fold() RETURNS BOOLEAN
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    -- One folder at a time; the others read summary + pending, which is as exact.
    IF NOT pg_try_advisory_xact_lock(hashtext('dashboard summaries')) THEN
        RETURN false;
    END IF;
    WITH moved AS (DELETE FROM dashboard_stock_value_pending RETURNING *)
    INSERT INTO dashboard_stock_value AS s
    SELECT warehouse_id, category_id, sum(units), sum(at_cost), sum(at_price)
    FROM moved GROUP BY warehouse_id, category_id
    ON CONFLICT (warehouse_id, category_id) DO UPDATE
    SET units = s.units + EXCLUDED.units, at_cost = s.at_cost + EXCLUDED.at_cost,
        at_price = s.at_price + EXCLUDED.at_price;

    WITH moved AS (DELETE FROM dashboard_order_day_pending RETURNING *)
    INSERT INTO dashboard_order_day AS s
    SELECT day, status, sum(orders), sum(value) FROM moved GROUP BY day, status
    ON CONFLICT (day, status) DO UPDATE
    SET orders = s.orders + EXCLUDED.orders, value = s.value + EXCLUDED.value;

    -- The same moved changes go into the day and the month table, so the two agree.
    WITH moved AS (DELETE FROM dashboard_product_day_pending RETURNING *),
    days AS (
        INSERT INTO dashboard_product_day AS s
        SELECT day, product_id, sum(quantity), sum(revenue) FROM moved GROUP BY day, product_id
        ON CONFLICT (day, product_id) DO UPDATE
        SET quantity = s.quantity + EXCLUDED.quantity, revenue = s.revenue + EXCLUDED.revenue
    )
    INSERT INTO dashboard_product_month AS s
    SELECT product_id, date_trunc('month', day)::date, sum(quantity), sum(revenue)
    FROM moved GROUP BY 1, 2
    ON CONFLICT (product_id, month) DO UPDATE
    SET quantity = s.quantity + EXCLUDED.quantity, revenue = s.revenue + EXCLUDED.revenue;

    WITH moved AS (DELETE FROM dashboard_customer_day_pending RETURNING *),
    days AS (
        INSERT INTO dashboard_customer_day AS s
        SELECT day, customer_id, sum(orders), sum(revenue) FROM moved GROUP BY day, customer_id
        ON CONFLICT (day, customer_id) DO UPDATE
        SET orders = s.orders + EXCLUDED.orders, revenue = s.revenue + EXCLUDED.revenue
    )
    INSERT INTO dashboard_customer_month AS s
    SELECT customer_id, date_trunc('month', day)::date, sum(orders), sum(revenue)
    FROM moved GROUP BY 1, 2
    ON CONFLICT (customer_id, month) DO UPDATE
    SET orders = s.orders + EXCLUDED.orders, revenue = s.revenue + EXCLUDED.revenue;
    RETURN true;
END;
$$;

CREATE OR REPLACE FUNCTION dashboard_rebuild() RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('dashboard summaries'));
    TRUNCATE dashboard_stock_value, dashboard_stock_value_pending,
        dashboard_order_day, dashboard_order_day_pending,
        dashboard_product_day, dashboard_product_day_pending, dashboard_product_month,
        dashboard_customer_day, dashboard_customer_day_pending, dashboard_customer_month;
    INSERT INTO dashboard_stock_value
    SELECT warehouse_id, category_id, sum(units), sum(at_cost), sum(at_price)
    FROM (
        SELECT pi.warehouse_id, p.category_id, pi.quantity_available AS units,
               pi.quantity_available * p.cost AS at_cost,
               pi.quantity_available * p.price AS at_price
        FROM product_inventory pi JOIN products p ON p.id = pi.product_id
        UNION ALL
        SELECT vi.warehouse_id, p.category_id, vi.quantity_available,
               vi.quantity_available * v.cost, vi.quantity_available * v.price
        FROM variant_inventory vi
        JOIN product_variants v ON v.id = vi.variant_id
        JOIN products p ON p.id = v.product_id
    ) stock
    GROUP BY warehouse_id, category_id;

    INSERT INTO dashboard_order_day
    SELECT dashboard_day(order_date), status, count(*), sum(total_amount)
    FROM orders GROUP BY 1, 2;

    INSERT INTO dashboard_customer_day
    SELECT dashboard_day(order_date), customer_id, count(*), sum(total_amount)
    FROM orders WHERE dashboard_is_sale(status) GROUP BY 1, 2;

    INSERT INTO dashboard_customer_month
    SELECT customer_id, date_trunc('month', day)::date, sum(orders), sum(revenue)
    FROM dashboard_customer_day GROUP BY 1, 2;

    INSERT INTO dashboard_product_day
    SELECT dashboard_day(o.order_date), i.product_id, sum(i.quantity), sum(i.final_price)
    FROM order_items i JOIN orders o ON o.id = i.order_id
    WHERE dashboard_is_sale(o.status)
    GROUP BY 1, 2;

    INSERT INTO dashboard_product_month
    SELECT product_id, date_trunc('month', day)::date, sum(quantity), sum(revenue)
    FROM dashboard_product_day GROUP BY 1, 2;
END;
$$;

-- The month rows from the day rows (and nothing else: the rest is as it was).
INSERT INTO dashboard_customer_month
SELECT customer_id, date_trunc('month', day)::date, sum(orders), sum(revenue)
FROM dashboard_customer_day GROUP BY 1, 2;
"""

UPGRADE = f"""
CREATE OR REPLACE FUNCTION product_stock_flag_low() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
DECLARE
    listed BOOLEAN;
    item_min INTEGER;
BEGIN
    SELECT is_active AND track_inventory, min_stock_level INTO listed, item_min
    FROM products WHERE id = NEW.product_id;
    NEW.is_low := coalesce(listed, false) AND stock_is_low(
        NEW.quantity_available, NEW.quantity_reserved, NEW.reorder_level, item_min);
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION variant_stock_flag_low() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
DECLARE
    listed BOOLEAN;
    item_min INTEGER;
BEGIN
    SELECT v.is_active AND v.track_inventory AND p.is_active, v.min_stock_level
    INTO listed, item_min
    FROM product_variants v JOIN products p ON p.id = v.product_id
    WHERE v.id = NEW.variant_id;
    NEW.is_low := coalesce(listed, false) AND stock_is_low(
        NEW.quantity_available, NEW.quantity_reserved, NEW.reorder_level, item_min);
    RETURN NEW;
END;
$$;

-- Only the rows whose flag flips are written (the stock rows' trigger recomputes it too).
CREATE OR REPLACE FUNCTION product_min_level_changed() RETURNS TRIGGER
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    UPDATE product_inventory
    SET is_low = NOT is_low
    WHERE product_id = NEW.id
        AND is_low <> (NEW.is_active AND NEW.track_inventory AND stock_is_low(
            quantity_available, quantity_reserved, reorder_level, NEW.min_stock_level));
    IF OLD.is_active IS DISTINCT FROM NEW.is_active THEN
        UPDATE variant_inventory vi
        SET is_low = NOT vi.is_low
        FROM product_variants v
        WHERE v.id = vi.variant_id AND v.product_id = NEW.id
            AND vi.is_low <> (NEW.is_active AND v.is_active AND v.track_inventory
                AND stock_is_low(vi.quantity_available, vi.quantity_reserved,
                                 vi.reorder_level, v.min_stock_level));
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION variant_min_level_changed() RETURNS TRIGGER
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    UPDATE variant_inventory
    SET is_low = NOT is_low
    WHERE variant_id = NEW.id
        AND is_low <> (NEW.is_active AND NEW.track_inventory
            AND (SELECT is_active FROM products WHERE id = NEW.product_id)
            AND stock_is_low(quantity_available, quantity_reserved, reorder_level,
                             NEW.min_stock_level));
    RETURN NULL;
END;
$$;

DROP TRIGGER product_min_level_changed ON products;
DROP TRIGGER variant_min_level_changed ON product_variants;
CREATE TRIGGER product_min_level_changed
    AFTER UPDATE OF min_stock_level, is_active, track_inventory ON products
    FOR EACH ROW WHEN (OLD.min_stock_level IS DISTINCT FROM NEW.min_stock_level
        OR OLD.is_active IS DISTINCT FROM NEW.is_active
        OR OLD.track_inventory IS DISTINCT FROM NEW.track_inventory)
    EXECUTE FUNCTION product_min_level_changed();
CREATE TRIGGER variant_min_level_changed
    AFTER UPDATE OF min_stock_level, is_active, track_inventory ON product_variants
    FOR EACH ROW WHEN (OLD.min_stock_level IS DISTINCT FROM NEW.min_stock_level
        OR OLD.is_active IS DISTINCT FROM NEW.is_active
        OR OLD.track_inventory IS DISTINCT FROM NEW.track_inventory)
    EXECUTE FUNCTION variant_min_level_changed();

CREATE OR REPLACE FUNCTION stock_flags_rebuild() RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE product_inventory pi
    SET is_low = NOT pi.is_low
    FROM products p
    WHERE p.id = pi.product_id
        AND pi.is_low <> (p.is_active AND p.track_inventory AND stock_is_low(
            pi.quantity_available, pi.quantity_reserved, pi.reorder_level, p.min_stock_level));
    UPDATE variant_inventory vi
    SET is_low = NOT vi.is_low
    FROM product_variants v JOIN products p ON p.id = v.product_id
    WHERE v.id = vi.variant_id
        AND vi.is_low <> (p.is_active AND v.is_active AND v.track_inventory AND stock_is_low(
            vi.quantity_available, vi.quantity_reserved, vi.reorder_level, v.min_stock_level));
END;
$$;

ALTER TABLE product_inventory DISABLE TRIGGER trigger_update_product_stock;
ALTER TABLE variant_inventory DISABLE TRIGGER trigger_update_variant_stock;
SELECT stock_flags_rebuild();
ALTER TABLE product_inventory ENABLE TRIGGER trigger_update_product_stock;
ALTER TABLE variant_inventory ENABLE TRIGGER trigger_update_variant_stock;
"""

# Revision 0007's definitions, as revision 0011 left them (the items' triggers as owner).
DOWNGRADE = f"""
CREATE OR REPLACE FUNCTION product_stock_flag_low() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    NEW.is_low := stock_is_low(
        NEW.quantity_available, NEW.quantity_reserved, NEW.reorder_level,
        CASE WHEN NEW.reorder_level > 0 THEN 0
             ELSE (SELECT min_stock_level FROM products WHERE id = NEW.product_id) END);
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION variant_stock_flag_low() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    NEW.is_low := stock_is_low(
        NEW.quantity_available, NEW.quantity_reserved, NEW.reorder_level,
        CASE WHEN NEW.reorder_level > 0 THEN 0
             ELSE (SELECT min_stock_level FROM product_variants WHERE id = NEW.variant_id) END);
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION product_min_level_changed() RETURNS TRIGGER
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    UPDATE product_inventory
    SET is_low = stock_is_low(quantity_available, quantity_reserved, 0, NEW.min_stock_level)
    WHERE product_id = NEW.id AND reorder_level <= 0
        AND is_low <> stock_is_low(quantity_available, quantity_reserved, 0, NEW.min_stock_level);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION variant_min_level_changed() RETURNS TRIGGER
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    UPDATE variant_inventory
    SET is_low = stock_is_low(quantity_available, quantity_reserved, 0, NEW.min_stock_level)
    WHERE variant_id = NEW.id AND reorder_level <= 0
        AND is_low <> stock_is_low(quantity_available, quantity_reserved, 0, NEW.min_stock_level);
    RETURN NULL;
END;
$$;

DROP TRIGGER product_min_level_changed ON products;
DROP TRIGGER variant_min_level_changed ON product_variants;
CREATE TRIGGER product_min_level_changed AFTER UPDATE OF min_stock_level ON products
    FOR EACH ROW WHEN (OLD.min_stock_level IS DISTINCT FROM NEW.min_stock_level)
    EXECUTE FUNCTION product_min_level_changed();
CREATE TRIGGER variant_min_level_changed AFTER UPDATE OF min_stock_level ON product_variants
    FOR EACH ROW WHEN (OLD.min_stock_level IS DISTINCT FROM NEW.min_stock_level)
    EXECUTE FUNCTION variant_min_level_changed();

CREATE OR REPLACE FUNCTION stock_flags_rebuild() RETURNS VOID
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

ALTER TABLE product_inventory DISABLE TRIGGER trigger_update_product_stock;
ALTER TABLE variant_inventory DISABLE TRIGGER trigger_update_variant_stock;
SELECT stock_flags_rebuild();
ALTER TABLE product_inventory ENABLE TRIGGER trigger_update_product_stock;
ALTER TABLE variant_inventory ENABLE TRIGGER trigger_update_variant_stock;
"""


def _revision_0008_functions() -> str:
    """dashboard_fold() and dashboard_rebuild() as revision 0008 defined them."""
    source = (Path(__file__).parent / "0008_top_products.py").read_text()
    bodies = re.findall(
        r"^CREATE OR REPLACE FUNCTION (?:dashboard_fold|dashboard_rebuild)\(\).*?^\$\$;$",
        source,
        flags=re.DOTALL | re.MULTILINE,
    )
    assert len(bodies) == 2, "revision 0008's fold and rebuild not found"
    return "\n".join(bodies)


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(CUSTOMER_MONTH)


def downgrade() -> None:
    op.execute(_revision_0008_functions())
    # As revision 0011 left it: the fold writes summaries the person may not write.
    op.execute(f"ALTER FUNCTION dashboard_fold() {DEFINER}")
    op.execute("DROP INDEX idx_dashboard_customer_day_negative")
    op.execute("DROP TABLE dashboard_customer_month")
    op.execute(DOWNGRADE)
