"""Many workstations through PgBouncer in transaction mode: the whole order flow, no error.

A transaction pooler hands each transaction whichever server connection is free, so the
clients of one person share server connections. psycopg would prepare a statement on its
server connection after five runs: through the pooler that name then meets a connection
where it is unknown, already taken, or someone else's statement. Ours never prepare
(`db.engine.NEVER_PREPARE`); this test runs the real thing through Debian's PgBouncer.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.services.auth import AuthService, NewUser
from erpgo_desktop.services.inventory import InventoryService
from erpgo_desktop.services.orders import OrderService
from erpgo_desktop.services.stock import StockKey

PEOPLE = 3
#: The same person at several desks: their clients share that person's server connections.
DESKS_PER_PERSON = 3
#: Enough orders that every statement runs far more than five times on each connection.
ORDERS_PER_DESK = 8
SERVER_CONNECTIONS_PER_PERSON = 2
ADDRESS = Address("Ann", "Buyer", "1 Main St", "Springfield", "12345", "USA")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_as(server_host: str) -> str | None:
    """PgBouncer refuses to run as root: as root, run it as whoever may reach the server."""
    if os.geteuid() != 0:
        return None
    if server_host.startswith("/"):
        # A Unix socket in the server's own folder: only its owner may open it.
        return pwd.getpwuid(os.stat(server_host).st_uid).pw_name
    return "nobody"


@pytest.fixture
def pgbouncer_url(database_url: URL) -> Iterator[URL]:
    binary = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if binary is None:
        pytest.skip("PgBouncer is not installed (.ci/run installs Debian's package)")
    server_host = str(database_url.query.get("host") or database_url.host or "127.0.0.1")
    # Not under pytest's folder, which only its owner may enter: PgBouncer may run as
    # another user (below).
    with tempfile.TemporaryDirectory(prefix="erpgo-pgbouncer-") as name:
        yield from _run_pgbouncer(binary, database_url, server_host, Path(name))


def _run_pgbouncer(binary: str, database_url: URL, server_host: str, folder: Path) -> Iterator[URL]:
    port = _free_port()
    superuser = database_url.username or "postgres"
    # The superuser connects without a password (trust), so the file names it only.
    (folder / "users.txt").write_text(f'"{superuser}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "\n".join([
            "[databases]",
            f"{database_url.database} = host={server_host} port={database_url.port or 5432} "
            f"dbname={database_url.database} auth_user={superuser}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {port}",
            "unix_socket_dir =",
            # Each person signs in with SCRAM; PgBouncer looks their verifier up as the
            # superuser and passes the proof on to the server.
            "auth_type = scram-sha-256",
            f"auth_file = {folder / 'users.txt'}",
            "pool_mode = transaction",
            f"default_pool_size = {SERVER_CONNECTIONS_PER_PERSON}",
            "max_client_conn = 200",
            f"logfile = {folder / 'pgbouncer.log'}",
            f"pidfile = {folder / 'pgbouncer.pid'}",
        ]) + "\n"
    )  # fmt: skip
    command = [binary, str(folder / "pgbouncer.ini")]
    user = _run_as(server_host)
    if user is not None:
        shutil.chown(folder, user)
        for path in folder.iterdir():
            shutil.chown(path, user)
        command[1:1] = ["-u", user]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(port, process)
        yield URL.create(
            "postgresql+psycopg", host="127.0.0.1", port=port, database=database_url.database
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
    log = (folder / "pgbouncer.log").read_text()
    # PgBouncer's own view: a server connection that saw a client's error says so here.
    errors = [line for line in log.splitlines() if " ERROR " in line]
    assert errors == [], log[-3000:]


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = 200  # tries of 50 ms at most: PgBouncer starts in a few ms
    for _ in range(deadline):
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"PgBouncer stopped at start: {output}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.05).close()
            return
        except OSError:
            threading.Event().wait(0.05)
    raise RuntimeError("PgBouncer did not start listening")


def _seed(engine: Engine) -> tuple[list[uuid.UUID], uuid.UUID, uuid.UUID]:
    auth = AuthService(make_session_factory(engine))
    clerk = auth.create_user(
        NewUser("cleo", "cleo@example.com", "long enough", "warehouse_clerk", "Cleo"), acting=None
    )
    for n in range(PEOPLE):
        auth.create_user(
            NewUser(f"manager-{n}", f"m{n}@example.com", "long enough", "manager", "M"),
            acting=None,
        )
    with engine.begin() as connection:
        category = connection.execute(
            text("INSERT INTO product_categories (name) VALUES ('Tools') RETURNING id")
        ).scalar_one()
        products = [
            connection.execute(
                text("INSERT INTO products (sku, name, category_id, price, taxable) "
                     "VALUES (:sku, :name, :c, 10, false) RETURNING id"),
                {"sku": f"POOL-{n}", "name": f"Pooled {n}", "c": category},
            ).scalar_one()
            for n in range(2)
        ]  # fmt: skip
        warehouse = connection.execute(
            text("INSERT INTO warehouses (code, name) VALUES ('MAIN', 'Main') RETURNING id")
        ).scalar_one()
        customer = connection.execute(
            text("INSERT INTO customers (first_name, last_name, email, customer_code) "
                 "VALUES ('Ann', 'Buyer', 'ann@example.com', 'CUST-000001') RETURNING id")
        ).scalar_one()  # fmt: skip
    inventory = InventoryService(make_session_factory(engine))
    for product in products:
        inventory.receive(clerk, StockKey(product, warehouse), 10_000)
    return products, warehouse, customer


def test_the_order_flow_runs_through_a_transaction_pooler(
    engine: Engine, pgbouncer_url: URL
) -> None:
    products, warehouse, customer = _seed(engine)
    through_pooler = make_engine(pgbouncer_url)
    auth = AuthService(make_session_factory(through_pooler))
    desks = [
        auth.sign_in(f"manager-{n}", "long enough")
        for n in range(PEOPLE)
        for _ in range(DESKS_PER_PERSON)
    ]
    start = threading.Barrier(len(desks))

    def work(desk: int) -> int:
        signed_in = desks[desk]
        orders, me = OrderService(make_session_factory(signed_in.engine)), signed_in.user
        start.wait()
        for _ in range(ORDERS_PER_DESK):
            order = orders.create_draft(me, customer, OrderHeader(ADDRESS))
            for product in products:
                order = orders.add_line(me, order.id, order.version, product, 1)
            order = orders.submit(me, order.id, order.version)
            order = orders.confirm(me, order.id, order.version, warehouse)
            order = orders.start_processing(me, order.id, order.version)
            order = orders.ship(
                me, order.id, order.version, carrier="DHL", tracking_number="JD0001"
            )
            orders.deliver(me, order.id, order.version)
        return ORDERS_PER_DESK

    try:
        with ThreadPoolExecutor(len(desks)) as pool:
            done = sum(pool.map(work, range(len(desks))))
    finally:
        for signed_in in desks:
            signed_in.engine.dispose()
        through_pooler.dispose()

    assert done == len(desks) * ORDERS_PER_DESK
    with engine.connect() as connection:
        delivered = connection.execute(
            text("SELECT count(*) FROM orders WHERE status = 'DELIVERED'")
        ).scalar_one()
        people = connection.execute(
            text("SELECT count(DISTINCT created_by) FROM orders")
        ).scalar_one()
    assert delivered == done
    assert people == PEOPLE
