"""Fixtures for the schema tests: one migrated database per test module.

Most schema tests only insert a few rows and look at what PostgreSQL says, so a module
shares one database (cloned from the session's migrated template) and every test runs
in a transaction that is rolled back: the tests stay independent and the suite fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import Connection, Engine

from erpgo_desktop.db.engine import make_engine

if TYPE_CHECKING:
    from tests.conftest import ThrowawayDatabases


@pytest.fixture(scope="module")
def head_engine(pg_server: ThrowawayDatabases, template_database: str) -> Iterator[Engine]:
    """An engine on a database of this module's own, migrated to the newest revision."""
    engine = make_engine(pg_server.create_database(template=template_database))
    yield engine
    engine.dispose()


@pytest.fixture
def conn(head_engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back after the test."""
    with head_engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()
