"""Deactivation and role changes take effect at once (issue 11, point 4).

Each person works over their own login role (services.auth.sign_in). Deactivating them
ends those sessions in the database and refuses new ones; the services then say so with
AccountDisabledError, reads and writes alike, and the change listener stops. Taking a
permission away from a role applies to the next statement of everyone holding it, whatever
their CurrentUser still claims.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import libpq_conninfo, make_session_factory
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.customers import CustomerDraft
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.errors import (
    ACCOUNT_DISABLED_MESSAGE,
    AccountDisabledError,
    AuthenticationError,
    PermissionDeniedError,
)
from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services import users as users_module
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser, SignedIn
from erpgo_desktop.services.notifications import Change, ChangeListener

PASSWORD = "a long password"
#: The acceptance's bound: a deactivated person's sessions are gone within this.
ENDED_WITHIN = 2.0


@dataclass
class Person:
    signed_in: SignedIn
    services: Services

    @property
    def user(self) -> CurrentUser:
        return self.signed_in.user

    @property
    def login_role(self) -> str:
        role = self.signed_in.engine.url.username
        assert role is not None
        return role


@pytest.fixture
def auth(engine: Engine) -> AuthService:
    return AuthService(make_session_factory(engine))


@pytest.fixture
def signed_in(auth: AuthService) -> Iterator[list[SignedIn]]:
    """Engines of the people a test signed in, disposed of at its end."""
    sessions: list[SignedIn] = []
    yield sessions
    for session in sessions:
        session.engine.dispose()


def sign_in(auth: AuthService, signed_in: list[SignedIn], username: str) -> Person:
    session = auth.sign_in(username, PASSWORD)
    signed_in.append(session)
    return Person(session, build_services(session.engine))


def make_user(auth: AuthService, username: str, role: str) -> CurrentUser:
    return auth.create_user(
        NewUser(username, f"{username}@example.com", PASSWORD, role, username.title()),
        acting=None,
    )


def backends(engine: Engine, login_role: str) -> int:
    """The server's sessions of `login_role` in the test's database (seen as superuser)."""
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE usename = :role AND datname = current_database()"
            ),
            {"role": login_role},
        ).scalar_one()


def seconds_until_no_backends(engine: Engine, login_role: str, started: float) -> float:
    """How long after `started` the last session of `login_role` was gone.

    pg_terminate_backend only signals; the backend leaves pg_stat_activity a moment later.
    Looked at every few milliseconds, up to the acceptance's bound and a little more.
    """
    deadline = started + ENDED_WITHIN + 1.0
    while backends(engine, login_role):
        assert time.monotonic() < deadline, f"{login_role} still has sessions"
        time.sleep(0.005)
    return time.monotonic() - started


HEADER = OrderHeader(Address("Ann", "Archer", "1 Road", "Town", "1000", "NL"))


def customer_of(admin: Person, email: str) -> uuid.UUID:
    """A customer to write orders for (made by the administrator: a new customer's credit
    limit is a column only customers.credit_override may write)."""
    row = admin.services.customers.create_customer(
        admin.user, CustomerDraft(first_name="Ann", last_name="Archer", email=email)
    )
    return row.id


class Listening:
    """A ChangeListener as the person, on a thread, as the window's change feed runs it."""

    def __init__(self, person: Person) -> None:
        self.ready = threading.Event()
        self.heard: list[Change] = []
        self.error: BaseException | None = None
        self.listener = ChangeListener(
            person.signed_in.engine.url,
            wait=0.05,
            backoff=(0.05,),
            on_listening=lambda now: self.ready.set() if now else None,
        )
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10), "the listener did not start listening"

    def _run(self) -> None:
        try:
            self.listener.run(self.heard.append)
        except BaseException as error:  # what the thread ended with, for the test
            self.error = error

    def stop(self) -> None:
        self.listener.stop()
        self.thread.join(5)


