"""Realistic, reproducible demo data, loaded fast into an empty, migrated database.

`generate_demo_data` writes a category tree, warehouses, products with stock in some
warehouses, customers, and orders with addresses and lines, plus the stock ledger that
explains every on-hand quantity. Same seed, size and day, same rows: every random choice
comes from a `random.Random` seeded per table, ids are a per-table seeded prefix plus a
counter, and all dates hang off `demo_now(today)`: the newest orders are from the day it
runs (or the `today` it is given), so the dashboard's recent ranges have something to show.

Speed comes from PostgreSQL's COPY, fed text rows built with plain string formatting on
the main thread while a second thread streams them to the server, so Python and the
server work at the same time. Secondary indexes and foreign keys of the loaded tables are
dropped first and recreated afterwards from their captured definitions, so the schema
ends up exactly as it was. Everything happens in one transaction: an error, or an
exception raised by the progress callback (a way to cancel), leaves nothing behind.

Money is kept as integer cents while generating: exact like Decimal, and several times
faster over millions of rows. Rounding is half-up, as business-rules.md says. Only final
states that need no open stock reservation are generated (see docs/demo-data.md).
"""

from __future__ import annotations

import math
import queue
import random
import threading
import time
import uuid
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import psycopg
import sqlalchemy
from psycopg import sql

from erpgo_desktop.db.engine import connect_psycopg, libpq_conninfo
from erpgo_desktop.domain.orders import (
    APPROVAL_ABOVE_CENTS,
    FREE_STANDARD_FROM_CENTS,
    SHIPPING_CENTS,
)
from erpgo_desktop.errors import ConflictError, ValidationError

__all__ = [
    "DemoDataSize",
    "DemoDataSummary",
    "ProgressCallback",
    "demo_now",
    "generate_demo_data",
]

ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoDataSize:
    products: int = 2000
    customers: int = 500
    orders: int = 3000
    warehouses: int = 3


@dataclass(frozen=True)
class DemoDataSummary:
    """Row counts actually written, per table name, and the seconds it took."""

    rows: dict[str, int]
    seconds: float


#: The demo's "now" is noon UTC of its day: the newest order is dated that day in every
#: time zone from UTC-11 to UTC+12, and the same seed gives the same rows all day long.
DEMO_HOUR_UTC = 12
#: Orders per day grow steadily, the last day's rate this many times the first's: a shop
#: that grows, and recent ranges (the dashboard's last 30 days) well filled.
_GROWTH = 2.0


def demo_now(today: date) -> datetime:
    """The moment the demo data of `today` is "now": no event is dated after it."""
    return datetime.combine(today, clock_time(DEMO_HOUR_UTC), UTC)


#: Tables this module fills; all must be empty. Users are not among them: a demo login
#: may exist already, and the system user (if needed) is one plain INSERT.
LOADED_TABLES = (
    "product_categories",
    "warehouses",
    "products",
    "customers",
    "customer_addresses",
    "order_addresses",
    "orders",
    "order_items",
    "product_inventory",
    "inventory_transactions",
)
#: Must be empty too, though nothing is written to them: they hang off loaded tables.
CHECKED_EMPTY_TABLES = (*LOADED_TABLES, "product_variants")


_ORDERS_PER_CHUNK = 5_000
_FREEZE = True  # COPY ... WITH (FREEZE); see the TRUNCATE in generate_demo_data
_ROWS_PER_CHUNK = 20_000
_MAX_ORDERS_PER_YEAR = 900_000  # keeps the six-digit yearly counter clear of 999,999
_DAY = 86_400
_HOUR = 3_600

# ---------------------------------------------------------------------------------------
# Vocabulary. Nothing here may contain a tab, newline or backslash: rows are COPY text.
# ---------------------------------------------------------------------------------------

# (department, code, [(subcategory, lowest price cents, highest, lightest g, heaviest g,
#   ["Leaf|noun", ...])]); a department whose code is DIG sells downloads only.
_TAXONOMY: tuple[tuple[str, str, tuple[tuple[str, int, int, int, int, tuple[str, ...]], ...]], ...]
_TAXONOMY = (
    ("Electronics", "ELE", (
        ("Phones", 1_999, 149_999, 120, 400,
         ("Smartphones|Smartphone", "Feature Phones|Phone", "Phone Cases|Phone Case")),
        ("Computers", 2_999, 299_999, 300, 9_000,
         ("Laptops|Laptop", "Monitors|Monitor", "Keyboards|Keyboard", "Mice|Mouse")),
        ("Audio", 1_499, 79_999, 100, 6_000,
         ("Headphones|Headphones", "Speakers|Speaker", "Microphones|Microphone")),
        ("Cameras", 4_999, 349_999, 200, 2_500,
         ("Digital Cameras|Camera", "Lenses|Lens", "Tripods|Tripod")),
    )),
    ("Home & Kitchen", "HOM", (
        ("Cookware", 999, 39_999, 300, 5_000,
         ("Frying Pans|Frying Pan", "Saucepans|Saucepan", "Baking Trays|Baking Tray")),
        ("Appliances", 2_499, 129_999, 1_000, 25_000,
         ("Blenders|Blender", "Coffee Makers|Coffee Maker", "Toasters|Toaster")),
        ("Furniture", 4_999, 249_999, 3_000, 60_000,
         ("Chairs|Chair", "Desks|Desk", "Bookcases|Bookcase")),
    )),
    ("Office Supplies", "OFF", (
        ("Paper", 299, 4_999, 100, 12_000,
         ("Copy Paper|Copy Paper", "Notebooks|Notebook", "Envelopes|Envelope Pack")),
        ("Writing", 149, 9_999, 10, 500,
         ("Pens|Pen Set", "Pencils|Pencil Set", "Markers|Marker Set")),
        ("Organization", 499, 19_999, 100, 8_000,
         ("Binders|Binder", "Folders|Folder Set", "Desk Organizers|Desk Organizer")),
    )),
    ("Sports & Outdoors", "SPO", (
        ("Fitness", 999, 199_999, 200, 40_000,
         ("Dumbbells|Dumbbell Pair", "Yoga Mats|Yoga Mat", "Treadmills|Treadmill")),
        ("Camping", 1_499, 69_999, 300, 15_000,
         ("Tents|Tent", "Sleeping Bags|Sleeping Bag", "Lanterns|Lantern")),
        ("Cycling", 1_999, 299_999, 150, 18_000,
         ("Bicycles|Bicycle", "Helmets|Helmet", "Bike Lights|Bike Light")),
    )),
    ("Tools & Hardware", "TOO", (
        ("Power Tools", 3_999, 79_999, 800, 8_000,
         ("Drills|Drill", "Saws|Saw", "Sanders|Sander")),
        ("Hand Tools", 499, 14_999, 50, 3_000,
         ("Hammers|Hammer", "Screwdrivers|Screwdriver Set", "Wrenches|Wrench Set")),
        ("Fasteners", 199, 4_999, 20, 2_000,
         ("Screws|Screw Box", "Anchors|Anchor Pack", "Bolts|Bolt Kit")),
    )),
    ("Clothing", "CLO", (
        ("Outerwear", 2_999, 49_999, 400, 2_500,
         ("Jackets|Jacket", "Raincoats|Raincoat", "Vests|Vest")),
        ("Footwear", 1_999, 29_999, 300, 1_800,
         ("Running Shoes|Running Shoe", "Boots|Boot", "Sandals|Sandal")),
        ("Basics", 599, 5_999, 80, 600,
         ("T-Shirts|T-Shirt", "Socks|Sock Pack", "Hoodies|Hoodie")),
    )),
    ("Health & Beauty", "HEA", (
        ("Personal Care", 299, 14_999, 50, 1_500,
         ("Shampoo|Shampoo", "Toothbrushes|Toothbrush", "Shavers|Shaver")),
        ("Vitamins", 599, 4_999, 50, 600,
         ("Multivitamins|Multivitamin", "Fish Oil|Fish Oil", "Protein Powder|Protein Powder")),
    )),
    ("Software & Media", "DIG", (
        ("E-books", 299, 4_999, 0, 0,
         ("Fiction|E-book", "Business|E-book", "Technical|E-book")),
        ("Software", 999, 99_999, 0, 0,
         ("Office Software|Software License", "Security Software|Security Suite",
          "Design Software|Design Suite")),
        ("Online Courses", 1_999, 49_999, 0, 0,
         ("Programming Courses|Course", "Language Courses|Course")),
    )),
)  # fmt: skip

