"""The seed schema (erpgo-database-schema.md), written out as PostgreSQL's catalogs render it.

Each entry below is transcribed from the seed's CREATE TABLE / CREATE INDEX / ALTER TABLE
/ CREATE TRIGGER text, not read back from a migrated database, so comparing it with a
catalog snapshot checks the migration against the seed. The only departures are the
ones docs/schema.md lists (gen_random_uuid() defaults, `NOT GENERATED` read as
`GENERATED ALWAYS`, final_price repeating quantity * unit_price).

Unnamed seed constraints carry PostgreSQL's default names (<table>_<columns>_key,
_fkey, _check, _pkey), which the models and the error handling rely on.
"""

from __future__ import annotations

from tests.migrations.catalog import Column, Constraint, normalize_sql

# -- column types: (data_type, character_maximum_length, numeric_precision, numeric_scale)
UUID = ("uuid", None, None, None)
TEXT = ("text", None, None, None)
BOOLEAN = ("boolean", None, None, None)
INTEGER = ("integer", None, 32, 0)
TIMESTAMPTZ = ("timestamp with time zone", None, None, None)
JSONB = ("jsonb", None, None, None)


def varchar(length: int) -> tuple[str, int, None, None]:
    return ("character varying", length, None, None)


def decimal(precision: int, scale: int) -> tuple[str, None, int, int]:
    return ("numeric", None, precision, scale)


# -- defaults as PostgreSQL renders them
GEN_UUID = "gen_random_uuid()"  # the seed's uuid_generate_v4(): see docs/schema.md
NOW = "now()"
CURRENT_TIMESTAMP = "CURRENT_TIMESTAMP"


def text_default(value: str) -> str:
    return f"'{value}'::character varying"


def col(
    sql_type: tuple[str, int | None, int | None, int | None],
    *,
    not_null: bool = False,
    default: str | None = None,
) -> Column:
    return (*sql_type, not not_null, default)


def pk() -> Column:
    return col(UUID, not_null=True, default=GEN_UUID)


