"""Connection loss in the services: ping, ConnectionLostError instead of driver errors, and a
pool that recovers from connections the server cut.

Stopping and starting a whole server is in tests/ui/test_connection.py; here the server
stays up and cuts single connections (pg_terminate_backend), or the URL names a port where
nothing listens.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors as pg_errors
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.errors import CONNECTION_LOST_MESSAGE, ConnectionLostError
from erpgo_desktop.services.auth import AuthService, CurrentUser
from erpgo_desktop.services.base import is_connection_lost
from erpgo_desktop.services.catalog import ProductCatalogService, ProductQuery
from erpgo_desktop.services.customers import CustomerDraft, CustomerService
from erpgo_desktop.services.health import HealthService
from tests.services.test_products import make_staff

READER = CurrentUser(uuid.uuid4(), "reader", "Reader", ("x",), frozenset({"customers.read"}))


@pytest.fixture
def nowhere(database_url: URL) -> Iterator[Engine]:
    """An engine for a server that is not there: nothing listens on port 1."""
    engine = make_engine(database_url.set(host="127.0.0.1", port=1, query={}))
    yield engine
    engine.dispose()


def backend_pid(engine: Engine) -> int:
    return HealthService(make_session_factory(engine))._read(
        lambda session: int(session.scalar(text("SELECT pg_backend_pid()")) or 0)
    )


def terminate(admin: Engine, pid: int) -> None:
    with admin.begin() as connection:
        # With a timeout (PostgreSQL 14+), it returns once the backend has gone.
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})


def test_ping_answers(engine: Engine) -> None:
    seconds = HealthService(make_session_factory(engine)).ping()
    assert 0 <= seconds < 5


def test_unreachable_server_is_a_connection_lost_error(nowhere: Engine) -> None:
    sessions = make_session_factory(nowhere)
    started = time.monotonic()
    with pytest.raises(ConnectionLostError) as lost:
        HealthService(sessions).ping()
    assert lost.value.message == CONNECTION_LOST_MESSAGE
    assert "cannot be reached" in lost.value.message
    assert isinstance(lost.value.__cause__, OperationalError)  # the driver's, kept as cause
    with pytest.raises(ConnectionLostError):
        CustomerService(sessions).search_customers(READER, "Ann")
    with pytest.raises(ConnectionLostError):
        ProductCatalogService(sessions).list_products(ProductQuery(), None, 50)
    with pytest.raises(ConnectionLostError):
        ProductCatalogService(sessions).count_products(ProductQuery())
    assert time.monotonic() - started < 10  # refused at once, not a timeout


def test_unreachable_server_refuses_a_write_with_the_same_error(
    engine: Engine, nowhere: Engine
) -> None:
    manager = make_staff(engine).manager
    with pytest.raises(ConnectionLostError):
        CustomerService(make_session_factory(nowhere)).create_customer(
            manager, CustomerDraft("Ann", "Archer", "ann@example.com")
        )


def test_a_read_on_a_connection_the_server_cut_is_run_again(engine: Engine) -> None:
    """Without pre-ping the pool hands out the dead connection; the read still succeeds."""
    cutting = make_engine(engine.url, pool_pre_ping=False, pool_size=1, max_overflow=0)
    try:
        health = HealthService(make_session_factory(cutting))
        first = backend_pid(cutting)
        assert backend_pid(cutting) == first  # the pool keeps the one connection
        terminate(engine, first)
        health.ping()  # the dead connection fails, a fresh one answers
        assert backend_pid(cutting) != first
    finally:
        cutting.dispose()


def test_a_write_on_a_connection_the_server_cut_is_not_run_twice(engine: Engine) -> None:
    """A write is not repeated behind the user's back (its commit may have happened): it
    fails with ConnectionLostError, and trying again works."""
    manager = make_staff(engine).manager
    cutting = make_engine(engine.url, pool_pre_ping=False, pool_size=1, max_overflow=0)
    try:
        customers = CustomerService(make_session_factory(cutting))
        terminate(engine, backend_pid(cutting))
        draft = CustomerDraft("Ann", "Archer", "ann@example.com")
        with pytest.raises(ConnectionLostError):
            customers.create_customer(manager, draft)
        created = customers.create_customer(manager, draft)  # the user's retry
        assert customers.get_customer(manager, created.id).email == "ann@example.com"
    finally:
        cutting.dispose()


def test_with_pre_ping_a_write_after_a_cut_just_works(engine: Engine) -> None:
    manager = make_staff(engine).manager
    workstation = make_engine(engine.url, pool_size=1, max_overflow=0)  # pre-ping: the default
    try:
        customers = CustomerService(make_session_factory(workstation))
        terminate(engine, backend_pid(workstation))
        draft = CustomerDraft("Ann", "Archer", "a@example.com")
        assert customers.create_customer(manager, draft).email == "a@example.com"
    finally:
        workstation.dispose()


def test_a_cancelled_query_is_not_a_lost_connection(engine: Engine) -> None:
    def too_slow(session: object) -> None:
        session.execute(text("SET LOCAL statement_timeout = 10"))  # type: ignore[attr-defined]
        session.execute(text("SELECT pg_sleep(5)"))  # type: ignore[attr-defined]

    with pytest.raises(DBAPIError) as refused:
        HealthService(make_session_factory(engine))._read(too_slow)
    assert isinstance(refused.value.orig, pg_errors.QueryCanceled)
    assert not isinstance(refused.value, ConnectionLostError)


@pytest.mark.parametrize(
    ("error", "lost"),
    [
        (psycopg.OperationalError("connection refused"), True),  # libpq's: no SQLSTATE
        (psycopg.InterfaceError("the connection is closed"), True),
        (pg_errors.AdminShutdown("terminating connection"), True),
        (pg_errors.CannotConnectNow("the database system is starting up"), True),
        (pg_errors.ConnectionFailure("connection failure"), True),
        (pg_errors.QueryCanceled("canceling statement"), False),
        (pg_errors.SerializationFailure("could not serialize"), False),
        (pg_errors.UniqueViolation("duplicate key"), False),
        (ValueError("not a database error"), False),
    ],
)
def test_which_errors_mean_the_connection_is_lost(error: Exception, lost: bool) -> None:
    assert is_connection_lost(error) is lost
    wrapped = DBAPIError("SELECT 1", None, error)
    assert is_connection_lost(wrapped) is lost


def test_signing_in_to_an_unreachable_server_says_so(nowhere: Engine) -> None:
    auth = AuthService(make_session_factory(nowhere))
    with pytest.raises(ConnectionLostError):
        auth.login("anyone", "whatever it is")
    with pytest.raises(ConnectionLostError):
        auth.has_any_user()
