"""The product catalog's keyset pages, search and capped counts, on real PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.catalog import (
    ProductCatalogService,
    ProductCount,
    ProductCursor,
    ProductQuery,
    ProductRow,
    ProductSort,
    escape_like,
)
from tests.ui.seed import SeedProduct, insert_products, seed_many


@pytest.fixture
def catalog(engine: Engine) -> ProductCatalogService:
    return ProductCatalogService(make_session_factory(engine))


def walk(catalog: ProductCatalogService, query: ProductQuery, limit: int) -> list[ProductRow]:
    rows: list[ProductRow] = []
    cursor: ProductCursor | None = None
    while True:
        page = catalog.list_products(query, cursor, limit)
        assert len(page.rows) <= limit
        rows.extend(page.rows)
        if not page.has_more:
            return rows
        assert len(page.rows) == limit
        cursor = page.next_cursor


def sort_value(row: ProductRow, sort: ProductSort) -> object:
    return getattr(row, sort.value)


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("sort", list(ProductSort))
def test_pages_visit_every_row_once_in_order(
    engine: Engine, catalog: ProductCatalogService, sort: ProductSort, descending: bool
) -> None:
    # Names, prices and stock repeat every few rows, so pages end inside runs of ties.
    seed_many(engine, 157)
    query = ProductQuery(sort=sort, descending=descending)

    rows = walk(catalog, query, limit=10)

    assert len(rows) == 157
    assert len({row.id for row in rows}) == 157
    keys = [(sort_value(row, sort), row.id) for row in rows]
    assert keys == sorted(keys, reverse=descending)  # type: ignore[type-var]


def test_rows_carry_the_listed_columns(engine: Engine, catalog: ProductCatalogService) -> None:
    insert_products(
        engine,
        [SeedProduct("HAM-1", "Claw hammer", Decimal("12.50"), 7, is_active=False)],
        category="Hand tools",
    )

    page = catalog.list_products(ProductQuery(), None, 50)

    assert page.has_more is False
    (row,) = page.rows
    assert (row.sku, row.name, row.category) == ("HAM-1", "Claw hammer", "Hand tools")
    assert row.price == Decimal("12.50") and isinstance(row.price, Decimal)
    assert (row.stock_quantity, row.is_active) == (7, False)
    assert page.next_cursor == ProductCursor("HAM-1", row.id, sort_matches=None)


def test_an_empty_catalog_has_an_empty_page(catalog: ProductCatalogService) -> None:
    page = catalog.list_products(ProductQuery(search="x"), None, 10)
    assert page.rows == () and page.next_cursor is None and page.has_more is False
    assert catalog.count_products(ProductQuery()) == ProductCount(0, exact=True)


def test_a_page_that_ends_exactly_at_the_last_row_says_no_more(
    engine: Engine, catalog: ProductCatalogService
) -> None:
    seed_many(engine, 20)
    first = catalog.list_products(ProductQuery(), None, 20)
    assert len(first.rows) == 20 and first.has_more is False


def test_search_matches_sku_or_name_substrings_ignoring_case(
    engine: Engine, catalog: ProductCatalogService
) -> None:
    insert_products(
        engine,
        [
            SeedProduct("DRL-100", "Cordless drill"),
            SeedProduct("SAW-200", "Hand saw"),
            SeedProduct("BIT-300", "Drill bit set"),
            SeedProduct("GLU-400", "Wood glue"),
        ],
    )

    def skus(search: str) -> list[str]:
        return [row.sku for row in walk(catalog, ProductQuery(search=search), 10)]

    assert skus("drill") == ["BIT-300", "DRL-100"]  # by name, any case
    assert skus("  DRILL ") == ["BIT-300", "DRL-100"]  # blanks around the search are ignored
    assert skus("aw-2") == ["SAW-200"]  # by the middle of a SKU
    assert skus("w") == ["GLU-400", "SAW-200"]
    assert skus("nothing like it") == []
    assert skus("") == ["BIT-300", "DRL-100", "GLU-400", "SAW-200"]


def test_search_wildcards_are_literal(engine: Engine, catalog: ProductCatalogService) -> None:
    insert_products(
        engine,
        [
            SeedProduct("A_1", "Fifty % off"),
            SeedProduct("AB1", "Fifty and more"),
            SeedProduct("C-3", "Back\\slash"),
        ],
    )

    def skus(search: str) -> list[str]:
        return [row.sku for row in walk(catalog, ProductQuery(search=search), 10)]

    assert skus("_") == ["A_1"]
    assert skus("A_") == ["A_1"]
    assert skus("%") == ["A_1"]
    assert skus("Fifty %") == ["A_1"]
    assert skus("\\") == ["C-3"]
    assert escape_like("5%_\\") == "5\\%\\_\\\\"


@pytest.mark.parametrize(
    "sort_matches_up_to",
    [0, 39, 40, None],
    ids=["walk-index", "walk-index-one-too-many", "sort-matches", "planned-by-postgresql"],
)
def test_search_pages_follow_the_sort_order(engine: Engine, sort_matches_up_to: int) -> None:
    # Both ways of reading a search (walking the sort index, or sorting the matches) must
    # page through the same rows in the same order.
    seed_many(engine, 130)
    catalog = ProductCatalogService(
        make_session_factory(engine), sort_matches_up_to=sort_matches_up_to
    )
    query = ProductQuery(search="widget 1", sort=ProductSort.PRICE, descending=True)

    rows = walk(catalog, query, 4)

    # "Widget 1", "Widget 10", "Widget 11", "Widget 12": i % 13 in {1, 10, 11, 12}.
    assert len(rows) == 40
    assert all(row.name.startswith("Widget 1") for row in rows)
    keys = [(row.price, row.id) for row in rows]
    assert keys == sorted(keys, reverse=True)
    assert catalog.count_products(query) == ProductCount(40, exact=True)


def test_a_search_decides_how_to_read_once(engine: Engine) -> None:
    seed_many(engine, 30)
    catalog = ProductCatalogService(make_session_factory(engine), sort_matches_up_to=5)
    few = catalog.list_products(ProductQuery(search="sku-0000"), None, 3)  # 9 matches
    assert few.next_cursor is not None and few.next_cursor.sort_matches is False
    many = ProductCatalogService(make_session_factory(engine), sort_matches_up_to=9).list_products(
        ProductQuery(search="sku-0000"), None, 3
    )
    assert many.next_cursor is not None and many.next_cursor.sort_matches is True
    # The application counts nothing: the plain statement, planned by PostgreSQL.
    plain = ProductCatalogService(make_session_factory(engine)).list_products(
        ProductQuery(search="sku-0000"), None, 3
    )
    assert plain.next_cursor is not None and plain.next_cursor.sort_matches is None


def test_sorted_matches_read_through_the_trigram_indexes(engine: Engine) -> None:
    seed_many(engine, 5_000)
    from erpgo_desktop.services.catalog import page_statement

    statement = page_statement(
        ProductQuery(search="sku-0421", sort=ProductSort.NAME), None, 201, sort_matches=True
    )
    compiled = statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    with engine.begin() as conn:
        conn.execute(text("ANALYZE products"))
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table would be scanned
        plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {compiled}")).all())
    assert "idx_products_sku_trgm" in plan, plan
    assert "idx_products_name_id" not in plan, plan


def test_count_stops_at_the_cap(engine: Engine, catalog: ProductCatalogService) -> None:
    seed_many(engine, 60)

    assert catalog.count_products(ProductQuery(), cap=60) == ProductCount(60, exact=True)
    assert catalog.count_products(ProductQuery(), cap=59) == ProductCount(59, exact=False)
    assert catalog.count_products(ProductQuery(), cap=None) == ProductCount(60, exact=True)
    assert catalog.count_products(ProductQuery(search="sku-0001"), cap=5) == ProductCount(
        5, exact=False
    )
    assert catalog.count_products(ProductQuery(search="sku-0001"), cap=10) == ProductCount(
        10, exact=True
    )


def test_bad_page_sizes_and_searches_are_refused(catalog: ProductCatalogService) -> None:
    with pytest.raises(ValidationError):
        catalog.list_products(ProductQuery(), None, 0)
    with pytest.raises(ValidationError):
        catalog.list_products(ProductQuery(), None, 100_000)
    with pytest.raises(ValidationError) as refused:
        catalog.count_products(ProductQuery(search="x" * 301))
    assert refused.value.field == "search"


def test_pages_use_the_keyset_indexes(engine: Engine) -> None:
    # With enough rows the planner walks the (key, id) index instead of sorting the table;
    # a plan with a Sort node would read every product for each page.
    seed_many(engine, 20_000)
    from erpgo_desktop.services.catalog import page_statement

    with engine.begin() as conn:
        conn.execute(text("ANALYZE products"))
        for sort in ProductSort:
            for descending in (False, True):
                first = ProductQuery(sort=sort, descending=descending)
                page = ProductCatalogService(make_session_factory(engine)).list_products(
                    first, None, 200
                )
                statement = page_statement(first, page.next_cursor, 201)
                compiled = statement.compile(
                    dialect=engine.dialect, compile_kwargs={"literal_binds": True}
                )
                plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {compiled}")).all())
                assert f"idx_products_{sort.value}_id" in plan, plan
                assert "Sort" not in plan.replace("Sort Key", ""), plan