_BRANDS = (
    "Acme", "Northwind", "Contoso", "Fabrikam", "Globex", "Initech", "Umbrella", "Stark",
    "Wayne", "Tyrell", "Cyberdyne", "Soylent", "Vandelay", "Wonka", "Hooli", "Aperture",
    "Oceanic", "Zenith", "Apex", "Summit", "Pioneer", "Vertex", "Nimbus", "Orion",
    "Polaris", "Quantum", "Redwood", "Sterling", "Titan", "Vector", "Willow", "Yukon",
)  # fmt: skip
_SERIES = ("Pro", "Max", "Lite", "Plus", "Air", "Ultra", "One", "Go", "Prime", "Neo", "")
_FEATURES = (
    "Built to last with a two-year warranty.",
    "Our best seller in its class.",
    "Designed for everyday use at home or at work.",
    "Lightweight and easy to carry.",
    "Tested to the strictest quality standards.",
    "Energy efficient and quiet.",
    "Comes with everything needed to get started.",
    "Made from recycled materials.",
    "Award-winning design.",
    "Trusted by professionals.",
    "Easy to clean and maintain.",
    "Backed by responsive customer support.",
)
_FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
    "Thomas", "Sarah", "Charles", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony",
    "Betty", "Mark", "Sandra", "Steven", "Ashley", "Paul", "Emily", "Andrew", "Donna",
    "Joshua", "Michelle", "Kevin", "Carol", "Brian", "Amanda", "George", "Melissa",
    "Timothy", "Deborah", "Ronald", "Stephanie", "Jason", "Rebecca", "Ryan", "Laura",
    "Jacob", "Sharon", "Gary", "Cynthia", "Nicholas", "Kathleen", "Eric", "Amy",
    "Jonathan", "Angela", "Akira", "Sofia", "Mateo", "Aisha", "Lukas", "Ingrid", "Ravi",
    "Chloe", "Omar", "Elena",
)  # fmt: skip
_LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
    "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter",
    "Roberts", "Tanaka", "Schmidt", "Kowalski", "Novak", "Larsen", "Patel", "Rossi",
    "Dubois", "Silva", "Murphy",
)  # fmt: skip
_COMPANY_WORDS = (
    "Blue", "River", "Summit", "Oak", "Granite", "Harbor", "Pine", "Silver", "Eagle",
    "Maple", "North", "Coastal", "Prairie", "Cedar", "Lakeside", "Golden", "Iron", "Union",
)  # fmt: skip
_COMPANY_KINDS = (
    "Trading", "Supplies", "Logistics", "Retail", "Industries", "Partners", "Foods",
    "Builders", "Consulting", "Outfitters",
)  # fmt: skip
_COMPANY_SUFFIXES = ("Inc", "LLC", "Ltd", "Co", "Group", "Corp")
_STREETS = (
    "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Park Rd", "Elm St", "Pine St",
    "Washington Blvd", "Lake View Dr", "Hillside Ave", "Sunset Blvd", "River Rd",
    "Church St", "Market St", "Highland Ave", "Broadway", "Mill Rd", "Forest Dr",
    "Spring St", "Center St",
)  # fmt: skip
# (city, state, US ZIP base or a foreign postal code, country, phone prefix)
_CITIES: tuple[tuple[str, str, int | str, str, str], ...] = (
    ("New York", "NY", 10001, "USA", "+1 (212) 555-"),
    ("Los Angeles", "CA", 90001, "USA", "+1 (213) 555-"),
    ("Chicago", "IL", 60601, "USA", "+1 (312) 555-"),
    ("Houston", "TX", 77001, "USA", "+1 (713) 555-"),
    ("Phoenix", "AZ", 85001, "USA", "+1 (602) 555-"),
    ("Philadelphia", "PA", 19101, "USA", "+1 (215) 555-"),
    ("San Antonio", "TX", 78201, "USA", "+1 (210) 555-"),
    ("San Diego", "CA", 92101, "USA", "+1 (619) 555-"),
    ("Dallas", "TX", 75201, "USA", "+1 (214) 555-"),
    ("Austin", "TX", 73301, "USA", "+1 (512) 555-"),
    ("Seattle", "WA", 98101, "USA", "+1 (206) 555-"),
    ("Denver", "CO", 80201, "USA", "+1 (303) 555-"),
    ("Boston", "MA", 2101, "USA", "+1 (617) 555-"),
    ("Atlanta", "GA", 30301, "USA", "+1 (404) 555-"),
    ("Miami", "FL", 33101, "USA", "+1 (305) 555-"),
    ("Portland", "OR", 97201, "USA", "+1 (503) 555-"),
    ("Minneapolis", "MN", 55401, "USA", "+1 (612) 555-"),
    ("Nashville", "TN", 37201, "USA", "+1 (615) 555-"),
    ("Toronto", "ON", "M5V 2T6", "Canada", "+1 (416) 555-"),
    ("London", "England", "SW1A 1AA", "United Kingdom", "+44 20 7946 "),
    ("Berlin", "Berlin", "10115", "Germany", "+49 30 5557 "),
    ("Paris", "Ile-de-France", "75001", "France", "+33 1 5555 "),
    ("Amsterdam", "North Holland", "1012 AB", "Netherlands", "+31 20 555 "),
    ("Sydney", "NSW", "2000", "Australia", "+61 2 5550 "),
)
_US_CITIES = sum(1 for city in _CITIES if city[3] == "USA")
_WAREHOUSE_KINDS = (
    "Central Distribution Center", "Fulfillment Center", "Regional Depot", "Cross-Dock Hub",
    "Returns Center", "Overflow Storage",
)  # fmt: skip
_CUSTOMER_NOTES = (
    "Please leave the parcel at the back door.",
    "Call before delivery.",
    "Gift - please do not include the invoice.",
    "Deliver to reception.",
    "Weekday delivery only.",
)
_INTERNAL_NOTES = (
    "Customer asked for a single shipment.",
    "Checked stock with the warehouse by phone.",
    "Repeat customer - priority handling.",
    "Price matched against a competitor.",
)
_CARRIERS = ("UPS", "FedEx", "USPS")
_TAX_RATES_CENTI = (500, 600, 725, 825, 1000)  # percent x 100: DECIMAL(5,2) exactly
# Shipping methods a customer at home may choose, in proportion; abroad it is INTERNATIONAL.
_DOMESTIC_METHODS = ("STANDARD",) * 12 + ("EXPRESS",) * 3 + ("OVERNIGHT",) + ("PICKUP",) * 4


def _table(weights: Iterable[tuple[str, int]]) -> tuple[str, ...]:
    """A lookup table of 100 entries: picking one at random draws by the given percentages."""
    table = tuple(value for value, percent in weights for _ in range(percent))
    assert len(table) == 100, table
    return table


# Newest orders are mostly still open; older ones have run their course.
_STATUS_OPEN = _table([("DRAFT", 25), ("PENDING", 55), ("SHIPPED", 12), ("CANCELLED", 8)])
_STATUS_RECENT = _table(
    [("PENDING", 3), ("SHIPPED", 35), ("DELIVERED", 52), ("CANCELLED", 6), ("RETURNED", 2),
     ("REFUNDED", 2)]
)  # fmt: skip
_STATUS_OLD = _table(
    [("DELIVERED", 87), ("CANCELLED", 6), ("RETURNED", 2), ("REFUNDED", 3), ("DRAFT", 2)]
)
_PRIORITY = _table([("NORMAL", 80), ("LOW", 5), ("HIGH", 10), ("URGENT", 4), ("CRITICAL", 1)])
_LINE_COUNTS = (1,) * 30 + (2,) * 25 + (3,) * 20 + (4,) * 15 + (5,) * 10
_SHIPPED_STATES = frozenset(("SHIPPED", "DELIVERED", "RETURNED", "REFUNDED"))
_LINE_STATUS = {
    "DRAFT": "PENDING",
    "PENDING": "PENDING",
    "SHIPPED": "SHIPPED",
    "DELIVERED": "DELIVERED",
    "CANCELLED": "CANCELLED",
    "RETURNED": "RETURNED",
    "REFUNDED": "RETURNED",
}
_NULL = "\\N"

