"""A finer sample of the SKU order in the statistics: 1,000 steps instead of 100.

A products search sorted by SKU chooses between walking the SKU index and collecting its
SKU matches from where the statistics' sample of SKUs (`pg_stats.histogram_bounds`) says
the matches lie (services/sku_spread.py). With PostgreSQL's default of 100 steps, each
stands for a hundredth of the catalog, so a prefix holding half a percent of the SKUs
may not show at all; with 1,000, a bunch of a thousandth shows. ANALYZE then samples
300,000 products instead of 30,000 (about a second on a million), and PostgreSQL's own
estimates for SKU ranges become finer too.

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
    op.execute("ALTER TABLE products ALTER COLUMN sku SET STATISTICS 1000")


def downgrade() -> None:
    op.execute("ALTER TABLE products ALTER COLUMN sku SET STATISTICS -1")
