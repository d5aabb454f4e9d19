"""Emitting Qt signals from Python without wearing out `True`.

PySide6 6.12.0 hands `SignalInstance.emit()`'s result (a bool) back without the reference
it owes: every emit from Python takes one reference away from `True`. On CPython 3.11,
where `True` is not immortal, a program that emits a few thousand signals dies with
"Fatal Python error: bool_dealloc". Every emit in this package goes through `emit()`,
which gives the reference back, but only when a probe shows that this PySide6 takes it.
"""

from __future__ import annotations

import ctypes
import sys
import threading

from PySide6.QtCore import QObject, Signal, SignalInstance


class _Probe(QObject):
    ping = Signal()


_lock = threading.Lock()
_emit_steals: bool | None = None


def _incref(value: object) -> None:
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(value))


def _measure() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    # The stubs say emit() returns None; at run time it returns a bool.
    result: object = probe.ping.emit()  # type: ignore[func-returns-value]
    # A correct emit returns a new reference: holding it raises the count by one.
    steals = isinstance(result, bool) and sys.getrefcount(True) - before < 1
    if steals:
        _incref(result)
    del result
    return steals


def emit_steals_a_reference() -> bool:
    global _emit_steals
    if _emit_steals is None:
        with _lock:
            if _emit_steals is None:
                _emit_steals = _measure()
    return _emit_steals


def emit(signal: SignalInstance, *args: object) -> None:
    """`signal.emit(*args)`, safe to call from any thread and any number of times."""
    result: object = signal.emit(*args)  # type: ignore[func-returns-value]
    if isinstance(result, bool) and emit_steals_a_reference():
        _incref(result)