# Kinds of product, kept per product in a bytearray.
_PHYSICAL, _DIGITAL = 0, 1


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _ean13(body: int) -> str:
    digits = f"{body:012d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return f"{digits}{(10 - total % 10) % 10}"


class _Ids:
    """Deterministic UUIDs: a seeded random prefix per table, then a 48-bit counter.

    The result is a valid version-4, RFC 4122 variant UUID, and ids of one table come out
    in ascending order, which keeps primary key inserts at the right edge of the btree.
    """

    def __init__(self, seed: int, table: str) -> None:
        rng = random.Random(f"{seed}:{table}:ids")
        self.prefix = (
            f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-"
            f"{8 + rng.getrandbits(2):x}{rng.getrandbits(12):03x}-"
        )

    def __call__(self, counter: int) -> str:
        return f"{self.prefix}{counter:012x}"


# ---------------------------------------------------------------------------------------
# Streaming COPY on a second thread
# ---------------------------------------------------------------------------------------


class _CopyStream:
    """Runs COPY statements on a worker thread, so building the next chunk of rows in
    Python overlaps with the server storing the last one (the machine has two cores)."""

    _STOP = None

    def __init__(self, conn: psycopg.Connection[Any], freeze: bool) -> None:
        self._conn = conn
        self._freeze = freeze
        self._queue: queue.Queue[tuple[str, tuple[str, ...], list[str]] | None] = queue.Queue(
            maxsize=3
        )
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="demo-data-copy", daemon=True)
        self._thread.start()

    def send(self, table: str, columns: tuple[str, ...], rows: list[str]) -> None:
        if self._error is not None:
            self.close()
        if rows:
            self._queue.put((table, columns, rows))

    def close(self) -> None:
        """Wait until everything sent is stored; raise what the worker met, if anything."""
        if self._thread.is_alive():
            self._queue.put(self._STOP)
            self._thread.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        with self._conn.cursor() as cursor:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                if self._error is not None:
                    continue  # drain, so a blocked sender can go on to close()
                table, columns, rows = item
                statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
                    sql.Identifier(table),
                    sql.SQL(", ").join(map(sql.Identifier, columns)),
                    sql.SQL(" WITH (FREEZE)" if self._freeze else ""),
                )
                try:
                    with cursor.copy(statement) as copy:
                        copy.write("".join(rows))
                except BaseException as exc:  # handed to the main thread by close()
                    self._error = exc


# ---------------------------------------------------------------------------------------
# Schema capture: what is dropped for the load and recreated after it
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SchemaObject:
    kind: str  # "index", "constraint" (unique/exclusion, owns an index) or "foreign key"
    table: str  # as regclass prints it: quoted when needed
    name: str
    definition: str