SEED_TABLES: dict[str, dict[str, Column]] = {
    "users": {
        "id": pk(),
        "email": col(varchar(255), not_null=True),
        "username": col(varchar(100), not_null=True),
        "password_hash": col(varchar(255), not_null=True),
        "first_name": col(varchar(100), not_null=True),
        "last_name": col(varchar(100), not_null=True),
        "phone": col(varchar(20)),
        "is_active": col(BOOLEAN, default="true"),
        "is_verified": col(BOOLEAN, default="false"),
        "last_login_at": col(TIMESTAMPTZ),
        "created_at": col(TIMESTAMPTZ, default=CURRENT_TIMESTAMP),
        "updated_at": col(TIMESTAMPTZ, default=CURRENT_TIMESTAMP),
    },
    "roles": {
        "id": pk(),
        "name": col(varchar(50), not_null=True),
        "description": col(TEXT),
        "permissions": col(JSONB, default="'{}'::jsonb"),
        "is_active": col(BOOLEAN, default="true"),
        "created_at": col(TIMESTAMPTZ, default=CURRENT_TIMESTAMP),
        "updated_at": col(TIMESTAMPTZ, default=CURRENT_TIMESTAMP),
    },
    "user_roles": {
        "id": pk(),
        "user_id": col(UUID, not_null=True),
        "role_id": col(UUID, not_null=True),
        "assigned_at": col(TIMESTAMPTZ, default=CURRENT_TIMESTAMP),
        "assigned_by": col(UUID),
    },
    "product_categories": {
        "id": pk(),
        "name": col(varchar(200), not_null=True),
        "description": col(TEXT),
        "parent_id": col(UUID),
        "path": col(varchar(1000)),
        "level": col(INTEGER, not_null=True, default="1"),
        "sort_order": col(INTEGER, default="0"),
        "is_active": col(BOOLEAN, default="true"),
        "created_at": col(TIMESTAMPTZ, default=CURRENT_TIMESTAMP),
        "updated_at": col(TIMESTAMPTZ, default=CURRENT_TIMESTAMP),
    },
    "products": {
        "id": pk(),
        "sku": col(varchar(100), not_null=True),
        "name": col(varchar(300), not_null=True),
        "description": col(TEXT),
        "short_description": col(varchar(500)),
        "category_id": col(UUID, not_null=True),
        "price": col(decimal(12, 2), not_null=True),
        "cost": col(decimal(12, 2), not_null=True, default="0"),
        "weight": col(decimal(10, 3), not_null=True, default="0"),
        "dimensions": col(varchar(100)),
        "length": col(decimal(8, 2), not_null=True, default="0"),
        "width": col(decimal(8, 2), not_null=True, default="0"),
        "height": col(decimal(8, 2), not_null=True, default="0"),
        "volume": col(decimal(10, 3), not_null=True, default="0"),
        "barcode": col(varchar(50)),
        "track_inventory": col(BOOLEAN, not_null=True, default="true"),
        "stock_quantity": col(INTEGER, not_null=True, default="0"),
        "min_stock_level": col(INTEGER, not_null=True, default="0"),
        "max_stock_level": col(INTEGER, not_null=True, default="0"),
        "allow_backorder": col(BOOLEAN, not_null=True, default="false"),
        "requires_shipping": col(BOOLEAN, not_null=True, default="true"),
        "taxable": col(BOOLEAN, not_null=True, default="true"),
        "tax_rate": col(decimal(5, 2), not_null=True, default="0"),
        "is_active": col(BOOLEAN, not_null=True, default="true"),
        "is_featured": col(BOOLEAN, not_null=True, default="false"),
        "is_digital": col(BOOLEAN, not_null=True, default="false"),
        "download_url": col(varchar(1000)),
        "max_downloads": col(INTEGER, not_null=True, default="0"),
        "expiry_days": col(INTEGER, not_null=True, default="0"),
        "created_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
        "updated_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
    },
    "product_variants": {
        "id": pk(),
        "product_id": col(UUID, not_null=True),
        "sku": col(varchar(100), not_null=True),
        "name": col(varchar(300), not_null=True),
        "price": col(decimal(12, 2), not_null=True),
        "cost": col(decimal(12, 2), not_null=True, default="0"),
        "weight": col(decimal(10, 3), not_null=True, default="0"),
        "barcode": col(varchar(50)),
        "track_inventory": col(BOOLEAN, not_null=True, default="true"),
        "stock_quantity": col(INTEGER, not_null=True, default="0"),
        "min_stock_level": col(INTEGER, not_null=True, default="0"),
        "max_stock_level": col(INTEGER, not_null=True, default="0"),
        "allow_backorder": col(BOOLEAN, not_null=True, default="false"),
        "is_active": col(BOOLEAN, not_null=True, default="true"),
        "attributes": col(JSONB, default="'{}'::jsonb"),
        "created_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
        "updated_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
    },
    "customers": {
        "id": pk(),
        "user_id": col(UUID),
        "customer_code": col(varchar(50)),
        "first_name": col(varchar(100), not_null=True),
        "last_name": col(varchar(100), not_null=True),
        "company": col(varchar(200)),
        "email": col(varchar(255), not_null=True),
        "phone": col(varchar(20)),
        "type": col(varchar(20), not_null=True, default=text_default("INDIVIDUAL")),
        "status": col(varchar(20), not_null=True, default=text_default("ACTIVE")),
        "credit_limit": col(decimal(12, 2), default="0"),
        "balance": col(decimal(12, 2), default="0"),
        "tax_exempt": col(BOOLEAN, default="false"),
        "notes": col(TEXT),
        "created_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
        "updated_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
    },
    "orders": {
        "id": pk(),
        "order_number": col(varchar(50), not_null=True),
        "customer_id": col(UUID, not_null=True),
        "status": col(varchar(20), not_null=True, default=text_default("DRAFT")),
        "previous_status": col(varchar(20)),
        "priority": col(varchar(10), not_null=True, default=text_default("NORMAL")),
        "type": col(varchar(15), not_null=True, default=text_default("SALES")),
        "payment_status": col(varchar(15), not_null=True, default=text_default("PENDING")),
        "shipping_method": col(varchar(20), not_null=True, default=text_default("STANDARD")),
        "subtotal": col(decimal(12, 2), not_null=True, default="0"),
        "tax_amount": col(decimal(12, 2), not_null=True, default="0"),
        "shipping_amount": col(decimal(12, 2), not_null=True, default="0"),
        "discount_amount": col(decimal(12, 2), not_null=True, default="0"),
        "total_amount": col(decimal(12, 2), not_null=True, default="0"),
        "paid_amount": col(decimal(12, 2), not_null=True, default="0"),
        "refunded_amount": col(decimal(12, 2), not_null=True, default="0"),
        "currency": col(varchar(3), not_null=True, default=text_default("USD")),
        "order_date": col(TIMESTAMPTZ, not_null=True, default=NOW),
        "required_date": col(TIMESTAMPTZ),
        "shipping_date": col(TIMESTAMPTZ),
        "delivery_date": col(TIMESTAMPTZ),
        "cancelled_date": col(TIMESTAMPTZ),
        "shipping_address_id": col(UUID, not_null=True),
        "billing_address_id": col(UUID, not_null=True),
        "notes": col(TEXT),
        "internal_notes": col(TEXT),
        "customer_notes": col(TEXT),
        "tracking_number": col(varchar(100)),
        "carrier": col(varchar(50)),
        "created_by": col(UUID, not_null=True),
        "approved_by": col(UUID),
        "shipped_by": col(UUID),
        "created_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
        "updated_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
        "approved_at": col(TIMESTAMPTZ),
        "shipped_at": col(TIMESTAMPTZ),
    },
    "order_items": {
        "id": pk(),
        "order_id": col(UUID, not_null=True),
        "product_id": col(UUID, not_null=True),
        "variant_id": col(UUID),
        "quantity": col(INTEGER, not_null=True),
        "unit_price": col(decimal(12, 2), not_null=True),
        # The seed's `NOT GENERATED ALWAYS` is read as `GENERATED ALWAYS`: nullable.
        "total_price": col(decimal(12, 2)),
        "tax_amount": col(decimal(12, 2), not_null=True, default="0"),
        "discount_amount": col(decimal(12, 2), not_null=True, default="0"),
        "final_price": col(decimal(12, 2), not_null=True),
        "weight": col(decimal(10, 3), not_null=True, default="0"),
        "status": col(varchar(20), not_null=True, default=text_default("PENDING")),
        "shipped_quantity": col(INTEGER, not_null=True, default="0"),
        "returned_quantity": col(INTEGER, not_null=True, default="0"),
        "notes": col(TEXT),
        "created_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
        "updated_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
    },
    "warehouses": {
        "id": pk(),
        "code": col(varchar(20), not_null=True),
        "name": col(varchar(200), not_null=True),
        "address": col(TEXT),
        "city": col(varchar(100)),
        "state": col(varchar(100)),
        "country": col(varchar(100)),
        "postal_code": col(varchar(20)),
        "phone": col(varchar(20)),
        "email": col(varchar(255)),
        "manager_id": col(UUID),
        "is_active": col(BOOLEAN, default="true"),
        "created_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
        "updated_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
    },
    "product_inventory": {
        "id": pk(),
        "product_id": col(UUID, not_null=True),
        "warehouse_id": col(UUID, not_null=True),
        "quantity_available": col(INTEGER, not_null=True, default="0"),
        "quantity_reserved": col(INTEGER, not_null=True, default="0"),
        "reorder_level": col(INTEGER, not_null=True, default="0"),
        "max_stock": col(INTEGER),
        "last_updated_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
        "updated_by": col(UUID),
    },
    "inventory_transactions": {
        "id": pk(),
        "product_id": col(UUID, not_null=True),
        "warehouse_id": col(UUID, not_null=True),
        "transaction_type": col(varchar(20), not_null=True),
        "quantity": col(INTEGER, not_null=True),
        "reference_id": col(UUID),
        "reason": col(TEXT),
        "created_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
        "created_by": col(UUID),
    },
    "order_addresses": {
        "id": pk(),
        "type": col(varchar(20), not_null=True),
        "first_name": col(varchar(100), not_null=True),
        "last_name": col(varchar(100), not_null=True),
        "company": col(varchar(200)),
        "address1": col(varchar(255), not_null=True),
        "address2": col(varchar(255)),
        "city": col(varchar(100), not_null=True),
        "state": col(varchar(100)),
        "postal_code": col(varchar(20), not_null=True),
        "country": col(varchar(100), not_null=True),
        "phone": col(varchar(20)),
        "email": col(varchar(255)),
        "created_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
        "updated_at": col(TIMESTAMPTZ, not_null=True, default=NOW),
    },
}

