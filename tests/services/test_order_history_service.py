"""OrderService.status_history: the trigger's rows as the order dialog shows them."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from erpgo_desktop.errors import NotFoundError
from tests.services.test_orders_support import World, world

__all__ = ["world"]  # the module-scoped fixture


def test_lists_every_status_oldest_first_with_who_changed_it(world: World) -> None:
    product = world.product(stock={world.main: 5})
    order = world.draft([(product, 2)])
    order = world.orders.submit(world.sales, order.id, order.version)
    order = world.orders.confirm(world.manager, order.id, order.version, world.main)
    order = world.orders.start_processing(world.clerk, order.id, order.version)
    order = world.ship(order)

    history = world.orders.status_history(world.sales, order.id)

    assert [(h.from_status, h.to_status, h.changed_by_name) for h in history] == [
        (None, "DRAFT", world.sales.username),
        ("DRAFT", "PENDING", world.sales.username),
        ("PENDING", "CONFIRMED", world.manager.username),
        ("CONFIRMED", "PROCESSING", world.clerk.username),
        ("PROCESSING", "SHIPPED", world.clerk.username),
    ]
    assert [h.changed_by for h in history][-1] == world.clerk.id
    times = [h.changed_at for h in history]
    assert times == sorted(times)


def test_a_user_unknown_to_this_database_is_listed_without_a_name(world: World) -> None:
    order = world.draft([(world.product(), 1)])
    stranger = uuid.uuid4()
    with world.engine.begin() as connection:
        connection.execute(
            text("UPDATE order_status_history SET changed_by = :u WHERE order_id = :o"),
            {"u": stranger, "o": order.id},
        )

    (only,) = world.orders.status_history(world.admin, order.id)

    assert (only.to_status, only.changed_by, only.changed_by_name) == ("DRAFT", stranger, None)


def test_an_unknown_order_is_not_found(world: World) -> None:
    with pytest.raises(NotFoundError):
        world.orders.status_history(world.sales, uuid.uuid4())
