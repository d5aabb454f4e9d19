"""Typed SQLAlchemy models of the seed schema (and of what later revisions add).

The migrations in `migrations/` are the source of truth for the schema; these models
describe the same schema for queries, and a test compares the two so they never drift.
Constraint names are PostgreSQL's own defaults for the seed's unnamed constraints.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    CHAR,
    BigInteger,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, OID, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

UUID_DEFAULT = text("gen_random_uuid()")
NOW = text("now()")
ZERO = text("0")
TRUE = text("true")
FALSE = text("false")

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


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


Money = Numeric(12, 2)
Weight = Numeric(10, 3)
Dimension = Numeric(8, 2)
Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        uuid.UUID: UUID(as_uuid=True),
        Decimal: Money,
        datetime: Timestamp,
        dict[str, Any]: JSONB,
    }


class Versioned:
    """Revision 0004: the version a save must be based on, and who saved last.

    SQLAlchemy adds `WHERE version = <loaded>` to every UPDATE and bumps it, so a save over
    someone else's newer save fails instead of overwriting it.
    """

    version: Mapped[int] = mapped_column(server_default=text("1"))
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, server_default=UUID_DEFAULT)


def timestamp_column(nullable: bool = False) -> Mapped[datetime]:
    default = text("CURRENT_TIMESTAMP") if nullable else NOW
    return mapped_column(Timestamp, nullable=nullable, server_default=default)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("idx_users_email", "email"),
        Index("idx_users_username", "username"),
        Index("idx_users_active", "is_active"),
        Index("idx_users_verified", "is_verified"),
        Index("idx_users_created_at", "created_at"),
        Index("idx_unique_emails", "email", unique=True, postgresql_where=text("is_active = true")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(255), unique=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    # Never loaded: nobody may read it (revision 0011); the password is the login role's.
    password_hash: Mapped[str] = mapped_column(String(255), deferred=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    is_active: Mapped[bool | None] = mapped_column(server_default=TRUE)
    is_verified: Mapped[bool | None] = mapped_column(server_default=FALSE)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime | None] = timestamp_column(nullable=True)
    updated_at: Mapped[datetime | None] = timestamp_column(nullable=True)
    # Revision 0004: repeated failed logins lock the account for a while.
    failed_login_count: Mapped[int] = mapped_column(server_default=ZERO)
    locked_until: Mapped[datetime | None]
    # Revision 0009: the PostgreSQL login role the person signs in as.
    login_role: Mapped[str | None] = mapped_column(String(63), unique=True)

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", foreign_keys="UserRole.user_id", passive_deletes=True
    )


class Role(Base):
    __tablename__ = "roles"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(50), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    permissions: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    is_active: Mapped[bool | None] = mapped_column(server_default=TRUE)
    created_at: Mapped[datetime | None] = timestamp_column(nullable=True)
    updated_at: Mapped[datetime | None] = timestamp_column(nullable=True)
    # Revision 0011: the PostgreSQL group role of this application role.
    db_role: Mapped[str | None] = mapped_column(String(63), unique=True)


class SecuritySettings(Base):
    """Revision 0011: the names of the roles this database made (services/security.py)."""

    __tablename__ = "erpgo_security"
    __table_args__ = (CheckConstraint("singleton", name="erpgo_security_singleton_check"),)

    singleton: Mapped[bool] = mapped_column(primary_key=True, server_default=TRUE)
    role_prefix: Mapped[str] = mapped_column(String(12))
    person_role: Mapped[str] = mapped_column(String(63))
    definer_role: Mapped[str] = mapped_column(String(63))
    database_oid: Mapped[int] = mapped_column(OID)


class PermissionRole(Base):
    """Revision 0011: the role holding each permission's grants."""

    __tablename__ = "erpgo_permission_roles"

    permission: Mapped[str] = mapped_column(String(100), primary_key=True)
    role_name: Mapped[str] = mapped_column(String(63), unique=True)


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "role_id", name="user_roles_user_id_role_id_key"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"))
    assigned_at: Mapped[datetime | None] = timestamp_column(nullable=True)
    assigned_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="roles", foreign_keys=[user_id])
    role: Mapped[Role] = relationship()


