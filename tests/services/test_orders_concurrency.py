"""Orders from many workstations at once: numbers never collide, the last unit goes to
one order only, and a credit limit holds against two confirmations at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TypeVar

import pytest

from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.orders import OrderDetail
from tests.services.test_orders_support import HEADER, World, world

__all__ = ["world"]  # the module-scoped fixture

T = TypeVar("T")


def together(count: int, action: Callable[[int], T], workers: int = 8) -> list[T | Exception]:
    """Run action(0..count-1) on `workers` threads released at the same moment."""
    start = threading.Barrier(min(count, workers))

    def run(index: int) -> T | Exception:
        if index < workers:
            start.wait()
        try:
            return action(index)
        except ValidationError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(count)))


def test_order_numbers_never_collide(world: World) -> None:
    customer = world.customer()
    before = world.orders.create_draft(world.sales, customer, HEADER)

    made = together(50, lambda _: world.orders.create_draft(world.sales, customer, HEADER))

    assert all(isinstance(order, OrderDetail) for order in made)
    year, first = before.order_number.split("-")
    numbers = sorted(o.order_number for o in made if isinstance(o, OrderDetail))
    assert len(set(numbers)) == 50
    assert numbers == [f"{year}-{int(first) + i:06d}" for i in range(1, 51)]


def test_the_last_units_go_to_one_order(world: World) -> None:
    product = world.product(stock={world.main: 3})
    pending = [world.pending([(product, 2)]) for _ in range(6)]

    results = together(
        6,
        lambda i: world.orders.confirm(
            world.manager, pending[i].id, pending[i].version, world.main
        ),
    )

    confirmed = [r for r in results if isinstance(r, OrderDetail)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(confirmed) == 1 and len(refused) == 5
    assert all("1 sellable, 2 asked" in e.message for e in refused)
    assert world.stock(product, world.main) == (3, 2)


@pytest.mark.parametrize("orders", [4])
def test_a_credit_limit_holds_against_simultaneous_confirmations(world: World, orders: int) -> None:
    customer = world.customer(credit_limit="250.00")
    product = world.product("100.00", stock={world.main: 10})
    pending = [world.pending([(product, 1)], customer=customer) for _ in range(orders)]

    results = together(
        orders,
        lambda i: world.orders.confirm(world.sales, pending[i].id, pending[i].version, world.main),
    )

    confirmed = [r for r in results if isinstance(r, OrderDetail)]
    assert len(confirmed) == 2  # 2 x 100.00 fits in 250.00; a third would not
    assert all(
        isinstance(r, ValidationError) and r.field == "credit_limit"
        for r in results
        if not isinstance(r, OrderDetail)
    )
    assert world.balance(customer) == Decimal("200.00")
    assert world.stock(product, world.main) == (10, 2)
