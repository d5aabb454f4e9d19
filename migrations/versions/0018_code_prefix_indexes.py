"""An index for order numbers typed from their start: lower(order_number), pattern order.

People type an order number from its start (`2026-277`). The order numbers' trigram
index (revision 0014) answers any part of a number, but the trigrams of a year or of a
counter's first digits occur in hundreds of thousands of numbers, so reading them costs
60-200 ms on a million orders. A btree on lower(order_number) in text_pattern_ops
(byte order whatever the database's collation) answers `lower(order_number) LIKE
'2026-277%'` as one range, the orders it begins and no others (services/listing.py
`starts_with`, services/order_list.py).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX idx_orders_number_prefix ON orders (lower(order_number) text_pattern_ops)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX idx_orders_number_prefix")
