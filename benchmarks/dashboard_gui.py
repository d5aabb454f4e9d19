"""The Dashboard tab in the window: how long each panel takes to show its figures, and how
long the GUI thread is ever blocked while they load.

    QT_QPA_PLATFORM=offscreen python benchmarks/dashboard_gui.py \\
        postgresql://postgres@127.0.0.1:5432/erpgo_dash_1m

The GUI side of benchmarks/dashboard.py (which times the service calls beside their SQL):
opens the real `DashboardTab` over the same kind of database, its "today" set to the newest
order (so "Last 30 days" has sales), and for three refreshes — the first load, choosing one
warehouse, and the refresh that follows a burst of change notifications (an order confirmed:
orders, order_items, product_inventory) — prints per panel (task) the time from the refresh
starting to `panel_loaded`, the time its service call took on its worker, and the time the
GUI thread spent putting the answer on screen; with the longest GUI-thread block over the
whole refresh (a 5 ms heartbeat, benchmarks/gui_support.py) and the peak memory. Median of
`--repeat` runs per refresh. Asserts nothing; writes nothing but the summaries' fold.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from dashboard import MANAGER
from gui_support import StallMeter, rss_bytes, run_until
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView
from sqlalchemy import text
from sqlalchemy.engine import make_url

from erpgo_desktop.config import normalize_url, safe_url
from erpgo_desktop.db.engine import make_engine
from erpgo_desktop.domain import permissions as perms
from erpgo_desktop.services import build_services
from erpgo_desktop.services.notifications import Change
from erpgo_desktop.ui.dashboard_tab import CHANGE_DELAY_MS, TASKS, DashboardTab
from erpgo_desktop.ui.tasks import TaskRunner

#: The dashboard's user may list the warehouses, as a manager does (the Warehouse filter).
VIEWER = dataclasses.replace(
    MANAGER, permissions=frozenset({perms.REPORTS_VIEW, perms.INVENTORY_READ})
)
#: What confirming an order notifies: every panel reads one of these tables.
ORDER_CONFIRMED = (
    Change("orders", "UPDATE", None),
    Change("order_items", "UPDATE", None),
    Change("product_inventory", "UPDATE", None),
)
GOAL_PANEL_MS = 500
#: The time the last answer of each task took on the GUI thread (see Refresh).
GUI_MS: dict[str, float] = {}
GOAL_BLOCK_MS = 50


class TimedSource:
    """DashboardService with the time of each call (on its worker) kept per method."""

    def __init__(self, source: Any) -> None:
        self._source = source
        self.last_ms: dict[str, float] = {}

    def __getattr__(self, name: str) -> Callable[..., Any]:
        call = getattr(self._source, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.last_ms[name] = (time.perf_counter() - start) * 1000

        return timed


#: The service method each task calls.
TASK_METHOD = {
    "stock": "stock_value",
    "figures": "key_figures",
    "low_stock": "low_stock",
    "sales": "sales",
    "top_products": "top_products",
    "top_customers": "top_customers",
    "pipeline": "pipeline",
    "overdue": "overdue_unpaid",
}


def time_answers() -> None:
    """Keep in GUI_MS the GUI thread's time on each task's answer (its `_show_*` method).

    The tab looks those up as each refresh starts, the first one in its constructor: wrap
    them on the class, before any tab exists.
    """
    for task in TASKS:
        show = getattr(DashboardTab, f"_show_{task}")

        def timed(tab: DashboardTab, *args: Any, task: str = task, show: Any = show) -> None:
            start = time.perf_counter()
            show(tab, *args)
            GUI_MS[task] = (time.perf_counter() - start) * 1000

        setattr(DashboardTab, f"_show_{task}", timed)


class Refresh:
    """One refresh of every panel: its start, each panel's arrival, the GUI time per panel."""

    def __init__(self, tab: DashboardTab) -> None:
        self.tab = tab
        self.start: float | None = None
        self.loaded: dict[str, float] = {}
        tab.status_changed.connect(self._status_changed)
        tab.panel_loaded.connect(self._panel_loaded)

    def reset(self) -> None:
        self.start = None
        self.loaded.clear()
        GUI_MS.clear()

    def _status_changed(self) -> None:
        # _reload_tasks marks the panels running, then says so: the refresh starts here.
        if self.start is None and self.tab.is_loading():
            self.start = time.perf_counter()

    def _panel_loaded(self, task: str) -> None:
        self.loaded[task] = time.perf_counter()

    def done(self) -> bool:
        return len(self.loaded) == len(TASKS) and not self.tab.is_loading()

    def panel_ms(self) -> dict[str, float]:
        assert self.start is not None
        return {task: (at - self.start) * 1000 for task, at in self.loaded.items()}


