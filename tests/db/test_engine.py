"""Connection strings for our own psycopg connections (change feed, demo data, tests)."""

from __future__ import annotations

import psycopg
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.engine import URL, make_url

from erpgo_desktop.db.engine import connect_psycopg, libpq_conninfo, make_engine


def test_a_password_with_spaces_and_quotes_reaches_libpq_as_typed() -> None:
    url = URL.create(
        "postgresql+psycopg",
        username="erp app",
        password="two words 'and' \\ quotes",
        host="db.example",
        port=6543,
        database="erp go",
    )
    assert conninfo_to_dict(libpq_conninfo(url)) == {
        "host": "db.example",
        "port": "6543",
        "dbname": "erp go",
        "user": "erp app",
        "password": "two words 'and' \\ quotes",
    }


def test_query_options_such_as_a_socket_directory_are_kept() -> None:
    url = make_url("postgresql+psycopg://postgres@/erpgo?host=/run/erpgo%20socket")
    assert conninfo_to_dict(libpq_conninfo(url)) == {
        "host": "/run/erpgo socket",
        "dbname": "erpgo",
        "user": "postgres",
    }


def test_the_test_server_accepts_it(database_url: URL) -> None:
    with psycopg.connect(libpq_conninfo(database_url)) as connection:
        assert connection.execute("SELECT current_database()").fetchone() == (
            database_url.database,
        )


def test_no_connection_of_ours_prepares_statements_on_the_server(database_url: URL) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            for _ in range(10):  # psycopg would prepare from the fifth run on
                connection.exec_driver_sql("SELECT 1")
            driver = connection.connection.driver_connection
            assert driver is not None and driver.prepare_threshold is None
            prepared = connection.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements")
            assert prepared.scalar_one() == 0
    finally:
        engine.dispose()
    with connect_psycopg(libpq_conninfo(database_url), prepare_threshold=5) as own:
        assert own.prepare_threshold is None
