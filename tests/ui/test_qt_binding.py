"""The installed PySide6 keeps Python's reference counts straight.

PySide6 6.12.0 returns None and True to Python without the reference it owes. On CPython
3.12 and later those objects are immortal and nothing happens; on 3.11 every void Qt call
takes a reference from None, and after enough of them the process dies with "Fatal Python
error: none_dealloc" (at the latest when the interpreter exits). This test names the
cause instead of leaving a crash to be puzzled over.
"""

from __future__ import annotations

import sys

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, QTimer, Signal
from pytestqt.qtbot import QtBot


class _Emitter(QObject):
    fired = Signal(int)


def test_void_calls_and_emits_keep_none_and_true_alive(qtbot: QtBot) -> None:
    timer, emitter = QTimer(), _Emitter()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for number in range(1_000):
        timer.setInterval(number)  # returns None
        emitter.fired.emit(number)  # returns True
    lost_none = none_before - sys.getrefcount(None)
    lost_true = true_before - sys.getrefcount(True)
    assert lost_none < 100 and lost_true < 100, (
        f"PySide6 {pyside_version} on Python {sys.version.split()[0]} drops references to "
        f"None ({lost_none}) and True ({lost_true}) per call: it will crash. "
        "Use a PySide6 without this fault (6.11.x), or Python 3.12 or later."
    )
