"""Every role against every service action: allowed exactly when the role grants the
permission; otherwise PermissionDeniedError, and nothing in the database changed.

The matrix is a table of actions: the service method, the permission business-rules.md
asks for, and a call that performs the action on rows seeded for that call alone. A test
walks every public method of every Service subclass in erpgo_desktop/services, so a new
method without a row here fails.

All calls share one database (a fresh one for this module); each call seeds its own rows
(with its own codes and SKUs), so the calls do not depend on each other.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import itertools
import pkgutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

import erpgo_desktop.services as services_package
from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.domain.catalog import CategoryDraft, ProductDraft, VariantDraft
from erpgo_desktop.domain.customers import CustomerAddresses, CustomerDraft
from erpgo_desktop.domain.inventory import WarehouseDraft
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.errors import ErpError, PermissionDeniedError
from erpgo_desktop.imports import Sheet, read_csv
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser
from erpgo_desktop.services.base import Service
from erpgo_desktop.services.catalog_admin import CategoryService, ProductService, VariantService
from erpgo_desktop.services.customers import CustomerQuery, CustomerService
from erpgo_desktop.services.dashboard import DashboardService
from erpgo_desktop.services.documents import CompanyInfo, DocumentService
from erpgo_desktop.services.health import HealthService
from erpgo_desktop.services.history import HistoryService
from erpgo_desktop.services.importing import ImportResult, ImportService
from erpgo_desktop.services.inventory import InventoryService
from erpgo_desktop.services.lookup import ItemLookupService
from erpgo_desktop.services.order_list import OrderQuery
from erpgo_desktop.services.orders import NewLine, OrderDetail, OrderService
from erpgo_desktop.services.reports import Report, ReportService
from erpgo_desktop.services.stock import StockKey
from erpgo_desktop.services.users import UserAdminService, UserProfile
from erpgo_desktop.services.warehouses import WarehouseService
from tests.conftest import adopt_clone

if TYPE_CHECKING:
    from tests.conftest import ThrowawayDatabases

PASSWORD = "long enough"
OTHER_PASSWORD = "another one"
NO_ROLE = "(no role)"
ROLES = (*sorted(perms.DEFAULT_ROLES), NO_ROLE)


@dataclass(frozen=True)
class Bundle:
    """The services under test, over the module's database."""

    auth: AuthService
    users: UserAdminService
    inventory: InventoryService
    lookup: ItemLookupService
    warehouses: WarehouseService
    customers: CustomerService
    categories: CategoryService
    products: ProductService
    variants: VariantService
    orders: OrderService
    documents: DocumentService
    reports: ReportService
    dashboard: DashboardService
    imports: ImportService
    health: HealthService
    history: HistoryService


@dataclass(frozen=True)
class Seed:
    """Rows made for one call: nothing else uses them."""

    n: int
    admin: CurrentUser  # to load what an edit starts from, whoever makes the edit
    admin_bundle: Bundle  # ... over the administrator's own connection
    category_id: uuid.UUID
    other_category_id: uuid.UUID  # empty
    product_id: uuid.UUID
    other_product_id: uuid.UUID  # not stocked
    variant_id: uuid.UUID  # of the product
    warehouse_id: uuid.UUID
    other_warehouse_id: uuid.UUID
    customer_id: uuid.UUID
    role_id: uuid.UUID
    user_id: uuid.UUID
    #: What the action's `prepare` made (an order in the right status, say).
    prepared: Any = None

    @property
    def stock(self) -> StockKey:
        """50 on hand of the product in the first warehouse."""
        return StockKey(self.product_id, self.warehouse_id)


Call = Callable[[Bundle, CurrentUser, Seed], object]


@dataclass(frozen=True)
class Action:
    method: Callable[..., Any]  # the service's function, as the class has it
    #: The permissions it needs (all of them); () or None: anyone signed in may.
    permission: str | tuple[str, ...] | None
    call: Call
    #: Set-up done by an administrator before the action (and before the database's
    #: fingerprint is taken); its result is the seed's `prepared`.
    prepare: Callable[[Bundle, Seed], object] | None = None
    #: Tells rows of one method apart (a second row for an option needing more).
    variant: str = ""

    @property
    def name(self) -> str:
        return self.method.__qualname__

    @property
    def id(self) -> str:
        return f"{self.name}[{self.variant}]" if self.variant else self.name

    @property
    def permissions(self) -> tuple[str, ...]:
        if self.permission is None:
            return ()
        return (self.permission,) if isinstance(self.permission, str) else self.permission


def _users_row(b: Bundle, s: Seed) -> Any:
    return s.admin_bundle.users.get_user(s.admin, s.user_id)


def _role_row(b: Bundle, s: Seed) -> Any:
    (role,) = [r for r in s.admin_bundle.users.list_roles(s.admin) if r.id == s.role_id]
    return role


def _warehouse_version(b: Bundle, s: Seed) -> int:
    return s.admin_bundle.warehouses.get(s.admin, s.other_warehouse_id).version


def _category_version(b: Bundle, s: Seed, category_id: uuid.UUID | None = None) -> int:
    return s.admin_bundle.categories.get_category(
        s.admin, category_id or s.other_category_id
    ).version


def _product(b: Bundle, s: Seed) -> Any:
    return s.admin_bundle.products.get_product(s.admin, s.product_id)


