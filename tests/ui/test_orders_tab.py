"""The Orders tab over a real database: newest first, search, status/payment/date filters,
header sorting, live refresh keeping the selection, Enter opening an order."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, time

import pytest
from PySide6.QtCore import QDate, QPoint, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.listing import ListCount
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.services.order_list import OrderSort
from erpgo_desktop.ui.list_model import PagedTableModel
from erpgo_desktop.ui.orders_tab import (
    CUSTOMER,
    DATE,
    NUMBER,
    PAID,
    PAYMENT,
    STATUS,
    TOTAL,
    OrdersTab,
)
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.list_support import insert_customer, insert_order, role_user

SALES = role_user("sales")


def local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour)).astimezone()


@pytest.fixture
def services(engine: Engine, runner: TaskRunner) -> Iterator[Services]:
    # Torn down before the engine: the runner's workers finish first.
    yield build_services(engine)
    assert runner.wait(10_000)


@pytest.fixture
def orders(engine: Engine) -> dict[str, uuid.UUID]:
    ada = insert_customer(engine, "Ada", "Lovelace")
    navy = insert_customer(engine, "Grace", "Hopper", company="US Navy")
    return {
        "SO-1": insert_order(engine, ada, "SO-1", local(date(2024, 1, 10), 9), total="300.00"),
        "SO-2": insert_order(
            engine,
            navy,
            "SO-2",
            local(date(2024, 2, 5), 9),
            status="PARTIALLY_SHIPPED",
            payment_status="PAID",
            total="50.00",
            paid="50.00",
        ),
        "SO-3": insert_order(
            engine,
            ada,
            "SO-3",
            local(date(2024, 2, 20), 9),
            status="CONFIRMED",
            payment_status="PARTIALLY_PAID",
            total="120.00",
            paid="20.00",
        ),
        "SO-4": insert_order(engine, navy, "SO-4", local(date(2024, 3, 1), 9), total="75.00"),
    }


def settled(model: PagedTableModel) -> bool:
    return not model.is_loading and model.count is not None


def column(tab: OrdersTab, number: int) -> list[str]:
    return [tab.model.index(row, number).data() for row in range(tab.model.rowCount())]


def open_tab(qtbot: QtBot, services: Services, runner: TaskRunner) -> OrdersTab:
    tab = OrdersTab(services, runner, SALES)
    qtbot.addWidget(tab)
    tab.resize(1200, 500)
    tab.show()
    qtbot.waitExposed(tab)
    qtbot.waitUntil(lambda: settled(tab.model))
    return tab


def test_the_tab_lists_orders_newest_first_and_passes_the_model_tester(
    qtbot: QtBot,
    services: Services,
    runner: TaskRunner,
    orders: dict[str, uuid.UUID],
    qtmodeltester: ModelTester,
) -> None:
    tab = open_tab(qtbot, services, runner)

    assert column(tab, NUMBER) == ["SO-4", "SO-3", "SO-2", "SO-1"]
    assert column(tab, DATE)[0] == "2024-03-01 09:00"
    assert column(tab, CUSTOMER) == ["US Navy", "Ada Lovelace", "US Navy", "Ada Lovelace"]
    assert column(tab, STATUS)[2] == "Partially shipped"
    assert column(tab, PAYMENT)[1] == "Partially paid"
    assert (column(tab, TOTAL)[1], column(tab, PAID)[1]) == ("120.00", "20.00")
    assert tab.status_text() == "4 orders"
    header = tab.table.horizontalHeader()
    assert header.sortIndicatorSection() == DATE
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    qtmodeltester.check(tab.model)


def test_searching_by_customer_and_by_number(
    qtbot: QtBot, services: Services, runner: TaskRunner, orders: dict[str, uuid.UUID]
) -> None:
    tab = open_tab(qtbot, services, runner)

    with qtbot.waitSignal(tab.model.modelReset):
        qtbot.keyClicks(tab.search, "navy")
    qtbot.waitUntil(lambda: settled(tab.model))
    assert column(tab, NUMBER) == ["SO-4", "SO-2"]
    assert tab.status_text() == "2 matches"

    tab.search.clear()  # lists everything again at once
    qtbot.keyClicks(tab.search, "so-3")
    qtbot.keyClick(tab.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.query.search == "so-3" and settled(tab.model))
    assert column(tab, NUMBER) == ["SO-3"]


def test_status_and_payment_filters(
    qtbot: QtBot, services: Services, runner: TaskRunner, orders: dict[str, uuid.UUID]
) -> None:
    tab = open_tab(qtbot, services, runner)

    tab.status_filter.setCurrentIndex(tab.status_filter.findData("PENDING"))
    qtbot.waitUntil(lambda: tab.query.status == "PENDING" and settled(tab.model))
    assert column(tab, NUMBER) == ["SO-4", "SO-1"]

    tab.status_filter.setCurrentIndex(0)  # all statuses
    tab.payment_filter.setCurrentIndex(tab.payment_filter.findData("PAID"))
    qtbot.waitUntil(
        lambda: tab.query.status is None and tab.query.payment_status == "PAID"
        and settled(tab.model)
    )  # fmt: skip
    assert column(tab, NUMBER) == ["SO-2"]

    tab.payment_filter.setCurrentIndex(tab.payment_filter.findData("FAILED"))
    qtbot.waitUntil(lambda: tab.query.payment_status == "FAILED" and settled(tab.model))
    assert tab.status_text() == "No orders match the filters"


def test_a_date_range_from_the_check_boxes_and_date_fields(
    qtbot: QtBot, services: Services, runner: TaskRunner, orders: dict[str, uuid.UUID]
) -> None:
    tab = open_tab(qtbot, services, runner)
    assert not tab.date_from.isEnabled()

    tab.date_from.setDate(QDate(2024, 2, 1))  # not applied while switched off
    tab.from_enabled.setChecked(True)
    assert tab.date_from.isEnabled()
    qtbot.waitUntil(lambda: tab.query.date_from == date(2024, 2, 1) and settled(tab.model))
    assert column(tab, NUMBER) == ["SO-4", "SO-3", "SO-2"]

    tab.to_enabled.setChecked(True)
    tab.date_to.setDate(QDate(2024, 2, 20))  # the last day is included
    qtbot.waitUntil(lambda: tab.query.date_to == date(2024, 2, 20) and settled(tab.model))
    assert column(tab, NUMBER) == ["SO-3", "SO-2"]
    assert tab.status_text() == "2 orders"

    tab.date_to.setDate(QDate(2024, 1, 31))  # before the first day: said, not listed
    tab.apply_filters()
    assert tab.date_error.isVisibleTo(tab)
    assert tab.query.date_to == date(2024, 2, 20)

    tab.set_date_range(None, date(2024, 1, 31))
    qtbot.waitUntil(lambda: tab.query.date_from is None and settled(tab.model))
    assert not tab.date_error.isVisibleTo(tab)
    assert not tab.from_enabled.isChecked()
    assert column(tab, NUMBER) == ["SO-1"]


def click_header(qtbot: QtBot, tab: OrdersTab, section: int) -> None:
    header = tab.table.horizontalHeader()
    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))


def test_header_clicks_sort_by_total_number_and_date_only(
    qtbot: QtBot, services: Services, runner: TaskRunner, orders: dict[str, uuid.UUID]
) -> None:
    tab = open_tab(qtbot, services, runner)
    header = tab.table.horizontalHeader()

    click_header(qtbot, tab, TOTAL)
    qtbot.waitUntil(lambda: tab.query.sort is OrderSort.TOTAL and settled(tab.model))
    assert column(tab, TOTAL) == ["50.00", "75.00", "120.00", "300.00"]

    click_header(qtbot, tab, TOTAL)
    qtbot.waitUntil(lambda: tab.query.descending and settled(tab.model))
    assert column(tab, TOTAL) == ["300.00", "120.00", "75.00", "50.00"]

    click_header(qtbot, tab, NUMBER)
    qtbot.waitUntil(lambda: tab.query.sort is OrderSort.NUMBER and settled(tab.model))
    assert column(tab, NUMBER) == ["SO-1", "SO-2", "SO-3", "SO-4"]

    click_header(qtbot, tab, CUSTOMER)  # no index to page by: nothing changes
    assert header.sortIndicatorSection() == NUMBER
    assert tab.query.sort is OrderSort.NUMBER


def test_a_change_elsewhere_refreshes_and_keeps_the_selected_order(
    qtbot: QtBot,
    engine: Engine,
    services: Services,
    runner: TaskRunner,
    orders: dict[str, uuid.UUID],
) -> None:
    tab = open_tab(qtbot, services, runner)
    tab.table.selectRow(1)  # SO-3
    assert tab.selected_id() == orders["SO-3"]

    with engine.connect() as conn:
        customer = conn.scalar(text("SELECT id FROM customers WHERE last_name = 'Lovelace'"))
    insert_order(engine, customer, "SO-5", local(date(2024, 4, 1), 9))  # another workstation
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE orders SET paid_amount = 120.00 WHERE id = :id"), {"id": orders["SO-3"]}
        )
    with qtbot.assertNotEmitted(tab.model.refreshed, wait=100):
        tab.apply_change(Change("customers", "UPDATE", None))  # not this tab's table
    with qtbot.waitSignal(tab.model.refreshed):
        tab.apply_change(Change("order_items", "UPDATE", (orders["SO-3"],)))

    assert column(tab, NUMBER) == ["SO-5", "SO-4", "SO-3", "SO-2", "SO-1"]
    assert tab.selected_id() == orders["SO-3"]
    assert [index.row() for index in tab.table.selectionModel().selectedRows()] == [2]
    assert tab.model.index(2, PAID).data() == "120.00"
    qtbot.waitUntil(lambda: tab.status_text() == "5 orders")  # the count comes on its own


def test_enter_opens_the_order_and_new_asks_for_one(
    qtbot: QtBot, services: Services, runner: TaskRunner, orders: dict[str, uuid.UUID]
) -> None:
    tab = open_tab(qtbot, services, runner)
    tab.table.setFocus()
    tab.table.selectRow(3)

    with qtbot.waitSignal(tab.open_requested) as opened:
        qtbot.keyClick(tab.table, Qt.Key.Key_Enter)
    assert opened.args == [orders["SO-1"]]
    assert tab.new_button.isEnabled()
    with qtbot.waitSignal(tab.new_requested):
        tab.new_button.click()


def test_counts_over_the_cap_read_as_more(
    qtbot: QtBot, services: Services, runner: TaskRunner, orders: dict[str, uuid.UUID]
) -> None:
    tab = OrdersTab(services, runner, SALES, count_cap=2, page_size=1)
    qtbot.addWidget(tab)
    tab.show()  # a tab reads its rows when first shown
    qtbot.waitUntil(lambda: settled(tab.model))

    assert tab.model.count == ListCount(2, exact=False)
    assert tab.status_text() == "2+ orders"
