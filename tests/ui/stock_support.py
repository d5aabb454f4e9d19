"""What the stock screens' tests share: a database with users of every role, warehouses
MAIN and EAST (and SHUT, inactive), and products with barcodes, variants and stock, seeded
with the helpers of tests/services/test_orders_support.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.lookup import SellableItem
from erpgo_desktop.services.stock import StockKey
from tests.services.test_orders_support import World, make_world, receive, seed_warehouse

#: Barcodes of the seeded items.
DRILL_BARCODE = "4006381333931"
SHARED_BARCODE = "5012345678900"  # given to two products: a scan must ask which


@dataclass(frozen=True)
class StockWorld:
    world: World
    services: Services
    drill: uuid.UUID  # "Cordless drill", 10 in MAIN (3 reserved), 2 in EAST
    saw: uuid.UUID  # "Hand saw", none anywhere
    shirt: uuid.UUID  # "Shirt", with the variant SHIRT-RED (5 in MAIN)
    red: uuid.UUID
    glue: uuid.UUID  # "Wood glue", shares a barcode with the saw
    service: uuid.UUID  # "Assembly service", does not track inventory
    shut: uuid.UUID  # warehouse SHUT, inactive

    @property
    def engine(self) -> Engine:
        return self.world.engine

    @property
    def main(self) -> uuid.UUID:
        return self.world.main

    @property
    def east(self) -> uuid.UUID:
        return self.world.east

    @property
    def clerk(self) -> CurrentUser:
        return self.world.clerk

    @property
    def sales(self) -> CurrentUser:
        return self.world.sales

    def sku(self, product: uuid.UUID) -> str:
        with self.engine.connect() as connection:
            value: str = connection.execute(
                text("SELECT sku FROM products WHERE id = :p"), {"p": product}
            ).scalar_one()
        return value

    def item(self, code: str) -> SellableItem:
        (found,) = self.services.lookup.find_by_code(self.clerk, code)
        return found

    def level(self, key: StockKey) -> tuple[int, int]:
        """(on hand, reserved) through the service."""
        overview = self.services.inventory.stock_overview(self.clerk, key.product_id)
        for row in overview.levels:
            if row.warehouse_id == key.warehouse_id and row.variant_id == key.variant_id:
                return row.on_hand, row.reserved
        return 0, 0

    def ledger(self, key: StockKey) -> list[tuple[str, int, str | None]]:
        """(type, quantity, reason) of the stock row's ledger, newest first, via the service."""
        page = self.services.inventory.ledger(
            self.clerk, key.product_id, warehouse_id=key.warehouse_id, variant_id=key.variant_id
        )
        return [(row.transaction_type, row.quantity, row.reason) for row in page.rows]


def _named(engine: Engine, product: uuid.UUID, name: str, barcode: str | None) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE products SET name = :n, barcode = :b WHERE id = :p"),
            {"n": name, "b": barcode, "p": product},
        )


def make_stock_world(engine: Engine) -> StockWorld:
    world = make_world(engine)
    drill = world.product(stock={world.main: 10, world.east: 2})
    _named(engine, drill, "Cordless drill", DRILL_BARCODE)
    saw = world.product()
    _named(engine, saw, "Hand saw", SHARED_BARCODE)
    glue = world.product()
    _named(engine, glue, "Wood glue", SHARED_BARCODE)
    service = world.product(track=False)
    _named(engine, service, "Assembly service", None)
    shirt = world.product()
    _named(engine, shirt, "Shirt", None)
    with engine.begin() as connection:
        red = uuid.UUID(
            str(
                connection.execute(
                    text(
                        "INSERT INTO product_variants (product_id, sku, name, price) "
                        "VALUES (:p, 'SHIRT-RED', 'Red', 10) RETURNING id"
                    ),
                    {"p": shirt},
                ).scalar_one()
            )
        )
    receive(engine, shirt, {world.main: 5}, variant=red)
    order = world.confirmed([(drill, 3)])
    assert order.status == "CONFIRMED"
    shut = seed_warehouse(engine, "SHUT", active=False)
    return StockWorld(
        world=world,
        services=build_services(engine),
        drill=drill,
        saw=saw,
        shirt=shirt,
        red=red,
        glue=glue,
        service=service,
        shut=shut,
    )
