"""The printed documents as data: what the confirmation, the packing slip and the pick list
of a real order say, and the company block read from the settings file."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from erpgo_desktop.config import CONFIG_DIR_ENV, DATA_DIR_ENV, AppPaths, CompanyInfo, read_company
from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.domain.money import ZERO
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.errors import ConfigurationError, PermissionDeniedError
from erpgo_desktop.services.documents import (
    DocumentService,
    PackingLine,
    PickLine,
    address_lines,
    shelf_order,
)
from erpgo_desktop.services.orders import OrderDetail
from tests.services.test_orders_support import ADDRESS, World, unique, world

__all__ = ["world"]  # the module-scoped fixture

COMPANY = CompanyInfo(
    name="Northwind Trading B.V.",
    address_lines=("Keizersgracht 1", "1015 CJ Amsterdam", "Netherlands"),
    phone="+31 20 555 0100",
    email="sales@northwind.example",
    tax_id="NL123456789B01",
)


@dataclass(frozen=True)
class DocumentOrder:
    """A confirmed order whose lines sit in two warehouses, with its SKUs by name."""

    order: OrderDetail
    #: "a2", "b9", "b10", "c1" (MAIN) / "d5" (split over MAIN and EAST) / "svc" (no stock)
    skus: dict[str, str]


def product_with_sku(world: World, sku: str, price: str, **kwargs: object) -> uuid.UUID:
    product = world.product(price, **kwargs)  # type: ignore[arg-type]
    with world.engine.begin() as connection:
        connection.execute(
            text("UPDATE products SET sku = :sku, name = :name WHERE id = :p"),
            {"sku": sku, "name": f"Item {sku}", "p": product},
        )
    return product


def document_order(world: World) -> DocumentOrder:
    """A confirmed order: three lines in MAIN (given out of shelf order), one line split
    over MAIN and EAST, one only in EAST, one not kept in stock; a line discount, an order
    discount, tax and express shipping."""
    tag = unique("DOC")
    skus = {
        key: f"{tag}-{suffix}"
        for key, suffix in {
            "b10": "B-10", "a2": "A-2", "b9": "B-9", "d5": "D-5", "c1": "C-1", "svc": "S-1",
        }.items()
    }  # fmt: skip
    main, east = world.main, world.east
    products = {
        "b10": product_with_sku(world, skus["b10"], "12.50", stock={main: 20}, tax_rate="21"),
        "a2": product_with_sku(world, skus["a2"], "3.99", stock={main: 20}, weight="0.250"),
        "b9": product_with_sku(world, skus["b9"], "7.00", stock={main: 20}, tax_rate="9"),
        "d5": product_with_sku(world, skus["d5"], "20.00", stock={main: 2, east: 10}),
        "c1": product_with_sku(world, skus["c1"], "1.25", stock={east: 30}),
        "svc": product_with_sku(world, skus["svc"], "15.00", track=False),
    }
    header = OrderHeader(
        shipping_address=ADDRESS,
        billing_address=Address("Ada", "Lovelace", "12 St James's Square", "London", "SW1Y 4JH",
                                "United Kingdom", company="Analytical Engines Ltd"),
        shipping_method="EXPRESS",
        order_discount=Decimal("5.00"),
        notes="Deliver to the loading dock.",
        customer_notes="Please call before delivery.",
        internal_notes="Never printed.",
    )  # fmt: skip
    orders, sales = world.orders, world.sales
    order = orders.create_draft(sales, world.customer(), replace(header, order_discount=ZERO))
    quantities = {"b10": 3, "a2": 4, "b9": 2, "d5": 5, "c1": 6, "svc": 1}
    for key, quantity in quantities.items():
        discount = Decimal("2.50") if key == "b10" else Decimal("0")
        order = orders.add_line(
            sales, order.id, order.version, products[key], quantity, discount=discount
        )
    # The order's own discount is checked against the goods, so it comes after them.
    order = orders.update_order(sales, order.id, order.version, header)
    order = orders.submit(sales, order.id, order.version)
    by_sku = {line.sku: line.id for line in order.lines}
    allocations = {
        by_sku[skus["b10"]]: [(main, 3)],
        by_sku[skus["a2"]]: [(main, 4)],
        by_sku[skus["b9"]]: [(main, 2)],
        by_sku[skus["d5"]]: [(main, 2), (east, 3)],
        by_sku[skus["c1"]]: [(east, 6)],
    }
    order = orders.confirm(world.manager, order.id, order.version, None, allocations=allocations)
    return DocumentOrder(order, skus)


@pytest.fixture
def documents(world: World) -> DocumentService:
    return DocumentService(make_session_factory(world.engine), COMPANY)


# --- Order confirmation ------------------------------------------------------------------


def test_the_confirmation_holds_every_line_with_its_amounts_and_the_totals(
    world: World, documents: DocumentService
) -> None:
    seeded = document_order(world)
    order = seeded.order
    confirmation = documents.order_confirmation(world.sales, order.id)

    assert [
        (p.sku, p.name, p.quantity, p.unit_price, p.discount, p.tax, p.amount)
        for p in confirmation.lines
    ] == [
        (
            line.sku,
            line.name,
            line.quantity,
            line.unit_price,
            line.discount_amount,
            line.tax_amount,
            line.final_price,
        )
        for line in order.lines
    ]
    assert confirmation.lines[0].sku == seeded.skus["b10"]  # in the order they were added
    assert (
        confirmation.subtotal,
        confirmation.discount,
        confirmation.order_discount,
        confirmation.tax,
        confirmation.shipping,
        confirmation.total,
        confirmation.paid,
        confirmation.balance_due,
    ) == (
        order.subtotal,
        order.discount_amount,
        Decimal("5.00"),
        order.tax_amount,
        order.shipping_amount,
        order.total_amount,
        Decimal("0.00"),
        order.total_amount,
    )
    assert confirmation.discount == Decimal("7.50")  # 2.50 on a line and 5.00 on the order
    assert confirmation.tax > 0 and confirmation.shipping > 0
    header = confirmation.header
    assert header.company == COMPANY
    assert (header.order_number, header.customer_name, header.status) == (
        order.order_number,
        order.customer_name,
        "CONFIRMED",
    )
    assert header.notes == ("Deliver to the loading dock.", "Please call before delivery.")
    assert header.shipping_address == address_lines(ADDRESS)
    assert header.billing_address[0] == "Analytical Engines Ltd"


def test_an_address_as_on_an_envelope() -> None:
    assert address_lines(ADDRESS) == (
        "Grace Hopper",
        "1 Navy Yard",
        "22202 Arlington, VA",
        "USA",
        "Phone +1 703 555 0100",
    )
    assert address_lines(Address("A", "B", "Street 1", "Town", "1000", "NL", address2="2nd")) == (
        "A B",
        "Street 1",
        "2nd",
        "1000 Town",
        "NL",
    )


# --- Pick list ---------------------------------------------------------------------------


def test_the_pick_list_groups_by_warehouse_in_shelf_order(
    world: World, documents: DocumentService
) -> None:
    seeded = document_order(world)
    s = seeded.skus
    pick = documents.pick_list(world.clerk, seeded.order.id)

    assert [(g.warehouse_code, g.warehouse_id) for g in pick.groups] == [
        ("EAST", world.east),
        ("MAIN", world.main),
    ]
    east, main = pick.groups
    assert [(line.sku, line.quantity) for line in main.lines] == [
        (s["a2"], 4),
        (s["b9"], 2),
        (s["b10"], 3),  # after B-9: shelves are numbered, not spelt
        (s["d5"], 2),
    ]
    assert [(line.sku, line.quantity) for line in east.lines] == [(s["c1"], 6), (s["d5"], 3)]
    assert (main.total_quantity, east.total_quantity) == (11, 9)
    assert main.lines[0].name == f"Item {s['a2']}"
    assert pick.not_stocked == (PickLine(s["svc"], f"Item {s['svc']}", 1),)
    assert pick.waiting == ()
    assert pick.header.company == COMPANY


def test_the_pick_list_names_what_waits_for_stock_and_drops_what_has_gone(
    world: World, documents: DocumentService
) -> None:
    waits = world.product(stock={world.main: 2}, backorder=True)
    ships = world.product(stock={world.main: 5})
    order = world.processing([(waits, 5), (ships, 5)])
    waits_line, ships_line = order.lines
    pick = documents.pick_list(world.clerk, order.id)
    assert [(line.sku, line.quantity) for line in pick.groups[0].lines] == sorted(
        [(waits_line.sku, 2), (ships_line.sku, 5)], key=lambda pair: shelf_order(pair[0])
    )
    assert [(line.sku, line.quantity) for line in pick.waiting] == [(waits_line.sku, 3)]

    order = world.ship(order, {ships_line.id: 5, waits_line.id: 2})
    pick = documents.pick_list(world.clerk, order.id)
    assert pick.groups == ()  # everything reserved has left
    assert [(line.sku, line.quantity) for line in pick.waiting] == [(waits_line.sku, 3)]


def test_shelf_order_reads_numbers_as_numbers() -> None:
    skus = ["b-10", "B-9", "a-100", "A-20", "A-3", "C"]
    assert sorted(skus, key=shelf_order) == ["A-3", "A-20", "a-100", "B-9", "b-10", "C"]


# --- Packing slip ------------------------------------------------------------------------


def test_the_packing_slip_says_what_goes_in_the_parcel_without_prices(
    world: World, documents: DocumentService
) -> None:
    seeded = document_order(world)
    order = seeded.order
    slip = documents.packing_slip(world.clerk, order.id)
    assert [(p.sku, p.ordered, p.shipped, p.to_ship, p.backordered) for p in slip.lines] == [
        (line.sku, line.quantity, 0, line.quantity, 0) for line in order.lines
    ]
    assert slip.total_weight == sum(line.weight for line in order.lines)
    assert slip.total_weight > 0
    assert not slip.has_backorders
    assert (slip.carrier, slip.tracking_number) == (None, None)
    money = {f.name for f in fields(PackingLine)} & {"unit_price", "amount", "tax", "discount"}
    assert money == set()

    order = world.orders.start_processing(world.clerk, order.id, order.version)
    order = world.ship(order)
    slip = documents.packing_slip(world.clerk, order.id)
    assert [(p.shipped, p.to_ship) for p in slip.lines] == [
        (line.quantity, 0) for line in order.lines
    ]
    assert (slip.carrier, slip.tracking_number) == ("UPS", "1Z 999-AA1")
    assert slip.shipped_at is not None


def test_a_packing_slip_names_backorders(world: World, documents: DocumentService) -> None:
    product = world.product(stock={world.main: 1}, backorder=True)
    order = world.confirmed([(product, 4)])
    (line,) = documents.packing_slip(world.clerk, order.id).lines
    assert (line.ordered, line.to_ship, line.backordered) == (4, 1, 3)


# --- Permissions -------------------------------------------------------------------------


def test_documents_need_orders_read(world: World, documents: DocumentService) -> None:
    order = world.draft([(world.product(), 1)])
    reader = world.clerk
    assert documents.pick_list(reader, order.id).header.order_number == order.order_number
    nobody = replace(reader, permissions=frozenset(), roles=())
    for make in (documents.order_confirmation, documents.packing_slip, documents.pick_list):
        with pytest.raises(PermissionDeniedError, match=r"orders\.read"):
            make(nobody, order.id)


# --- The company, from the settings file -------------------------------------------------


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.for_user({CONFIG_DIR_ENV: str(tmp_path / "cfg"), DATA_DIR_ENV: str(tmp_path)})


def write_settings(paths: AppPaths, content: str) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text(content, encoding="utf-8")


def test_the_company_table_of_the_settings_file(paths: AppPaths) -> None:
    write_settings(
        paths,
        'database_url = "postgresql://u@h/db"\n\n[company]\nname = "Northwind Trading B.V."\n'
        'address = ["Keizersgracht 1", "1015 CJ Amsterdam", " ", "Netherlands"]\n'
        'phone = "+31 20 555 0100"\nemail = "sales@northwind.example"\n'
        'tax_id = "NL123456789B01"\n',
    )
    assert read_company(paths) == COMPANY


def test_a_company_address_may_be_one_string(paths: AppPaths) -> None:
    write_settings(paths, '[company]\nname = "Acme"\naddress = """\n1 Road\n  Town\n"""\n')
    assert read_company(paths) == CompanyInfo("Acme", ("1 Road", "Town"))


def test_no_company_table_means_no_company_block(paths: AppPaths) -> None:
    assert read_company(paths) == CompanyInfo()
    write_settings(paths, 'database_url = "postgresql://u@h/db"\n')
    assert read_company(paths) == CompanyInfo()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('company = "Acme"\n', "must be a table"),
        ('[company]\nname = "Acme"\nadress = "1 Road"\n', "unknown keys adress"),
        ("[company]\nname = 42\n", "company.name"),
        ("[company]\naddress = [1, 2]\n", "company.address"),
        ("[company\n", "Cannot read the settings file"),
    ],
)
def test_a_wrong_company_table_is_explained(paths: AppPaths, content: str, message: str) -> None:
    write_settings(paths, content)
    with pytest.raises(ConfigurationError, match=message):
        read_company(paths)


def test_the_service_reads_the_settings_file_when_it_makes_a_document(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path))
    documents = DocumentService(make_session_factory(world.engine))
    order = world.draft([(world.product(), 1)])
    assert documents.order_confirmation(world.sales, order.id).header.company == CompanyInfo()
    (tmp_path / "settings.toml").write_text('[company]\nname = "Later Ltd"\n', encoding="utf-8")
    header = documents.order_confirmation(world.sales, order.id).header
    assert header.company == CompanyInfo("Later Ltd")
