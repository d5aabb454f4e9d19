"""Random sequences of stock operations keep the books straight.

A hypothesis state machine receives, adjusts, transfers, counts, reserves and releases
stock (reserve and release straight through the StockLedger), and confirms, ships,
cancels and returns orders through the orders service, for a product, a second product
and a variant in two active warehouses and an inactive one. After every step it checks
that
- every stock row matches a plain model of on hand and reserved (refusals change nothing),
- what is reserved is what orders hold (stock_reservations) plus what was reserved
  directly,
- on hand equals the sum of the row's ledger, for every (product, warehouse[, variant]),
- 0 <= reserved <= on hand,
- products.stock_quantity (and product_variants.stock_quantity) is the sum of on hand,
- the two TRANSFER rows of every reference sum to zero.

All examples share one database; each starts by deleting the stock rows and the ledger.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.orders import OrderService
from erpgo_desktop.services.stock import StockKey, StockLedger
from tests.services.test_inventory import World, assert_ledger_balances, make_world

ITEMS = st.sampled_from(["drill", "shirt", "red"])
# The inactive warehouse comes up less often: most of its steps are refusals.
WAREHOUSES = st.sampled_from(["main", "east", "main", "east", "closed"])
QUANTITIES = st.integers(1, 40)
PICKS = st.integers(0, 1_000)  # which of the orders in a fitting status
ADDRESS = Address("Ann", "Buyer", "1 Main St", "Springfield", "12345", "USA")

RESET = (
    "DELETE FROM orders",  # with their lines and reservations
    "DELETE FROM order_addresses",
    "UPDATE customers SET balance = 0",
    "DELETE FROM stock_reservations",
    "DELETE FROM inventory_transactions",
    "DELETE FROM product_inventory",  # row by row: the triggers recount stock_quantity
    "DELETE FROM variant_inventory",
)


@dataclass
class Placed:
    """An order of one line, as the machine placed it."""

    id: uuid.UUID
    version: int
    line_id: uuid.UUID
    key: StockKey
    quantity: int
    status: str


class StockMachine(RuleBasedStateMachine):
    def __init__(self, world: World, customer: uuid.UUID) -> None:
        super().__init__()
        self.world = world
        self.customer = customer
        self.orders = OrderService(make_session_factory(world.engine))
        self.placed: list[Placed] = []
        with world.engine.begin() as connection:
            for statement in RESET:
                connection.execute(text(statement))
        # (on hand, reserved) per stock row, as the rules say they must be.
        self.model: defaultdict[StockKey, list[int]] = defaultdict(lambda: [0, 0])
        # What the reserve rule reserved straight through the StockLedger (no order).
        self.direct: defaultdict[StockKey, int] = defaultdict(int)
        self.sessions = make_session_factory(world.engine)

    def key(self, item: str, warehouse: str) -> StockKey:
        w = self.world
        warehouse_id = {"main": w.main, "east": w.east, "closed": w.closed}[warehouse]
        if item == "red":
            return StockKey(w.shirt, warehouse_id, w.red)
        return StockKey(w.drill if item == "drill" else w.shirt, warehouse_id)

    # -- the inventory service ---------------------------------------------------------

    @initialize(quantities=st.lists(st.integers(0, 30), min_size=6, max_size=6))
    def opening_stock(self, quantities: list[int]) -> None:
        """Some stock to start from, so that orders and transfers get somewhere."""
        places = [(i, w) for i in ("drill", "shirt", "red") for w in ("main", "east")]
        for (item, warehouse), quantity in zip(places, quantities, strict=True):
            if quantity:
                self.receive(item, warehouse, quantity)

    @rule(item=ITEMS, warehouse=WAREHOUSES, quantity=QUANTITIES)
    def receive(self, item: str, warehouse: str, quantity: int) -> None:
        key = self.key(item, warehouse)
        if warehouse == "closed":
            with _refused("is inactive"):
                self.world.inventory.receive(self.world.clerk, key, quantity)
            return
        level = self.world.inventory.receive(self.world.clerk, key, quantity)
        self.model[key][0] += quantity
        assert level.on_hand == self.model[key][0]

    @rule(
        item=ITEMS,
        warehouse=WAREHOUSES,
        delta=st.integers(-40, 40).filter(bool),
    )
    def adjust(self, item: str, warehouse: str, delta: int) -> None:
        key = self.key(item, warehouse)
        on_hand, reserved = self.model[key]
        if on_hand + delta < reserved:
            with _refused("Not enough stock"):
                self.world.inventory.adjust(self.world.clerk, key, delta, "random")
            return
        self.world.inventory.adjust(self.world.clerk, key, delta, "random")
        self.model[key][0] += delta

    @rule(item=ITEMS, source=WAREHOUSES, destination=WAREHOUSES, quantity=QUANTITIES)
    def transfer(self, item: str, source: str, destination: str, quantity: int) -> None:
        key = self.key(item, source)
        to = self.key(item, destination)
        on_hand, reserved = self.model[key]
        expected_refusal = (
            "two different warehouses"
            if source == destination
            else "is inactive"
            if "closed" in (source, destination)
            else "Not enough stock"
            if quantity > on_hand - reserved
            else None
        )
        if expected_refusal:
            with _refused(expected_refusal):
                self.world.inventory.transfer(self.world.clerk, key, to.warehouse_id, quantity)
            return
        moved = self.world.inventory.transfer(self.world.clerk, key, to.warehouse_id, quantity)
        self.model[key][0] -= quantity
        self.model[to][0] += quantity
        assert (moved.source.on_hand, moved.destination.on_hand) == (
            self.model[key][0],
            self.model[to][0],
        )

    @rule(item=ITEMS, eastward=st.booleans(), quantity=st.integers(1, 20))
    def rebalance(self, item: str, eastward: bool, quantity: int) -> None:
        """A transfer between the two active warehouses (the general rule is mostly
        refused: same warehouse, the inactive one)."""
        source, destination = ("main", "east") if eastward else ("east", "main")
        self.transfer(item, source, destination, quantity)

    @rule(item=ITEMS, warehouse=WAREHOUSES, counted=st.integers(0, 60))
    def count(self, item: str, warehouse: str, counted: int) -> None:
        key = self.key(item, warehouse)
        on_hand, reserved = self.model[key]
        if counted < reserved:
            with _refused("reserved for confirmed orders"):
                self.world.inventory.count(self.world.clerk, key, counted)
            return
        result = self.world.inventory.count(self.world.clerk, key, counted)
        assert (result.previous_on_hand, result.difference) == (on_hand, counted - on_hand)
        self.model[key][0] = counted

    # -- what orders do, straight through the StockLedger -------------------------------

    @rule(item=ITEMS, warehouse=WAREHOUSES, quantity=st.integers(1, 20))
    def reserve(self, item: str, warehouse: str, quantity: int) -> None:
        key = self.key(item, warehouse)
        on_hand, reserved = self.model[key]
        with self.sessions.begin() as session:
            ledger = StockLedger(session, None)
            ledger.lock([key])
            if quantity > on_hand - reserved:
                with _refused("sellable"):
                    ledger.reserve(key, quantity)
                return
            ledger.reserve(key, quantity)
        self.model[key][1] += quantity
        self.direct[key] += quantity

    @rule(item=ITEMS, warehouse=WAREHOUSES, quantity=st.integers(1, 20))
    def release(self, item: str, warehouse: str, quantity: int) -> None:
        key = self.key(item, warehouse)
        quantity = min(quantity, self.direct[key])
        if quantity == 0:
            return
        with self.sessions.begin() as session:
            ledger = StockLedger(session, None)
            ledger.lock([key])
            ledger.release(key, quantity)
        self.model[key][1] -= quantity
        self.direct[key] -= quantity

    # -- the orders service ------------------------------------------------------------

    @rule(item=ITEMS, warehouse=WAREHOUSES, quantity=st.integers(1, 10))
    def confirm_order(self, item: str, warehouse: str, quantity: int) -> None:
        key = self.key(item, warehouse)
        acting, orders = self.world.manager, self.orders
        order = orders.create_draft(acting, self.customer, OrderHeader(ADDRESS))
        order = orders.add_line(
            acting, order.id, order.version, key.product_id, quantity, variant_id=key.variant_id
        )
        order = orders.submit(acting, order.id, order.version)
        on_hand, reserved = self.model[key]
        expected_refusal = (
            "is closed (inactive)"
            if warehouse == "closed"
            else "Not enough stock to confirm"
            if quantity > on_hand - reserved
            else None
        )
        if expected_refusal:
            with _refused(expected_refusal):
                orders.confirm(acting, order.id, order.version, key.warehouse_id)
            return
        order = orders.confirm(acting, order.id, order.version, key.warehouse_id)
        assert order.status == "CONFIRMED"
        self.placed.append(
            Placed(order.id, order.version, order.lines[0].id, key, quantity, "CONFIRMED")
        )
        self.model[key][1] += quantity

    def pick(self, status: str, pick: int) -> Placed | None:
        candidates = [order for order in self.placed if order.status == status]
        return candidates[pick % len(candidates)] if candidates else None

    @rule(pick=PICKS)
    def ship_order(self, pick: int) -> None:
        placed = self.pick("CONFIRMED", pick)
        if placed is None:
            return
        acting, orders = self.world.manager, self.orders
        order = orders.start_processing(acting, placed.id, placed.version)
        order = orders.ship(
            acting, placed.id, order.version, carrier="UPS", tracking_number="1Z 999"
        )
        assert order.status == "SHIPPED"
        placed.version, placed.status = order.version, "SHIPPED"
        self.model[placed.key][0] -= placed.quantity
        self.model[placed.key][1] -= placed.quantity

    @rule(pick=PICKS)
    def cancel_order(self, pick: int) -> None:
        placed = self.pick("CONFIRMED", pick)
        if placed is None:
            return
        order = self.orders.cancel(self.world.manager, placed.id, placed.version)
        assert order.status == "CANCELLED"
        placed.version, placed.status = order.version, "CANCELLED"
        self.model[placed.key][1] -= placed.quantity

    @rule(pick=PICKS, warehouse=WAREHOUSES, part=st.integers(1, 10))
    def return_order(self, pick: int, warehouse: str, part: int) -> None:
        placed = self.pick("SHIPPED", pick)
        if placed is None:
            return
        quantity = min(part, placed.quantity)
        item = "red" if placed.key.variant_id else "drill"
        if placed.key.variant_id is None and placed.key.product_id == self.world.shirt:
            item = "shirt"
        back = self.key(item, warehouse)

        def give_back() -> None:
            order = self.orders.return_goods(
                self.world.manager,
                placed.id,
                placed.version,
                back.warehouse_id,
                {placed.line_id: quantity},
                reason="random",
            )
            assert order.status == "RETURNED"
            placed.version, placed.status = order.version, "RETURNED"

        if warehouse == "closed":
            with _refused("is closed (inactive)"):
                give_back()
            return
        give_back()
        self.model[back][0] += quantity

    # -- after every step ----------------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        assert_ledger_balances(self.world.engine)

    @invariant()
    def stock_matches_the_model(self) -> None:
        with self.world.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT product_id, warehouse_id, NULL::uuid, quantity_available, "
                    "quantity_reserved FROM product_inventory UNION ALL "
                    "SELECT v.product_id, vi.warehouse_id, vi.variant_id, vi.quantity_available, "
                    "vi.quantity_reserved FROM variant_inventory vi "
                    "JOIN product_variants v ON v.id = vi.variant_id"
                )
            ).all()
        actual = {StockKey(p, w, v): [on, res] for p, w, v, on, res in rows}
        expected = {key: value for key, value in self.model.items() if value != [0, 0]}
        assert {k: v for k, v in actual.items() if v != [0, 0]} == expected

    @invariant()
    def reserved_is_what_orders_hold(self) -> None:
        with self.world.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT i.product_id, r.warehouse_id, i.variant_id, SUM(r.quantity) "
                    "FROM stock_reservations r JOIN order_items i ON i.id = r.order_item_id "
                    "GROUP BY 1, 2, 3"
                )
            ).all()
        held = {StockKey(p, w, v): int(q) for p, w, v, q in rows}
        for key, (_, reserved) in self.model.items():
            assert reserved == held.get(key, 0) + self.direct[key]
        assert set(held) <= set(self.model)


class _refused:
    """Expect a ValidationError whose message contains `words`; nothing else may escape."""

    def __init__(self, words: str) -> None:
        self.words = words

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, _tb: object) -> bool:
        assert isinstance(error, ValidationError), (
            f"expected a refusal ({self.words}), got {error!r}"
        )
        assert self.words in error.message, error.message
        return True


def test_random_stock_operations_keep_the_books(engine: Engine) -> None:
    world = make_world(engine)
    with engine.begin() as connection:
        customer = connection.execute(
            text(
                "INSERT INTO customers (first_name, last_name, email, customer_code) "
                "VALUES ('Ann', 'Buyer', 'ann@example.com', 'CUST-000001') RETURNING id"
            )
        ).scalar_one()
    run_state_machine_as_test(
        lambda: StockMachine(world, customer),
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
