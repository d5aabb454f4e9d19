"""A finer sample of the products' SKUs, names and barcodes in the statistics: 1,000 steps.

A products search chooses between walking an order's index and collecting its matches
from how many products the statistics' samples of SKUs, names and barcodes
(`pg_stats.histogram_bounds`) say it matches, and, by SKU, where along the order
(services/search_costs.py). With PostgreSQL's default of 100 steps, each stands for a
hundredth of the catalog: a prefix holding half a percent of the SKUs may not show at
all, and a term in none of a column's steps still counts as half a step (5,000 of a
million products). With 1,000, a bunch of a thousandth shows. ANALYZE then samples
300,000 products instead of 30,000 (about a second on a million), and PostgreSQL's own
estimates for these columns become finer too.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE products ALTER COLUMN sku SET STATISTICS 1000, "
        "ALTER COLUMN name SET STATISTICS 1000, ALTER COLUMN barcode SET STATISTICS 1000"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE products ALTER COLUMN sku SET STATISTICS -1, "
        "ALTER COLUMN name SET STATISTICS -1, ALTER COLUMN barcode SET STATISTICS -1"
    )
