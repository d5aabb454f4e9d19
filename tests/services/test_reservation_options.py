"""Where an order can be confirmed from: what each warehouse can sell of each line, the
warehouse that has everything, a split when only together they do, and the lines short
everywhere; the same figures ride on a refused confirmation (`StockShortageError`)."""

from __future__ import annotations

import pytest

from erpgo_desktop.errors import StockShortageError
from tests.services.test_orders_support import World, receive, world

__all__ = ["world"]  # the module-scoped fixture


def test_a_refused_confirmation_names_each_short_line_with_every_warehouse_s_stock(
    world: World,
) -> None:
    plenty = world.product(stock={world.main: 10})
    scarce = world.product(stock={world.main: 1, world.east: 5})
    order = world.pending([(plenty, 3), (scarce, 4)])
    plenty_line, scarce_line = order.lines

    with pytest.raises(StockShortageError) as caught:
        world.orders.confirm(world.manager, order.id, order.version, world.main)

    options = caught.value.options
    assert options is not None
    assert [w.code for w in options.warehouses] == ["EAST", "MAIN"]
    by_line = {need.line_id: need for need in options.needs}
    assert set(by_line) == {plenty_line.id, scarce_line.id}
    assert [n.line_id for n in options.short_in(world.main)] == [scarce_line.id]
    assert [n.line_id for n in options.short_in(world.east)] == [plenty_line.id]
    scarce_need = by_line[scarce_line.id]
    assert (scarce_need.sku, scarce_need.quantity) == (scarce_line.sku, 4)
    assert options.available(scarce_need, world.main) == 1
    assert options.available(scarce_need, world.east) == 5
    assert options.available(by_line[plenty_line.id], world.east) == 0
    # Neither has everything; together they do, each line from the one that has it.
    assert options.whole == ()
    assert options.short_everywhere == ()
    assert options.split == {
        plenty_line.id: ((world.main, 3),),
        scarce_line.id: ((world.east, 4),),
    }
    assert world.reservations(order.id) == []

    confirmed = world.orders.confirm(
        world.manager, order.id, order.version, None, allocations=options.split
    )
    assert confirmed.status == "CONFIRMED"
    assert world.stock(plenty, world.main) == (10, 3)
    assert world.stock(scarce, world.east) == (5, 4)


def test_the_warehouse_that_has_everything_is_offered(world: World) -> None:
    first = world.product(stock={world.main: 1, world.east: 2})
    second = world.product(stock={world.east: 7})
    order = world.pending([(first, 2), (second, 7)])

    options = world.orders.reservation_options(world.sales, order.id)

    assert options.whole == (world.east,) and options.fills(world.east)
    assert options.split is None and options.short_everywhere == ()
    assert len(options.short_in(world.main)) == 2


def test_a_line_short_everywhere_is_named_with_what_all_warehouses_have(world: World) -> None:
    short = world.product(stock={world.main: 2, world.east: 1})
    fine = world.product(stock={world.main: 5})
    waits = world.product(stock={world.east: 1}, backorder=True)
    order = world.pending([(short, 5), (fine, 1), (waits, 4)])

    options = world.orders.reservation_options(world.manager, order.id)

    assert options.whole == () and options.split is None
    (need,) = options.short_everywhere
    assert need.line_id == order.lines[0].id
    assert options.in_total(need) == 3
    # Stock that comes in later changes the answer: read again, not remembered.
    receive(world.engine, short, {world.main: 3})
    assert world.orders.reservation_options(world.manager, order.id).whole == (world.main,)


def test_reserved_stock_is_not_offered_again(world: World) -> None:
    product = world.product(stock={world.main: 4, world.east: 4})
    world.confirmed([(product, 3)], world.main)
    order = world.pending([(product, 3)])

    options = world.orders.reservation_options(world.manager, order.id)

    (need,) = options.needs
    assert options.available(need, world.main) == 1
    assert options.whole == (world.east,)
