"""Random sequences of stock operations keep the books straight.

A hypothesis state machine receives, adjusts, transfers, counts, reserves and releases
stock of a product, a second product and a variant in two active warehouses and an
inactive one, and after every step checks that
- every stock row matches a plain model of on hand and reserved (refusals change nothing),
- on hand equals the sum of the row's ledger, for every (product, warehouse[, variant]),
- 0 <= reserved <= on hand,
- products.stock_quantity (and product_variants.stock_quantity) is the sum of on hand,
- the two TRANSFER rows of every reference sum to zero.

All examples share one database; each starts by deleting the stock rows and the ledger.
"""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.stock import StockKey, StockLedger
from tests.services.test_inventory import World, assert_ledger_balances, make_world

ITEMS = st.sampled_from(["drill", "shirt", "red"])
WAREHOUSES = st.sampled_from(["main", "east", "closed"])
QUANTITIES = st.integers(1, 40)

RESET = (
    "DELETE FROM stock_reservations",
    "DELETE FROM inventory_transactions",
    "DELETE FROM product_inventory",  # row by row: the triggers recount stock_quantity
    "DELETE FROM variant_inventory",
)


class StockMachine(RuleBasedStateMachine):
    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        with world.engine.begin() as connection:
            for statement in RESET:
                connection.execute(text(statement))
        # (on hand, reserved) per stock row, as the rules say they must be.
        self.model: defaultdict[StockKey, list[int]] = defaultdict(lambda: [0, 0])
        self.sessions = make_session_factory(world.engine)

    def key(self, item: str, warehouse: str) -> StockKey:
        w = self.world
        warehouse_id = {"main": w.main, "east": w.east, "closed": w.closed}[warehouse]
        if item == "red":
            return StockKey(w.shirt, warehouse_id, w.red)
        return StockKey(w.drill if item == "drill" else w.shirt, warehouse_id)

    # -- the inventory service ---------------------------------------------------------

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

    @rule(item=ITEMS, warehouse=WAREHOUSES, quantity=st.integers(1, 20))
    def release(self, item: str, warehouse: str, quantity: int) -> None:
        key = self.key(item, warehouse)
        quantity = min(quantity, self.model[key][1])
        if quantity == 0:
            return
        with self.sessions.begin() as session:
            ledger = StockLedger(session, None)
            ledger.lock([key])
            ledger.release(key, quantity)
        self.model[key][1] -= quantity

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
    run_state_machine_as_test(
        lambda: StockMachine(world),
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
