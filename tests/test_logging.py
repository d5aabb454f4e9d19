"""The log file: app.configure_logging writes a rotating file in the user's log folder, and
unexpected errors (on the GUI thread, in other threads) and Qt's own messages land in it
with their tracebacks.

configure_logging changes process-wide state (the root logger, sys.excepthook,
threading.excepthook, Qt's message handler); the fixture puts all of it back, so pytest's
log capture and pytest-qt's message capture work as before in the tests that follow.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest
from PySide6.QtCore import qInfo, qInstallMessageHandler

from erpgo_desktop import app
from erpgo_desktop.config import AppPaths


@pytest.fixture
def paths(tmp_path: Path) -> Iterator[AppPaths]:
    """Temporary user folders, with configure_logging's changes undone afterwards."""
    root = logging.getLogger()
    handlers = [(handler, handler.level) for handler in root.handlers]
    level = root.level
    excepthook, thread_excepthook = sys.excepthook, threading.excepthook
    # Installing returns the handler it replaces (pytest-qt's): put it straight back.
    qt_handler = qInstallMessageHandler(None)
    qInstallMessageHandler(qt_handler)
    try:
        yield AppPaths(tmp_path / "config", tmp_path / "data", tmp_path / "state" / "log")
    finally:
        qInstallMessageHandler(qt_handler)
        sys.excepthook, threading.excepthook = excepthook, thread_excepthook
        for handler in root.handlers[:]:
            if all(handler is not kept for kept, _ in handlers):
                root.removeHandler(handler)
                handler.close()
        for handler, handler_level in handlers:
            handler.setLevel(handler_level)
        root.setLevel(level)


def file_handler(paths: AppPaths) -> RotatingFileHandler:
    found = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, RotatingFileHandler) and Path(handler.baseFilename) == paths.log_file
    ]
    assert len(found) == 1
    return found[0]


def log_text(paths: AppPaths) -> str:
    file_handler(paths).flush()
    return paths.log_file.read_text(encoding="utf-8")


def fail_deep_inside() -> None:
    raise ValueError("the widget's slot broke")


def test_the_log_file_is_created_in_the_log_folder_and_rotates(paths: AppPaths) -> None:
    assert not paths.log_dir.exists()
    app.configure_logging(paths)
    assert paths.log_file.parent == paths.log_dir
    assert paths.log_file.is_file()
    handler = file_handler(paths)
    assert handler.maxBytes > 0 and handler.backupCount >= 1  # bounded, a few kept
    assert handler.level == logging.INFO
    assert logging.getLogger().getEffectiveLevel() <= logging.INFO

    logging.getLogger("erpgo_desktop.test").info("before the rollover")
    handler.doRollover()
    logging.getLogger("erpgo_desktop.test").info("after the rollover")
    rotated = paths.log_file.with_name(paths.log_file.name + ".1")
    assert "before the rollover" in rotated.read_text(encoding="utf-8")
    text = log_text(paths)
    assert "after the rollover" in text and "before" not in text
    assert " INFO [MainThread] erpgo_desktop.test: after the rollover" in text


def test_an_unhandled_exception_lands_with_its_traceback(paths: AppPaths) -> None:
    app.configure_logging(paths)
    assert sys.excepthook is not sys.__excepthook__
    try:
        fail_deep_inside()
    except ValueError:
        sys.excepthook(*sys.exc_info())  # what Python does with an error escaping a slot
    text = log_text(paths)
    assert " CRITICAL [MainThread] erpgo_desktop.app: unhandled exception" in text
    assert "Traceback (most recent call last):" in text
    assert "in fail_deep_inside" in text
    assert "ValueError: the widget's slot broke" in text


def test_an_exception_in_another_thread_lands_with_its_traceback(paths: AppPaths) -> None:
    app.configure_logging(paths)
    worker = threading.Thread(target=fail_deep_inside, name="importer")
    worker.start()
    worker.join()
    text = log_text(paths)
    assert "unhandled exception in thread importer" in text
    assert "in fail_deep_inside" in text
    assert "ValueError: the widget's slot broke" in text


def test_qt_s_messages_land_in_the_log(paths: AppPaths) -> None:
    app.configure_logging(paths)
    qInfo("the platform plugin says hello")
    assert "qt.default: the platform plugin says hello" in log_text(paths)


def test_an_unwritable_log_folder_is_no_reason_not_to_start(
    paths: AppPaths, caplog: pytest.LogCaptureFixture
) -> None:
    paths.log_dir.parent.mkdir(parents=True)
    paths.log_dir.write_text("a file where the folder should be")
    app.configure_logging(paths)
    assert not any(
        isinstance(handler, RotatingFileHandler) for handler in logging.getLogger().handlers
    )
    assert f"cannot write the log file {paths.log_file}" in caplog.text
