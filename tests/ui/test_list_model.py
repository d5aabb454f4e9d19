"""The generic paged model: refreshing in place keeps the selection on its records."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.services.catalog import ProductCatalogService, ProductSort
from erpgo_desktop.ui.product_table import CATEGORY, NAME, PRICE, SKU, ProductTableModel
from erpgo_desktop.ui.tasks import TaskRunner
from tests.ui.seed import SeedProduct, insert_products, seed_many

ROOT = QModelIndex()


def settled(model: ProductTableModel) -> bool:
    return not model.is_loading and model.count is not None


def skus(model: ProductTableModel) -> list[str]:
    return [model.index(row, SKU).data() for row in range(model.rowCount())]


def _loaded(qtbot: QtBot, catalog: ProductCatalogService, runner: TaskRunner) -> ProductTableModel:
    model = ProductTableModel(catalog, runner, page_size=50)
    model.reload()
    qtbot.waitUntil(lambda: settled(model))
    return model


def test_a_refresh_shows_inserted_changed_and_deleted_rows_and_keeps_the_selection(
    qtbot: QtBot,
    engine: Engine,
    catalog: ProductCatalogService,
    runner: TaskRunner,
    qtmodeltester: ModelTester,
) -> None:
    insert_products(engine, [SeedProduct(f"B-{n}", f"Bolt {n}") for n in range(1, 6)])
    model = _loaded(qtbot, catalog, runner)
    selection = QItemSelectionModel(model)
    chosen = model.index(2, NAME)  # B-3
    selection.setCurrentIndex(
        chosen, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.Rows
    )
    qtmodeltester.check(model)

    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (sku, name, category_id, price) "
                "SELECT 'A-1', 'Anchor', category_id, 2 FROM products LIMIT 1"
            )
        )
        conn.execute(text("UPDATE products SET price = 9.99 WHERE sku = 'B-3'"))
        conn.execute(text("DELETE FROM products WHERE sku = 'B-5'"))
    with qtbot.waitSignal(model.refreshed):
        model.refresh()

    assert skus(model) == ["A-1", "B-1", "B-2", "B-3", "B-4"]
    current = selection.currentIndex()
    assert (current.row(), current.column()) == (3, NAME)
    assert model.index(3, PRICE).data() == "9.99"
    assert [index.row() for index in selection.selectedRows()] == [3]
    assert model.count is not None and model.count.count == 5


def test_a_refresh_reads_again_every_loaded_page(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    seed_many(engine, 180)
    model = _loaded(qtbot, catalog, runner)
    while model.canFetchMore(ROOT) and model.rowCount() < 120:
        model.fetchMore(ROOT)
        qtbot.waitUntil(lambda: not model.is_loading)
    loaded = model.rowCount()
    with engine.begin() as conn:
        conn.execute(text("UPDATE products SET name = 'Renamed' WHERE sku = 'SKU-00101'"))

    with qtbot.waitSignal(model.refreshed):
        model.refresh()

    assert model.rowCount() == loaded == 150
    assert model.index(100, NAME).data() == "Renamed"
    assert model.canFetchMore(ROOT)


def test_refreshes_asked_for_while_one_runs_are_done_once_more_after_it(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    insert_products(engine, [SeedProduct("C-1", "Cog", Decimal("1.00"))])
    model = _loaded(qtbot, catalog, runner)
    refreshes: list[None] = []
    model.refreshed.connect(lambda: refreshes.append(None))

    model.refresh()
    with engine.begin() as conn:
        conn.execute(text("UPDATE products SET name = 'Cogwheel' WHERE sku = 'C-1'"))
    model.refresh()  # while the first is running: its answer may predate the update
    model.refresh()

    qtbot.waitUntil(lambda: len(refreshes) == 2)
    assert model.index(0, NAME).data() == "Cogwheel"


def test_header_clicks_sort_only_columns_that_name_a_sort(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    insert_products(
        engine,
        [SeedProduct("D-1", "Zed", Decimal("5.00")), SeedProduct("D-2", "Ayr", Decimal("1.00"))],
    )
    model = _loaded(qtbot, catalog, runner)
    assert model.column_of_sort(ProductSort.PRICE) == PRICE

    model.sort(CATEGORY, Qt.SortOrder.DescendingOrder)  # no index: ignored
    assert model.query.sort == ProductSort.SKU
    model.sort(PRICE, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: settled(model) and model.rowCount() == 2)

    assert (model.query.sort, model.query.descending) == (ProductSort.PRICE, True)
    assert skus(model) == ["D-1", "D-2"]