GENERATED_COLUMNS = {
    ("order_items", "total_price"): "((quantity)::numeric * unit_price)",
    # The seed's `total_price + tax_amount - discount_amount`, with total_price spelled out.
    ("order_items", "final_price"): (
        "((((quantity)::numeric * unit_price) + tax_amount) - discount_amount)"
    ),
}

# -- constraints


def _primary_key(table: str) -> tuple[str, Constraint]:
    return f"{table}_pkey", Constraint(table, "p", "PRIMARY KEY (id)")


def _unique(table: str, *columns: str) -> tuple[str, Constraint]:
    return f"{table}_{'_'.join(columns)}_key", Constraint(
        table, "u", f"UNIQUE ({', '.join(columns)})"
    )


_ON_DELETE = {"CASCADE": "c", "RESTRICT": "r", "SET NULL": "n", None: "a"}


def _foreign_key(
    table: str, column: str, referenced: str, on_delete: str | None
) -> tuple[str, Constraint]:
    definition = f"FOREIGN KEY ({column}) REFERENCES {referenced}(id)"
    if on_delete:
        definition += f" ON DELETE {on_delete}"
    return f"{table}_{column}_fkey", Constraint(
        table, "f", definition, on_delete=_ON_DELETE[on_delete], references=referenced
    )


