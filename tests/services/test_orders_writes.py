"""How order writes answer: several lines in one change, the detail every write returns
being the order as stored, and a bounded number of statements per write (the benchmark's
figures depend on it)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import event

from erpgo_desktop.errors import NotFoundError, ValidationError
from erpgo_desktop.services.orders import NewLine, OrderDetail
from tests.services.test_orders_support import HEADER, World, expected_totals, world

__all__ = ["world"]  # the module-scoped fixture


@contextmanager
def counted(world: World) -> Iterator[list[str]]:
    """The SQL statements run meanwhile (BEGIN and COMMIT not included)."""
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(world.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(world.engine, "before_cursor_execute", record)


def same_as_stored(world: World, detail: OrderDetail) -> OrderDetail:
    assert detail == world.orders.get_order(world.admin, detail.id)
    return detail


# --- add_lines -------------------------------------------------------------------------


def test_add_lines_adds_them_in_the_order_given_with_the_amounts_of_add_line(
    world: World,
) -> None:
    products = [world.product(price, tax_rate="8.25") for price in ("3.10", "12.00", "7.77")]
    wanted = [(products[2], 3), (products[0], 1), (products[1], 2), (products[0], 4)]
    one_by_one = world.draft(wanted)
    draft = world.draft()

    together = world.orders.add_lines(
        world.sales, draft.id, draft.version, [NewLine(p, q) for p, q in wanted]
    )

    assert together.version == draft.version + 1
    assert [(line.product_id, line.quantity) for line in together.lines] == wanted
    amounts = ("unit_price", "total_price", "tax_amount", "final_price", "weight")
    assert [[getattr(line, a) for a in amounts] for line in together.lines] == [
        [getattr(line, a) for a in amounts] for line in one_by_one.lines
    ]
    assert expected_totals(together) == expected_totals(one_by_one)
    assert together.total_amount == one_by_one.total_amount
    same_as_stored(world, together)


def test_add_lines_after_existing_lines_keeps_them_first(world: World) -> None:
    first, second = world.product(), world.product()
    order = world.draft([(first, 1)])

    order = world.orders.add_lines(
        world.sales, order.id, order.version, [NewLine(second, 2), NewLine(first, 5)]
    )

    assert [(line.product_id, line.quantity) for line in order.lines] == [
        (first, 1),
        (second, 2),
        (first, 5),
    ]


def test_add_lines_takes_prices_discounts_and_notes(world: World) -> None:
    product = world.product("20.00")
    order = world.draft()

    order = world.orders.add_lines(
        world.sales,
        order.id,
        order.version,
        [
            NewLine(
                product, 2, unit_price=Decimal("18.50"), discount=Decimal("1.00"), notes=" gift "
            )
        ],
    )

    (line,) = order.lines
    assert (line.unit_price, line.discount_amount, line.notes) == (
        Decimal("18.50"),
        Decimal("1.00"),
        "gift",
    )
    assert line.final_price == Decimal("36.00")


def test_add_lines_is_all_or_nothing_and_names_the_line(world: World) -> None:
    sold, gone = world.product(), world.product(active=False)
    order = world.draft([(sold, 1)])

    with pytest.raises(ValidationError) as caught:
        world.orders.add_lines(
            world.sales, order.id, order.version, [NewLine(sold, 2), NewLine(gone, 1)]
        )

    assert caught.value.message.startswith("Line 2: ")
    assert "no longer sold" in caught.value.message
    assert caught.value.field == "product"
    assert world.orders.get_order(world.sales, order.id) == order


def test_add_lines_checks_each_line_before_saving(world: World) -> None:
    product = world.product()
    order = world.draft()

    with pytest.raises(ValidationError) as caught:
        world.orders.add_lines(
            world.sales,
            order.id,
            order.version,
            [NewLine(product, 1), NewLine(product, 2), NewLine(product, 0)],
        )
    assert caught.value.message.startswith("Line 3: ")
    assert caught.value.field == "quantity"

    with pytest.raises(NotFoundError, match=r"^Line 1: That product does not exist"):
        world.orders.add_lines(world.sales, order.id, order.version, [NewLine(uuid.uuid4(), 1)])

    with pytest.raises(ValidationError) as empty:
        world.orders.add_lines(world.sales, order.id, order.version, [])
    assert empty.value.field == "lines"
    assert world.orders.get_order(world.sales, order.id).lines == ()


# --- What writes return ------------------------------------------------------------------


def test_every_write_returns_the_order_as_stored(world: World) -> None:
    product = world.product("40.00", stock={world.main: 10, world.east: 10}, tax_rate="5")
    other = world.product("2.50", stock={world.main: 10}, track=False)
    orders, sales, manager, clerk = world.orders, world.sales, world.manager, world.clerk
    admin, split = world.admin, [(world.main, 1), (world.east, 3)]
    order = same_as_stored(world, orders.create_draft(sales, world.customer(), HEADER))
    steps: list[Callable[[OrderDetail], OrderDetail]] = [
        lambda o: orders.add_lines(
            sales, o.id, o.version, [NewLine(product, 4), NewLine(other, 3)]
        ),
        lambda o: orders.change_line(sales, o.id, o.version, o.lines[1].id, quantity=5),
        lambda o: orders.add_line(sales, o.id, o.version, other, 1),
        lambda o: orders.remove_line(sales, o.id, o.version, o.lines[2].id),
        lambda o: orders.update_order(sales, o.id, o.version, o.header),
        lambda o: orders.submit(sales, o.id, o.version),
        lambda o: orders.hold(manager, o.id, o.version),
        lambda o: orders.resume(manager, o.id, o.version),
        lambda o: orders.confirm(
            manager, o.id, o.version, None, allocations={o.lines[0].id: split}
        ),
        lambda o: orders.record_payment(admin, o.id, o.version, Decimal("20.00")),
        lambda o: orders.start_processing(clerk, o.id, o.version),
        lambda o: world.ship(o, {o.lines[0].id: 2}),
        lambda o: orders.start_processing(clerk, o.id, o.version),
        lambda o: world.ship(o),
        lambda o: orders.deliver(clerk, o.id, o.version),
        lambda o: orders.return_goods(admin, o.id, o.version, world.main, {o.lines[0].id: 1}),
        lambda o: orders.refund(admin, o.id, o.version, Decimal("20.00")),
    ]
    for step in steps:
        changed = same_as_stored(world, step(order))
        assert changed.version == order.version + 1
        order = changed
    assert order.status == "REFUNDED"

    cancelled = world.confirmed([(product, 2)])
    cancelled = same_as_stored(world, orders.cancel(manager, cancelled.id, cancelled.version))
    assert cancelled.lines[0].reservations == ()


# --- Statements per write ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "most"),
    [("draft", 1), ("lines", 3), ("line", 3), ("submit", 2), ("confirm", 8)],
)
def test_writes_run_few_statements(world: World, step: str, most: int) -> None:
    """What each step of the order throughput benchmark costs in statements."""
    products = [world.product(stock={world.main: 100}) for _ in range(5)]
    customer = world.customer()
    orders, user = world.orders, world.sales
    with counted(world) as draft:
        order = orders.create_draft(user, customer, HEADER)
    with counted(world) as lines:
        order = orders.add_lines(
            user, order.id, order.version, [NewLine(p, 2) for p in products[:4]]
        )
    with counted(world) as line:
        order = orders.add_line(user, order.id, order.version, products[4], 1)
    with counted(world) as submit:
        order = orders.submit(user, order.id, order.version)
    with counted(world) as confirm:
        orders.confirm(world.manager, order.id, order.version, world.main)

    ran = {"draft": draft, "lines": lines, "line": line, "submit": submit, "confirm": confirm}
    assert len(ran[step]) <= most, "\n".join(ran[step])
