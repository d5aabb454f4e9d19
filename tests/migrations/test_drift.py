"""The typed models and the migrations describe the same schema."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Index, MetaData
from sqlalchemy.engine import Engine

from erpgo_desktop.db.models import Base


def _drift(engine: Engine, metadata: MetaData) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def test_models_match_migrated_schema(engine: Engine) -> None:
    assert _drift(engine, Base.metadata) == []


def test_drift_check_notices_a_missing_index(engine: Engine) -> None:
    # Guards the guard: a model that lacks one of the seed's indexes must show up as drift.
    metadata = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    products = metadata.tables["products"]
    trimmed = next(index for index in products.indexes if index.name == "idx_products_price")
    products.indexes.discard(trimmed)
    diffs = _drift(engine, metadata)
    assert any(
        diff[0] == "remove_index"
        and isinstance(diff[1], Index)
        and diff[1].name == "idx_products_price"
        for diff in diffs
    ), diffs
