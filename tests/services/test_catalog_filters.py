"""The Products list's filters: category, active or not, and barcodes in the search."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.services.catalog import ProductCatalogService, ProductQuery, ProductSort
from tests.services.test_catalog import walk
from tests.ui.seed import SeedProduct, insert_products


@pytest.fixture
def catalog(engine: Engine) -> ProductCatalogService:
    return ProductCatalogService(make_session_factory(engine))


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    tools = [SeedProduct(f"T-{n}", f"Tool {n}", is_active=n != 2) for n in (1, 2, 3)]
    insert_products(engine, tools, category="Tools")
    gloves = [SeedProduct(f"G-{n}", f"Glove {n}") for n in (1, 2)]
    insert_products(engine, gloves, category="Gloves")
    with engine.begin() as conn:
        conn.execute(text("UPDATE products SET barcode = '4006381333931' WHERE sku = 'G-2'"))
    return engine


def _category(engine: Engine, name: str) -> object:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT id FROM product_categories WHERE name = :n"), {"n": name}
        ).scalar_one()


@pytest.mark.parametrize("sort", list(ProductSort))
def test_a_category_lists_only_its_products_in_every_order(
    seeded: Engine, catalog: ProductCatalogService, sort: ProductSort
) -> None:
    query = ProductQuery(sort=sort, category_id=_category(seeded, "Tools"))  # type: ignore[arg-type]
    assert sorted(row.sku for row in walk(catalog, query, 2)) == ["T-1", "T-2", "T-3"]
    count = catalog.count_products(query)
    assert (count.count, count.exact) == (3, True)


def test_active_or_inactive_only(seeded: Engine, catalog: ProductCatalogService) -> None:
    inactive = walk(catalog, ProductQuery(active=False), 10)
    active = walk(catalog, ProductQuery(active=True), 10)
    assert [row.sku for row in inactive] == ["T-2"]
    assert [row.sku for row in active] == ["G-1", "G-2", "T-1", "T-3"]


def test_filters_and_search_combine(seeded: Engine, catalog: ProductCatalogService) -> None:
    query = ProductQuery("tool", category_id=_category(seeded, "Tools"), active=True)  # type: ignore[arg-type]
    assert [row.sku for row in walk(catalog, query, 10)] == ["T-1", "T-3"]
    assert catalog.count_products(query, cap=10).count == 2


def test_the_search_matches_part_of_a_barcode(
    seeded: Engine, catalog: ProductCatalogService
) -> None:
    assert [row.sku for row in walk(catalog, ProductQuery("6381333"), 10)] == ["G-2"]
    assert catalog.count_products(ProductQuery("6381333")).count == 1
