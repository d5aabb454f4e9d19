"""Revision 0005's trigger: every status an order enters is written down, with who did it."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from tests.services.test_orders_support import World, world

__all__ = ["world"]  # the module-scoped fixture


def _history(world: World, order_id: uuid.UUID) -> list[tuple[str | None, str, uuid.UUID]]:
    with world.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT from_status, to_status, changed_by FROM order_status_history "
                "WHERE order_id = :o ORDER BY changed_at, to_status = 'DRAFT' DESC"
            ),
            {"o": order_id},
        ).all()
    return [(row.from_status, row.to_status, row.changed_by) for row in rows]


def test_each_transition_is_recorded_with_the_user_who_made_it(world: World) -> None:
    product = world.product(stock={world.main: 5})
    order = world.draft([(product, 2)])
    order = world.orders.submit(world.sales, order.id, order.version)
    order = world.orders.confirm(world.manager, order.id, order.version, world.main)
    order = world.orders.cancel(world.manager, order.id, order.version)

    assert _history(world, order.id) == [
        (None, "DRAFT", world.sales.id),
        ("DRAFT", "PENDING", world.sales.id),
        ("PENDING", "CONFIRMED", world.manager.id),
        ("CONFIRMED", "CANCELLED", world.manager.id),
    ]


def test_edits_that_keep_the_status_write_nothing(world: World) -> None:
    product = world.product(stock={world.main: 5})
    order = world.draft([(product, 1)])
    world.orders.change_line(world.sales, order.id, order.version, order.lines[0].id, quantity=3)

    assert _history(world, order.id) == [(None, "DRAFT", world.sales.id)]
