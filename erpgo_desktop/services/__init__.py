"""One unit of work per user action; each method owns its session and transaction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.services.auth import AuthService
from erpgo_desktop.services.backup import BackupService
from erpgo_desktop.services.catalog import ProductCatalogService
from erpgo_desktop.services.catalog_admin import CategoryService, ProductService, VariantService
from erpgo_desktop.services.customers import CustomerService
from erpgo_desktop.services.dashboard import DashboardService
from erpgo_desktop.services.documents import DocumentService
from erpgo_desktop.services.health import HealthService
from erpgo_desktop.services.history import HistoryService
from erpgo_desktop.services.importing import ImportService
from erpgo_desktop.services.inventory import InventoryService
from erpgo_desktop.services.lookup import ItemLookupService
from erpgo_desktop.services.orders import OrderService
from erpgo_desktop.services.reports import ReportService
from erpgo_desktop.services.users import UserAdminService
from erpgo_desktop.services.warehouses import WarehouseService


@dataclass(frozen=True)
class Services:
    """Everything the window may ask of the database, built once per engine."""

    auth: AuthService
    catalog: ProductCatalogService
    categories: CategoryService
    products: ProductService
    variants: VariantService
    customers: CustomerService
    orders: OrderService
    inventory: InventoryService
    lookup: ItemLookupService
    warehouses: WarehouseService
    users: UserAdminService
    health: HealthService
    dashboard: DashboardService
    documents: DocumentService
    reports: ReportService
    history: HistoryService
    imports: ImportService
    backup: BackupService


def build_services(engine: Engine, *, pg_bin_dir: Path | None = None) -> Services:
    """`pg_bin_dir`: where backups take pg_dump and pg_restore from (see services.backup)."""
    sessions = make_session_factory(engine)
    auth = AuthService(sessions)
    return Services(
        auth=auth,
        catalog=ProductCatalogService(sessions),
        categories=CategoryService(sessions),
        products=ProductService(sessions),
        variants=VariantService(sessions),
        customers=CustomerService(sessions),
        orders=OrderService(sessions),
        inventory=InventoryService(sessions),
        lookup=ItemLookupService(sessions),
        warehouses=WarehouseService(sessions),
        users=UserAdminService(sessions, auth),
        health=HealthService(sessions),
        dashboard=DashboardService(sessions),
        documents=DocumentService(sessions),
        reports=ReportService(sessions),
        history=HistoryService(sessions),
        imports=ImportService(sessions),
        backup=BackupService(engine, pg_bin_dir=pg_bin_dir),
    )
