"""The Database health window: it reads the report off the GUI thread, shows the app's
tables and indexes sorted by size (numbers as numbers), highlights and filters unused
indexes, says why there are no statements, refreshes with F5, and exports a table."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QFileDialog
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool

from erpgo_desktop.db.engine import make_engine, make_session_factory
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.health import HealthReport, HealthService, human_size
from erpgo_desktop.ui import exporting
from erpgo_desktop.ui.health_panel import (
    CONSTRAINT_NOTE,
    INDEX_NOTE,
    SORT_ROLE,
    TABLE_TOTAL,
    UNUSED_NOTE,
    HealthDialog,
)
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.health_support import statements_recording_server

ADMIN = CurrentUser(uuid.uuid4(), "root", "Root", ("admin",), frozenset({"users.admin"}))
CLERK = CurrentUser(uuid.uuid4(), "carl", "Carl", ("warehouse_clerk",), frozenset())


@pytest.fixture
def health(engine: Engine, runner: TaskRunner) -> Iterator[HealthService]:
    yield HealthService(make_session_factory(engine))
    assert runner.wait(10_000)


@pytest.fixture(scope="module")
def statements_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    with statements_recording_server(tmp_path_factory.mktemp("statements") / "pgdata") as url:
        yield url


def open_dialog(
    qtbot: QtBot, health: HealthService, runner: TaskRunner, user: CurrentUser = ADMIN
) -> HealthDialog:
    dialog = HealthDialog(health, runner, user)
    qtbot.addWidget(dialog)
    return dialog


def shown(qtbot: QtBot, dialog: HealthDialog) -> HealthReport:
    # Active, not just shown: mnemonics and F5 work only in the active window.
    with qtbot.waitSignal(dialog.report_loaded, timeout=20_000) as loaded, qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    report: HealthReport = loaded.args[0]
    return report


def column_texts(proxy: QSortFilterProxyModel, column: int) -> list[str]:
    return [proxy.index(row, column).data() for row in range(proxy.rowCount())]


def test_it_loads_and_shows_the_app_s_tables_and_indexes(
    qtbot: QtBot, health: HealthService, runner: TaskRunner, qtmodeltester: ModelTester
) -> None:
    dialog = open_dialog(qtbot, health, runner)
    assert dialog.report is None
    report = shown(qtbot, dialog)
    assert not dialog.is_loading and not dialog.busy.isVisible()

    assert dialog.overview["server"].text() == f"PostgreSQL {report.server_version}"
    assert human_size(report.database_bytes) in dialog.overview["database"].text()
    assert " to this database (" in dialog.overview["connections"].text()
    assert "max_connections: " in dialog.overview["settings"].text()

    names = column_texts(dialog.tables_proxy, 0)
    assert {"products", "orders", "customers", "order_items"} <= set(names)
    # Largest first, by bytes: "8.0 kB" must not sort above "16 kB" as text would.
    totals = [dialog.tables_proxy.index(row, TABLE_TOTAL).data(SORT_ROLE)
              for row in range(dialog.tables_proxy.rowCount())]  # fmt: skip
    assert totals == sorted(totals, reverse=True)
    dialog.tables_view.sortByColumn(TABLE_TOTAL, Qt.SortOrder.AscendingOrder)
    assert column_texts(dialog.tables_proxy, 0)[-1] == report.tables[0].name

    indexes = column_texts(dialog.indexes_proxy, 0)
    assert "idx_products_sku" in indexes
    for model in (dialog.tables_model, dialog.indexes_model, dialog.statements_model):
        qtmodeltester.check(model)
    for proxy in (dialog.tables_proxy, dialog.indexes_proxy):
        qtmodeltester.check(proxy)


def test_unused_indexes_are_highlighted_and_can_be_shown_alone(
    qtbot: QtBot, health: HealthService, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, health, runner)
    report = shown(qtbot, dialog)
    proxy = dialog.indexes_proxy
    notes = dict(zip(column_texts(proxy, 0), column_texts(proxy, INDEX_NOTE), strict=True))
    assert notes["idx_products_sku"] == UNUSED_NOTE  # a fresh database: never scanned
    assert notes["products_pkey"] == CONSTRAINT_NOTE  # never scanned, but needed
    sku_row = column_texts(proxy, 0).index("idx_products_sku")
    pkey_row = column_texts(proxy, 0).index("products_pkey")
    background = Qt.ItemDataRole.BackgroundRole
    assert isinstance(proxy.index(sku_row, 0).data(background), QBrush)
    assert proxy.index(pkey_row, 0).data(background) is None
    assert f"{len(report.unused_indexes)} unused" in dialog.unused_summary.text()

    dialog.tabs.setCurrentIndex(2)
    # The mnemonic clicks the box a moment later (animateClick): wait on its effect.
    qtbot.keyClick(dialog, Qt.Key.Key_U, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(dialog.unused_only.isChecked)
    assert sorted(column_texts(proxy, 0)) == sorted(i.name for i in report.unused_indexes)
    dialog.unused_only.setChecked(False)
    assert proxy.rowCount() == len(report.indexes)


def test_without_pg_stat_statements_the_tab_says_why(
    qtbot: QtBot, health: HealthService, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, health, runner)
    shown(qtbot, dialog)
    dialog.tabs.setCurrentWidget(dialog.statements_stack)
    assert dialog.statements_stack.currentWidget() is dialog.statements_reason
    assert dialog.statements_reason.text().startswith("Not available: the pg_stat_statements")
    assert not dialog.export_button.isEnabled()  # nothing to export there
    dialog.tabs.setCurrentWidget(dialog.tables_view)
    assert dialog.export_button.isEnabled()


def test_f5_reads_the_report_again(qtbot: QtBot, health: HealthService, runner: TaskRunner) -> None:
    dialog = open_dialog(qtbot, health, runner)
    first = shown(qtbot, dialog)
    with qtbot.waitSignal(dialog.report_loaded, timeout=20_000) as loaded:
        qtbot.keyClick(dialog.tables_view, Qt.Key.Key_F5)
        assert dialog.is_loading and not dialog.refresh_button.isEnabled()
        dialog.refresh()  # a second refresh meanwhile is not doubled
        assert runner.pending_count == 1
    second: HealthReport = loaded.args[0]
    assert second.taken_at > first.taken_at
    assert dialog.report is second
    assert dialog.refresh_button.isEnabled()
    assert "Read at " in dialog.status.text()


def test_a_user_without_users_admin_is_told(
    qtbot: QtBot, health: HealthService, runner: TaskRunner
) -> None:
    dialog = open_dialog(qtbot, health, runner, CLERK)
    with qtbot.waitSignal(dialog.load_failed, timeout=20_000) as failed:
        dialog.show()
    assert "users.admin" in failed.args[0]
    assert dialog.error.isVisible() and "users.admin" in dialog.error.text()
    assert dialog.report is None and not dialog.export_button.isEnabled()
    assert dialog.refresh_button.isEnabled()  # may try again


def test_export_writes_the_table_as_shown(
    qtbot: QtBot,
    health: HealthService,
    runner: TaskRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dialog = open_dialog(qtbot, health, runner)
    shown(qtbot, dialog)
    dialog.tabs.setCurrentWidget(dialog.tables_view)
    target = tmp_path / "sizes.csv"
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        lambda *_args: (str(target), exporting.CSV_FILTER),
    )
    dialog.export_button.click()
    job = dialog.export_job
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=20_000):
        pass
    with target.open(newline="", encoding="utf-8-sig") as file:
        rows = list(csv.reader(file))
    assert rows[0][:3] == ["Table", "Total", "Table data"]
    assert [row[0] for row in rows[1:]] == column_texts(dialog.tables_proxy, 0)
    # Every export ends with the file saved message (ui/files.py).
    message = job.saved_message
    assert message is not None and message.isVisible()
    assert message.text() == f"Exported {len(rows) - 1:,} rows to sizes.csv."


def test_the_slowest_statements_are_listed_when_the_server_records_them(
    qtbot: QtBot, runner: TaskRunner, statements_server: URL, qtmodeltester: ModelTester
) -> None:
    engine = make_engine(statements_server, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT count(*) FROM probe WHERE id = 42"))  # recorded
        dialog = open_dialog(qtbot, HealthService(make_session_factory(engine)), runner)
        report = shown(qtbot, dialog)
        assert runner.wait(10_000)
    finally:
        engine.dispose()
    statements = report.slowest_statements
    assert isinstance(statements, tuple) and statements
    dialog.tabs.setCurrentWidget(dialog.statements_stack)
    assert dialog.statements_stack.currentWidget() is dialog.statements_view
    texts = column_texts(dialog.statements_proxy, 4)
    # On one line each, whitespace folded: the report's own texts span several.
    assert texts == [" ".join((s.query or "").split()) for s in statements]
    means = [dialog.statements_proxy.index(row, 0).data(SORT_ROLE) for row in range(len(texts))]
    assert means == sorted(means, reverse=True)
    assert dialog.export_button.isEnabled()
    qtmodeltester.check(dialog.statements_model)
