"""Customers and orders for the list tests, written with plain SQL into the test's database.

Shared by tests/services/test_customer_list.py, test_order_list.py and the Customers and
Orders tab tests. Bulk seeds repeat names, dates and totals on purpose: pages must break
ties by id without losing or repeating a row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.services.auth import CurrentUser


def role_user(role: str) -> CurrentUser:
    """A signed-in user with one default role (reading needs no row in users)."""
    return CurrentUser(
        id=uuid.uuid4(),
        username=role,
        full_name=role.title(),
        roles=(role,),
        permissions=frozenset(perms.DEFAULT_ROLES[role]),
    )


def insert_customer(
    engine: Engine,
    first_name: str,
    last_name: str,
    *,
    email: str | None = None,
    code: str | None = None,
    company: str | None = None,
    phone: str | None = None,
    type: str = "INDIVIDUAL",
    status: str = "ACTIVE",
    credit_limit: str = "0",
    balance: str = "0",
) -> uuid.UUID:
    with engine.begin() as conn:
        customer_id = conn.execute(
            text(
                "INSERT INTO customers (customer_code, first_name, last_name, company, email, "
                "phone, type, status, credit_limit, balance) VALUES (:code, :first, :last, "
                ":company, :email, :phone, :type, :status, :limit, :balance) RETURNING id"
            ),
            {
                "code": code,
                "first": first_name,
                "last": last_name,
                "company": company,
                "email": email or f"{first_name}.{last_name}@example.com".lower(),
                "phone": phone,
                "type": type,
                "status": status,
                "limit": Decimal(credit_limit),
                "balance": Decimal(balance),
            },
        ).scalar_one()
    assert isinstance(customer_id, uuid.UUID)
    return customer_id


def seed_customers(engine: Engine, count: int) -> None:
    """`count` customers CUST-000001...; every 17th has no code; names repeat (ties)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO customers (customer_code, first_name, last_name, company, email,
                                       type, status, credit_limit, balance)
                SELECT CASE WHEN i % 17 = 0 THEN NULL ELSE 'CUST-' || lpad(i::text, 6, '0') END,
                       'First' || (i % 3),
                       'Last' || (i % 5),
                       CASE WHEN i % 2 = 0 THEN 'Company ' || i END,
                       'customer' || i || '@example.com',
                       CASE WHEN i % 2 = 0 THEN 'BUSINESS' ELSE 'INDIVIDUAL' END,
                       (ARRAY['ACTIVE', 'INACTIVE', 'SUSPENDED'])[i % 3 + 1],
                       i * 10,
                       i
                FROM generate_series(1, :count) AS i
                """
            ),
            {"count": count},
        )


def _address(conn: Connection, kind: str) -> uuid.UUID:
    address_id = conn.execute(
        text(
            "INSERT INTO order_addresses (type, first_name, last_name, address1, city, "
            "postal_code, country) VALUES (:kind, 'Grace', 'Hopper', '1 Navy Yard', "
            "'Arlington', '22202', 'USA') RETURNING id"
        ),
        {"kind": kind},
    ).scalar_one()
    assert isinstance(address_id, uuid.UUID)
    return address_id


def insert_order(
    engine: Engine,
    customer_id: uuid.UUID,
    number: str,
    order_date: datetime,
    *,
    status: str = "PENDING",
    payment_status: str = "PENDING",
    total: str = "10.00",
    paid: str = "0.00",
) -> uuid.UUID:
    """An order without lines; `total` is all subtotal (the total's CHECK adds it up)."""
    with engine.begin() as conn:
        shipping, billing = _address(conn, "shipping"), _address(conn, "billing")
        order_id = conn.execute(
            text(
                "INSERT INTO orders (order_number, customer_id, status, previous_status, "
                "payment_status, subtotal, total_amount, paid_amount, order_date, "
                "shipping_address_id, billing_address_id, created_by) VALUES (:number, "
                ":customer, :status, :previous, :payment, :total, :total, :paid, :date, "
                ":shipping, :billing, :by) RETURNING id"
            ),
            {
                "number": number,
                "customer": customer_id,
                "status": status,
                "previous": None if status == "DRAFT" else "DRAFT",
                "payment": payment_status,
                "total": Decimal(total),
                "paid": Decimal(paid),
                "date": order_date,
                "shipping": shipping,
                "billing": billing,
                "by": uuid.uuid4(),
            },
        ).scalar_one()
    assert isinstance(order_id, uuid.UUID)
    return order_id


def seed_orders(engine: Engine, count: int, customer_id: uuid.UUID) -> None:
    """`count` orders SO-000001... of one customer: every three share an order date (ties),
    totals repeat every seven, statuses and payment statuses cycle."""
    with engine.begin() as conn:
        shipping, billing = _address(conn, "shipping"), _address(conn, "billing")
        conn.execute(
            text(
                """
                INSERT INTO orders (order_number, customer_id, status, previous_status,
                                    payment_status, subtotal, total_amount, order_date,
                                    shipping_address_id, billing_address_id, created_by)
                SELECT 'SO-' || lpad(i::text, 6, '0'),
                       :customer,
                       (ARRAY['PENDING', 'CONFIRMED', 'SHIPPED'])[i % 3 + 1],
                       'DRAFT',
                       (ARRAY['PENDING', 'PAID'])[i % 2 + 1],
                       (i % 7) * 10 + 5,
                       (i % 7) * 10 + 5,
                       timestamptz '2024-01-01 12:00+00' + (i / 3) * interval '1 hour',
                       :shipping, :billing, gen_random_uuid()
                FROM generate_series(1, :count) AS i
                """
            ),
            {"count": count, "customer": customer_id, "shipping": shipping, "billing": billing},
        )