def _check(table: str, name: str, condition: str) -> tuple[str, Constraint]:
    return name, Constraint(table, "c", f"CHECK ({condition})")


def _positive(table: str, column: str) -> tuple[str, Constraint]:
    """`CHECK (<column> > 0)` on a DECIMAL column."""
    return _check(table, f"{table}_{column}_check", f"({column} > (0)::numeric)")


def _one_of(table: str, column: str, values: tuple[str, ...]) -> tuple[str, Constraint]:
    """`CHECK (<column> IN (...))` on a VARCHAR column, as PostgreSQL rewrites it."""
    array = ", ".join(f"'{value}'::character varying" for value in values)
    return _check(
        table, f"{table}_{column}_check", f"(({column})::text = ANY ((ARRAY[{array}])::text[]))"
    )


ORDER_STATUSES = (
    "DRAFT",
    "PENDING",
    "CONFIRMED",
    "PROCESSING",
    "SHIPPED",
    "DELIVERED",
    "CANCELLED",
    "REFUNDED",
    "RETURNED",
    "ON_HOLD",
    "PARTIALLY_SHIPPED",
)

# The seed's enumerations: (table, column) -> the values its CHECK ... IN lists.
ENUMERATIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("customers", "type"): ("INDIVIDUAL", "BUSINESS"),
    ("customers", "status"): ("ACTIVE", "INACTIVE", "SUSPENDED"),
    ("orders", "status"): ORDER_STATUSES,
    ("orders", "previous_status"): ORDER_STATUSES,
    ("orders", "priority"): ("LOW", "NORMAL", "HIGH", "URGENT", "CRITICAL"),
    ("orders", "type"): ("SALES", "PURCHASE", "RETURN", "EXCHANGE", "TRANSFER", "ADJUSTMENT"),
    ("orders", "payment_status"): (
        "PENDING",
        "PAID",
        "PARTIALLY_PAID",
        "OVERDUE",
        "REFUNDED",
        "FAILED",
    ),
    ("orders", "shipping_method"): (
        "STANDARD",
        "EXPRESS",
        "OVERNIGHT",
        "INTERNATIONAL",
        "PICKUP",
        "DIGITAL",
    ),
    ("order_items", "status"): (
        "PENDING",
        "CONFIRMED",
        "SHIPPED",
        "DELIVERED",
        "CANCELLED",
        "RETURNED",
    ),
    ("inventory_transactions", "transaction_type"): ("IN", "OUT", "ADJUST", "TRANSFER"),
    ("order_addresses", "type"): ("shipping", "billing"),
}

# The seed's foreign keys: (table, column, referenced table, ON DELETE action or None).
FOREIGN_KEYS: tuple[tuple[str, str, str, str | None], ...] = (
    ("user_roles", "user_id", "users", "CASCADE"),
    ("user_roles", "role_id", "roles", "CASCADE"),
    ("user_roles", "assigned_by", "users", None),
    ("product_categories", "parent_id", "product_categories", "RESTRICT"),
    ("products", "category_id", "product_categories", "RESTRICT"),
    ("product_variants", "product_id", "products", "CASCADE"),
    ("customers", "user_id", "users", "SET NULL"),
    ("orders", "customer_id", "customers", "RESTRICT"),
    ("orders", "shipping_address_id", "order_addresses", "RESTRICT"),
    ("orders", "billing_address_id", "order_addresses", "RESTRICT"),
    ("order_items", "order_id", "orders", "CASCADE"),
    ("order_items", "product_id", "products", "RESTRICT"),
    ("order_items", "variant_id", "product_variants", "RESTRICT"),
    ("warehouses", "manager_id", "users", None),
    ("product_inventory", "product_id", "products", "CASCADE"),
    ("product_inventory", "warehouse_id", "warehouses", "CASCADE"),
    ("inventory_transactions", "product_id", "products", "CASCADE"),
    ("inventory_transactions", "warehouse_id", "warehouses", "CASCADE"),
)

