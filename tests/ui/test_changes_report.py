"""The Reports tab's Changes report over a real database: people signed in as themselves
change a price, an order line and the stock; a manager reads who changed what, from what
to what, narrows it by person and by kind of record, and exports it."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.domain.orders import Address, OrderHeader
from erpgo_desktop.services import Services, build_services
from erpgo_desktop.services.auth import AuthService, CurrentUser, NewUser, SignedIn
from erpgo_desktop.services.reports import Report
from erpgo_desktop.services.stock import StockKey
from erpgo_desktop.ui.exporting import start_export, visible_columns
from erpgo_desktop.ui.reports_tab import ReportsTab
from erpgo_desktop.ui.tasks import TaskRunner
from tests.services.history_support import seed_shop

PASSWORD = "a long password"
ADDRESS = Address("Ann", "Buyer", "1 Main St", "Springfield", "12345", "US")
HEADERS = ["When", "Person", "Kind", "Record", "Action", "Changes"]
WHEN, PERSON, KIND, RECORD, ACTION, CHANGES = range(len(HEADERS))
#: The tab fills a maximized main window's width on a 1366 x 768 screen; this leaves some
#: room for a window manager's border and for fonts wider than the test platform's.
SMALL_SCREEN_WIDTH = 1340
#: A search box's frame, margins and clear button beside its text.
SEARCH_PADDING = 30


@dataclass(frozen=True)
class Someone:
    """A person signed in as themselves: the database records their login role."""

    user: CurrentUser
    services: Services


@dataclass(frozen=True)
class Made:
    """What the three people changed."""

    order_number: str


@pytest.fixture
def seeded(engine: Engine) -> dict[str, uuid.UUID]:
    return seed_shop(engine)


@pytest.fixture
def people(engine: Engine, runner: TaskRunner) -> Iterator[dict[str, Someone]]:
    auth = AuthService(make_session_factory(engine))
    sessions: list[SignedIn] = []
    signed: dict[str, Someone] = {}
    for username, role in (("mona", "manager"), ("sam", "sales"), ("cleo", "warehouse_clerk")):
        auth.create_user(
            NewUser(username, f"{username}@example.com", PASSWORD, role, username.title()),
            acting=None,
        )
        session = auth.sign_in(username, PASSWORD)
        sessions.append(session)
        signed[username] = Someone(session.user, build_services(session.engine))
    yield signed
    # The tab's reads run on the people's engines: let them finish before those go.
    assert runner.wait(10_000)
    for session in sessions:
        session.engine.dispose()


@pytest.fixture
def made(people: dict[str, Someone], seeded: dict[str, uuid.UUID]) -> Made:
    mona, sam, cleo = people["mona"], people["sam"], people["cleo"]
    products = mona.services.products
    product = products.get_product(mona.user, seeded["product"])
    products.update_product(
        mona.user, product.id, replace(product.to_draft(), price=Decimal("12.50")),
        expected_version=product.version,
    )  # fmt: skip

    orders = sam.services.orders
    order = orders.create_draft(sam.user, seeded["customer"], OrderHeader(ADDRESS))
    order = orders.add_line(sam.user, order.id, order.version, seeded["product"], 2)
    (line,) = orders.list_lines(sam.user, order.id)
    orders.change_line(sam.user, order.id, order.version, line.id, quantity=3)

    key = StockKey(seeded["product"], seeded["warehouse"])
    cleo.services.inventory.adjust(cleo.user, key, -4, "broken in the aisle")
    return Made(order.order_number)


def settled(tab: ReportsTab) -> bool:
    return not tab.model.is_loading and tab.model.count is not None


def texts(tab: ReportsTab) -> list[list[str]]:
    columns = visible_columns(tab.table)
    return [
        [tab.model.index(row, column).data() for column in columns]
        for row in range(tab.model.rowCount())
    ]


def the_row(rows: list[list[str]], kind: str, action: str = "Changed") -> list[str]:
    (found,) = [row for row in rows if row[KIND] == kind and row[ACTION] == action]
    return found


def choose(combo: QComboBox, text_: str) -> None:
    index = combo.findText(text_)
    assert index >= 0, [combo.itemText(i) for i in range(combo.count())]
    combo.setCurrentIndex(index)


def open_changes(qtbot: QtBot, runner: TaskRunner, manager: Someone) -> ReportsTab:
    tab = ReportsTab(manager.services, runner, manager.user)
    qtbot.addWidget(tab)
    tab.resize(1300, 500)
    tab.show()
    qtbot.waitExposed(tab)
    tab.select_report(Report.CHANGES)
    # Everyone who can sign in: the three people (and no one else in a fresh database).
    qtbot.waitUntil(lambda: settled(tab) and tab.person_combo.count() == 4)
    return tab


def test_each_change_shows_its_person_and_values_newest_first(
    qtbot: QtBot, runner: TaskRunner, people: dict[str, Someone], made: Made
) -> None:
    tab = open_changes(qtbot, runner, people["mona"])
    rows = texts(tab)
    assert [tab.model.headerData(c, Qt.Orientation.Horizontal) for c in range(6)] == HEADERS

    price = the_row(rows, "Product")
    assert price[PERSON:] == ["Mona", "Product", "HX-1", "Changed", "Price: 10.00 → 12.50"]
    line = the_row(rows, "Order line")
    assert (line[PERSON], line[RECORD]) == ("Sam", f"{made.order_number} · HX-1")
    assert "Quantity: 2 → 3" in line[CHANGES]
    stock = the_row(rows, "Stock")
    assert (stock[PERSON], stock[RECORD]) == ("Cleo", "HX-1 @ MAIN")
    assert "On hand: 50 → 46" in stock[CHANGES]

    # Newest first: the clerk's adjustment was the last change made.
    ids = [tab.model.row_at(row).id for row in range(tab.model.rowCount())]
    assert ids == sorted(ids, reverse=True)
    assert rows.index(stock) < rows.index(line) < rows.index(price)
    newest = tab.model.row_at(0)
    assert rows[0][WHEN] == f"{newest.changed_at.astimezone():%Y-%m-%d %H:%M}"  # local time
    assert tab.status_text() == f"{len(rows)} rows"


def test_the_person_and_kind_filters_narrow_the_report(
    qtbot: QtBot, runner: TaskRunner, people: dict[str, Someone], made: Made
) -> None:
    tab = open_changes(qtbot, runner, people["mona"])
    everything = tab.model.count.count

    choose(tab.person_combo, "Cleo")  # as picked from the list, read on a worker
    qtbot.waitUntil(lambda: tab.model.query.person_id == people["cleo"].user.id and settled(tab))
    by_cleo = texts(tab)
    assert {row[PERSON] for row in by_cleo} == {"Cleo"}
    assert "On hand: 50 → 46" in the_row(by_cleo, "Stock")[CHANGES]
    assert len(by_cleo) < everything

    choose(tab.person_combo, "Everyone")
    choose(tab.kind_combo, "Order line")
    query = lambda: tab.model.query  # noqa: E731
    qtbot.waitUntil(
        lambda: (query().person_id, query().kind) == (None, "order_items") and settled(tab)
    )
    lines = texts(tab)
    assert {(row[PERSON], row[KIND]) for row in lines} == {("Sam", "Order line")}
    assert "Quantity: 2 → 3" in the_row(lines, "Order line")[CHANGES]

    # Both at once: Sam changed no product.
    choose(tab.person_combo, "Sam")
    choose(tab.kind_combo, "Product")
    qtbot.waitUntil(lambda: tab.model.query.kind == "products" and settled(tab))
    assert tab.model.rowCount() == 0


def test_only_the_time_sorts_the_report(
    qtbot: QtBot, runner: TaskRunner, people: dict[str, Someone], made: Made
) -> None:
    tab = open_changes(qtbot, runner, people["mona"])
    header = tab.table.horizontalHeader()
    newest_first = [tab.model.row_at(row).id for row in range(tab.model.rowCount())]

    tab.table.sortByColumn(PERSON, Qt.SortOrder.AscendingOrder)  # a click on "Person"
    assert (tab.model.query.sort, tab.model.query.descending) == ("changed_at", True)
    assert header.sortIndicatorSection() == WHEN
    assert not tab.model.is_loading  # nothing was asked for again

    tab.table.sortByColumn(WHEN, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: not tab.model.query.descending and settled(tab))
    oldest_first = [tab.model.row_at(row).id for row in range(tab.model.rowCount())]
    assert oldest_first == newest_first[::-1]


def test_the_changes_export_to_csv_as_shown(
    qtbot: QtBot, runner: TaskRunner, people: dict[str, Someone], made: Made, tmp_path: Path
) -> None:
    tab = open_changes(qtbot, runner, people["mona"])
    shown = texts(tab)
    path = tmp_path / "changes.csv"
    job = start_export(tab, runner, tab.model, tab.table, path)
    with qtbot.waitSignal(job.finished, timeout=20_000):
        pass
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == HEADERS
    assert rows[1:] == shown
    assert the_row(rows[1:], "Product")[PERSON:] == [
        "Mona", "Product", "HX-1", "Changed", "Price: 10.00 → 12.50",
    ]  # fmt: skip
    assert the_row(rows[1:], "Order line")[PERSON] == "Sam"
    assert "On hand: 50 → 46" in the_row(rows[1:], "Stock")[CHANGES]


def _bar(tab: ReportsTab) -> list[QWidget]:
    bar = tab.layout().itemAt(0).layout()
    widgets = [bar.itemAt(i).widget() for i in range(bar.count())]
    return [widget for widget in widgets if widget is not None and widget.isVisible()]


def _nothing_squeezed(tab: ReportsTab) -> None:
    """Every filter as wide as it asks to be, so no label, choice or hint is cut off (an
    assertion, for waitUntil: the bar is laid out again once events are processed)."""
    for shown in _bar(tab):
        assert shown.width() >= shown.sizeHint().width(), shown
        if isinstance(shown, QLineEdit):  # the hint says what is searched: whole
            hint = shown.fontMetrics().horizontalAdvance(shown.placeholderText())
            assert shown.width() >= hint + SEARCH_PADDING, (shown.width(), hint)


def test_the_filters_have_mnemonics_and_fit_a_small_screen(
    qtbot: QtBot, runner: TaskRunner, people: dict[str, Someone], made: Made
) -> None:
    tab = open_changes(qtbot, runner, people["mona"])
    tab.resize(SMALL_SCREEN_WIDTH, 600)
    qtbot.waitUntil(lambda: tab.width() == SMALL_SCREEN_WIDTH)
    bar = _bar(tab)
    assert tab.person_combo in bar and tab.kind_combo in bar
    assert not tab.warehouse_combo.isVisible()  # Changes are of every warehouse
    qtbot.waitUntil(lambda: _nothing_squeezed(tab))
    labels = [widget for widget in bar if isinstance(widget, QLabel)]
    keys = [label.text()[label.text().index("&") + 1].lower() for label in labels]
    assert len(set(keys)) == len(keys)
    assert tab.person_label.buddy() is tab.person_combo
    assert tab.kind_label.buddy() is tab.kind_combo

    # The person and kind belong to the change history: other reports do not show them.
    tab.select_report(Report.STOCK_MOVEMENTS)
    assert not tab.person_combo.isVisible() and not tab.kind_combo.isVisible()
    assert tab.warehouse_combo.isVisible() and tab.start_edit.isEnabled()
    assert tab.model.query.person_id is None and tab.model.query.kind is None
    qtbot.waitUntil(lambda: _nothing_squeezed(tab))
