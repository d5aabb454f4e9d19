"""Exporting a list as the user sees it: the Orders tab filtered by status and sorted by
total, a column moved and one hidden, written to CSV and XLSX through several pages and
read back equal to the view, row for row; cancelling leaves no file."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.listing import ListCount
from erpgo_desktop.ui.exporting import ExportJob, TypedColumn, start_export, visible_columns
from erpgo_desktop.ui.list_model import Column, PagedTableModel
from erpgo_desktop.ui.list_view import ListTableView
from erpgo_desktop.ui.orders_tab import CUSTOMER, PAID, PAYMENT, STATUS, TOTAL, OrdersTab
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.list_support import insert_customer, insert_order, role_user


@pytest.fixture
def services(engine: Engine, runner: TaskRunner) -> Iterator[Services]:
    yield build_services(engine)
    assert runner.wait(10_000)


@pytest.fixture
def orders(engine: Engine) -> None:
    ada = insert_customer(engine, "Ada", "Lovelace")
    navy = insert_customer(engine, "Grace", "Hopper", company="US Navy, Inc.")
    start = datetime.combine(date(2024, 1, 1), time(9)).astimezone()
    for number in range(1, 15):
        insert_order(
            engine,
            navy if number % 2 else ada,
            f"SO-{number:03d}",
            start + timedelta(days=number),
            status="CONFIRMED" if number % 3 else "PENDING",
            payment_status="PARTIALLY_PAID" if number % 4 == 0 else "PENDING",
            total=f"{(number * 37) % 11 * 1000 + number}.50",  # thousands separators, ties
            paid="1.00" if number % 4 == 0 else "0.00",
        )


def view_texts(tab: OrdersTab) -> list[list[str]]:
    columns = visible_columns(tab.table)
    return [
        [tab.model.index(row, column).data() for column in columns]
        for row in range(tab.model.rowCount())
    ]


def finish(qtbot: QtBot, job: ExportJob) -> int:
    with qtbot.waitSignal(job.finished, timeout=20_000) as finished:
        pass
    written: int = finished.args[1]
    return written


def test_an_export_reads_back_equal_to_the_view(
    qtbot: QtBot, services: Services, runner: TaskRunner, orders: None, tmp_path: Path
) -> None:
    tab = OrdersTab(services, runner, role_user("sales"))
    qtbot.addWidget(tab)
    tab.resize(1200, 500)
    tab.show()
    qtbot.waitUntil(lambda: not tab.model.is_loading and tab.model.count is not None)
    tab.status_filter.setCurrentIndex(tab.status_filter.findData("CONFIRMED"))
    tab.table.sortByColumn(TOTAL, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(
        lambda: (
            tab.query.status == "CONFIRMED"
            and tab.query.sort.value == "total_amount"
            and not tab.model.is_loading
            and tab.model.count is not None
        )
    )
    header = tab.table.horizontalHeader()
    header.moveSection(header.visualIndex(TOTAL), 0)  # the total first
    header.setSectionHidden(PAYMENT, True)
    shown = view_texts(tab)
    assert len(shown) == 10  # the confirmed ones, all loaded
    headers = [
        tab.model.headerData(c, Qt.Orientation.Horizontal) for c in visible_columns(tab.table)
    ]
    assert headers[0] == "Total" and "Payment" not in headers
    totals = [row[0] for row in shown]
    assert totals == sorted(totals, key=lambda t: Decimal(t.replace(",", "")))
    assert any("," in total for total in totals)

    # Three rows a page: the export reads the source again, page after page.
    csv_job = start_export(tab, runner, tab.model, tab.table, tmp_path / "orders.csv", page_size=3)
    assert finish(qtbot, csv_job) == 10
    with (tmp_path / "orders.csv").open(encoding="utf-8-sig", newline="") as stream:
        assert list(csv.reader(stream)) == [headers, *shown]

    xlsx_job = start_export(
        tab, runner, tab.model, tab.table, tmp_path / "orders.xlsx", page_size=4,
        sheet_title="Orders",
    )  # fmt: skip
    assert finish(qtbot, xlsx_job) == 10
    sheet = load_workbook(tmp_path / "orders.xlsx").active
    assert sheet is not None and sheet.title == "Orders"
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == headers
    money_columns = {headers.index("Total"), headers.index("Paid")}
    for read, texts in zip(values[1:], shown, strict=True):
        for number, (value, text) in enumerate(zip(read, texts, strict=True)):
            if number in money_columns:  # numbers in the workbook
                assert isinstance(value, int | float)
                assert Decimal(str(value)).quantize(Decimal("0.01")) == Decimal(
                    text.replace(",", "")
                )
            else:
                assert value == text
    assert len(values) == 11
    assert not csv_job.dialog.isVisible() and not xlsx_job.dialog.isVisible()
    for column in (CUSTOMER, STATUS, PAID):
        assert not header.isSectionHidden(column)


@dataclass(frozen=True)
class Item:
    id: int
    name: str
    price: Decimal


@dataclass(frozen=True)
class Page:
    rows: tuple[Item, ...]
    next_cursor: int | None
    has_more: bool


class ManyItems:
    """An in-memory source of many rows, for the cancel test."""

    def __init__(self, count: int) -> None:
        self.total = count

    def fetch_page(self, query: Any, after: int | None, limit: int) -> Page:
        first = after or 0
        last = min(first + limit, self.total)
        rows = tuple(Item(i, f"Item {i}", Decimal(i) / 4) for i in range(first, last))
        return Page(rows, last, last < self.total)

    def count(self, query: Any) -> ListCount:
        return ListCount(self.total, True)


@dataclass(frozen=True)
class NoQuery:
    search: str = ""


COLUMNS: Sequence[Column[Item]] = (
    Column("Name", lambda i: i.name),
    TypedColumn("Price", lambda i: f"{i.price:,.2f}", align_right=True, value=lambda i: i.price),
)


def test_cancelling_leaves_no_file(qtbot: QtBot, runner: TaskRunner, tmp_path: Path) -> None:
    model = PagedTableModel(ManyItems(2_000_000), runner, COLUMNS, NoQuery())
    view = ListTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    model.reload()
    qtbot.waitUntil(lambda: model.count is not None and not model.is_loading)
    job = start_export(view, runner, model, view, tmp_path / "items.xlsx")
    assert job.dialog.isVisible() and job.dialog.maximum() == 2_000_000
    with qtbot.waitSignal(job.cancelled, timeout=20_000):
        cancel = job.dialog.findChild(QPushButton)
        assert cancel is not None and cancel.text() == "&Cancel"
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert list(tmp_path.iterdir()) == []
    assert not job.dialog.isVisible()


def test_typed_columns_go_to_xlsx_as_numbers(
    qtbot: QtBot, runner: TaskRunner, tmp_path: Path
) -> None:
    model = PagedTableModel(ManyItems(5), runner, COLUMNS, NoQuery())
    view = ListTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    model.reload()
    qtbot.waitUntil(lambda: model.count is not None and not model.is_loading)
    job = start_export(view, runner, model, view, tmp_path / "items.xlsx")
    assert finish(qtbot, job) == 5
    sheet = load_workbook(tmp_path / "items.xlsx").active
    assert sheet is not None
    assert [row for row in sheet.iter_rows(values_only=True)][1:3] == [
        ("Item 0", 0),
        ("Item 1", 0.25),
    ]
