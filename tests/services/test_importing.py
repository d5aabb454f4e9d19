"""ImportService: a file with bad rows changes nothing and names each bad line and why; a
file of good rows creates and updates what it should, in one transaction."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import PermissionDeniedError, ValidationError
from erpgo_desktop.imports import Sheet, guess_mapping, read_csv
from erpgo_desktop.services.importing import BATCH_ROWS, ImportResult, ImportService, LineError
from tests.services.test_orders_support import World, make_world, receive


@dataclass(frozen=True)
class Env:
    world: World
    imports: ImportService
    category: uuid.UUID  # "Tools" under "Hardware": /Hardware/Tools


@pytest.fixture
def env(engine: Engine) -> Iterator[Env]:
    world = make_world(engine)
    with engine.begin() as connection:
        hardware = connection.execute(
            text("INSERT INTO product_categories (name, path, level) "
                 "VALUES ('Hardware', '/Hardware', 1) RETURNING id")
        ).scalar_one()  # fmt: skip
        tools = connection.execute(
            text("INSERT INTO product_categories (name, parent_id, path, level) "
                 "VALUES ('Tools', :p, '/Hardware/Tools', 2) RETURNING id"),
            {"p": hardware},
        ).scalar_one()  # fmt: skip
        connection.execute(
            text("INSERT INTO products (sku, name, category_id, price, cost) "
                 "VALUES ('HAM-1', 'Hammer', :c, 12.50, 5.00)"),
            {"c": tools},
        )  # fmt: skip
        connection.execute(
            text("INSERT INTO customers (customer_code, first_name, last_name, email) "
                 "VALUES ('CUST-900001', 'Ada', 'Lovelace', 'ada@example.com')")
        )  # fmt: skip
    yield Env(world, ImportService(make_session_factory(engine)), tools)


def sheet(csv_text: str) -> Sheet:
    return read_csv(csv_text.encode())


def fingerprint(engine: Engine) -> str:
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in ("products", "customers", "product_inventory", "inventory_transactions"):
            rows = connection.execute(text(f"SELECT t::text FROM {table} t")).scalars().all()
            digest.update("\n".join(sorted(rows)).encode())
    return digest.hexdigest()


def import_products(
    env: Env, data: Sheet, *, update_existing: bool = False, dry_run: bool = False
) -> ImportResult:
    return env.imports.import_products(
        env.world.manager,
        data.rows,
        guess_mapping("products", data.headers),
        update_existing=update_existing,
        dry_run=dry_run,
    )


def scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar_one()


# --- products -----------------------------------------------------------------------------


BAD_PRODUCTS = """\
SKU;Name;Category;Price;Cost
NEW-1;Saw;Tools;20.00;8.00
NEW-2;Drill;Tools;0;1
NEW-3;Pliers;/Hardware/Nothing;5.00;1.00
NEW-1;Saw again;Tools;20.00;8.00
bad sku;Level;Tools;9.00;1.00
NEW-4;File;Tools;abc;1.00
HAM-1;Hammer;Tools;13.00;5.00
NEW-5;;Tools;4.00;
NEW-6;Rasp;Hardware/Tools;9.00;12.00
"""


@pytest.mark.parametrize("dry_run", [True, False])
def test_products_with_bad_rows_change_nothing_and_name_every_bad_line(
    env: Env, engine: Engine, dry_run: bool
) -> None:
    before = fingerprint(engine)
    result = import_products(env, sheet(BAD_PRODUCTS), dry_run=dry_run)
    assert fingerprint(engine) == before
    assert [(e.line, e.field) for e in result.errors] == [
        (3, "price"),
        (4, "category"),
        (5, "sku"),
        (6, "sku"),
        (7, "price"),
        (8, "sku"),
        (9, "name"),
        (10, "cost"),
    ]
    messages = {e.line: e.message for e in result.errors}
    assert messages[3] == "The price must be more than 0."
    assert messages[4] == "There is no category '/Hardware/Nothing'; create it first."
    assert messages[5] == "The SKU NEW-1 is also on line 2."
    assert "already used by the product 'Hammer'" in messages[8]
    assert messages[9] == "Name is required."
    assert messages[10] == "The cost (12.00) cannot be higher than the price (9.00)."
    assert str(result.errors[0]) == "Line 3, price: The price must be more than 0."
    assert not result.ok and not result.written


def test_good_products_are_created_and_updated(env: Env, engine: Engine) -> None:
    data = sheet(
        "sku,name,category,price,cost,weight,track inventory,barcode\n"
        "NEW-1,Saw,Tools,20.00,8.00,1.5,yes,4006381333931\n"
        "HAM-1,Hammer XL,/hardware/tools,14.00,,,,\n"
        "NEW-2,Digital manual,Hardware/Tools,3.50,0,0,no,\n"
    )
    dry = import_products(env, data, update_existing=True, dry_run=True)
    assert dry == ImportResult(2, 1, 0, (), dry_run=True)
    assert scalar(engine, "SELECT count(*) FROM products") == 1

    done = import_products(env, data, update_existing=True)
    assert done == ImportResult(2, 1, 0)
    assert done.written
    with engine.connect() as connection:
        rows = {
            r.sku: r
            for r in connection.execute(
                text("SELECT sku, name, category_id, price, cost, weight, track_inventory, "
                     "barcode, is_active, version, updated_by FROM products")
            )
        }  # fmt: skip
    assert rows["NEW-1"].price == Decimal("20.00") and rows["NEW-1"].weight == Decimal("1.500")
    assert rows["NEW-1"].category_id == env.category and rows["NEW-1"].barcode == "4006381333931"
    assert rows["NEW-1"].is_active and rows["NEW-1"].updated_by == env.world.manager.id
    assert rows["NEW-2"].track_inventory is False
    # Blank cells kept the hammer's cost; the version moved on, as a save in the dialog's.
    hammer = rows["HAM-1"]
    assert (hammer.name, hammer.price, hammer.cost) == (
        "Hammer XL",
        Decimal("14.00"),
        Decimal("5.00"),
    )
    assert hammer.version == 2

    again = import_products(env, data, update_existing=True)
    assert again == ImportResult(0, 0, 3)


def test_an_existing_sku_is_an_error_unless_updating(env: Env, engine: Engine) -> None:
    data = sheet("SKU,Name,Category,Price\nHAM-1,Hammer,Tools,13.00\n")
    refused = import_products(env, data)
    assert [(e.line, e.field) for e in refused.errors] == [(2, "sku")]
    assert "Update existing rows" in refused.errors[0].message
    assert import_products(env, data, update_existing=True) == ImportResult(0, 1, 0)


def test_a_refusal_at_write_time_rolls_back_the_whole_file(env: Env, engine: Engine) -> None:
    """Another workstation adds a SKU between the checks and the insert: the unique
    constraint refuses, nothing of the file stays, and the line is named."""
    data = sheet("SKU,Name,Category,Price\nNEW-1,Saw,Tools,20\nRACE-1,Plane,Tools,30\n")
    from erpgo_desktop.services import importing

    original = importing._plan_products

    def plan_then_race(*args: Any, **kwargs: Any) -> importing._Plan:
        plan = original(*args, **kwargs)
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO products (sku, name, category_id, price) "
                     "VALUES ('RACE-1', 'Theirs', :c, 1)"),
                {"c": env.category},
            )  # fmt: skip
        return plan

    importing._plan_products = plan_then_race
    try:
        result = import_products(env, data)
    finally:
        importing._plan_products = original
    assert result.errors == (LineError(3, "sku", "Another product already has this SKU."),)
    assert scalar(engine, "SELECT count(*) FROM products WHERE sku = 'NEW-1'") == 0


def test_a_refusal_while_the_next_batch_is_checked_rolls_back_the_whole_file(
    env: Env, engine: Engine
) -> None:
    """The first batch is written while the second is checked: another workstation takes
    one of its SKUs in between, and the refusal still names the line and leaves nothing."""
    rows = BATCH_ROWS + 5
    good = "".join(f"WAVE-{n};Wave {n};Tools;{1 + n % 50}.00;0.50\n" for n in range(rows))
    data = sheet("SKU;Name;Category;Price;Cost\n" + good)
    from erpgo_desktop.services import importing

    original = importing._plan_products
    calls: list[int] = []

    def plan_then_race(*args: Any, **kwargs: Any) -> Any:
        check = original(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            with engine.begin() as connection:
                connection.execute(
                    text("INSERT INTO products (sku, name, category_id, price) "
                         "VALUES ('WAVE-7', 'Theirs', :c, 1)"),
                    {"c": env.category},
                )  # fmt: skip
        return check

    importing._plan_products = plan_then_race
    try:
        result = import_products(env, data)
    finally:
        importing._plan_products = original
    assert len(calls) == 2
    assert result.errors == (LineError(9, "sku", "Another product already has this SKU."),)
    assert scalar(engine, "SELECT count(*) FROM products WHERE sku LIKE 'WAVE-%'") == 1


def test_an_import_is_in_the_change_history(env: Env, engine: Engine) -> None:
    data = sheet("SKU,Name,Category,Price\nHIST-1,Saw,Tools,20\nHIST-2,Plane,Tools,30\n")
    assert import_products(env, data) == ImportResult(2, 0, 0)
    people = sheet("First name,Last name,Email\nGrace,Hopper,grace@example.com\n")
    assert import_customers(env, people) == ImportResult(1, 0, 0)
    assert scalar(
        engine,
        "SELECT count(*) FROM change_log c JOIN products p ON p.id = c.record_id "
        "WHERE c.table_name = 'products' AND c.action = 'I' AND p.sku LIKE 'HIST-%'",
    ) == 2  # fmt: skip
    assert scalar(
        engine,
        "SELECT count(*) FROM change_log c JOIN customers k ON k.id = c.record_id "
        "WHERE c.table_name = 'customers' AND c.action = 'I' AND k.email = 'grace@example.com'",
    ) == 1  # fmt: skip


def test_tracking_is_turned_off_only_for_products_with_nothing_in_stock(
    env: Env, engine: Engine
) -> None:
    world = env.world
    stocked = world.product(stock={world.main: 3})
    empty = world.product(stock={})
    names = {
        p: scalar(engine, "SELECT sku FROM products WHERE id = :p", p=p) for p in (stocked, empty)
    }
    data = sheet(
        "SKU,Name,Category,Price,Track inventory\n"
        + "".join(f"{names[p]},,,,no\n" for p in (stocked, empty))
    )
    refused = import_products(env, data, update_existing=True)
    assert [(e.line, e.field) for e in refused.errors] == [(2, "track_inventory")]
    assert "3 on hand" in refused.errors[0].message
    data = sheet(f"SKU,Name,Category,Price,Track inventory\n{names[empty]},,,,no\n")
    assert import_products(env, data, update_existing=True) == ImportResult(0, 1, 0)


def test_the_mapping_needs_every_required_field(env: Env) -> None:
    data = sheet("SKU,Name,Price\nNEW-1,Saw,20\n")
    with pytest.raises(ValidationError, match="Category"):
        import_products(env, data)


def test_importing_products_needs_products_write(env: Env) -> None:
    data = sheet("SKU,Name,Category,Price\nNEW-1,Saw,Tools,20\n")
    with pytest.raises(PermissionDeniedError):
        env.imports.import_products(
            env.world.clerk,
            data.rows,
            guess_mapping("products", data.headers),
            update_existing=False,
            dry_run=True,
        )


# --- customers ----------------------------------------------------------------------------


def import_customers(
    env: Env, data: Sheet, *, update_existing: bool = False, dry_run: bool = False
) -> ImportResult:
    return env.imports.import_customers(
        env.world.sales,
        data.rows,
        guess_mapping("customers", data.headers),
        update_existing=update_existing,
        dry_run=dry_run,
    )


def test_customers_with_bad_rows_change_nothing(env: Env, engine: Engine) -> None:
    data = sheet(
        "First name,Last name,E-mail,Company,Type,Credit limit,Customer code\n"
        "Grace,Hopper,grace@example.com,,,,\n"
        "Alan,Turing,not-an-email,,,,\n"
        "Edsger,Dijkstra,GRACE@example.com,,,,\n"
        "Barbara,Liskov,barbara@example.com,,BUSINESS,,\n"
        "Ken,Thompson,ken@example.com,,,-5,\n"
        "Dennis,Ritchie,dennis@example.com,,,,CUST-123456\n"
        "Ada,Byron,ada@example.com,,,,\n"
    )
    before = fingerprint(engine)
    result = import_customers(env, data)
    assert fingerprint(engine) == before
    assert [(e.line, e.field) for e in result.errors] == [
        (3, "email"),
        (4, "email"),
        (5, "company"),
        (6, "credit_limit"),
        (7, "customer_code"),
        (8, "email"),
    ]
    assert result.errors[1].message == "The email address GRACE@example.com is also on line 2."
    assert result.errors[2].message == "A business customer needs a company name."


def test_good_customers_are_created_and_updated_by_email_or_code(env: Env, engine: Engine) -> None:
    data = sheet(
        "code,first name,last name,email,phone,credit limit,tax exempt\n"
        ",Grace,Hopper,grace@example.com,+1 703 555 0100,1000,no\n"
        ",Ada,King,ADA@example.com,,,\n"
    )
    assert import_customers(env, data, update_existing=True) == ImportResult(1, 1, 0)
    with engine.connect() as connection:
        rows = {
            r.email.lower(): r
            for r in connection.execute(
                text("SELECT customer_code, first_name, last_name, email, credit_limit, "
                     "version FROM customers")
            )
        }  # fmt: skip
    assert rows["grace@example.com"].customer_code.startswith("CUST-")
    assert rows["grace@example.com"].credit_limit == Decimal("1000.00")
    assert (rows["ada@example.com"].last_name, rows["ada@example.com"].version) == ("King", 2)
    by_code = sheet(
        "Customer code,First name,Last name,Email\nCUST-900001,Ada,Lovelace,ada@ex.org\n"
    )
    assert import_customers(env, by_code, update_existing=True) == ImportResult(0, 1, 0)
    assert scalar(engine, "SELECT email FROM customers WHERE customer_code = 'CUST-900001'") == (
        "ada@ex.org"
    )


def billing_addresses(engine: Engine) -> dict[str, tuple[str, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT c.email, a.first_name, a.last_name, a.address1, a.city, "
                 "a.postal_code, a.country, c.version FROM customer_addresses a "
                 "JOIN customers c ON c.id = a.customer_id WHERE a.type = 'billing'")
        ).all()  # fmt: skip
    return {row[0]: tuple(row[1:]) for row in rows}


def test_customers_bring_their_billing_address(env: Env, engine: Engine) -> None:
    header = "First name,Last name,Email,Street,City,Zip,Country\n"
    grace = "Grace,Hopper,grace@example.com,1 Navy Way,Arlington,22202,US\n"
    ada = "Ada,Lovelace,ada@example.com,12 Square,London,SW1Y 4LB,UK\n"
    alan = "Alan,Turing,alan@example.com,,Wilmslow,,UK\n"
    before = fingerprint(engine)
    refused = import_customers(env, sheet(header + grace + ada + alan), update_existing=True)
    assert [(e.line, e.field) for e in refused.errors] == [(4, "billing_address1")]
    assert "street" in refused.errors[0].message
    assert fingerprint(engine) == before and billing_addresses(engine) == {}

    assert import_customers(env, sheet(header + grace + ada), update_existing=True) == (
        ImportResult(1, 1, 0)
    )
    assert billing_addresses(engine) == {
        "grace@example.com": ("Grace", "Hopper", "1 Navy Way", "Arlington", "22202", "US", 1),
        "ada@example.com": ("Ada", "Lovelace", "12 Square", "London", "SW1Y 4LB", "UK", 2),
    }
    # A column of the address alone changes that much of it, and the customer's version.
    moved = sheet("First name,Last name,Email,City\nAda,Lovelace,ada@example.com,Oxford\n")
    assert import_customers(env, moved, update_existing=True) == ImportResult(0, 1, 0)
    assert billing_addresses(engine)["ada@example.com"] == (
        "Ada", "Lovelace", "12 Square", "Oxford", "SW1Y 4LB", "UK", 3
    )  # fmt: skip
    assert import_customers(env, moved, update_existing=True) == ImportResult(0, 0, 1)


# --- stock counts -------------------------------------------------------------------------


def import_counts(env: Env, data: Sheet, *, dry_run: bool = False) -> ImportResult:
    return env.imports.import_stock_counts(
        env.world.clerk, data.rows, guess_mapping("stock_counts", data.headers), dry_run=dry_run
    )


def ledger_rows(engine: Engine, product: uuid.UUID) -> list[tuple[str, int, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT transaction_type, quantity, reason FROM inventory_transactions "
                 "WHERE product_id = :p ORDER BY created_at, quantity"),
            {"p": product},
        ).all()  # fmt: skip
    return [(r[0], r[1], r[2]) for r in rows]


def test_stock_counts_set_on_hand_with_ledger_rows(env: Env, engine: Engine) -> None:
    world = env.world
    counted = world.product(stock={world.main: 10})
    untouched = world.product(stock={world.main: 4})
    sku = scalar(engine, "SELECT sku FROM products WHERE id = :p", p=counted)
    other = scalar(engine, "SELECT sku FROM products WHERE id = :p", p=untouched)
    data = sheet(
        f"SKU\tWarehouse\tQty\tNote\n{sku}\tmain\t7\tshelf B\n"
        f"{sku}\tEAST\t3\t\n{other}\tMAIN\t4\t\n"
    )
    assert import_counts(env, data, dry_run=True) == ImportResult(0, 2, 1, (), dry_run=True)
    assert ledger_rows(engine, counted) == [("IN", 10, "receipt")]

    assert import_counts(env, data) == ImportResult(0, 2, 1)
    assert world.stock(counted, world.main) == (7, 0)
    assert world.stock(counted, world.east) == (3, 0)
    assert sorted(ledger_rows(engine, counted)) == sorted(
        [("IN", 10, "receipt"), ("ADJUST", -3, "count: shelf B"), ("ADJUST", 3, "count")]
    )
    assert ledger_rows(engine, untouched) == [("IN", 4, "receipt")]


def test_stock_counts_with_bad_rows_change_nothing(env: Env, engine: Engine) -> None:
    world = env.world
    product = world.product(stock={world.main: 10})
    world.confirmed([(product, 6)])  # 6 reserved in MAIN
    untracked = world.product(track=False)
    sku, untracked_sku = (
        scalar(engine, "SELECT sku FROM products WHERE id = :p", p=p) for p in (product, untracked)
    )
    data = sheet(
        "sku,warehouse,counted\n"
        f"{sku},EAST,5\n"
        f"{sku},MAIN,2\n"
        f"{sku},NOWHERE,1\n"
        "NO-SUCH-SKU,MAIN,1\n"
        f"{untracked_sku},MAIN,1\n"
        f"{sku},MAIN,3\n"
        f"{sku},EAST,-1\n"
    )
    before = fingerprint(engine)
    result = import_counts(env, data)
    assert fingerprint(engine) == before
    assert [(e.line, e.field) for e in result.errors] == [
        (3, "counted"),
        (4, "warehouse"),
        (5, "sku"),
        (6, "sku"),
        (7, "sku"),
        (8, "counted"),
    ]
    assert "reserved for confirmed orders" in result.errors[0].message
    assert result.errors[1].message == "There is no warehouse NOWHERE."


def test_variant_skus_are_counted_as_the_variant(env: Env, engine: Engine) -> None:
    world = env.world
    product = world.product()
    with engine.begin() as connection:
        variant = connection.execute(
            text("INSERT INTO product_variants (product_id, sku, name, price) "
                 "VALUES (:p, 'VAR-RED', 'Red', 10) RETURNING id"),
            {"p": product},
        ).scalar_one()  # fmt: skip
    receive(engine, product, {world.main: 5}, variant)
    result = import_counts(env, sheet("SKU,Warehouse,Counted\nVAR-RED,MAIN,8\n"))
    assert result == ImportResult(0, 1, 0)
    on_hand = scalar(
        engine,
        "SELECT quantity_available FROM variant_inventory WHERE variant_id = :v AND "
        "warehouse_id = :w",
        v=variant,
        w=world.main,
    )
    assert on_hand == 8


# --- 10,000 rows --------------------------------------------------------------------------


def test_ten_thousand_rows(env: Env, engine: Engine) -> None:
    lines = ["SKU,Name,Category,Price,Cost"]
    lines += [
        f"BULK-{i:05d},Bulk item {i},Tools,{i % 90 + 10}.99,{i % 9}.50" for i in range(10_000)
    ]
    data = sheet("\n".join(lines) + "\n")
    started = time.perf_counter()
    dry = import_products(env, data, dry_run=True)
    checked = time.perf_counter()
    created = import_products(env, data)
    written = time.perf_counter()
    updated_data = sheet("\n".join(lines).replace("Bulk item", "Bulk thing") + "\n")
    updated = import_products(env, updated_data, update_existing=True)
    rewritten = time.perf_counter()
    assert dry == ImportResult(10_000, 0, 0, (), dry_run=True)
    assert created == ImportResult(10_000, 0, 0)
    assert updated == ImportResult(0, 10_000, 0)

    counts = sheet(
        "SKU,Warehouse,Counted\n" + "\n".join(f"BULK-{i:05d},MAIN,{i % 50}" for i in range(10_000))
    )
    counted_start = time.perf_counter()
    stock = import_counts(env, counts)
    counted_end = time.perf_counter()
    assert stock == ImportResult(0, 9_800, 200)
    print(
        f"\n10,000 products: dry run {checked - started:.2f} s, create {written - checked:.2f} s, "
        f"update {rewritten - written:.2f} s; "
        f"10,000 stock counts {counted_end - counted_start:.2f} s"
    )


# --- many rows ----------------------------------------------------------------------------


def test_a_bad_row_after_batches_were_written_still_leaves_nothing(
    env: Env, engine: Engine
) -> None:
    """Batches are written while no row is bad; a bad one later rolls them all back."""
    rows = BATCH_ROWS * 2 + 10
    good = "".join(f"BULK-{n};Bulk {n};Tools;{1 + n % 50}.00;0.50\n" for n in range(rows))
    data = sheet("SKU;Name;Category;Price;Cost\n" + good + "BULK-7;Again;Tools;1.00;0.50\n")
    before = fingerprint(engine)
    progress: list[tuple[str, int, int]] = []
    result = env.imports.import_products(
        env.world.manager,
        data.rows,
        guess_mapping("products", data.headers),
        update_existing=False,
        dry_run=False,
        progress=lambda message, done, total: progress.append((message, done, total)),
    )
    assert [str(error) for error in result.errors] == [
        f"Line {rows + 2}, sku: The SKU BULK-7 is also on line 9."
    ]
    assert fingerprint(engine) == before
    # Progress by batch, against the file's length, from the first batch on.
    assert progress[0] == ("Importing rows", BATCH_ROWS, rows + 1)
    assert progress[-1] == ("Checking rows", rows + 1, rows + 1)


def test_a_file_of_many_rows_imports_whole_with_customer_codes_in_order(
    env: Env, engine: Engine
) -> None:
    count = BATCH_ROWS + 5
    data = sheet(
        "First name;Last name;Email\n"
        + "".join(f"F{n};L{n};bulk{n}@example.com\n" for n in range(count))
    )
    result = env.imports.import_customers(
        env.world.manager,
        data.rows,
        guess_mapping("customers", data.headers),
        update_existing=False,
        dry_run=False,
    )
    assert result.ok and result.created == count
    with engine.connect() as connection:
        codes = connection.execute(
            text("SELECT customer_code FROM customers WHERE email LIKE 'bulk%' "
                 "ORDER BY substring(email FROM '[0-9]+')::int")
        ).scalars().all()  # fmt: skip
    assert len(set(codes)) == count
    assert codes == sorted(codes)  # issued in the file's order, one block per batch
