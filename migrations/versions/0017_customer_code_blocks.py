"""Customer codes issued a block at a time, for imports.

next_customer_code() takes one number from document_counters per call. An import of
100,000 customers in one transaction called it 100,000 times: each call updates the same
counter row, and each update walks the chain of row versions the transaction has left
behind, so the import took minutes. next_customer_codes(n) takes n numbers in one update
and hands out their codes in order.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("""
CREATE FUNCTION next_customer_codes(how_many INTEGER) RETURNS SETOF VARCHAR
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    last_issued INTEGER;
BEGIN
    IF how_many < 1 THEN
        RETURN;
    END IF;
    INSERT INTO document_counters (kind, year, last_value)
    VALUES ('customer', 0, how_many)
    ON CONFLICT (kind, year)
    DO UPDATE SET last_value = document_counters.last_value + how_many
    RETURNING last_value INTO last_issued;
    IF last_issued > 999999 THEN
        RAISE EXCEPTION 'the % numbers of % are used up', 'customer', 0
            USING ERRCODE = 'numeric_value_out_of_range';
    END IF;
    RETURN QUERY
        SELECT ('CUST-' || lpad(n::text, 6, '0'))::VARCHAR
        FROM generate_series(last_issued - how_many + 1, last_issued) AS n
        ORDER BY n;
END;
$$;
""")


def downgrade() -> None:
    op.execute("DROP FUNCTION next_customer_codes(INTEGER)")
