"""A search sorted by SKU reads its SKU matches and its name and barcode matches apart
(`catalog._sku_page_by_column`); it must page through exactly the rows, in exactly the
order, of the plain filter: any of SKU, name, barcode contains the term, ignoring case."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.services.catalog import (
    ProductCatalogService,
    ProductCursor,
    ProductQuery,
    ProductSort,
    page_statement,
)
from erpgo_desktop.services.search_costs import SkuSides
from tests.ui.seed import insert_category

# (sku, name, barcode, active). SKUs begin with the searched terms in several cases,
# hold them further in, hold LIKE's wildcards and the escape character, and differ only
# in case.
PRODUCTS = [
    ("CLO-RAI-001", "Rain jacket", None, True),
    ("clo-rai-002", "Rain jacket, lower case SKU", None, True),
    ("Clo-Rai-003", "Rain coat", "4006381333931", True),
    ("clo-rai-001", "The same SKU but for case, inactive", None, False),
    ("Clo-Rai-001", "The same SKU but for case again", None, True),
    ("CLO-RAI-004", "CLO-RAI jacket (SKU and name)", None, True),
    ("CLO-RAJ-001", "Next prefix", None, True),
    ("CLO-RA", "A prefix of the prefix", None, True),
    ("X-CLO-RAI-9", "In the middle of a SKU", None, True),
    ("AAA-1", "A clo-rai coat, by name only", None, True),
    ("ZZZ-1", "By barcode only", "CLO-RAI-77", True),
    ("A_B-1", "Underscore", None, True),
    ("A%B-2", "Percent", None, True),
    ("AxB-3", "An x where the wildcards were", None, True),
    ("a_b-4", "Underscore, lower case", "a%b", True),
    ("BACK\\SLASH", "Backslash", None, True),
    ("ÄPFEL-1", "Umlaut", None, True),
    ("äpfel-2", "Umlaut, lower case", None, True),
    *((f"FILL-{i:03}", f"Filler {i}", None, i % 4 != 0) for i in range(40)),
]

TERMS = [
    "clo-rai",
    "CLO-RAI",
    "Clo-Rai-00",
    "clo",
    "clo-ra",
    "rai",
    "RAI-001",
    "a_b",
    "A_",
    "a%b",
    "%",
    "_",
    "\\",
    "-",
    "äpfel",
    "fill",
    "filler 1",
    "4006381333931",
    "nothing like it",
]


@pytest.fixture
def seeded(engine: Engine) -> uuid.UUID:
    """The products above in one category, plus three in another; returns the first's id."""
    category = insert_category(engine, "Clothes")
    other = insert_category(engine, "Other")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (sku, name, barcode, category_id, price, is_active) "
                "VALUES (:sku, :name, :barcode, :category, 1, :active)"
            ),
            [
                {"sku": s, "name": n, "barcode": b, "category": category, "active": a}
                for s, n, b, a in PRODUCTS
            ]
            + [
                {"sku": s, "name": "Other", "barcode": None, "category": other, "active": True}
                for s in ("CLO-RAI-005", "A_B-9", "FILL-999")
            ],
        )
    return category


def plain_filter(engine: Engine, query: ProductQuery) -> list[uuid.UUID]:
    """The matches by their meaning, written apart from the service's SQL: a position of
    the lowered term in a lowered column, so no pattern and no escaping."""
    conditions = [
        "(strpos(lower(p.sku), lower(:term)) > 0 OR strpos(lower(p.name), lower(:term)) > 0 "
        "OR strpos(lower(coalesce(p.barcode, '')), lower(:term)) > 0)"
    ]
    if query.category_id is not None:
        conditions.append("p.category_id = :category")
    if query.active is not None:
        conditions.append("p.is_active = :active")
    direction = "DESC" if query.descending else "ASC"
    with engine.connect() as conn:
        found = conn.execute(
            text(
                f"SELECT p.id FROM products p WHERE {' AND '.join(conditions)} "
                f"ORDER BY p.sku {direction}, p.id {direction}"
            ),
            {"term": query.search_term, "category": query.category_id, "active": query.active},
        ).scalars()
        return list(found)


class Collecting(ProductCatalogService):
    """Collects the matches of the sides named whatever the statistics say
    (services/search_costs.py)."""

    def __init__(self, engine: Engine, sides: SkuSides) -> None:
        super().__init__(make_session_factory(engine))
        self._sides = sides

    def _sides_to_collect(self, *_: Any) -> SkuSides:
        return self._sides


def walk(catalog: ProductCatalogService, query: ProductQuery, limit: int) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    cursor: ProductCursor | None = None
    while True:
        page = catalog.list_products(query, cursor, limit)
        ids.extend(row.id for row in page.rows)
        if not page.has_more:
            return ids
        assert len(page.rows) == limit
        cursor = page.next_cursor


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_pages_by_sku_hold_the_plain_filters_rows_in_its_order(
    engine: Engine, seeded: uuid.UUID, descending: bool
) -> None:
    plain = ProductCatalogService(make_session_factory(engine))
    # The plain statement over all three columns, its matches collected and sorted.
    collected = ProductCatalogService(make_session_factory(engine), sort_matches_up_to=10_000)
    # Either side collected rather than left to PostgreSQL, or both.
    sides_collected = [
        Collecting(engine, SkuSides(skus=skus, names=names))
        for skus, names in ((True, False), (False, True), (True, True))
    ]
    checked = 0
    for term in TERMS:
        for narrowed in ({}, {"active": True}, {"category_id": seeded}):
            query = ProductQuery(
                search=term, sort=ProductSort.SKU, descending=descending, **narrowed
            )
            expected = plain_filter(engine, query)
            for limit in (1, 2, 3, 7, 200):
                assert walk(plain, query, limit) == expected, (term, narrowed, limit)
            assert walk(collected, query, 3) == expected, (term, narrowed)
            for collecting in sides_collected:
                assert walk(collecting, query, 3) == expected, (term, narrowed, collecting._sides)
            checked += len(expected)
    assert checked > 200  # the terms do match: the comparison is not between empty lists


def test_a_term_in_sku_and_name_is_one_row(engine: Engine, seeded: uuid.UUID) -> None:
    catalog = ProductCatalogService(make_session_factory(engine))
    page = catalog.list_products(ProductQuery(search="clo-rai-004"), None, 10)
    assert [row.sku for row in page.rows] == ["CLO-RAI-004"]
    assert not page.has_more
    wildcards = catalog.list_products(ProductQuery(search="A_B"), None, 10)
    assert [row.sku for row in wildcards.rows] == ["A_B-1", "A_B-9", "a_b-4"]


def test_the_sku_side_reads_the_sku_index_alone(engine: Engine) -> None:
    # 20,000 SKUs; those beginning "S-02" bunch a tenth of the way in, as a category's
    # prefix does. The SKU side must not visit the table row by row to get there.
    category = insert_category(engine, "Many")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (sku, name, category_id, price) "
                "SELECT 'S-' || lpad(i::text, 5, '0'), 'Thing ' || i, :category, 1 "
                "FROM generate_series(1, 20000) AS i"
            ),
            {"category": category},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE products"))
    statement = page_statement(ProductQuery(search="S-02"), None, 201)
    compiled = statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {compiled}")).all())
    assert "Index Only Scan using idx_products_sku_id" in plan, plan
