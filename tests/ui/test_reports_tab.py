"""The Reports tab over a real database: each report's rows as the service gives them,
sorting by a header click, the period's check at the dates, the model tester, and an
export of the shown report read back equal."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.reports import Report
from erpgo_desktop.ui.exporting import start_export, visible_columns
from erpgo_desktop.ui.reports_tab import ReportsTab
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.test_orders_support import World, make_world
from tests.services.test_reports import LAST_DAY, WEEK_AGO, seed_sales


@pytest.fixture
def services(engine: Engine, runner: TaskRunner) -> Iterator[Services]:
    yield build_services(engine)
    assert runner.wait(10_000)


@pytest.fixture
def world(engine: Engine) -> World:
    world = make_world(engine)
    seed_sales(world)
    return world


def settled(tab: ReportsTab) -> bool:
    return not tab.model.is_loading and tab.model.count is not None


def texts(tab: ReportsTab) -> list[list[str]]:
    columns = visible_columns(tab.table)
    return [
        [tab.model.index(row, column).data() for column in columns]
        for row in range(tab.model.rowCount())
    ]


def open_tab(qtbot: QtBot, services: Services, runner: TaskRunner, world: World) -> ReportsTab:
    tab = ReportsTab(services, runner, world.manager)
    qtbot.addWidget(tab)
    tab.resize(1300, 500)
    tab.show()
    qtbot.waitExposed(tab)
    qtbot.waitUntil(lambda: settled(tab) and tab.warehouse_combo.count() == 3)
    return tab


def test_valuation_first_then_sales_by_region_sorted_by_a_header_click(
    qtbot: QtBot,
    services: Services,
    runner: TaskRunner,
    world: World,
    qtmodeltester: ModelTester,
) -> None:
    tab = open_tab(qtbot, services, runner, world)
    assert tab.spec.report is Report.INVENTORY_VALUATION
    expected = services.reports.inventory_valuation(world.manager).rows
    assert [tab.model.row_at(row) for row in range(tab.model.rowCount())] == list(expected)
    assert tab.status_text() == f"{len(expected)} rows"
    assert not tab.start_edit.isEnabled() and tab.warehouse_combo.isEnabled()
    qtmodeltester.check(tab.model)
    # The totals of every row, under the table.
    value = sum(row.value_at_cost for row in expected)
    qtbot.waitUntil(tab.totals_label.isVisible)
    assert f"Value at cost <b>{value:,.2f}</b>" in tab.totals_label.text()

    combo = tab.warehouse_combo
    combo.setCurrentIndex(next(i for i in range(combo.count()) if combo.itemData(i) == world.east))
    qtbot.waitUntil(lambda: tab.model.query.warehouse_id == world.east and settled(tab))
    assert tab.model.rowCount() == 0  # nothing was received in EAST

    tab.select_report(Report.SALES_BY_REGION)
    tab.set_period(WEEK_AGO, LAST_DAY)
    qtbot.waitUntil(lambda: settled(tab) and tab.model.rowCount() == 3)
    assert tab.start_edit.isEnabled() and not tab.warehouse_combo.isEnabled()
    by_total = [row[4] for row in texts(tab)]  # net sales, largest first
    assert by_total == ["100.00", "55.00", "20.00"]

    header = tab.table.horizontalHeader()
    tab.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # as a click on "Country"
    qtbot.waitUntil(lambda: tab.model.query.sort == "country" and settled(tab))
    countries = [(row[0], row[1]) for row in texts(tab)]
    assert countries == [("Netherlands", ""), ("USA", "CA"), ("USA", "VA")]
    assert header.sortIndicatorSection() == 0
    qtmodeltester.check(tab.model)


def test_a_backwards_period_is_said_at_the_dates(
    qtbot: QtBot, services: Services, runner: TaskRunner, world: World
) -> None:
    tab = open_tab(qtbot, services, runner, world)
    tab.select_report(Report.SALES_BY_PRODUCT)
    tab.set_period(WEEK_AGO, LAST_DAY)
    qtbot.waitUntil(lambda: settled(tab) and tab.model.rowCount() == 2)
    before = tab.model.query
    tab.set_period(LAST_DAY, LAST_DAY - timedelta(days=3))
    assert tab.date_error.isVisible() and "ends before" in tab.date_error.text()
    assert tab.model.query == before and tab.model.rowCount() == 2
    tab.set_period(WEEK_AGO, LAST_DAY)
    assert not tab.date_error.isVisible()


def test_the_shown_report_exports_equal_to_the_view(
    qtbot: QtBot, services: Services, runner: TaskRunner, world: World, tmp_path: Path
) -> None:
    tab = open_tab(qtbot, services, runner, world)
    tab.select_report(Report.CUSTOMER_BALANCES)
    qtbot.waitUntil(lambda: settled(tab) and tab.model.rowCount() > 0)
    shown = texts(tab)
    job = start_export(tab, runner, tab.model, tab.table, tmp_path / "balances.csv")
    with qtbot.waitSignal(job.finished, timeout=20_000):
        pass
    with (tmp_path / "balances.csv").open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0][:2] == ["Customer", "Code"]
    assert rows[1:] == shown
