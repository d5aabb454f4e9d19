"""The migrated schema is the seed's: tables, columns, keys, checks, indexes, triggers.

Revision 0001 must produce exactly the seed (tests marked `seed`: an empty database
migrated to "0001"). Later revisions may add to it but not change it, so at head every
seed object must still be there, unchanged (tests marked `head`). The expected schema is
tests/migrations/seed_schema.py, transcribed from erpgo-database-schema.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from erpgo_desktop.db import migrate
from erpgo_desktop.db.engine import make_engine
from tests.migrations import seed_schema as seed
from tests.migrations.catalog import Snapshot, snapshot

_MISSING = "<missing>"


@dataclass
class Migrated:
    revision: str
    engine: Engine
    before: Snapshot | None  # the database before migrating, when it started empty
    after: Snapshot

    @property
    def exact(self) -> bool:
        return self.revision == "0001"

    def matches(self, actual: Mapping[Any, Any], expected: Mapping[Any, Any]) -> None:
        """Exactly the expected objects at 0001; at head, at least them, unchanged."""
        if self.exact:
            assert dict(actual) == dict(expected)
        else:
            assert {key: actual.get(key, _MISSING) for key in expected} == dict(expected)


@pytest.fixture(scope="module")
def at_seed(pg_server: Any) -> Iterator[Migrated]:
    """An empty database migrated to revision 0001 only."""
    engine = make_engine(pg_server.create_database(), poolclass=NullPool)
    with engine.connect() as connection:
        before = snapshot(connection)
    migrate.upgrade(engine, "0001")
    with engine.connect() as connection:
        after = snapshot(connection)
    yield Migrated("0001", engine, before, after)
    engine.dispose()


@pytest.fixture(scope="module")
def at_head(head_engine: Engine) -> Migrated:
    with head_engine.connect() as connection:
        return Migrated("head", head_engine, None, snapshot(connection))


@pytest.fixture(params=["seed", "head"])
def migrated(request: pytest.FixtureRequest) -> Migrated:
    return request.getfixturevalue(f"at_{request.param}")


def test_database_is_at_the_revision(migrated: Migrated) -> None:
    expected = "0001" if migrated.exact else migrate.head_revision()
    assert migrate.current_revision(migrated.engine) == expected


def test_tables(migrated: Migrated) -> None:
    expected = {*seed.SEED_TABLES, "alembic_version"}
    assert len(seed.SEED_TABLES) == 13
    if migrated.exact:
        assert migrated.after.tables == expected
    else:
        assert migrated.after.tables >= expected


@pytest.mark.parametrize("table", list(seed.SEED_TABLES))
def test_columns(migrated: Migrated, table: str) -> None:
    """Type, length / precision / scale, nullability and default of every column."""
    migrated.matches(migrated.after.columns.get(table, {}), seed.SEED_TABLES[table])


def test_columns_keep_the_seed_order(at_seed: Migrated) -> None:
    for table, columns in seed.SEED_TABLES.items():
        assert list(at_seed.after.columns[table]) == list(columns), table


def test_generated_columns(migrated: Migrated) -> None:
    migrated.matches(migrated.after.generated, seed.GENERATED_COLUMNS)


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("p", id="primary-keys"),
        pytest.param("u", id="unique"),
        pytest.param("f", id="foreign-keys"),
        pytest.param("c", id="checks"),
    ],
)
def test_constraints(migrated: Migrated, kind: str) -> None:
    """Definition, and for foreign keys the referenced table and ON DELETE action."""
    actual = {name: c for name, c in migrated.after.constraints.items() if c.type == kind}
    expected = {name: c for name, c in seed.SEED_CONSTRAINTS.items() if c.type == kind}
    actual.pop("alembic_version_pkc", None)
    migrated.matches(actual, expected)


def test_no_exclusion_constraints(at_seed: Migrated) -> None:
    assert not [c for c in at_seed.after.constraints.values() if c.type == "x"]


def test_the_seeds_named_checks(migrated: Migrated) -> None:
    tables = {
        "check_cost_not_higher_than_price": "products",
        "check_total_calculation": "orders",
        "check_status_progression": "orders",
        "check_inventory_quantities": "product_inventory",
    }
    assert set(tables) == set(seed.NAMED_CHECKS)
    for name, table in tables.items():
        constraint = migrated.after.constraints[name]
        assert (constraint.table, constraint.type) == (table, "c")
        assert constraint == seed.SEED_CONSTRAINTS[name]


def test_on_delete_actions(migrated: Migrated) -> None:
    actions = {"c": "CASCADE", "r": "RESTRICT", "n": "SET NULL", "a": None}
    for table, column, referenced, on_delete in seed.FOREIGN_KEYS:
        constraint = migrated.after.constraints[f"{table}_{column}_fkey"]
        assert (constraint.references, actions.get(constraint.on_delete or "", _MISSING)) == (
            referenced,
            on_delete,
        ), (table, column)


def test_indexes(migrated: Migrated) -> None:
    """Every index: the seed's named ones and those behind its keys (columns, method, WHERE)."""
    actual = dict(migrated.after.indexes)
    actual.pop("alembic_version_pkc", None)
    migrated.matches(actual, seed.SEED_INDEXES)


@pytest.mark.parametrize("name", list(seed.PARTIAL_UNIQUE_INDEXES))
def test_partial_unique_indexes(migrated: Migrated, name: str) -> None:
    with migrated.engine.connect() as connection:
        unique, partial, valid = connection.execute(
            text(
                "SELECT indisunique, indpred IS NOT NULL, indisvalid FROM pg_index"
                " WHERE indexrelid = CAST(:name AS regclass)"
            ),
            {"name": name},
        ).one()
    assert (unique, partial, valid) == (True, True, True)


def test_extensions(migrated: Migrated) -> None:
    if migrated.before is not None:
        added = migrated.after.extensions - migrated.before.extensions
        assert added == seed.SEED_EXTENSIONS
        assert "uuid-ossp" not in added
    else:
        assert migrated.after.extensions >= seed.SEED_EXTENSIONS


def test_functions(migrated: Migrated) -> None:
    """Language, result type and body (whitespace aside) of the seed's three functions."""
    migrated.matches(migrated.after.functions, seed.SEED_FUNCTIONS)


def test_triggers(migrated: Migrated) -> None:
    """Timing, events, table, level and function of every trigger; all enabled."""
    migrated.matches(migrated.after.triggers, seed.SEED_TRIGGERS)


def test_updated_at_triggers_cover_every_table_with_updated_at(migrated: Migrated) -> None:
    with_column = {t for t, columns in seed.SEED_TABLES.items() if "updated_at" in columns}
    with_trigger = {
        table
        for name, (table, _definition) in migrated.after.triggers.items()
        if name == f"update_{table}_updated_at"
    }
    assert with_column == set(seed.TABLES_WITH_UPDATED_AT)
    assert with_trigger >= with_column
    if migrated.exact:
        assert with_trigger == with_column


def test_nothing_else_at_the_seed(at_seed: Migrated) -> None:
    """No sequences, views, types or other relations beyond the tables and their indexes."""
    after = at_seed.after
    assert after.relations == {
        **{table: "r" for table in after.tables},
        **{index: "i" for index in after.indexes},
    }
    assert after.types == {}
