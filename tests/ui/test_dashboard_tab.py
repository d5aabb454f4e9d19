"""The Dashboard tab on a real database: its panels show what DashboardService answers,
filters change the questions, a burst of change notifications costs one refresh, clicks and
Enter ask for the matching list, and a user without reports.view gets a refusal, not a crash.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCharts import QBarCategoryAxis
from PySide6.QtCore import QDate, QPointF, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from sqlalchemy.engine import Engine

from erpgo_desktop.db.engine import make_session_factory
from erpgo_desktop.domain.wording import code_label
from erpgo_desktop.services.auth import CurrentUser
from erpgo_desktop.services.dashboard import DashboardService, ValueRow
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.ui.charts import (
    BarChart,
    ChartSeries,
    axis_ticks,
    format_figure,
    nice_step,
    tick_label,
)
from erpgo_desktop.ui.dashboard_tab import (
    CATEGORY_BARS,
    OTHER,
    TASKS,
    DashboardTab,
    RowTable,
    _with_other,
    money_figure,
    period_end,
)
from erpgo_desktop.ui.tasks import TaskRunner
from tests.ui.stock_support import StockWorld, make_stock_world


class Recording:
    """The real service, noting each question (method, arguments) before it is answered."""

    def __init__(self, service: DashboardService) -> None:
        self.service = service
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._lock = threading.Lock()

    def asked(self, method: str) -> list[tuple[Any, ...]]:
        with self._lock:
            return [arguments for name, arguments in self.calls if name == method]

    def forget(self) -> None:
        with self._lock:
            self.calls.clear()

    def __getattr__(self, method: str) -> Any:
        real = getattr(self.service, method)

        def call(*arguments: Any) -> Any:
            with self._lock:
                self.calls.append((method, arguments[1:]))  # without the acting user
            return real(*arguments)

        return call


@dataclass
class Dashboard:
    stock: StockWorld
    service: DashboardService
    source: Recording
    overdue_order: uuid.UUID
    pending_order: uuid.UUID

    @property
    def manager(self) -> CurrentUser:
        return self.stock.world.manager


@pytest.fixture
def dashboard(engine: Engine, runner: TaskRunner) -> Iterator[Dashboard]:
    stock = make_stock_world(engine)
    world = stock.world
    overdue = world.confirmed([(stock.drill, 2)])
    pending = world.pending([(stock.shirt, 1)])
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE orders SET required_date = now() - interval '5 days' WHERE id = :o"),
            {"o": overdue.id},
        )
        # The drill runs low in MAIN: 5 left to sell against a reorder level of 8.
        connection.execute(
            text(
                "UPDATE product_inventory SET reorder_level = 8 "
                "WHERE product_id = :p AND warehouse_id = :w"
            ),
            {"p": stock.drill, "w": world.main},
        )
    service = DashboardService(make_session_factory(engine))
    yield Dashboard(stock, service, Recording(service), overdue.id, pending.id)
    assert runner.wait(10_000)  # before the engine goes


def make_tab(qtbot: QtBot, dashboard: Dashboard, runner: TaskRunner, **kwargs: Any) -> DashboardTab:
    tab = DashboardTab(
        dashboard.stock.services,
        runner,
        kwargs.pop("acting", dashboard.manager),
        source=dashboard.source,
        **kwargs,
    )
    qtbot.addWidget(tab)
    tab.resize(1300, 900)
    tab.show()
    wait_loaded(qtbot, tab)
    return tab


def wait_loaded(qtbot: QtBot, tab: DashboardTab) -> None:
    qtbot.waitUntil(lambda: not tab.is_loading(), timeout=10_000)


def assert_chart(chart: BarChart, labels: list[str], *series: tuple[Decimal, ...]) -> None:
    assert chart.labels() == labels
    for number, values in enumerate(series):
        assert chart.values(number) == values
        assert chart.drawn_values(number) == pytest.approx([float(v) for v in values])


def click_bar(qtbot: QtBot, chart: BarChart, index: int) -> None:
    """A real mouse click in the middle of bar `index`, of the series where it is tallest."""
    sets = len(chart.chart.series()[0].barSets())  # type: ignore[attr-defined]
    tallest = max(range(sets), key=lambda number: chart.values(number)[index])
    value = float(chart.values(tallest)[index]) / 2
    assert value > 0
    # Bars of a group share the 0.8 of a category's width, in series order.
    offset = -0.4 + 0.8 * (tallest + 0.5) / sets
    if chart._horizontal:
        point = QPointF(value, chart.count() - 1 - index - offset)
    else:
        point = QPointF(index + offset, value)
    scene = chart.chart.mapToPosition(point, chart.chart.series()[0])
    position = chart.view.mapFromScene(chart.chart.mapToScene(scene))
    qtbot.mouseClick(chart.view.viewport(), Qt.MouseButton.LeftButton, pos=position)


def test_panels_show_the_services_figures(
    qtbot: QtBot, dashboard: Dashboard, runner: TaskRunner
) -> None:
    tab = make_tab(qtbot, dashboard, runner)
    manager, service = dashboard.manager, dashboard.service
    filters = tab.filters()
    assert (filters.start, filters.end) == (date.today() - timedelta(days=29), date.today())

    stock = service.stock_value(manager)
    assert [row.key for row in stock.by_warehouse][:2] == [
        dashboard.stock.east,
        dashboard.stock.main,
    ]
    assert len(stock.by_category) <= CATEGORY_BARS  # no "Other" bar here
    for chart, rows in (
        (tab.warehouse_chart, stock.by_warehouse),
        (tab.category_chart, stock.by_category),
    ):
        # The bars carry the short names (code, the category's own name).
        assert_chart(
            chart,
            [row.short_label for row in rows],
            tuple(row.at_cost for row in rows),
            tuple(row.at_price for row in rows),
        )
    assert [row.short_label for row in stock.by_warehouse][:2] == ["EAST", "MAIN"]
    assert all(row.label.endswith("/" + row.short_label) or row.label == row.short_label
               for row in stock.by_category)  # fmt: skip
    assert tab.category_chart.count() >= 2  # the drill's and the shirt's categories

    low = service.low_stock(manager, None, 50)
    assert any(row.product_id == dashboard.stock.drill for row in low)
    table = tab.low_stock_table
    assert table.rowCount() == len(low)
    for number, row in enumerate(low):
        assert table.cell_text(number, 1) == (row.variant_sku or row.sku)
        assert table.cell_text(number, 3) == f"{row.sellable:,}"
        assert table.cell_text(number, 4) == f"{row.reorder_level:,}"
        assert f"order {row.reorder_quantity:,}" in table.item(number, 2).toolTip()

    sales = service.sales(manager, filters.start, filters.end, "day")
    assert sum(point.orders for point in sales) == 3  # the world's order and ours
    assert_chart(
        tab.sales_chart,
        tab.sales_chart.labels(),
        tuple(point.revenue for point in sales),
    )
    assert len(tab.sales_chart.labels()) == len(sales)

    top = service.top_products(manager, filters.start, filters.end, 8)
    assert_chart(tab.top_products_chart, [r.label for r in top], tuple(r.revenue for r in top))
    customers = service.top_customers(manager, filters.start, filters.end, 8)
    assert_chart(
        tab.top_customers_chart, [r.label for r in customers], tuple(r.revenue for r in customers)
    )

    pipeline = [row for row in service.pipeline(manager, filters.start, filters.end) if row.orders]
    assert {row.status for row in pipeline} == {"PENDING", "CONFIRMED"}
    assert_chart(
        tab.pipeline_chart,
        [code_label(row.status) for row in pipeline],
        tuple(Decimal(row.orders) for row in pipeline),
    )

    overdue = service.overdue_unpaid(manager)
    assert [row.order_id for row in overdue] == [dashboard.overdue_order]
    assert tab.overdue_table.rowCount() == 1
    assert tab.overdue_table.cell_text(0, 0) == overdue[0].order_number
    assert tab.overdue_table.cell_text(0, 3) == format_figure(
        overdue[0].total_amount - overdue[0].paid_amount
    )
    assert tab.status_text().startswith("Dashboard for ")
    assert all(panel.state_text == "" for panel in tab._panels())


def test_key_figures_are_the_services_numbers_for_people(
    qtbot: QtBot, dashboard: Dashboard, runner: TaskRunner
) -> None:
    tab = make_tab(qtbot, dashboard, runner)
    filters = tab.filters()
    figures = dashboard.service.key_figures(dashboard.manager, filters.start, filters.end)
    shown = tab.key_figures
    assert shown.stock_at_cost.text == money_figure(figures.stock_at_cost)
    assert shown.stock_at_price.text == money_figure(figures.stock_at_price)
    assert shown.sales.text == money_figure(figures.sales_revenue)
    assert shown.orders.text == f"{figures.sales_orders:,}" == "3"
    assert shown.open_orders.text == f"{figures.open_orders:,}"
    assert shown.low_stock.text == f"{figures.low_stock:,}"
    assert figures.low_stock == len(dashboard.service.low_stock(dashboard.manager)) >= 1
    assert figures.stock_at_price > 0 and figures.sales_revenue > 0
    # The exact amount, cents and all, is the tooltip.
    assert f"{figures.stock_at_price:,.2f}" in shown.stock_at_price.toolTip()
    assert tab.figures_panel.state_text == ""

    # One warehouse: its stock figures.
    east = dashboard.stock.east
    qtbot.waitUntil(lambda: tab.warehouse_index(east) > 0)
    tab.warehouse_combo.setCurrentIndex(tab.warehouse_index(east))
    wait_loaded(qtbot, tab)
    only = dashboard.service.key_figures(dashboard.manager, filters.start, filters.end, east)
    assert shown.stock_at_price.text == money_figure(only.stock_at_price)
    assert only.stock_at_price < figures.stock_at_price
    assert dashboard.source.asked("key_figures")[-1] == (filters.start, filters.end, east)


def test_figures_read_as_people_write_them() -> None:
    assert money_figure(Decimal("61234567.89")) == "USD 61,234,568"
    assert money_figure(Decimal("0.50")) == "USD 1"
    assert money_figure(Decimal("999.49")) == "USD 999"


def test_count_axes_have_whole_number_ticks(
    qtbot: QtBot, dashboard: Dashboard, runner: TaskRunner
) -> None:
    tab = make_tab(qtbot, dashboard, runner)
    counts = tab.pipeline_chart.values(0)
    assert max(counts) <= 2  # few orders: where halves used to appear
    labels = tab.pipeline_chart.value_axis_labels()
    assert labels and all(label.isdigit() for label in labels), labels

    chart = BarChart()
    qtbot.addWidget(chart)
    chart.set_data(["A", "B"], [ChartSeries("Orders", (Decimal(1), Decimal(2)), money=False)])
    assert chart.value_axis_labels() == ["1", "2"]
    # Money may be split finer: the same figures as amounts.
    chart.set_data(["A", "B"], [ChartSeries("Revenue", (Decimal(1), Decimal(2)))])
    assert chart.value_axis_labels() == ["0.5", "1", "1.5", "2"]


def test_filters_change_what_is_asked(
    qtbot: QtBot, dashboard: Dashboard, runner: TaskRunner
) -> None:
    today = date(2024, 6, 15)
    tab = make_tab(qtbot, dashboard, runner, today=today)
    source, east = dashboard.source, dashboard.stock.east
    assert source.asked("sales")[-1] == (today - timedelta(days=29), today, "day", None)

    qtbot.waitUntil(lambda: tab.warehouse_index(east) > 0)
    source.forget()
    tab.warehouse_combo.setCurrentIndex(tab.warehouse_index(east))
    wait_loaded(qtbot, tab)
    assert source.asked("stock_value") == [(east,)]
    assert source.asked("low_stock") == [(east, 50)]
    assert [key for key in tab._warehouse_keys] == [east]
    expected = dashboard.service.stock_value(dashboard.manager, east)
    assert tab.warehouse_chart.values(0) == (expected.by_warehouse[0].at_cost,)

    source.forget()
    tab.range_combo.setCurrentText("This year")
    wait_loaded(qtbot, tab)
    # Half a year comes by week at first.
    assert source.asked("sales") == [(date(2024, 1, 1), today, "week", east)]
    assert source.asked("top_customers") == [(date(2024, 1, 1), today, 8)]

    source.forget()
    tab.grain_combo.setCurrentIndex(tab.grain_combo.findData("month"))
    wait_loaded(qtbot, tab)
    assert source.asked("sales") == [(date(2024, 1, 1), today, "month", east)]
    assert source.calls == [("sales", source.asked("sales")[0])]  # only the sales panel
    assert tab.sales_chart.count() == 6  # January to June

    # Typing a date makes the range "Custom" and asks again after a pause.
    source.forget()
    tab.from_edit.setDate(QDate(2024, 3, 1))
    assert tab.range_combo.currentText() == "Custom"
    qtbot.waitUntil(lambda: len(source.asked("pipeline")) == 1)
    wait_loaded(qtbot, tab)
    assert source.asked("pipeline") == [(date(2024, 3, 1), today)]


def test_a_burst_of_changes_costs_one_refresh(
    qtbot: QtBot, dashboard: Dashboard, runner: TaskRunner
) -> None:
    tab = make_tab(qtbot, dashboard, runner)
    world = dashboard.stock.world
    source = dashboard.source
    pending_before = dict(zip(tab._statuses, tab.pipeline_chart.values(0), strict=True))

    order = world.pending([(dashboard.stock.drill, 1)])  # a new order, as someone else's
    source.forget()
    loaded: list[str] = []
    tab.panel_loaded.connect(loaded.append)
    for table in ("orders", "order_items", "orders", "customers"):
        tab.apply_change(Change(table, "UPDATE", (order.id,)))
    assert source.calls == []  # nothing until the burst is over

    qtbot.waitUntil(lambda: len(loaded) == 6, timeout=5_000)
    wait_loaded(qtbot, tab)
    asked = sorted(name for name, _arguments in source.calls)
    assert asked == sorted(
        ["key_figures", "sales", "top_products", "top_customers", "pipeline", "overdue_unpaid"]
    )
    assert not tab._change_timer.isActive()
    pending_after = dict(zip(tab._statuses, tab.pipeline_chart.values(0), strict=True))
    assert pending_after["PENDING"] == pending_before.get("PENDING", 0) + 1

    # A stock change refreshes the stock panels only.
    source.forget()
    tab.apply_change(Change("product_inventory", "UPDATE", None))
    qtbot.waitUntil(lambda: len(loaded) == 9, timeout=5_000)
    assert sorted(name for name, _arguments in source.calls) == [
        "key_figures",
        "low_stock",
        "stock_value",
    ]


def test_clicks_and_enter_ask_for_the_matching_list(
    qtbot: QtBot, dashboard: Dashboard, runner: TaskRunner
) -> None:
    tab = make_tab(qtbot, dashboard, runner)
    filters = tab.filters()
    requests: list[tuple[str, object]] = []
    tab.open_list_requested.connect(lambda what, filters: requests.append((what, filters)))

    pending = tab._statuses.index("PENDING")
    click_bar(qtbot, tab.pipeline_chart, pending)
    assert requests[-1] == (
        "orders",
        {"status": "PENDING", "date_from": filters.start, "date_to": filters.end},
    )

    main = tab._warehouse_keys.index(dashboard.stock.main)
    click_bar(qtbot, tab.warehouse_chart, main)
    assert requests[-1] == ("warehouses", {"warehouse_id": dashboard.stock.main})

    click_bar(qtbot, tab.top_products_chart, 0)
    assert requests[-1] == ("product", tab._top_product_keys[0])

    # The keyboard: Tab reaches the chart, End goes to the last bar, Enter opens it.
    tab.sales_chart.setFocus()
    qtbot.waitUntil(tab.sales_chart.hasFocus)
    qtbot.keyClick(tab.sales_chart, Qt.Key.Key_End)
    qtbot.keyClick(tab.sales_chart, Qt.Key.Key_Return)
    assert requests[-1] == ("orders", {"date_from": filters.end, "date_to": filters.end})
    assert tab.sales_chart.caption.text().startswith(tab.sales_chart.labels()[-1])

    category = tab.category_chart
    category.setFocus()
    qtbot.keyClick(category, Qt.Key.Key_Down)
    qtbot.keyClick(category, Qt.Key.Key_Space)
    assert requests[-1] == ("products", {"category_id": tab._category_keys[1]})

    overdue = tab.overdue_table
    rect = overdue.visualRect(overdue.model().index(0, 1))
    qtbot.mouseClick(overdue.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert requests[-1] == ("order", dashboard.overdue_order)

    low = tab.low_stock_table
    low.setFocus()
    drill_row = next(
        number
        for number, row in enumerate(tab._low_stock_rows)
        if row.product_id == dashboard.stock.drill
    )
    low.selectRow(drill_row)
    count = len(requests)
    qtbot.keyClick(low, Qt.Key.Key_Return)
    assert len(requests) == count + 1
    assert requests[-1] == (
        "warehouses",
        {"warehouse_id": dashboard.stock.main, "product_id": dashboard.stock.drill,
         "variant_id": None, "search": tab._low_stock_rows[drill_row].sku},
    )  # fmt: skip


def test_keyboard_reaches_every_filter(
    qtbot: QtBot, dashboard: Dashboard, runner: TaskRunner
) -> None:
    tab = make_tab(qtbot, dashboard, runner)
    tab.activateWindow()
    tab.focus_search()
    qtbot.waitUntil(tab.range_combo.hasFocus)
    seen = []
    for _step in range(25):  # a date edit takes a Tab per section
        seen.append(tab.focusWidget())
        qtbot.keyClick(tab.focusWidget(), Qt.Key.Key_Tab)
    for widget in (
        tab.range_combo,
        tab.from_edit,
        tab.to_edit,
        tab.warehouse_combo,
        tab.grain_combo,
        tab.sales_chart,
        tab.low_stock_table,
        tab.overdue_table,
        tab.top_customers_chart,
    ):
        assert any(
            focused is widget or (focused is not None and widget.isAncestorOf(focused))
            for focused in seen
        ), widget.objectName() or widget.accessibleName()


def test_a_failing_panel_says_so_and_the_others_carry_on(
    qtbot: QtBot, dashboard: Dashboard, runner: TaskRunner
) -> None:
    tab = make_tab(qtbot, dashboard, runner)
    gone = uuid.uuid4()
    tab.warehouse_combo.addItem("GONE", gone)
    tab.warehouse_combo.setCurrentIndex(tab.warehouse_combo.count() - 1)
    wait_loaded(qtbot, tab)
    assert "does not exist" in tab.warehouse_panel.state_text
    assert "does not exist" in tab.low_stock_panel.state_text
    assert tab.pipeline_panel.state_text == ""
    assert "does not exist" in tab.figures_panel.state_text
    assert tab.key_figures.low_stock.text == "—"
    assert "4 dashboard panels could not be loaded" in tab.status_text()


def test_without_reports_view_the_tab_refuses_cleanly(
    qtbot: QtBot, dashboard: Dashboard, runner: TaskRunner
) -> None:
    sales = dashboard.stock.sales
    assert not sales.can("reports.view")
    tab = DashboardTab(dashboard.stock.services, runner, sales, source=dashboard.source)
    qtbot.addWidget(tab)
    tab.show()
    tab.reload()
    tab.apply_change(Change("orders", "UPDATE", None))
    assert runner.pending_count == 0
    assert dashboard.source.calls == []
    assert "reports.view" in tab.status_text()
    assert all("reports.view" in panel.state_text for panel in tab._panels())
    assert not tab._change_timer.isActive()


def test_period_end_and_axis_labels() -> None:
    assert period_end(date(2024, 2, 1), "month") == date(2024, 2, 29)
    assert period_end(date(2024, 2, 5), "week") == date(2024, 2, 11)
    assert period_end(date(2024, 2, 5), "day") == date(2024, 2, 5)
    assert nice_step(Decimal("12345.67")) == Decimal("5000")
    assert axis_ticks(Decimal("12345.67"))[-1] == Decimal("15000")
    assert tick_label(Decimal("15000")) == "15k"
    assert tick_label(Decimal("12500")) == "12.5k"
    assert tick_label(Decimal("5000")) == "5,000"
    assert tick_label(Decimal("2500000")) == "2.5M"
    assert format_figure(Decimal("1234.5")) == "1,234.50"
    assert set(TASKS) == {
        "stock", "figures", "low_stock", "sales", "top_products", "top_customers", "pipeline",
        "overdue",
    }  # fmt: skip
    # The slowest on a big database start last, so they hold up no quick panel.
    assert TASKS[-2:] == ("top_products", "low_stock")


def test_categories_beyond_the_bars_are_summed_into_other() -> None:
    rows = [
        ValueRow(uuid.uuid4(), f"C{n}", Decimal(100 - n), Decimal(200 - n), n) for n in range(10)
    ]
    shown = _with_other(rows, 8)
    assert [row.label for row in shown[:7]] == [f"C{n}" for n in range(7)]
    other = shown[7]
    assert other.key is OTHER
    assert other.label == "Other (3 categories)"
    assert other.at_cost == Decimal(93 + 92 + 91)
    assert other.units == 7 + 8 + 9
    assert _with_other(rows[:8], 8) == rows[:8]


def test_refilling_a_shown_table_replaces_its_rows_and_keeps_the_keyboard_place(
    qtbot: QtBot,
) -> None:
    """Refilling empties the table first (how long that takes is benchmarks/dashboard_gui.py's
    to measure, not a test's)."""
    table = RowTable(("Order", "Customer", "Days late", "Unpaid"), numeric=(2, 3))
    table.stretch(1)
    qtbot.addWidget(table)
    table.resize(450, 250)
    table.show()
    qtbot.waitExposed(table)

    def rows(mark: str) -> list[tuple[str, ...]]:
        return [
            (f"{mark}-{n:07d}", f"Customer {n} Ltd", f"{n:,}", f"{n * 3:,}.50") for n in range(100)
        ]

    table.set_rows(rows("A"))
    table.selectRow(40)
    table.set_rows(rows("B"))

    assert table.rowCount() == 100
    assert table.cell_text(99, 0) == "B-0000099"
    assert table.currentRow() == 40  # the keyboard's place survives a refresh
    table.set_rows(rows("C")[:10])
    assert table.currentRow() == 9


@pytest.mark.parametrize(("horizontal", "line"), [(False, False), (True, False), (False, True)])
def test_new_figures_of_the_same_shape_update_the_chart_in_place(
    qtbot: QtBot, horizontal: bool, line: bool
) -> None:
    """Same categories count and series: the series and axes stay, their values, labels and
    range follow the new figures (a rebuild relaid out and repainted the whole chart)."""
    chart = BarChart(horizontal=horizontal, line=line)
    qtbot.addWidget(chart)
    chart.resize(500, 300)
    chart.show()
    qtbot.waitExposed(chart)
    chart.set_data(["A", "B", "C"], [ChartSeries("Revenue", (Decimal(1), Decimal(2), Decimal(3)))])
    chart.set_current(1)
    series_before = chart.chart.series()
    axes_before = chart.chart.axes()

    figures = (Decimal("1200.50"), Decimal(0), Decimal("40"))
    chart.set_data(["X", "Y", "Z"], [ChartSeries("Revenue", figures)], ["1 order", "", ""])

    assert chart.chart.series() == series_before
    assert chart.chart.axes() == axes_before
    assert_chart(chart, ["X", "Y", "Z"], figures)
    labels_axis = chart._category_axis_item
    shown = (
        labels_axis.categories()
        if isinstance(labels_axis, QBarCategoryAxis)
        else labels_axis.categoriesLabels()  # type: ignore[union-attr]
    )
    assert sorted(shown) == ["X", "Y", "Z"]
    value_axis = chart._value_axis_item
    assert value_axis is not None
    assert value_axis.max() == float(axis_ticks(figures[0])[-1])
    assert value_axis.categoriesLabels()[-1] == tick_label(axis_ticks(figures[0])[-1])
    assert chart.caption.text() == "Y: Revenue 0.00"

    # Another number of categories is another shape: built anew.
    chart.set_data(["P", "Q"], [ChartSeries("Revenue", (Decimal(5), Decimal(7)))])
    assert chart.chart.series() != series_before
    assert_chart(chart, ["P", "Q"], (Decimal(5), Decimal(7)))


class Held(Recording):
    """The real service, answering only once released: the window can close meanwhile."""

    def __init__(self, service: DashboardService) -> None:
        super().__init__(service)
        self.release = threading.Event()
        self.waiting = threading.Semaphore(0)

    def __getattr__(self, method: str) -> Any:
        answer = super().__getattr__(method)

        def call(*arguments: Any) -> Any:
            self.waiting.release()
            self.release.wait(10)
            return answer(*arguments)

        return call


def test_answers_for_a_closed_dashboard_reach_nobody(
    qtbot: QtBot, dashboard: Dashboard, runner: TaskRunner
) -> None:
    """Closing the window while the dashboard loads (signing out, say): the answers that
    arrive afterwards are dropped, not handed to deleted charts and tables."""
    held = Held(dashboard.service)
    tab = DashboardTab(dashboard.stock.services, runner, dashboard.manager, source=held)
    tab.show()
    qtbot.waitUntil(lambda: held.waiting.acquire(blocking=False))  # a worker is asking
    with qtbot.waitSignal(tab.destroyed):
        tab.deleteLater()
    held.release.set()
    assert runner.wait(10_000)
    # Delivered on the GUI thread, to nobody: an exception here would fail the test.
    qtbot.waitUntil(lambda: runner.pending_count == 0)
