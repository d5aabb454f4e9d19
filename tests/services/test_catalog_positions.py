"""Reading the catalog by position: what lets a list jump to any row, the last one cheaply."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.errors import ValidationError
from erpgo_desktop.services.catalog import (
    ProductCatalogService,
    ProductCursor,
    ProductQuery,
    ProductRow,
    ProductSort,
    position_statement,
)
from tests.ui.seed import seed_many


@pytest.fixture
def catalog(engine: Engine) -> ProductCatalogService:
    return ProductCatalogService(make_session_factory(engine))


def walk(catalog: ProductCatalogService, query: ProductQuery) -> list[ProductRow]:
    rows: list[ProductRow] = []
    cursor: ProductCursor | None = None
    while True:
        page = catalog.list_products(query, cursor, 1000)
        rows.extend(page.rows)
        if not page.has_more:
            return rows
        cursor = page.next_cursor


@pytest.mark.parametrize("use_total", [False, True], ids=["forwards", "either-end"])
@pytest.mark.parametrize(
    "query",
    [
        ProductQuery(),
        ProductQuery(sort=ProductSort.PRICE, descending=True),
        ProductQuery(sort=ProductSort.NAME),
        ProductQuery(search="widget 1", sort=ProductSort.STOCK_QUANTITY),
    ],
    ids=["sku", "price-desc", "name", "search"],
)
def test_any_position_gives_the_rows_a_walk_gives_there(
    engine: Engine, catalog: ProductCatalogService, query: ProductQuery, use_total: bool
) -> None:
    # Prices, names and stock repeat: positions fall inside runs of ties.
    seed_many(engine, 260)
    expected = walk(catalog, query)
    total = len(expected)
    assert total > 40

    for offset in (0, 1, 17, total // 2 - 5, total // 2 + 3, total - 30, total - 1):
        page = catalog.list_products_at(query, offset, 25, total=total if use_total else None)
        assert list(page.rows) == expected[offset : offset + 25], offset
        assert page.has_more == (offset + 25 < total), offset
        # The cursor continues by keyset exactly where the page stopped.
        if page.has_more:
            assert page.next_cursor is not None
            following = catalog.list_products(query, page.next_cursor, 5)
            assert list(following.rows) == expected[offset + 25 : offset + 30]


def test_the_last_page_is_read_backwards_without_offset(
    engine: Engine, catalog: ProductCatalogService
) -> None:
    seed_many(engine, 120)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        page = catalog.list_products_at(ProductQuery(), 100, 20, total=120)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert [row.sku for row in page.rows] == [f"SKU-{i:05d}" for i in range(101, 121)]
    assert not page.has_more
    assert page.next_cursor is not None and page.next_cursor.key == "SKU-00120"
    reads = [sql.upper() for sql in statements if "FROM PRODUCTS" in sql.upper()]
    assert len(reads) == 1, reads
    assert "OFFSET" not in reads[0] and "DESC" in reads[0] and "LIMIT" in reads[0]


def test_positions_are_located_through_the_index_alone(engine: Engine) -> None:
    seed_many(engine, 300)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE products"))  # the visibility map: index-only scans
        conn.execute(text("SET enable_seqscan = off"))
        sql = position_statement(ProductQuery(sort=ProductSort.PRICE), 150).compile(
            engine, compile_kwargs={"literal_binds": True}
        )
        plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {sql}")))
    assert "Index Only Scan" in plan and "idx_products_price_id" in plan, plan


def test_positions_past_the_end_give_an_empty_page(
    engine: Engine, catalog: ProductCatalogService
) -> None:
    seed_many(engine, 10)
    assert catalog.list_products_at(ProductQuery(), 10, 5).rows == ()
    assert catalog.list_products_at(ProductQuery(), 50, 5, total=10).rows == ()
    # With a total that is out of date (two rows went meanwhile) positions near the end
    # count from the end: the last rows there are, never an error.
    page = catalog.list_products_at(ProductQuery(), 8, 5, total=12)
    assert [row.sku for row in page.rows] == ["SKU-00007", "SKU-00008", "SKU-00009", "SKU-00010"]


def test_bad_positions_and_sizes_are_refused(catalog: ProductCatalogService) -> None:
    with pytest.raises(ValidationError):
        catalog.list_products_at(ProductQuery(), -1, 10)
    with pytest.raises(ValidationError):
        catalog.list_products_at(ProductQuery(), 0, 0)
    with pytest.raises(ValidationError):
        catalog.list_products_at(ProductQuery(), 0, 5_000)
    with pytest.raises(ValidationError):
        catalog.list_products_at(ProductQuery(search="x" * 301), 0, 10)
