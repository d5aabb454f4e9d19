"""Seed the default roles of business-rules.md.

The lists are written out here, not imported, so this revision keeps meaning what it
meant when it was written; tests/migrations checks them against the domain's roles.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVERYTHING_BUT_ADMINISTRATION = [
    "products.read", "products.write",
    "customers.read", "customers.write", "customers.credit_override",
    "orders.read", "orders.create", "orders.confirm", "orders.approve", "orders.ship",
    "orders.cancel", "orders.return", "orders.payment",
    "inventory.read", "inventory.receive", "inventory.adjust", "inventory.transfer",
    "inventory.count", "warehouses.write", "reports.view",
]  # fmt: skip

ROLES = [
    ("admin", "Everything, including users and roles", ["*"]),
    ("manager", "Everything but user and role administration", _EVERYTHING_BUT_ADMINISTRATION),
    (
        "sales",
        "Customers, orders up to confirming; reads products and stock",
        [
            "customers.read",
            "customers.write",
            "orders.read",
            "orders.create",
            "orders.confirm",
            "products.read",
            "inventory.read",
        ],
    ),
    (
        "warehouse_clerk",
        "Receive, ship, transfer, adjust and count stock; reads orders and products",
        [
            "inventory.read",
            "inventory.receive",
            "inventory.adjust",
            "inventory.transfer",
            "inventory.count",
            "orders.read",
            "orders.ship",
            "products.read",
        ],
    ),
]


def upgrade() -> None:
    statement = sa.text(
        "INSERT INTO roles (name, description, permissions) "
        "VALUES (:name, :description, CAST(:permissions AS jsonb)) "
        "ON CONFLICT (name) DO NOTHING"
    )
    for name, description, permissions in ROLES:
        op.execute(
            statement.bindparams(
                name=name, description=description, permissions=json.dumps(permissions)
            )
        )


def downgrade() -> None:
    # Roles still assigned to someone stay: removing them would strip users of their access.
    op.execute(
        sa.text(
            "DELETE FROM roles WHERE name IN :names "
            "AND NOT EXISTS (SELECT 1 FROM user_roles ur WHERE ur.role_id = roles.id)"
        ).bindparams(sa.bindparam("names", [r[0] for r in ROLES], expanding=True))
    )