def _capture_schema(cursor: psycopg.Cursor[Any]) -> list[_SchemaObject]:
    """Secondary indexes and unique constraints of the loaded tables, and every foreign
    key that starts or ends at one of them (later revisions' tables included)."""
    tables = list(LOADED_TABLES)
    found: list[_SchemaObject] = []
    cursor.execute(
        """
        SELECT c.oid::regclass::text, i.indexrelid::regclass::text, con.conname,
               pg_get_indexdef(i.indexrelid), pg_get_constraintdef(con.oid)
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indrelid
        LEFT JOIN pg_constraint con
          ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
         AND con.contype IN ('u', 'x')
        WHERE c.oid = ANY(%s::regclass[]) AND NOT i.indisprimary
        ORDER BY 1, 2
        """,
        (tables,),
    )
    for table, index, constraint, indexdef, constraintdef in cursor.fetchall():
        if constraint is not None:
            found.append(_SchemaObject("constraint", table, constraint, constraintdef))
        else:
            found.append(_SchemaObject("index", table, index, indexdef))
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE contype = 'f' AND (conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[]))
        ORDER BY 1, 2
        """,
        (tables, tables),
    )
    for table, name, definition in cursor.fetchall():
        found.append(_SchemaObject("foreign key", table, name, definition))
    return found


def _drop(cursor: psycopg.Cursor[Any], objects: list[_SchemaObject]) -> None:
    # Foreign keys first: they depend on the unique indexes they point at.
    for obj in sorted(objects, key=lambda o: o.kind != "foreign key"):
        if obj.kind == "index":
            cursor.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(obj.name)))
        else:
            cursor.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.SQL(obj.table), sql.Identifier(obj.name)
                )
            )


def _recreate(
    cursor: psycopg.Cursor[Any],
    objects: list[_SchemaObject],
    progress: ProgressCallback,
) -> None:
    indexes = [o for o in objects if o.kind != "foreign key"]
    keys = [o for o in objects if o.kind == "foreign key"]
    for done, obj in enumerate(indexes):
        progress("Rebuilding indexes", done, len(indexes))
        if obj.kind == "index":
            cursor.execute(sql.SQL(obj.definition))  # text from pg_get_indexdef
        else:
            cursor.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    sql.SQL(obj.table), sql.Identifier(obj.name), sql.SQL(obj.definition)
                )
            )
    progress("Rebuilding indexes", len(indexes), len(indexes))
    for done, obj in enumerate(keys):
        progress("Checking foreign keys", done, len(keys))
        cursor.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.SQL(obj.table), sql.Identifier(obj.name), sql.SQL(obj.definition)
            )
        )
    progress("Checking foreign keys", len(keys), len(keys))


# ---------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------

_CATEGORY_COLUMNS = (
    "id", "name", "description", "parent_id", "path", "level", "sort_order", "is_active",
    "created_at", "updated_at",
)  # fmt: skip
_WAREHOUSE_COLUMNS = (
    "id", "code", "name", "address", "city", "state", "country", "postal_code", "phone",
    "email", "manager_id", "is_active", "created_at", "updated_at",
)  # fmt: skip
_PRODUCT_COLUMNS = (
    "id", "sku", "name", "description", "short_description", "category_id", "price", "cost",
    "weight", "dimensions", "length", "width", "height", "volume", "barcode",
    "track_inventory", "stock_quantity", "min_stock_level", "max_stock_level",
    "allow_backorder", "requires_shipping", "taxable", "tax_rate", "is_active", "is_featured",
    "is_digital", "download_url", "max_downloads", "expiry_days", "created_at", "updated_at",
)  # fmt: skip
_CUSTOMER_COLUMNS = (
    "id", "user_id", "customer_code", "first_name", "last_name", "company", "email", "phone",
    "type", "status", "credit_limit", "balance", "tax_exempt", "notes", "created_at",
    "updated_at",
)  # fmt: skip
_ADDRESS_COLUMNS = (
    "id", "type", "first_name", "last_name", "company", "address1", "address2", "city",
    "state", "postal_code", "country", "phone", "email", "created_at", "updated_at",
)  # fmt: skip
_CUSTOMER_ADDRESS_COLUMNS = ("id", "customer_id", *_ADDRESS_COLUMNS[1:])
_ORDER_COLUMNS = (
    "id", "order_number", "customer_id", "status", "previous_status", "priority", "type",
    "payment_status", "shipping_method", "subtotal", "tax_amount", "shipping_amount",
    "discount_amount", "total_amount", "paid_amount", "refunded_amount", "currency",
    "order_date", "required_date", "shipping_date", "delivery_date", "cancelled_date",
    "shipping_address_id", "billing_address_id", "notes", "internal_notes", "customer_notes",
    "tracking_number", "carrier", "created_by", "approved_by", "shipped_by", "created_at",
    "updated_at", "approved_at", "shipped_at",
)  # fmt: skip
_ITEM_COLUMNS = (
    "id", "order_id", "product_id", "quantity", "unit_price", "tax_amount", "discount_amount",
    "weight", "status", "shipped_quantity", "returned_quantity", "created_at", "updated_at",
)  # fmt: skip
_INVENTORY_COLUMNS = (
    "id", "product_id", "warehouse_id", "quantity_available", "quantity_reserved",
    "reorder_level", "max_stock", "last_updated_at", "updated_by",
)  # fmt: skip
_LEDGER_COLUMNS = (
    "id", "product_id", "warehouse_id", "transaction_type", "quantity", "reference_id",
    "reason", "created_at", "created_by",
)  # fmt: skip


class _Generator:
    """Builds the rows. Plans what orders need (prices, stock locations, customers) into
    compact arrays first, streams orders, then writes the rows whose figures depend on
    the orders: customers (balance), products (stock) and stock with its ledger."""

    def __init__(
        self,
        size: DemoDataSize,
        seed: int,
        user_id: str,
        stream: _CopyStream,
        progress: ProgressCallback,
        today: date,
    ) -> None:
        self.size = size
        self.seed = seed
        self.user = user_id
        self.stream = stream
        self.progress = progress
        self.rows: dict[str, int] = dict.fromkeys(LOADED_TABLES, 0)

        # The timeline: orders spread over at least three years up to demo_now(today), more
        # when there are so many that a year's six-digit counter would overflow (the
        # busiest days, the last, see 2 / (1 + 1 / _GROWTH) times the average).
        busiest = 2 / (1 + 1 / _GROWTH)
        per_year = size.orders * busiest * 365 / _MAX_ORDERS_PER_YEAR
        span_days = max(3 * 365, math.ceil(per_year))
        now_day = today
        # Day 0 lies before anything dated (categories: a month before the catalogue).
        self.first_day = now_day - timedelta(days=span_days + 2 * 365 + 60)
        self.today_start = (now_day - self.first_day).days * _DAY  # seconds since first_day
        self.now = self.today_start + DEMO_HOUR_UTC * _HOUR
        self.start = self.now - span_days * _DAY  # first order
        self.catalog_start = self.start - 2 * 365 * _DAY  # first product and customer
        last_day = now_day + timedelta(days=60)
        days = (last_day - self.first_day).days
        day_dates = [self.first_day + timedelta(days=d) for d in range(days)]
        self.day_text = [d.isoformat() for d in day_dates]
        self.day_year = [d.year for d in day_dates]

        self.category_ids = _Ids(seed, "product_categories")
        self.warehouse_ids = _Ids(seed, "warehouses")
        self.product_ids = _Ids(seed, "products")
        self.customer_ids = _Ids(seed, "customers")
        self.customer_address_ids = _Ids(seed, "customer_addresses")
        self.address_ids = _Ids(seed, "order_addresses")
        self.order_ids = _Ids(seed, "orders")
        self.item_ids = _Ids(seed, "order_items")
        self.inventory_ids = _Ids(seed, "product_inventory")
        self.ledger_ids = _Ids(seed, "inventory_transactions")
        self.ledger_count = 0

    def ts(self, seconds: int) -> str:
        day, rest = divmod(seconds, _DAY)
        return f"{self.day_text[day]} {rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}+00"

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{name}")

    def send(self, table: str, columns: tuple[str, ...], rows: list[str]) -> None:
        self.stream.send(table, columns, rows)
        self.rows[table] += len(rows)

    # -- categories and warehouses ------------------------------------------------------

    def write_categories(self) -> None:
        """A three-level tree; products hang off the leaves only.

        `path` is the materialized path of names from the root ('/Electronics/Phones/
        Smartphones'), `level` the depth counted from 1 at the root.
        """
        self.progress("Categories and warehouses", 0, 0)
        created = self.ts(self.catalog_start - 30 * _DAY)
        rows: list[str] = []
        # (leaf category index, department index, subcategory spec, noun, is digital)
        self.leaves: list[tuple[int, int, tuple[str, int, int, int, int], str, bool]] = []
        self.leaf_codes: list[str] = []
        counter = 0

        def add(name: str, parent: str, path: str, level: int, order: int) -> str:
            nonlocal counter
            ident = self.category_ids(counter)
            counter += 1
            rows.append(
                f"{ident}\t{name}\t{name} ({'department' if level == 1 else 'category'})\t"
                f"{parent}\t{path}\t{level}\t{order}\tt\t{created}\t{created}\n"
            )
            return ident

        for d, (department, code, subcategories) in enumerate(_TAXONOMY):
            top = add(department, _NULL, f"/{department}", 1, d)
            for s, (sub, lo, hi, light, heavy, leaves) in enumerate(subcategories):
                sub_path = f"/{department}/{sub}"
                middle = add(sub, top, sub_path, 2, s)
                for leaf_order, leaf in enumerate(leaves):
                    name, noun = leaf.split("|")
                    leaf_index = counter
                    add(name, middle, f"{sub_path}/{name}", 3, leaf_order)
                    self.leaves.append(
                        (leaf_index, d, (sub, lo, hi, light, heavy), noun, code == "DIG")
                    )
                    letters = "".join(ch for ch in name.upper() if ch.isalpha())
                    self.leaf_codes.append(f"{code}-{letters[:3]}")
        self.send("product_categories", _CATEGORY_COLUMNS, rows)

    def write_warehouses(self) -> None:
        rng = self.rng("warehouses")
        created = self.ts(self.catalog_start - 30 * _DAY)
        rows = []
        for w in range(self.size.warehouses):
            city, state, postal, country, phone = _CITIES[(w * 7) % _US_CITIES]
            kind = _WAREHOUSE_KINDS[w % len(_WAREHOUSE_KINDS)]
            code = f"WH-{w + 1:03d}"
            street = (
                f"{100 + int(rng.random() * 9000)} {_STREETS[int(rng.random() * len(_STREETS))]}"
            )
            rows.append(
                f"{self.warehouse_ids(w)}\t{code}\t{city} {kind}\t{street}\t{city}\t{state}\t"
                f"{country}\t{postal:05d}\t{phone}{int(rng.random() * 10000):04d}\t"
                f"{code.lower()}@warehouse.example.com\t{_NULL}\tt\t{created}\t{created}\n"
            )
        self.send("warehouses", _WAREHOUSE_COLUMNS, rows)

    # -- planning: what orders need to know -------------------------------------------

    def plan_products(self) -> None:
        n = self.size.products
        warehouses = self.size.warehouses
        rng = self.rng("products:plan")
        r = rng.random
        self.product_leaf = array("H", bytes(2 * n))
        self.product_price = array("q", bytes(8 * n))
        self.product_tax = array("H", bytes(2 * n))  # percent x 100, 0 when not taxable
        self.product_grams = array("l", bytes(8 * n))
        self.product_kind = bytearray(n)
        self.product_active = bytearray(n)
        self.product_min = array("l", bytes(8 * n))
        self.product_max = array("l", bytes(8 * n))
        # Stock rows: product p has inventory rows inv_first[p] .. +inv_count[p]-1, in one
        # flat set of arrays (a dict of millions of tuples would take gigabytes).
        self.inv_first = array("q", bytes(8 * n))
        self.inv_count = bytearray(n)
        self.inv_warehouse = array("H")
        self.inv_product = array("q")
        physical: list[int] = []
        digital: list[int] = []
        leaves = self.leaves
        leaf_count = len(leaves)
        for p in range(n):
            leaf = int(r() * leaf_count)
            _, _, (_, lo, hi, light, heavy), _, is_digital = leaves[leaf]
            self.product_leaf[p] = leaf
            # Log-uniform between the subcategory's bounds, ending in .99 like shop prices.
            cents = int(math.exp(math.log(lo) + r() * (math.log(hi) - math.log(lo))))
            self.product_price[p] = cents // 100 * 100 + 99
            self.product_tax[p] = _TAX_RATES_CENTI[int(r() * 5)] if r() < 0.9 else 0
            self.product_active[p] = r() < 0.98
            if is_digital:
                self.product_kind[p] = _DIGITAL
                digital.append(p)
                continue
            self.product_grams[p] = light + int(r() * (heavy - light))
            low = int(r() * 50)
            self.product_min[p] = low
            self.product_max[p] = 0 if r() < 0.3 else low + 50 + int(r() * 950)
            physical.append(p)
            # Stocked in one to three warehouses, usually one.
            k = min(warehouses, 1 + (r() < 0.4) + (r() < 0.15))
            first_warehouse = int(r() * warehouses)
            self.inv_first[p] = len(self.inv_warehouse)
            self.inv_count[p] = k
            for j in range(k):
                self.inv_warehouse.append((first_warehouse + j) % warehouses)
                self.inv_product.append(p)
        self.physical = array("q", physical)
        self.digital = array("q", digital)
        rows = len(self.inv_warehouse)
        self.inv_out = array("q", bytes(8 * rows))  # units shipped out of each stock row
        self.inv_returned = array("q", bytes(8 * rows))  # units returned into it

    def plan_customers(self) -> None:
        n = self.size.customers
        rng = self.rng("customers:plan")
        r = rng.random
        self.cust_first = array("H", bytes(2 * n))
        self.cust_last = array("H", bytes(2 * n))
        self.cust_company = array("l", bytes(8 * n))  # -1: a private person
        self.cust_city = array("H", bytes(2 * n))
        self.cust_street = array("H", bytes(2 * n))
        self.cust_house = array("H", bytes(2 * n))
        self.cust_phone = array("H", bytes(2 * n))
        self.cust_status = bytearray(n)  # 0 ACTIVE, 1 INACTIVE, 2 SUSPENDED
        self.cust_exempt = bytearray(n)
        self.cust_credit = array("q", bytes(8 * n))
        self.cust_balance = array("q", bytes(8 * n))
        self.cust_created = array("q", bytes(8 * n))
        # Customers join at an even pace from two years before the first order; the first
        # one exists from the very start, so every order has someone to belong to.
        self.cust_step = (self.now - self.catalog_start) / max(n, 1)
        for c in range(n):
            self.cust_first[c] = int(r() * len(_FIRST_NAMES))
            self.cust_last[c] = int(r() * len(_LAST_NAMES))
            business = r() < 0.25
            self.cust_company[c] = int(r() * 1_000_000) if business else -1
            self.cust_city[c] = (
                int(r() * _US_CITIES)
                if r() < 0.92
                else int(_US_CITIES + r() * (len(_CITIES) - _US_CITIES))
            )
            self.cust_street[c] = int(r() * len(_STREETS))
            self.cust_house[c] = 1 + int(r() * 9_998)
            self.cust_phone[c] = int(r() * 10_000)
            roll = r()
            self.cust_status[c] = 0 if c == 0 or roll < 0.92 else (1 if roll < 0.98 else 2)
            self.cust_exempt[c] = business and r() < 0.2
            if business:
                self.cust_credit[c] = (500_000, 1_000_000, 2_500_000, 5_000_000)[int(r() * 4)]
            elif r() < 0.05:
                self.cust_credit[c] = 100_000
            jitter = 0.0 if c == 0 else r()
            self.cust_created[c] = self.catalog_start + int((c + jitter) * self.cust_step)

    # -- orders -------------------------------------------------------------------------

    def write_orders(self) -> None:
        n = self.size.orders
        if n == 0:
            return
        rng = self.rng("orders")
        r = rng.random
        ts = self.ts
        user = self.user
        order_id = self.order_ids
        address_id = self.address_ids
        item_id = self.item_ids
        product_id = self.product_ids
        customer_id = self.customer_ids
        warehouse_id = self.warehouse_ids
        ledger_id = self.ledger_ids
        price = self.product_price
        tax_rate = self.product_tax
        grams = self.product_grams
        kind = self.product_kind
        active = self.product_active
        inv_first, inv_count = self.inv_first, self.inv_count
        inv_warehouse, inv_out, inv_returned = self.inv_warehouse, self.inv_out, self.inv_returned
        physical, digital = self.physical, self.digital
        n_physical, n_digital = len(physical), len(digital)
        customers = self.size.customers
        cust_status = self.cust_status
        cust_exempt, cust_credit, cust_balance = (
            self.cust_exempt,
            self.cust_credit,
            self.cust_balance,
        )
        cust_city = self.cust_city
        day_year = self.day_year
        now, start = self.now, self.start
        span = now - start
        # Order i is placed at the (i + random)/n quantile of a rate growing linearly from
        # 1 to _GROWTH over the span: its inverse CDF, so orders stay in time order.
        rise = _GROWTH - 1
        whole = 1 + rise / 2  # the rate's integral over the span (as a share of it)
        sqrt = math.sqrt
        today_start = self.today_start
        catalog_start, cust_step = self.catalog_start, self.cust_step
        open_from = n - max(1, n * 2 // 100)
        recent_from = max(0, open_from - n * 6 // 100)
        unpaid_after = now - 60 * _DAY  # only the last two months may still owe money
        overdue_before = now - 30 * _DAY
        yearly: dict[int, int] = {}

        for chunk_start in range(0, n, _ORDERS_PER_CHUNK):
            self.progress("Orders", chunk_start, n)
            orders: list[str] = []
            addresses: list[str] = []
            items: list[str] = []
            ledger: list[str] = []
            for i in range(chunk_start, min(n, chunk_start + _ORDERS_PER_CHUNK)):
                share = (i + r()) / n
                t = start + int(span * (sqrt(1 + 2 * rise * whole * share) - 1) / rise)
                if i == n - 1 and t < today_start:
                    t = today_start + (t - start) % (now - today_start)  # the newest: today
                oid = order_id(i)
                year = day_year[t // _DAY]
                number = yearly.get(year, 0) + 1
                yearly[year] = number
                if i >= open_from:
                    status = _STATUS_OPEN[int(r() * 100)]
                elif i >= recent_from:
                    status = _STATUS_RECENT[int(r() * 100)]
                else:
                    status = _STATUS_OLD[int(r() * 100)]
                is_open = status in ("DRAFT", "PENDING")

                # The customer: anyone who had joined by then, long-standing ones more
                # often; an open order belongs to an active customer.
                known = max(1, min(customers, int((t - catalog_start) / cust_step)))
                c = int(known * r() ** 1.5)
                if is_open and cust_status[c] != 0:
                    for _ in range(8):
                        c = int(known * r())
                        if cust_status[c] == 0:
                            break
                    else:
                        c = 0
                exempt = cust_exempt[c]
                abroad = cust_city[c] >= _US_CITIES

                # Lines: downloads only, or goods only.
                if n_digital and (not n_physical or r() < 0.06):
                    pool, pool_size, method = digital, n_digital, "DIGITAL"
                else:
                    pool, pool_size = physical, n_physical
                    method = "INTERNATIONAL" if abroad else _DOMESTIC_METHODS[int(r() * 20)]
                lines = min(_LINE_COUNTS[int(r() * 100)], pool_size)
                chosen: list[int] = []
                while len(chosen) < lines:
                    # Popular products sell more: index density falls off like 1/sqrt.
                    p = pool[int(pool_size * r() * r())]
                    if p in chosen or (is_open and not active[p] and r() < 0.95):
                        continue
                    chosen.append(p)

                shipped = status in _SHIPPED_STATES
                returned = status in ("RETURNED", "REFUNDED")
                cancelled = status == "CANCELLED"
                # Event times, each after the one before and none after demo_now.
                left = now - t
                ship_at = t + min(2 * _HOUR + int(r() * 3 * _DAY), left // 2) if shipped else 0
                deliver_at = (
                    ship_at + min(_DAY + int(r() * 5 * _DAY), (now - ship_at) * 9 // 10)
                    if status in ("DELIVERED", "RETURNED", "REFUNDED")
                    else 0
                )
                return_at = (
                    deliver_at + min(2 * _DAY + int(r() * 18 * _DAY), (now - deliver_at) // 2)
                    if returned
                    else 0
                )
                cancel_at = t + min(_HOUR + int(r() * 2 * _DAY), left // 2) if cancelled else 0
                updated = max(t, ship_at, deliver_at, return_at, cancel_at)
                if status == "REFUNDED":
                    updated += min(_DAY, (now - updated) // 2)
                created_text = ts(t)
                updated_text = ts(updated)

                line_status = _LINE_STATUS[status]
                subtotal = line_discounts = tax_total = 0
                for li, p in enumerate(chosen):
                    roll = r()
                    if kind[p] == _DIGITAL or roll < 0.45:
                        quantity = 1
                    elif roll < 0.65:
                        quantity = 2
                    elif roll < 0.75:
                        quantity = 3
                    elif roll < 0.92:
                        quantity = 4 + int(r() * 7)
                    elif roll < 0.995:
                        quantity = 11 + int(r() * 90)
                    elif roll < 0.9995:
                        quantity = 101 + int(r() * 900)
                    else:
                        quantity = 1_001 + int(r() * 8_999)
                    unit = price[p]
                    total = quantity * unit
                    discount = total * (5, 10, 15, 20)[int(r() * 4)] // 100 if r() < 0.15 else 0
                    rate = 0 if exempt else tax_rate[p]
                    # Half-up to the cent, exactly: (net * percent/100) rounded.
                    tax = ((total - discount) * rate + 5_000) // 10_000
                    subtotal += total
                    line_discounts += discount
                    tax_total += tax
                    done = quantity if shipped else 0
                    back = quantity if returned else 0
                    items.append(
                        f"{item_id(i * 5 + li)}\t{oid}\t{product_id(p)}\t{quantity}\t"
                        f"{unit // 100}.{unit % 100:02d}\t{tax // 100}.{tax % 100:02d}\t"
                        f"{discount // 100}.{discount % 100:02d}\t"
                        f"{(grams[p] * quantity) // 1000}.{(grams[p] * quantity) % 1000:03d}\t"
                        f"{line_status}\t{done}\t{back}\t{created_text}\t{updated_text}\n"
                    )
                    if shipped and kind[p] == _PHYSICAL:
                        # Ship from one of the product's warehouses; a return goes back there.
                        row = inv_first[p] + int(r() * inv_count[p])
                        inv_out[row] += quantity
                        wid = warehouse_id(inv_warehouse[row])
                        pid = product_id(p)
                        ledger.append(
                            f"{ledger_id(self.ledger_count)}\t{pid}\t{wid}\tOUT\t{-quantity}\t"
                            f"{oid}\tShipment of order {year}-{number:06d}\t{ts(ship_at)}\t"
                            f"{user}\n"
                        )
                        self.ledger_count += 1
                        if returned:
                            inv_returned[row] += quantity
                            ledger.append(
                                f"{ledger_id(self.ledger_count)}\t{pid}\t{wid}\tIN\t{quantity}\t"
                                f"{oid}\tReturn of order {year}-{number:06d}\t{ts(return_at)}\t"
                                f"{user}\n"
                            )
                            self.ledger_count += 1

                free_standard = method == "STANDARD" and subtotal >= FREE_STANDARD_FROM_CENTS
                shipping = 0 if free_standard else SHIPPING_CENTS[method]
                coupon = (500, 1_000, 2_500)[int(r() * 3)] if r() < 0.05 else 0
                if coupon * 5 > subtotal - line_discounts:
                    coupon = 0
                discount_total = line_discounts + coupon
                grand = subtotal + tax_total + shipping - discount_total

                # Payment. Goods go out on account only within a customer's credit limit,
                # and only recent invoices are still open; the rest was paid.
                paid, refunded, payment = 0, 0, "PENDING"
                if status in ("SHIPPED", "DELIVERED"):
                    paid, payment = grand, "PAID"
                    limit = cust_credit[c]
                    if t >= unpaid_after and limit and r() < 0.4:
                        owed = grand if r() < 0.75 else grand - grand // 2
                        if cust_balance[c] + owed <= limit:
                            cust_balance[c] += owed
                            paid = grand - owed
                            if paid:
                                payment = "PARTIALLY_PAID"
                            else:
                                payment = "OVERDUE" if t < overdue_before else "PENDING"
                elif status == "RETURNED":
                    paid, payment = grand, "PAID"
                elif status == "REFUNDED":
                    paid, refunded, payment = grand, grand, "REFUNDED"
                elif status == "PENDING" and r() < 0.2:
                    paid, payment = grand, "PAID"  # paid by card at checkout

                if status == "DRAFT":
                    previous = _NULL
                elif status == "PENDING":
                    previous = "DRAFT"
                elif status == "SHIPPED":
                    previous = "PROCESSING"
                elif status == "DELIVERED":
                    previous = "SHIPPED"
                elif status == "CANCELLED":
                    previous = "DRAFT" if r() < 0.3 else "PENDING"
                elif status == "RETURNED":
                    previous = "DELIVERED"
                else:
                    previous = "RETURNED"

                if shipped and method not in ("DIGITAL", "PICKUP"):
                    if method == "INTERNATIONAL":
                        carrier = "DHL"
                        tracking = f"{int(r() * 1e10):010d}"
                    else:
                        carrier = _CARRIERS[int(r() * 3)]
                        tracking = (
                            f"1Z{int(r() * 1e16):016d}"
                            if carrier == "UPS"
                            else (f"{int(r() * 1e12):012d}")
                        )
                    ship_text = ts(ship_at)
                else:
                    carrier = tracking = _NULL
                    ship_text = ts(ship_at) if shipped else _NULL
                if shipped and grand > APPROVAL_ABOVE_CENTS:
                    approver = user
                    approved_text = ts(t + (ship_at - t) // 3)
                else:
                    approver = approved_text = _NULL
                required = ts(t + 7 * _DAY + int(r() * 14 * _DAY)) if r() < 0.3 else _NULL
                customer_note = _CUSTOMER_NOTES[int(r() * 5)] if r() < 0.08 else _NULL
                internal_note = _INTERNAL_NOTES[int(r() * 4)] if r() < 0.04 else _NULL

                billing_id = address_id(2 * i)
                shipping_id = address_id(2 * i + 1)
                billing = self.customer_address(c)
                shipping_address = billing if r() < 0.8 else self.other_address(c, r)
                addresses.append(
                    f"{billing_id}\tbilling\t{billing}\t{created_text}\t{created_text}\n"
                )
                addresses.append(
                    f"{shipping_id}\tshipping\t{shipping_address}\t{created_text}\t{created_text}\n"
                )
                orders.append(
                    f"{oid}\t{year}-{number:06d}\t{customer_id(c)}\t{status}\t{previous}\t"
                    f"{_PRIORITY[int(r() * 100)]}\tSALES\t{payment}\t{method}\t"
                    f"{subtotal // 100}.{subtotal % 100:02d}\t"
                    f"{tax_total // 100}.{tax_total % 100:02d}\t"
                    f"{shipping // 100}.{shipping % 100:02d}\t"
                    f"{discount_total // 100}.{discount_total % 100:02d}\t"
                    f"{grand // 100}.{grand % 100:02d}\t{paid // 100}.{paid % 100:02d}\t"
                    f"{refunded // 100}.{refunded % 100:02d}\tUSD\t{created_text}\t{required}\t"
                    f"{ship_text}\t{ts(deliver_at) if deliver_at else _NULL}\t"
                    f"{ts(cancel_at) if cancelled else _NULL}\t{shipping_id}\t{billing_id}\t"
                    f"{_NULL}\t{internal_note}\t{customer_note}\t{tracking}\t{carrier}\t{user}\t"
                    f"{approver}\t{user if shipped else _NULL}\t{created_text}\t{updated_text}\t"
                    f"{approved_text}\t{ship_text}\n"
                )
            self.send("order_addresses", _ADDRESS_COLUMNS, addresses)
            self.send("orders", _ORDER_COLUMNS, orders)
            self.send("order_items", _ITEM_COLUMNS, items)
            self.send("inventory_transactions", _LEDGER_COLUMNS, ledger)
        self.progress("Orders", n, n)

    def customer_name(self, c: int) -> tuple[str, str, str]:
        first = _FIRST_NAMES[self.cust_first[c]]
        last = _LAST_NAMES[self.cust_last[c]]
        company = self.cust_company[c]
        if company < 0:
            return first, last, _NULL
        name = (
            f"{_COMPANY_WORDS[company % 18]} {_COMPANY_KINDS[company // 18 % 10]} "
            f"{_COMPANY_SUFFIXES[company // 180 % 6]}"
        )
        return first, last, name

    def customer_email(self, c: int) -> str:
        first, last, _ = self.customer_name(c)
        return f"{first.lower()}.{last.lower()}.{c + 1}@example.com"

    def customer_phone(self, c: int) -> str:
        return f"{_CITIES[self.cust_city[c]][4]}{self.cust_phone[c]:04d}"

    def customer_address(self, c: int) -> str:
        """Name, street, city ... of an order address for customer c: the customer's own."""
        first, last, company = self.customer_name(c)
        city, state, postal, country, _ = _CITIES[self.cust_city[c]]
        house = self.cust_house[c]
        postal_code = f"{postal + house % 40:05d}" if isinstance(postal, int) else postal
        return (
            f"{first}\t{last}\t{company}\t{house} {_STREETS[self.cust_street[c]]}\t{_NULL}\t"
            f"{city}\t{state}\t{postal_code}\t{country}\t{self.customer_phone(c)}\t"
            f"{self.customer_email(c)}"
        )

    def other_address(self, c: int, r: Callable[[], float]) -> str:
        """A delivery address elsewhere in the customer's country (a gift, a site)."""
        first, last, company = self.customer_name(c)
        own = self.cust_city[c]
        city_index = int(r() * _US_CITIES) if own < _US_CITIES else own
        city, state, postal, country, _ = _CITIES[city_index]
        house = 1 + int(r() * 9_998)
        postal_code = f"{postal + house % 40:05d}" if isinstance(postal, int) else postal
        suite = f"Suite {100 + int(r() * 800)}" if company != _NULL else _NULL
        return (
            f"{first}\t{last}\t{company}\t{house} {_STREETS[int(r() * len(_STREETS))]}\t"
            f"{suite}\t{city}\t{state}\t{postal_code}\t{country}\t{self.customer_phone(c)}\t"
            f"{self.customer_email(c)}"
        )

    # -- rows that depend on the orders ---------------------------------------------------

    def write_customers(self) -> None:
        n = self.size.customers
        rng = self.rng("customers")
        r = rng.random
        ts = self.ts
        statuses = ("ACTIVE", "INACTIVE", "SUSPENDED")
        # Apart from the customers' own, so that adding addresses changed no other row.
        places = self.rng("customer_addresses").random
        address_id = self.customer_address_ids
        for chunk_start in range(0, n, _ROWS_PER_CHUNK):
            self.progress("Customers", chunk_start, n)
            rows = []
            addresses = []
            for c in range(chunk_start, min(n, chunk_start + _ROWS_PER_CHUNK)):
                first, last, company = self.customer_name(c)
                credit = self.cust_credit[c]
                balance = self.cust_balance[c]
                status = self.cust_status[c]
                note = (
                    "Account on hold: payment overdue."
                    if status == 2
                    else ("Preferred supplier terms." if company != _NULL and r() < 0.1 else _NULL)
                )
                created = ts(self.cust_created[c])
                rows.append(
                    f"{self.customer_ids(c)}\t{_NULL}\tCUST-{c + 1:06d}\t{first}\t{last}\t"
                    f"{company}\t{self.customer_email(c)}\t{self.customer_phone(c)}\t"
                    f"{'INDIVIDUAL' if company == _NULL else 'BUSINESS'}\t{statuses[status]}\t"
                    f"{credit // 100}.{credit % 100:02d}\t{balance // 100}.{balance % 100:02d}\t"
                    f"{'t' if self.cust_exempt[c] else 'f'}\t{note}\t{created}\t{created}\n"
                )
                # Billed at home (where most of their orders went); one in five has goods
                # delivered elsewhere.
                addresses.append(
                    f"{address_id(2 * c)}\t{self.customer_ids(c)}\tbilling\t"
                    f"{self.customer_address(c)}\t{created}\t{created}\n"
                )
                if places() < 0.2:
                    addresses.append(
                        f"{address_id(2 * c + 1)}\t{self.customer_ids(c)}\tshipping\t"
                        f"{self.other_address(c, places)}\t{created}\t{created}\n"
                    )
            self.send("customers", _CUSTOMER_COLUMNS, rows)
            self.send("customer_addresses", _CUSTOMER_ADDRESS_COLUMNS, addresses)
        self.progress("Customers", n, n)

    def write_products(self) -> None:
        """Product rows, and their stock rows with the opening receipt of each.

        On hand = a random base + everything returned into the row; the opening receipt
        = base + everything shipped out of it. So the ledger adds up to the stock on hand
        and the running balance never dips below zero.
        """
        n = self.size.products
        rng = self.rng("products")
        r = rng.random
        stock_rng = self.rng("product_inventory")
        rs = stock_rng.random
        ts = self.ts
        user = self.user
        catalog_span = self.start - 2 * _DAY - self.catalog_start
        receipt_text = ts(self.start - _DAY)
        now_text = ts(self.now)
        category_id = self.category_ids
        warehouse_id = self.warehouse_ids
        inventory_id = self.inventory_ids
        ledger_id = self.ledger_ids
        inventory_count = 0
        for chunk_start in range(0, n, _ROWS_PER_CHUNK):
            self.progress("Products and stock", chunk_start, n)
            rows = []
            stock_rows = []
            ledger = []
            for p in range(chunk_start, min(n, chunk_start + _ROWS_PER_CHUNK)):
                leaf = self.product_leaf[p]
                leaf_category, _, _, noun, is_digital = self.leaves[leaf]
                pid = self.product_ids(p)
                sku = f"{self.leaf_codes[leaf]}-{p + 1:07d}"
                brand = _BRANDS[int(r() * len(_BRANDS))]
                series = _SERIES[int(r() * len(_SERIES))]
                model = f"{chr(65 + int(r() * 26))}{10 + int(r() * 990)}"
                name = f"{brand} {noun} {series} {model}" if series else f"{brand} {noun} {model}"
                feature = _FEATURES[int(r() * len(_FEATURES))]
                description = f"{name}. {feature} {_FEATURES[int(r() * len(_FEATURES))]}"
                price = self.product_price[p]
                cost = 0 if r() < 0.03 else price * (40 + int(r() * 40)) // 100
                rate = self.product_tax[p]
                created = ts(self.catalog_start + int(r() * catalog_span))
                featured = "t" if r() < 0.02 else "f"
                if is_digital:
                    downloads = (0, 3, 5, 10, 25)[int(r() * 5)]
                    expiry = (0, 30, 365, 730, 3650)[int(r() * 5)]
                    rows.append(
                        f"{pid}\t{sku}\t{name}\t{description}\t{feature}\t"
                        f"{category_id(leaf_category)}\t{_money(price)}\t{_money(cost)}\t"
                        f"0.000\t{_NULL}\t0.00\t0.00\t0.00\t0.000\t{_NULL}\tf\t0\t0\t0\tf\tf\t"
                        f"{'t' if rate else 'f'}\t{_money(rate)}\t"
                        f"{'t' if self.product_active[p] else 'f'}\t{featured}\tt\t"
                        f"https://downloads.example.com/{sku.lower()}\t{downloads}\t{expiry}\t"
                        f"{created}\t{created}\n"
                    )
                    continue
                grams = self.product_grams[p]
                length, width, height = (50 + int(r() * 950) for _ in range(3))  # millimetres
                millilitres = (length * width * height + 500) // 1_000
                low, high = self.product_min[p], self.product_max[p]
                stock = 0
                first = self.inv_first[p]
                for row in range(first, first + self.inv_count[p]):
                    base = 0 if rs() < 0.05 else int(rs() * (high or 300))
                    on_hand = base + self.inv_returned[row]
                    receipt = base + self.inv_out[row]
                    stock += on_hand
                    wid = warehouse_id(self.inv_warehouse[row])
                    stock_rows.append(
                        f"{inventory_id(inventory_count)}\t{pid}\t{wid}\t{on_hand}\t0\t"
                        f"{low}\t{high or _NULL}\t{now_text}\t{user}\n"
                    )
                    inventory_count += 1
                    if receipt:
                        ledger.append(
                            f"{ledger_id(self.ledger_count)}\t{pid}\t{wid}\tIN\t{receipt}\t"
                            f"{_NULL}\tOpening stock\t{receipt_text}\t{user}\n"
                        )
                        self.ledger_count += 1
                rows.append(
                    f"{pid}\t{sku}\t{name}\t{description}\t{feature}\t"
                    f"{category_id(leaf_category)}\t{_money(price)}\t{_money(cost)}\t"
                    f"{grams // 1000}.{grams % 1000:03d}\t"
                    f"{length / 10:.1f} x {width / 10:.1f} x {height / 10:.1f} cm\t"
                    f"{length // 10}.{length % 10}0\t{width // 10}.{width % 10}0\t"
                    f"{height // 10}.{height % 10}0\t"
                    f"{millilitres // 1000}.{millilitres % 1000:03d}\t"
                    f"{_ean13(200_000_000_000 + p)}\tt\t{stock}\t{low}\t{high}\t"
                    f"{'t' if r() < 0.05 else 'f'}\tt\t{'t' if rate else 'f'}\t{_money(rate)}\t"
                    f"{'t' if self.product_active[p] else 'f'}\t{featured}\tf\t{_NULL}\t0\t0\t"
                    f"{created}\t{created}\n"
                )
            self.send("products", _PRODUCT_COLUMNS, rows)
            self.send("product_inventory", _INVENTORY_COLUMNS, stock_rows)
            self.send("inventory_transactions", _LEDGER_COLUMNS, ledger)
        self.progress("Products and stock", n, n)


# ---------------------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------------------


def _validate(size: DemoDataSize) -> None:
    for field in ("products", "customers", "orders", "warehouses"):
        if getattr(size, field) < 0:
            raise ValidationError(f"The number of {field} cannot be negative.", field=field)
    if size.customers > 999_999:
        raise ValidationError(
            "At most 999,999 customers: customer codes have six digits (CUST-NNNNNN).",
            field="customers",
        )
    if size.warehouses > 999:
        raise ValidationError("At most 999 warehouses.", field="warehouses")
    if size.products and not size.warehouses:
        raise ValidationError(
            "Products need at least one warehouse to be stocked in.", field="warehouses"
        )
    if size.orders and not (size.products and size.customers):
        raise ValidationError("Orders need at least one product and one customer.", field="orders")


def _resolve_user(
    cursor: psycopg.Cursor[Any], created_by: uuid.UUID | None, seed: int
) -> tuple[str, int]:
    """The user recorded as creator; (id, 1) when a system user had to be inserted."""
    if created_by is not None:
        cursor.execute("SELECT 1 FROM users WHERE id = %s", (created_by,))
        if cursor.fetchone() is None:
            raise ValidationError(f"No user with id {created_by} exists.", field="created_by")
        return str(created_by), 0
    cursor.execute("SELECT id FROM users ORDER BY created_at, id LIMIT 1")
    row = cursor.fetchone()
    if row is not None:
        return str(row[0]), 0
    system_id = _Ids(seed, "users")(0)
    # Inactive, and '!' is no hash of any password: nobody can ever log in as it.
    cursor.execute(
        "INSERT INTO users (id, email, username, password_hash, first_name, last_name, "
        "is_active, is_verified) VALUES (%s, 'system@localhost.invalid', 'system', '!', "
        "'System', 'User', false, false)",
        (system_id,),
    )
    return system_id, 1


def _enabled_triggers(cursor: psycopg.Cursor[Any]) -> list[tuple[str, str]]:
    """The triggers of the loaded tables that fire now: (table, trigger)."""
    cursor.execute(
        "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relname = ANY(%s) AND c.relnamespace = 'public'::regnamespace "
        "AND NOT t.tgisinternal AND t.tgenabled = 'O' ORDER BY 1, 2",
        (list(LOADED_TABLES),),
    )
    return [(str(table), str(trigger)) for table, trigger in cursor.fetchall()]


def _switch_triggers(
    cursor: psycopg.Cursor[Any], triggers: list[tuple[str, str]], *, enable: bool
) -> None:
    action = sql.SQL("ENABLE" if enable else "DISABLE")
    for table, trigger in triggers:
        cursor.execute(
            sql.SQL("ALTER TABLE {} {} TRIGGER {}").format(
                sql.Identifier(table), action, sql.Identifier(trigger)
            )
        )


def _advance_counters(cursor: psycopg.Cursor[Any]) -> None:
    """Make the database's number generators continue after the numbers loaded here."""
    cursor.execute(
        "INSERT INTO document_counters (kind, year, last_value) "
        "SELECT 'order', split_part(order_number, '-', 1)::int, "
        "       max(split_part(order_number, '-', 2)::int) "
        "FROM orders GROUP BY 2 "
        "UNION ALL "
        "SELECT 'customer', 0, max(substr(customer_code, 6)::int) FROM customers "
        "HAVING count(*) > 0 "
        "ON CONFLICT (kind, year) DO UPDATE "
        "SET last_value = greatest(document_counters.last_value, excluded.last_value)"
    )


def generate_demo_data(
    url: sqlalchemy.engine.URL,
    size: DemoDataSize,
    *,
    seed: int = 42,
    created_by: uuid.UUID | None = None,
    progress: ProgressCallback | None = None,
    today: date | None = None,
) -> DemoDataSummary:
    """Fill an empty, migrated database with demo data, in one transaction.

    Refuses (ValidationError) a database that already holds products, orders or any other
    row in the tables it fills; users and roles may exist. `created_by` is recorded on
    orders and stock movements; without it, the oldest user, or else a new inactive
    'system' user. Raise from `progress` to cancel: nothing is left behind. The newest
    orders are dated `today` (default: the local date); see `demo_now`.
    """
    _validate(size)
    report = progress or _no_progress
    began = time.perf_counter()
    conninfo = libpq_conninfo(url)
    report("Checking the database", 0, 0)
    with connect_psycopg(conninfo, application_name="erpgo-desktop demo data") as conn:
        with conn.cursor() as cursor:
            # Nobody else may write while we check and load; wait a little for readers.
            cursor.execute("SET LOCAL lock_timeout = '15s'")
            try:
                cursor.execute(
                    sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                        sql.SQL(", ").join(map(sql.Identifier, CHECKED_EMPTY_TABLES))
                    )
                )
            except psycopg.errors.LockNotAvailable as exc:
                raise ConflictError(
                    "The database is in use by another connection; close other windows "
                    "connected to it and try again."
                ) from exc
            cursor.execute("SET LOCAL lock_timeout = 0")
            non_empty = []
            for table in CHECKED_EMPTY_TABLES:
                cursor.execute(
                    sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
                )
                if cursor.fetchone() == (True,):
                    non_empty.append(table)
            if non_empty:
                raise ValidationError(
                    "Demo data goes only into an empty database, and this one already holds "
                    f"data ({', '.join(non_empty)}). Nothing was changed."
                )
            user_id, users_added = _resolve_user(cursor, created_by, seed)
            # Only triggers in their normal state are switched off and on again; one that
            # someone disabled (or set to fire on replicas only) stays as it is.
            triggers = _enabled_triggers(cursor)

            report("Preparing the tables", 0, 0)
            # Index builds sort in memory this large instead of spilling to disk, and
            # foreign key checks hash instead of looping.
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            schema = _capture_schema(cursor)
            _drop(cursor, schema)
            # stock_quantity is written here, equal to what the stock trigger would give;
            # change notifications are for workstations watching edits, not a bulk load
            # nobody can see until it commits.
            _switch_triggers(cursor, triggers, enable=False)
            # Emptied in this transaction, the tables take COPY FREEZE: rows arrive
            # already frozen, so nothing has to rewrite them after commit.
            cursor.execute(
                sql.SQL("TRUNCATE {}").format(
                    sql.SQL(", ").join(map(sql.Identifier, LOADED_TABLES))
                )
            )

            stream = _CopyStream(conn, freeze=_FREEZE)
            try:
                generator = _Generator(size, seed, user_id, stream, report, today or date.today())
                generator.write_categories()
                generator.write_warehouses()
                report("Planning", 0, 0)
                generator.plan_products()
                generator.plan_customers()
                generator.write_orders()
                generator.write_customers()
                generator.write_products()
            finally:
                stream.close()

            _recreate(cursor, schema, report)
            # The stock rows' low-stock flags (revision 0007) are kept by triggers too; set
            # while they are off, nothing else fires.
            cursor.execute("SELECT to_regprocedure('stock_flags_rebuild()') IS NOT NULL")
            if cursor.fetchone() == (True,):
                cursor.execute("SELECT stock_flags_rebuild()")
            # So are the stock rows' values and the valuation's totals (revision 0019).
            cursor.execute("SELECT to_regprocedure('stock_values_rebuild()') IS NOT NULL")
            if cursor.fetchone() == (True,):
                cursor.execute("SELECT stock_values_rebuild()")
            _switch_triggers(cursor, triggers, enable=True)
            _advance_counters(cursor)
            # The dashboard's summaries (revision 0006) are kept by triggers, which were
            # off: one pass over the loaded rows fills them instead, far cheaper than
            # millions of trigger calls.
            cursor.execute("SELECT to_regprocedure('dashboard_rebuild()') IS NOT NULL")
            if cursor.fetchone() == (True,):
                report("Dashboard summaries", 0, 0)
                cursor.execute("SELECT dashboard_rebuild()")
            report("Analyzing", 0, 0)
            for table in LOADED_TABLES:
                cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
        report("Committing", 0, 0)
    rows = {"users": users_added, **generator.rows}
    return DemoDataSummary(rows=rows, seconds=time.perf_counter() - began)