def _variant(b: Bundle, s: Seed) -> Any:
    return s.admin_bundle.variants.get_variant(s.admin, s.variant_id)


def _customer_version(b: Bundle, s: Seed) -> int:
    return s.admin_bundle.customers.get_customer(s.admin, s.customer_id).version


ADDRESS = Address("Cy", "Customer", "1 Road", "Town", "1000", "NL")
REPORT_START, REPORT_END = date(2020, 1, 1), date(2029, 12, 31)
ORDER_PATH = ("DRAFT", "PENDING", "CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED")


def _order(
    b: Bundle, s: Seed, status: str = "DRAFT", quantity: int = 2, unit_price: str | None = None
) -> OrderDetail:
    """An order of the seed's customer for the seed's product, taken to `status` along the
    usual path, by the administrator."""
    a, orders = s.admin, b.orders
    order = orders.create_draft(a, s.customer_id, OrderHeader(ADDRESS))
    order = orders.add_line(
        a, order.id, order.version, s.product_id, quantity,
        unit_price=None if unit_price is None else Decimal(unit_price),
    )  # fmt: skip
    steps: dict[str, Callable[[OrderDetail], OrderDetail]] = {
        "PENDING": lambda o: orders.submit(a, o.id, o.version),
        "CONFIRMED": lambda o: orders.confirm(a, o.id, o.version, s.warehouse_id),
        "PROCESSING": lambda o: orders.start_processing(a, o.id, o.version),
        "SHIPPED": lambda o: orders.ship(a, o.id, o.version, carrier="UPS", tracking_number="1Z"),
        "DELIVERED": lambda o: orders.deliver(a, o.id, o.version),
    }
    for step in ORDER_PATH[1 : ORDER_PATH.index(status) + 1]:
        order = steps[step](order)
    return order


def _on_hold(b: Bundle, s: Seed) -> OrderDetail:
    order = _order(b, s, "PENDING")
    return b.orders.hold(s.admin, order.id, order.version)


def _over_credit(b: Bundle, s: Seed) -> OrderDetail:
    """A submitted order that would take its customer over a credit limit of 1.00."""
    customer = b.customers.get_customer(s.admin, s.customer_id)
    b.customers.update_customer(
        s.admin, s.customer_id, replace(customer.to_draft(), credit_limit=Decimal("1.00")),
        expected_version=customer.version,
    )  # fmt: skip
    return _order(b, s, "PENDING")


def _backordered(b: Bundle, s: Seed) -> OrderDetail:
    """A confirmed order 10 short of the 50 in stock, with 10 more received since."""
    product = b.products.get_product(s.admin, s.product_id)
    b.products.update_product(
        s.admin, s.product_id, replace(product.to_draft(), allow_backorder=True),
        expected_version=product.version,
    )  # fmt: skip
    order = _order(b, s, "CONFIRMED", quantity=60)
    b.inventory.receive(s.admin, s.stock, 10)
    return order


def _paid(b: Bundle, s: Seed) -> OrderDetail:
    order = _order(b, s, "DELIVERED")
    return b.orders.record_payment(s.admin, order.id, order.version, order.total_amount)


def _sheet(csv_text: str) -> Sheet:
    return read_csv(csv_text.encode())


def _ok(result: ImportResult) -> ImportResult:
    """An import that reports bad rows did not do what the row asks: fail the test."""
    assert result.ok and result.created + result.updated == 1, result
    return result


def _change_own_password(b: Bundle, u: CurrentUser, s: Seed) -> None:
    b.users.change_own_password(u, PASSWORD, OTHER_PASSWORD)
    b.users.change_own_password(u, OTHER_PASSWORD, PASSWORD)