def show_the_window_before_the_tab(app: QApplication) -> None:
    """Pay Qt's first-show costs (style polish, fonts, one PaletteChange: ~70 ms) untimed.

    In the application the main window and its first list are on screen before anyone
    opens the Dashboard, so the tab never pays them; timed here, they would land on the
    first load of the first run only.
    """
    window = QMainWindow()
    window.setCentralWidget(QTableView())
    window.resize(1400, 900)
    window.show()
    run_until(app, window.isVisible)
    app.processEvents()
    window.close()
    window.deleteLater()
    app.processEvents()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = normalize_url(args.url)
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    engine = make_engine(make_url(url))
    with engine.connect() as connection:
        today = connection.execute(
            text("SELECT max((order_date AT TIME ZONE 'UTC')::date) FROM orders")
        ).scalar_one()
    services = build_services(engine)
    source = TimedSource(services.dashboard)
    runner = TaskRunner()
    meter = StallMeter(sample_memory=True)
    print(f"database: {safe_url(url)}; Qt platform: {app.platformName()}; today = {today}")

    runs: dict[str, list[tuple[dict[str, float], dict[str, float], dict[str, float], int]]] = {}

    def run(step: str, action: Callable[[], None], refresh: Refresh) -> None:
        refresh.reset()
        meter.start()
        action()
        run_until(app, refresh.done)
        app.processEvents()  # the paint the last answer asked for
        block = meter.stop()
        service = {task: source.last_ms[TASK_METHOD[task]] for task in TASKS}
        runs.setdefault(step, []).append((refresh.panel_ms(), service, dict(GUI_MS), block))

    time_answers()
    construct_ms: list[float] = []
    show_the_window_before_the_tab(app)
    rss_before = rss_bytes()
    for number in range(args.repeat):
        # The constructor starts the first load: panels are timed from just before it. The
        # GUI-thread block is measured from just after it: building the widgets is the
        # main window's start-up (it makes every tab), not the panels' loading; its own
        # time is printed apart.
        GUI_MS.clear()
        start = time.perf_counter()
        tab = DashboardTab(services, runner, VIEWER, source=source, today=today)
        construct_ms.append((time.perf_counter() - start) * 1000)
        meter.start()
        refresh = Refresh(tab)
        refresh.start = start
        tab.resize(1400, 900)
        tab.show()
        run_until(app, refresh.done)
        app.processEvents()
        block = meter.stop()
        service = {task: source.last_ms[TASK_METHOD[task]] for task in TASKS}
        runs.setdefault("first load", []).append((refresh.panel_ms(), service, dict(GUI_MS), block))
        run_until(app, lambda t=tab: t.warehouse_combo.count() > 1)

        shown = tab
        run("one warehouse", lambda t=shown: t.warehouse_combo.setCurrentIndex(1), refresh)

        def notify(t: DashboardTab = shown) -> None:
            for change in ORDER_CONFIRMED:
                t.apply_change(change)

        # Timed from the debounced refresh starting (CHANGE_DELAY_MS after the last change).
        run("change notification", notify, refresh)
        shown.close()
        shown.deleteLater()
        app.processEvents()
        print(f"run {number + 1} of {args.repeat} done", file=sys.stderr)

    print(
        f"\n{'refresh / panel':28} {'panel ms':>9} {'service ms':>11} {'GUI ms':>7}"
        f"   (median of {args.repeat}; the change refresh starts {CHANGE_DELAY_MS} ms after"
        " the notification)"
    )
    every_panel_ok = True
    every_block_ok = True
    for step, results in runs.items():
        blocks = [result[3] for result in results]
        print(f"{step}: longest GUI-thread block {statistics.median(blocks):.0f} ms "
              f"(worst {max(blocks)} ms)")  # fmt: skip
        every_block_ok &= max(blocks) <= GOAL_BLOCK_MS
        for task in TASKS:
            panel = statistics.median(result[0][task] for result in results)
            service = statistics.median(result[1][task] for result in results)
            gui = statistics.median(result[2].get(task, 0.0) for result in results)
            every_panel_ok &= panel < GOAL_PANEL_MS
            print(f"  {task:26} {panel:9.0f} {service:11.1f} {gui:7.1f}")
    print(
        f"\nbuilding the tab (its constructor, before the first load's block is timed): "
        f"{statistics.median(construct_ms):.0f} ms (worst {max(construct_ms):.0f})"
    )
    print(f"peak memory {meter.peak_rss / 2**20:.0f} MiB (before the tab {rss_before / 2**20:.0f})")
    print(f"every panel under {GOAL_PANEL_MS} ms: {'met' if every_panel_ok else 'NOT met'}; "
          f"GUI thread never blocked over {GOAL_BLOCK_MS} ms: "
          f"{'met' if every_block_ok else 'NOT met'}")  # fmt: skip
    runner.wait()
    engine.dispose()


if __name__ == "__main__":
    main()
