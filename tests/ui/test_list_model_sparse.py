"""The paged model in sparse mode: every row counted at once, blocks loaded where the view is.

A few thousand products stand in for a million: what matters is that the model never
walks the list to get somewhere, keeps only a bounded number of blocks, and drops what
arrives for a list the user has left.
"""

from __future__ import annotations

import threading
from collections import Counter

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.services.catalog import (
    ProductCatalogService,
    ProductCount,
    ProductCursor,
    ProductPage,
    ProductQuery,
    ProductSort,
)
from erpgo_desktop.ui.list_model import PLACEHOLDER
from erpgo_desktop.ui.list_view import ListTableView
from erpgo_desktop.ui.product_table import NAME, PRICE, SKU, ProductTableModel
from erpgo_desktop.ui.tasks import TaskRunner
from tests.ui.seed import seed_many

ROOT = QModelIndex()
PRODUCTS = 3_000


def sku(number: int) -> str:
    return f"SKU-{number:05d}"


class RecordingCatalog:
    """The real catalog, noting each call; `gate`, when set, holds the next positional read."""

    def __init__(self, inner: ProductCatalogService) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.gate: threading.Event | None = None
        self.held = threading.Event()

    def list_products(
        self, query: ProductQuery, after: ProductCursor | None, limit: int
    ) -> ProductPage:
        self.calls["page"] += 1
        return self.inner.list_products(query, after, limit)

    def list_products_at(
        self, query: ProductQuery, offset: int, limit: int, *, total: int | None = None
    ) -> ProductPage:
        self.calls["at"] += 1
        gate, self.gate = self.gate, None  # holds only the first read after it is set
        if gate is not None:
            self.held.set()
            assert gate.wait(10)
        return self.inner.list_products_at(query, offset, limit, total=total)

    def count_products(self, query: ProductQuery, cap: int | None = 10_000) -> ProductCount:
        self.calls["count"] += 1
        return self.inner.count_products(query, cap)


def loaded_rows(model: ProductTableModel) -> list[int]:
    return [row for row in range(model.rowCount()) if model.row_at(row) is not None]


def wait_for_row(qtbot: QtBot, model: ProductTableModel, row: int) -> None:
    model.index(row, SKU).data()  # what a view painting the row does
    qtbot.waitUntil(lambda: model.row_at(row) is not None)


def sparse_model(
    qtbot: QtBot, catalog: object, runner: TaskRunner, **options: int
) -> ProductTableModel:
    model = ProductTableModel(catalog, runner, page_size=100, **options)  # type: ignore[arg-type]
    model.reload()
    qtbot.waitUntil(lambda: model.is_sparse and not model.is_loading)
    return model


