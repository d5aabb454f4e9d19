"""The choice between walking the SKU index and collecting a search's SKU matches, from
the statistics' sample of SKUs (services/search_costs.py), and that the page it leads to is
the plain filter's either way."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.services.catalog import ProductCatalogService, ProductQuery, ProductSort
from erpgo_desktop.services.search_costs import (
    COLLECT_UP_TO,
    KeySamples,
    SkuSides,
    collect_sku_matches,
    estimated_matches,
    few_enough_to_collect,
    read_samples,
    sku_sides_to_collect,
)
from tests.services.test_catalog_sku_search import plain_filter, walk
from tests.ui.seed import insert_category

# A sample of 1,000 steps over a million products (a thousand a step): a prefix of 20
# steps first (AAA-), one of 960 (MMM-), one of 20 last (ZZZ-); no name says "gadget".
BUNCHES = [("AAA", 20), ("MMM", 960), ("ZZZ", 20)]
SAMPLE = KeySamples(
    skus=tuple(f"{prefix}-{step:04}" for prefix, steps in BUNCHES for step in range(steps)),
    names=("Widget",) * 100,
    rows=1_000_000,
)


def choose(term: str, *, after: str | None = None, descending: bool = False) -> bool:
    return collect_sku_matches(SAMPLE, term, after_sku=after, descending=descending, page_rows=201)


def test_matches_bunched_at_the_far_end_are_collected() -> None:
    assert choose("ZZZ-")
    assert choose("zzz-00")  # case does not count


def test_matches_bunched_near_the_start_are_walked_to() -> None:
    assert not choose("AAA-")
    assert not choose("MMM-")


def test_many_matches_far_along_are_walked_to_when_collecting_them_costs_more() -> None:
    # MMM- holds 96% of the catalog from step 20 on: 21 steps walked against 9,600.
    assert not choose("MMM-", after="AAA-0019")


def test_the_direction_and_the_cursor_decide_what_is_near() -> None:
    assert not choose("ZZZ-", descending=True)
    assert choose("AAA-", descending=True)
    # Past the cursor, ZZZ-... is next.
    assert not choose("ZZZ-", after="MMM-0959")


def test_matches_everywhere_are_walked_to() -> None:
    assert not choose("-00")  # the first hundred steps of every prefix


def test_matches_too_few_to_show_in_the_sample_are_collected() -> None:
    assert choose("no such sku")


def test_names_many_and_spread_end_the_walk_early() -> None:
    # "gadget" is in no SKU but in every name: the name side holds a page within the
    # first step, where the SKU walk then stops, sooner than collecting costs.
    spread_names = KeySamples(SAMPLE.skus, ("Gadget",) * 100, SAMPLE.rows)
    sides = sku_sides_to_collect(
        spread_names, "gadget", after_sku=None, descending=False, page_rows=201
    )
    assert sides == SkuSides(skus=False, names=False)


def test_few_names_are_collected_and_do_not_end_the_walk() -> None:
    # A name in a hundredth of the catalog (10,000 products) may lie bunched by SKU as
    # the SKUs do: it is collected, and the SKU side reckons without it.
    few_names = KeySamples(SAMPLE.skus, ("Gadget",) + ("Widget",) * 99, SAMPLE.rows)
    sides = sku_sides_to_collect(few_names, "ZZZ-", after_sku=None, descending=False, page_rows=201)
    assert sides == SkuSides(skus=True, names=True)
    sides = sku_sides_to_collect(few_names, "AAA-", after_sku=None, descending=False, page_rows=201)
    assert sides == SkuSides(skus=False, names=True)


def test_barcodes_count_with_the_names() -> None:
    # Digits in every barcode: the name and barcode side is many, PostgreSQL walks it.
    barcodes = KeySamples(SAMPLE.skus, SAMPLE.names, SAMPLE.rows, ("4006381333931",) * 100)
    sides = sku_sides_to_collect(barcodes, "4006", after_sku=None, descending=False, page_rows=201)
    assert not sides.names
    assert estimated_matches(barcodes, "4006") > COLLECT_UP_TO
    assert few_enough_to_collect(SAMPLE, "4006")


def test_matches_are_estimated_from_the_samples() -> None:
    # Half a step of each sample where it shows no match: 500 products of the SKUs' 1,000
    # steps, 5,000 of the names' 100.
    assert estimated_matches(SAMPLE, "ZZZ-") == pytest.approx(20_000 + 5_000)
    assert estimated_matches(SAMPLE, "widget") == pytest.approx(1_000_000 + 500)
    assert few_enough_to_collect(SAMPLE, "no such thing")
    assert not few_enough_to_collect(SAMPLE, "MMM-")


def test_a_small_catalog_counts_its_page_in_several_steps() -> None:
    # 2,000 products: two a step, so a page of 201 needs 101 steps of matches. ZZZ-
    # holds fewer: the walk would go to the end; MMM- holds a page 121 steps in.
    small = KeySamples(SAMPLE.skus, SAMPLE.names, 2_000)
    assert collect_sku_matches(small, "ZZZ-", after_sku=None, descending=False, page_rows=201)
    assert not collect_sku_matches(small, "MMM-", after_sku=None, descending=False, page_rows=201)


@pytest.fixture
def bunched(engine: Engine) -> uuid.UUID:
    """20,000 products whose SKUs bunch by prefix (a thousand AAA- first, a thousand ZZZ-
    last), analysed so that the sample is there."""
    category = insert_category(engine, "Bunched")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (sku, name, category_id, price) "
                "SELECT CASE WHEN i <= 1000 THEN 'AAA' WHEN i > 19000 THEN 'ZZZ' ELSE 'MMM' END "
                "|| '-' || lpad(i::text, 5, '0'), 'Thing ' || i, :category, 1 "
                "FROM generate_series(1, 20000) AS i"
            ),
            {"category": category},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE products"))
    return category


def test_the_statistics_give_the_sample_in_sku_order(engine: Engine, bunched: uuid.UUID) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session:
        samples = read_samples(session)
    assert samples is not None
    assert list(samples.skus) == sorted(samples.skus)
    # Revision 0020 asks for 1,000 steps: far more than PostgreSQL's default 100.
    assert len(samples.skus) > 500
    assert samples.rows == pytest.approx(20_000, rel=0.1)
    assert collect_sku_matches(samples, "zzz-", after_sku=None, descending=False, page_rows=201)
    assert not collect_sku_matches(samples, "aaa-", after_sku=None, descending=False, page_rows=201)


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_pages_are_the_plain_filters_whichever_way_they_are_read(
    engine: Engine, bunched: uuid.UUID, descending: bool
) -> None:
    catalog = ProductCatalogService(make_session_factory(engine))
    for term in ("zzz-", "aaa-", "MMM-0", "-0001", "thing 7", "19999", "nothing"):
        query = ProductQuery(search=term, sort=ProductSort.SKU, descending=descending)
        assert walk(catalog, query, 201) == plain_filter(engine, query), term