class ProductCategory(Versioned, Base):
    __tablename__ = "product_categories"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("product_categories.id", ondelete="RESTRICT")
    )
    path: Mapped[str | None] = mapped_column(String(1000))
    level: Mapped[int] = mapped_column(server_default=text("1"))
    sort_order: Mapped[int | None] = mapped_column(server_default=ZERO)
    is_active: Mapped[bool | None] = mapped_column(server_default=TRUE)
    created_at: Mapped[datetime | None] = timestamp_column(nullable=True)
    updated_at: Mapped[datetime | None] = timestamp_column(nullable=True)

    parent: Mapped[ProductCategory | None] = relationship(remote_side=[id])


class Product(Versioned, Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price > 0", name="products_price_check"),
        CheckConstraint("cost >= 0", name="products_cost_check"),
        CheckConstraint("cost <= price OR cost = 0", name="check_cost_not_higher_than_price"),
        Index("idx_products_sku", "sku"),
        Index(
            "idx_products_name",
            func.to_tsvector(text("'english'::regconfig"), text("name")),
            postgresql_using="gin",
        ),
        Index("idx_products_category_id", "category_id"),
        Index("idx_products_price", "price"),
        Index("idx_products_is_active", "is_active"),
        Index("idx_products_is_featured", "is_featured"),
        Index(
            "idx_products_category_active",
            "category_id",
            "is_active",
            postgresql_where=text("is_active = true"),
        ),
        Index(
            "idx_products_active_featured",
            "is_active",
            "is_featured",
            postgresql_where=text("is_active = true AND is_featured = true"),
        ),
        Index(
            "idx_products_stock_quantity",
            "stock_quantity",
            postgresql_where=text("track_inventory = true"),
        ),
        Index("idx_active_products", "id", postgresql_where=text("is_active = true")),
        Index("idx_unique_skus", "sku", unique=True, postgresql_where=text("is_active = true")),
        # Revision 0003: substring search and keyset paging for the Products list.
        Index(
            "idx_products_sku_trgm",
            "sku",
            postgresql_using="gin",
            postgresql_ops={"sku": "gin_trgm_ops"},
        ),
        Index(
            "idx_products_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        Index("idx_products_sku_id", "sku", "id"),
        Index("idx_products_name_id", "name", "id"),
        Index("idx_products_price_id", "price", "id"),
        Index("idx_products_stock_quantity_id", "stock_quantity", "id"),
        # Revision 0019: an item's SKU and name for reports grouping many items.
        Index("idx_products_id_label", "id", postgresql_include=["sku", "name"]),
        # Revision 0005: scanner lookups and searching parts of barcodes.
        Index("idx_products_barcode", "barcode", postgresql_where=text("barcode IS NOT NULL")),
        Index(
            "idx_products_barcode_trgm",
            "barcode",
            postgresql_using="gin",
            postgresql_ops={"barcode": "gin_trgm_ops"},
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    sku: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    short_description: Mapped[str | None] = mapped_column(String(500))
    category_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("product_categories.id", ondelete="RESTRICT")
    )
    price: Mapped[Decimal]
    cost: Mapped[Decimal] = mapped_column(server_default=ZERO)
    weight: Mapped[Decimal] = mapped_column(Weight, server_default=ZERO)
    dimensions: Mapped[str | None] = mapped_column(String(100))
    length: Mapped[Decimal] = mapped_column(Dimension, server_default=ZERO)
    width: Mapped[Decimal] = mapped_column(Dimension, server_default=ZERO)
    height: Mapped[Decimal] = mapped_column(Dimension, server_default=ZERO)
    volume: Mapped[Decimal] = mapped_column(Weight, server_default=ZERO)
    barcode: Mapped[str | None] = mapped_column(String(50))
    track_inventory: Mapped[bool] = mapped_column(server_default=TRUE)
    stock_quantity: Mapped[int] = mapped_column(server_default=ZERO)
    min_stock_level: Mapped[int] = mapped_column(server_default=ZERO)
    max_stock_level: Mapped[int] = mapped_column(server_default=ZERO)
    allow_backorder: Mapped[bool] = mapped_column(server_default=FALSE)
    requires_shipping: Mapped[bool] = mapped_column(server_default=TRUE)
    taxable: Mapped[bool] = mapped_column(server_default=TRUE)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default=ZERO)
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    is_featured: Mapped[bool] = mapped_column(server_default=FALSE)
    is_digital: Mapped[bool] = mapped_column(server_default=FALSE)
    download_url: Mapped[str | None] = mapped_column(String(1000))
    max_downloads: Mapped[int] = mapped_column(server_default=ZERO)
    expiry_days: Mapped[int] = mapped_column(server_default=ZERO)
    created_at: Mapped[datetime] = timestamp_column()
    updated_at: Mapped[datetime] = timestamp_column()

    category: Mapped[ProductCategory] = relationship()
    variants: Mapped[list[ProductVariant]] = relationship(
        back_populates="product", passive_deletes=True
    )
    inventory: Mapped[list[ProductInventory]] = relationship(
        back_populates="product", passive_deletes=True
    )


class ProductVariant(Versioned, Base):
    __tablename__ = "product_variants"
    __table_args__ = (
        UniqueConstraint("product_id", "sku", name="product_variants_product_id_sku_key"),
        CheckConstraint("price > 0", name="product_variants_price_check"),
        Index(
            "idx_unique_variant_skus",
            "sku",
            "product_id",
            unique=True,
            postgresql_where=text("is_active = true"),
        ),
        Index(
            "idx_product_variants_barcode",
            "barcode",
            postgresql_where=text("barcode IS NOT NULL"),
        ),
        # Revision 0014: searching parts of variant SKUs and names.
        Index(
            "idx_product_variants_sku_trgm",
            "sku",
            postgresql_using="gin",
            postgresql_ops={"sku": "gin_trgm_ops"},
        ),
        Index(
            "idx_product_variants_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    price: Mapped[Decimal]
    cost: Mapped[Decimal] = mapped_column(server_default=ZERO)
    weight: Mapped[Decimal] = mapped_column(Weight, server_default=ZERO)
    barcode: Mapped[str | None] = mapped_column(String(50))
    track_inventory: Mapped[bool] = mapped_column(server_default=TRUE)
    stock_quantity: Mapped[int] = mapped_column(server_default=ZERO)
    min_stock_level: Mapped[int] = mapped_column(server_default=ZERO)
    max_stock_level: Mapped[int] = mapped_column(server_default=ZERO)
    allow_backorder: Mapped[bool] = mapped_column(server_default=FALSE)
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    attributes: Mapped[Any | None] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = timestamp_column()
    updated_at: Mapped[datetime] = timestamp_column()

    product: Mapped[Product] = relationship(back_populates="variants")


#: A customer's code, names, company and email joined by blanks: every customer search
#: matches in one of them, so it matches here too, and the trigram index on this text
#: (revision 0014) finds every candidate with one bitmap. Spelled as the index is.
CUSTOMER_SEARCH_TEXT_SQL = (
    "coalesce(customer_code, '') || ' ' || first_name || ' ' || last_name || ' ' "
    "|| coalesce(company, '') || ' ' || email"
)


class Customer(Versioned, Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint(_in("type", ("INDIVIDUAL", "BUSINESS")), name="customers_type_check"),
        CheckConstraint(
            _in("status", ("ACTIVE", "INACTIVE", "SUSPENDED")), name="customers_status_check"
        ),
        Index("idx_customers_email_lower", func.lower(text("email"))),
        Index(
            "idx_unique_customer_emails",
            "email",
            unique=True,
            postgresql_where=text("status = 'ACTIVE'"),
        ),
        Index("idx_customers_name_id", "last_name", "first_name", "id"),  # revision 0005
        Index(  # revision 0014: what the searches match in, one trigram index
            "idx_customers_search_trgm",
            # The operator class inside the text: alembic then skips comparing the
            # expression (with a warning); test_customer_list.py checks a search uses it.
            text(f"({CUSTOMER_SEARCH_TEXT_SQL}) gin_trgm_ops"),
            postgresql_using="gin",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    customer_code: Mapped[str | None] = mapped_column(String(50), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    company: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(255), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(20), server_default=text("'INDIVIDUAL'"))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'ACTIVE'"))
    credit_limit: Mapped[Decimal | None] = mapped_column(server_default=ZERO)
    balance: Mapped[Decimal | None] = mapped_column(server_default=ZERO)
    tax_exempt: Mapped[bool | None] = mapped_column(server_default=FALSE)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp_column()
    updated_at: Mapped[datetime] = timestamp_column()

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class CustomerAddress(Base):
    """Revision 0015: a customer's billing or shipping address, which new orders copy."""

    __tablename__ = "customer_addresses"
    __table_args__ = (
        CheckConstraint(_in("type", ("billing", "shipping")), name="customer_addresses_type_check"),
        UniqueConstraint("customer_id", "type", name="customer_addresses_customer_id_type_key"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    company: Mapped[str | None] = mapped_column(String(200))
    address1: Mapped[str] = mapped_column(String(255))
    address2: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = timestamp_column()
    updated_at: Mapped[datetime] = timestamp_column()


class OrderAddress(Base):
    __tablename__ = "order_addresses"
    __table_args__ = (
        CheckConstraint(_in("type", ("shipping", "billing")), name="order_addresses_type_check"),
        # Revision 0019: the regions of a period's orders (sales by region).
        Index("idx_order_addresses_region", "id", postgresql_include=["country", "state"]),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    type: Mapped[str] = mapped_column(String(20))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    company: Mapped[str | None] = mapped_column(String(200))
    address1: Mapped[str] = mapped_column(String(255))
    address2: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = timestamp_column()
    updated_at: Mapped[datetime] = timestamp_column()


class Order(Versioned, Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(_in("status", ORDER_STATUSES), name="orders_status_check"),
        CheckConstraint(
            _in("previous_status", ORDER_STATUSES), name="orders_previous_status_check"
        ),
        CheckConstraint(
            _in("priority", ("LOW", "NORMAL", "HIGH", "URGENT", "CRITICAL")),
            name="orders_priority_check",
        ),
        CheckConstraint(
            _in("type", ("SALES", "PURCHASE", "RETURN", "EXCHANGE", "TRANSFER", "ADJUSTMENT")),
            name="orders_type_check",
        ),
        CheckConstraint(
            _in(
                "payment_status",
                ("PENDING", "PAID", "PARTIALLY_PAID", "OVERDUE", "REFUNDED", "FAILED"),
            ),
            name="orders_payment_status_check",
        ),
        CheckConstraint(
            _in(
                "shipping_method",
                ("STANDARD", "EXPRESS", "OVERNIGHT", "INTERNATIONAL", "PICKUP", "DIGITAL"),
            ),
            name="orders_shipping_method_check",
        ),
        CheckConstraint(
            "total_amount = subtotal + tax_amount + shipping_amount - discount_amount",
            name="check_total_calculation",
        ),
        CheckConstraint(
            "(status = 'DRAFT' AND previous_status IS NULL) OR (previous_status IS NOT NULL)",
            name="check_status_progression",
        ),
        Index("idx_orders_customer_id", "customer_id"),
        Index("idx_orders_status", "status"),
        Index("idx_orders_order_date", "order_date"),
        Index("idx_orders_payment_status", "payment_status"),
        Index("idx_orders_customer_status", "customer_id", "status"),
        Index("idx_orders_status_date", "status", "order_date"),
        Index("idx_orders_currency_total", "currency", "total_amount"),
        Index(
            "idx_orders_tracking_number",
            "tracking_number",
            postgresql_where=text("tracking_number IS NOT NULL"),
        ),
        Index("idx_orders_covering", "customer_id", "status", "total_amount"),
        Index("idx_orders_order_date_id", "order_date", "id"),  # revision 0005
        # Revision 0014: searching parts of order numbers; a customer's orders by date.
        Index(
            "idx_orders_number_trgm",
            "order_number",
            postgresql_using="gin",
            postgresql_ops={"order_number": "gin_trgm_ops"},
        ),
        Index("idx_orders_customer_date_id", "customer_id", "order_date", "id"),
        # Revision 0018: order numbers typed from their start, one range (the operator
        # class inside the text, as idx_customers_search_trgm; test_order_list.py checks
        # a search uses it).
        Index("idx_orders_number_prefix", text("lower(order_number) text_pattern_ops")),
        Index(  # revision 0006: overdue unpaid sales (services/dashboard.py SALE_STATUSES)
            "idx_orders_overdue",
            "required_date",
            postgresql_where=text(
                "paid_amount < total_amount AND status::text = ANY (ARRAY['PENDING', "
                "'CONFIRMED', 'PROCESSING', 'ON_HOLD', 'PARTIALLY_SHIPPED', 'SHIPPED', "
                "'DELIVERED']::text[])"
            ),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    order_number: Mapped[str] = mapped_column(String(50), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'DRAFT'"))
    previous_status: Mapped[str | None] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10), server_default=text("'NORMAL'"))
    type: Mapped[str] = mapped_column(String(15), server_default=text("'SALES'"))
    payment_status: Mapped[str] = mapped_column(String(15), server_default=text("'PENDING'"))
    shipping_method: Mapped[str] = mapped_column(String(20), server_default=text("'STANDARD'"))

    subtotal: Mapped[Decimal] = mapped_column(server_default=ZERO)
    tax_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    shipping_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    discount_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    total_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    paid_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    refunded_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    currency: Mapped[str] = mapped_column(String(3), server_default=text("'USD'"))

    order_date: Mapped[datetime] = timestamp_column()
    required_date: Mapped[datetime | None]
    shipping_date: Mapped[datetime | None]
    delivery_date: Mapped[datetime | None]
    cancelled_date: Mapped[datetime | None]

    shipping_address_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("order_addresses.id", ondelete="RESTRICT")
    )
    billing_address_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("order_addresses.id", ondelete="RESTRICT")
    )

    notes: Mapped[str | None] = mapped_column(Text)
    internal_notes: Mapped[str | None] = mapped_column(Text)
    customer_notes: Mapped[str | None] = mapped_column(Text)
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    carrier: Mapped[str | None] = mapped_column(String(50))

    # The seed gives these no foreign keys; they name users all the same.
    created_by: Mapped[uuid.UUID]
    approved_by: Mapped[uuid.UUID | None]
    shipped_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = timestamp_column()
    updated_at: Mapped[datetime] = timestamp_column()
    approved_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship()
    shipping_address: Mapped[OrderAddress] = relationship(foreign_keys=[shipping_address_id])
    billing_address: Mapped[OrderAddress] = relationship(foreign_keys=[billing_address_id])
    items: Mapped[list[OrderItem]] = relationship(back_populates="order", passive_deletes=True)


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="order_items_quantity_check"),
        CheckConstraint("unit_price > 0", name="order_items_unit_price_check"),
        CheckConstraint(
            _in(
                "status", ("PENDING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED", "RETURNED")
            ),
            name="order_items_status_check",
        ),
        Index("idx_order_items_order_id", "order_id"),
        Index("idx_order_items_product_id", "product_id"),
        Index("idx_order_items_variant_id", "variant_id"),
        # Revision 0019: a period's lines as sales by product adds them up.
        Index(
            "idx_order_items_order_sales",
            "order_id",
            postgresql_include=[
                "product_id",
                "variant_id",
                "status",
                "quantity",
                "unit_price",
                "discount_amount",
                "returned_quantity",
            ],
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    variant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("product_variants.id", ondelete="RESTRICT")
    )
    quantity: Mapped[int]
    unit_price: Mapped[Decimal]
    total_price: Mapped[Decimal | None] = mapped_column(
        Money, Computed("quantity * unit_price", persisted=True)
    )
    tax_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    discount_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    final_price: Mapped[Decimal] = mapped_column(
        Money,
        Computed("quantity * unit_price + tax_amount - discount_amount", persisted=True),
        nullable=False,
    )
    weight: Mapped[Decimal] = mapped_column(Weight, server_default=ZERO)
    status: Mapped[str] = mapped_column(String(20), server_default=text("'PENDING'"))
    shipped_quantity: Mapped[int] = mapped_column(server_default=ZERO)
    returned_quantity: Mapped[int] = mapped_column(server_default=ZERO)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp_column()
    updated_at: Mapped[datetime] = timestamp_column()

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()
    variant: Mapped[ProductVariant | None] = relationship()


class Warehouse(Versioned, Base):
    __tablename__ = "warehouses"

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(255))
    manager_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    is_active: Mapped[bool | None] = mapped_column(server_default=TRUE)
    created_at: Mapped[datetime] = timestamp_column()
    updated_at: Mapped[datetime] = timestamp_column()

    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id])


#: Revision 0019: a stock row's kept value (quantity times cost or price).
StockValue = Numeric(20, 2)


def _stock_report_indexes(table: str, item: str) -> tuple[Index, ...]:
    """Revision 0019: the valuation sorted by value or on hand, a page at a time."""
    on_hand = text("quantity_available > 0")
    return tuple(
        Index(f"idx_{table}_{name}", column, item, "warehouse_id", postgresql_where=on_hand)
        for name, column in (
            ("value_at_cost", "value_at_cost"),
            ("value_at_price", "value_at_price"),
            ("on_hand", "quantity_available"),
        )
    )


class ProductInventory(Base):
    __tablename__ = "product_inventory"
    __table_args__ = (
        UniqueConstraint(
            "product_id", "warehouse_id", name="product_inventory_product_id_warehouse_id_key"
        ),
        CheckConstraint(
            "quantity_available >= 0 AND quantity_reserved >= 0 "
            "AND quantity_available >= quantity_reserved",
            name="check_inventory_quantities",
        ),
        CheckConstraint("quantity_available <= 999999999", name="check_inventory_upper_bound"),
        Index("idx_product_inventory_warehouse_id", "warehouse_id"),
        # Revision 0007: the low-stock list reads through it.
        Index("idx_product_inventory_low", "warehouse_id", postgresql_where=text("is_low")),
        *_stock_report_indexes("product_inventory", "product_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    quantity_available: Mapped[int] = mapped_column(server_default=ZERO)
    quantity_reserved: Mapped[int] = mapped_column(server_default=ZERO)
    reorder_level: Mapped[int] = mapped_column(server_default=ZERO)
    max_stock: Mapped[int | None]
    last_updated_at: Mapped[datetime] = timestamp_column()
    updated_by: Mapped[uuid.UUID | None]
    #: Sellable at or below the reorder level that applies; kept by triggers (revision 0007).
    is_low: Mapped[bool] = mapped_column(server_default=FALSE)
    #: On hand times the product's cost and price; kept by triggers (revision 0019).
    value_at_cost: Mapped[Decimal] = mapped_column(StockValue, server_default=ZERO)
    value_at_price: Mapped[Decimal] = mapped_column(StockValue, server_default=ZERO)

    product: Mapped[Product] = relationship(back_populates="inventory")
    warehouse: Mapped[Warehouse] = relationship()


class InventoryTransaction(Base):
    __tablename__ = "inventory_transactions"
    __table_args__ = (
        CheckConstraint(
            _in("transaction_type", ("IN", "OUT", "ADJUST", "TRANSFER")),
            name="inventory_transactions_transaction_type_check",
        ),
        Index("idx_inventory_transactions_stock", "product_id", "warehouse_id", "variant_id"),
        Index(
            "idx_inventory_transactions_reference_id",
            "reference_id",
            postgresql_where=text("reference_id IS NOT NULL"),
        ),
        # Revision 0019: a period's ledger rows, read without the table (stock movements).
        Index(
            "idx_inventory_transactions_time",
            "created_at",
            postgresql_include=[
                "product_id",
                "variant_id",
                "warehouse_id",
                "transaction_type",
                "quantity",
            ],
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    transaction_type: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int]
    reference_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp_column()
    created_by: Mapped[uuid.UUID | None]
    # Revision 0004: set on the ledger rows of a variant's own stock.
    variant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("product_variants.id", ondelete="CASCADE")
    )

    product: Mapped[Product] = relationship()
    warehouse: Mapped[Warehouse] = relationship()


# Revision 0004 -----------------------------------------------------------------------


class DocumentCounter(Base):
    """The last number issued per kind of document and year (0 for never-restarting)."""

    __tablename__ = "document_counters"
    __table_args__ = (
        CheckConstraint("last_value >= 0", name="document_counters_last_value_check"),
    )

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(server_default=ZERO)


class StockReservation(Base):
    """How much of an order line a warehouse holds for it, from confirming until shipping."""

    __tablename__ = "stock_reservations"
    __table_args__ = (
        UniqueConstraint(
            "order_item_id",
            "warehouse_id",
            name="stock_reservations_order_item_id_warehouse_id_key",
        ),
        CheckConstraint("quantity > 0", name="stock_reservations_quantity_check"),
        Index("idx_stock_reservations_warehouse_id", "warehouse_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    order_item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("order_items.id", ondelete="CASCADE")
    )
    warehouse_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("warehouses.id", ondelete="RESTRICT")
    )
    quantity: Mapped[int]
    created_at: Mapped[datetime] = timestamp_column()


class VariantInventory(Base):
    """A variant's own stock per warehouse, kept like product_inventory."""

    __tablename__ = "variant_inventory"
    __table_args__ = (
        UniqueConstraint(
            "variant_id", "warehouse_id", name="variant_inventory_variant_id_warehouse_id_key"
        ),
        CheckConstraint(
            "quantity_available >= 0 AND quantity_reserved >= 0 "
            "AND quantity_available >= quantity_reserved",
            name="check_variant_inventory_quantities",
        ),
        CheckConstraint(
            "quantity_available <= 999999999", name="check_variant_inventory_upper_bound"
        ),
        Index("idx_variant_inventory_low", "warehouse_id", postgresql_where=text("is_low")),
        *_stock_report_indexes("variant_inventory", "variant_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("product_variants.id", ondelete="CASCADE")
    )
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    quantity_available: Mapped[int] = mapped_column(server_default=ZERO)
    quantity_reserved: Mapped[int] = mapped_column(server_default=ZERO)
    reorder_level: Mapped[int] = mapped_column(server_default=ZERO)
    max_stock: Mapped[int | None]
    last_updated_at: Mapped[datetime] = timestamp_column()
    updated_by: Mapped[uuid.UUID | None]
    #: Sellable at or below the reorder level that applies; kept by triggers (revision 0007).
    is_low: Mapped[bool] = mapped_column(server_default=FALSE)
    #: On hand times the variant's cost (its product's when it has none) and price; kept by
    #: triggers (revision 0019).
    value_at_cost: Mapped[Decimal] = mapped_column(StockValue, server_default=ZERO)
    value_at_price: Mapped[Decimal] = mapped_column(StockValue, server_default=ZERO)


# Revision 0005 -----------------------------------------------------------------------


class OrderStatusHistory(Base):
    """Each status an order entered; written by a trigger on orders, never by the services."""

    __tablename__ = "order_status_history"
    __table_args__ = (Index("idx_order_status_history_order", "order_id", "changed_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    changed_by: Mapped[uuid.UUID | None]  # a user, without a foreign key as orders.created_by
    changed_at: Mapped[datetime] = timestamp_column()


# Revision 0006 -----------------------------------------------------------------------
# The dashboard's summaries, kept by triggers (see the migration). Writers append signed
# changes to the *_pending tables; dashboard_fold() adds them into the summaries. A figure
# is always the summary plus its pending rows.

Total = Numeric(20, 2)


class DashboardStockValue(Base):
    __tablename__ = "dashboard_stock_value"

    warehouse_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    category_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    units: Mapped[int] = mapped_column(BigInteger)
    at_cost: Mapped[Decimal] = mapped_column(Total)
    at_price: Mapped[Decimal] = mapped_column(Total)


class DashboardOrderDay(Base):
    __tablename__ = "dashboard_order_day"

    day: Mapped[date] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    orders: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[Decimal] = mapped_column(Total)


class DashboardProductDay(Base):
    __tablename__ = "dashboard_product_day"
    __table_args__ = (
        # Revision 0008: top_products' month bound needs to know where no day is negative.
        Index(
            "idx_dashboard_product_day_negative",
            "day",
            postgresql_where=text("revenue < 0::numeric"),
        ),
    )

    day: Mapped[date] = mapped_column(primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[Decimal] = mapped_column(Total)


class DashboardProductMonth(Base):
    """dashboard_product_day summed per month (revision 0008), folded from the same pending
    changes; ranked per month for DashboardService.top_products."""

    __tablename__ = "dashboard_product_month"
    __table_args__ = (
        Index(
            "idx_dashboard_product_month_rank",
            "month",
            text("revenue DESC"),
            "product_id",
        ),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[Decimal] = mapped_column(Total)


class DashboardCustomerDay(Base):
    __tablename__ = "dashboard_customer_day"
    __table_args__ = (
        # Revision 0016: the month bound of top_customers, as for products.
        Index(
            "idx_dashboard_customer_day_negative",
            "day",
            postgresql_where=text("revenue < 0::numeric"),
        ),
    )

    day: Mapped[date] = mapped_column(primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    orders: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[Decimal] = mapped_column(Total)


class DashboardCustomerMonth(Base):
    """dashboard_customer_day summed per month (revision 0016), folded from the same pending
    changes; ranked per month for DashboardService.top_customers."""

    __tablename__ = "dashboard_customer_month"
    __table_args__ = (
        Index(
            "idx_dashboard_customer_month_rank",
            "month",
            text("revenue DESC"),
            "customer_id",
        ),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    orders: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[Decimal] = mapped_column(Total)


def _pending(summary: type[Base]) -> Table:
    """The summary's twin without a key: signed changes waiting to be folded in."""
    source = summary.__table__
    return Table(
        f"{summary.__tablename__}_pending",
        Base.metadata,
        *(Column(column.name, column.type, nullable=False) for column in source.columns),
    )


dashboard_stock_value_pending = _pending(DashboardStockValue)
dashboard_order_day_pending = _pending(DashboardOrderDay)
dashboard_product_day_pending = _pending(DashboardProductDay)
dashboard_customer_day_pending = _pending(DashboardCustomerDay)


# Revision 0019 -----------------------------------------------------------------------


class ReportStockTotals(Base):
    """The inventory valuation's totals per warehouse, kept like the dashboard's summaries:
    a total is this plus `report_stock_totals_pending`, which report_stock_fold() folds in."""

    __tablename__ = "report_stock_totals"

    warehouse_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    #: Stock rows with stock on hand (the valuation's rows).
    stock_rows: Mapped[int] = mapped_column(BigInteger)
    on_hand: Mapped[int] = mapped_column(BigInteger)
    reserved: Mapped[int] = mapped_column(BigInteger)
    value_at_cost: Mapped[Decimal] = mapped_column(Numeric(22, 2))
    value_at_price: Mapped[Decimal] = mapped_column(Numeric(22, 2))


report_stock_totals_pending = _pending(ReportStockTotals)


# Revision 0012 -----------------------------------------------------------------------
class ChangeLog(Base):
    """One record's change, written by the history triggers; nobody writes it directly."""

    __tablename__ = "change_log"
    __table_args__ = (
        CheckConstraint("action IN ('I', 'U', 'D')", name="change_log_action_check"),
        Index("idx_change_log_subject", "subject_id", "id"),
        Index("idx_change_log_changed_at", "changed_at", postgresql_using="brin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(Timestamp, server_default=text("now()"))
    table_name: Mapped[str] = mapped_column(String(63))
    record_id: Mapped[uuid.UUID]
    # The record whose History page shows the change: an order line's order, say.
    subject_id: Mapped[uuid.UUID]
    action: Mapped[str] = mapped_column(CHAR(1))
    # session_user: the person's login role (users.login_role), or a maintainer's role.
    db_role: Mapped[str] = mapped_column(String(63), server_default=text("SESSION_USER"))
    changes: Mapped[Any] = mapped_column(JSONB)


class TrackedTable(Base):
    """Revision 0012: the tables whose changes are kept, and which need users.admin to read."""

    __tablename__ = "erpgo_tracked_tables"

    table_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    administration: Mapped[bool] = mapped_column(server_default=FALSE)