def test_the_whole_count_is_there_at_once_with_placeholders(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    seed_many(engine, PRODUCTS)
    model = sparse_model(qtbot, catalog, runner)

    assert model.rowCount() == PRODUCTS
    assert model.count == ProductCount(PRODUCTS, exact=True)
    assert model.index(0, SKU).data() == sku(1)
    assert model.row_at(2_500) is None
    assert model.index(2_500, NAME).data() == PLACEHOLDER
    assert model.canFetchMore(ROOT) is False and not model.has_more


def test_ctrl_end_shows_the_true_last_rows_without_walking_the_list(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    seed_many(engine, PRODUCTS)
    recording = RecordingCatalog(catalog)
    model = sparse_model(qtbot, recording, runner)
    view = ListTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(600, 400)
    view.show()
    qtbot.waitExposed(view)
    view.setFocus()
    calls_before = sum(recording.calls.values())

    qtbot.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)

    assert view.currentIndex().row() == PRODUCTS - 1
    qtbot.waitUntil(lambda: model.row_at(PRODUCTS - 1) is not None)
    shown = [model.index(row, SKU).data() for row in range(PRODUCTS - 20, PRODUCTS)]
    assert shown == [sku(number) for number in range(PRODUCTS - 19, PRODUCTS + 1)]
    assert [index.row() for index in view.selectionModel().selectedRows()] == [PRODUCTS - 1]
    # One or two blocks by position, not thirty pages.
    assert sum(recording.calls.values()) - calls_before <= 2
    assert recording.calls["at"] >= 1

    qtbot.keyClick(view, Qt.Key.Key_Home)  # Home goes to the first row, as Ctrl+Home
    assert view.currentIndex().row() == 0


def test_scrolling_into_the_middle_loads_the_rows_that_belong_there(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    seed_many(engine, PRODUCTS)
    recording = RecordingCatalog(catalog)
    model = sparse_model(qtbot, recording, runner)
    view = ListTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(600, 300)
    view.show()
    qtbot.waitExposed(view)

    view.scrollTo(model.index(1_650, 0), ListTableView.ScrollHint.PositionAtTop)
    qtbot.waitUntil(lambda: model.row_at(1_650) is not None and not model.is_loading)

    for row in range(1_650, 1_660):
        assert model.index(row, SKU).data() == sku(row + 1)
    assert recording.calls["at"] >= 1

    # The block after a loaded one follows it by keyset, not by position.
    positional = recording.calls["at"]
    wait_for_row(qtbot, model, 1_750)
    assert model.index(1_750, SKU).data() == sku(1_751)
    assert recording.calls["at"] == positional


def test_the_block_cache_is_bounded_and_evicts_the_least_recently_shown(
    qtbot: QtBot,
    engine: Engine,
    catalog: ProductCatalogService,
    runner: TaskRunner,
    qtmodeltester: ModelTester,
) -> None:
    seed_many(engine, PRODUCTS)
    model = sparse_model(qtbot, catalog, runner, cache_rows=400)  # four blocks of 100
    qtmodeltester.check(model)
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda first, last: changed.append((first.row(), last.row())))

    for row in range(0, PRODUCTS, 250):
        wait_for_row(qtbot, model, row)
        assert model.index(row, SKU).data() == sku(row + 1)
        assert len(loaded_rows(model)) <= 400

    assert loaded_rows(model)[-1] == 2_799  # the block of row 2,750
    # (The model tester looks at row 0 after every change, which keeps its block fresh.)
    assert model.row_at(250) is None  # evicted long ago ...
    assert (200, 299) in changed  # ... and views were told
    wait_for_row(qtbot, model, 250)  # and it comes back when shown again
    assert model.index(250, SKU).data() == sku(251)
    qtmodeltester.check(model)


def test_the_model_tester_passes_while_going_sparse_and_loading_blocks(
    qtbot: QtBot,
    engine: Engine,
    catalog: ProductCatalogService,
    runner: TaskRunner,
    qtmodeltester: ModelTester,
) -> None:
    seed_many(engine, PRODUCTS)
    model = ProductTableModel(catalog, runner, page_size=100)
    qtmodeltester.check(model)  # stays attached: checks every insert, change and reset

    model.reload()
    qtbot.waitUntil(lambda: model.is_sparse and not model.is_loading)
    for row in (150, 2_999, 1_234):
        wait_for_row(qtbot, model, row)
    model.sort(PRICE, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: model.is_sparse and not model.is_loading)
    wait_for_row(qtbot, model, 2_999)

    assert model.rowCount() == PRODUCTS
    assert model.query.sort is ProductSort.PRICE
    last = model.row_at(2_999)
    first = model.row_at(0)
    assert first is not None and last is not None and first.price >= last.price
    qtmodeltester.check(model)


def test_blocks_for_an_old_search_are_dropped(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    seed_many(engine, PRODUCTS)
    recording = RecordingCatalog(catalog)
    model = sparse_model(qtbot, recording, runner)
    gate = recording.gate = threading.Event()
    model.index(500, SKU).data()  # asks for rows 500-599 by position; the read is held
    qtbot.waitUntil(recording.held.is_set)

    model.set_search("sku-02")  # SKU-02000 ... SKU-02999: sparse too, 1,000 rows
    qtbot.waitUntil(lambda: model.is_sparse and not model.is_loading)
    assert model.rowCount() == 1_000
    gate.set()  # the old rows (SKU-00501 ...) arrive now
    assert runner.wait(10_000)
    qtbot.waitUntil(lambda: runner.pending_count == 0)

    assert model.row_at(500) is None  # dropped, not shown as rows of the new search
    wait_for_row(qtbot, model, 500)
    assert model.index(500, SKU).data() == "SKU-02500"


def test_a_capped_count_keeps_the_list_append_only(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    seed_many(engine, PRODUCTS)
    model = ProductTableModel(catalog, runner, page_size=100, count_cap=500)
    model.set_search("widget")
    qtbot.waitUntil(lambda: model.count is not None and not model.is_loading)

    assert model.count == ProductCount(500, exact=False)
    assert not model.is_sparse
    assert model.rowCount() == 100 and model.canFetchMore(ROOT)


def test_a_refresh_keeps_the_selection_on_its_record_and_shows_changes(
    qtbot: QtBot,
    engine: Engine,
    catalog: ProductCatalogService,
    runner: TaskRunner,
    qtmodeltester: ModelTester,
) -> None:
    seed_many(engine, PRODUCTS)
    model = sparse_model(qtbot, catalog, runner)
    qtmodeltester.check(model)
    wait_for_row(qtbot, model, 2_500)
    selection = QItemSelectionModel(model)
    selection.setCurrentIndex(
        model.index(2_500, NAME),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.Rows,
    )
    chosen = model.row_at(2_500)
    assert chosen is not None and chosen.sku == sku(2_501)

    with engine.begin() as conn:  # two rows come before it, one goes after it
        conn.execute(
            text(
                "INSERT INTO products (sku, name, category_id, price) "
                "SELECT s, 'New', category_id, 2 FROM products, "
                "(VALUES ('A-1'), ('A-2')) AS v(s) LIMIT 2"
            )
        )
        conn.execute(text("UPDATE products SET name = 'Renamed' WHERE sku = :s"), {"s": sku(2_501)})
        conn.execute(text("DELETE FROM products WHERE sku = :s"), {"s": sku(2_900)})
    with qtbot.waitSignal(model.refreshed):
        model.refresh()

    assert model.rowCount() == PRODUCTS + 1
    assert model.count == ProductCount(PRODUCTS + 1, exact=True)
    current = selection.currentIndex()
    assert (current.row(), current.column()) == (2_502, NAME)
    assert model.index(2_502, NAME).data() == "Renamed"
    assert [index.row() for index in selection.selectedRows()] == [2_502]
    wait_for_row(qtbot, model, 0)
    assert model.index(0, SKU).data() == "A-1"
    qtmodeltester.check(model)


def test_end_on_a_short_append_only_list_reaches_the_true_last_row(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    seed_many(engine, 700)
    model = ProductTableModel(catalog, runner, page_size=100)  # 700 < 1,000: appended
    view = ListTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(600, 300)
    view.show()
    qtbot.waitExposed(view)
    model.reload()
    qtbot.waitUntil(lambda: model.count is not None and not model.is_loading)
    assert not model.is_sparse and model.rowCount() < 700
    view.setFocus()

    qtbot.keyClick(view, Qt.Key.Key_End)

    qtbot.waitUntil(lambda: view.currentIndex().row() == 699)
    assert model.index(699, SKU).data() == sku(700)
    assert not model.has_more
    assert [index.row() for index in view.selectionModel().selectedRows()] == [699]


def test_a_refresh_reads_again_only_the_blocks_shown_last(
    qtbot: QtBot, engine: Engine, catalog: ProductCatalogService, runner: TaskRunner
) -> None:
    seed_many(engine, PRODUCTS)
    recording = RecordingCatalog(catalog)
    model = sparse_model(qtbot, recording, runner)
    for row in range(0, PRODUCTS, 300):  # ten blocks, the last shown: 2,700
        wait_for_row(qtbot, model, row)
    wait_for_row(qtbot, model, 2_800)  # follows 2,700 by keyset
    reads_before = recording.calls["at"] + recording.calls["page"]

    with qtbot.waitSignal(model.refreshed):
        model.refresh()

    assert recording.calls["at"] + recording.calls["page"] - reads_before <= 5
    assert model.index(2_800, SKU).data() == sku(2_801)  # shown last: read again
    assert model.row_at(300) is None  # shown long ago: dropped, loads when shown
    wait_for_row(qtbot, model, 300)
    assert model.index(300, SKU).data() == sku(301)
