"""Nothing heavy before it is asked for: at sign-in only the first screen reads anything;
each other tab reads its data when first shown (ui/first_show.py), and a report reads its
totals once, apart from its pages.

What reaches the database is recorded from the engine itself (SQLAlchemy's
`before_cursor_execute`), so a tab that reads early in any way is seen.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from sqlalchemy import event
from sqlalchemy.engine import Engine

from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.reports import Report
from erpgo_desktop.ui.main_window import MainWindow
from erpgo_desktop.ui.reports_tab import ReportsTab
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.test_orders_support import World, make_world
from tests.services.test_reports import seed_sales
from tests.ui.seed import seed_many

USER = CurrentUser(
    id=uuid.uuid4(),
    username="boss",
    full_name="Ada Boss",
    roles=("admin",),
    permissions=frozenset({"*"}),
)
_TABLE = re.compile(r"\b(?:FROM|JOIN)\s+([a-z_]+)", re.IGNORECASE)


class Statements(list[str]):
    """Every statement sent through the engine, in order."""

    def tables(self) -> set[str]:
        return {table.lower() for sql in self for table in _TABLE.findall(sql)}


@pytest.fixture
def statements(engine: Engine) -> Iterator[Statements]:
    sent = Statements()

    def record(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        sent.append(sql)

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def settle(qtbot: QtBot, runner: TaskRunner) -> None:
    """Every task started so far has run and been delivered."""
    assert runner.wait(20_000)
    qtbot.wait(0)  # a zero-length turn of the event loop: the results' signals
    assert runner.wait(20_000)


def test_sign_in_reads_only_the_first_screen_and_each_tab_reads_when_opened(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, statements: Statements, tmp_path: Path
) -> None:
    seed_many(engine, 30)
    services = build_services(engine)
    statements.clear()
    window = MainWindow(
        services=services,
        runner=runner,
        user=USER,
        location_description="test database",
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    assert statements == []  # building the window reads nothing
    window.show()
    qtbot.waitExposed(window)
    assert window.products is not None and window.reports is not None
    qtbot.waitUntil(lambda: window.products.model.rowCount() == 30)
    settle(qtbot, runner)
    # Products and its category filter; no report, dashboard, order, customer or stock.
    # (the categories name who changed them last: users)
    first_screen = {"products", "product_categories", "users"}
    assert statements.tables() <= first_screen, statements.tables()
    for sql in statements:
        assert "dashboard_" not in sql and "product_inventory" not in sql

    before_reports = len(statements)
    window.tabs.setCurrentWidget(window.reports)
    qtbot.waitUntil(lambda: window.reports.model.count is not None)
    settle(qtbot, runner)
    opened = statements[before_reports:]
    assert any("product_inventory" in sql for sql in opened)
    assert not any("dashboard_" in sql for sql in statements)

    assert window.dashboard is not None
    before_dashboard = len(statements)
    window.tabs.setCurrentWidget(window.dashboard)
    qtbot.waitUntil(lambda: not window.dashboard.is_loading())
    settle(qtbot, runner)
    assert len(statements) > before_dashboard

    # Shown again: nothing is read a second time.
    window.tabs.setCurrentWidget(window.products)
    settle(qtbot, runner)
    after = len(statements)
    window.tabs.setCurrentWidget(window.reports)
    settle(qtbot, runner)
    assert len(statements) == after


@pytest.fixture
def world(engine: Engine) -> World:
    world = make_world(engine)
    seed_sales(world)
    return world


def _totals_statements(statements: Statements) -> list[str]:
    return [sql for sql in statements if sql.lstrip().upper().startswith("SELECT COUNT(*)")]


def test_a_report_reads_its_totals_once_and_its_pages_by_keyset(
    qtbot: QtBot, engine: Engine, runner: TaskRunner, world: World, statements: Statements
) -> None:
    services: Services = build_services(engine)
    tab = ReportsTab(services, runner, world.manager, page_size=1)
    qtbot.addWidget(tab)
    settle(qtbot, runner)
    assert statements == []  # not shown: nothing read
    tab.select_report(Report.CUSTOMER_BALANCES)
    tab.search.setText("")
    settle(qtbot, runner)
    assert statements == []

    tab.show()
    qtbot.waitExposed(tab)
    qtbot.waitUntil(lambda: tab.model.count is not None and not tab.model.is_loading)
    expected = services.reports.customer_balances(world.manager).rows
    assert len(expected) >= 2
    statements.clear()
    while tab.model.canFetchMore(tab.model.index(-1, -1)):
        tab.model.fetchMore(tab.model.index(-1, -1))
        qtbot.waitUntil(lambda: not tab.model.is_loading)
    rows = [tab.model.row_at(row) for row in range(tab.model.rowCount())]
    assert rows == list(expected)  # every row once, in the report's order
    assert _totals_statements(statements) == []  # pages only: no total with them
    assert all("OFFSET" not in sql.upper() for sql in statements)
    assert tab.totals_label.isVisible()
    assert tab.model.count is not None and tab.model.count.count == len(expected)

    # Another filter: the totals once more, once.
    statements.clear()
    tab.search.setText(expected[0].customer_name)
    tab.apply_filters()
    qtbot.waitUntil(lambda: tab.model.count is not None and not tab.model.is_loading)
    settle(qtbot, runner)
    assert len(_totals_statements(statements)) == 1