SEED_CONSTRAINTS: dict[str, Constraint] = dict(
    [
        *(_primary_key(table) for table in SEED_TABLES),
        # UNIQUE
        _unique("users", "email"),
        _unique("users", "username"),
        _unique("roles", "name"),
        _unique("user_roles", "user_id", "role_id"),
        _unique("products", "sku"),
        _unique("product_variants", "product_id", "sku"),
        _unique("customers", "customer_code"),
        _unique("customers", "email"),
        _unique("orders", "order_number"),
        _unique("warehouses", "code"),
        _unique("product_inventory", "product_id", "warehouse_id"),
        # FOREIGN KEY
        *(_foreign_key(*fk) for fk in FOREIGN_KEYS),
        # CHECK, inline in the CREATE TABLEs
        _positive("products", "price"),
        _check("products", "products_cost_check", "(cost >= (0)::numeric)"),
        _positive("product_variants", "price"),
        _check("order_items", "order_items_quantity_check", "(quantity > 0)"),
        _positive("order_items", "unit_price"),
        *(_one_of(table, column, values) for (table, column), values in ENUMERATIONS.items()),
        # CHECK, the seed's named ALTER TABLE ... ADD CONSTRAINT
        _check(
            "products",
            "check_cost_not_higher_than_price",
            "((cost <= price) OR (cost = (0)::numeric))",
        ),
        _check(
            "orders",
            "check_total_calculation",
            "(total_amount = (((subtotal + tax_amount) + shipping_amount) - discount_amount))",
        ),
        _check(
            "orders",
            "check_status_progression",
            "((((status)::text = 'DRAFT'::text) AND (previous_status IS NULL))"
            " OR (previous_status IS NOT NULL))",
        ),
        _check(
            "product_inventory",
            "check_inventory_quantities",
            "((quantity_available >= 0) AND (quantity_reserved >= 0)"
            " AND (quantity_available >= quantity_reserved))",
        ),
    ]
)

NAMED_CHECKS = (
    "check_cost_not_higher_than_price",
    "check_total_calculation",
    "check_status_progression",
    "check_inventory_quantities",
)

# -- indexes: the seed's CREATE INDEX statements, as pg_indexes.indexdef renders them
_NAMED_INDEXES = {
    "idx_users_email": "users USING btree (email)",
    "idx_users_username": "users USING btree (username)",
    "idx_users_active": "users USING btree (is_active)",
    "idx_users_verified": "users USING btree (is_verified)",
    "idx_users_created_at": "users USING btree (created_at)",
    "idx_products_sku": "products USING btree (sku)",
    "idx_products_name": "products USING gin (to_tsvector('english'::regconfig, (name)::text))",
    "idx_products_category_id": "products USING btree (category_id)",
    "idx_products_price": "products USING btree (price)",
    "idx_products_is_active": "products USING btree (is_active)",
    "idx_products_is_featured": "products USING btree (is_featured)",
    "idx_products_category_active": (
        "products USING btree (category_id, is_active) WHERE (is_active = true)"
    ),
    "idx_products_active_featured": (
        "products USING btree (is_active, is_featured)"
        " WHERE ((is_active = true) AND (is_featured = true))"
    ),
    "idx_products_stock_quantity": (
        "products USING btree (stock_quantity) WHERE (track_inventory = true)"
    ),
    "idx_orders_customer_id": "orders USING btree (customer_id)",
    "idx_orders_status": "orders USING btree (status)",
    "idx_orders_order_date": "orders USING btree (order_date)",
    "idx_orders_payment_status": "orders USING btree (payment_status)",
    "idx_orders_customer_status": "orders USING btree (customer_id, status)",
    "idx_orders_status_date": "orders USING btree (status, order_date)",
    "idx_orders_currency_total": "orders USING btree (currency, total_amount)",
    "idx_orders_tracking_number": (
        "orders USING btree (tracking_number) WHERE (tracking_number IS NOT NULL)"
    ),
    "idx_order_items_order_id": "order_items USING btree (order_id)",
    "idx_order_items_product_id": "order_items USING btree (product_id)",
    "idx_order_items_variant_id": "order_items USING btree (variant_id)",
    "idx_active_products": "products USING btree (id) WHERE (is_active = true)",
    "idx_customers_email_lower": "customers USING btree (lower((email)::text))",
    "idx_orders_covering": "orders USING btree (customer_id, status, total_amount)",
}