US, INV, WH, CU = UserAdminService, InventoryService, WarehouseService, CustomerService
IM = ImportService
CA, PR, VA, OR = CategoryService, ProductService, VariantService, OrderService
# fmt: off
ACTIONS: tuple[Action, ...] = (
    # Accounts and roles
    Action(AuthService.create_user, perms.USERS_ADMIN, lambda b, u, s: b.auth.create_user(
        NewUser(f"made-{s.n}", f"made-{s.n}@example.com", PASSWORD, "sales", "M"), acting=u)),
    Action(US.list_users, perms.USERS_ADMIN, lambda b, u, s: b.users.list_users(u)),
    Action(HealthService.report, perms.USERS_ADMIN,
           lambda b, u, s: b.health.report(u, statements=1)),
    Action(US.get_user, perms.USERS_ADMIN, lambda b, u, s: b.users.get_user(u, s.user_id)),
    Action(US.create_user, perms.USERS_ADMIN, lambda b, u, s: b.users.create_user(
        u, NewUser(f"new-{s.n}", f"new-{s.n}@example.com", PASSWORD, "sales", "N"))),
    Action(US.update_profile, perms.USERS_ADMIN, lambda b, u, s: b.users.update_profile(
        u, s.user_id, UserProfile(f"moved-{s.n}@example.com", "Moved"),
        expected=_users_row(b, s))),
    Action(US.set_roles, perms.USERS_ADMIN, lambda b, u, s: b.users.set_roles(
        u, s.user_id, ["manager"], expected=_users_row(b, s))),
    Action(US.deactivate_user, perms.USERS_ADMIN,
           lambda b, u, s: b.users.deactivate_user(u, s.user_id)),
    Action(US.reactivate_user, perms.USERS_ADMIN,
           lambda b, u, s: b.users.reactivate_user(u, s.user_id)),
    Action(US.unlock_user, perms.USERS_ADMIN, lambda b, u, s: b.users.unlock_user(u, s.user_id)),
    Action(US.reset_password, perms.USERS_ADMIN,
           lambda b, u, s: b.users.reset_password(u, s.user_id, OTHER_PASSWORD)),
    Action(US.change_own_password, None, _change_own_password),
    Action(US.list_roles, perms.USERS_ADMIN, lambda b, u, s: b.users.list_roles(u)),
    Action(US.create_role, perms.USERS_ADMIN, lambda b, u, s: b.users.create_role(
        u, f"made-role-{s.n}", "", [perms.ORDERS_READ])),
    Action(US.update_role, perms.USERS_ADMIN, lambda b, u, s: b.users.update_role(
        u, s.role_id, description="edited", permissions=[perms.REPORTS_VIEW],
        expected=_role_row(b, s))),
    Action(US.deactivate_role, perms.USERS_ADMIN,
           lambda b, u, s: b.users.deactivate_role(u, s.role_id)),
    Action(US.reactivate_role, perms.USERS_ADMIN,
           lambda b, u, s: b.users.reactivate_role(u, s.role_id)),
    # Stock
    Action(INV.receive, perms.INVENTORY_RECEIVE,
           lambda b, u, s: b.inventory.receive(u, s.stock, 5)),
    Action(INV.adjust, perms.INVENTORY_ADJUST,
           lambda b, u, s: b.inventory.adjust(u, s.stock, -2, "damaged")),
    Action(INV.transfer, perms.INVENTORY_TRANSFER,
           lambda b, u, s: b.inventory.transfer(u, s.stock, s.other_warehouse_id, 5)),
    Action(INV.count, perms.INVENTORY_COUNT, lambda b, u, s: b.inventory.count(u, s.stock, 48)),
    Action(INV.set_reorder_levels, perms.INVENTORY_ADJUST,
           lambda b, u, s: b.inventory.set_reorder_levels(u, s.stock, 10, 100)),
    Action(INV.stock_overview, perms.INVENTORY_READ,
           lambda b, u, s: b.inventory.stock_overview(u, s.product_id)),
    Action(INV.low_stock, perms.INVENTORY_READ, lambda b, u, s: b.inventory.low_stock(u)),
    Action(INV.ledger, perms.INVENTORY_READ,
           lambda b, u, s: b.inventory.ledger(u, s.product_id)),
    Action(INV.count_ledger, perms.INVENTORY_READ,
           lambda b, u, s: b.inventory.count_ledger(u, s.product_id)),
    Action(INV.warehouse_stock, perms.INVENTORY_READ,
           lambda b, u, s: b.inventory.warehouse_stock(u, s.warehouse_id)),
    Action(INV.count_warehouse_stock, perms.INVENTORY_READ,
           lambda b, u, s: b.inventory.count_warehouse_stock(u, s.warehouse_id)),
    # Looking up what is typed or scanned
    Action(ItemLookupService.find_by_code, perms.PRODUCTS_READ,
           lambda b, u, s: b.lookup.find_by_code(u, "SKU")),
    Action(ItemLookupService.resolve, perms.PRODUCTS_READ,
           lambda b, u, s: b.lookup.resolve(u, "SKU")),
    Action(ItemLookupService.suggest, perms.PRODUCTS_READ,
           lambda b, u, s: b.lookup.suggest(u, "SKU")),
    # Warehouses
    Action(WH.create, perms.WAREHOUSES_WRITE, lambda b, u, s: b.warehouses.create(
        u, WarehouseDraft(code=f"NEW{s.n}", name="New"))),
    Action(WH.update, perms.WAREHOUSES_WRITE, lambda b, u, s: b.warehouses.update(
        u, s.other_warehouse_id, WarehouseDraft(code=f"W{s.n}B", name="Renamed"),
        _warehouse_version(b, s))),
    Action(WH.deactivate, perms.WAREHOUSES_WRITE, lambda b, u, s: b.warehouses.deactivate(
        u, s.other_warehouse_id, _warehouse_version(b, s))),
    Action(WH.reactivate, perms.WAREHOUSES_WRITE, lambda b, u, s: b.warehouses.reactivate(
        u, s.other_warehouse_id, _warehouse_version(b, s))),
    Action(WH.delete, perms.WAREHOUSES_WRITE, lambda b, u, s: b.warehouses.delete(
        u, s.other_warehouse_id, _warehouse_version(b, s))),
    Action(WH.get, perms.INVENTORY_READ, lambda b, u, s: b.warehouses.get(u, s.warehouse_id)),
    Action(WH.list_warehouses, perms.INVENTORY_READ,
           lambda b, u, s: b.warehouses.list_warehouses(u)),
    # Catalog
    Action(CA.list_categories, perms.PRODUCTS_READ,
           lambda b, u, s: b.categories.list_categories(u)),
    Action(CA.get_category, perms.PRODUCTS_READ,
           lambda b, u, s: b.categories.get_category(u, s.category_id)),
    Action(CA.create_category, perms.PRODUCTS_WRITE, lambda b, u, s: b.categories.create_category(
        u, CategoryDraft(f"New {s.n}", parent_id=s.category_id))),
    Action(CA.update_category, perms.PRODUCTS_WRITE, lambda b, u, s: b.categories.update_category(
        u, s.other_category_id, CategoryDraft(f"Renamed {s.n}"),
        expected_version=_category_version(b, s))),
    Action(CA.move_category, perms.PRODUCTS_WRITE, lambda b, u, s: b.categories.move_category(
        u, s.other_category_id, s.category_id, expected_version=_category_version(b, s))),
    Action(CA.deactivate_category, perms.PRODUCTS_WRITE,
           lambda b, u, s: b.categories.deactivate_category(
               u, s.other_category_id, expected_version=_category_version(b, s))),
    Action(CA.reactivate_category, perms.PRODUCTS_WRITE,
           lambda b, u, s: b.categories.reactivate_category(
               u, s.other_category_id, expected_version=_category_version(b, s))),
    Action(CA.delete_category, perms.PRODUCTS_WRITE, lambda b, u, s: b.categories.delete_category(
        u, s.other_category_id, expected_version=_category_version(b, s))),
    Action(PR.get_product, perms.PRODUCTS_READ,
           lambda b, u, s: b.products.get_product(u, s.product_id)),
    Action(PR.create_product, perms.PRODUCTS_WRITE, lambda b, u, s: b.products.create_product(
        u, ProductDraft(f"NEW-{s.n}", "New", s.category_id, Decimal("9.99")))),
    Action(PR.update_product, perms.PRODUCTS_WRITE, lambda b, u, s: b.products.update_product(
        u, s.product_id, replace(_product(b, s).to_draft(), name="Renamed"),
        expected_version=_product(b, s).version)),
    Action(PR.deactivate_product, perms.PRODUCTS_WRITE,
           lambda b, u, s: b.products.deactivate_product(
               u, s.product_id, expected_version=_product(b, s).version)),
    Action(PR.reactivate_product, perms.PRODUCTS_WRITE,
           lambda b, u, s: b.products.reactivate_product(
               u, s.product_id, expected_version=_product(b, s).version)),
    Action(PR.delete_product, perms.PRODUCTS_WRITE, lambda b, u, s: b.products.delete_product(
        u, s.other_product_id,
        expected_version=s.admin_bundle.products.get_product(s.admin, s.other_product_id).version)),
    Action(VA.list_variants, perms.PRODUCTS_READ,
           lambda b, u, s: b.variants.list_variants(u, s.product_id)),
    Action(VA.get_variant, perms.PRODUCTS_READ,
           lambda b, u, s: b.variants.get_variant(u, s.variant_id)),
    Action(VA.variant_stock, perms.PRODUCTS_READ,
           lambda b, u, s: b.variants.variant_stock(u, s.variant_id)),
    Action(VA.create_variant, perms.PRODUCTS_WRITE, lambda b, u, s: b.variants.create_variant(
        u, s.product_id, VariantDraft(f"MX-{s.n}-BLUE", "Blue", Decimal("11.00")))),
    Action(VA.update_variant, perms.PRODUCTS_WRITE, lambda b, u, s: b.variants.update_variant(
        u, s.variant_id, replace(_variant(b, s).to_draft(), name="Crimson"),
        expected_version=_variant(b, s).version)),
    Action(VA.deactivate_variant, perms.PRODUCTS_WRITE,
           lambda b, u, s: b.variants.deactivate_variant(
               u, s.variant_id, expected_version=_variant(b, s).version)),
    Action(VA.reactivate_variant, perms.PRODUCTS_WRITE,
           lambda b, u, s: b.variants.reactivate_variant(
               u, s.variant_id, expected_version=_variant(b, s).version)),
    Action(VA.delete_variant, perms.PRODUCTS_WRITE, lambda b, u, s: b.variants.delete_variant(
        u, s.variant_id, expected_version=_variant(b, s).version)),
    # Orders
    Action(OR.create_draft, perms.ORDERS_CREATE,
           lambda b, u, s: b.orders.create_draft(u, s.customer_id, OrderHeader(ADDRESS))),
    Action(OR.update_order, perms.ORDERS_CREATE, lambda b, u, s: b.orders.update_order(
        u, s.prepared.id, s.prepared.version, OrderHeader(ADDRESS, notes="Leave at the door")),
        prepare=_order),
    Action(OR.add_line, perms.ORDERS_CREATE, lambda b, u, s: b.orders.add_line(
        u, s.prepared.id, s.prepared.version, s.other_product_id, 1), prepare=_order),
    Action(OR.add_lines, perms.ORDERS_CREATE, lambda b, u, s: b.orders.add_lines(
        u, s.prepared.id, s.prepared.version,
        [NewLine(s.other_product_id, 1), NewLine(s.product_id, 2)]), prepare=_order),
    Action(OR.change_line, perms.ORDERS_CREATE, lambda b, u, s: b.orders.change_line(
        u, s.prepared.id, s.prepared.version, s.prepared.lines[0].id, quantity=3),
        prepare=_order),
    Action(OR.remove_line, perms.ORDERS_CREATE, lambda b, u, s: b.orders.remove_line(
        u, s.prepared.id, s.prepared.version, s.prepared.lines[0].id), prepare=_order),
    Action(OR.submit, perms.ORDERS_CREATE,
           lambda b, u, s: b.orders.submit(u, s.prepared.id, s.prepared.version),
           prepare=_order),
    Action(OR.approve, perms.ORDERS_APPROVE,
           lambda b, u, s: b.orders.approve(u, s.prepared.id, s.prepared.version),
           prepare=lambda b, s: _order(b, s, "PENDING", unit_price="6000.00")),
    Action(OR.confirm, perms.ORDERS_CONFIRM, lambda b, u, s: b.orders.confirm(
        u, s.prepared.id, s.prepared.version, s.warehouse_id),
        prepare=lambda b, s: _order(b, s, "PENDING")),
    Action(OR.confirm, (perms.ORDERS_CONFIRM, perms.CUSTOMERS_CREDIT_OVERRIDE),
           lambda b, u, s: b.orders.confirm(
               u, s.prepared.id, s.prepared.version, s.warehouse_id, override_credit=True),
           prepare=_over_credit, variant="over the credit limit"),
    Action(OR.reservation_options, perms.ORDERS_CONFIRM,
           lambda b, u, s: b.orders.reservation_options(u, s.prepared.id),
           prepare=lambda b, s: _order(b, s, "PENDING")),
    Action(OR.reserve_backorders, perms.ORDERS_CONFIRM,
           lambda b, u, s: b.orders.reserve_backorders(
               u, s.prepared.id, s.prepared.version, s.warehouse_id),
           prepare=_backordered),
    Action(OR.hold, perms.ORDERS_CONFIRM,
           lambda b, u, s: b.orders.hold(u, s.prepared.id, s.prepared.version),
           prepare=lambda b, s: _order(b, s, "PENDING")),
    Action(OR.resume, perms.ORDERS_CONFIRM,
           lambda b, u, s: b.orders.resume(u, s.prepared.id, s.prepared.version),
           prepare=_on_hold),
    Action(OR.start_processing, perms.ORDERS_SHIP,
           lambda b, u, s: b.orders.start_processing(u, s.prepared.id, s.prepared.version),
           prepare=lambda b, s: _order(b, s, "CONFIRMED")),
    Action(OR.ship, perms.ORDERS_SHIP, lambda b, u, s: b.orders.ship(
        u, s.prepared.id, s.prepared.version, carrier="UPS", tracking_number="1Z 42"),
        prepare=lambda b, s: _order(b, s, "PROCESSING")),
    Action(OR.deliver, perms.ORDERS_SHIP,
           lambda b, u, s: b.orders.deliver(u, s.prepared.id, s.prepared.version),
           prepare=lambda b, s: _order(b, s, "SHIPPED")),
    Action(OR.cancel, perms.ORDERS_CANCEL,
           lambda b, u, s: b.orders.cancel(u, s.prepared.id, s.prepared.version),
           prepare=lambda b, s: _order(b, s, "CONFIRMED")),
    Action(OR.return_goods, perms.ORDERS_RETURN, lambda b, u, s: b.orders.return_goods(
        u, s.prepared.id, s.prepared.version, s.warehouse_id, {s.prepared.lines[0].id: 1}),
        prepare=lambda b, s: _order(b, s, "DELIVERED")),
    Action(OR.record_payment, perms.ORDERS_PAYMENT, lambda b, u, s: b.orders.record_payment(
        u, s.prepared.id, s.prepared.version, Decimal("5.00")),
        prepare=lambda b, s: _order(b, s, "CONFIRMED")),
    Action(OR.refund, perms.ORDERS_PAYMENT, lambda b, u, s: b.orders.refund(
        u, s.prepared.id, s.prepared.version, Decimal("5.00")), prepare=_paid),
    Action(OR.get_order, perms.ORDERS_READ,
           lambda b, u, s: b.orders.get_order(u, s.prepared.id), prepare=_order),
    Action(OR.list_lines, perms.ORDERS_READ,
           lambda b, u, s: b.orders.list_lines(u, s.prepared.id), prepare=_order),
    Action(OR.status_history, perms.ORDERS_READ,
           lambda b, u, s: b.orders.status_history(u, s.prepared.id), prepare=_order),
    Action(OR.list_orders, perms.ORDERS_READ, lambda b, u, s: b.orders.list_orders(u)),
    Action(OR.list_orders_page, perms.ORDERS_READ,
           lambda b, u, s: b.orders.list_orders_page(u, OrderQuery(search="Customer"))),
    Action(OR.count_orders, perms.ORDERS_READ,
           lambda b, u, s: b.orders.count_orders(u, OrderQuery(status="DRAFT"))),
    Action(DocumentService.order_confirmation, perms.ORDERS_READ,
           lambda b, u, s: b.documents.order_confirmation(u, s.prepared.id), prepare=_order),
    Action(DocumentService.packing_slip, perms.ORDERS_READ,
           lambda b, u, s: b.documents.packing_slip(u, s.prepared.id),
           prepare=lambda b, s: _order(b, s, "CONFIRMED")),
    Action(DocumentService.pick_list, perms.ORDERS_READ,
           lambda b, u, s: b.documents.pick_list(u, s.prepared.id),
           prepare=lambda b, s: _order(b, s, "CONFIRMED")),
    # Reports
    Action(ReportService.inventory_valuation, perms.REPORTS_VIEW,
           lambda b, u, s: b.reports.inventory_valuation(u, warehouse_id=s.warehouse_id)),
    Action(ReportService.stock_movements, perms.REPORTS_VIEW,
           lambda b, u, s: b.reports.stock_movements(u, REPORT_START, REPORT_END)),
    Action(ReportService.sales_by_product, perms.REPORTS_VIEW,
           lambda b, u, s: b.reports.sales_by_product(u, REPORT_START, REPORT_END)),
    Action(ReportService.sales_by_customer, perms.REPORTS_VIEW,
           lambda b, u, s: b.reports.sales_by_customer(u, REPORT_START, REPORT_END)),
    Action(ReportService.sales_by_region, perms.REPORTS_VIEW,
           lambda b, u, s: b.reports.sales_by_region(u, REPORT_START, REPORT_END)),
    Action(ReportService.customer_balances, perms.REPORTS_VIEW,
           lambda b, u, s: b.reports.customer_balances(u)),
    Action(ReportService.totals, perms.REPORTS_VIEW,
           lambda b, u, s: b.reports.totals(u, Report.INVENTORY_VALUATION)),
    # The change history: the Changes report, and each record's History page
    Action(HistoryService.changes, perms.REPORTS_VIEW,
           lambda b, u, s: b.history.changes(u, REPORT_START, REPORT_END)),
    Action(HistoryService.people, perms.REPORTS_VIEW, lambda b, u, s: b.history.people(u)),
    Action(HistoryService.count_changes, perms.REPORTS_VIEW,
           lambda b, u, s: b.history.count_changes(u, REPORT_START, REPORT_END)),
    Action(HistoryService.record_history, perms.PRODUCTS_READ,
           lambda b, u, s: b.history.record_history(u, "products", s.product_id)),
    Action(HistoryService.record_history, perms.CUSTOMERS_READ,
           lambda b, u, s: b.history.record_history(u, "customers", s.customer_id),
           variant="customers"),
    Action(HistoryService.record_history, perms.USERS_ADMIN,
           lambda b, u, s: b.history.record_history(u, "users", s.user_id), variant="users"),
    # Dashboard
    Action(DashboardService.stock_value, perms.REPORTS_VIEW,
           lambda b, u, s: b.dashboard.stock_value(u, s.warehouse_id)),
    Action(DashboardService.low_stock, perms.REPORTS_VIEW,
           lambda b, u, s: b.dashboard.low_stock(u, s.warehouse_id)),
    Action(DashboardService.sales, perms.REPORTS_VIEW,
           lambda b, u, s: b.dashboard.sales(u, REPORT_START, REPORT_END, "month")),
    Action(DashboardService.top_products, perms.REPORTS_VIEW,
           lambda b, u, s: b.dashboard.top_products(u, REPORT_START, REPORT_END)),
    Action(DashboardService.top_customers, perms.REPORTS_VIEW,
           lambda b, u, s: b.dashboard.top_customers(u, REPORT_START, REPORT_END)),
    Action(DashboardService.pipeline, perms.REPORTS_VIEW,
           lambda b, u, s: b.dashboard.pipeline(u, REPORT_START, REPORT_END)),
    Action(DashboardService.overdue_unpaid, perms.REPORTS_VIEW,
           lambda b, u, s: b.dashboard.overdue_unpaid(u)),
    Action(DashboardService.key_figures, perms.REPORTS_VIEW,
           lambda b, u, s: b.dashboard.key_figures(u, REPORT_START, REPORT_END)),
    # Imports (a dry run writes nothing, a real run a product, a customer, a count)
    Action(IM.import_products, perms.PRODUCTS_WRITE, lambda b, u, s: _ok(b.imports.import_products(
        u, _sheet(f"SKU,Name,Category,Price\nIM-{s.n},Imported,/Category {s.n},9.50").rows,
        {"sku": 0, "name": 1, "category": 2, "price": 3}, update_existing=False, dry_run=False))),
    Action(IM.import_customers, perms.CUSTOMERS_WRITE, lambda b, u, s: _ok(
        b.imports.import_customers(
            u, _sheet(f"First,Last,Email\nIm,Ported,imported-{s.n}@example.com").rows,
            {"first_name": 0, "last_name": 1, "email": 2}, update_existing=False,
            dry_run=False))),
    Action(IM.import_stock_counts, perms.INVENTORY_COUNT, lambda b, u, s: _ok(
        b.imports.import_stock_counts(
            u, _sheet(f"SKU,Warehouse,Counted\nMX-{s.n},W{s.n}A,47").rows,
            {"sku": 0, "warehouse": 1, "counted": 2}, dry_run=False))),
    # Customers
    Action(CU.get_customer, perms.CUSTOMERS_READ,
           lambda b, u, s: b.customers.get_customer(u, s.customer_id)),
    Action(CU.search_customers, perms.CUSTOMERS_READ,
           lambda b, u, s: b.customers.search_customers(u, "Customer")),
    Action(CU.list_customers, perms.CUSTOMERS_READ,
           lambda b, u, s: b.customers.list_customers(u, CustomerQuery(search="Customer"))),
    Action(CU.count_customers, perms.CUSTOMERS_READ,
           lambda b, u, s: b.customers.count_customers(u, CustomerQuery(status="ACTIVE"))),
    # With addresses: customer_addresses is granted as the customers are.
    Action(CU.create_customer, perms.CUSTOMERS_WRITE, lambda b, u, s: b.customers.create_customer(
        u, CustomerDraft("Di", f"New {s.n}", f"new-customer-{s.n}@example.com"),
        CustomerAddresses(billing=ADDRESS))),
    Action(CU.update_customer, perms.CUSTOMERS_WRITE, lambda b, u, s: b.customers.update_customer(
        u, s.customer_id, CustomerDraft("Cy", "Renamed", f"customer-{s.n}@example.com"),
        expected_version=_customer_version(b, s),
        addresses=CustomerAddresses(billing=ADDRESS, shipping=replace(ADDRESS, city="Dock")))),
    Action(CU.deactivate_customer, perms.CUSTOMERS_WRITE,
           lambda b, u, s: b.customers.deactivate_customer(
               u, s.customer_id, expected_version=_customer_version(b, s))),
    Action(CU.delete_customer, perms.CUSTOMERS_WRITE, lambda b, u, s: b.customers.delete_customer(
        u, s.customer_id, expected_version=_customer_version(b, s))),
)
# fmt: on

