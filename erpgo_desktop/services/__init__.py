"""One unit of work per user action; each method owns its session and transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.services.auth import AuthService
from erpgo_desktop.services.catalog import ProductCatalogService


@dataclass(frozen=True)
class Services:
    """Everything the window may ask of the database, built once per engine."""

    auth: AuthService
    catalog: ProductCatalogService


def build_services(engine: Engine) -> Services:
    sessions = make_session_factory(engine)
    return Services(auth=AuthService(sessions), catalog=ProductCatalogService(sessions))
