"""Garbage is collected on the GUI thread only (ui/gc_guard.py)."""

from __future__ import annotations

import gc
import threading

from pytestqt.qtbot import QtBot

from erpgo_desktop.ui import gc_guard


def test_workers_never_collect_and_the_gui_thread_does(qtbot: QtBot) -> None:
    # The test session's collector (tests/ui/conftest.py) is the program's own.
    assert not gc.isenabled()
    collected_on: list[bool] = []

    def note(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            collected_on.append(threading.current_thread() is threading.main_thread())

    gc.callbacks.append(note)
    try:

        def make_garbage() -> None:
            for _ in range(gc.get_threshold()[0] * 3):
                cycle: list[object] = []
                cycle.append(cycle)

        worker = threading.Thread(target=make_garbage)
        worker.start()
        worker.join()
        assert collected_on == []  # nothing collected on the worker
        collector = gc_guard.MainThreadCollector()
        collector.collect()
        collector.deleteLater()
        assert collected_on and all(collected_on)
    finally:
        gc.callbacks.remove(note)