#: Public methods that need no matrix row, and why.
NOT_ACTIONS: dict[str, str] = {
    "HealthService.ping": "SELECT 1 says nothing about the data; the status bar asks before "
    "anyone has signed in",
    "HealthService.server_version": "the server's version() (Help › About), as anyone who "
    "may connect can ask the server itself",
    # Each call is a whole pg_dump or pg_restore (seconds, times five roles); test_backup
    # checks the refusal without users.admin for each of them instead.
    "BackupService.backup": "see tests/services/test_backup.py",
    "BackupService.restore": "see tests/services/test_backup.py",
    "BackupService.restore_into_new_database": "see tests/services/test_backup.py",
}


SEEDED = ("category", "other_category", "product", "other_product", "variant", "warehouse",
          "other_warehouse", "customer", "role", "user")  # fmt: skip


@dataclass
class World:
    engine: Engine
    #: The services over each role's person's own database connection (their login role).
    bundles: dict[str, Bundle]
    users: dict[str, CurrentUser]
    counter: Iterator[int]

    @property
    def bundle(self) -> Bundle:
        """An administrator's, to prepare what an action starts from."""
        return self.bundles["admin"]

    def seed(self) -> Seed:
        n = next(self.counter)
        ids = {name: uuid.uuid4() for name in SEEDED}
        statements = f"""
            INSERT INTO product_categories (id, name, path, level) VALUES
                (:category, 'Category {n}', '/Category {n}', 1),
                (:other_category, 'Other {n}', '/Other {n}', 1);
            INSERT INTO products (id, sku, name, category_id, price, track_inventory) VALUES
                (:product, 'MX-{n}', 'Product {n}', :category, 10, true),
                (:other_product, 'MY-{n}', 'Other product {n}', :category, 20, false);
            INSERT INTO product_variants (id, product_id, sku, name, price)
                VALUES (:variant, :product, 'MX-{n}-RED', 'Red', 10);
            INSERT INTO warehouses (id, code, name) VALUES
                (:warehouse, 'W{n}A', 'Warehouse {n} A'),
                (:other_warehouse, 'W{n}B', 'Warehouse {n} B');
            INSERT INTO inventory_transactions
                (product_id, warehouse_id, transaction_type, quantity, reason)
                VALUES (:product, :warehouse, 'IN', 50, 'seed');
            INSERT INTO customers (id, first_name, last_name, email)
                VALUES (:customer, 'Cy', 'Customer {n}', 'customer-{n}@example.com');
            INSERT INTO roles (id, name, permissions)
                VALUES (:role, 'role-{n}', '["orders.read"]');
            INSERT INTO users (id, username, email, password_hash, first_name, last_name)
                VALUES (:user, 'user-{n}', 'user-{n}@example.com', 'x', 'User', '{n}');
            INSERT INTO user_roles (user_id, role_id)
                SELECT :user, id FROM roles WHERE name = 'sales';
        """
        with self.engine.begin() as connection:
            for statement in statements.split(";"):
                if statement.strip():
                    connection.execute(text(statement), ids)
        return Seed(n, self.users["admin"], self.bundle, **{f"{k}_id": v for k, v in ids.items()})

    def fingerprint(self) -> dict[str, str]:
        """A digest of every table's rows."""
        digests: dict[str, str] = {}
        with self.engine.connect() as connection:
            tables = connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
            for table in tables.all():
                rows = connection.execute(text(f'SELECT t::text FROM "{table}" t')).scalars()
                digests[table] = hashlib.sha256("\n".join(sorted(rows)).encode()).hexdigest()
        return digests


