"""Every pair of order statuses through the service: the table's changes happen, and every
other one is refused with a message naming both statuses, leaving the order untouched."""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal

import pytest

from erpgo_desktop.domain import orders as rules
from erpgo_desktop.domain.wording import code_label
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.orders import OrderDetail
from tests.services.test_orders_support import World, world

__all__ = ["world"]  # the module-scoped fixture

PAID = Decimal("1.00")


def reach(world: World, status: str, target: str) -> OrderDetail:
    """An order of three units of a stocked product in `status`, 1.00 paid unless a DRAFT.
    An ON_HOLD order is held before confirming when heading for PENDING, CONFIRMED or
    CANCELLED, after confirming otherwise."""
    orders, product = world.orders, world.product("10.00", stock={world.main: 3})
    order = world.draft([(product, 3)])
    line = order.lines[0].id
    if status == "DRAFT":
        return order
    order = orders.submit(world.sales, order.id, order.version)
    order = orders.record_payment(world.admin, order.id, order.version, PAID)
    if status == "PENDING":
        return order
    if status == "ON_HOLD" and target in ("PENDING", "CONFIRMED", "CANCELLED"):
        return orders.hold(world.manager, order.id, order.version)
    order = orders.confirm(world.manager, order.id, order.version, world.main)
    if status in ("CONFIRMED", "CANCELLED", "ON_HOLD"):
        if status == "CANCELLED":
            return orders.cancel(world.manager, order.id, order.version)
        if status == "ON_HOLD":
            return orders.hold(world.manager, order.id, order.version)
        return order
    order = orders.start_processing(world.clerk, order.id, order.version)
    if status == "PROCESSING":
        return order
    if status == "PARTIALLY_SHIPPED":
        return world.ship(order, {line: 1})
    order = world.ship(order)
    if status == "SHIPPED":
        return order
    order = orders.deliver(world.clerk, order.id, order.version)
    if status == "DELIVERED":
        return order
    if status == "REFUNDED":
        return orders.refund(world.admin, order.id, order.version, PAID)
    assert status == "RETURNED"
    return orders.return_goods(world.manager, order.id, order.version, world.main, {line: 1})


def move(world: World, order: OrderDetail, target: str) -> OrderDetail:
    """The user action that takes an order to `target`."""
    orders, line = world.orders, order.lines[0].id
    match target:
        case "PENDING" if order.status == "ON_HOLD":
            return orders.resume(world.manager, order.id, order.version)
        case "PENDING":
            return orders.submit(world.sales, order.id, order.version)
        case "CONFIRMED":
            return orders.confirm(world.manager, order.id, order.version, world.main)
        case "PROCESSING":
            return orders.start_processing(world.clerk, order.id, order.version)
        case "SHIPPED":
            return world.ship(order)
        case "PARTIALLY_SHIPPED":
            return world.ship(order, {line: 1})
        case "DELIVERED":
            return orders.deliver(world.clerk, order.id, order.version)
        case "CANCELLED":
            return orders.cancel(world.manager, order.id, order.version)
        case "REFUNDED":
            return orders.refund(world.admin, order.id, order.version, PAID)
        case "RETURNED":
            return orders.return_goods(
                world.manager, order.id, order.version, world.main, {line: 1}
            )
        case "ON_HOLD":
            return orders.hold(world.manager, order.id, order.version)
    raise AssertionError(f"no action goes to {target}")


PAIRS = list(itertools.product(rules.STATUSES, repeat=2))


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_status_pair(world: World, current: str, target: str) -> None:
    if target == "DRAFT":
        # No action leads back to DRAFT; the table lists no way there either.
        assert not rules.can_transition(current, target)
        return
    order = reach(world, current, target)
    assert order.status == current
    if rules.can_transition(current, target):
        moved = move(world, order, target)
        assert (moved.status, moved.previous_status) == (target, current)
        assert moved.version == order.version + 1
        return
    with pytest.raises(
        ValidationError, match=f"cannot go from {code_label(current)} to {code_label(target)}"
    ) as caught:
        move(world, order, target)
    assert caught.value.field == "status"
    after = world.orders.get_order(world.admin, order.id)
    assert (after.status, after.version) == (current, order.version)


def test_dates_follow_the_status(world: World) -> None:
    order = reach(world, "DELIVERED", "RETURNED")
    assert order.shipping_date is not None and order.delivery_date is not None
    assert order.cancelled_date is None
    cancelled = reach(world, "CANCELLED", "REFUNDED")
    assert cancelled.cancelled_date is not None and cancelled.shipping_date is None


def test_a_hold_after_confirming_resumes_to_confirmed(world: World) -> None:
    order = reach(world, "ON_HOLD", "PROCESSING")
    assert order.previous_status == "CONFIRMED"
    with pytest.raises(ValidationError, match="confirmed before it was put on hold: resume it"):
        world.orders.confirm(world.manager, order.id, order.version, world.main)
    order = world.orders.resume(world.manager, order.id, order.version)
    assert (order.status, order.previous_status) == ("CONFIRMED", "ON_HOLD")
    assert order.lines[0].reserved_quantity == 3  # the hold kept the reservation


def test_a_hold_before_confirming_cannot_start_processing(world: World) -> None:
    order = reach(world, "ON_HOLD", "PENDING")
    with pytest.raises(ValidationError, match="put on hold before it was confirmed: confirm"):
        world.orders.start_processing(world.clerk, order.id, order.version)
    with pytest.raises(ValidationError, match="is on hold: resume it to go back to pending"):
        world.orders.submit(world.sales, order.id, order.version)


@pytest.mark.parametrize("held_from", ["PROCESSING", "PARTIALLY_SHIPPED"])
def test_a_hold_while_shipping_resumes_to_processing(world: World, held_from: str) -> None:
    order = reach(world, held_from, "ON_HOLD")
    order = world.orders.hold(world.manager, order.id, order.version)
    order = world.orders.resume(world.manager, order.id, order.version)
    assert (order.status, order.previous_status) == ("PROCESSING", "ON_HOLD")


def test_only_a_held_order_resumes(world: World) -> None:
    order = reach(world, "CONFIRMED", "ON_HOLD")
    with pytest.raises(ValidationError, match="is confirmed, not on hold"):
        world.orders.resume(world.manager, order.id, order.version)


def test_an_unknown_order_is_not_found(world: World) -> None:
    from erpgo_desktop.errors import NotFoundError

    with pytest.raises(NotFoundError, match="order does not exist"):
        world.orders.hold(world.manager, uuid.uuid4(), 1)
