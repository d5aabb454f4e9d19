"""Customers keep a billing and a shipping address, which new orders start from.

customer_addresses holds at most one address of each type per customer, with the columns
of order_addresses, so that an order copies them as they are and then keeps its own copy
(an order is a record of what was agreed: a customer who moves later does not move their
past orders). A customer without a shipping row ships to their billing address.

order_addresses is not reused: nothing in it says whose an address is (orders point at
it), and its rights are the orders' (orders.create writes it), where these are the
customers' (customers.write). The rows go with their customer (ON DELETE CASCADE), are
kept in the change history under their customer (its History page shows them), and are
granted as the customers are (domain/permissions.py, applied by setup-roles).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = """
CREATE TABLE customer_addresses (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    type VARCHAR(20) NOT NULL CONSTRAINT customer_addresses_type_check
        CHECK (type IN ('billing', 'shipping')),
    first_name VARCHAR(100) NOT NULL,
    last_name VARCHAR(100) NOT NULL,
    company VARCHAR(200),
    address1 VARCHAR(255) NOT NULL,
    address2 VARCHAR(255),
    city VARCHAR(100) NOT NULL,
    state VARCHAR(100),
    postal_code VARCHAR(20) NOT NULL,
    country VARCHAR(100) NOT NULL,
    phone VARCHAR(20),
    email VARCHAR(255),
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    -- One of each type; its index also finds a customer's addresses.
    CONSTRAINT customer_addresses_customer_id_type_key UNIQUE (customer_id, type)
);

CREATE TRIGGER update_customer_addresses_updated_at BEFORE UPDATE ON customer_addresses
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- Kept under the customer, so that the customer's History page shows them (revision 0012).
SELECT erpgo_track_changes(
    'customer_addresses', 'r.customer_id',
    ARRAY['updated_at', 'version', 'last_updated_at', 'updated_by']::text[], false
);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER customer_addresses_history_{event} ON customer_addresses")
    op.execute("DROP FUNCTION erpgo_history_customer_addresses()")
    op.execute("DELETE FROM erpgo_tracked_tables WHERE table_name = 'customer_addresses'")
    # Its history would name a table nobody can read any more: it goes with the table.
    op.execute("DELETE FROM change_log WHERE table_name = 'customer_addresses'")
    op.execute("DROP TABLE customer_addresses")