def _bundle(engine: Engine) -> Bundle:
    sessions = make_session_factory(engine)
    auth = AuthService(sessions)
    return Bundle(
        auth=auth,
        users=UserAdminService(sessions, auth),
        inventory=InventoryService(sessions),
        lookup=ItemLookupService(sessions),
        warehouses=WarehouseService(sessions),
        customers=CustomerService(sessions),
        categories=CategoryService(sessions),
        products=ProductService(sessions),
        variants=VariantService(sessions),
        orders=OrderService(sessions),
        documents=DocumentService(sessions, CompanyInfo("Matrix Ltd")),
        reports=ReportService(sessions),
        dashboard=DashboardService(sessions),
        imports=ImportService(sessions),
        health=HealthService(sessions),
        history=HistoryService(sessions),
    )


@pytest.fixture(scope="module")
def world(pg_server: ThrowawayDatabases, template_database: str) -> Iterator[World]:
    url = pg_server.create_database(template=template_database)
    adopt_clone(pg_server.admin_url, url)
    engine = make_engine(url)
    auth = AuthService(make_session_factory(engine))
    auth.create_first_admin(
        username="admin", email="admin@example.com", password=PASSWORD, first_name="A"
    )
    admin = auth.login("admin", PASSWORD)
    for role in ROLES[1:]:
        username = "no-role" if role == NO_ROLE else role.replace("_", "-")
        auth.create_user(
            NewUser(username, f"{username}@example.com", PASSWORD, "sales", "U"), acting=None
        )
        user_id = auth.login(username, PASSWORD).id
        # Through the administration's own path, so the login roles' memberships follow.
        admin_users = UserAdminService(make_session_factory(engine), auth)
        admin_users.set_roles(
            admin, user_id, [] if role == NO_ROLE else [role],
            expected=admin_users.get_user(admin, user_id),
        )  # fmt: skip
    signed_in = {
        role: auth.sign_in("no-role" if role == NO_ROLE else role.replace("_", "-"), PASSWORD)
        for role in ROLES
    }
    users = {role: s.user for role, s in signed_in.items()}
    assert {role: u.roles for role, u in users.items()} == {
        role: () if role == NO_ROLE else (role,) for role in ROLES
    }
    bundles = {role: _bundle(s.engine) for role, s in signed_in.items()}
    yield World(engine, bundles, users, itertools.count(1))
    for s in signed_in.values():
        s.engine.dispose()
    engine.dispose()