PARTIAL_UNIQUE_INDEXES = {
    "idx_unique_emails": "users USING btree (email) WHERE (is_active = true)",
    "idx_unique_customer_emails": (
        "customers USING btree (email) WHERE ((status)::text = 'ACTIVE'::text)"
    ),
    "idx_unique_skus": "products USING btree (sku) WHERE (is_active = true)",
    "idx_unique_variant_skus": (
        "product_variants USING btree (sku, product_id) WHERE (is_active = true)"
    ),
}


def _constraint_index(name: str, constraint: Constraint) -> str:
    columns = constraint.definition.split("(", 1)[1].rstrip(")")
    return f"CREATE UNIQUE INDEX {name} ON {constraint.table} USING btree ({columns})"


SEED_INDEXES: dict[str, tuple[str, str]] = {
    **{
        name: (definition.split()[0], f"CREATE INDEX {name} ON {definition}")
        for name, definition in _NAMED_INDEXES.items()
    },
    **{
        name: (definition.split()[0], f"CREATE UNIQUE INDEX {name} ON {definition}")
        for name, definition in PARTIAL_UNIQUE_INDEXES.items()
    },
    # Every PRIMARY KEY and UNIQUE constraint is backed by an index of the same name.
    **{
        name: (constraint.table, _constraint_index(name, constraint))
        for name, constraint in SEED_CONSTRAINTS.items()
        if constraint.type in ("p", "u")
    },
}

# -- functions and triggers

SEED_FUNCTIONS: dict[str, tuple[str, str, str]] = {
    "update_updated_at_column()": (
        "plpgsql",
        "trigger",
        normalize_sql("""
            BEGIN
                NEW.updated_at = CURRENT_TIMESTAMP;
                RETURN NEW;
            END;
        """),
    ),
    "update_product_stock()": (
        "plpgsql",
        "trigger",
        normalize_sql("""
            BEGIN
                UPDATE products
                SET stock_quantity = (
                    SELECT COALESCE(SUM(quantity_available), 0)
                    FROM product_inventory
                    WHERE product_id = NEW.product_id
                )
                WHERE id = NEW.product_id;

                RETURN NEW;
            END;
        """),
    ),
    "track_order_status_change()": (
        "plpgsql",
        "trigger",
        normalize_sql("""
            BEGIN
                NEW.previous_status = OLD.status;
                RETURN NEW;
            END;
        """),
    ),
}

# "Apply to all relevant tables": every seed table that has an updated_at column.
TABLES_WITH_UPDATED_AT = (
    "users",
    "roles",
    "product_categories",
    "products",
    "product_variants",
    "customers",
    "order_addresses",
    "orders",
    "order_items",
    "warehouses",
)

SEED_TRIGGERS: dict[str, tuple[str, str]] = {
    **{
        f"update_{table}_updated_at": (
            table,
            f"CREATE TRIGGER update_{table}_updated_at BEFORE UPDATE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()",
        )
        for table in TABLES_WITH_UPDATED_AT
    },
    "trigger_update_product_stock": (
        "product_inventory",
        "CREATE TRIGGER trigger_update_product_stock AFTER INSERT OR UPDATE ON product_inventory"
        " FOR EACH ROW EXECUTE FUNCTION update_product_stock()",
    ),
    "trigger_order_status_change": (
        "orders",
        "CREATE TRIGGER trigger_order_status_change BEFORE UPDATE OF status ON orders"
        " FOR EACH ROW EXECUTE FUNCTION track_order_status_change()",
    ),
}

# The seed's `Extensions: uuid-ossp, pg_trgm, btree_gin`, less uuid-ossp (docs/schema.md).
SEED_EXTENSIONS = frozenset({"pg_trgm", "btree_gin"})
