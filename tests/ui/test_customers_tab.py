"""The Customers tab over a real database: loading, search, filters, header sorting, live
refresh keeping the selection, Enter opening a customer, and the status line."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.customers import CustomerSort, ListCount
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.ui.customers_tab import (
    BALANCE,
    CODE,
    COMPANY,
    NAME,
    STATUS,
    CustomersTab,
)
from erpgo_desktop.ui.list_model import PagedTableModel
from erpgo_desktop.ui.list_tab import list_status
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.list_support import insert_customer, role_user

SALES = role_user("sales")


@pytest.fixture
def services(engine: Engine, runner: TaskRunner) -> Iterator[Services]:
    # Torn down before the engine: the runner's workers finish first.
    yield build_services(engine)
    assert runner.wait(10_000)


@pytest.fixture
def people(engine: Engine) -> dict[str, uuid.UUID]:
    return {
        "hopper": insert_customer(
            engine, "Grace", "Hopper", code="CUST-000003", company="US Navy", type="BUSINESS"
        ),
        "lovelace": insert_customer(engine, "Ada", "Lovelace", code="CUST-000001"),
        "turing": insert_customer(
            engine, "Alan", "Turing", code="CUST-000002", status="SUSPENDED", balance="42.50"
        ),
        "babbage": insert_customer(engine, "Charles", "Babbage", status="INACTIVE"),
    }


def settled(model: PagedTableModel) -> bool:
    return not model.is_loading and model.count is not None


def column(tab: CustomersTab, number: int) -> list[str]:
    return [tab.model.index(row, number).data() for row in range(tab.model.rowCount())]


def open_tab(
    qtbot: QtBot, services: Services, runner: TaskRunner, acting: CurrentUser = SALES, **kw: int
) -> CustomersTab:
    tab = CustomersTab(services, runner, acting, **kw)
    qtbot.addWidget(tab)
    tab.resize(1000, 500)
    tab.show()
    qtbot.waitExposed(tab)
    qtbot.waitUntil(lambda: settled(tab.model))
    return tab


def test_the_tab_lists_customers_by_name_and_passes_the_model_tester(
    qtbot: QtBot,
    services: Services,
    runner: TaskRunner,
    people: dict[str, uuid.UUID],
    qtmodeltester: ModelTester,
) -> None:
    tab = open_tab(qtbot, services, runner)

    assert column(tab, NAME) == [
        "Babbage, Charles",
        "Hopper, Grace",
        "Lovelace, Ada",
        "Turing, Alan",
    ]
    assert column(tab, CODE) == ["", "CUST-000003", "CUST-000001", "CUST-000002"]
    assert column(tab, COMPANY)[1] == "US Navy"
    assert column(tab, STATUS) == ["Inactive", "Active", "Active", "Suspended"]
    assert tab.model.index(3, BALANCE).data() == "42.50"
    assert tab.model.headerData(BALANCE, Qt.Orientation.Horizontal) == "Balance"
    assert tab.status_text() == "4 customers"
    assert tab.table.horizontalHeader().sortIndicatorSection() == NAME
    assert tab.new_button.isEnabled()
    qtmodeltester.check(tab.model)


def test_typing_a_search_lists_the_matches(
    qtbot: QtBot, services: Services, runner: TaskRunner, people: dict[str, uuid.UUID]
) -> None:
    tab = open_tab(qtbot, services, runner)
    tab.focus_search()
    assert QApplication.focusWidget() is tab.search

    with qtbot.waitSignal(tab.model.modelReset):
        qtbot.keyClicks(tab.search, "navy")  # one reload, after a short pause
    qtbot.waitUntil(lambda: settled(tab.model))
    assert column(tab, NAME) == ["Hopper, Grace"]
    assert tab.status_text() == "1 match"

    tab.search.clear()
    qtbot.keyClicks(tab.search, "nobody")
    tab.apply_search()  # Enter does this without waiting
    qtbot.waitUntil(lambda: settled(tab.model))
    assert tab.model.rowCount() == 0
    assert tab.status_text() == "No customers match “nobody”"

    qtbot.keyClick(tab.search, Qt.Key.Key_Escape)  # clears the search
    qtbot.waitUntil(lambda: settled(tab.model) and tab.model.rowCount() == 4)
    qtbot.keyClick(tab.search, Qt.Key.Key_Down)  # into the results
    assert QApplication.focusWidget() is tab.table
    assert tab.selected_id() == people["babbage"]


def test_status_and_type_filters(
    qtbot: QtBot, services: Services, runner: TaskRunner, people: dict[str, uuid.UUID]
) -> None:
    tab = open_tab(qtbot, services, runner)

    tab.status_filter.setCurrentIndex(tab.status_filter.findData("ACTIVE"))
    qtbot.waitUntil(lambda: tab.query.status == "ACTIVE" and settled(tab.model))
    assert column(tab, NAME) == ["Hopper, Grace", "Lovelace, Ada"]
    assert tab.status_text() == "2 customers"

    tab.type_filter.setCurrentIndex(tab.type_filter.findData("BUSINESS"))
    qtbot.waitUntil(lambda: tab.query.type == "BUSINESS" and settled(tab.model))
    assert column(tab, NAME) == ["Hopper, Grace"]

    tab.status_filter.setCurrentIndex(tab.status_filter.findData("SUSPENDED"))
    qtbot.waitUntil(lambda: tab.query.status == "SUSPENDED" and settled(tab.model))
    assert tab.model.rowCount() == 0
    assert tab.status_text() == "No customers match the filters"


def click_header(qtbot: QtBot, tab: CustomersTab, section: int) -> None:
    header = tab.table.horizontalHeader()
    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))


def test_header_clicks_sort_by_code_and_name_only(
    qtbot: QtBot, services: Services, runner: TaskRunner, people: dict[str, uuid.UUID]
) -> None:
    tab = open_tab(qtbot, services, runner)
    header = tab.table.horizontalHeader()

    click_header(qtbot, tab, CODE)
    qtbot.waitUntil(lambda: tab.query.sort is CustomerSort.CODE and settled(tab.model))
    assert not tab.query.descending
    assert column(tab, CODE) == ["CUST-000001", "CUST-000002", "CUST-000003", ""]

    click_header(qtbot, tab, CODE)
    qtbot.waitUntil(lambda: tab.query.descending and settled(tab.model))
    assert column(tab, CODE) == ["", "CUST-000003", "CUST-000002", "CUST-000001"]

    click_header(qtbot, tab, COMPANY)  # no index to page by: nothing changes
    assert header.sortIndicatorSection() == CODE
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert tab.query.sort is CustomerSort.CODE


def test_a_change_elsewhere_refreshes_and_keeps_the_selected_customer(
    qtbot: QtBot,
    engine: Engine,
    services: Services,
    runner: TaskRunner,
    people: dict[str, uuid.UUID],
) -> None:
    tab = open_tab(qtbot, services, runner)
    tab.table.selectRow(2)  # Lovelace
    assert tab.selected_id() == people["lovelace"]

    with engine.begin() as conn:  # another workstation
        conn.execute(
            text(
                "INSERT INTO customers (first_name, last_name, email) "
                "VALUES ('Aaron', 'Aardvark', 'aaron@example.com')"
            )
        )
        conn.execute(
            text("UPDATE customers SET balance = 99.00 WHERE id = :id"),
            {"id": people["lovelace"]},
        )
    with qtbot.assertNotEmitted(tab.model.refreshed, wait=100):
        tab.apply_change(Change("products", "UPDATE", None))  # not this tab's table
    with qtbot.waitSignal(tab.model.refreshed):
        tab.apply_change(Change("customers", "INSERT", None))

    assert column(tab, NAME)[0] == "Aardvark, Aaron"
    assert tab.selected_id() == people["lovelace"]
    assert [index.row() for index in tab.table.selectionModel().selectedRows()] == [3]
    assert tab.model.index(3, BALANCE).data() == "99.00"
    qtbot.waitUntil(lambda: tab.status_text() == "5 customers")  # the count comes on its own


def test_enter_and_double_click_open_the_customer_and_new_asks_for_one(
    qtbot: QtBot, services: Services, runner: TaskRunner, people: dict[str, uuid.UUID]
) -> None:
    tab = open_tab(qtbot, services, runner)
    tab.table.setFocus()
    tab.table.selectRow(1)

    with qtbot.waitSignal(tab.open_requested) as opened:
        qtbot.keyClick(tab.table, Qt.Key.Key_Return)
    assert opened.args == [people["hopper"]]

    with qtbot.waitSignal(tab.new_requested):
        qtbot.keyClick(tab, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)


def test_counts_over_the_cap_read_as_more(
    qtbot: QtBot, services: Services, runner: TaskRunner, people: dict[str, uuid.UUID]
) -> None:
    tab = open_tab(qtbot, services, runner, count_cap=3, page_size=2)

    assert tab.model.count == ListCount(3, exact=False)
    assert tab.status_text() == "3+ customers"


def test_without_customers_read_the_tab_says_why_it_is_empty(
    qtbot: QtBot, services: Services, runner: TaskRunner
) -> None:
    clerk = role_user("warehouse_clerk")
    tab = CustomersTab(services, runner, clerk)
    qtbot.addWidget(tab)
    tab.reload()

    qtbot.waitUntil(lambda: tab.status_text().startswith("Customers could not be loaded"))
    assert "customers.read" in tab.status_text()
    assert not tab.new_button.isEnabled()


@pytest.mark.parametrize(
    ("loading", "count", "search", "filtered", "loaded", "expected"),
    [
        (True, None, "", False, 0, "Loading…"),
        (False, ListCount(0, exact=True), "", False, 0, "No customers yet"),
        (False, ListCount(0, exact=True), "", True, 0, "No customers match the filters"),
        (False, ListCount(1, exact=True), "", False, 1, "1 customer"),
        (False, ListCount(1_234, exact=True), "", True, 200, "1,234 customers"),
        (True, ListCount(10_000, exact=False), "", False, 200, "10,000+ customers — loading…"),
        (True, ListCount(10_000, exact=False), "", False, 0, "Loading…"),
        (False, ListCount(10_000, exact=False), "ada", False, 200, "10,000+ matches"),
        (False, ListCount(0, exact=True), "ada", True, 0, "No customers match “ada”"),
    ],
)
def test_status_wording(
    loading: bool,
    count: ListCount | None,
    search: str,
    filtered: bool,
    loaded: int,
    expected: str,
) -> None:
    text_ = list_status(
        loading,
        count,
        singular="customer",
        plural="customers",
        search=search,
        filtered=filtered,
        loaded=loaded,
    )
    assert text_ == expected