def test_a_deactivated_person_is_signed_out_at_once_and_refused_after(
    engine: Engine, auth: AuthService, signed_in: list[SignedIn]
) -> None:
    make_user(auth, "boss", "admin")
    sales_user = make_user(auth, "sam", "sales")
    admin = sign_in(auth, signed_in, "boss")
    sales = sign_in(auth, signed_in, "sam")
    customer_id = customer_of(admin, "ann@example.com")
    customers, orders = sales.services.customers, sales.services.orders

    orders.create_draft(sales.user, customer_id, HEADER)
    assert [row.id for row in customers.search_customers(sales.user, "")] == [customer_id]
    listening = Listening(sales)
    try:
        # The pool's connection and the listener's: the sessions a workstation holds.
        assert backends(engine, sales.login_role) >= 2

        started = time.monotonic()
        admin.services.users.deactivate_user(admin.user, sales_user.id)
        ended_after = seconds_until_no_backends(engine, sales.login_role, started)
        print(f"\nsessions of a deactivated person ended {ended_after * 1000:.0f} ms after "
              "the administrator's call began")  # fmt: skip
        assert ended_after < ENDED_WITHIN

        # The listener does not reconnect forever: it says why it stopped.
        listening.thread.join(5)
        assert not listening.thread.is_alive()
        assert isinstance(listening.error, AccountDisabledError)
    finally:
        listening.stop()

    # The next action, read or write, is refused with its own error: not "connection lost".
    with pytest.raises(AccountDisabledError) as read:
        customers.search_customers(sales.user, "")
    assert read.value.message == ACCOUNT_DISABLED_MESSAGE
    assert read.value.login_role == sales.login_role
    with pytest.raises(AccountDisabledError):
        orders.create_draft(sales.user, customer_id, HEADER)
    with pytest.raises(AccountDisabledError):
        sales.services.health.ping()
    assert backends(engine, sales.login_role) == 0

    # Signing in again is refused as a sign-in (nobody is signed out by it).
    with pytest.raises(AuthenticationError, match="disabled") as again:
        auth.sign_in("sam", PASSWORD)
    assert not isinstance(again.value, AccountDisabledError)

    # Reactivated, the same person works again, on a new sign-in.
    admin.services.users.reactivate_user(admin.user, sales_user.id)
    back = sign_in(auth, signed_in, "sam")
    assert back.services.orders.create_draft(back.user, customer_id, HEADER).customer_id == (
        customer_id
    )


def test_a_session_opened_while_the_deactivation_commits_is_ended_too(
    engine: Engine,
    auth: AuthService,
    signed_in: list[SignedIn],
    database_url: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ALTER ROLE ... NOLOGIN counts from the administrator's commit, but the sessions are
    ended before it: a workstation reconnecting in between (its pool does so by itself)
    would otherwise keep a session the account no longer has a right to."""
    make_user(auth, "boss", "admin")
    sales_user = make_user(auth, "sam", "sales")
    admin = sign_in(auth, signed_in, "boss")
    sales = sign_in(auth, signed_in, "sam")
    url = sales.signed_in.engine.url
    sneaked: list[psycopg.Connection[tuple[object, ...]]] = []
    check = users_module._check_an_administrator_remains

    def reconnect_meanwhile(*args: object, **kwargs: object) -> None:
        # Inside the administrator's transaction, after the sessions were ended.
        sneaked.append(psycopg.connect(libpq_conninfo(url), autocommit=True))
        check(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(users_module, "_check_an_administrator_remains", reconnect_meanwhile)
    try:
        admin.services.users.deactivate_user(admin.user, sales_user.id)
        assert len(sneaked) == 1
        with pytest.raises(psycopg.OperationalError):
            sneaked[0].execute("SELECT 1")
        seconds_until_no_backends(engine, sales.login_role, time.monotonic())
    finally:
        for connection in sneaked:
            connection.close()


def test_a_permission_taken_away_applies_to_the_next_action(
    auth: AuthService, signed_in: list[SignedIn]
) -> None:
    make_user(auth, "boss", "admin")
    admin = sign_in(auth, signed_in, "boss")
    users = admin.services.users
    # A role of this test's own: the clones of the template share the default roles.
    role = users.create_role(
        admin.user,
        "field-sales",
        "Sales on the road",
        perms.DEFAULT_ROLES["sales"],
    )
    make_user(auth, "rita", "field-sales")
    rep = sign_in(auth, signed_in, "rita")
    customer_id = customer_of(admin, "ann@example.com")
    orders = rep.services.orders
    first = orders.create_draft(rep.user, customer_id, HEADER)

    users.update_role(
        admin.user,
        role.id,
        description=role.description,
        permissions=[p for p in perms.DEFAULT_ROLES["sales"] if p != perms.ORDERS_CREATE],
        expected=role,
    )

    # What the window learnt at sign-in still claims the right; the database does not.
    assert rep.user.can(perms.ORDERS_CREATE)
    with pytest.raises(PermissionDeniedError) as refused:
        orders.create_draft(rep.user, customer_id, HEADER)
    assert "the database refused it" in refused.value.message
    # Still signed in, and what the role still grants still works.
    assert orders.get_order(rep.user, first.id).id == first.id
