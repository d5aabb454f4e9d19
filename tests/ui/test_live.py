"""ChangeFeed: commits from another connection reach the GUI thread as `changed`, bursts
merged, and stop() ends the listening thread promptly. (A server that goes away and comes
back is in test_connection.py.)"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

from erpgo_desktop.db.engine import WORKSTATION
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.ui.live import ChangeBatch, ChangeFeed

NEW_CUSTOMER = "INSERT INTO customers (id, first_name, last_name, email) VALUES (:id, 'A', 'B', :e)"


def uid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def insert_customer(engine: Engine, customer_id: uuid.UUID) -> None:
    with engine.begin() as connection:  # a connection of its own: "another workstation"
        connection.execute(text(NEW_CUSTOMER), {"id": customer_id, "e": f"{customer_id}@x.org"})


@pytest.fixture
def feed(qtbot: QtBot, database_url: URL, engine: Engine) -> Iterator[ChangeFeed]:
    feed = ChangeFeed(database_url)
    with qtbot.waitSignal(feed.listening_changed, timeout=10_000) as listening:
        feed.start()
    assert listening.args == [True] and feed.listening
    yield feed
    assert feed.stop()


def test_a_commit_elsewhere_arrives_within_a_second(
    qtbot: QtBot, feed: ChangeFeed, engine: Engine
) -> None:
    customer = uuid.uuid4()
    with qtbot.waitSignal(feed.changed, timeout=1000) as heard:
        started = time.perf_counter()
        insert_customer(engine, customer)
    latency = time.perf_counter() - started
    assert heard.args == [Change("customers", "INSERT", (customer,))]
    assert latency < 1.0


def test_a_burst_is_merged(qtbot: QtBot, feed: ChangeFeed, engine: Engine) -> None:
    """Forty commits, one after the other: far fewer deliveries, and every id in them."""
    received: list[Change] = []
    feed.changed.connect(received.append)
    customers = [uuid.uuid4() for _ in range(40)]
    for customer in customers:
        insert_customer(engine, customer)

    def heard_ids() -> set[uuid.UUID]:
        return {i for change in received for i in change.ids or ()}

    qtbot.waitUntil(lambda: heard_ids() == set(customers), timeout=5000)
    assert {(c.table, c.op) for c in received} == {("customers", "INSERT")}
    assert len(received) < len(customers) / 2, [len(c.ids or ()) for c in received]


def test_changes_arriving_together_go_out_as_one(qtbot: QtBot, database_url: URL) -> None:
    """The first change after a quiet spell at once; what follows within the window, merged
    per table and operation, when the window ends."""
    feed = ChangeFeed(database_url, coalesce_ms=50)
    received: list[Change] = []
    feed.changed.connect(received.append)
    feed.start()
    run = feed._run  # what the listening thread tags its changes with
    try:
        # The slot the listening thread's signal reaches, called as the event loop would.
        for n in range(1, 6):
            feed._on_heard(run, Change("products", "UPDATE", (uid(n),)))
        assert received == [Change("products", "UPDATE", (uid(1),))]  # at once
        feed._on_heard(run, Change("orders", "INSERT", (uid(9),)))
        feed._on_heard(run, Change("products", "UPDATE", (uid(2),)))
        feed._on_heard(run - 1, Change("orders", "UPDATE", (uid(8),)))  # an older run's
        qtbot.waitUntil(lambda: len(received) == 3)
        assert received[1:] == [
            Change("products", "UPDATE", (uid(2), uid(3), uid(4), uid(5))),
            Change("orders", "INSERT", (uid(9),)),
        ]
        # Quiet again: the next one goes out at once, not after a window.
        qtbot.waitUntil(lambda: not feed._window.isActive())
        feed._on_heard(run, Change("orders", "DELETE", (uid(9),)))
        assert received[3:] == [Change("orders", "DELETE", (uid(9),))]
    finally:
        assert feed.stop()


def test_stop_is_prompt_and_drops_what_is_pending(
    qtbot: QtBot, feed: ChangeFeed, engine: Engine
) -> None:
    received: list[Change] = []
    feed.changed.connect(received.append)
    with qtbot.waitSignal(feed.changed, timeout=1000):
        insert_customer(engine, uuid.uuid4())
    feed._on_heard(feed._run, Change("orders", "UPDATE", (uid(1),)))  # in the window
    with qtbot.waitSignal(feed.listening_changed) as stopped:
        started = time.perf_counter()
        assert feed.stop()
    assert time.perf_counter() - started < 1.0
    assert stopped.args == [False] and not feed.running
    insert_customer(engine, uuid.uuid4())
    with qtbot.assertNotEmitted(feed.changed, wait=300):
        pass
    assert len(received) == 1
    assert feed.stop()  # again: nothing to do


def test_started_again_it_listens_again(qtbot: QtBot, feed: ChangeFeed, engine: Engine) -> None:
    assert feed.stop()
    with qtbot.waitSignal(feed.listening_changed, timeout=10_000):
        feed.start()
    customer = uuid.uuid4()
    with qtbot.waitSignal(feed.changed, timeout=1000) as heard:
        insert_customer(engine, customer)
    assert heard.args == [Change("customers", "INSERT", (customer,))]


def test_batch_merges_ids_per_table_and_operation() -> None:
    batch = ChangeBatch(max_ids=4)
    assert not batch and batch.take() == []
    batch.add(Change("products", "UPDATE", (uid(1), uid(2))))
    batch.add(Change("products", "INSERT", (uid(3),)))
    batch.add(Change("products", "UPDATE", (uid(2), uid(4))))
    assert batch.take() == [
        Change("products", "UPDATE", (uid(1), uid(2), uid(4))),
        Change("products", "INSERT", (uid(3),)),
    ]
    assert not batch


def test_batch_keeps_this_workstation_s_changes_apart_from_others() -> None:
    batch = ChangeBatch()
    batch.add(Change("orders", "UPDATE", (uid(1),), WORKSTATION))
    batch.add(Change("orders", "UPDATE", (uid(2),), "erpgo-desktop elsewhere"))
    batch.add(Change("orders", "UPDATE", (uid(3),), WORKSTATION))
    own, others = batch.take()
    assert (own.ids, own.is_own) == ((uid(1), uid(3)), True)
    assert (others.ids, others.is_own) == ((uid(2),), False)


def test_batch_reloads_a_table_for_no_ids_or_too_many() -> None:
    batch = ChangeBatch(max_ids=4)
    batch.add(Change("products", "UPDATE", (uid(1),)))
    batch.add(Change("products", "UPDATE", None))
    batch.add(Change("products", "UPDATE", (uid(2),)))
    batch.add(Change("orders", "UPDATE", tuple(uid(n) for n in range(5))))
    assert batch.take() == [Change("products", "UPDATE", None), Change("orders", "UPDATE", None)]


def test_batch_reload_everything_wins() -> None:
    batch = ChangeBatch()
    batch.add(Change("products", "UPDATE", (uid(1),)))
    batch.add(Change.reload_everything())
    batch.add(Change("orders", "DELETE", (uid(2),)))
    assert batch.take() == [Change.reload_everything()]
