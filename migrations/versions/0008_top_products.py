"""Sales per (month, product), so top products over a long range reads a few hundred rows.

Top products over a year summed ~800 k (day, product) rows (0.75 s on 1 M orders), and a
plain (month, product) total is no better: 2.5 M lines over 1 M products hardly repeat
within a month. What the month table buys is an order: with an index on
(month, revenue DESC) the service walks each month's best-selling products first and stops
as soon as no product it has not seen can reach the top (a threshold top-k, exact; see
`DashboardService.top_products`).

- dashboard_product_month: quantity and line value per (product, first day of the month),
  the sums of dashboard_product_day's rows of that month.

No new trigger or pending table: the month rows are folded from the same
`dashboard_product_day_pending` changes as the day rows, in the same statement of
`dashboard_fold()`, so the two tables always agree; rows still pending are read from that
table. `dashboard_rebuild()` also rebuilds the month table. A partial index lists the day
rows whose revenue is negative (a discount above the line's value): the service's bound for
a partly covered month holds only when none of its days is negative, and otherwise it sums
the days directly.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = """
CREATE TABLE dashboard_product_month (
    product_id UUID NOT NULL,
    month DATE NOT NULL,
    quantity BIGINT NOT NULL,
    revenue NUMERIC(20, 2) NOT NULL,
    PRIMARY KEY (product_id, month)
);
CREATE INDEX idx_dashboard_product_month_rank
    ON dashboard_product_month (month, revenue DESC, product_id);
CREATE INDEX idx_dashboard_product_day_negative
    ON dashboard_product_day (day) WHERE revenue < 0::numeric;

CREATE OR REPLACE FUNCTION dashboard_fold() RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
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

    WITH moved AS (DELETE FROM dashboard_customer_day_pending RETURNING *)
    INSERT INTO dashboard_customer_day AS s
    SELECT day, customer_id, sum(orders), sum(revenue) FROM moved GROUP BY day, customer_id
    ON CONFLICT (day, customer_id) DO UPDATE
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
        dashboard_customer_day, dashboard_customer_day_pending;
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

SELECT dashboard_rebuild();
"""


def _revision_0006_functions() -> str:
    """dashboard_fold() and dashboard_rebuild() as revision 0006 defined them."""
    source = (Path(__file__).parent / "0006_dashboard_summaries.py").read_text()
    bodies = re.findall(
        r"^CREATE FUNCTION (?:dashboard_fold|dashboard_rebuild)\(\).*?^\$\$;$",
        source,
        flags=re.DOTALL | re.MULTILINE,
    )
    assert len(bodies) == 2, "revision 0006's fold and rebuild not found"
    return "\n".join(
        body.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION") for body in bodies
    )


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(_revision_0006_functions())
    op.execute("DROP INDEX idx_dashboard_product_day_negative")
    op.execute("DROP TABLE dashboard_product_month")