def granted(role: str) -> frozenset[str]:
    return frozenset(perms.DEFAULT_ROLES.get(role, ()))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS, ids=[a.id for a in ACTIONS])
def test_allowed_exactly_when_granted(world: World, action: Action, role: str) -> None:
    seed = world.seed()
    if action.prepare is not None:
        seed = replace(seed, prepared=action.prepare(world.bundle, seed))
    user = world.users[role]
    bundle = world.bundles[role]  # the person's own connection: the database's grants apply
    lacking = [p for p in action.permissions if not perms.allows(granted(role), p)]
    if not lacking:
        action.call(bundle, user, seed)  # succeeds: any ErpError fails the test
        return
    before = world.fingerprint()
    with pytest.raises(PermissionDeniedError) as refused:
        action.call(bundle, user, seed)
    assert any(repr(p) in refused.value.message for p in lacking), refused.value.message
    assert world.fingerprint() == before


def _lacking(action: Action, role: str) -> list[str]:
    return [p for p in action.permissions if not perms.allows(granted(role), p)]


@pytest.mark.parametrize(
    ("action", "role"),
    [(a, r) for a in ACTIONS for r in ROLES if _lacking(a, r)],
    ids=[f"{a.id}-{r}" for a in ACTIONS for r in ROLES if _lacking(a, r)],
)
def test_the_database_refuses_a_forged_user(world: World, action: Action, role: str) -> None:
    """The services trusting a CurrentUser that claims every permission: for a role that
    lacks the action's permission, the database itself refuses every change.

    A read may go through: the database grants reading by table, and a report reads rows
    (orders, stock) that other rights of the same person let them read anyway.
    """
    seed = world.seed()
    if action.prepare is not None:
        seed = replace(seed, prepared=action.prepare(world.bundle, seed))
    forged = replace(world.users[role], permissions=frozenset({perms.ALL}))
    before = world.fingerprint()
    with contextlib.suppress(ErpError):
        action.call(world.bundles[role], forged, seed)
    assert world.fingerprint() == before, "the database let a change through"


def public_service_methods() -> set[str]:
    """Every public method of every Service subclass in erpgo_desktop.services."""
    for module in pkgutil.iter_modules(services_package.__path__):
        importlib.import_module(f"{services_package.__name__}.{module.name}")
    found: set[str] = set()
    pending = list(Service.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if not cls.__module__.startswith(services_package.__name__ + "."):
            continue  # a test's own subclass
        for name, function in inspect.getmembers(cls, inspect.isfunction):
            if not name.startswith("_") and function.__qualname__.split(".")[0] != "Service":
                found.add(function.__qualname__)
    return found


def test_every_service_method_is_in_the_matrix() -> None:
    assert len({a.id for a in ACTIONS}) == len(ACTIONS), "an action is listed twice"
    in_matrix = {a.name for a in ACTIONS}
    missing = public_service_methods() - in_matrix - NOT_ACTIONS.keys()
    assert not missing, f"service methods without a row in the permission matrix: {missing}"


def test_every_role_is_in_the_matrix() -> None:
    """The matrix's roles are the ones the database seeds (test_auth checks the seed)."""
    assert set(ROLES) == {*perms.DEFAULT_ROLES, NO_ROLE}
