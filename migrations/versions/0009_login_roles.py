"""Each user's own PostgreSQL login role.

A person signs in as their own login role (docs/administration.md, "Rights"): this column
names it, so that whatever the database records from its session (`session_user`: the
change history, who confirmed an order) leads back to the user. It stays empty until the
role is made (`erpgo-desktop setup-roles`), and changes when a restore into another
database gives the roles new names.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE users ADD COLUMN login_role VARCHAR(63)")
    op.execute("ALTER TABLE users ADD CONSTRAINT users_login_role_key UNIQUE (login_role)")


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN login_role")
