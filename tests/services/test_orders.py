"""Orders: drafts, lines and totals, approval, confirmation with stock and credit, versions,
permissions and reading (fulfilment, money and the status table are in the other
test_orders_* modules)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import text

from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from erpgo_desktop.services.orders import OrderDetail, OrderSummary
from tests.services.test_orders_support import (
    ADDRESS,
    HEADER,
    World,
    expected_totals,
    receive,
    seed_warehouse,
    unique,
    world,
)

__all__ = ["world"]  # the module-scoped fixture


def totals(order: OrderDetail) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
    return (
        order.subtotal,
        order.discount_amount,
        order.tax_amount,
        order.shipping_amount,
        order.total_amount,
    )


# --- Drafts ------------------------------------------------------------------------------


def test_a_draft_has_a_number_addresses_and_no_lines(world: World) -> None:
    billing = replace(ADDRESS, first_name="Accounts", address1="2 Ledger Lane")
    order = world.orders.create_draft(
        world.sales,
        world.customer(),
        OrderHeader(shipping_address=ADDRESS, billing_address=billing, shipping_method="EXPRESS"),
    )
    assert re.fullmatch(r"\d{4}-\d{6}", order.order_number)
    assert (order.status, order.previous_status, order.payment_status) == ("DRAFT", None, "PENDING")
    assert order.shipping_address == ADDRESS and order.billing_address == billing
    assert order.lines == () and order.total_amount == 0 and order.shipping_amount == 0
    assert order.created_by == world.sales.id and order.created_by_name == "sales"
    assert order.version == 1 and order.currency == "USD"


def test_billing_defaults_to_the_shipping_address(world: World) -> None:
    order = world.draft()
    assert order.billing_address == ADDRESS
    with world.engine.connect() as connection:
        kinds = connection.execute(
            text(
                "SELECT a.type FROM order_addresses a JOIN orders o "
                "ON a.id IN (o.shipping_address_id, o.billing_address_id) WHERE o.id = :o "
                "ORDER BY a.type"
            ),
            {"o": order.id},
        ).scalars()
        assert list(kinds) == ["billing", "shipping"]


@pytest.mark.parametrize(
    ("address", "field", "message"),
    [
        (replace(ADDRESS, city="  "), "shipping_address.city", "needs a city of 1 to 100"),
        (replace(ADDRESS, postal_code="1" * 21), "shipping_address.postal_code", "1 to 20"),
        (replace(ADDRESS, phone="call me"), "shipping_address.phone", "phone number"),
        (replace(ADDRESS, email="nobody"), "shipping_address.email", "valid email"),
    ],
)
def test_a_draft_needs_a_valid_address(
    world: World, address: Address, field: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        world.orders.create_draft(world.sales, world.customer(), OrderHeader(address))
    assert caught.value.field == field


def test_a_draft_needs_an_active_customer(world: World) -> None:
    customer = world.customer()
    with world.engine.begin() as connection:
        connection.execute(
            text("UPDATE customers SET status = 'SUSPENDED' WHERE id = :c"), {"c": customer}
        )
    with pytest.raises(ValidationError, match="is suspended: no new orders") as caught:
        world.orders.create_draft(world.sales, customer, HEADER)
    assert caught.value.field == "customer"
    with pytest.raises(NotFoundError, match="customer does not exist"):
        world.orders.create_draft(world.sales, uuid.uuid4(), HEADER)


def test_the_header_can_be_changed_while_pending(world: World) -> None:
    product = world.product("40.00")
    order = world.pending([(product, 1)])
    assert order.shipping_amount == Decimal("5.99")
    header = replace(
        order.header,
        shipping_method="OVERNIGHT",
        order_discount=Decimal("5.00"),
        billing_address=replace(ADDRESS, city="Boston"),
        internal_notes="  rush  ",
    )
    order = world.orders.update_order(world.sales, order.id, order.version, header)
    assert (order.shipping_amount, order.order_discount, order.discount_amount) == (
        Decimal("29.99"),
        Decimal("5.00"),
        Decimal("5.00"),
    )
    assert order.total_amount == Decimal("64.99")
    assert order.billing_address.city == "Boston" and order.internal_notes == "rush"
    with pytest.raises(ValidationError, match=r"order discount \(40.01\)") as caught:
        world.orders.update_order(
            world.sales, order.id, order.version, replace(header, order_discount=Decimal("40.01"))
        )
    assert caught.value.field == "order_discount"


# --- Lines and totals --------------------------------------------------------------------


def test_line_totals_follow_the_rules(world: World) -> None:
    taxed = world.product("19.99", tax_rate="8.25")
    untaxed = world.product("5.00", taxable=False)
    order = world.draft()
    order = world.orders.add_line(
        world.sales, order.id, order.version, taxed, 3, discount=Decimal("2.50")
    )
    order = world.orders.add_line(world.sales, order.id, order.version, untaxed, 4)
    first, second = order.lines
    # 3 * 19.99 = 59.97; (59.97 - 2.50) * 8.25% = 4.741275 -> 4.74
    assert (first.total_price, first.discount_amount, first.tax_amount, first.final_price) == (
        Decimal("59.97"),
        Decimal("2.50"),
        Decimal("4.74"),
        Decimal("62.21"),
    )
    assert (second.total_price, second.tax_amount, second.final_price) == (
        Decimal("20.00"),
        Decimal("0.00"),
        Decimal("20.00"),
    )
    # Subtotal 79.97 is under 100.00: STANDARD shipping costs 5.99.
    assert totals(order) == (
        Decimal("79.97"),
        Decimal("2.50"),
        Decimal("4.74"),
        Decimal("5.99"),
        Decimal("88.20"),
    )
    assert totals(order) == expected_totals(order)


def test_tax_rounds_half_up(world: World) -> None:
    # 1 * 0.50 at 5% = 0.025 -> 0.03 (banker's rounding would give 0.02)
    product = world.product("0.50", tax_rate="5")
    order = world.draft([(product, 1)])
    assert order.lines[0].tax_amount == Decimal("0.03")


def test_a_tax_exempt_customer_pays_no_tax(world: World) -> None:
    product = world.product("100.00", tax_rate="10")
    order = world.draft([(product, 1)], customer=world.customer(tax_exempt=True))
    assert order.lines[0].tax_amount == 0 and order.tax_amount == 0


def test_standard_shipping_is_free_from_a_100_subtotal(world: World) -> None:
    product = world.product("50.00")
    order = world.draft([(product, 1)])
    assert order.shipping_amount == Decimal("5.99")
    order = world.orders.change_line(
        world.sales, order.id, order.version, order.lines[0].id, quantity=2
    )
    assert (order.subtotal, order.shipping_amount, order.total_amount) == (
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("100.00"),
    )


def test_unit_price_defaults_to_the_product_or_variant_and_can_be_set(world: World) -> None:
    product = world.product("12.00")
    with world.engine.begin() as connection:
        variant = connection.execute(
            text(
                "INSERT INTO product_variants (product_id, sku, name, price) "
                "VALUES (:p, 'V-RED', 'Red', 13.50) RETURNING id"
            ),
            {"p": product},
        ).scalar_one()
    order = world.draft([(product, 1)])
    order = world.orders.add_line(
        world.sales, order.id, order.version, product, 1, variant_id=variant
    )
    order = world.orders.add_line(
        world.sales, order.id, order.version, product, 1, unit_price=Decimal("9.99")
    )
    assert [(line.sku, line.unit_price) for line in order.lines] == [
        (order.lines[0].sku, Decimal("12.00")),
        ("V-RED", Decimal("13.50")),
        (order.lines[0].sku, Decimal("9.99")),
    ]
    other = world.product("1.00")
    with pytest.raises(NotFoundError, match="variant is not one of"):
        world.orders.add_line(world.sales, order.id, order.version, other, 1, variant_id=variant)


def test_lines_can_be_changed_and_removed(world: World) -> None:
    product = world.product("10.00", tax_rate="10")
    order = world.draft([(product, 2), (product, 1)])
    first, second = order.lines
    order = world.orders.change_line(
        world.sales,
        order.id,
        order.version,
        first.id,
        quantity=5,
        unit_price=Decimal("8.00"),
        discount=Decimal("4.00"),
        notes="gift wrap",
    )
    changed = order.lines[0]
    assert (changed.quantity, changed.total_price, changed.tax_amount, changed.notes) == (
        5,
        Decimal("40.00"),
        Decimal("3.60"),
        "gift wrap",
    )
    order = world.orders.remove_line(world.sales, order.id, order.version, second.id)
    assert [line.id for line in order.lines] == [first.id]
    assert totals(order) == expected_totals(order)
    with pytest.raises(NotFoundError, match="line is not on this order"):
        world.orders.remove_line(world.sales, order.id, order.version, second.id)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"quantity": 0}, "quantity", "from 1 to 9,999"),
        ({"quantity": 10_000}, "quantity", "from 1 to 9,999"),
        ({"quantity": 1.5}, "quantity", "whole number"),
        ({"unit_price": Decimal("0")}, "unit_price", "more than 0"),
        ({"unit_price": Decimal("1.001")}, "unit_price", "two decimals"),
        ({"discount": Decimal("-1")}, "discount", "cannot be negative"),
        ({"discount": Decimal("20.01")}, "discount", r"0.00 to the line total \(20.00\)"),
    ],
)
def test_line_input_is_checked(
    world: World, kwargs: dict[str, object], field: str, message: str
) -> None:
    product = world.product("10.00")
    order = world.draft()
    arguments: dict[str, object] = {"quantity": 2, **kwargs}
    quantity = arguments.pop("quantity")
    with pytest.raises(ValidationError, match=message) as caught:
        world.orders.add_line(
            world.sales,
            order.id,
            order.version,
            product,
            quantity,  # type: ignore[arg-type]
            **arguments,  # type: ignore[arg-type]
        )
    assert caught.value.field == field


def test_an_inactive_product_cannot_be_ordered(world: World) -> None:
    product = world.product(active=False)
    order = world.draft()
    with pytest.raises(ValidationError, match="no longer sold") as caught:
        world.orders.add_line(world.sales, order.id, order.version, product, 1)
    assert caught.value.field == "product"


def test_lines_are_frozen_once_confirmed(world: World) -> None:
    product = world.product(stock={world.main: 5})
    order = world.confirmed([(product, 1)])
    with pytest.raises(ValidationError, match="only while the order is a draft or pending"):
        world.orders.add_line(world.sales, order.id, order.version, product, 1)
    with pytest.raises(ValidationError, match=r"order .* is confirmed"):
        world.orders.change_line(
            world.sales, order.id, order.version, order.lines[0].id, quantity=2
        )
    with pytest.raises(ValidationError, match="only while the order is a draft or pending"):
        world.orders.update_order(world.sales, order.id, order.version, order.header)


def test_submitting_needs_a_line(world: World) -> None:
    order = world.draft()
    with pytest.raises(ValidationError, match="at least one line") as caught:
        world.orders.submit(world.sales, order.id, order.version)
    assert caught.value.field == "lines"
    order = world.orders.add_line(world.sales, order.id, order.version, world.product(), 1)
    order = world.orders.submit(world.sales, order.id, order.version)
    assert (order.status, order.previous_status) == ("PENDING", "DRAFT")


# --- Approval ----------------------------------------------------------------------------


def test_orders_over_10000_need_approval_before_confirming(world: World) -> None:
    product = world.product("10000.01", stock={world.main: 1})
    order = world.pending([(product, 1)])
    assert order.needs_approval
    with pytest.raises(ValidationError, match="must approve it") as caught:
        world.orders.confirm(world.manager, order.id, order.version, world.main)
    assert caught.value.field == "approved_by"
    with pytest.raises(PermissionDeniedError, match=r"orders\.approve"):
        world.orders.approve(world.sales, order.id, order.version)
    order = world.orders.approve(world.manager, order.id, order.version)
    assert order.approved_by == world.manager.id and order.approved_at is not None
    assert order.approved_by_name == "manager"
    with pytest.raises(ValidationError, match="approved already by manager"):
        world.orders.approve(world.admin, order.id, order.version)
    order = world.orders.confirm(world.manager, order.id, order.version, world.main)
    assert order.status == "CONFIRMED"


def test_exactly_10000_needs_no_approval(world: World) -> None:
    product = world.product("10000.00", stock={world.main: 1})
    order = world.pending([(product, 1)])  # free shipping: total is exactly 10,000.00
    assert order.total_amount == Decimal("10000.00") and not order.needs_approval
    with pytest.raises(ValidationError, match=r"only orders over 10,000\.00 need approval"):
        world.orders.approve(world.manager, order.id, order.version)
    order = world.orders.confirm(world.manager, order.id, order.version, world.main)
    assert order.status == "CONFIRMED"


def test_changing_the_total_withdraws_the_approval(world: World) -> None:
    product = world.product("6000.00")
    order = world.pending([(product, 2)])
    order = world.orders.approve(world.manager, order.id, order.version)
    order = world.orders.change_line(
        world.sales, order.id, order.version, order.lines[0].id, notes="same total"
    )
    assert order.approved_by == world.manager.id
    order = world.orders.change_line(
        world.sales, order.id, order.version, order.lines[0].id, quantity=3
    )
    assert order.approved_by is None and order.approved_at is None


def test_a_draft_cannot_be_approved(world: World) -> None:
    order = world.draft([(world.product("20000.00"), 1)])
    with pytest.raises(ValidationError, match="draft: only a submitted order"):
        world.orders.approve(world.manager, order.id, order.version)


# --- Confirmation: stock -----------------------------------------------------------------


def test_confirming_reserves_every_tracked_line(world: World) -> None:
    tracked = world.product(stock={world.main: 10})
    untracked = world.product(track=False)
    order = world.confirmed([(tracked, 4), (untracked, 2)])
    assert order.status == "CONFIRMED" and order.previous_status == "PENDING"
    line, other = order.lines
    assert [(r.warehouse_code, r.quantity) for r in line.reservations] == [("MAIN", 4)]
    assert other.reservations == () and not other.tracks_inventory
    assert {line.status for line in order.lines} == {"CONFIRMED"}
    assert world.stock(tracked, world.main) == (10, 4)
    assert world.reservations(order.id) == [(line.id, world.main, 4)]
    assert world.ledger(order.id) == []  # reserving writes no ledger row


def test_allocations_split_a_line_over_warehouses(world: World) -> None:
    product = world.product(stock={world.main: 3, world.east: 5})
    order = world.pending([(product, 7)])
    line = order.lines[0].id
    order = world.orders.confirm(
        world.manager,
        order.id,
        order.version,
        None,
        allocations={line: [(world.main, 3), (world.east, 4)]},
    )
    assert [(r.warehouse_code, r.quantity) for r in order.lines[0].reservations] == [
        ("EAST", 4),
        ("MAIN", 3),
    ]
    assert world.stock(product, world.main) == (3, 3)
    assert world.stock(product, world.east) == (5, 4)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([(0, 3)], "add up to 3, but 7 are to be reserved"),
        ([(0, 4), (1, 4)], "add up to 8, but 7"),
        ([(0, 0)], "from 1 to 9,999"),
    ],
)
def test_allocations_must_add_up(world: World, pairs: list[tuple[int, int]], message: str) -> None:
    product = world.product(stock={world.main: 10, world.east: 10})
    order = world.pending([(product, 7)])
    houses = (world.main, world.east)
    with pytest.raises(ValidationError, match=message) as caught:
        world.orders.confirm(
            world.manager,
            order.id,
            order.version,
            None,
            allocations={order.lines[0].id: [(houses[w], q) for w, q in pairs]},
        )
    assert caught.value.field == "allocations"


def test_confirming_needs_a_warehouse_for_tracked_lines(world: World) -> None:
    order = world.pending([(world.product(stock={world.main: 1}), 1)])
    with pytest.raises(ValidationError, match="Choose the warehouse") as caught:
        world.orders.confirm(world.manager, order.id, order.version, None)
    assert caught.value.field == "warehouse_id"
    closed = seed_warehouse(world.engine, unique("SHUT"), active=False)
    with pytest.raises(ValidationError, match="is closed"):
        world.orders.confirm(world.manager, order.id, order.version, closed)
    with pytest.raises(NotFoundError, match="warehouse does not exist"):
        world.orders.confirm(world.manager, order.id, order.version, uuid.uuid4())
    # Only untracked lines: no warehouse needed.
    service = world.pending([(world.product(track=False), 3)])
    assert world.orders.confirm(world.manager, service.id, service.version, None).status == (
        "CONFIRMED"
    )


def test_one_short_line_reserves_nothing(world: World) -> None:
    plenty = world.product(stock={world.main: 10})
    short = world.product(stock={world.main: 2})
    order = world.pending([(plenty, 5), (short, 3)])
    short_sku = order.lines[1].sku
    with pytest.raises(ValidationError) as caught:
        world.orders.confirm(world.manager, order.id, order.version, world.main)
    assert caught.value.message == (
        f"Not enough stock to confirm order {order.order_number}, so nothing was reserved: "
        f"{short_sku} (Product {short_sku}) in MAIN: 2 sellable, 3 asked."
    )
    assert caught.value.field == "quantity"
    assert world.stock(plenty, world.main) == (10, 0)
    assert world.stock(short, world.main) == (2, 0)
    assert world.reservations(order.id) == []
    assert world.orders.get_order(world.sales, order.id).status == "PENDING"


def test_reserved_stock_is_not_sellable_to_the_next_order(world: World) -> None:
    product = world.product(stock={world.main: 5})
    world.confirmed([(product, 4)])
    second = world.pending([(product, 2)])
    with pytest.raises(ValidationError, match="1 sellable, 2 asked"):
        world.orders.confirm(world.manager, second.id, second.version, world.main)


def test_two_lines_of_one_product_count_together(world: World) -> None:
    product = world.product(stock={world.main: 5})
    order = world.pending([(product, 3), (product, 3)])
    with pytest.raises(ValidationError, match="5 sellable, 6 asked"):
        world.orders.confirm(world.manager, order.id, order.version, world.main)


def test_backorders_reserve_what_there_is_and_wait(world: World) -> None:
    product = world.product(stock={world.main: 3}, backorder=True)
    order = world.confirmed([(product, 5)])
    line = order.lines[0]
    assert (line.reserved_quantity, line.backordered_quantity) == (3, 2)
    assert world.stock(product, world.main) == (3, 3)
    order = world.orders.start_processing(world.clerk, order.id, order.version)
    order = world.ship(order)  # ships the 3 reserved
    assert order.status == "PARTIALLY_SHIPPED"
    assert (order.lines[0].shipped_quantity, order.lines[0].backordered_quantity) == (3, 2)
    with pytest.raises(ValidationError, match="nothing was reserved"):
        world.orders.reserve_backorders(world.manager, order.id, order.version, world.main)
    receive(world.engine, product, {world.east: 1})
    order = world.orders.reserve_backorders(world.manager, order.id, order.version, world.east)
    assert (order.lines[0].reserved_quantity, order.lines[0].backordered_quantity) == (1, 1)
    receive(world.engine, product, {world.east: 5})
    order = world.orders.reserve_backorders(world.manager, order.id, order.version, world.east)
    assert order.lines[0].backordered_quantity == 0
    assert world.stock(product, world.east) == (6, 2)
    with pytest.raises(ValidationError, match=r"Nothing on order .* is backordered"):
        world.orders.reserve_backorders(world.manager, order.id, order.version, world.east)
    order = world.ship(order)
    assert order.status == "SHIPPED" and order.lines[0].shipped_quantity == 5
    assert world.stock(product, world.east) == (4, 0)


def test_a_deactivated_product_blocks_confirming(world: World) -> None:
    product = world.product(stock={world.main: 2})
    order = world.pending([(product, 1)])
    with world.engine.begin() as connection:
        connection.execute(
            text("UPDATE products SET is_active = false WHERE id = :p"), {"p": product}
        )
    with pytest.raises(ValidationError, match="is no longer sold: remove its line"):
        world.orders.confirm(world.manager, order.id, order.version, world.main)


# --- Confirmation: credit ----------------------------------------------------------------


def test_confirming_adds_the_unpaid_total_to_the_balance(world: World) -> None:
    customer = world.customer(credit_limit="100.00", balance="10.00")
    order = world.pending([(world.product("30.00", stock={world.main: 9}), 2)], customer=customer)
    order = world.orders.record_payment(world.admin, order.id, order.version, Decimal("20.00"))
    assert world.balance(customer) == Decimal("10.00")  # paid before confirming: no change
    order = world.orders.confirm(world.sales, order.id, order.version, world.main)
    # 60.00 + 5.99 shipping - 20.00 paid
    assert world.balance(customer) == Decimal("55.99")


def test_credit_limit_refuses_and_a_manager_overrides(world: World) -> None:
    customer = world.customer(credit_limit="100.00", balance="50.00")
    product = world.product("60.00", stock={world.main: 9})
    order = world.pending([(product, 1)], customer=customer)
    with pytest.raises(ValidationError) as caught:
        world.orders.confirm(world.sales, order.id, order.version, world.main)
    assert caught.value.field == "credit_limit"
    assert "balance to 115.99 (now 50.00, plus 65.99 unpaid on this order)" in caught.value.message
    assert "over the credit limit of 100.00" in caught.value.message
    # Asking for the override without the permission is refused; nothing changes.
    with pytest.raises(PermissionDeniedError, match=r"customers\.credit_override"):
        world.orders.confirm(world.sales, order.id, order.version, world.main, override_credit=True)
    assert world.stock(product, world.main) == (9, 0)
    assert world.balance(customer) == Decimal("50.00")
    order = world.orders.confirm(
        world.manager, order.id, order.version, world.main, override_credit=True
    )
    assert order.status == "CONFIRMED"
    assert world.balance(customer) == Decimal("115.99")
    assert "Credit limit 100.00 overridden by manager" in (order.internal_notes or "")


def test_credit_limit_allows_reaching_it_exactly(world: World) -> None:
    customer = world.customer(credit_limit="65.99")
    order = world.pending([(world.product("60.00", stock={world.main: 1}), 1)], customer=customer)
    order = world.orders.confirm(world.sales, order.id, order.version, world.main)
    assert world.balance(customer) == Decimal("65.99")


def test_no_credit_limit_means_no_check(world: World) -> None:
    customer = world.customer(credit_limit="0", balance="1000000.00")
    order = world.pending([(world.product("60.00", stock={world.main: 1}), 1)], customer=customer)
    world.orders.confirm(world.sales, order.id, order.version, world.main)
    assert world.balance(customer) == Decimal("1000065.99")


# --- Versions and permissions ------------------------------------------------------------


def test_a_stale_version_is_a_conflict_naming_who_and_when(world: World) -> None:
    product = world.product()
    order = world.draft([(product, 1)])
    newer = world.orders.change_line(
        world.manager, order.id, order.version, order.lines[0].id, quantity=2
    )
    assert newer.version == order.version + 1 and newer.updated_by_name == "manager"
    with pytest.raises(ConflictError) as caught:
        world.orders.change_line(
            world.sales, order.id, order.version, order.lines[0].id, quantity=3
        )
    when = f"{newer.updated_at.astimezone():%Y-%m-%d at %H:%M:%S}"
    assert caught.value.message.startswith(
        f"Order {order.order_number} was changed by manager on {when} after you opened it"
    )
    assert caught.value.current == newer
    assert world.orders.get_order(world.sales, order.id).lines[0].quantity == 2


def test_every_action_moves_the_version_on(world: World) -> None:
    product = world.product(stock={world.main: 3})
    order = world.draft([(product, 1)])
    versions = [order.version]
    steps: list[Callable[[OrderDetail], OrderDetail]] = [
        lambda o: world.orders.submit(world.sales, o.id, o.version),
        lambda o: world.orders.hold(world.manager, o.id, o.version),
        lambda o: world.orders.resume(world.manager, o.id, o.version),
        lambda o: world.orders.confirm(world.manager, o.id, o.version, world.main),
        lambda o: world.orders.record_payment(world.admin, o.id, o.version, Decimal("1.00")),
    ]
    for step in steps:
        order = step(order)
        versions.append(order.version)
        assert order.updated_by is not None
    assert versions == list(range(versions[0], versions[0] + 6))


@pytest.mark.parametrize(
    ("user", "action", "permission"),
    [
        ("clerk", "create", "orders.create"),
        ("clerk", "confirm", "orders.confirm"),
        ("sales", "approve", "orders.approve"),
        ("sales", "process", "orders.ship"),
        ("sales", "cancel", "orders.cancel"),
        ("sales", "return", "orders.return"),
        ("sales", "pay", "orders.payment"),
        ("clerk", "hold", "orders.confirm"),
    ],
)
def test_each_action_checks_its_permission(
    world: World, user: str, action: str, permission: str
) -> None:
    acting = getattr(world, user)
    order = world.pending([(world.product(), 1)])
    calls = {
        "create": lambda: world.orders.create_draft(acting, world.customer(), HEADER),
        "confirm": lambda: world.orders.confirm(acting, order.id, order.version, world.main),
        "approve": lambda: world.orders.approve(acting, order.id, order.version),
        "process": lambda: world.orders.start_processing(acting, order.id, order.version),
        "cancel": lambda: world.orders.cancel(acting, order.id, order.version),
        "return": lambda: world.orders.return_goods(
            acting, order.id, order.version, world.main, {order.lines[0].id: 1}
        ),
        "pay": lambda: world.orders.record_payment(acting, order.id, order.version, Decimal(1)),
        "hold": lambda: world.orders.hold(acting, order.id, order.version),
    }
    with pytest.raises(PermissionDeniedError, match=re.escape(repr(permission))):
        calls[action]()
    assert world.orders.get_order(world.admin, order.id).version == order.version


def test_reading_needs_orders_read(world: World) -> None:
    order = world.draft()
    nobody = replace(world.sales, permissions=frozenset(), roles=())
    with pytest.raises(PermissionDeniedError, match=r"orders\.read"):
        world.orders.get_order(nobody, order.id)
    with pytest.raises(PermissionDeniedError, match=r"orders\.read"):
        world.orders.list_orders(nobody)
    assert world.orders.get_order(world.clerk, order.id).id == order.id
    with pytest.raises(NotFoundError):
        world.orders.get_order(world.clerk, uuid.uuid4())


# --- Reading -----------------------------------------------------------------------------


def test_list_lines_shows_reservations(world: World) -> None:
    product = world.product(stock={world.main: 2, world.east: 2})
    order = world.pending([(product, 3)])
    order = world.orders.confirm(
        world.manager,
        order.id,
        order.version,
        None,
        allocations={order.lines[0].id: [(world.east, 2), (world.main, 1)]},
    )
    (line,) = world.orders.list_lines(world.clerk, order.id)
    assert line == order.lines[0]
    assert [(r.warehouse_code, r.quantity) for r in line.reservations] == [("EAST", 2), ("MAIN", 1)]
    assert line.reserved_quantity == 3 and line.backordered_quantity == 0


def test_pages_of_orders_newest_first(world: World) -> None:
    customer = world.customer()
    made = [world.draft(customer=customer) for _ in range(7)]
    with world.engine.begin() as connection:  # ties on the date are broken by id
        connection.execute(
            text("UPDATE orders SET order_date = '2030-01-01' WHERE id = ANY(:ids)"),
            {"ids": [o.id for o in made[:4]]},
        )
    seen: list[OrderSummary] = []
    cursor = None
    while True:
        page = world.orders.list_orders(world.clerk, cursor, 3, customer_id=customer)
        seen.extend(page.rows)
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert len(seen) == 7 and {row.id for row in seen} == {o.id for o in made}
    keys = [(row.order_date, row.id) for row in seen]
    assert keys == sorted(keys, reverse=True)
    assert {row.customer_name for row in seen} == {made[0].customer_name}
    drafts = world.orders.list_orders(world.clerk, None, 100, status="DRAFT", customer_id=customer)
    assert len(drafts.rows) == 7
    with pytest.raises(ValidationError, match="no order status"):
        world.orders.list_orders(world.clerk, status="LOST")
