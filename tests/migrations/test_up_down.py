"""Every revision's downgrade undoes its upgrade, and upgrading again rebuilds the same schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool

from erpgo_desktop.db import migrate
from erpgo_desktop.db.engine import make_engine
from erpgo_desktop.db.models import Base
from tests.migrations import seed_schema as seed
from tests.migrations.catalog import Snapshot, row_counts, snapshot


def _revisions() -> list[str]:
    """Revision ids from the first to head, in order."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]


REVISIONS = _revisions()


@pytest.fixture
def fresh(empty_database_url: URL) -> Iterator[Engine]:
    engine = make_engine(empty_database_url, poolclass=NullPool)
    yield engine
    engine.dispose()


def _state(engine: Engine) -> dict[str, Any]:
    """The schema, and how many rows each table holds (revisions may seed data)."""
    with engine.connect() as connection:
        snap = snapshot(connection)
        return {**snap.as_dict(), "rows": row_counts(connection, snap.tables)}


def _assert_base(engine: Engine, empty: Snapshot) -> None:
    """Nothing of the migrations is left but alembic's bookkeeping and the extensions."""
    assert migrate.current_revision(engine) is None
    with engine.connect() as connection:
        base = snapshot(connection)
        assert row_counts(connection, base.tables) == {"alembic_version": 0}
    assert base.tables == {"alembic_version"}
    assert not base.tables & (set(seed.SEED_TABLES) | set(Base.metadata.tables))
    assert base.indexes.keys() == {"alembic_version_pkc"}
    assert base.constraints.keys() == {"alembic_version_pkc"}
    assert base.relations.keys() == {"alembic_version", "alembic_version_pkc"}
    assert (base.triggers, base.functions, base.types) == ({}, empty.functions, empty.types)
    # 0001's downgrade leaves pg_trgm and btree_gin installed on purpose (docs/schema.md).
    assert base.extensions == empty.extensions | seed.SEED_EXTENSIONS


def test_there_is_a_single_line_of_revisions() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert REVISIONS[0] == "0001"
    assert script.get_heads() == [REVISIONS[-1]] == [migrate.head_revision()]


def test_upgrade_downgrade_upgrade_gives_the_same_schema(fresh: Engine) -> None:
    with fresh.connect() as connection:
        empty = snapshot(connection)

    migrate.upgrade(fresh)
    assert migrate.is_up_to_date(fresh)
    first = _state(fresh)
    assert set(seed.SEED_TABLES) <= set(first["rows"])

    migrate.downgrade(fresh, "base")
    _assert_base(fresh, empty)

    migrate.upgrade(fresh)
    assert migrate.is_up_to_date(fresh)
    assert _state(fresh) == first


def test_each_revision_steps_down_and_up(fresh: Engine) -> None:
    with fresh.connect() as connection:
        empty = snapshot(connection)

    states: dict[str, dict[str, Any]] = {}
    for revision in REVISIONS:
        migrate.upgrade(fresh, revision)
        assert migrate.current_revision(fresh) == revision
        states[revision] = _state(fresh)

    for revision in reversed(REVISIONS):
        index = REVISIONS.index(revision)
        below = REVISIONS[index - 1] if index else None
        migrate.downgrade(fresh, below or "base")
        if below is None:
            _assert_base(fresh, empty)
        else:
            assert migrate.current_revision(fresh) == below
            assert _state(fresh) == states[below], f"downgrading {revision}"

    for revision in REVISIONS:
        migrate.upgrade(fresh, revision)
        assert _state(fresh) == states[revision], f"upgrading to {revision} again"
