"""Orders after confirmation: shipping, delivery, cancelling, returns, payments, refunds,
and the customer's balance through all of them."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import text

from erpgo_desktop.domain import orders as rules
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.orders import OrderDetail
from tests.services.test_orders_support import World, receive, seed_warehouse, unique, world

__all__ = ["world"]  # the module-scoped fixture


# --- Shipping ----------------------------------------------------------------------------


def test_a_partial_then_the_final_shipment(world: World) -> None:
    first = world.product(stock={world.main: 10})
    second = world.product(stock={world.main: 4})
    order = world.processing([(first, 6), (second, 4)])
    a, b = (line.id for line in order.lines)

    order = world.ship(order, {a: 2, b: 4})
    assert (order.status, order.previous_status) == ("PARTIALLY_SHIPPED", "PROCESSING")
    assert [(line.shipped_quantity, line.reserved_quantity) for line in order.lines] == [
        (2, 4),
        (4, 0),
    ]
    assert [line.status for line in order.lines] == ["CONFIRMED", "SHIPPED"]
    assert world.stock(first, world.main) == (8, 4)
    assert world.stock(second, world.main) == (0, 0)
    assert sorted(world.ledger(order.id)) == sorted(
        [("OUT", first, world.main, -2), ("OUT", second, world.main, -4)]
    )
    assert world.reservations(order.id) == [(a, world.main, 4)]
    assert order.shipped_by == world.clerk.id and order.shipped_at is not None
    assert (order.carrier, order.tracking_number) == ("UPS", "1Z 999-AA1")
    assert order.shipping_date is None  # set when the order is SHIPPED

    order = world.ship(order)  # the rest, from PARTIALLY_SHIPPED
    assert (order.status, order.previous_status) == ("SHIPPED", "PARTIALLY_SHIPPED")
    assert order.shipping_date is not None
    assert [line.shipped_quantity for line in order.lines] == [6, 4]
    assert world.stock(first, world.main) == (4, 0)
    assert world.reservations(order.id) == []
    assert sum(q for _, p, _, q in world.ledger(order.id) if p == first) == -6
    with world.engine.connect() as connection:
        stock_quantity, reasons = connection.execute(
            text(
                "SELECT p.stock_quantity, (SELECT array_agg(DISTINCT reason) FROM "
                "inventory_transactions WHERE reference_id = :o) FROM products p WHERE p.id = :p"
            ),
            {"p": first, "o": order.id},
        ).one()
    assert stock_quantity == 4
    assert reasons == [f"Shipment of order {order.order_number}"]


def test_shipping_takes_from_each_reserving_warehouse(world: World) -> None:
    product = world.product(stock={world.main: 2, world.east: 3})
    order = world.pending([(product, 5)])
    line = order.lines[0].id
    order = world.orders.confirm(
        world.manager,
        order.id,
        order.version,
        None,
        allocations={line: [(world.main, 2), (world.east, 3)]},
    )
    order = world.orders.start_processing(world.clerk, order.id, order.version)
    order = world.ship(order, {line: 4})  # EAST first (warehouse code order), then MAIN
    assert world.stock(product, world.east) == (0, 0)
    assert world.stock(product, world.main) == (1, 1)
    order = world.orders.start_processing(world.clerk, order.id, order.version)
    order = world.ship(order)
    assert order.status == "SHIPPED" and world.stock(product, world.main) == (0, 0)


def test_variant_lines_move_the_variants_stock(world: World) -> None:
    product = world.product("20.00")
    with world.engine.begin() as connection:
        variant = uuid.UUID(
            str(
                connection.execute(
                    text(
                        "INSERT INTO product_variants (product_id, sku, name, price) "
                        "VALUES (:p, :sku, 'Blue', 21.00) RETURNING id"
                    ),
                    {"p": product, "sku": unique("V")},
                ).scalar_one()
            )
        )
    receive(world.engine, product, {world.main: 3}, variant=variant)
    order = world.draft()
    order = world.orders.add_line(
        world.sales, order.id, order.version, product, 2, variant_id=variant
    )
    order = world.orders.submit(world.sales, order.id, order.version)
    order = world.orders.confirm(world.manager, order.id, order.version, world.main)
    order = world.orders.start_processing(world.clerk, order.id, order.version)
    world.ship(order)
    with world.engine.connect() as connection:
        on_hand, reserved, stock = connection.execute(
            text(
                "SELECT vi.quantity_available, vi.quantity_reserved, v.stock_quantity "
                "FROM variant_inventory vi JOIN product_variants v ON v.id = vi.variant_id "
                "WHERE vi.variant_id = :v"
            ),
            {"v": variant},
        ).one()
        out = connection.execute(
            text("SELECT variant_id, quantity FROM inventory_transactions WHERE reference_id = :o"),
            {"o": order.id},
        ).one()
    assert (on_hand, reserved, stock) == (1, 0, 1)
    assert tuple(out) == (variant, -2)
    assert world.stock(product, world.main) == (0, 0)  # the product's own stock is untouched


def test_untracked_lines_ship_without_stock(world: World) -> None:
    service = world.product("15.00", track=False)
    order = world.processing([(service, 3)])
    order = world.ship(order)
    assert order.status == "SHIPPED" and order.lines[0].shipped_quantity == 3
    assert world.ledger(order.id) == []


def test_shipping_needs_processing(world: World) -> None:
    order = world.confirmed([(world.product(stock={world.main: 1}), 1)])
    with pytest.raises(ValidationError) as caught:
        world.ship(order)
    assert caught.value.message == (
        "An order cannot go from Confirmed to Shipped. "
        "From Confirmed it can go to Processing, Cancelled or On hold."
    )
    assert caught.value.field == "status"


def test_a_second_partial_shipment_needs_processing_again(world: World) -> None:
    product = world.product(stock={world.main: 9})
    order = world.processing([(product, 9)])
    line = order.lines[0].id
    order = world.ship(order, {line: 3})
    with pytest.raises(ValidationError, match="start processing it again") as caught:
        world.ship(order, {line: 3})
    assert "cannot go from Partially shipped to Partially shipped" in caught.value.message
    order = world.orders.start_processing(world.clerk, order.id, order.version)
    order = world.ship(order, {line: 3})
    assert order.status == "PARTIALLY_SHIPPED" and world.stock(product, world.main) == (3, 3)


@pytest.mark.parametrize(
    ("asked", "message"),
    [(5, "Only 4 of .* can be shipped \\(reserved\\), 5 asked"), (0, "from 1 to 9,999")],
)
def test_shipping_more_than_reserved_is_refused(world: World, asked: int, message: str) -> None:
    product = world.product(stock={world.main: 4})
    order = world.processing([(product, 4)])
    with pytest.raises(ValidationError, match=message) as caught:
        world.ship(order, {order.lines[0].id: asked})
    assert caught.value.field == "lines"
    assert world.stock(product, world.main) == (4, 4)


def test_nothing_reserved_means_nothing_to_ship(world: World) -> None:
    product = world.product(backorder=True)
    order = world.processing([(product, 2)])
    assert order.lines[0].backordered_quantity == 2
    with pytest.raises(ValidationError, match="reserved to ship: 2 backordered"):
        world.ship(order)


@pytest.mark.parametrize(
    ("carrier", "tracking", "field", "message"),
    [
        (None, "1Z1", "carrier", "Name the carrier"),
        ("UPS", "", "tracking_number", "Enter the tracking number"),
        ("UPS", "1Z#1", "tracking_number", "letters, digits, spaces and '-'"),
        ("UPS", "1" * 101, "tracking_number", "up to 100"),
        ("X" * 51, "1", "carrier", "at most 50"),
    ],
)
def test_carrier_and_tracking_number_are_checked(
    world: World, carrier: str | None, tracking: str, field: str, message: str
) -> None:
    order = world.processing([(world.product(stock={world.main: 1}), 1)])
    with pytest.raises(ValidationError, match=message) as caught:
        world.orders.ship(
            world.clerk, order.id, order.version, carrier=carrier, tracking_number=tracking
        )
    assert caught.value.field == field


def test_a_pickup_needs_no_carrier(world: World) -> None:
    product = world.product(stock={world.main: 1})
    order = world.draft([(product, 1)])
    header = order.header
    order = world.orders.update_order(
        world.sales,
        order.id,
        order.version,
        type(header)(header.shipping_address, shipping_method="PICKUP"),
    )
    order = world.orders.submit(world.sales, order.id, order.version)
    order = world.orders.confirm(world.manager, order.id, order.version, world.main)
    order = world.orders.start_processing(world.clerk, order.id, order.version)
    order = world.orders.ship(
        world.clerk, order.id, order.version, carrier=None, tracking_number=None
    )
    assert (order.status, order.carrier, order.tracking_number) == ("SHIPPED", None, None)


def test_delivery_dates_the_order(world: World) -> None:
    order = world.shipped([(world.product(stock={world.main: 1}), 1)])
    order = world.orders.deliver(world.clerk, order.id, order.version)
    assert (order.status, order.previous_status) == ("DELIVERED", "SHIPPED")
    assert order.delivery_date is not None and order.lines[0].status == "DELIVERED"


def test_a_held_shipped_order_goes_on_through_processing(world: World) -> None:
    product = world.product(stock={world.main: 2})
    order = world.shipped([(product, 2)])
    order = world.orders.hold(world.manager, order.id, order.version)
    with pytest.raises(ValidationError, match="has been shipped, so it cannot be cancelled"):
        world.orders.cancel(world.manager, order.id, order.version)
    order = world.orders.resume(world.manager, order.id, order.version)
    assert order.status == "PROCESSING"
    order = world.ship(order)  # nothing left to move: the order is SHIPPED again
    assert order.status == "SHIPPED" and world.stock(product, world.main) == (0, 0)
    assert len(world.ledger(order.id)) == 1


# --- Cancelling --------------------------------------------------------------------------


def test_cancelling_releases_exactly_what_was_reserved(world: World) -> None:
    product = world.product(stock={world.main: 10, world.east: 10})
    other = world.product(stock={world.main: 5})
    mine = world.pending([(product, 4), (other, 2)])
    theirs = world.confirmed([(product, 3)])  # another order's reservation stays
    mine = world.orders.confirm(
        world.manager,
        mine.id,
        mine.version,
        world.main,
        allocations={mine.lines[0].id: [(world.main, 1), (world.east, 3)]},
    )
    mine = world.orders.start_processing(world.clerk, mine.id, mine.version)
    mine = world.ship(mine, {mine.lines[0].id: 2})  # EAST 2 shipped; EAST 1, MAIN 1 held
    assert world.stock(product, world.main) == (10, 4)
    assert world.stock(product, world.east) == (8, 1)
    mine = world.orders.cancel(world.manager, mine.id, mine.version)
    assert (mine.status, mine.previous_status) == ("CANCELLED", "PARTIALLY_SHIPPED")
    assert mine.cancelled_date is not None
    assert world.stock(product, world.main) == (10, 3)  # theirs: 3
    assert world.stock(product, world.east) == (8, 0)
    assert world.stock(other, world.main) == (5, 0)
    assert world.reservations(mine.id) == []
    assert world.reservations(theirs.id) == [(theirs.lines[0].id, world.main, 3)]
    assert [line.status for line in mine.lines] == ["CANCELLED", "CANCELLED"]
    assert len(world.ledger(mine.id)) == 1  # the shipment stays; cancelling moves no stock


def test_a_draft_can_be_cancelled(world: World) -> None:
    order = world.draft([(world.product(), 1)])
    order = world.orders.cancel(world.manager, order.id, order.version)
    assert (order.status, order.previous_status) == ("CANCELLED", "DRAFT")


# --- Returns -----------------------------------------------------------------------------


def test_a_return_comes_in_to_the_chosen_warehouse(world: World) -> None:
    product = world.product(stock={world.main: 5})
    digital = world.product(track=False)
    order = world.shipped([(product, 4), (digital, 1)])
    order = world.orders.deliver(world.clerk, order.id, order.version)
    a, b = (line.id for line in order.lines)
    with pytest.raises(ValidationError, match=r"Only 4 of .* were shipped and not returned yet"):
        world.orders.return_goods(world.manager, order.id, order.version, world.east, {a: 5})
    order = world.orders.return_goods(
        world.manager, order.id, order.version, world.east, {a: 3, b: 1}, reason="damaged box"
    )
    assert (order.status, order.previous_status) == ("RETURNED", "DELIVERED")
    assert [(line.returned_quantity, line.status) for line in order.lines] == [
        (3, "RETURNED"),
        (1, "RETURNED"),
    ]
    assert world.stock(product, world.east) == (3, 0)
    assert world.stock(product, world.main) == (1, 0)
    assert world.ledger(order.id)[-1] == ("IN", product, world.east, 3)
    with world.engine.connect() as connection:
        reason = connection.execute(
            text(
                "SELECT reason FROM inventory_transactions "
                "WHERE reference_id = :o AND transaction_type = 'IN'"
            ),
            {"o": order.id},
        ).scalar_one()
    assert reason == f"Return of order {order.order_number}: damaged box"


def test_a_return_needs_a_shipped_or_delivered_order(world: World) -> None:
    order = world.processing([(world.product(stock={world.main: 1}), 1)])
    with pytest.raises(ValidationError, match="cannot go from Processing to Returned"):
        world.orders.return_goods(
            world.manager, order.id, order.version, world.main, {order.lines[0].id: 1}
        )


def test_a_return_into_a_closed_warehouse_is_refused(world: World) -> None:
    order = world.shipped([(world.product(stock={world.main: 1}), 1)])
    closed = seed_warehouse(world.engine, unique("OLD"), active=False)
    with pytest.raises(ValidationError, match="is closed"):
        world.orders.return_goods(
            world.manager, order.id, order.version, closed, {order.lines[0].id: 1}
        )


# --- Payments, refunds and the balance ---------------------------------------------------


def pay(world: World, order: OrderDetail, amount: str) -> OrderDetail:
    return world.orders.record_payment(world.admin, order.id, order.version, Decimal(amount))


def refund(world: World, order: OrderDetail, amount: str) -> OrderDetail:
    return world.orders.refund(world.admin, order.id, order.version, Decimal(amount))


def test_payments_up_to_the_total(world: World) -> None:
    order = world.confirmed([(world.product("50.00", stock={world.main: 2}), 2)])
    assert (order.total_amount, order.payment_status) == (Decimal("100.00"), "PENDING")
    order = pay(world, order, "30.00")
    assert (order.paid_amount, order.payment_status) == (Decimal("30.00"), "PARTIALLY_PAID")
    with pytest.raises(ValidationError) as caught:
        pay(world, order, "70.01")
    assert caught.value.message == (
        f"A payment of 70.01 is more than what is left to pay on order {order.order_number} "
        "(70.00 of 100.00)."
    )
    assert caught.value.field == "amount"
    order = pay(world, order, "70.00")
    assert (order.paid_amount, order.payment_status, order.unpaid) == (
        Decimal("100.00"),
        "PAID",
        Decimal("0.00"),
    )
    for bad in ("0", "-5", "1.234"):
        with pytest.raises(ValidationError) as caught:
            pay(world, order, bad)
        assert caught.value.field == "amount"


@pytest.mark.parametrize("status", ["DRAFT", "CANCELLED"])
def test_no_payments_on_drafts_or_cancelled_orders(world: World, status: str) -> None:
    order = world.draft([(world.product(), 1)])
    if status == "CANCELLED":
        order = world.orders.cancel(world.manager, order.id, order.version)
    with pytest.raises(ValidationError, match=f"is {status.lower()}: it takes no payments"):
        pay(world, order, "1.00")


def test_refunds_up_to_what_was_paid_then_refunded(world: World) -> None:
    order = world.shipped([(world.product("50.00", stock={world.main: 2}), 2)])
    order = pay(world, order, "100.00")
    with pytest.raises(ValidationError, match="cannot go from Shipped to Refunded"):
        refund(world, order, "10.00")
    order = world.orders.deliver(world.clerk, order.id, order.version)
    order = refund(world, order, "40.00")
    assert (order.status, order.refunded_amount, order.payment_status) == (
        "DELIVERED",
        Decimal("40.00"),
        "PAID",
    )
    with pytest.raises(ValidationError, match=r"At most 60\.00 can be refunded"):
        refund(world, order, "60.01")
    order = refund(world, order, "60.00")
    assert (order.status, order.previous_status, order.payment_status) == (
        "REFUNDED",
        "DELIVERED",
        "REFUNDED",
    )
    assert order.refunded_amount == order.paid_amount == Decimal("100.00")


def test_a_cancelled_paid_order_is_refunded(world: World) -> None:
    order = world.pending([(world.product("20.00"), 1)])
    order = pay(world, order, "10.00")
    order = world.orders.cancel(world.manager, order.id, order.version)
    order = refund(world, order, "10.00")
    assert (order.status, order.payment_status) == ("REFUNDED", "REFUNDED")


def test_lines_cannot_bring_the_total_below_what_was_paid(world: World) -> None:
    product = world.product("20.00")
    order = world.pending([(product, 2)])
    order = pay(world, order, "40.00")
    with pytest.raises(ValidationError, match=r"less than the 40\.00 paid already") as caught:
        world.orders.change_line(
            world.sales, order.id, order.version, order.lines[0].id, quantity=1
        )
    assert caught.value.field == "total_amount"


def balance_from_orders(world: World, customer: uuid.UUID) -> Decimal:
    """The balance the rules say: total - paid over confirmed, not cancelled orders."""
    with world.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT status, previous_status, total_amount - paid_amount FROM orders "
                "WHERE customer_id = :c"
            ),
            {"c": customer},
        ).all()
    return sum(
        (unpaid for status, previous, unpaid in rows if rules.is_confirmed(status, previous)),
        Decimal("0.00"),
    )


def test_the_balance_follows_confirmations_payments_and_cancellations(world: World) -> None:
    customer = world.customer(credit_limit="1000.00")
    product = world.product("90.00", stock={world.main: 20})

    def order(quantity: int) -> OrderDetail:
        made = world.pending([(product, quantity)], customer=customer)
        return world.orders.confirm(world.manager, made.id, made.version, world.main)

    a, b, c = order(1), order(2), order(3)  # 95.99, 180.00, 270.00
    assert world.balance(customer) == Decimal("545.99")
    a = pay(world, a, "5.99")
    b = pay(world, b, "50.00")
    assert world.balance(customer) == Decimal("490.00")
    b = world.orders.cancel(world.manager, b.id, b.version)  # 130.00 unpaid comes off
    assert world.balance(customer) == Decimal("360.00")
    b = refund(world, b, "50.00")  # the money goes back; the balance is not touched
    c = world.orders.start_processing(world.clerk, c.id, c.version)
    c = world.ship(c)
    c = world.orders.deliver(world.clerk, c.id, c.version)
    c = world.orders.return_goods(world.manager, c.id, c.version, world.main, {c.lines[0].id: 3})
    c = pay(world, c, "270.00")  # what was owed is settled after the return
    pending = world.pending([(product, 1)], customer=customer)
    pending = pay(world, pending, "10.00")  # not confirmed: the balance is not touched
    assert world.balance(customer) == Decimal("90.00") == balance_from_orders(world, customer)
    with world.engine.connect() as connection:
        version = connection.execute(
            text("SELECT version FROM customers WHERE id = :c"), {"c": customer}
        ).scalar_one()
    assert version == 1 + 7  # every balance change is a change of the customer record
