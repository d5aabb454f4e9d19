"""Change notifications name the workstation that made the change.

notify_change() (revision 0004) adds "origin": the application_name of the connection
that changed the rows. Each running program names its connections with a tag of its own
(db/engine.py WORKSTATION), so a window can tell its own changes, which it already shows,
from someone else's, which an open record should warn about.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _notify_change(origin: bool) -> str:
    extra = "'origin', current_setting('application_name'),\n        " if origin else ""
    return f"""
CREATE OR REPLACE FUNCTION notify_change() RETURNS TRIGGER AS $$
DECLARE
    id_column TEXT := TG_ARGV[0];
    changed JSONB;
BEGIN
    -- Up to 101 distinct ids: more than 100 means "too many to list", sent as null.
    IF TG_OP = 'DELETE' THEN
        EXECUTE format('SELECT jsonb_agg(x) FROM (SELECT DISTINCT %I AS x FROM old_rows LIMIT 101) s',
                       id_column) INTO changed;
    ELSE
        EXECUTE format('SELECT jsonb_agg(x) FROM (SELECT DISTINCT %I AS x FROM new_rows LIMIT 101) s',
                       id_column) INTO changed;
    END IF;
    IF changed IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('erpgo_changes', jsonb_build_object(
        {extra}'table', TG_TABLE_NAME,
        'op', TG_OP,
        'ids', CASE WHEN jsonb_array_length(changed) > 100 THEN NULL ELSE changed END
    )::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def upgrade() -> None:
    op.execute(_notify_change(origin=True))


def downgrade() -> None:
    op.execute(_notify_change(origin=False))
