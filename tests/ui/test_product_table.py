"""The Products table model over a real database: pages, sorting, searching, stale results."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.errors import ConfigurationError
from erpgo_desktop.services.catalog import (
    ProductCatalogService,
    ProductCount,
    ProductCursor,
    ProductPage,
    ProductQuery,
    ProductSort,
)
from erpgo_desktop.ui.product_table import NAME, PRICE, SKU, STOCK, ProductTableModel
from erpgo_desktop.ui.tasks import TaskRunner
from tests.ui.seed import SeedProduct, insert_products, seed_many

ROOT = QModelIndex()


def settled(model: ProductTableModel) -> bool:
    return not model.is_loading and model.count is not None


def load_all(qtbot: QtBot, model: ProductTableModel) -> None:
    while True:
        qtbot.waitUntil(lambda: settled(model))
        if not model.canFetchMore(ROOT):
            return
        model.fetchMore(ROOT)


def column(model: ProductTableModel, col: int) -> list[str]:
    return [model.index(row, col).data() for row in range(model.rowCount())]


def test_model_passes_the_model_tester_while_pages_arrive(
    qtbot: QtBot,
    qtmodeltester: ModelTester,
    engine: Engine,
    catalog: ProductCatalogService,
    runner: TaskRunner,
) -> None:
    seed_many(engine, 250)
    model = ProductTableModel(catalog, runner, page_size=100)
    qtmodeltester.check(model)  # empty, before anything loads

    # The tester stays attached and checks the model after every change; it also calls
    # fetchMore() from inside endInsertRows(), so it pulls in page after page by itself.
    model.reload()
    qtbot.waitUntil(lambda: settled(model) and not model.has_more)

    assert model.rowCount() == 250
    assert model.count == ProductCount(250, exact=True)
    assert len({model.row_at(row).id for row in range(250)}) == 250
    assert model.canFetchMore(ROOT) is False
    qtmodeltester.check(model)

    model.sort(PRICE, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: settled(model) and not model.has_more)
    assert model.rowCount() == 250


def test_rows_arrive_page_by_page_and_in_order(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    seed_many(engine, 45)
    model = ProductTableModel(catalog, runner, page_size=20)
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))

    model.reload()
    load_all(qtbot, model)

    assert inserted == [(0, 19), (20, 39), (40, 44)]
    assert column(model, SKU) == [f"SKU-{i:05d}" for i in range(1, 46)]


def test_cells_show_money_and_quantities_right_aligned(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    insert_products(
        engine,
        [SeedProduct("P-1", "Pallet jack", Decimal("1234.50"), 12_000, is_active=False)],
        category="Handling",
    )
    model = ProductTableModel(catalog, runner)
    model.reload()
    qtbot.waitUntil(lambda: settled(model))

    cells = [model.index(0, col).data() for col in range(model.columnCount())]
    assert cells == ["P-1", "Pallet jack", "Handling", "1,234.50", "12,000", "No"]
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    assert model.index(0, PRICE).data(Qt.ItemDataRole.TextAlignmentRole) == right
    assert model.index(0, STOCK).data(Qt.ItemDataRole.TextAlignmentRole) == right
    assert model.headerData(PRICE, Qt.Orientation.Horizontal) == "Price"


def test_sorting_reloads_from_the_first_page_in_the_new_order(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    seed_many(engine, 60)
    model = ProductTableModel(catalog, runner, page_size=25)
    model.reload()
    qtbot.waitUntil(lambda: settled(model))

    with qtbot.waitSignal(model.modelReset):
        model.sort(PRICE, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: settled(model))

    assert model.query.sort is ProductSort.PRICE and model.query.descending
    assert model.rowCount() == 25
    prices = [model.row_at(row).price for row in range(25)]
    assert prices == sorted(prices, reverse=True)
    assert prices[0] == Decimal("7.50")


def test_columns_without_an_index_do_not_sort(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    seed_many(engine, 5)
    model = ProductTableModel(catalog, runner)
    model.reload()
    qtbot.waitUntil(lambda: settled(model))

    with qtbot.assertNotEmitted(model.modelReset):
        model.sort(2, Qt.SortOrder.AscendingOrder)  # Category
        model.sort(5, Qt.SortOrder.DescendingOrder)  # Active
        model.sort(SKU, Qt.SortOrder.AscendingOrder)  # what it is sorted by already
    assert model.query == ProductQuery()


def test_searching_reloads_with_only_matches(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    seed_many(engine, 130)
    model = ProductTableModel(catalog, runner, page_size=50)
    model.sort(NAME, Qt.SortOrder.AscendingOrder)  # the first sort also loads
    qtbot.waitUntil(lambda: settled(model))

    with qtbot.waitSignal(model.modelReset):
        model.set_search("WIDGET 12")
    qtbot.waitUntil(lambda: settled(model))

    assert set(column(model, NAME)) == {"Widget 12"}
    assert model.rowCount() == 10
    assert model.count == ProductCount(10, exact=True)

    with qtbot.assertNotEmitted(model.modelReset):
        model.set_search("  widget 12 ")  # the same search, only padded


class GatedCatalog:
    """The real catalog, except that the first page request waits until the test says go."""

    def __init__(self, inner: ProductCatalogService) -> None:
        self.inner = inner
        self.release = threading.Event()
        self.first_started = threading.Event()
        self._calls = 0
        self._lock = threading.Lock()

    def list_products(
        self, query: ProductQuery, after: ProductCursor | None, limit: int
    ) -> ProductPage:
        with self._lock:
            self._calls += 1
            first = self._calls == 1
        if first:
            self.first_started.set()
            assert self.release.wait(10)
        return self.inner.list_products(query, after, limit)

    def count_products(self, query: ProductQuery, cap: int | None = 10_000) -> ProductCount:
        return self.inner.count_products(query, cap)


def test_a_page_that_arrives_after_a_new_search_is_dropped(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    seed_many(engine, 40)
    gated = GatedCatalog(catalog)
    model = ProductTableModel(gated, runner, page_size=100)
    model.reload()
    assert gated.first_started.wait(10)

    model.set_search("widget 3")  # while the unfiltered first page is still on its way
    qtbot.waitUntil(lambda: settled(model))
    assert set(column(model, NAME)) == {"Widget 3"}

    gated.release.set()
    runner.wait()
    qtbot.waitUntil(lambda: runner.pending_count == 0)

    assert set(column(model, NAME)) == {"Widget 3"}
    assert model.rowCount() == 3


class BrokenCatalog:
    def list_products(
        self, query: ProductQuery, after: ProductCursor | None, limit: int
    ) -> ProductPage:
        raise ConfigurationError("The database server cannot be reached.")

    def count_products(self, query: ProductQuery, cap: int | None = 10_000) -> ProductCount:
        return ProductCount(0, exact=True)


def test_a_failed_load_is_reported_and_not_retried(qtbot: QtBot, runner: TaskRunner) -> None:
    model = ProductTableModel(BrokenCatalog(), runner)

    with qtbot.waitSignal(model.load_failed) as failed:
        model.reload()

    assert failed.args == ["The database server cannot be reached."]
    assert not model.is_loading
    assert model.canFetchMore(ROOT) is False


@pytest.mark.parametrize("page_size", [1, 7])
def test_tiny_pages_still_reach_the_end(
    qtbot: QtBot,
    engine: Engine,
    catalog: ProductCatalogService,
    runner: TaskRunner,
    page_size: int,
) -> None:
    seed_many(engine, 15)
    model = ProductTableModel(catalog, runner, page_size=page_size)
    model.reload()
    load_all(qtbot, model)
    assert model.rowCount() == 15
