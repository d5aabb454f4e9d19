"""Run slow work (database, password hashing) on a worker thread; get the outcome on the GUI thread.

After Anki's `qt/aqt/taskman.py` and `qt/aqt/operations`: the caller hands over a callable
and a success and a failure callback. The callable runs on a QThreadPool worker and must
never touch a widget; its result or exception travels back by a queued signal, so the
callbacks run on the GUI thread, where they may update widgets freely.

Expected errors (`ErpError`) carry a message for the user. Anything else is a bug: it is
logged with its traceback on the worker, then reported to the user in general terms.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget
from shiboken6 import isValid

from erpgo_desktop.errors import AccountDisabledError, ErpError

log = logging.getLogger(__name__)

T = TypeVar("T")

# progress(message, done, total): total 0 means "no idea how much is left".
Progress = Callable[[str, int, int], None]
FailureHandler = Callable[[BaseException], None]

UNEXPECTED_ERROR_MESSAGE = (
    "Something went wrong. The details are in the log file; please pass them on to support."
)


def user_message(error: BaseException) -> str:
    """What to tell the user about a failure: an expected error's own message, or a general one."""
    if isinstance(error, ErpError):
        return error.message
    return UNEXPECTED_ERROR_MESSAGE


def show_failure(parent: QWidget | None, error: BaseException) -> None:
    """The default failure callback: a message box over `parent`.

    Not for an AccountDisabledError: the person is signed out, and ui/session.py says so
    once, however many tasks were refused.
    """
    if isinstance(error, AccountDisabledError):
        return
    QMessageBox.warning(parent, "ERPGo Desktop", user_message(error))


@dataclass
class _Pending:
    on_success: Callable[[Any], None]
    on_failure: FailureHandler
    on_progress: Progress | None
    # The widget the callbacks update. Once Qt has deleted it (a window closed at sign-out,
    # a dialog dismissed while it loaded) its outcome has nobody left to tell.
    owner: QObject | None

    def is_orphaned(self) -> bool:
        return self.owner is not None and not isValid(self.owner)


def _owner_of(callback: Callable[..., Any]) -> QObject | None:
    bound_to = getattr(callback, "__self__", None)
    return bound_to if isinstance(bound_to, QObject) else None


class TaskRunner(QObject):
    """Runs callables on its own thread pool; delivers outcomes to callbacks on the GUI thread.

    Create it on the GUI thread. Its signals are emitted by workers and received by the
    runner itself over queued connections, which is what moves each outcome onto the
    GUI thread; the table of pending callbacks is only ever touched there.
    """

    #: Every failure, after its callback ran: for watchers such as the connection monitor.
    task_failed = Signal(object)

    _finished = Signal(int, bool, object)
    _progressed = Signal(int, str, int, int)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        max_threads: int | None = None,
        on_failure: FailureHandler | None = None,
    ) -> None:
        super().__init__(parent)
        # A pool of our own, not the global one, so that shutdown (and each test) can wait
        # for exactly our work before the database goes away.
        self._pool = QThreadPool(self)
        if max_threads is not None:
            self._pool.setMaxThreadCount(max_threads)
        self._default_failure = on_failure or (lambda error: show_failure(None, error))
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._progressed.connect(self._deliver_progress, Qt.ConnectionType.QueuedConnection)

    @property
    def pending_count(self) -> int:
        """Tasks started whose outcome has not reached the GUI thread yet."""
        return len(self._pending)

    def run(
        self,
        work: Callable[[], T],
        on_success: Callable[[T], None],
        on_failure: FailureHandler | None = None,
        *,
        owner: QObject | None = None,
    ) -> int:
        """Start `work` on a worker; returns an id for the task.

        The outcome is dropped if `owner` (by default the object `on_success` is a method
        of) has been deleted by the time it arrives.
        """
        return self.run_with_progress(lambda _progress: work(), on_success, on_failure, owner=owner)

    def run_with_progress(
        self,
        work: Callable[[Progress], T],
        on_success: Callable[[T], None],
        on_failure: FailureHandler | None = None,
        on_progress: Progress | None = None,
        *,
        owner: QObject | None = None,
    ) -> int:
        """Like `run`, but `work` gets a progress function that it may call from the worker."""
        task_id = next(self._ids)
        self._pending[task_id] = _Pending(
            on_success,
            on_failure or self._default_failure,
            on_progress,
            owner if owner is not None else _owner_of(on_success),
        )
        self._pool.start(lambda: self._work(task_id, work))
        return task_id

    def wait(self, msecs: int = -1) -> bool:
        """Block until every started task has finished on its worker (not yet delivered)."""
        return self._pool.waitForDone(msecs)

    # Runs on a worker thread: no widgets, only signals.
    def _work(self, task_id: int, work: Callable[[Progress], Any]) -> None:
        def progress(message: str, done: int, total: int) -> None:
            self._progressed.emit(task_id, message, done, total)

        try:
            result = work(progress)
        except ErpError as error:
            log.info("task %d refused: %s", task_id, error.message)
            self._finished.emit(task_id, False, error)
        except Exception as error:
            log.exception("task %d failed unexpectedly", task_id)
            self._finished.emit(task_id, False, error)
        else:
            self._finished.emit(task_id, True, result)

    @Slot(int, bool, object)
    def _deliver(self, task_id: int, succeeded: bool, payload: object) -> None:
        pending = self._pending.pop(task_id, None)
        if pending is None:
            return
        if pending.is_orphaned():
            if not succeeded:
                log.info("task %d failed after its window closed: %s", task_id, payload)
            return
        if succeeded:
            pending.on_success(payload)
        else:
            assert isinstance(payload, BaseException)
            pending.on_failure(payload)
            self.task_failed.emit(payload)

    @Slot(int, str, int, int)
    def _deliver_progress(self, task_id: int, message: str, done: int, total: int) -> None:
        pending = self._pending.get(task_id)
        if pending is None or pending.is_orphaned():
            return
        if pending.on_progress is not None:
            pending.on_progress(message, done, total)
